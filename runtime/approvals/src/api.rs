//! The caller routes (`auth: caller`): approve, report, poll, halt, chat,
//! status; and `GET /health`.

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode};
use sf_core::http::{decode_param, json_response, parse_json_body, RouteCtx, RouteOut};
use sf_core::policy::{CallerRules, POLICY_VERSION};
use sf_core::ports::{Clock, Host, Kv};

use crate::admin::{expire_if_due, pending, summary};
use crate::auth::caller;
use crate::decide::{approve, valid_task_id};
use crate::rules::micros;
use crate::store::{self, Status};

/// Chat memory lasts 30 days; a session keeps its last turns only.
const CHAT_TTL_S: u64 = 30 * 86_400;
const CHAT_TURNS: usize = 40;
const HALTED_LIMIT: usize = 200;

fn conflict(m: &str) -> ApiError {
    ApiError::new(409, ErrorCode::BadRequest, m)
}

fn not_found() -> ApiError {
    ApiError::new(404, ErrorCode::BadRequest, "Task not found")
}

fn task_param(cx: &RouteCtx) -> Result<String, ApiError> {
    cx.param
        .as_deref()
        .and_then(decode_param)
        .filter(|t| valid_task_id(t))
        .ok_or_else(not_found)
}

pub async fn health<H: Host>(h: &H) -> RouteOut {
    Ok(json_response(
        200,
        &json!({"status": "ok", "service": "approvals", "policyVersion": POLICY_VERSION, "ts": h.clock().now_ms()}),
    ))
}

/// `POST /api/approve`.
pub async fn approve_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let rules = caller(h, &cx.req)?;
    let body = parse_json_body(cx.req.body())?;
    Ok(json_response(200, &approve(h, rules, &body).await?))
}

/// `POST /api/tasks/{taskId}/report` with `{"actualCost": n}`: settles the
/// day's spend from the reservation to the real cost, once.
pub async fn report_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let rules = caller(h, &cx.req)?;
    let task = task_param(&cx)?;
    let body = parse_json_body(cx.req.body())?;
    let cost = body
        .get("actualCost")
        .and_then(Value::as_f64)
        .filter(|c| c.is_finite() && *c >= 0.0 && *c <= 1e9)
        .ok_or_else(|| ApiError::bad_request("`actualCost` must be a number of USD >= 0"))?;
    let c = rules.caller.name();
    if h.kv()
        .get(&store::halt_key(c, &task))
        .await
        .ok()
        .flatten()
        .is_some()
    {
        return Err(conflict("Task is halted"));
    }
    let mut rec = store::load(h, c, &task).await?.ok_or_else(not_found)?;
    if rec.status != Status::Approved {
        return Err(conflict("Only an approved task reports its cost"));
    }
    let now = h.clock().now_ms();
    if !store::once(
        h,
        &format!("approvals:report:{c}:{task}"),
        now + store::RECORD_TTL_S * 1000,
    )
    .await?
    {
        return Err(conflict("This task's cost was already reported"));
    }
    store::adjust_spend(h, c, &rec.day, micros(cost) - rec.reserved_micros).await?;
    rec.reserved_micros = micros(cost);
    rec.actual_cost = Some(cost);
    store::audit(
        h,
        &rec,
        "report",
        c,
        &format!("actual cost ${cost:.2}"),
        now,
    )
    .await?;
    store::save(h, &rec).await?;
    Ok(json_response(200, &rec.answer()))
}

/// `GET /api/tasks/{taskId}`: what a running agent polls to know whether to stop.
pub async fn task_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let rules = caller(h, &cx.req)?;
    let task = task_param(&cx)?;
    let c = rules.caller.name();
    let halt = h.kv().get(&store::halt_key(c, &task)).await.ok().flatten();
    let rec = match store::load(h, c, &task).await? {
        Some(r) => Some(expire_if_due(h, r).await?),
        None => None,
    };
    if rec.is_none() && halt.is_none() {
        return Err(not_found());
    }
    let halt: Option<Value> = halt.and_then(|s| serde_json::from_str(&s).ok());
    let status = rec.as_ref().map_or("unknown", |r| r.status.name());
    let stop = halt.is_some() || rec.as_ref().is_none_or(|r| r.status != Status::Approved);
    let mut out = json!({"taskId": task, "status": status, "halted": halt.is_some(), "stop": stop});
    if let Some(hv) = halt {
        out["haltReason"] = hv["reason"].clone();
    }
    if let Some(r) = rec {
        out["decision"] = r.answer();
    }
    Ok(json_response(200, &out))
}

/// `POST /api/halt` with `{"taskId","reason"}`.
pub async fn halt_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let rules = caller(h, &cx.req)?;
    let body = parse_json_body(cx.req.body())?;
    let task = body
        .get("taskId")
        .and_then(Value::as_str)
        .filter(|t| valid_task_id(t));
    let task = task.ok_or_else(|| ApiError::bad_request("`taskId` must be a task id"))?;
    let reason = match body.get("reason") {
        Some(Value::String(s)) if s.len() <= 2000 => s.clone(),
        None | Some(Value::Null) => "Halted".into(),
        _ => {
            return Err(ApiError::bad_request(
                "`reason` must be a string of at most 2000 bytes",
            ))
        }
    };
    let c = rules.caller.name();
    let now = h.clock().now_ms();
    let v = json!({"reason": reason, "atMs": now}).to_string();
    let key = store::halt_key(c, task);
    let first = h.kv().get(&key).await.ok().flatten().is_none();
    if first {
        let rec = store::load(h, c, task).await?;
        let rec = rec.unwrap_or_else(|| placeholder(rules, task, now));
        store::audit(h, &rec, "halt", c, &reason, now).await?;
        h.kv()
            .put(&key, &v, Some(store::RECORD_TTL_S))
            .await
            .map_err(|_| ApiError::provider(503, "sanfrancisco", "Approvals store unavailable"))?;
    }
    Ok(json_response(
        200,
        &json!({"taskId": task, "halted": true, "stop": true, "reason": reason}),
    ))
}

/// The audit row of a halt for a task that was never approved here.
fn placeholder(rules: &CallerRules, task: &str, now: u64) -> store::Record {
    store::Record {
        approval_id: String::new(),
        caller: rules.caller.name().into(),
        task_id: task.into(),
        hash: String::new(),
        kind: String::new(),
        agent_type: String::new(),
        estimated_cost: 0.0,
        reserved_micros: 0,
        day: store::today(now),
        status: Status::Denied,
        reason: "halted".into(),
        decided_by: "halt".into(),
        max_duration_minutes: 0,
        monitoring: String::new(),
        created_at_ms: now,
        deadline_ms: None,
        actual_cost: None,
        note: None,
    }
}

/// Today's spend, counts, pending approvals and halted tasks of one caller.
pub async fn status_json<H: Host>(h: &H, rules: &CallerRules) -> Result<Value, ApiError> {
    let c = rules.caller.name();
    let day = store::today(h.clock().now_ms());
    let spent = store::spent(h, c, &day).await? as f64 / 1e6;
    let pend: Vec<Value> = pending(h, Some(c)).await?.iter().map(summary).collect();
    let prefix = format!("approvals:halt:{c}:");
    let halted: Vec<String> = h
        .kv()
        .list(&prefix, HALTED_LIMIT)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    Ok(json!({
        "caller": c, "day": day, "spentUsd": spent, "budgetUsd": rules.daily_budget_usd,
        "remainingUsd": (rules.daily_budget_usd - spent).max(0.0), "costThresholdUsd": rules.cost_threshold_usd,
        "riskTolerance": rules.tolerance.name(), "counts": store::counts(h, c, &day).await,
        "pending": pend, "halted": halted, "policyVersion": POLICY_VERSION,
    }))
}

/// `GET /api/status`.
pub async fn status_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let rules = caller(h, &cx.req)?;
    Ok(json_response(200, &status_json(h, rules).await?))
}

/// `POST /api/chat` with `{"message","sessionKey"}`: answers from the status
/// and the pending approvals (a deterministic summary), remembering the
/// session's turns for 30 days in KV.
pub async fn chat_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let rules = caller(h, &cx.req)?;
    let body = parse_json_body(cx.req.body())?;
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty() && m.len() <= 4000);
    let message =
        message.ok_or_else(|| ApiError::bad_request("`message` must be a non-empty string"))?;
    let session = body
        .get("sessionKey")
        .and_then(Value::as_str)
        .filter(|s| valid_task_id(s));
    let session = session.ok_or_else(|| {
        ApiError::bad_request("`sessionKey` may hold only letters, digits and `-_.:`")
    })?;
    let key = format!("approvals:chat:{}:{session}", rules.caller.name());
    let mut turns: Vec<Value> = h
        .kv()
        .get(&key)
        .await
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let st = status_json(h, rules).await?;
    let reply = summarize(&st, turns.len() / 2);
    let now = h.clock().now_ms();
    turns.push(json!({"role": "user", "content": message, "atMs": now}));
    turns.push(json!({"role": "assistant", "content": reply, "atMs": now}));
    let skip = turns.len().saturating_sub(CHAT_TURNS);
    let turns: Vec<Value> = turns.into_iter().skip(skip).collect();
    let text = Value::Array(turns.clone()).to_string();
    let _ = h.kv().put(&key, &text, Some(CHAT_TTL_S)).await;
    Ok(json_response(
        200,
        &json!({"reply": reply, "sessionKey": session, "turns": turns.len(), "status": st}),
    ))
}

fn summarize(st: &Value, earlier: usize) -> String {
    let n = |k: &str| st["counts"][k].as_i64().unwrap_or(0);
    let pending = st["pending"].as_array().map_or(0, Vec::len);
    let halted = st["halted"].as_array().map_or(0, Vec::len);
    let mut s = format!(
        "Today ({}) you have spent ${:.2} of ${:.2}. Decisions: {} approved, {} denied, {} pending.",
        st["day"].as_str().unwrap_or(""), st["spentUsd"].as_f64().unwrap_or(0.0),
        st["budgetUsd"].as_f64().unwrap_or(0.0), n("approved"), n("denied"), n("pending")
    );
    if pending > 0 {
        let ids: Vec<&str> = st["pending"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["taskId"].as_str())
            .take(5)
            .collect();
        s.push_str(&format!(" {pending} awaiting a human: {}.", ids.join(", ")));
    }
    if halted > 0 {
        s.push_str(&format!(" {halted} halted."));
    }
    if earlier > 0 {
        s.push_str(&format!(
            " ({earlier} earlier messages in this conversation.)"
        ));
    }
    s
}
