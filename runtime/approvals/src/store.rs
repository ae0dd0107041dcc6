//! Where approvals live. KV holds each task's decision record, the pending
//! index, halts and chat memory; the Counter port holds what must add up or
//! happen once (the day's spend with the budget as ceiling, a task's claim, a
//! pending approval's one transition, the day's counts); D1 holds the
//! `approvals` rows and the append-only `approvals_audit` trail.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use sf_core::error::ApiError;
use sf_core::ports::{Counter, Host, Kv, Reserve, Sql, SqlStatement, SqlValue};
use sf_core::time_fmt::utc_day;

use crate::rules::duration_words;

const DAY_MS: u64 = 86_400_000;
/// How long a task's record (and so its idempotency) is kept.
pub const RECORD_TTL_S: u64 = 31 * 86_400;
const LANE_SPEND: &str = "usd_micros";
const LANE_ONCE: &str = "n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Approved,
    Denied,
    Pending,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Pending => "pending",
        }
    }
}

/// One task's decision, as stored under [`task_key`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub approval_id: String,
    pub caller: String,
    pub task_id: String,
    /// SHA-256 of the request body's fields: a replay must match it.
    pub hash: String,
    pub kind: String,
    pub agent_type: String,
    pub estimated_cost: f64,
    /// Micro-USD held on the day's spend (0 once released).
    pub reserved_micros: i64,
    pub day: String,
    pub status: Status,
    pub reason: String,
    /// `rules`, `model`, `fallback`, `human`, `expiry`.
    pub decided_by: String,
    pub max_duration_minutes: u32,
    pub monitoring: String,
    pub created_at_ms: u64,
    /// A pending approval expires as denied after this.
    pub deadline_ms: Option<u64>,
    pub actual_cost: Option<f64>,
    pub note: Option<String>,
}

impl Record {
    /// The seed's answer shape, plus `status`, `taskId` and (pending or
    /// human-decided) `approvalId`.
    pub fn answer(&self) -> Value {
        let mut a = json!({
            "approved": self.status == Status::Approved,
            "status": self.status.name(),
            "reason": self.reason,
            "taskId": self.task_id,
            "constraints": {
                "maxDuration": duration_words(self.max_duration_minutes),
                "maxDurationMinutes": self.max_duration_minutes,
            },
            "monitoringLevel": self.monitoring,
            "costLimit": self.estimated_cost,
            "decidedBy": self.decided_by,
        });
        if self.status == Status::Pending || self.decided_by == "human" {
            a["approvalId"] = json!(self.approval_id);
        }
        if let (Status::Pending, Some(d)) = (self.status, self.deadline_ms) {
            a["expiresAtMs"] = json!(d);
        }
        if let Some(c) = self.actual_cost {
            a["actualCost"] = json!(c);
        }
        a
    }
}

fn store_err(_: impl std::fmt::Display) -> ApiError {
    ApiError::provider(503, "sanfrancisco", "Approvals store unavailable")
}

pub fn task_key(caller: &str, task_id: &str) -> String {
    format!("approvals:task:{caller}:{task_id}")
}
pub fn pending_key(id: &str) -> String {
    format!("approvals:pending:{id}")
}
/// An approval id (shown once pending) → its task, kept after the decision.
pub fn id_key(id: &str) -> String {
    format!("approvals:id:{id}")
}
pub fn halt_key(caller: &str, task_id: &str) -> String {
    format!("approvals:halt:{caller}:{task_id}")
}
pub fn spend_key(caller: &str, day: &str) -> String {
    format!("approvals:spend:{caller}:{day}")
}
fn stats_key(caller: &str, day: &str) -> String {
    format!("approvals:stats:{caller}:{day}")
}

pub fn today(now_ms: u64) -> String {
    utc_day(i64::try_from(now_ms).unwrap_or(i64::MAX))
}

/// The end of a spend key's life: two days after `now` (the day plus slack).
fn spend_expiry(now_ms: u64) -> u64 {
    (now_ms / DAY_MS + 2) * DAY_MS
}

pub async fn load<H: Host>(h: &H, caller: &str, task_id: &str) -> Result<Option<Record>, ApiError> {
    let raw = h
        .kv()
        .get(&task_key(caller, task_id))
        .await
        .map_err(store_err)?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

pub async fn save<H: Host>(h: &H, r: &Record) -> Result<(), ApiError> {
    let text = serde_json::to_string(r).map_err(store_err)?;
    h.kv()
        .put(&task_key(&r.caller, &r.task_id), &text, Some(RECORD_TTL_S))
        .await
        .map_err(store_err)?;
    let pk = pending_key(&r.approval_id);
    if r.status == Status::Pending {
        let ttl = r
            .deadline_ms
            .map_or(DAY_MS, |d| d.saturating_sub(r.created_at_ms))
            / 1000
            + 86_400;
        let v = json!({"caller": r.caller, "taskId": r.task_id}).to_string();
        h.kv().put(&pk, &v, Some(ttl)).await.map_err(store_err)?;
        h.kv()
            .put(&id_key(&r.approval_id), &v, Some(RECORD_TTL_S))
            .await
            .map_err(store_err)?;
    } else {
        h.kv().delete(&pk).await.map_err(store_err)?;
    }
    Ok(())
}

/// Takes `key` once: `true` for the first caller only, ever (until expiry).
pub async fn once<H: Host>(h: &H, key: &str, expires_at_ms: u64) -> Result<bool, ApiError> {
    let lane = Reserve {
        lane: LANE_ONCE,
        amount: 1,
        ceiling: Some(1),
    };
    h.counter()
        .reserve(key, &[lane], expires_at_ms)
        .await
        .map_err(store_err)
}

/// Gives back a [`once`] claim (when the work it guarded failed).
pub async fn unclaim<H: Host>(h: &H, key: &str) {
    let _ = h.counter().adjust(key, LANE_ONCE, -1).await;
}

/// Adds `amount` micro-USD to the caller's spend of `day` unless that would
/// pass `budget` micro-USD: all or nothing, atomically.
pub async fn reserve_spend<H: Host>(
    h: &H,
    caller: &str,
    day: &str,
    amount: i64,
    budget: i64,
    now_ms: u64,
) -> Result<bool, ApiError> {
    let lane = Reserve {
        lane: LANE_SPEND,
        amount,
        ceiling: Some(budget),
    };
    h.counter()
        .reserve(&spend_key(caller, day), &[lane], spend_expiry(now_ms))
        .await
        .map_err(store_err)
}

/// Moves the day's spend by `delta` micro-USD (a release or a settlement).
pub async fn adjust_spend<H: Host>(
    h: &H,
    caller: &str,
    day: &str,
    delta: i64,
) -> Result<(), ApiError> {
    if delta == 0 {
        return Ok(());
    }
    h.counter()
        .adjust(&spend_key(caller, day), LANE_SPEND, delta)
        .await
        .map_err(store_err)
}

pub async fn spent<H: Host>(h: &H, caller: &str, day: &str) -> Result<i64, ApiError> {
    h.counter()
        .read(&spend_key(caller, day), LANE_SPEND)
        .await
        .map_err(store_err)
}

/// Counts decisions by status for `/api/status` (`from` is left, `to` entered).
pub async fn count<H: Host>(h: &H, caller: &str, day: &str, from: Option<Status>, to: Status) {
    let k = stats_key(caller, day);
    if let Some(f) = from {
        let _ = h.counter().adjust(&k, f.name(), -1).await;
    }
    let _ = h.counter().adjust(&k, to.name(), 1).await;
}

pub async fn counts<H: Host>(h: &H, caller: &str, day: &str) -> Value {
    let k = stats_key(caller, day);
    let mut out = serde_json::Map::new();
    for s in [Status::Approved, Status::Denied, Status::Pending] {
        let n = h.counter().read(&k, s.name()).await.unwrap_or(0);
        out.insert(s.name().into(), json!(n.max(0)));
    }
    Value::Object(out)
}

/// One audit event (`decision`, `human_decision`, `expiry`, `halt`, `report`)
/// and the task's `approvals` row, in one D1 transaction.
pub async fn audit<H: Host>(
    h: &H,
    r: &Record,
    event: &str,
    actor: &str,
    reason: &str,
    now_ms: u64,
) -> Result<(), ApiError> {
    let t = |s: &str| SqlValue::Text(s.to_owned());
    let at = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let cost = r.actual_cost.unwrap_or(r.estimated_cost);
    let row = SqlStatement::new(
        "INSERT INTO approvals (approval_id, caller, task_id, request_hash, type, agent_type, estimated_cost, status, reason, day, created_at_ms, updated_at_ms, actual_cost) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(approval_id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at_ms = excluded.updated_at_ms, actual_cost = excluded.actual_cost",
        vec![
            t(&r.approval_id), t(&r.caller), t(&r.task_id), t(&r.hash), t(&r.kind), t(&r.agent_type),
            SqlValue::Real(r.estimated_cost), t(r.status.name()), t(&r.reason), t(&r.day),
            SqlValue::Integer(i64::try_from(r.created_at_ms).unwrap_or(i64::MAX)), SqlValue::Integer(at),
            r.actual_cost.into(),
        ],
    );
    let ev = SqlStatement::new(
        "INSERT INTO approvals_audit (at_ms, day, caller, task_id, approval_id, event, status, actor, reason, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            SqlValue::Integer(at), t(&today(now_ms)), t(&r.caller), t(&r.task_id), t(&r.approval_id),
            t(event), t(r.status.name()), t(actor), t(reason), SqlValue::Real(cost),
        ],
    );
    h.sql().batch(vec![row, ev]).await.map_err(store_err)
}

/// Audit first (a decision that cannot be audited is not made: the
/// reservation is released and the caller retries), then the record.
pub(crate) async fn finish<H: Host>(
    h: &H,
    rec: Record,
    from: Option<Status>,
    now: u64,
) -> Result<Record, ApiError> {
    let (event, actor) = match (from, rec.decided_by.as_str()) {
        (Some(_), "expiry") => ("expiry", "expiry"),
        (Some(_), _) => ("human_decision", "human"),
        (None, by) => ("decision", by),
    };
    if let Err(e) = audit(h, &rec, event, actor, &rec.reason, now).await {
        if from.is_none() && rec.reserved_micros > 0 {
            let _ = adjust_spend(h, &rec.caller, &rec.day, -rec.reserved_micros).await;
        }
        return Err(e);
    }
    save(h, &rec).await?;
    count(h, &rec.caller, &rec.day, from, rec.status).await;
    Ok(rec)
}
