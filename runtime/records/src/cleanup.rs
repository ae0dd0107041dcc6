//! The `cleanup-old-sessions` job (policy/jobs.yaml, daily 02:00; seed 001
//! "Jobs": remove expired data), beside `retention` which deletes raw logs.
//!
//! A session expires `SF_SESSION_RETENTION_DAYS` (default
//! [`DEFAULT_SESSION_RETENTION_DAYS`]) after its last interaction. Then:
//! - its `sf_interactions` rows are deleted, except those `sf_examples` holds
//!   (an example keeps its row), and the interactions without a session older
//!   than the period likewise;
//! - its `sf_sessions` row is deleted once no interaction row names it;
//! - outcomes older than the period that no interaction ever joined
//!   (`copilot_outcomes_v1` rows without a `copilot_events_v1` row: the
//!   interaction they waited for never came) are deleted.
//!
//! Kept: `copilot_events_v1` and the outcomes joined to it (the index the
//! metrics, `sf report` and the review queue read), reviewers' labels
//! (`sf_reviews`), and KV sessions, which expire by their own 24 h TTL.
//! One run deletes at most [`MAX_DELETES_PER_TABLE`] rows per table; the next
//! run continues.

use sf_core::policy::Var;
use sf_core::ports::{Clock, Host, Sql, SqlStatement, SqlValue, Vars};
use sf_core::Isolate;

pub const SESSION_RETENTION_DAYS_VAR: &str = Var::SfSessionRetentionDays.name();
pub const DEFAULT_SESSION_RETENTION_DAYS: u64 = 90;
pub const MAX_DELETES_PER_TABLE: u64 = 1_000;

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupReport {
    /// Rows older than this time (ms) were candidates.
    pub cutoff_ms: i64,
    pub interactions: u64,
    pub sessions: u64,
    pub orphan_outcomes: u64,
    /// A per-table cap stopped the run before it was done.
    pub capped: bool,
}

/// The retention period in days (a bad value stops the job).
pub fn retention_days<H: Host>(iso: &Isolate<H>) -> Result<u64, String> {
    let name = SESSION_RETENTION_DAYS_VAR;
    match iso.host().vars().var(name) {
        None => Ok(DEFAULT_SESSION_RETENTION_DAYS),
        Some(v) if v.trim().is_empty() => Ok(DEFAULT_SESSION_RETENTION_DAYS),
        Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            format!(
                "{name}={v:?} is not a whole number >= 1; fix the var (default {DEFAULT_SESSION_RETENTION_DAYS})"
            )
        }),
    }
}

/// Runs the job once.
pub async fn run<H: Host>(iso: &Isolate<H>) -> Result<CleanupReport, String> {
    let days = retention_days(iso)?;
    let now = iso.host().clock().now_ms() as i64;
    let cutoff_ms = now - (days as i64).saturating_mul(86_400_000);
    let sql = iso.host().sql();
    let cut = || SqlValue::Integer(cutoff_ms);
    let n = MAX_DELETES_PER_TABLE;
    let interactions = sql
        .execute(SqlStatement::new(
            format!(
                "DELETE FROM sf_interactions WHERE id IN (SELECT i.id FROM sf_interactions i \
                 WHERE i.created_at_ms < ? AND NOT EXISTS (SELECT 1 FROM sf_examples x WHERE x.id = i.id) \
                 AND (i.session_id IS NULL OR NOT EXISTS (SELECT 1 FROM sf_interactions j \
                 WHERE j.session_id = i.session_id AND j.created_at_ms >= ?)) LIMIT {n})"
            ),
            vec![cut(), cut()],
        ))
        .await
        .map_err(|e| format!("cleanup-old-sessions: sf_interactions: {e}"))?;
    let sessions = sql
        .execute(SqlStatement::new(
            format!(
                "DELETE FROM sf_sessions WHERE id IN (SELECT s.id FROM sf_sessions s WHERE s.created_at_ms < ? \
                 AND NOT EXISTS (SELECT 1 FROM sf_interactions i WHERE i.session_id = s.id) LIMIT {n})"
            ),
            vec![cut()],
        ))
        .await
        .map_err(|e| format!("cleanup-old-sessions: sf_sessions: {e}"))?;
    let orphan_outcomes = sql
        .execute(SqlStatement::new(
            format!(
                "DELETE FROM copilot_outcomes_v1 WHERE rowid IN (SELECT o.rowid FROM copilot_outcomes_v1 o \
                 WHERE o.occurredAtMs < ? AND NOT EXISTS (SELECT 1 FROM copilot_events_v1 e \
                 WHERE e.requestId = o.requestId) LIMIT {n})"
            ),
            vec![cut()],
        ))
        .await
        .map_err(|e| format!("cleanup-old-sessions: copilot_outcomes_v1: {e}"))?;
    Ok(CleanupReport {
        cutoff_ms,
        interactions,
        sessions,
        orphan_outcomes,
        capped: [interactions, sessions, orphan_outcomes].contains(&n),
    })
}

#[cfg(test)]
mod var_defaults {
    use super::*;

    #[test]
    fn the_policy_default_is_the_code_default() {
        assert_eq!(
            Var::SfSessionRetentionDays.default_value(),
            Some(DEFAULT_SESSION_RETENTION_DAYS.to_string().as_str())
        );
    }
}
