//! Human approval: pending approvals listed and decided through the admin
//! routes, and their expiry (checked lazily whenever a pending record is read:
//! a replay, a status, a task poll, the admin list).

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode};
use sf_core::http::{decode_param, json_response, parse_json_body, RouteCtx, RouteOut};
use sf_core::policy::APPROVAL_PENDING_TTL_MINUTES;
use sf_core::ports::{Clock, Host, Kv};

use crate::store::{self, Record, Status};

/// Most pending approvals one list shows.
const LIST_LIMIT: usize = 200;

fn final_key(id: &str) -> String {
    format!("approvals:final:{id}")
}

/// A pending approval's one transition (a human decision or its expiry):
/// `true` for whoever gets there first.
async fn take_transition<H: Host>(h: &H, rec: &Record) -> Result<bool, ApiError> {
    let exp = rec.deadline_ms.unwrap_or(0) + store::RECORD_TTL_S * 1000;
    store::once(h, &final_key(&rec.approval_id), exp).await
}

/// Denies a pending record whose deadline has passed (and releases its
/// reservation); any other record is returned as it is.
pub async fn expire_if_due<H: Host>(h: &H, rec: Record) -> Result<Record, ApiError> {
    let now = h.clock().now_ms();
    let due = rec.status == Status::Pending && rec.deadline_ms.is_some_and(|d| now >= d);
    if !due {
        return Ok(rec);
    }
    if !take_transition(h, &rec).await? {
        return Ok(store::load(h, &rec.caller, &rec.task_id)
            .await?
            .unwrap_or(rec));
    }
    let mut r = rec;
    store::adjust_spend(h, &r.caller, &r.day, -r.reserved_micros).await?;
    r.reserved_micros = 0;
    r.status = Status::Denied;
    r.decided_by = "expiry".into();
    r.reason = format!("Expired: no human decided within {APPROVAL_PENDING_TTL_MINUTES} minutes");
    store::finish(h, r, Some(Status::Pending), now).await
}

/// The pending records (expired ones are denied on the way).
pub async fn pending<H: Host>(h: &H, caller: Option<&str>) -> Result<Vec<Record>, ApiError> {
    let keys = h
        .kv()
        .list("approvals:pending:", LIST_LIMIT)
        .await
        .map_err(|_| unavailable())?;
    let mut out = Vec::new();
    for k in keys {
        let Some(ptr) = h.kv().get(&k).await.ok().flatten() else {
            continue;
        };
        let Ok(ptr) = serde_json::from_str::<Value>(&ptr) else {
            continue;
        };
        let (Some(c), Some(t)) = (ptr["caller"].as_str(), ptr["taskId"].as_str()) else {
            continue;
        };
        if caller.is_some_and(|x| x != c) {
            continue;
        }
        if let Some(rec) = store::load(h, c, t).await? {
            let rec = expire_if_due(h, rec).await?;
            if rec.status == Status::Pending {
                out.push(rec);
            }
        }
    }
    out.sort_by_key(|r| r.created_at_ms);
    Ok(out)
}

fn unavailable() -> ApiError {
    ApiError::provider(503, "sanfrancisco", "Approvals store unavailable")
}

pub fn summary(r: &Record) -> Value {
    json!({
        "approvalId": r.approval_id, "caller": r.caller, "taskId": r.task_id, "type": r.kind,
        "agentType": r.agent_type, "estimatedCost": r.estimated_cost, "reason": r.reason,
        "status": r.status.name(), "createdAtMs": r.created_at_ms, "expiresAtMs": r.deadline_ms,
    })
}

/// `GET /admin/v1/approvals?status=pending`.
pub async fn list_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let q = cx.req.uri().query().unwrap_or("");
    let status = q
        .split('&')
        .find_map(|kv| kv.strip_prefix("status="))
        .unwrap_or("pending");
    if status != "pending" {
        return Err(ApiError::bad_request("Only `status=pending` is listed"));
    }
    let list: Vec<Value> = pending(h, None).await?.iter().map(summary).collect();
    Ok(json_response(200, &json!({"approvals": list})))
}

/// `POST /admin/v1/approvals/{id}` with `{"decision":"approve"|"deny","note"?}`.
pub async fn decide_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let not_found = || ApiError::new(404, ErrorCode::BadRequest, "Approval not found");
    let id = cx
        .param
        .as_deref()
        .and_then(decode_param)
        .ok_or_else(not_found)?;
    let body = parse_json_body(cx.req.body())?;
    let approve = match body.get("decision").and_then(Value::as_str) {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return Err(ApiError::bad_request(
                "`decision` must be \"approve\" or \"deny\"",
            ))
        }
    };
    let note = match body.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= 2000 => Some(s.clone()),
        _ => {
            return Err(ApiError::bad_request(
                "`note` must be a string of at most 2000 bytes",
            ))
        }
    };
    let ptr = h
        .kv()
        .get(&store::id_key(&id))
        .await
        .map_err(|_| unavailable())?;
    let ptr: Value = ptr
        .and_then(|p| serde_json::from_str(&p).ok())
        .ok_or_else(not_found)?;
    let (Some(c), Some(t)) = (ptr["caller"].as_str(), ptr["taskId"].as_str()) else {
        return Err(not_found());
    };
    let rec = store::load(h, c, t).await?.ok_or_else(not_found)?;
    let rec = expire_if_due(h, rec).await?;
    let already = || ApiError::new(409, ErrorCode::BadRequest, "Approval is no longer pending");
    if rec.status != Status::Pending || !take_transition(h, &rec).await? {
        return Err(already());
    }
    let now = h.clock().now_ms();
    let mut r = rec;
    if h.kv()
        .get(&store::halt_key(&r.caller, &r.task_id))
        .await
        .ok()
        .flatten()
        .is_some()
        && approve
    {
        store::unclaim(h, &final_key(&r.approval_id)).await;
        return Err(ApiError::new(409, ErrorCode::BadRequest, "Task is halted"));
    }
    r.decided_by = "human".into();
    r.note = note.clone();
    if approve {
        r.status = Status::Approved;
        r.reason = note.unwrap_or_else(|| "Approved by a human".into());
    } else {
        store::adjust_spend(h, &r.caller, &r.day, -r.reserved_micros).await?;
        r.reserved_micros = 0;
        r.status = Status::Denied;
        r.reason = note.unwrap_or_else(|| "Denied by a human".into());
    }
    let r = store::finish(h, r, Some(Status::Pending), now).await?;
    Ok(json_response(200, &r.answer()))
}
