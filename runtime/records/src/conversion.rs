//! The `on-user-converted` and `on-user-paid` jobs (seed 001 "Jobs": "update
//! outcomes on conversion / payment"), as this gateway can do them.
//!
//! A conversion (`signup_completed` or `upgrade_completed`) or a payment
//! (`upgrade_completed`) is the user's, not one answer's: every interaction of
//! the session up to the moment of the outcome led there. So the outcome marks
//! `convertedAtMs` / `paidAtMs` on the interaction it names and on the
//! session's earlier interactions (`copilot_events_v1`, migration 0006), and
//! the session is re-scored at once: the `converted` and `paid` signals of
//! policy/learning.yaml read the marks.
//!
//! When they run:
//! - on the outcome itself, off the request path: `/v1/outcome` answers first
//!   and defers [`on_outcome`]; the command queue's `ai.outcome.attach`
//!   consumer runs it after persisting;
//! - as jobs (`sf jobs run on-user-converted`, `POST /admin/v1/jobs/{job}/run`):
//!   [`mark_all`] over the re-score window, then a re-score of the window;
//! - every hour inside `score-interactions`, which sweeps the marks first: an
//!   interaction filed after its session converted (events and outcomes race
//!   through different paths) is marked by the next run.
//!
//! Marks keep the earliest time (`min`), so replays change nothing.

use sf_core::policy;
use sf_core::ports::{Clock, Host, Sql, SqlStatement, SqlValue};

use crate::outcome::Outcome;
use crate::score;

const T: &str = "copilot_events_v1";

/// The outcome events that mark a session converted.
pub const CONVERTED_EVENTS: [&str; 2] = ["signup_completed", "upgrade_completed"];
/// The outcome events that mark a session paid.
pub const PAID_EVENTS: [&str; 1] = ["upgrade_completed"];

/// A business outcome of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Converted,
    Paid,
}

impl Mark {
    fn column(self) -> &'static str {
        match self {
            Mark::Converted => "convertedAtMs",
            Mark::Paid => "paidAtMs",
        }
    }

    pub fn events(self) -> &'static [&'static str] {
        match self {
            Mark::Converted => &CONVERTED_EVENTS,
            Mark::Paid => &PAID_EVENTS,
        }
    }

    /// The marks an outcome event sets (none for the others).
    pub fn of_event(event: &str) -> Vec<Mark> {
        [Mark::Converted, Mark::Paid]
            .into_iter()
            .filter(|m| m.events().contains(&event.trim()))
            .collect()
    }
}

fn event_list(m: Mark) -> String {
    let l: Vec<String> = m.events().iter().map(|e| format!("'{e}'")).collect();
    l.join(", ")
}

/// Marks the interaction `request_id` and those of `session_id` at or before
/// `at_ms`. Returns the rows changed.
pub async fn mark_session<S: Sql>(
    sql: &S,
    m: Mark,
    session_id: &str,
    request_id: &str,
    at_ms: i64,
) -> Result<u64, String> {
    let c = m.column();
    sql.execute(SqlStatement::new(
        format!(
            "UPDATE {T} SET {c} = min(COALESCE({c}, ?), ?) \
             WHERE ((sessionId = ? AND occurredAtMs <= ?) OR requestId = ?) AND ({c} IS NULL OR {c} > ?)"
        ),
        vec![
            SqlValue::Integer(at_ms),
            SqlValue::Integer(at_ms),
            session_id.into(),
            SqlValue::Integer(at_ms),
            request_id.into(),
            SqlValue::Integer(at_ms),
        ],
    ))
    .await
    .map_err(|e| format!("marking {c}: {e}"))
}

/// Marks every unmarked interaction since `since_ms` whose own outcomes, or
/// its session's later ones, say `m`. Returns the rows marked.
pub async fn mark<H: Host>(h: &H, m: Mark, since_ms: i64) -> Result<u64, String> {
    let c = m.column();
    let events = event_list(m);
    let matching = format!(
        "FROM copilot_outcomes_v1 o WHERE o.event IN ({events}) AND (o.requestId = {T}.requestId \
         OR (o.sessionId = {T}.sessionId AND o.occurredAtMs >= {T}.occurredAtMs))"
    );
    h.sql()
        .execute(SqlStatement::new(
            format!(
                "UPDATE {T} SET {c} = (SELECT min(o.occurredAtMs) {matching}) \
                 WHERE occurredAtMs >= ? AND {c} IS NULL AND EXISTS (SELECT 1 {matching})"
            ),
            vec![SqlValue::Integer(since_ms)],
        ))
        .await
        .map_err(|e| format!("marking {c}: {e}"))
}

/// Both marks (what `score-interactions` runs first).
pub async fn mark_all<H: Host>(h: &H, since_ms: i64) -> Result<u64, String> {
    Ok(mark(h, Mark::Converted, since_ms).await? + mark(h, Mark::Paid, since_ms).await?)
}

/// What one run of `on-user-converted` / `on-user-paid` (or one outcome) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionReport {
    pub since_ms: i64,
    /// Interactions newly marked.
    pub marked: u64,
    /// Interactions re-scored.
    pub rescored: u64,
}

/// The job: marks `m` over the re-score window, then re-scores the window.
pub async fn run<H: Host>(h: &H, m: Mark) -> Result<ConversionReport, String> {
    let now = h.clock().now_ms() as i64;
    let since_ms = now - i64::from(policy::RESCORE_DAYS) * 86_400_000;
    let marked = mark(h, m, since_ms).await?;
    let rescored = score::rescore(
        h,
        now,
        "occurredAtMs >= ?",
        vec![SqlValue::Integer(since_ms)],
    )
    .await?;
    Ok(ConversionReport {
        since_ms,
        marked,
        rescored,
    })
}

/// One persisted outcome: a conversion or payment marks its session and
/// re-scores the session's interactions; other events do nothing (`None`).
pub async fn on_outcome<H: Host>(h: &H, o: &Outcome) -> Result<Option<ConversionReport>, String> {
    let marks = Mark::of_event(&o.event);
    if marks.is_empty() {
        return Ok(None);
    }
    let now = h.clock().now_ms() as i64;
    let at = o.occurred_at_ms as i64;
    let mut marked = 0;
    for m in marks {
        marked += mark_session(h.sql(), m, &o.session_id, &o.request_id, at).await?;
    }
    let rescored = score::rescore(
        h,
        now,
        "sessionId = ? OR requestId = ?",
        vec![o.session_id.clone().into(), o.request_id.clone().into()],
    )
    .await?;
    Ok(Some(ConversionReport {
        since_ms: at,
        marked,
        rescored,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_marks() {
        assert_eq!(Mark::of_event("signup_completed"), [Mark::Converted]);
        assert_eq!(
            Mark::of_event(" upgrade_completed "),
            [Mark::Converted, Mark::Paid]
        );
        assert!(Mark::of_event("ux_keep").is_empty());
        assert!(Mark::of_event("feedback_helpful").is_empty());
        assert_eq!(event_list(Mark::Paid), "'upgrade_completed'");
    }
}
