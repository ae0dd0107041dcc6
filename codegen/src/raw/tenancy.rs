//! policy/tenancy.yaml as written (issue 13).

use serde::Deserialize;

use super::S;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenancyFile {
    pub classes: S<TenancyClasses>,
    pub timeout_ms: S<i64>,
    pub workloads: S<Vec<S<String>>>,
    pub default_tier: S<String>,
    pub tiers: S<Vec<S<TenancyTier>>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TenancyClasses {
    pub high: S<TenancyModel>,
    pub fast: S<TenancyModel>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TenancyModel {
    pub provider: S<String>,
    pub model: S<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenancyTier {
    pub id: S<String>,
    pub class: S<String>,
    pub workloads: Vec<S<String>>,
    pub requests_per_day: S<i64>,
    pub tokens_per_day: S<i64>,
    /// Shadow mode per rule: `enforce` (omitted) or `monitor`.
    #[serde(default)]
    pub modes: Option<S<TierModes>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TierModes {
    #[serde(default)]
    pub quota: Option<S<String>>,
    #[serde(default)]
    pub workload: Option<S<String>>,
    #[serde(default)]
    pub model: Option<S<String>>,
}
