//! The ports of `sf_runtime` on Cloudflare bindings.
//!
//! Every binding is looked up once, when the isolate builds its gateway, and a
//! missing or broken binding is kept as an error value instead of failing the
//! build: only the requests that actually touch that binding see a
//! [`PortError`], everything else keeps working (`/healthz` never needs D1).

use std::future::Future;
use std::time::Duration;

use futures_util::future::{select, Either};
use js_sys::futures::JsFuture;
use js_sys::{Array, Object, Reflect, Uint8Array, JSON};
use sf_runtime::ports::{
    BackgroundTask, Blob, Clock, Counter, Fetch, FetchError, Host, Kv, PortError, Queue, Random,
    Reserve, Sql, SqlRow, SqlStatement, SqlValue, Vars,
};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Bucket, D1Database, D1PreparedStatement, Env, ObjectNamespace};

use crate::counter_state::{CounterReply, CounterRequest, LaneReserve};

pub const KV_BINDING: &str = "SF_KV";
pub const D1_BINDING: &str = "SF_D1";
pub const R2_BINDING: &str = "SF_R2";
pub const EVENTS_BINDING: &str = "SF_EVENTS";
pub const COUNTER_BINDING: &str = "SF_BUDGET_COUNTER";

/// Workers KV refuses `expirationTtl` below 60 seconds.
pub const KV_MIN_TTL_S: u64 = 60;

/// Raises a TTL to KV's minimum. The only callers that ask for less are short
/// budget windows, whose correctness lives in the Counter (Durable Object), not
/// in KV, so keeping a KV entry a little longer than asked is harmless.
pub fn kv_ttl(ttl_s: u64) -> u64 {
    ttl_s.max(KV_MIN_TTL_S)
}

/// Best human-readable text of a thrown JS value (an `Error`'s message, a
/// string, or its JSON).
pub(crate) fn js_message(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    if let Ok(m) = Reflect::get(v, &JsValue::from_str("message")) {
        if let Some(s) = m.as_string() {
            return s;
        }
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "unknown JavaScript error".to_owned())
}

fn missing(port: &'static str, binding: &str, e: impl std::fmt::Display) -> String {
    format!(
        "{port} binding `{binding}` is not available ({e}); declare it in wrangler.toml for this environment"
    )
}

/// Converts a JSON value to a plain JS value (objects stay objects; going
/// through serde-wasm-bindgen would turn them into `Map`s).
pub(crate) fn json_to_js(v: &serde_json::Value) -> Result<JsValue, String> {
    let text = serde_json::to_string(v).map_err(|e| e.to_string())?;
    JSON::parse(&text).map_err(|e| js_message(&e))
}

/// Converts any structured-clonable JS value to JSON (`undefined` becomes `null`).
pub(crate) fn js_to_json(v: &JsValue) -> Result<serde_json::Value, String> {
    if v.is_undefined() {
        return Ok(serde_json::Value::Null);
    }
    let text = JSON::stringify(v)
        .map_err(|e| js_message(&e))?
        .as_string()
        .unwrap_or_else(|| "null".to_owned());
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- KV

pub struct CfKv(Result<worker::kv::KvStore, String>);

impl CfKv {
    fn store(&self) -> Result<&worker::kv::KvStore, PortError> {
        self.0.as_ref().map_err(|e| PortError::new("kv", e.clone()))
    }
}

fn kv_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("kv", e.to_string())
}

impl Kv for CfKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        self.store()?.get(key).text().await.map_err(kv_err)
    }

    async fn put(&self, key: &str, value: &str, ttl_s: Option<u64>) -> Result<(), PortError> {
        let mut put = self.store()?.put(key, value).map_err(kv_err)?;
        if let Some(ttl) = ttl_s {
            put = put.expiration_ttl(kv_ttl(ttl));
        }
        put.execute().await.map_err(kv_err)
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.store()?.delete(key).await.map_err(kv_err)
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let store = self.store()?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        while out.len() < limit {
            // KV pages hold at most 1000 keys.
            let page_size = (limit - out.len()).min(1000) as u64;
            let mut q = store.list().prefix(prefix.to_owned()).limit(page_size);
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.execute().await.map_err(kv_err)?;
            out.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor {
                Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

// ---------------------------------------------------------------- D1

pub struct CfSql(Result<D1Database, String>);

fn sql_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("sql", e.to_string())
}

/// D1 has no BigInt parameters: integers travel as JS numbers, exact up to 2^53.
fn sql_param(v: &SqlValue) -> JsValue {
    match v {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Integer(i) => JsValue::from_f64(*i as f64),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
    }
}

/// D1 returns every number as a JS number, so the INTEGER/REAL distinction is
/// lost on the way out: integral values within 2^53 come back as `Integer`.
fn sql_cell(v: &JsValue) -> SqlValue {
    if v.is_null() || v.is_undefined() {
        return SqlValue::Null;
    }
    if let Some(s) = v.as_string() {
        return SqlValue::Text(s);
    }
    if let Some(n) = v.as_f64() {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if n.fract() == 0.0 && n.abs() <= EXACT {
            return SqlValue::Integer(n as i64);
        }
        return SqlValue::Real(n);
    }
    if let Some(b) = v.as_bool() {
        return SqlValue::Integer(i64::from(b));
    }
    // BLOBs arrive as arrays of bytes; the port has no blob type, keep them readable.
    SqlValue::Text(
        JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default(),
    )
}

impl CfSql {
    fn db(&self) -> Result<&D1Database, PortError> {
        self.0
            .as_ref()
            .map_err(|e| PortError::new("sql", e.clone()))
    }

    fn prepare(&self, stmt: &SqlStatement) -> Result<D1PreparedStatement, PortError> {
        let args: Vec<JsValue> = stmt.params.iter().map(sql_param).collect();
        self.db()?
            .prepare(stmt.sql.as_str())
            .bind(&args)
            .map_err(sql_err)
    }
}

impl Sql for CfSql {
    async fn execute(&self, stmt: SqlStatement) -> Result<u64, PortError> {
        let res = self.prepare(&stmt)?.run().await.map_err(sql_err)?;
        let changes = res.meta().map_err(sql_err)?.and_then(|m| m.changes);
        Ok(changes.unwrap_or(0) as u64)
    }

    async fn query(&self, stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError> {
        let prepared = self.prepare(&stmt)?;
        let promise = prepared
            .inner()
            .all()
            .map_err(|e| sql_err(js_message(&e)))?;
        let result = JsFuture::from(promise)
            .await
            .map_err(|e| sql_err(js_message(&e)))?;
        let rows = Reflect::get(&result, &JsValue::from_str("results"))
            .map_err(|e| sql_err(js_message(&e)))?;
        let Some(rows) = rows.dyn_ref::<Array>() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(rows.length() as usize);
        for row in rows.iter() {
            let Some(obj) = row.dyn_ref::<Object>() else {
                continue;
            };
            // Object.entries keeps the select order for column names that are not integers.
            let columns = Object::entries(obj)
                .iter()
                .filter_map(|entry| {
                    let pair = entry.dyn_into::<Array>().ok()?;
                    Some((pair.get(0).as_string()?, sql_cell(&pair.get(1))))
                })
                .collect();
            out.push(SqlRow { columns });
        }
        Ok(out)
    }

    async fn batch(&self, stmts: Vec<SqlStatement>) -> Result<(), PortError> {
        if stmts.is_empty() {
            return Ok(());
        }
        let prepared = stmts
            .iter()
            .map(|s| self.prepare(s))
            .collect::<Result<Vec<_>, _>>()?;
        self.db()?.batch(prepared).await.map_err(sql_err)?;
        Ok(())
    }
}

// ---------------------------------------------------------------- R2

pub struct CfBlob(Result<Bucket, String>);

fn blob_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("blob", e.to_string())
}

impl CfBlob {
    fn bucket(&self) -> Result<&Bucket, PortError> {
        self.0
            .as_ref()
            .map_err(|e| PortError::new("blob", e.clone()))
    }
}

impl Blob for CfBlob {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError> {
        let meta = worker::HttpMetadata {
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        self.bucket()?
            .put(key, body)
            .http_metadata(meta)
            .execute()
            .await
            .map_err(blob_err)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let Some(obj) = self.bucket()?.get(key).execute().await.map_err(blob_err)? else {
            return Ok(None);
        };
        match obj.body() {
            Some(body) => body.bytes().await.map(Some).map_err(blob_err),
            None => Ok(Some(Vec::new())),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.bucket()?.delete(key).await.map_err(blob_err)
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let bucket = self.bucket()?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        while out.len() < limit {
            let page_size = (limit - out.len()).min(1000) as u32;
            let mut q = bucket.list().prefix(prefix).limit(page_size);
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.execute().await.map_err(blob_err)?;
            out.extend(page.objects().iter().map(|o| o.key()));
            match page.cursor() {
                Some(c) if page.truncated() && !c.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

// ---------------------------------------------------------------- Queue

pub struct CfQueue(worker::Queue);

impl Queue for CfQueue {
    async fn send(&self, body: &serde_json::Value) -> Result<(), PortError> {
        let js = json_to_js(body).map_err(|e| PortError::new("queue", e))?;
        self.0
            .send_raw(
                // JSON content type: the consumer gets exactly what JSON.parse gives.
                worker::RawMessageBuilder::new(js)
                    .build_with_content_type(worker::QueueContentType::Json),
            )
            .await
            .map_err(|e| PortError::new("queue", e.to_string()))
    }
}

// ---------------------------------------------------------------- Fetch

pub struct CfFetch;

fn build_request(req: http::Request<Vec<u8>>) -> Result<worker::Request, String> {
    let (parts, body) = req.into_parts();
    let headers = web_sys::Headers::new().map_err(|e| js_message(&e))?;
    for (name, value) in &parts.headers {
        let value = value
            .to_str()
            .map_err(|_| format!("header `{name}` is not visible ASCII"))?;
        headers
            .append(name.as_str(), value)
            .map_err(|e| js_message(&e))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(parts.method.as_str());
    // 3xx answers go back to the caller, as on the native host: the core re-checks
    // every redirect target against its URL guard before following it.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_headers(&headers);
    // fetch() rejects a body on GET/HEAD, even an empty one.
    if !body.is_empty() {
        init.set_body(&Uint8Array::from(body.as_slice()));
    }
    let raw = web_sys::Request::new_with_str_and_init(&parts.uri.to_string(), &init)
        .map_err(|e| js_message(&e))?;
    Ok(worker::Request::from(raw))
}

async fn exchange(
    req: worker::Request,
    signal: &worker::AbortSignal,
) -> Result<http::Response<Vec<u8>>, FetchError> {
    let net = |e: worker::Error| FetchError::Network(e.to_string());
    let mut resp = worker::Fetch::Request(req)
        .send_with_signal(signal)
        .await
        .map_err(net)?;
    let mut builder = http::Response::builder().status(resp.status_code());
    for (name, value) in resp.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = resp.bytes().await.map_err(net)?;
    builder
        .body(body)
        .map_err(|e| FetchError::Network(format!("unusable response: {e}")))
}

impl Fetch for CfFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let req = build_request(req).map_err(FetchError::Network)?;
        let controller = worker::AbortController::default();
        let signal = controller.signal();
        let work = std::pin::pin!(exchange(req, &signal));
        let timer = std::pin::pin!(sleep_ms(timeout.as_millis() as u64));
        match select(work, timer).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => {
                // Cancels the socket and any body still streaming in; the pending
                // exchange future is never polled again.
                controller.abort();
                Err(FetchError::Timeout)
            }
        }
    }
}

// ---------------------------------------------------------------- Clock, Random, Vars

pub struct CfClock;

/// A JS `setTimeout` timer (cleared if dropped early). setTimeout takes an i32.
fn sleep_ms(ms: u64) -> worker::Delay {
    worker::Delay::from(Duration::from_millis(ms.min(i32::MAX as u64)))
}

impl Clock for CfClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        sleep_ms(ms)
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

pub struct CfRandom;

impl Random for CfRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getRandomValues refuses more than 65536 bytes per call.
        for chunk in buf.chunks_mut(65_536) {
            get_random_values(chunk);
        }
    }
}

/// `[vars]` and secrets: both are properties of `env`. Non-string vars
/// (TOML tables) are returned as their JSON text.
pub struct CfVars(Env);

impl Vars for CfVars {
    fn var(&self, name: &str) -> Option<String> {
        let v = Reflect::get(&self.0, &JsValue::from_str(name)).ok()?;
        if v.is_undefined() || v.is_null() {
            return None;
        }
        if let Some(s) = v.as_string() {
            return Some(s);
        }
        JSON::stringify(&v).ok()?.as_string()
    }
}

// ---------------------------------------------------------------- Counter (Durable Object)

/// Budget counters: one `BudgetCounter` object per key (see `durable.rs`).
pub struct DoCounter(Result<ObjectNamespace, String>);

fn counter_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("counter", e.to_string())
}

impl DoCounter {
    async fn call(&self, key: &str, req: &CounterRequest) -> Result<CounterReply, PortError> {
        let ns = self
            .0
            .as_ref()
            .map_err(|e| PortError::new("counter", e.clone()))?;
        let stub = ns
            .id_from_name(key)
            .and_then(|id| id.get_stub())
            .map_err(counter_err)?;
        let body = serde_json::to_string(req).map_err(counter_err)?;
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        // The host part is never resolved: a stub's fetch goes straight to the object.
        let request = worker::Request::new_with_init("https://budget-counter/rpc", &init)
            .map_err(counter_err)?;
        let mut resp = stub
            .fetch_with_request(request)
            .await
            .map_err(counter_err)?;
        let text = resp.text().await.map_err(counter_err)?;
        if resp.status_code() != 200 {
            return Err(counter_err(format!(
                "budget counter answered {}: {text}",
                resp.status_code()
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| counter_err(format!("unreadable reply {text:?}: {e}")))
    }
}

impl Counter for DoCounter {
    async fn reserve(
        &self,
        key: &str,
        lanes: &[Reserve<'_>],
        expires_at_ms: u64,
    ) -> Result<bool, PortError> {
        let req = CounterRequest::Reserve {
            lanes: lanes
                .iter()
                .map(|l| LaneReserve {
                    lane: l.lane.to_owned(),
                    amount: l.amount,
                    ceiling: l.ceiling,
                })
                .collect(),
            expires_at_ms,
        };
        let reply = self.call(key, &req).await?;
        reply
            .granted
            .ok_or_else(|| counter_err("reply to reserve lacks `granted`"))
    }

    async fn adjust(&self, key: &str, lane: &str, delta: i64) -> Result<(), PortError> {
        let req = CounterRequest::Adjust {
            lane: lane.to_owned(),
            delta,
        };
        self.call(key, &req).await.map(|_| ())
    }

    async fn read(&self, key: &str, lane: &str) -> Result<i64, PortError> {
        let req = CounterRequest::Read {
            lane: lane.to_owned(),
        };
        let reply = self.call(key, &req).await?;
        reply
            .value
            .ok_or_else(|| counter_err("reply to read lacks `value`"))
    }
}

// ---------------------------------------------------------------- Host

pub struct CfHost {
    kv: CfKv,
    sql: CfSql,
    blob: CfBlob,
    queue: Option<CfQueue>,
    fetch: CfFetch,
    clock: CfClock,
    random: CfRandom,
    counter: DoCounter,
    vars: CfVars,
}

impl CfHost {
    /// Never fails: a binding that is absent is reported by the port that needs it.
    /// `env` is the same object for every request of an isolate, so holding it is safe.
    pub fn new(env: Env) -> Self {
        let queue = env.queue(EVENTS_BINDING).ok().map(CfQueue);
        CfHost {
            kv: CfKv(env.kv(KV_BINDING).map_err(|e| missing("kv", KV_BINDING, e))),
            sql: CfSql(
                env.d1(D1_BINDING)
                    .map_err(|e| missing("sql", D1_BINDING, e)),
            ),
            blob: CfBlob(
                env.bucket(R2_BINDING)
                    .map_err(|e| missing("blob", R2_BINDING, e)),
            ),
            queue,
            fetch: CfFetch,
            clock: CfClock,
            random: CfRandom,
            counter: DoCounter(
                env.durable_object(COUNTER_BINDING)
                    .map_err(|e| missing("counter", COUNTER_BINDING, e)),
            ),
            vars: CfVars(env),
        }
    }
}

impl Host for CfHost {
    type Kv = CfKv;
    type Sql = CfSql;
    type Blob = CfBlob;
    type Queue = CfQueue;
    type Fetch = CfFetch;
    type Clock = CfClock;
    type Random = CfRandom;
    type Counter = DoCounter;
    type Vars = CfVars;

    fn kv(&self) -> &CfKv {
        &self.kv
    }
    fn sql(&self) -> &CfSql {
        &self.sql
    }
    fn blob(&self) -> &CfBlob {
        &self.blob
    }
    fn queue(&self) -> Option<&CfQueue> {
        self.queue.as_ref()
    }
    fn fetch(&self) -> &CfFetch {
        &self.fetch
    }
    fn clock(&self) -> &CfClock {
        &self.clock
    }
    fn random(&self) -> &CfRandom {
        &self.random
    }
    fn counter(&self) -> &DoCounter {
        &self.counter
    }
    fn vars(&self) -> &CfVars {
        &self.vars
    }
    fn defer(&self, task: BackgroundTask) {
        crate::wait::defer(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_ttl_is_raised_to_the_minimum_only() {
        assert_eq!(kv_ttl(0), 60);
        assert_eq!(kv_ttl(1), 60);
        assert_eq!(kv_ttl(59), 60);
        assert_eq!(kv_ttl(60), 60);
        assert_eq!(kv_ttl(86_400), 86_400);
    }
}
