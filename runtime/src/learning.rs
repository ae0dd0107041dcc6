//! Glue between the learning loop (`sf_learning`: prompt versions,
//! experiments) and the interaction records (`sf_records`), which the two
//! features cannot reach from each other: the experiments' arm counts come
//! from the records, judged on the experiment's metric.

use sf_core::error::ApiError;
use sf_core::ports::Host;
use sf_learning::experiments::{ArmCounts, Metric, SUCCESS_SCORE};
use sf_learning::Tally;

/// [`ArmCounts`] over `copilot_events_v1`.
pub struct RecordCounts<'a, H: Host>(pub &'a H);

impl<H: Host> ArmCounts for RecordCounts<'_, H> {
    async fn counts(
        &self,
        experiment_id: &str,
        metric: Metric,
    ) -> Result<Vec<(String, Tally)>, ApiError> {
        let (success, scored_only) = match metric {
            Metric::Score => (format!("score >= {SUCCESS_SCORE}"), true),
            Metric::Signal(s) => (sf_records::score::condition(s), false),
        };
        let rows = sf_records::arms::counts(self.0, experiment_id, &success, scored_only).await?;
        Ok(rows
            .into_iter()
            .map(|(v, trials, successes)| (v, Tally { trials, successes }))
            .collect())
    }
}
