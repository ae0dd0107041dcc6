//! The approval flow over the in-memory host: rules, the day's budget under
//! 200 concurrent approvals, replays and conflicts, the model path, human
//! decisions, expiry, halts and reports.

use futures_executor::block_on;
use serde_json::{json, Value};

use sf_approvals::{admin, api};
use sf_core::http::RouteCtx;
use sf_core::ports::SqlStatement;
use sf_core::testkit::{Canned, FakeHost};

const TOKEN: &str = "agency-token";
const MODEL_URL: &str = "http://model.test/v1/chat/completions";

fn host() -> FakeHost {
    FakeHost::new().with_var("SF_APPROVALS_AGENCY_TOKEN", TOKEN)
}

fn with_model(reply: &str) -> FakeHost {
    let h = host()
        .with_var("DEEPSEEK_API_KEY", "k")
        .with_var("DEEPSEEK_BASE_URL", "http://model.test");
    let body = json!({"model": "deepseek-chat", "choices": [{"message": {"role": "assistant", "content": reply}}],
                      "usage": {"prompt_tokens": 10, "completion_tokens": 10}});
    h.route(MODEL_URL, Canned::json(&body));
    h
}

fn cx(
    method: &str,
    path: &str,
    param: Option<&str>,
    token: Option<&str>,
    body: &Value,
) -> RouteCtx {
    let mut b = http::Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let req = b.body(body.to_string().into_bytes()).expect("request");
    RouteCtx {
        req,
        param: param.map(str::to_owned),
        started_ms: 0,
    }
}

fn answer(res: sf_core::http::RouteOut) -> (u16, Value) {
    match res {
        Ok(r) => (
            r.status().as_u16(),
            serde_json::from_slice(r.body()).unwrap_or(Value::Null),
        ),
        Err(e) => (e.status, e.to_json()),
    }
}

fn task(id: &str, kind: &str, cost: f64) -> Value {
    json!({"taskId": id, "type": kind, "description": "Implement new feature X", "estimatedCost": cost, "agentType": "CodeGen"})
}

fn approve(h: &FakeHost, body: &Value) -> (u16, Value) {
    answer(block_on(api::approve_route(
        h,
        cx("POST", "/api/approve", None, Some(TOKEN), body),
    )))
}

fn audit_events(h: &FakeHost) -> Vec<String> {
    let stmts: Vec<SqlStatement> = h.sql.statements.borrow().clone();
    stmts
        .iter()
        .filter(|s| s.sql.starts_with("INSERT INTO approvals_audit"))
        .filter_map(|s| match &s.params[5] {
            sf_core::ports::SqlValue::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn tokens_are_required_and_checked() {
    let h = host();
    let b = task("t1", "code", 1.0);
    let (s, _) = answer(block_on(api::approve_route(
        &h,
        cx("POST", "/api/approve", None, None, &b),
    )));
    assert_eq!(s, 401);
    let (s, _) = answer(block_on(api::approve_route(
        &h,
        cx("POST", "/api/approve", None, Some("nope"), &b),
    )));
    assert_eq!(s, 403);
    let (s, v) = answer(block_on(api::approve_route(
        &FakeHost::new(),
        cx("POST", "/api/approve", None, Some(TOKEN), &b),
    )));
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (500, Some("Missing SF_APPROVALS_AGENCY_TOKEN"))
    );
}

#[test]
fn deterministic_rules_decide_without_a_model() {
    let h = host();
    let (s, v) = approve(&h, &task("blocked", "financial_transactions", 1.0));
    assert_eq!(
        (s, v["status"].as_str(), v["approved"].as_bool()),
        (200, Some("denied"), Some(false))
    );
    let (_, v) = approve(&h, &task("huge", "code", 60.0));
    assert_eq!(v["status"], "denied");
    let (_, v) = approve(&h, &task("big", "code", 12.0));
    assert_eq!(v["status"], "pending");
    assert!(v["approvalId"]
        .as_str()
        .is_some_and(|id| id.starts_with("apr-")));
    let (_, v) = approve(&h, &task("del", "data_deletion", 0.5));
    assert_eq!(v["status"], "pending");
    assert_eq!(
        h.fetch.seen.borrow().len(),
        0,
        "no model call for rule decisions"
    );
    assert_eq!(audit_events(&h), ["decision"; 4]);
    assert_eq!(approve(&h, &json!({"taskId": "x"})).0, 400);
    assert_eq!(
        approve(
            &h,
            &json!({"taskId": "a b", "type": "code", "estimatedCost": 1})
        )
        .0,
        400
    );
    assert_eq!(
        approve(
            &h,
            &json!({"taskId": "x", "type": "code", "estimatedCost": -1})
        )
        .0,
        400
    );
}

#[test]
fn the_grey_zone_goes_to_the_model_and_its_bar() {
    let h = with_model(
        r#"{"approve":true,"risk":0.1,"reason":"Within budget and aligned with goals","maxDurationMinutes":60,"monitoringLevel":"detailed"}"#,
    );
    let (s, v) = approve(&h, &task("task-123", "code", 5.5));
    assert_eq!((s, v["status"].as_str()), (200, Some("approved")));
    assert_eq!(v["reason"], "Within budget and aligned with goals");
    assert_eq!(v["constraints"]["maxDuration"], "1 hour");
    assert_eq!(
        (v["monitoringLevel"].as_str(), v["costLimit"].as_f64()),
        (Some("detailed"), Some(5.5))
    );
    assert_eq!(h.fetch.seen.borrow().len(), 1);

    let h = with_model(r#"{"approve":true,"risk":0.8,"reason":"touches production"}"#);
    let (_, v) = approve(&h, &task("risky", "code", 5.5));
    assert_eq!(v["status"], "denied", "above the balanced bar of 0.4");
    let (_, st) = answer(block_on(api::status_route(
        &h,
        cx("GET", "/api/status", None, Some(TOKEN), &Value::Null),
    )));
    assert_eq!(st["spentUsd"], 0.0, "a denial releases its reservation");
}

#[test]
fn a_model_failure_leaves_the_task_pending() {
    // No model configured, and a model that answers garbage: both fall back to a human.
    for h in [
        host()
            .with_var("DEEPSEEK_API_KEY", "k")
            .with_var("DEEPSEEK_BASE_URL", "http://down.test"),
        with_model("sure!"),
    ] {
        let (_, v) = approve(&h, &task("t", "code", 2.0));
        assert_eq!(
            (v["status"].as_str(), v["decidedBy"].as_str()),
            (Some("pending"), Some("fallback"))
        );
    }
}

#[test]
fn two_hundred_concurrent_approvals_spend_at_most_the_budget() {
    let h = with_model(r#"{"approve":true,"risk":0.1,"reason":"ok"}"#);
    let futs = (0..200).map(|i| {
        let body = task(&format!("par-{i}"), "research", 0.75);
        let h = &h;
        async move {
            answer(
                api::approve_route(h, cx("POST", "/api/approve", None, Some(TOKEN), &body)).await,
            )
        }
    });
    let results = block_on(futures_util::future::join_all(futs));
    let approved = results
        .iter()
        .filter(|(_, v)| v["status"] == "approved")
        .count();
    // $50 / $0.75 = 66.67: exactly 66 fit.
    assert_eq!(approved, 66);
    let (_, st) = answer(block_on(api::status_route(
        &h,
        cx("GET", "/api/status", None, Some(TOKEN), &Value::Null),
    )));
    assert!(st["spentUsd"].as_f64().unwrap_or(99.0) <= 50.0, "{st}");
    assert_eq!(st["counts"]["approved"], 66);
    assert_eq!(st["counts"]["denied"], 134);
}

#[test]
fn replays_return_the_same_decision_and_other_bodies_conflict() {
    let h = with_model(r#"{"approve":true,"risk":0.1,"reason":"ok"}"#);
    let b = task("same", "code", 3.0);
    let first = approve(&h, &b);
    assert_eq!(approve(&h, &b), first);
    assert_eq!(h.fetch.seen.borrow().len(), 1, "a replay asks no model");
    assert_eq!(approve(&h, &task("same", "code", 4.0)).0, 409);
}

#[test]
fn humans_decide_pending_approvals_until_they_expire() {
    let h = host();
    let (_, p) = approve(&h, &task("big", "code", 20.0));
    let id = p["approvalId"].as_str().unwrap_or_default().to_owned();
    let (s, list) = answer(block_on(admin::list_route(
        &h,
        cx(
            "GET",
            "/admin/v1/approvals?status=pending",
            None,
            None,
            &Value::Null,
        ),
    )));
    assert_eq!(
        (s, list["approvals"][0]["approvalId"].as_str()),
        (200, Some(id.as_str()))
    );
    let decide = |d: &str| {
        answer(block_on(admin::decide_route(
            &h,
            cx(
                "POST",
                "/x",
                Some(&id),
                None,
                &json!({"decision": d, "note": "ok by Miles"}),
            ),
        )))
    };
    let (s, v) = decide("approve");
    assert_eq!(
        (s, v["status"].as_str(), v["reason"].as_str()),
        (200, Some("approved"), Some("ok by Miles"))
    );
    assert_eq!(decide("deny").0, 409, "decided once");
    assert_eq!(
        approve(&h, &task("big", "code", 20.0)).1["status"],
        "approved",
        "the replay sees the human decision"
    );

    let (_, p2) = approve(&h, &task("late", "data_deletion", 1.0));
    h.clock.now.set(h.clock.now.get() + 24 * 3_600_000 + 1);
    let (_, v) = approve(&h, &task("late", "data_deletion", 1.0));
    assert_eq!(
        (v["status"].as_str(), v["decidedBy"].as_str()),
        (Some("denied"), Some("expiry"))
    );
    let id2 = p2["approvalId"].as_str().unwrap_or_default().to_owned();
    let (s, _) = answer(block_on(admin::decide_route(
        &h,
        cx(
            "POST",
            "/x",
            Some(&id2),
            None,
            &json!({"decision": "approve"}),
        ),
    )));
    assert_eq!(s, 409, "an expired approval is no longer pending");
    assert!(audit_events(&h).iter().any(|e| e == "expiry"));
    assert!(audit_events(&h).iter().any(|e| e == "human_decision"));
}

#[test]
fn halts_stop_tasks_and_reports_settle_the_spend() {
    let h = with_model(r#"{"approve":true,"risk":0.1,"reason":"ok"}"#);
    approve(&h, &task("run", "code", 5.0));
    let rep = |id: &str, c: f64| {
        answer(block_on(api::report_route(
            &h,
            cx(
                "POST",
                "/r",
                Some(id),
                Some(TOKEN),
                &json!({"actualCost": c}),
            ),
        )))
    };
    assert_eq!(rep("run", 2.0).0, 200);
    assert_eq!(rep("run", 2.0).0, 409, "reported once");
    let (_, st) = answer(block_on(api::status_route(
        &h,
        cx("GET", "/api/status", None, Some(TOKEN), &Value::Null),
    )));
    assert_eq!(st["spentUsd"], 2.0);

    approve(&h, &task("runaway", "code", 5.0));
    let (s, v) = answer(block_on(api::halt_route(
        &h,
        cx(
            "POST",
            "/api/halt",
            None,
            Some(TOKEN),
            &json!({"taskId": "runaway", "reason": "Cost exceeded budget"}),
        ),
    )));
    assert_eq!((s, v["halted"].as_bool()), (200, Some(true)));
    let (_, t) = answer(block_on(api::task_route(
        &h,
        cx("GET", "/t", Some("runaway"), Some(TOKEN), &Value::Null),
    )));
    assert_eq!(
        (t["stop"].as_bool(), t["haltReason"].as_str()),
        (Some(true), Some("Cost exceeded budget"))
    );
    assert_eq!(rep("runaway", 1.0).0, 409);
    assert_eq!(approve(&h, &task("runaway", "code", 5.0)).0, 409);
    let (_, t) = answer(block_on(api::task_route(
        &h,
        cx("GET", "/t", Some("run"), Some(TOKEN), &Value::Null),
    )));
    assert_eq!(t["stop"], false);
    assert!(audit_events(&h).iter().any(|e| e == "halt"));
}

#[test]
fn chat_answers_from_the_status_and_remembers_the_session() {
    let h = host();
    approve(&h, &task("big", "code", 20.0));
    let say = |m: &str| {
        answer(block_on(api::chat_route(
            &h,
            cx(
                "POST",
                "/api/chat",
                None,
                Some(TOKEN),
                &json!({"message": m, "sessionKey": "user:miles:2026-02-18"}),
            ),
        )))
    };
    let (s, v) = say("What's the status of my projects?");
    assert_eq!(s, 200);
    assert!(
        v["reply"]
            .as_str()
            .is_some_and(|r| r.contains("1 awaiting a human: big")),
        "{v}"
    );
    let (_, v) = say("And now?");
    assert_eq!(v["turns"], 4);
    let ttl =
        h.kv.ttls
            .borrow()
            .get("approvals:chat:agency:user:miles:2026-02-18")
            .copied()
            .flatten();
    assert_eq!(ttl, Some(30 * 86_400));
}
