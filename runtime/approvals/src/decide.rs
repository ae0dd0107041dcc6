//! `POST /api/approve`: rules first, then the day's budget (reserved
//! atomically), then a human or the model.

use serde_json::Value;
use sha2::{Digest, Sha256};

use sf_core::error::ApiError;
use sf_core::policy::{CallerRules, APPROVAL_PENDING_TTL_MINUTES};
use sf_core::ports::{Clock, Host, Kv};

use crate::admin::expire_if_due;
use crate::grey;
use crate::rules::{gate, micros, Gate, Limits, Task};
use crate::store::{self, Record, Status};

const MAX_ID: usize = 128;
const MAX_TEXT: usize = 4000;

fn bad(m: &str) -> ApiError {
    ApiError::bad_request(m)
}

fn text<'a>(v: &'a Value, k: &str, max: usize, required: bool) -> Result<&'a str, ApiError> {
    match v.get(k) {
        Some(Value::String(s)) if s.len() <= max && !(required && s.trim().is_empty()) => Ok(s),
        None | Some(Value::Null) if !required => Ok(""),
        _ => Err(bad(&format!(
            "`{k}` must be a string of at most {max} bytes"
        ))),
    }
}

/// A task id is a key and a path segment: letters, digits, `-_.:`.
pub fn valid_task_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub fn parse_task(v: &Value) -> Result<Task, ApiError> {
    if !v.is_object() {
        return Err(bad("Body must be a JSON object"));
    }
    let task_id = text(v, "taskId", MAX_ID, true)?;
    if !valid_task_id(task_id) {
        return Err(bad(
            "`taskId` may hold only letters, digits and `-_.:` (at most 128)",
        ));
    }
    let cost = v
        .get("estimatedCost")
        .and_then(Value::as_f64)
        .filter(|c| c.is_finite() && *c >= 0.0 && *c <= 1e9)
        .ok_or_else(|| bad("`estimatedCost` must be a number of USD >= 0"))?;
    Ok(Task {
        task_id: task_id.to_owned(),
        kind: text(v, "type", 64, true)?.to_owned(),
        description: text(v, "description", MAX_TEXT, false)?.to_owned(),
        estimated_cost: cost,
        agent_type: text(v, "agentType", 64, false)?.to_owned(),
    })
}

/// SHA-256 over the fields that make the request, in a fixed order.
pub fn request_hash(t: &Task) -> String {
    let canon = serde_json::json!([
        t.task_id,
        t.kind,
        t.description,
        t.estimated_cost,
        t.agent_type
    ]);
    let d = Sha256::digest(canon.to_string().as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn approval_id(caller: &str, task_id: &str) -> String {
    let d = Sha256::digest(format!("{caller}\n{task_id}").as_bytes());
    let h: String = d.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("apr-{h}")
}

fn conflict(m: &str) -> ApiError {
    ApiError::new(409, sf_core::error::ErrorCode::BadRequest, m)
}

/// The stored answer for a replay, or a 409 for a different body.
async fn replay<H: Host>(h: &H, rec: Record, hash: &str) -> Result<Value, ApiError> {
    if rec.hash != hash {
        return Err(conflict(
            "A different request was already decided for this taskId",
        ));
    }
    let rec = expire_if_due(h, rec).await?;
    Ok(rec.answer())
}

pub async fn approve<H: Host>(
    h: &H,
    rules: &'static CallerRules,
    body: &Value,
) -> Result<Value, ApiError> {
    let t = parse_task(body)?;
    let caller = rules.caller.name();
    let hash = request_hash(&t);
    if h.kv()
        .get(&store::halt_key(caller, &t.task_id))
        .await
        .ok()
        .flatten()
        .is_some()
    {
        return Err(conflict("Task is halted"));
    }
    if let Some(rec) = store::load(h, caller, &t.task_id).await? {
        return replay(h, rec, &hash).await;
    }
    let now = h.clock().now_ms();
    let claim = format!("approvals:claim:{caller}:{}", t.task_id);
    if !store::once(h, &claim, now + store::RECORD_TTL_S * 1000).await? {
        return match store::load(h, caller, &t.task_id).await? {
            Some(rec) => replay(h, rec, &hash).await,
            None => Err(conflict("This taskId is being decided; retry shortly")),
        };
    }
    match decide_new(h, rules, &t, hash, now).await {
        Ok(rec) => Ok(rec.answer()),
        Err(e) => {
            store::unclaim(h, &claim).await;
            Err(e)
        }
    }
}

async fn decide_new<H: Host>(
    h: &H,
    rules: &'static CallerRules,
    t: &Task,
    hash: String,
    now: u64,
) -> Result<Record, ApiError> {
    let caller = rules.caller.name();
    let day = store::today(now);
    let limits = Limits::of(rules);
    let mut rec = Record {
        approval_id: approval_id(caller, &t.task_id),
        caller: caller.to_owned(),
        task_id: t.task_id.clone(),
        hash,
        kind: t.kind.clone(),
        agent_type: t.agent_type.clone(),
        estimated_cost: t.estimated_cost,
        reserved_micros: 0,
        day: day.clone(),
        status: Status::Denied,
        reason: String::new(),
        decided_by: "rules".into(),
        max_duration_minutes: limits.max_duration_minutes,
        monitoring: limits.monitoring.name().into(),
        created_at_ms: now,
        deadline_ms: None,
        actual_cost: None,
        note: None,
    };
    let gate = gate(rules, t);
    if let Gate::Deny(why) = &gate {
        rec.reason = why.clone();
        return store::finish(h, rec, None, now).await;
    }
    let amount = micros(t.estimated_cost);
    let budget = micros(rules.daily_budget_usd);
    if !store::reserve_spend(h, caller, &day, amount, budget, now).await? {
        let left = (budget - store::spent(h, caller, &day).await.unwrap_or(budget)).max(0);
        rec.reason = format!(
            "Estimated cost ${:.2} is over the ${:.2} left of today's ${:.2} budget",
            t.estimated_cost,
            left as f64 / 1e6,
            rules.daily_budget_usd
        );
        return store::finish(h, rec, None, now).await;
    }
    rec.reserved_micros = amount;
    match gate {
        Gate::Human(why) => pending(&mut rec, why, "rules", now),
        _ => {
            let left =
                (budget - store::spent(h, caller, &day).await.unwrap_or(budget) + amount).max(0);
            match grey::ask(h, rules, t, left as f64 / 1e6).await {
                Some(v) => {
                    let l = limits.tightened(v.max_duration_minutes, v.monitoring);
                    rec.max_duration_minutes = l.max_duration_minutes;
                    rec.monitoring = l.monitoring.name().into();
                    rec.decided_by = "model".into();
                    rec.reason = v.reason;
                    if v.approve {
                        rec.status = Status::Approved;
                    } else {
                        store::adjust_spend(h, caller, &day, -amount).await?;
                        rec.reserved_micros = 0;
                    }
                }
                None => pending(
                    &mut rec,
                    "The reviewer model gave no usable answer (not configured, failed or timed out); a human decides".into(),
                    "fallback",
                    now,
                ),
            }
        }
    }
    store::finish(h, rec, None, now).await
}

fn pending(rec: &mut Record, why: String, by: &str, now: u64) {
    rec.status = Status::Pending;
    rec.reason = why;
    rec.decided_by = by.into();
    rec.deadline_ms = Some(now + u64::from(APPROVAL_PENDING_TTL_MINUTES) * 60_000);
}
