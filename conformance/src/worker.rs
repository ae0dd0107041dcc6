//! Checks only the Cloudflare Worker answers (`sf conformance --host-kind worker`
//! and `--host-kind worker-degraded`), run by scripts/worker.sh e2e against
//! `wrangler dev`.
//!
//! They drive the Worker's port self-test (`GET /__sf_selftest`, compiled in
//! with sf-worker's `selftest` feature and enabled by `SF_SELFTEST=1`): its
//! checks of every port on workerd's real bindings, the `waitUntil` marker, the
//! queue consumer's D1 rows and the dead-letter records it keeps in R2. The cron
//! handler is reached through wrangler's `/__scheduled` (`--test-scheduled`).

use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use serde_json::{json, Value};

use crate::http::{request, Response};
use crate::{ensure, expect_json, expect_not_found, CaseResult, Report};

const SELFTEST: &str = "/__sf_selftest";
/// The dev environment's queues (wrangler.toml and the degraded config of scripts/worker.sh).
const EVENTS_QUEUE: &str = "sanfrancisco-events-dev";
const DEAD_LETTER_QUEUE: &str = "sanfrancisco-dead-letter-dev";

fn get(base: &str, path: &str) -> Result<Response, String> {
    request(base, "GET", path, &[], b"")
}

fn body_text(res: &Response) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// Calls `GET path` up to `tries` times, `every` apart, until `done` holds for
/// the JSON body; returns the last body (or the last transport error).
fn poll(
    base: &str,
    path: &str,
    tries: u32,
    every: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    let mut last = Err(format!("no answer from {path}"));
    for i in 0..tries {
        if i > 0 {
            sleep(every);
        }
        last = get(base, path).map(|r| r.json());
        if matches!(&last, Ok(v) if done(v)) {
            break;
        }
    }
    last
}

/// What one full self-test run answered.
struct SelfTest {
    status: u16,
    body: Value,
    raw: String,
}

impl SelfTest {
    fn run(base: &str) -> Result<Self, String> {
        let res = get(base, SELFTEST)?;
        Ok(Self {
            status: res.status,
            body: res.json(),
            raw: body_text(&res),
        })
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.body[name].as_str().filter(|s| !s.is_empty())
    }

    fn checks(&self) -> &[Value] {
        self.body["checks"].as_array().map_or(&[], Vec::as_slice)
    }
}

/// Before the contract suite, on a fresh Worker: the cron handler, the port
/// self-test and what it leaves behind (deferred task, D1 row, dead letter).
pub fn before_suite(base: &str, report: &mut Report) {
    report.record(
        "scheduled handler ran (cron 0 2 * * *)",
        get(base, "/__scheduled?cron=0+2+*+*+*").and_then(|r| {
            ensure(r.status == 200, || {
                format!("status {}: {}", r.status, body_text(&r))
            })
        }),
    );

    let st = match SelfTest::run(base) {
        Ok(st) => st,
        Err(e) => return report.record("port self-test", Err(e)),
    };
    // One reported case per port check, named like the self-test names them.
    for c in st.checks() {
        let name = format!(
            "port {}: {}",
            c["name"].as_str().unwrap_or("?"),
            c["detail"].as_str().unwrap_or("")
        );
        let ok = c["ok"] == true;
        report.record(name, ensure(ok, || "failed on the Worker".into()));
    }
    report.record(
        "port self-test answers 200",
        ensure(st.status == 200 && st.body["ok"] == true, || {
            format!("status {}: {}", st.status, st.raw)
        }),
    );
    let (Some(id), Some(event_id)) = (st.field("id"), st.field("eventRequestId")) else {
        return report.record(
            "port self-test names its run",
            Err(format!("no id/eventRequestId in {}", st.raw)),
        );
    };

    report.record("deferred task (waitUntil) ran after the response", {
        let want = json!({"deferred": true});
        poll(
            base,
            &format!("{SELFTEST}?deferred={id}"),
            50,
            Duration::from_millis(100),
            |v| *v == want,
        )
        .and_then(|v| ensure(v == want, || format!("marker not written: {v}")))
    });

    report.record(
        "queue: a rejected message is acked and dead-lettered in R2",
        {
            let path = format!("{SELFTEST}?dead-letter=selftest-bad-{id}");
            poll(base, &path, 100, Duration::from_millis(200), |v| {
                v["deadLetter"]["key"].is_string()
            })
            .and_then(|v| {
                let dl = &v["deadLetter"];
                let reason = dl["reason"].as_str().unwrap_or("");
                ensure(
                    dl["queue"] == EVENTS_QUEUE && reason.contains("not a canonical agent id"),
                    || format!("no dead-letter record: {v}"),
                )
            })
        },
    );

    report.record(
        format!("queue: SF_EVENTS producer -> consumer -> D1 row {event_id}"),
        poll(
            base,
            &format!("{SELFTEST}?event={event_id}"),
            15,
            Duration::from_secs(1),
            |v| v["event"].is_object(),
        )
        .and_then(|v| {
            ensure(
                v["event"] == json!({"requestId": event_id, "agentId": "debug.grantProbe"}),
                || format!("no copilot_events_v1 row for {event_id} after 15 tries: {v}"),
            )
        }),
    );
}

/// After the contract suite: its `/v1/execute` calls emitted interaction events,
/// which the consumer files in D1.
pub fn after_suite(base: &str, report: &mut Report) {
    let filed = |v: &Value| v["count"].as_u64().is_some_and(|n| n > 0);
    report.record(
        "queue: /v1/execute events filed in D1 by the consumer",
        poll(
            base,
            &format!("{SELFTEST}?events=other"),
            15,
            Duration::from_secs(1),
            filed,
        )
        .and_then(|v| {
            ensure(filed(&v), || {
                format!("no copilot_events_v1 row from the suite's /v1/execute calls: {v}")
            })
        }),
    );
}

/// A Worker with R2 and the queues only (no KV, D1 or Durable Object): requests
/// that need none of them work, the ports name what is missing, and an event the
/// consumer cannot file (D1 absent, so Retry) ends, after its retries, in the
/// dead-letter queue and from there in R2.
pub fn degraded(base: &str, report: &mut Report) {
    report.record(
        "degraded: GET /healthz is 200",
        get(base, "/healthz").and_then(|r| expect_json(&r, 200)),
    );
    report.record(
        "degraded: unknown route is the contract 404",
        get(base, "/nope").and_then(|r| expect_not_found(&r)),
    );
    let st = match SelfTest::run(base) {
        Ok(st) => st,
        Err(e) => return report.record("degraded: port self-test", Err(e)),
    };
    let check = |name: &str| st.checks().iter().find(|c| c["name"] == name).cloned();
    let names_missing = |name: &str, binding: &str| {
        check(name).is_some_and(|c| {
            c["ok"] == false
                && c["detail"].as_str().is_some_and(|d| {
                    d.contains(&format!("{name} binding `{binding}` is not available"))
                })
        })
    };
    report.record(
        "degraded: ports name the missing bindings, R2 still works",
        ensure(
            names_missing("kv", "SF_KV")
                && names_missing("sql", "SF_D1")
                && names_missing("counter", "SF_BUDGET_COUNTER")
                && check("blob").is_some_and(|c| c["ok"] == true),
            || st.raw.clone(),
        ),
    );
    let Some(event_id) = st.field("eventRequestId") else {
        return report.record(
            "degraded: retry -> dead-letter queue",
            Err(format!("no eventRequestId in {}", st.raw)),
        );
    };
    report.record(
        "degraded: an event that kept failing was retried, dead-lettered and archived in R2",
        poll(
            base,
            &format!("{SELFTEST}?dead-letter={event_id}"),
            150,
            Duration::from_millis(200),
            |v| v["deadLetter"]["key"].is_string(),
        )
        .and_then(|v| {
            let dl = &v["deadLetter"];
            ensure(
                dl["queue"] == DEAD_LETTER_QUEUE && dl["reason"] == "retries exhausted",
                || format!("no archived record for {event_id}: {v}"),
            )
        }),
    );
}

/// The host's log has no Rust panic and no wasm trap.
pub fn no_panic_in(log: &Path) -> CaseResult {
    let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("panicked") || l.contains("runtimeerror: unreachable")
        })
        .take(3)
        .collect();
    ensure(bad.is_empty(), || bad.join("\n"))
}
