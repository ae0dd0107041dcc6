//! The learning loop's review queue, jobs run now and example banks (issue
//! 11), black-box: two `sdr.copilot` interactions of one session through
//! `/v1/execute`, a signed `signup_completed` for the second (its session is
//! marked converted and re-scored after the response), reviewer labels, then
//! `update-example-banks` through `POST /admin/v1/jobs/{job}/run`. The target
//! must set [`crate::approvals::ADMIN_TOKEN`] in `SF_ADMIN_TOKEN`.

use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sf_core::grants::{mint_grant, outcome_signature};

use crate::approvals::ADMIN_TOKEN;
use crate::http::{json_call, request};
use crate::mock::{MockUpstream, Script};
use crate::{ensure, CaseResult};

pub type ReviewCase<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

const AGENT: &str = "sdr.copilot";

/// The ids of one run (unique per run, so a kept state does not confuse it).
struct Run {
    session: String,
    first: String,
    second: String,
}

impl Run {
    fn new() -> Self {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Run {
            session: format!("conf-review-{n}"),
            first: format!("conf-review-a-{n}"),
            second: format!("conf-review-b-{n}"),
        }
    }
}

fn admin(base: &str, method: &str, path: &str, body: Value) -> Result<(u16, Value), String> {
    json_call(base, method, path, Some(ADMIN_TOKEN), &body)
}

fn execute(base: &str, secret: &str, run: &Run, id: &str, message: &str) -> CaseResult {
    let grant = json!({
        "v": 1, "iss": "paris", "jti": format!("j-{id}"),
        "sub": {"kind": "anon", "sessionId": run.session},
        "exp": 4_102_444_800u64,
        "caps": [format!("agent:{AGENT}")],
        "budgets": {"maxTokens": 200, "timeoutMs": 10000, "maxRequests": 1},
        "mode": "editor",
        "ai": {
            "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
            "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
            "allowProviderChoice": false, "allowModelChoice": false
        },
        "trace": {"sessionId": run.session, "envStage": "local"}
    });
    let body = json!({"grant": mint_grant(&grant, secret), "agentId": AGENT,
        "input": {"sessionId": run.session, "message": message}, "trace": {"requestId": id}});
    let (s, v) = json_call(base, "POST", "/v1/execute", None, &body)?;
    ensure(s == 200 && v["requestId"] == id, || {
        format!("execute {id}: {s} {v}")
    })
}

/// The review items of this run's session, once `done` holds (up to 30 s:
/// events reach the index through the queue).
fn items_when(
    base: &str,
    run: &Run,
    done: impl Fn(&[Value]) -> bool,
) -> Result<Vec<Value>, String> {
    let started = Instant::now();
    loop {
        let (s, v) = admin(
            base,
            "GET",
            &format!("/admin/v1/review?agentId={AGENT}&status=all&limit=50"),
            Value::Null,
        )?;
        if s != 200 {
            return Err(format!("review list: {s} {v}"));
        }
        let mine: Vec<Value> = v["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|i| i["sessionId"] == run.session.as_str())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if done(&mine) {
            return Ok(mine);
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("after 30 s, this run's review items: {mine:?}"));
        }
        sleep(Duration::from_millis(300));
    }
}

fn item<'v>(items: &'v [Value], id: &str) -> &'v Value {
    items
        .iter()
        .find(|i| i["requestId"] == id)
        .unwrap_or(&Value::Null)
}

fn review(base: &str, secret: &str, mock: &MockUpstream, run: &Run) -> CaseResult {
    mock.reset(Script {
        content: r#"{"message":"Hi!","next":"continue"}"#.into(),
        status: 200,
        delay_ms: 0,
    });
    execute(base, secret, run, &run.first, "first question")?;
    execute(base, secret, run, &run.second, "second question")?;
    let items = items_when(base, run, |i| i.len() == 2)?;
    // Newest first, with the raw log's input and output.
    let ids: Vec<&str> = items
        .iter()
        .filter_map(|i| i["requestId"].as_str())
        .collect();
    ensure(ids == [run.second.as_str(), run.first.as_str()], || {
        format!("order {ids:?}")
    })?;
    let a = item(&items, &run.first);
    ensure(
        a["agentId"] == AGENT
            && a["input"] == json!({"sessionId": run.session, "message": "first question"})
            && a["output"]["message"] == "Hi!"
            && a["ops"].is_null()
            && a["outcomes"] == json!([])
            && a["label"].is_null()
            && a["note"].is_null()
            && a["widgetType"].is_null()
            && a["occurredAtMs"].is_u64(),
        || format!("item {a}"),
    )?;
    // The conversion of the second marks the session and re-scores it:
    // first = continued 0.3 + converted 0.4, second = converted 0.4.
    let body = json!({"v":1,"kind":"sf.command","command":"ai.outcome.attach","payload":{
        "requestId": run.second, "sessionId": run.session, "event": "signup_completed",
        "occurredAtMs": a["occurredAtMs"].as_u64().unwrap_or(0) + 60_000}})
    .to_string();
    let sig = outcome_signature(secret, body.as_bytes());
    let res = request(
        base,
        "POST",
        "/v1/outcome",
        &[("x-paris-signature", &sig)],
        body.as_bytes(),
    )?;
    ensure(res.status == 200 && res.body == br#"{"ok":true}"#, || {
        format!("outcome: {} {}", res.status, res.json())
    })?;
    let items = items_when(base, run, |i| {
        item(i, &run.first)["score"] == json!(0.7) && item(i, &run.second)["score"] == json!(0.4)
    })?;
    ensure(
        item(&items, &run.second)["outcomes"] == json!(["signup_completed"]),
        || format!("outcomes {}", item(&items, &run.second)),
    )?;

    // Labels.
    let (s, v) = admin(
        base,
        "POST",
        &format!("/admin/v1/review/{}", run.first),
        json!({"label": "golden", "note": "clear answer"}),
    )?;
    ensure(
        s == 200
            && v["requestId"] == run.first.as_str()
            && v["label"] == "golden"
            && v["note"] == "clear answer"
            && v["labeledAtMs"].is_u64(),
        || format!("label: {s} {v}"),
    )?;
    let (s, _) = admin(
        base,
        "POST",
        &format!("/admin/v1/review/{}", run.second),
        json!({"label": "bad"}),
    )?;
    ensure(s == 200, || format!("label bad: {s}"))?;
    let (s, v) = admin(
        base,
        "POST",
        "/admin/v1/review/conf-review-no-such-id",
        json!({"label": "good"}),
    )?;
    ensure(
        s == 404
            && v == json!({"error": {"code": "BAD_REQUEST",
                "message": "No interaction with requestId \"conf-review-no-such-id\""}}),
        || format!("unknown id: {s} {v}"),
    )?;
    let (s, v) = admin(
        base,
        "POST",
        &format!("/admin/v1/review/{}", run.first),
        json!({"label": "perfect"}),
    )?;
    ensure(
        s == 400
            && v["error"]["issues"]
                == json!([{"path": "label", "message": "Expected one of good, bad, golden"}]),
        || format!("bad label: {s} {v}"),
    )?;
    let (s, v) = admin(
        base,
        "GET",
        &format!("/admin/v1/review?agentId={AGENT}&status=golden"),
        Value::Null,
    )?;
    let golden = v["items"].as_array().is_some_and(|a| {
        a.iter()
            .any(|i| i["requestId"] == run.first.as_str() && i["note"] == "clear answer")
    });
    ensure(s == 200 && golden && v["total"].as_u64() >= Some(1), || {
        format!("golden filter: {s} {v}")
    })?;
    let (s, v) = admin(
        base,
        "GET",
        &format!("/admin/v1/review?agentId={AGENT}&status=all&limit=1"),
        Value::Null,
    )?;
    ensure(
        s == 200
            && v["items"].as_array().map(Vec::len) == Some(1)
            && v["nextCursor"].is_string()
            && v["total"].as_u64() >= Some(2),
        || format!("page: {s} {v}"),
    )?;
    let (s, _) = json_call(base, "GET", "/admin/v1/review", None, &Value::Null)?;
    ensure(s == 401, || format!("no token: {s}"))
}

fn jobs_and_bank(base: &str, run: &Run) -> CaseResult {
    let (s, v) = admin(
        base,
        "POST",
        "/admin/v1/jobs/update-example-banks/run",
        Value::Null,
    )?;
    ensure(
        s == 200 && v["job"] == "update-example-banks" && v["ok"] == true,
        || format!("run: {s} {v}"),
    )?;
    let bank = v["report"]["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|b| b["agentId"] == AGENT))
        .cloned()
        .unwrap_or(Value::Null);
    let has = |k: &str, id: &str| {
        bank[k]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == id))
    };
    ensure(
        has("golden", &run.first)
            && has("bank", &run.first)
            && !has("top", &run.second)
            && !has("bank", &run.second)
            && bank["kvKey"] == "learning:bank:sdr.copilot"
            && bank["tokens"].as_u64() <= bank["tokenBudget"].as_u64(),
        || format!("the golden example is in the bank, the bad one is not: {bank}"),
    )?;
    let (s, v) = admin(
        base,
        "POST",
        "/admin/v1/jobs/score-interactions/run",
        Value::Null,
    )?;
    ensure(
        s == 200 && v["ok"] == true && v["report"]["scored"].is_u64(),
        || format!("score-interactions: {s} {v}"),
    )?;
    let (s, v) = admin(base, "POST", "/admin/v1/jobs/reindex/run", Value::Null)?;
    ensure(
        s == 404
            && v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("`sf jobs list`")),
        || format!("unknown job: {s} {v}"),
    )?;
    let (s, _) = json_call(
        base,
        "POST",
        "/admin/v1/jobs/retention/run",
        None,
        &Value::Null,
    )?;
    ensure(s == 401, || format!("no token: {s}"))
}

pub fn cases<'a>(base: &'a str, secret: &'a str, mock: &'a MockUpstream) -> Vec<ReviewCase<'a>> {
    let run = std::rc::Rc::new(Run::new());
    let r2 = std::rc::Rc::clone(&run);
    vec![
        (
            "learning review queue: list, conversion re-score, labels, 404",
            Box::new(move || review(base, secret, mock, &run)),
        ),
        (
            "learning jobs run now: the example bank holds the golden interaction, not the bad one",
            Box::new(move || jobs_and_bank(base, &r2)),
        ),
    ]
}
