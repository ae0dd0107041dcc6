//! policy/approvals.yaml as written (issue 15).

use serde::Deserialize;

use super::{Entries, S};

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApprovalsFile {
    pub model: S<ApprovalModel>,
    pub pending_ttl_minutes: S<i64>,
    pub tolerances: S<Entries<S<f64>>>,
    pub operations: Vec<S<ApprovalOperation>>,
    pub callers: S<Vec<S<ApprovalCaller>>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApprovalModel {
    pub provider: S<String>,
    pub model: S<String>,
    pub timeout_ms: S<i64>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalOperation {
    pub id: S<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApprovalCaller {
    pub id: S<String>,
    pub token_var: S<String>,
    pub daily_budget_usd: S<f64>,
    pub cost_threshold_usd: S<f64>,
    pub risk_tolerance: S<String>,
    #[serde(default)]
    pub blocked: Vec<S<String>>,
    #[serde(default)]
    pub requires_human: Vec<S<String>>,
    pub limits: ApprovalLimits,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApprovalLimits {
    pub max_duration_minutes: S<i64>,
    pub monitoring: S<String>,
}
