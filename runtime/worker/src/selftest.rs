//! Port self-test on the real runtime: `GET /__sf_selftest`, and
//! `POST /__sf_selftest/enqueue?queue=l10n|commands` ([`enqueue`]).
//!
//! The black-box conformance suite sees the ports only through gateway
//! behaviour; this checks each Cloudflare port directly against workerd's
//! bindings (KV TTL clamp, D1 parameter and result types and batch rollback,
//! R2 round trip, the Durable Object counter under concurrent reservations,
//! fetch with its deadline, the queue producer, `waitUntil`).
//!
//! It is host testing, not gateway behaviour: compiled only with the cargo
//! feature `selftest` (the e2e bundle of scripts/worker.sh; the production
//! bundle is built without it), and even then off unless the Worker runs with
//! `SF_SELFTEST = "1"` outside `ENVIRONMENT = "prod"`, which e2e sets in
//! build/.dev.vars only. When off, the path falls through to the gateway (which
//! answers the contract 404). The conformance suite (`sf conformance
//! --host-kind worker`) drives it and asserts on its answers.

use std::rc::Rc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use sf_core::ports::{
    Blob, Clock, Counter, Fetch, FetchError, Host, Kv, Queue, Random, Reserve, Sql, SqlStatement,
    SqlValue, Vars,
};
use sf_runtime::Gateway;

use crate::host::CfHost;
use crate::queue::CfQueue;

pub const PATH: &str = "/__sf_selftest";
/// `POST /__sf_selftest/enqueue?queue=l10n|commands`: the body onto one of the
/// two producers only the e2e's dev config binds, so the Worker's own queue
/// consumer receives it (the e2e cases for the l10n job and Paris' commands).
pub const ENQUEUE_PATH: &str = "/__sf_selftest/enqueue";
/// The e2e dev config's producers (scripts/worker.sh), one per consumed queue.
pub const L10N_PRODUCER: &str = "SF_SELFTEST_L10N_Q";
pub const COMMANDS_PRODUCER: &str = "SF_SELFTEST_COMMANDS_Q";

pub fn enabled(host: &CfHost) -> bool {
    host.vars().var("SF_SELFTEST").as_deref() == Some("1")
        && host.vars().var("ENVIRONMENT").as_deref() != Some("prod")
}

struct Report {
    checks: Vec<Value>,
    failed: usize,
}

impl Report {
    fn record(&mut self, name: &str, result: Result<String, String>) {
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        if !ok {
            self.failed += 1;
        }
        self.checks
            .push(json!({ "name": name, "ok": ok, "detail": detail }));
    }
}

fn ensure(cond: bool, what: impl Into<String>) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn port<T>(r: Result<T, sf_core::ports::PortError>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

/// `query` of the URL: `deferred=<id>` reads back the marker a previous run's
/// deferred task wrote, `dead-letter=<requestId>` finds an event's dead-letter
/// record in R2, `event=<requestId>` the D1 row the queue consumer filed for an
/// event, `events=other` counts the filed events not sent by a self-test;
/// otherwise a full run.
pub async fn run(gw: &Rc<Gateway<CfHost>>, query: Option<&str>) -> http::Response<Vec<u8>> {
    let host = gw.host();
    if let Some(id) = query.and_then(|q| q.strip_prefix("deferred=")) {
        let key = format!("selftest:deferred:{id}");
        let found = host.kv().get(&key).await;
        let body = json!({ "deferred": matches!(found, Ok(Some(ref v)) if v == "done") });
        return sf_core::http::json_response(200, &body);
    }
    if let Some(id) = query.and_then(|q| q.strip_prefix("dead-letter=")) {
        return dead_letter_lookup(host, id).await;
    }
    if let Some(id) = query.and_then(|q| q.strip_prefix("event=")) {
        return event_lookup(host, id).await;
    }
    if query == Some("events=other") {
        return other_events_count(host).await;
    }
    let id = host.random().uuid_v4();
    let mut r = Report {
        checks: Vec::new(),
        failed: 0,
    };
    r.record("random", random(host));
    r.record("clock", clock(host).await);
    r.record("kv", kv(host, &id).await);
    r.record("sql", sql(host, &id).await);
    r.record("blob", blob(host, &id).await);
    r.record("counter", counter(host, &id).await);
    match host.vars().var("SF_SELFTEST_ECHO_URL") {
        Some(url) => r.record("fetch", fetch(host, &url).await),
        None => r.record("fetch", Err("SF_SELFTEST_ECHO_URL is not set".into())),
    }
    let event_id = format!("selftest-{id}");
    r.record("queue", queue(host, &event_id).await);
    r.record("queue reject", queue_reject(host, &id).await);
    // Proven by the follow-up `?deferred=<id>` call: the marker appears after the response.
    let kv_key = format!("selftest:deferred:{id}");
    let deferred_host = gw.clone();
    host.defer(Box::pin(async move {
        deferred_host.host().clock().sleep(20).await;
        let _ = deferred_host
            .host()
            .kv()
            .put(&kv_key, "done", Some(60))
            .await;
    }));
    let body = json!({
        "ok": r.failed == 0, "id": id, "eventRequestId": event_id, "checks": r.checks,
    });
    sf_core::http::json_response(if r.failed == 0 { 200 } else { 500 }, &body)
}

fn random(host: &CfHost) -> Result<String, String> {
    let a = host.random().uuid_v4();
    let b = host.random().uuid_v4();
    ensure(a != b, "two UUIDs are equal")?;
    ensure(
        a.len() == 36 && a.as_bytes()[14] == b'4',
        format!("not a v4 UUID: {a}"),
    )?;
    let mut big = vec![0u8; 70_000]; // more than one getRandomValues call
    host.random().fill(&mut big);
    ensure(
        big[65_536..].iter().any(|b| *b != 0),
        "bytes past 64 KiB were not filled",
    )?;
    Ok(a)
}

async fn clock(host: &CfHost) -> Result<String, String> {
    let t0 = host.clock().now_ms();
    ensure(
        t0 > 1_700_000_000_000,
        format!("now_ms {t0} is not epoch ms"),
    )?;
    host.clock().sleep(50).await;
    let dt = host.clock().now_ms().saturating_sub(t0);
    ensure((45..5_000).contains(&dt), format!("sleep(50) took {dt} ms"))?;
    Ok(format!("sleep(50) took {dt} ms"))
}

async fn kv(host: &CfHost, id: &str) -> Result<String, String> {
    let kv = host.kv();
    let key = format!("selftest:{id}");
    // 1 s is below KV's 60 s minimum: the port must clamp, not fail.
    port(kv.put(&key, "välue", Some(1)).await)?;
    let got = port(kv.get(&key).await)?;
    ensure(got.as_deref() == Some("välue"), format!("get gave {got:?}"))?;
    let listed = port(kv.list(&key, 10).await)?;
    ensure(listed == vec![key.clone()], format!("list gave {listed:?}"))?;
    port(kv.delete(&key).await)?;
    let gone = port(kv.get(&key).await)?;
    ensure(gone.is_none(), format!("deleted key still reads {gone:?}"))?;
    Ok("put(ttl 1 s, clamped)/get/list/delete".into())
}

async fn sql(host: &CfHost, id: &str) -> Result<String, String> {
    let db = host.sql();
    let st = |sql: &str, params: Vec<SqlValue>| SqlStatement::new(sql, params);
    port(db.execute(st(
        "CREATE TABLE IF NOT EXISTS sf_selftest (id TEXT PRIMARY KEY, i INTEGER, r REAL, t TEXT, n TEXT)",
        vec![],
    ))
    .await)?;
    let result = async {
        let changed = port(
            db.execute(st(
                "INSERT INTO sf_selftest (id, i, r, t, n) VALUES (?, ?, ?, ?, ?)",
                vec![
                    id.into(),
                    SqlValue::Integer(9_007_199_254_740_991),
                    SqlValue::Real(2.5),
                    "héllo ✓".into(),
                    SqlValue::Null,
                ],
            ))
            .await,
        )?;
        ensure(changed == 1, format!("insert changed {changed} rows"))?;
        let rows = port(
            db.query(st(
                "SELECT t, i, r, n, id FROM sf_selftest WHERE id = ?",
                vec![id.into()],
            ))
            .await,
        )?;
        ensure(rows.len() == 1, format!("select gave {} rows", rows.len()))?;
        let names: Vec<&str> = rows[0].columns.iter().map(|(n, _)| n.as_str()).collect();
        ensure(
            names == ["t", "i", "r", "n", "id"],
            format!("column order {names:?}"),
        )?;
        ensure(
            rows[0].int("i") == Some(9_007_199_254_740_991),
            format!("i = {:?}", rows[0].get("i")),
        )?;
        ensure(
            rows[0].get("r") == Some(&SqlValue::Real(2.5)),
            format!("r = {:?}", rows[0].get("r")),
        )?;
        ensure(
            rows[0].text("t") == Some("héllo ✓"),
            format!("t = {:?}", rows[0].get("t")),
        )?;
        ensure(
            rows[0].get("n") == Some(&SqlValue::Null),
            format!("n = {:?}", rows[0].get("n")),
        )?;
        // A batch whose second statement fails (duplicate key) must leave nothing behind.
        let other = format!("{id}-b");
        let batch = db
            .batch(vec![
                st(
                    "INSERT INTO sf_selftest (id, i) VALUES (?, 1)",
                    vec![other.as_str().into()],
                ),
                st(
                    "INSERT INTO sf_selftest (id, i) VALUES (?, 2)",
                    vec![id.into()],
                ),
            ])
            .await;
        ensure(batch.is_err(), "a batch with a failing statement succeeded")?;
        let left = port(
            db.query(st(
                "SELECT count(*) AS n FROM sf_selftest WHERE id = ?",
                vec![other.as_str().into()],
            ))
            .await,
        )?;
        ensure(
            left.first().and_then(|r| r.int("n")) == Some(0),
            "the failed batch was not rolled back",
        )?;
        Ok("bind/select types and order, batch rollback".to_owned())
    }
    .await;
    let _ = db
        .execute(st(
            "DELETE FROM sf_selftest WHERE id LIKE ?",
            vec![format!("{id}%").into()],
        ))
        .await;
    result
}

async fn blob(host: &CfHost, id: &str) -> Result<String, String> {
    let b = host.blob();
    let key = format!("selftest/{id}.bin");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    port(b.put(&key, bytes.clone(), "application/octet-stream").await)?;
    let got = port(b.get(&key).await)?;
    ensure(
        got.as_deref() == Some(bytes.as_slice()),
        "get gave other bytes",
    )?;
    let listed = port(b.list(&format!("selftest/{id}"), 10).await)?;
    ensure(listed == vec![key.clone()], format!("list gave {listed:?}"))?;
    port(b.delete(&key).await)?;
    let gone = port(b.get(&key).await)?;
    ensure(gone.is_none(), "deleted object still readable")?;
    Ok("put/get/list/delete of 3000 bytes".into())
}

async fn counter(host: &CfHost, id: &str) -> Result<String, String> {
    let c = host.counter();
    let key = format!("selftest:{id}");
    let expires = host.clock().now_ms() + 60_000;
    let lanes = [Reserve {
        lane: "requests",
        amount: 1,
        ceiling: Some(5),
    }];
    // Twelve reservations in flight at once against a ceiling of 5.
    let attempts = join_all((0..12).map(|_| c.reserve(&key, &lanes, expires))).await;
    let mut granted = 0;
    for a in attempts {
        if port(a)? {
            granted += 1;
        }
    }
    ensure(
        granted == 5,
        format!("{granted} of 12 concurrent reservations granted, want 5"),
    )?;
    let v = port(c.read(&key, "requests").await)?;
    ensure(v == 5, format!("read {v} after 5 grants"))?;
    port(c.adjust(&key, "requests", -2).await)?;
    let both = [
        Reserve {
            lane: "requests",
            amount: 1,
            ceiling: Some(5),
        },
        Reserve {
            lane: "micro_usd",
            amount: 10,
            ceiling: Some(5),
        },
    ];
    let refused = port(c.reserve(&key, &both, expires).await)?;
    ensure(
        !refused,
        "a reservation over one lane's ceiling was granted",
    )?;
    let v = port(c.read(&key, "requests").await)?;
    ensure(
        v == 3,
        format!("read {v} after adjust -2 and a refused reservation, want 3"),
    )?;
    Ok("12 concurrent reserves vs ceiling 5 -> 5 granted; adjust; all-or-nothing".into())
}

async fn fetch(host: &CfHost, base: &str) -> Result<String, String> {
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("{base}/echo"))
        .header("x-sf-test", "yes")
        .body(b"ping".to_vec())
        .map_err(|e| e.to_string())?;
    let res = host
        .fetch()
        .fetch(req, Duration::from_secs(5))
        .await
        .map_err(|e| format!("echo: {e:?}"))?;
    let body = String::from_utf8_lossy(res.body()).into_owned();
    ensure(
        res.status() == 201 && body == "POST ping yes",
        format!("echo answered {} {body:?}", res.status()),
    )?;
    ensure(
        res.headers().get("x-echo").map(|v| v.as_bytes()) == Some(b"1"),
        "response header x-echo missing",
    )?;
    let redirect = http::Request::builder()
        .uri(format!("{base}/redirect"))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let res = host
        .fetch()
        .fetch(redirect, Duration::from_secs(5))
        .await
        .map_err(|e| format!("redirect: {e:?}"))?;
    ensure(
        res.status() == 302
            && res.headers().get("location").map(|v| v.as_bytes()) == Some(b"/echo"),
        format!("a redirect was not returned as is: {}", res.status()),
    )?;
    let t0 = host.clock().now_ms();
    let hang = http::Request::builder()
        .uri(format!("{base}/hang"))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let out = host.fetch().fetch(hang, Duration::from_millis(300)).await;
    let dt = host.clock().now_ms().saturating_sub(t0);
    ensure(
        matches!(out, Err(FetchError::Timeout)) && dt < 3_000,
        format!(
            "hanging upstream gave {:?} after {dt} ms",
            out.map(|r| r.status())
        ),
    )?;
    Ok(format!(
        "echo round trip; redirect returned, not followed; 300 ms deadline hit after {dt} ms"
    ))
}

async fn queue(host: &CfHost, request_id: &str) -> Result<String, String> {
    let Some(q) = host.queue() else {
        return Err("SF_EVENTS is not bound".into());
    };
    let event = json!({
        "v": 1, "requestId": request_id, "agentId": "debug.grantProbe",
        "occurredAtMs": host.clock().now_ms(),
        "subject": { "kind": "service", "serviceId": "selftest" },
        "trace": { "envStage": "local" }, "ai": {}, "input": {}, "result": {}, "usage": {},
    });
    port(q.send(&event).await)?;
    Ok(format!("sent interaction event {request_id}"))
}

/// An event the consumer must refuse (unknown agent): it ends up in the R2 dead-letter store.
async fn queue_reject(host: &CfHost, id: &str) -> Result<String, String> {
    let Some(q) = host.queue() else {
        return Err("SF_EVENTS is not bound".into());
    };
    let request_id = format!("selftest-bad-{id}");
    let event = json!({
        "v": 1, "requestId": request_id, "agentId": "no.such.agent",
        "occurredAtMs": host.clock().now_ms(),
    });
    port(q.send(&event).await)?;
    Ok(format!("sent unconsumable event {request_id}"))
}

/// Finds the dead-letter record of the event with this `requestId`.
async fn dead_letter_lookup(host: &CfHost, want: &str) -> http::Response<Vec<u8>> {
    let mut found = Value::Null;
    if let Ok(keys) = host.blob().list("dead-letter/", 1000).await {
        for key in keys {
            let Ok(Some(bytes)) = host.blob().get(&key).await else {
                continue;
            };
            let Ok(record) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            if record["body"]["requestId"].as_str() == Some(want) {
                found = json!({ "key": key, "queue": record["queue"], "reason": record["reason"] });
                break;
            }
        }
    }
    sf_core::http::json_response(200, &json!({ "deadLetter": found }))
}

/// Table the queue consumer files interaction events in (migrations/).
const EVENTS_TABLE: &str = "copilot_events_v1";

fn sql_failure(e: sf_core::ports::PortError) -> http::Response<Vec<u8>> {
    sf_core::http::json_response(500, &json!({ "error": e.to_string() }))
}

/// The consumer's D1 row for the event with this `requestId`: `{"event": null}` until filed.
async fn event_lookup(host: &CfHost, request_id: &str) -> http::Response<Vec<u8>> {
    let stmt = SqlStatement::new(
        format!("SELECT requestId, agentId FROM {EVENTS_TABLE} WHERE requestId = ?"),
        vec![request_id.into()],
    );
    match host.sql().query(stmt).await {
        Ok(rows) => {
            let event = rows.first().map_or(
                Value::Null,
                |r| json!({ "requestId": r.text("requestId"), "agentId": r.text("agentId") }),
            );
            sf_core::http::json_response(200, &json!({ "event": event }))
        }
        Err(e) => sql_failure(e),
    }
}

/// How many events the consumer filed that no self-test sent (the suite's `/v1/execute` calls).
async fn other_events_count(host: &CfHost) -> http::Response<Vec<u8>> {
    let stmt = SqlStatement::new(
        format!("SELECT count(*) AS n FROM {EVENTS_TABLE} WHERE requestId NOT LIKE 'selftest-%'"),
        vec![],
    );
    match host.sql().query(stmt).await {
        Ok(rows) => {
            let n = rows.first().and_then(|r| r.int("n")).unwrap_or(0);
            sf_core::http::json_response(200, &json!({ "count": n }))
        }
        Err(e) => sql_failure(e),
    }
}

/// Sends the JSON `body` to the producer `queue=` names; 202 once the queue took it.
pub async fn enqueue(
    env: &worker::Env,
    method: &http::Method,
    query: Option<&str>,
    body: &[u8],
) -> http::Response<Vec<u8>> {
    let fail = |status: u16, why: String| {
        sf_core::http::json_response(status, &json!({ "ok": false, "error": why }))
    };
    if method != http::Method::POST {
        return fail(405, format!("{ENQUEUE_PATH} takes POST"));
    }
    let binding = match query.and_then(|q| q.strip_prefix("queue=")) {
        Some("l10n") => L10N_PRODUCER,
        Some("commands") => COMMANDS_PRODUCER,
        other => return fail(400, format!("queue={other:?}: expected l10n or commands")),
    };
    let msg: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return fail(400, format!("body is not JSON: {e}")),
    };
    let q = match env.queue(binding) {
        Ok(q) => CfQueue(q),
        Err(e) => return fail(500, format!("{binding} is not bound: {e}")),
    };
    match q.send(&msg).await {
        Ok(()) => sf_core::http::json_response(202, &json!({ "ok": true, "producer": binding })),
        Err(e) => fail(500, format!("{binding}: {e}")),
    }
}
