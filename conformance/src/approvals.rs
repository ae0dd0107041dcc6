//! Approvals cases (issue 15, runtime/approvals): the rules, replays, the
//! grey-zone model on the suite's mock (a chat completion), its timeout,
//! human decisions, halts, status and chat. The target must set the caller
//! token [`AGENCY_TOKEN`] in `SF_APPROVALS_AGENCY_TOKEN`, [`ADMIN_TOKEN`] in
//! `SF_ADMIN_TOKEN`, `SF_APPROVALS_MODEL_TIMEOUT_MS=1000`, and point
//! `DEEPSEEK_BASE_URL` at the mock (with some `DEEPSEEK_API_KEY`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::assert::ensure;
use crate::mock::{MockUpstream, Script};

pub const AGENCY_TOKEN: &str = "conformance-agency-token";
pub const ADMIN_TOKEN: &str = "conformance-admin-token";

pub use crate::assert::CaseResult;
pub type ApprovalsCase<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

struct Api<'a> {
    base: &'a str,
    run: String,
}

impl Api<'_> {
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<(u16, Value), String> {
        crate::http::json_call(self.base, method, path, token, body)
    }
    fn agency(&self, method: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
        self.call(method, path, Some(AGENCY_TOKEN), body)
    }
    fn task(&self, name: &str, kind: &str, cost: f64) -> Value {
        json!({"taskId": format!("{}-{name}", self.run), "type": kind, "description": "Implement new feature X",
               "estimatedCost": cost, "agentType": "CodeGen"})
    }
    fn approve(&self, body: &Value) -> Result<(u16, Value), String> {
        self.agency("POST", "/api/approve", body)
    }
}

fn status_is(got: &(u16, Value), status: &str) -> CaseResult {
    ensure(got.0 == 200 && got.1["status"] == status, || {
        format!("want 200 {status}, got {} {}", got.0, got.1)
    })
}

fn script(mock: &MockUpstream, content: &str, delay_ms: u64) {
    mock.reset(Script {
        content: content.into(),
        status: 200,
        delay_ms,
    });
}

const APPROVE: &str =
    r#"{"approve":true,"risk":0.1,"reason":"Within budget and aligned with goals"}"#;

pub fn cases<'a>(base: &'a str, mock: &'a MockUpstream) -> Vec<ApprovalsCase<'a>> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let api = std::rc::Rc::new(Api {
        base,
        run: format!("conf{nanos:x}"),
    });
    let a = |f: fn(&Api, &MockUpstream) -> CaseResult| {
        let api = api.clone();
        Box::new(move || f(&api, mock)) as Box<dyn Fn() -> CaseResult + 'a>
    };
    vec![
        (
            "approvals health and auth",
            a(|api, _| {
                let (s, v) = api.call("GET", "/health", None, &Value::Null)?;
                ensure(s == 200 && v["status"] == "ok", || {
                    format!("health: {s} {v}")
                })?;
                let b = api.task("auth", "code", 1.0);
                ensure(api.call("POST", "/api/approve", None, &b)?.0 == 401, || {
                    "no token must be 401".into()
                })?;
                ensure(
                    api.call("POST", "/api/approve", Some("wrong"), &b)?.0 == 403,
                    || "a wrong token must be 403".into(),
                )?;
                ensure(
                    api.call(
                        "GET",
                        "/admin/v1/approvals?status=pending",
                        Some(AGENCY_TOKEN),
                        &Value::Null,
                    )?
                    .0 == 403,
                    || "a caller token is not an admin token".into(),
                )?;
                ensure(
                    api.agency("POST", "/api/approve", &json!({"taskId": 1}))?.0 == 400,
                    || "a malformed body must be 400".into(),
                )
            }),
        ),
        (
            "approvals deterministic rules, replay and conflict",
            a(|api, _| {
                status_is(
                    &api.approve(&api.task("blocked", "financial_transactions", 1.0))?,
                    "denied",
                )?;
                status_is(&api.approve(&api.task("huge", "code", 500.0))?, "denied")?;
                let b = api.task("big", "code", 12.0);
                let first = api.approve(&b)?;
                status_is(&first, "pending")?;
                ensure(first.1["approvalId"].is_string(), || {
                    format!("pending without approvalId: {}", first.1)
                })?;
                ensure(api.approve(&b)? == first, || {
                    "a replay must return the same decision".into()
                })?;
                let other = api.approve(&api.task("big", "code", 13.0))?;
                ensure(other.0 == 409, || {
                    format!("a different body must be 409, got {}", other.0)
                })
            }),
        ),
        (
            "approvals grey zone through the model",
            a(|api, mock| {
                script(mock, APPROVE, 0);
                let before = mock.calls();
                let got = api.approve(&api.task("grey", "code", 1.5))?;
                status_is(&got, "approved")?;
                ensure(
                    got.1["approved"] == true
                        && got.1["reason"] == "Within budget and aligned with goals",
                    || format!("{}", got.1),
                )?;
                ensure(
                    got.1["constraints"]["maxDuration"] == "2 hours"
                        && got.1["monitoringLevel"] == "basic",
                    || format!("limits: {}", got.1),
                )?;
                ensure(mock.calls() == before + 1, || {
                    format!("want one model call, got {}", mock.calls() - before)
                })
            }),
        ),
        (
            "approvals model timeout leaves the task pending",
            a(|api, mock| {
                script(mock, APPROVE, 2_500);
                let got = api.approve(&api.task("slow", "code", 1.0));
                script(mock, APPROVE, 0);
                let got = got?;
                status_is(&got, "pending")?;
                ensure(got.1["decidedBy"] == "fallback", || format!("{}", got.1))
            }),
        ),
        (
            "approvals human decision through the admin routes",
            a(|api, _| {
                let b = api.task("human", "data_deletion", 2.0);
                let p = api.approve(&b)?;
                status_is(&p, "pending")?;
                let id = p.1["approvalId"].as_str().unwrap_or_default().to_owned();
                let (s, list) = api.call(
                    "GET",
                    "/admin/v1/approvals?status=pending",
                    Some(ADMIN_TOKEN),
                    &Value::Null,
                )?;
                let listed = list["approvals"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["approvalId"] == id.as_str()));
                ensure(s == 200 && listed, || {
                    format!("{id} not listed: {s} {list}")
                })?;
                let path = format!("/admin/v1/approvals/{id}");
                let d = api.call(
                    "POST",
                    &path,
                    Some(ADMIN_TOKEN),
                    &json!({"decision": "approve", "note": "ok by Miles"}),
                )?;
                status_is(&d, "approved")?;
                ensure(
                    api.call(
                        "POST",
                        &path,
                        Some(ADMIN_TOKEN),
                        &json!({"decision": "deny"}),
                    )?
                    .0 == 409,
                    || "decided twice".into(),
                )?;
                status_is(&api.approve(&b)?, "approved")
            }),
        ),
        (
            "approvals halt, task poll and cost report",
            a(|api, mock| {
                script(mock, APPROVE, 0);
                let b = api.task("halted", "research", 1.0);
                status_is(&api.approve(&b)?, "approved")?;
                let id = b["taskId"].as_str().unwrap_or_default().to_owned();
                let (s, t) = api.agency("GET", &format!("/api/tasks/{id}"), &Value::Null)?;
                ensure(s == 200 && t["stop"] == false, || {
                    format!("before halt: {s} {t}")
                })?;
                let (s, _) = api.agency(
                    "POST",
                    "/api/halt",
                    &json!({"taskId": id, "reason": "Cost exceeded budget"}),
                )?;
                ensure(s == 200, || format!("halt: {s}"))?;
                let (_, t) = api.agency("GET", &format!("/api/tasks/{id}"), &Value::Null)?;
                ensure(
                    t["stop"] == true && t["haltReason"] == "Cost exceeded budget",
                    || format!("after halt: {t}"),
                )?;
                let r = api.agency(
                    "POST",
                    &format!("/api/tasks/{id}/report"),
                    &json!({"actualCost": 0.5}),
                )?;
                ensure(r.0 == 409, || {
                    format!("a halted task's report must be 409, got {}", r.0)
                })?;
                let b2 = api.task("reported", "research", 1.0);
                status_is(&api.approve(&b2)?, "approved")?;
                let id2 = b2["taskId"].as_str().unwrap_or_default();
                let r = api.agency(
                    "POST",
                    &format!("/api/tasks/{id2}/report"),
                    &json!({"actualCost": 0.5}),
                )?;
                ensure(r.0 == 200 && r.1["actualCost"] == 0.5, || {
                    format!("report: {} {}", r.0, r.1)
                })
            }),
        ),
        (
            "approvals status and chat",
            a(|api, _| {
                let (s, st) = api.agency("GET", "/api/status", &Value::Null)?;
                ensure(
                    s == 200 && st["budgetUsd"] == 50.0 && st["counts"]["approved"].is_number(),
                    || format!("status: {s} {st}"),
                )?;
                ensure(
                    st["halted"].as_array().is_some_and(|h| !h.is_empty()),
                    || format!("no halted task: {st}"),
                )?;
                let key = format!("user:miles:{}", api.run);
                let (s, c) = api.agency(
                    "POST",
                    "/api/chat",
                    &json!({"message": "What's the status of my projects?", "sessionKey": key}),
                )?;
                ensure(
                    s == 200 && c["reply"].as_str().is_some_and(|r| r.contains("spent")),
                    || format!("chat: {s} {c}"),
                )?;
                let (_, c) = api.agency(
                    "POST",
                    "/api/chat",
                    &json!({"message": "And now?", "sessionKey": key}),
                )?;
                ensure(c["turns"] == 4, || format!("memory: {c}"))
            }),
        ),
    ]
}
