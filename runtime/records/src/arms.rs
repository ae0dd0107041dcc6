//! The arms of a prompt experiment, counted from the interaction records:
//! per prompt version the experiment chose (`promptUsed` of the rows filed
//! with its `experimentId`), the interactions and those that succeeded.

use sf_core::error::{ApiError, ErrorCode};
use sf_core::ports::{Host, Sql, SqlStatement};

/// `(version, interactions, successes)` of experiment `experiment_id`, where
/// `success_sql` is a condition over a `copilot_events_v1` row (e.g.
/// [`crate::score::condition`]); with `scored_only`, rows the scoring job
/// has not scored yet are left out.
pub async fn counts<H: Host>(
    h: &H,
    experiment_id: &str,
    success_sql: &str,
    scored_only: bool,
) -> Result<Vec<(String, u64, u64)>, ApiError> {
    let scored = if scored_only {
        " AND score IS NOT NULL"
    } else {
        ""
    };
    let rows = h
        .sql()
        .query(SqlStatement::new(
            format!(
                "SELECT promptUsed AS version, COUNT(*) AS n, \
                 SUM(CASE WHEN {success_sql} THEN 1 ELSE 0 END) AS s \
                 FROM copilot_events_v1 WHERE experimentId = ? AND promptUsed IS NOT NULL{scored} \
                 GROUP BY promptUsed"
            ),
            vec![experiment_id.into()],
        ))
        .await
        .map_err(|e| {
            sf_core::sf_log!("records: counting experiment {experiment_id} failed: {e}");
            ApiError::new(
                503,
                ErrorCode::ProviderError,
                "The database could not count the experiment's arms; retry shortly",
            )
        })?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.text("version")?.to_owned(), r.count("n"), r.count("s"))))
        .collect())
}
