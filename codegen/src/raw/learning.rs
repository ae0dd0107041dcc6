//! policy/learning.yaml as written (issue 11).

use serde::Deserialize;

use super::{Entries, S};

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LearningFile {
    pub continued_within_minutes: S<i64>,
    pub rescore_days: S<i64>,
    /// agent id -> signal -> weight.
    pub scoring: S<Entries<S<Entries<S<f64>>>>>,
    /// criterion -> its bar.
    pub criteria: S<Entries<S<LearningBar>>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LearningBar {
    #[serde(default)]
    pub min: Option<S<f64>>,
    #[serde(default)]
    pub max: Option<S<f64>>,
}
