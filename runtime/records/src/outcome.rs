//! `POST /v1/outcome` (CONTRACT.md 2.3): keep/undo/CTA/conversion outcomes
//! signed by Paris, persisted to `copilot_outcomes_v1`.
//!
//! Improvements kept off the wire: the signature is compared in constant time;
//! Paris' envelope-less body is accepted (the signature covers the raw bytes);
//! a replayed outcome never overwrites the first one (`INSERT OR IGNORE`).
//!
//! The learning loop (issue 11) adds, beside Bob's V1 events, the user
//! feedback events `feedback_helpful` and `feedback_not_helpful` (the
//! `helpful` signal of policy/learning.yaml). An outcome for a request id no
//! interaction has yet is kept as it is and joined by requestId whenever the
//! interaction is filed. A conversion or payment then marks its session
//! ([`crate::conversion`]), after the response.

use std::rc::Rc;

use serde_json::{json, Map, Value};

use sf_core::commands::{self, Command};
use sf_core::error::{ApiError, Issue};
use sf_core::http::parse_json_body;
use sf_core::http::{json_response, RouteCtx};
use sf_core::policy::Var;
use sf_core::ports::{Host, Sql, SqlStatement, SqlValue, Vars};
use sf_core::{grants, time_fmt, Isolate};

/// Bob's V1 events (CONTRACT.md 2.3), then the user feedback of the learning
/// loop (issue 11): an extension beside them, nothing else about the route changes.
pub const EVENTS: [&str; 9] = [
    "signup_started",
    "signup_completed",
    "upgrade_clicked",
    "upgrade_completed",
    "cta_clicked",
    "ux_keep",
    "ux_undo",
    "feedback_helpful",
    "feedback_not_helpful",
];

fn invalid() -> ApiError {
    ApiError::bad_request("Invalid request").with_issues(vec![Issue::new(
        "",
        "Expected { requestId, sessionId, event, occurredAtMs }",
    )])
}

fn non_blank(p: &Map<String, Value>, k: &str) -> bool {
    p.get(k)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

/// A validated outcome, values as received (untrimmed, like the original stores them).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub request_id: String,
    pub session_id: String,
    pub event: String,
    pub occurred_at_ms: f64,
    pub time_to_decision_ms: Option<f64>,
    pub account_id_hash: Option<String>,
    pub workspace_id_hash: Option<String>,
}

pub fn validate(p: &Map<String, Value>) -> Result<Outcome, ApiError> {
    let event_ok = p
        .get("event")
        .and_then(Value::as_str)
        .is_some_and(|e| EVENTS.contains(&e.trim()));
    let occurred = p
        .get("occurredAtMs")
        .and_then(Value::as_f64)
        .filter(|n| n.is_finite());
    let ttd = match p.get("timeToDecisionMs") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(invalid)?,
        ),
    };
    let opt_hash = |k: &str| -> Result<Option<String>, ApiError> {
        match p.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(invalid()),
        }
    };
    if !(non_blank(p, "requestId") && non_blank(p, "sessionId") && event_ok) {
        return Err(invalid());
    }
    let occurred_at_ms = occurred.ok_or_else(invalid)?;
    Ok(Outcome {
        request_id: p["requestId"].as_str().unwrap_or_default().to_owned(),
        session_id: p["sessionId"].as_str().unwrap_or_default().to_owned(),
        event: p["event"].as_str().unwrap_or_default().to_owned(),
        occurred_at_ms,
        time_to_decision_ms: ttd,
        account_id_hash: opt_hash("accountIdHash")?,
        workspace_id_hash: opt_hash("workspaceIdHash")?,
    })
}

/// Persists an outcome; the first record for (requestId, event) wins.
pub async fn persist<S: Sql>(sql: &S, o: &Outcome) -> Result<(), ApiError> {
    let day = time_fmt::utc_day(o.occurred_at_ms as i64);
    sql.execute(SqlStatement::new(
        "INSERT OR IGNORE INTO copilot_outcomes_v1 (requestId, event, day, occurredAtMs, sessionId, \
         timeToDecisionMs, accountIdHash, workspaceIdHash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            o.request_id.clone().into(),
            o.event.clone().into(),
            day.into(),
            SqlValue::Integer(o.occurred_at_ms as i64),
            o.session_id.clone().into(),
            o.time_to_decision_ms.map(|t| SqlValue::Integer(t as i64)).unwrap_or(SqlValue::Null),
            o.account_id_hash.clone().into(),
            o.workspace_id_hash.clone().into(),
        ],
    ))
    .await
    .map(|_| ())
    .map_err(|_| ApiError::provider(500, "sanfrancisco", "Failed to persist outcome"))
}

/// Runs the business-outcome follow-up of a persisted outcome
/// ([`crate::conversion::on_outcome`]) after the response, off the request path.
pub fn defer_follow_up<H: Host>(iso: &Rc<Isolate<H>>, o: Outcome) {
    if crate::conversion::Mark::of_event(&o.event).is_empty() {
        return;
    }
    let iso2 = Rc::clone(iso);
    iso.host().defer(Box::pin(async move {
        if let Err(e) = crate::conversion::on_outcome(iso2.host(), &o).await {
            // The hourly score-interactions sweeps the marks again.
            sf_core::sf_log!(
                "outcome: follow-up of {} for requestId={} failed: {e}",
                o.event.trim(),
                o.request_id
            );
        }
    }));
}

pub async fn handle<H: Host>(
    iso: &Rc<Isolate<H>>,
    cx: RouteCtx,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let host = iso.host();
    let sig = cx
        .req
        .headers()
        .get("x-paris-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::denied(401, "Missing signature"))?;
    let secret = host
        .vars()
        .var(Var::AiGrantHmacSecret.name())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_var(Var::AiGrantHmacSecret.name()))?;
    if !grants::verify_outcome_signature(&secret, cx.req.body(), sig) {
        return Err(ApiError::denied(403, "Invalid signature"));
    }
    let body = parse_json_body(cx.req.body())?;
    let payload = commands::expect(&body, Command::OutcomeAttach)?;
    let outcome = validate(payload)?;
    persist(host.sql(), &outcome).await?;
    defer_follow_up(iso, outcome);
    Ok(json_response(200, &json!({ "ok": true })))
}
