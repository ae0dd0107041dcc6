//! The `score-interactions` job (policy/jobs.yaml, hourly): writes `score` on
//! the `copilot_events_v1` rows of every agent policy/learning.yaml scores.
//!
//! A score is the weighted sum of the agent's signals (`policy::Signal`),
//! each 0 or 1. Outcomes (`copilot_outcomes_v1`) are joined by `requestId`
//! whenever they arrived: an outcome that came before its interaction is kept
//! by `/v1/outcome` and counts once the interaction row exists. Each run
//! re-scores the last `policy::RESCORE_DAYS` days, so late outcomes and later
//! interactions of the session (`continued`) change the score. One UPDATE per
//! scored agent (idempotent), then `sf_interactions.score` is copied from it.

use sf_core::policy::{self, Scoring, Signal};
use sf_core::ports::{Clock, Host, Sql, SqlStatement, SqlValue};
use sf_core::Isolate;

const T: &str = "copilot_events_v1";

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreReport {
    /// Interactions at or after this time (ms) were (re-)scored.
    pub since_ms: i64,
    pub scored: u64,
    pub agents: usize,
}

fn has_outcome(events: &[&str]) -> String {
    let list: Vec<String> = events.iter().map(|e| format!("'{e}'")).collect();
    format!(
        "EXISTS (SELECT 1 FROM copilot_outcomes_v1 o WHERE o.requestId = {T}.requestId AND o.event IN ({}))",
        list.join(", ")
    )
}

/// The SQL condition under which `s` is 1 for the row of `copilot_events_v1`.
pub fn condition(s: Signal) -> String {
    let window_ms = i64::from(policy::CONTINUED_WITHIN_MINUTES) * 60_000;
    match s {
        Signal::OpsValid => format!("{T}.outcome = 'ops_applied'"),
        Signal::Continued => format!(
            "(EXISTS (SELECT 1 FROM {T} n WHERE n.sessionId = {T}.sessionId AND n.requestId <> {T}.requestId \
             AND n.occurredAtMs > {T}.occurredAtMs AND n.occurredAtMs <= {T}.occurredAtMs + {window_ms}) OR {})",
            has_outcome(&["ux_keep"])
        ),
        Signal::Kept => has_outcome(&["ux_keep"]),
        Signal::NotUndone => format!("NOT {}", has_outcome(&["ux_undo"])),
        Signal::Clicked => has_outcome(&["cta_clicked", "upgrade_clicked"]),
        Signal::Converted => format!(
            "({T}.convertedAtMs IS NOT NULL OR {})",
            has_outcome(&crate::conversion::CONVERTED_EVENTS)
        ),
        Signal::Paid => format!(
            "({T}.paidAtMs IS NOT NULL OR {})",
            has_outcome(&crate::conversion::PAID_EVENTS)
        ),
        Signal::Helpful => has_outcome(&["feedback_helpful"]),
    }
}

/// The score of a row as an SQL expression (weights are policy constants).
pub fn expression(s: &Scoring) -> String {
    let terms: Vec<String> = s
        .weights
        .iter()
        .map(|(sig, w)| format!("{w:?} * (CASE WHEN {} THEN 1 ELSE 0 END)", condition(*sig)))
        .collect();
    if terms.is_empty() {
        "0.0".to_string()
    } else {
        terms.join(" + ")
    }
}

/// Runs the job once: the conversion marks of the window first
/// ([`crate::conversion::mark_all`]), then every scored agent's rows.
pub async fn run<H: Host>(iso: &Isolate<H>) -> Result<ScoreReport, String> {
    let now = iso.host().clock().now_ms() as i64;
    let since_ms = now - i64::from(policy::RESCORE_DAYS) * 86_400_000;
    crate::conversion::mark_all(iso.host(), since_ms)
        .await
        .map_err(|e| format!("score-interactions: {e}"))?;
    let scored = rescore(
        iso.host(),
        now,
        "occurredAtMs >= ?",
        vec![SqlValue::Integer(since_ms)],
    )
    .await
    .map_err(|e| format!("score-interactions: {e}"))?;
    Ok(ScoreReport {
        since_ms,
        scored,
        agents: policy::SCORING.len(),
    })
}

/// Re-scores the rows of `copilot_events_v1` matching `filter` (an SQL
/// condition on its columns with `params`) for every scored agent, stamps
/// them `scoredAtMs = now` and copies the scores to `sf_interactions`.
/// Returns the rows scored.
pub async fn rescore<H: Host>(
    h: &H,
    now: i64,
    filter: &str,
    params: Vec<SqlValue>,
) -> Result<u64, String> {
    let mut scored = 0u64;
    for s in &policy::SCORING {
        let sql = format!(
            "UPDATE {T} SET score = ROUND({}, 6), scoredAtMs = ? WHERE agentId = ? AND ({filter})",
            expression(s)
        );
        let mut args = vec![SqlValue::Integer(now), s.agent.name().into()];
        args.extend(params.iter().cloned());
        scored += h
            .sql()
            .execute(SqlStatement::new(sql, args))
            .await
            .map_err(|e| format!("scoring {}: {e}", s.agent))?;
    }
    // The workforce row of the same interaction carries the same score.
    h.sql()
        .execute(SqlStatement::new(
            format!(
                "UPDATE sf_interactions SET score = (SELECT e.score FROM {T} e WHERE e.requestId = sf_interactions.id) \
                 WHERE id IN (SELECT requestId FROM {T} WHERE scoredAtMs = ? AND ({filter}))"
            ),
            std::iter::once(SqlValue::Integer(now)).chain(params).collect(),
        ))
        .await
        .map_err(|e| format!("sf_interactions: {e}"))?;
    Ok(scored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sf_core::policy::Agent;

    #[test]
    fn the_shipped_sdr_widget_formula_is_seed_001s() {
        let s = Agent::SdrWidgetCopilotV1.scoring().expect("scored");
        assert_eq!(
            s.weights,
            &[
                (Signal::OpsValid, 0.2),
                (Signal::Continued, 0.2),
                (Signal::Converted, 0.4),
                (Signal::Paid, 0.2)
            ]
        );
        for a in [Agent::CsWidgetCopilotV1, Agent::SdrCopilot] {
            let w: f64 = a
                .scoring()
                .expect("scored")
                .weights
                .iter()
                .map(|x| x.1)
                .sum();
            assert!((w - 1.0).abs() < 1e-9, "{a}");
        }
        assert!(
            expression(s).starts_with("0.2 * (CASE WHEN copilot_events_v1.outcome = 'ops_applied'")
        );
    }
}
