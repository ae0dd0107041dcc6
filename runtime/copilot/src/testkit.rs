//! In-memory test doubles for the copilot: a fake [`Host`] (KV, Fetch,
//! Clock and Vars do something; the other ports are inert), a scripted
//! model, and an independent `apply_ops` that mirrors how Bob applies ops
//! (CONTRACT 6.3) for the property test.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{CopilotCtx, CopilotModel, CopilotOutput, ModelCall, ModelReply, Role};
use sf_core::error::ApiError;
use sf_core::ports::*;

#[derive(Default)]
pub struct FakeKv {
    pub map: RefCell<HashMap<String, String>>,
    pub ttls: RefCell<HashMap<String, Option<u64>>>,
}

impl Kv for FakeKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        Ok(self.map.borrow().get(key).cloned())
    }
    async fn put(&self, key: &str, value: &str, ttl_s: Option<u64>) -> Result<(), PortError> {
        self.map
            .borrow_mut()
            .insert(key.to_owned(), value.to_owned());
        self.ttls.borrow_mut().insert(key.to_owned(), ttl_s);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.map.borrow_mut().remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let mut keys: Vec<String> = self
            .map
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.sort();
        keys.truncate(limit);
        Ok(keys)
    }
}

pub struct Inert;

impl Sql for Inert {
    async fn execute(&self, _stmt: SqlStatement) -> Result<u64, PortError> {
        Ok(0)
    }
    async fn query(&self, _stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError> {
        Ok(Vec::new())
    }
    async fn batch(&self, _stmts: Vec<SqlStatement>) -> Result<(), PortError> {
        Ok(())
    }
}
impl Blob for Inert {
    async fn put(&self, _key: &str, _body: Vec<u8>, _ct: &str) -> Result<(), PortError> {
        Ok(())
    }
    async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(None)
    }
    async fn delete(&self, _key: &str) -> Result<(), PortError> {
        Ok(())
    }
    async fn list(&self, _prefix: &str, _limit: usize) -> Result<Vec<String>, PortError> {
        Ok(Vec::new())
    }
}
impl Queue for Inert {
    async fn send(&self, _body: &Value) -> Result<(), PortError> {
        Ok(())
    }
}
impl Random for Inert {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(7);
    }
}
impl Counter for Inert {
    async fn reserve(
        &self,
        _key: &str,
        _lanes: &[Reserve<'_>],
        _exp: u64,
    ) -> Result<bool, PortError> {
        Ok(true)
    }
    async fn adjust(&self, _key: &str, _lane: &str, _delta: i64) -> Result<(), PortError> {
        Ok(())
    }
    async fn read(&self, _key: &str, _lane: &str) -> Result<i64, PortError> {
        Ok(0)
    }
}

/// A canned response: status, content type, optional `Location`, body.
#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Canned {
    pub fn json(body: &Value) -> Self {
        Canned {
            status: 200,
            content_type: "application/json".into(),
            location: None,
            body: body.to_string().into_bytes(),
        }
    }
    pub fn html(body: &str) -> Self {
        Canned {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            location: None,
            body: body.as_bytes().to_vec(),
        }
    }
    pub fn redirect(to: &str) -> Self {
        Canned {
            status: 302,
            content_type: "text/html".into(),
            location: Some(to.into()),
            body: Vec::new(),
        }
    }
    pub fn status(status: u16) -> Self {
        Canned {
            status,
            content_type: "text/html".into(),
            location: None,
            body: b"nope".to_vec(),
        }
    }
}

/// Serves canned responses by exact URL; everything else is a 404. Records
/// each request URL and whether it carried the [`PublicOnly`] marker.
#[derive(Default)]
pub struct FakeFetch {
    pub routes: RefCell<HashMap<String, Canned>>,
    pub blocked: RefCell<HashMap<String, String>>,
    pub seen: RefCell<Vec<(String, bool)>>,
}

impl Fetch for FakeFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        _timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let url = req.uri().to_string();
        let public_only = req.extensions().get::<sf_core::net::PublicOnly>().is_some();
        self.seen.borrow_mut().push((url.clone(), public_only));
        if let Some(reason) = self.blocked.borrow().get(&url) {
            return Err(FetchError::Blocked(reason.clone()));
        }
        let canned = self
            .routes
            .borrow()
            .get(&url)
            .cloned()
            .unwrap_or_else(|| Canned::status(404));
        let mut b = http::Response::builder()
            .status(canned.status)
            .header("content-type", canned.content_type);
        if let Some(l) = canned.location {
            b = b.header("location", l);
        }
        b.body(canned.body)
            .map_err(|e| FetchError::Network(e.to_string()))
    }
}

pub struct FakeClock {
    pub now: Cell<u64>,
    /// Added to `now` on every read, so latencies are not all zero.
    pub step: Cell<u64>,
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        let n = self.now.get();
        self.now.set(n + self.step.get());
        n
    }
    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        self.now.set(self.now.get() + ms);
        std::future::ready(())
    }
}

#[derive(Default)]
pub struct FakeVars(pub RefCell<HashMap<String, String>>);

impl Vars for FakeVars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.borrow().get(name).cloned()
    }
}

pub struct FakeHost {
    pub kv: FakeKv,
    pub fetch: FakeFetch,
    pub clock: FakeClock,
    pub vars: FakeVars,
    pub inert: Inert,
}

pub const TOKYO: &str = "https://tokyo.test";

impl FakeHost {
    pub fn new() -> Self {
        let mut vars = HashMap::new();
        vars.insert("TOKYO_BASE_URL".to_owned(), TOKYO.to_owned());
        FakeHost {
            kv: FakeKv::default(),
            fetch: FakeFetch::default(),
            clock: FakeClock {
                now: Cell::new(1_700_000_000_000),
                step: Cell::new(0),
            },
            vars: FakeVars(RefCell::new(vars)),
            inert: Inert,
        }
    }
    pub fn route(&self, url: &str, c: Canned) {
        self.fetch.routes.borrow_mut().insert(url.to_owned(), c);
    }
    /// The FAQ allowlist as Tokyo serves it.
    pub fn with_faq_allowlist(self) -> Self {
        self.route(
            &format!("{TOKYO}/widgets/faq/sdr.allowlist.json"),
            Canned::json(&serde_json::json!({"v":1,"paths":[
                {"path":"title","type":"string"},
                {"path":"header.title","type":"string"},
                {"path":"sections.*.title","type":"string"},
                {"path":"sections.*.faqs.*.question","type":"string","role":"question"},
                {"path":"sections.*.faqs.*.answer","type":"richtext","role":"answer"}
            ]})),
        );
        self
    }
}

impl Host for FakeHost {
    type Kv = FakeKv;
    type Sql = Inert;
    type Blob = Inert;
    type Queue = Inert;
    type Fetch = FakeFetch;
    type Clock = FakeClock;
    type Random = Inert;
    type Counter = Inert;
    type Vars = FakeVars;
    fn kv(&self) -> &FakeKv {
        &self.kv
    }
    fn sql(&self) -> &Inert {
        &self.inert
    }
    fn blob(&self) -> &Inert {
        &self.inert
    }
    fn queue(&self) -> Option<&Inert> {
        None
    }
    fn fetch(&self) -> &FakeFetch {
        &self.fetch
    }
    fn clock(&self) -> &FakeClock {
        &self.clock
    }
    fn random(&self) -> &Inert {
        &self.inert
    }
    fn counter(&self) -> &Inert {
        &self.inert
    }
    fn vars(&self) -> &FakeVars {
        &self.vars
    }
    fn defer(&self, _task: BackgroundTask) {}
}

/// Replies with scripted texts in order; with none left it fails the test
/// through an error the caller can see (a deterministic case must not call it).
#[derive(Default)]
pub struct StubModel {
    pub replies: RefCell<VecDeque<Result<String, ApiError>>>,
    pub calls: RefCell<Vec<ModelCall>>,
}

impl StubModel {
    pub fn with(replies: &[&str]) -> Self {
        let m = StubModel::default();
        for r in replies {
            m.replies.borrow_mut().push_back(Ok((*r).to_owned()));
        }
        m
    }
}

pub const NO_REPLY: &str = "stub model: no scripted reply left";

impl CopilotModel for StubModel {
    async fn complete(&self, req: ModelCall) -> Result<ModelReply, ApiError> {
        self.calls.borrow_mut().push(req);
        let next = self.replies.borrow_mut().pop_front();
        let text = next.unwrap_or_else(|| Err(ApiError::provider(599, "stub", NO_REPLY)))?;
        Ok(ModelReply {
            text,
            provider: "deepseek".into(),
            model: "stub-model".into(),
            prompt_tokens: 11,
            completion_tokens: 7,
        })
    }
}

/// Runs one turn with a standard grant (maxRequests 2, 45 s).
pub fn run_turn(
    host: &FakeHost,
    model: &StubModel,
    role: Role,
    subject: &str,
    input: &Value,
) -> Result<CopilotOutput, ApiError> {
    run_turn_with(host, model, role, subject, 2.0, input)
}

pub fn run_turn_with(
    host: &FakeHost,
    model: &StubModel,
    role: Role,
    subject: &str,
    max_requests: f64,
    input: &Value,
) -> Result<CopilotOutput, ApiError> {
    let cx = CopilotCtx {
        host,
        model,
        role,
        grant_subject_key: subject,
        grant_max_requests_raw: max_requests,
        grant_timeout_ms: 45_000,
        environment: "dev",
        started_ms: host.clock.now.get(),
    };
    futures_executor::block_on(super::run(&cx, input))
}

// ---------------------------------------------------------------- Bob's application

fn is_index(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn control_regex_match(control: &str, path: &str) -> bool {
    let a: Vec<&str> = control.split('.').collect();
    let b: Vec<&str> = path.split('.').collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(c, p)| {
            if c.len() > 4 && c.starts_with("__") && c.ends_with("__") {
                is_index(p)
            } else {
                c == p
            }
        })
}

/// Mirror of Bob's `applyWidgetOps` (CONTRACT 6.3): sequential, fail-fast,
/// atomic. Written independently of `ops.rs` so the property test compares
/// two readings of the contract. `setAt` creates missing object keys.
pub fn apply_ops(
    config: &Map<String, Value>,
    controls: &[Value],
    ops: &[Value],
) -> Result<Map<String, Value>, String> {
    if ops.is_empty() {
        return Err("ops must be a non-empty array".into());
    }
    let mut work = Value::Object(config.clone());
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("op must be a string")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .filter(|p| !p.trim().is_empty())
            .ok_or("path must be a string")?;
        if path
            .split('.')
            .any(|s| ["__proto__", "prototype", "constructor"].contains(&s))
        {
            return Err("Path contains a prohibited segment".into());
        }
        let mut best: Option<(&Value, u32)> = None;
        for c in controls {
            let Some(cp) = c.get("path").and_then(Value::as_str) else {
                continue;
            };
            if !control_regex_match(cp, path) {
                continue;
            }
            let score = if c
                .get("options")
                .and_then(Value::as_array)
                .is_some_and(|o| !o.is_empty())
            {
                100
            } else {
                0
            } + if c.get("type").and_then(Value::as_str) == Some("field") {
                0
            } else {
                10
            } + u32::from(c.get("label").and_then(Value::as_str).is_some());
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((c, score));
            }
        }
        let control = best
            .map(|(c, _)| c)
            .ok_or("Path is not allowlisted by compiled controls")?;
        let ckind = control
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("control kind missing")?;
        let segs: Vec<&str> = path.split('.').collect();
        match kind {
            "set" => {
                let v = op.get("value").ok_or("value missing")?;
                let coerced = coerce(ckind, control, v)?;
                set_at(&mut work, &segs, coerced)?;
            }
            "insert" | "remove" | "move" => {
                if ckind != "array" {
                    return Err("not an array control".into());
                }
                let arr = get_mut(&mut work, &segs)
                    .and_then(Value::as_array_mut)
                    .ok_or("target is not an array")?;
                let int = |k: &str| {
                    op.get(k)
                        .and_then(Value::as_f64)
                        .filter(|n| n.fract() == 0.0 && *n >= 0.0)
                        .map(|n| n as usize)
                };
                match kind {
                    "insert" => {
                        let i = int("index")
                            .filter(|i| *i <= arr.len())
                            .ok_or("insert index out of range")?;
                        arr.insert(i, op.get("value").cloned().ok_or("value missing")?);
                    }
                    "remove" => {
                        let i = int("index")
                            .filter(|i| *i < arr.len())
                            .ok_or("remove index out of range")?;
                        arr.remove(i);
                    }
                    _ => {
                        let f = int("from")
                            .filter(|i| *i < arr.len())
                            .ok_or("from out of range")?;
                        let t = int("to")
                            .filter(|i| *i < arr.len())
                            .ok_or("to out of range")?;
                        let x = arr.remove(f);
                        arr.insert(t, x);
                    }
                }
            }
            _ => return Err(format!("unknown op {kind}")),
        }
    }
    match work {
        Value::Object(m) => Ok(m),
        _ => Err("config is no longer an object".into()),
    }
}

fn coerce(kind: &str, control: &Value, v: &Value) -> Result<Value, String> {
    match kind {
        "boolean" => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Number(n) if n.as_f64() == Some(1.0) => Ok(Value::Bool(true)),
            Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Value::Bool(false)),
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
                _ => Err("not a boolean".into()),
            },
            _ => Err("not a boolean".into()),
        },
        "number" => {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => {
                    let t = s.trim();
                    let end = t
                        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                        .unwrap_or(t.len());
                    t[..end].parse::<f64>().ok()
                }
                _ => None,
            };
            n.filter(|x| x.is_finite())
                .map(Value::from)
                .ok_or_else(|| "not a number".into())
        }
        "enum" => {
            let s = v
                .as_str()
                .map(str::trim)
                .ok_or("enum value must be a string")?;
            let in_enum = control
                .get("enumValues")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(s)));
            let in_opts = control
                .get("options")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|o| o.get("value").and_then(Value::as_str) == Some(s))
                });
            if in_enum || in_opts {
                Ok(Value::String(s.to_owned()))
            } else {
                Err("not an allowed value".into())
            }
        }
        "json" => match v {
            Value::Object(_) => Ok(v.clone()),
            Value::String(s) => serde_json::from_str(s).map_err(|_| "not json".into()),
            _ => Err("not json".into()),
        },
        "array" => match v {
            Value::Array(_) => Ok(v.clone()),
            Value::String(s) => serde_json::from_str::<Value>(s)
                .ok()
                .filter(Value::is_array)
                .ok_or_else(|| "not an array".into()),
            _ => Err("not an array".into()),
        },
        "object" => v
            .is_object()
            .then(|| v.clone())
            .ok_or_else(|| "not an object".into()),
        "color" => v
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| "not a color".into()),
        _ => v
            .as_str()
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| "not a string".into()),
    }
}

fn get_mut<'a>(root: &'a mut Value, segs: &[&str]) -> Option<&'a mut Value> {
    let mut cur = root;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get_mut(*s)?,
            Value::Array(a) if is_index(s) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn set_at(root: &mut Value, segs: &[&str], v: Value) -> Result<(), String> {
    let Some((last, init)) = segs.split_last() else {
        return Err("empty path".into());
    };
    let mut cur = root;
    for (i, s) in init.iter().enumerate() {
        let next_is_index = is_index(segs[i + 1]);
        cur = match cur {
            Value::Object(m) => m.entry((*s).to_owned()).or_insert_with(|| {
                if next_is_index {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                }
            }),
            Value::Array(a) if is_index(s) => {
                let idx: usize = s.parse().map_err(|_| "bad index")?;
                a.get_mut(idx).ok_or("index out of range")?
            }
            _ => return Err("cannot descend".into()),
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert((*last).to_owned(), v);
            Ok(())
        }
        Value::Array(a) if is_index(last) => {
            let idx: usize = last.parse().map_err(|_| "bad index")?;
            if idx < a.len() {
                a[idx] = v;
            } else if idx == a.len() {
                a.push(v);
            } else {
                return Err("index out of range".into());
            }
            Ok(())
        }
        _ => Err("cannot set".into()),
    }
}
