//! Checks only the Cloudflare Worker answers (`sf conformance --host-kind worker`
//! and `--host-kind worker-degraded`), run by scripts/worker.sh e2e against
//! `wrangler dev`.
//!
//! They drive the Worker's port self-test (`GET /__sf_selftest`, compiled in
//! with sf-worker's `selftest` feature and enabled by `SF_SELFTEST=1`): its
//! checks of every port on workerd's real bindings, the `waitUntil` marker, the
//! queue consumer's D1 rows and the dead-letter records it keeps in R2. The cron
//! handler is reached through wrangler's `/__scheduled` (`--test-scheduled`).
//! [`queue_jobs`] puts an l10n job and a preview command on the queues Paris
//! writes to (`POST /__sf_selftest/enqueue`, e2e-only producers) and checks
//! what the Worker's consumer did with them.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sf_core::grants::mint_grant;

use crate::http::{request, Response};
use crate::mock::{MockUpstream, Script};
use crate::{ensure, expect_json, CaseResult, Report};

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
    // Boot-time validation: every route answers 500 naming the missing
    // bindings (SF_R2 is bound here) with their wrangler.toml snippets.
    for path in ["/healthz", "/nope"] {
        report.record(
            if path == "/healthz" {
                "degraded: GET /healthz is a 500 naming SF_D1 and SF_KV with their snippets"
            } else {
                "degraded: an unknown route gets the same 500"
            },
            get(base, path).and_then(|r| {
                expect_json(&r, 500)?;
                let v = r.json();
                let issues: Vec<&str> = v["error"]["issues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["path"].as_str())
                    .collect();
                ensure(
                    issues == ["bindings.SF_D1", "bindings.SF_KV"]
                        && v["error"]["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("SF_D1") && m.contains("SF_KV")),
                    || format!("{path}: {v}"),
                )
            }),
        );
    }
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

/// What no earlier run has used on the target.
fn fresh(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}{nanos}")
}

/// `POST /__sf_selftest/enqueue?queue=…`: the self-test puts `msg` on one of the
/// producers only the e2e's dev config binds; the Worker's consumer gets it.
fn enqueue(base: &str, queue: &str, msg: &Value) -> CaseResult {
    let res = request(
        base,
        "POST",
        &format!("{SELFTEST}/enqueue?queue={queue}"),
        &[("content-type", "application/json")],
        msg.to_string().as_bytes(),
    )?;
    ensure(res.status == 202, || {
        format!("enqueue on {queue}: {} {}", res.status, body_text(&res))
    })
}

const L10N_REPORT: &str = "/api/l10n/jobs/report";

/// An `l10n.instance.v1` job delivered on `instance-l10n-generate-cloud-dev`:
/// the consumer reads Tokyo and Paris on the mock, calls the model, writes the
/// overlay once and reports `running` then `succeeded` (CONTRACT 7.4).
fn l10n_job_on_queue(base: &str, secret: &str, mock: &MockUpstream) -> CaseResult {
    let (ws, public_id, widget) = (fresh("ws-q"), fresh("wgt_q"), fresh("faqq"));
    let instance = format!("/api/workspaces/{ws}/instance/{public_id}?subject=workspace");
    let overlay =
        format!("/api/workspaces/{ws}/instances/{public_id}/layers/locale/fr?subject=workspace");
    mock.clear_routes();
    mock.echo_batches(false);
    mock.reset(Script {
        content: json!([
            {"path": "title", "value": "Questions fréquentes"},
            {"path": "sections.0.title", "value": "Facturation"},
            {"path": "sections.0.faqs.0.question", "value": "Puis-je payer à l'année ?"}
        ])
        .to_string(),
        status: 200,
        delay_ms: 0,
    });
    mock.route(
        "GET",
        &format!("/widgets/{widget}/localization.json"),
        200,
        &json!({"v": 1, "paths": [
            {"path": "title", "type": "string"},
            {"path": "sections.*.title", "type": "string"},
            {"path": "sections.*.faqs.*.question", "type": "string"}
        ]})
        .to_string(),
    );
    let config = json!({"title": "Frequently asked", "sections": [
        {"title": "Billing", "faqs": [{"question": "Can I pay yearly?"}]}
    ]});
    mock.route(
        "GET",
        &instance,
        200,
        &json!({"widgetType": widget, "config": config, "updatedAt": "2026-11-30T10:00:00.000Z"})
            .to_string(),
    );
    mock.route("GET", &overlay, 404, r#"{"error":"not found"}"#);
    mock.route("PUT", &overlay, 200, r#"{"ok":true}"#);
    mock.route("POST", L10N_REPORT, 200, r#"{"ok":true}"#);
    let grant = mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": fresh("jti-q"),
            "sub": {"kind": "service", "serviceId": "paris.l10n"},
            "exp": 4_102_444_800u64,
            "caps": ["agent:l10n.instance.v1"],
            "budgets": {"maxTokens": 900, "timeoutMs": 30000, "maxRequests": 1},
            "mode": "ops",
            "ai": {
                "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false
            },
            "trace": {"sessionId": "s-q", "instancePublicId": public_id}
        }),
        secret,
    );
    let job = json!({
        "v": 1, "agentId": "l10n.instance.v1", "grant": grant, "publicId": public_id,
        "widgetType": widget, "locale": "fr", "baseUpdatedAt": "2026-11-30T10:00:00.000Z",
        "kind": "curated", "workspaceId": ws
    });
    enqueue(base, "l10n", &job)?;

    let statuses = || -> Vec<Value> {
        mock.seen()
            .iter()
            .filter(|s| s.method == "POST" && s.path == L10N_REPORT)
            .filter_map(|s| serde_json::from_str::<Value>(&s.body).ok())
            .filter(|r| r["publicId"] == public_id.as_str())
            .map(|r| r["status"].clone())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while statuses().len() < 2 && Instant::now() < deadline {
        sleep(Duration::from_millis(100));
    }
    let seen = mock.seen();
    let puts: Vec<_> = seen
        .iter()
        .filter(|s| s.method == "PUT" && s.path == overlay)
        .collect();
    let put: Value = puts
        .first()
        .and_then(|p| serde_json::from_str(&p.body).ok())
        .unwrap_or_default();
    let ops = put["ops"].to_string();
    let got = statuses();
    ensure(
        got == [json!("running"), json!("succeeded")]
            && puts.len() == 1
            && put["source"] == "agent"
            && ops.contains("Facturation")
            && seen.iter().all(|s| !s.body.contains(&grant)),
        || {
            format!(
                "after 20 s: reports {got:?}, {} overlay PUT(s) {ops}, requests: {:?}",
                puts.len(),
                seen.iter()
                    .map(|s| format!("{} {}", s.method, s.path))
                    .collect::<Vec<_>>()
            )
        },
    )
}

/// A `personalization.preview.enqueue` `sf.command` delivered on
/// `paris-sf-commands-cloud-dev`: the consumer runs the job, whose record the
/// status route then serves (CONTRACT 7.6); the page host is `.invalid`, so
/// no page is read, and the mock model answers the overrides.
fn preview_command_on_queue(
    base: &str,
    secret: &str,
    bearer: &str,
    mock: &MockUpstream,
) -> CaseResult {
    const PREVIEW: &str = "agent.personalization.preview.v1";
    mock.reset(Script {
        content: "heroTitle\tBaked fresh every morning\nctaText\tVisit us".into(),
        status: 200,
        delay_ms: 0,
    });
    let job = fresh("conf-q-p-");
    let grant = mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": fresh("jti-qp"),
            "sub": {"kind": "anon", "sessionId": "conf-pers-q"}, "exp": 4_102_444_800u64,
            "caps": [format!("agent:{PREVIEW}")],
            "budgets": {"maxTokens": 400, "timeoutMs": 20000, "maxRequests": 2}, "mode": "editor",
            "ai": {"profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false}
        }),
        secret,
    );
    let cmd = json!({"v": 1, "kind": "sf.command", "command": "personalization.preview.enqueue",
        "payload": {"agentId": PREVIEW, "grant": grant, "url": "https://acme.invalid/",
            "allowedOverrides": ["heroTitle", "ctaText"], "jobId": job}});
    enqueue(base, "commands", &cmd)?;

    let auth = format!("Bearer {bearer}");
    let path = format!("/v1/personalization/preview/{job}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let last = loop {
        let res = request(base, "GET", &path, &[("authorization", auth.as_str())], b"")?;
        let b = res.json();
        let ended = res.status == 200 && (b["status"] == "completed" || b["status"] == "failed");
        if ended || Instant::now() > deadline {
            break (res.status, b);
        }
        sleep(Duration::from_millis(100));
    };
    let (status, b) = last;
    ensure(
        status == 200
            && b["status"] == "completed"
            && b["result"]["copyOverrides"]
                == json!({"heroTitle": "Baked fresh every morning", "ctaText": "Visit us"}),
        || format!("job {job} after 20 s: {status} {b}"),
    )
}

/// The two queue job kinds the Worker consumes besides events, delivered on
/// their queues under `wrangler dev` (not over HTTP).
pub fn queue_jobs(
    base: &str,
    secret: &str,
    bearer: &str,
    mock: &MockUpstream,
    report: &mut Report,
) {
    report.record(
        "queue: l10n.instance.v1 job on instance-l10n-generate-cloud-dev -> overlay PUT, reports running then succeeded",
        l10n_job_on_queue(base, secret, mock),
    );
    report.record(
        "queue: personalization.preview.enqueue sf.command on paris-sf-commands-cloud-dev -> job completed",
        preview_command_on_queue(base, secret, bearer, mock),
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
