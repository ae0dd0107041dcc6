//! The checked approvals rules (policy/approvals.yaml).

use serde_json::{json, Value};

/// Risk tolerances, in the order the generated `Tolerance` enum uses.
pub const TOLERANCES: [&str; 3] = ["conservative", "balanced", "aggressive"];
/// Monitoring levels an approval may impose, least to most.
pub const MONITORING: [&str; 3] = ["basic", "detailed", "strict"];

#[derive(Debug, Clone, Default)]
pub struct Approvals {
    /// Provider and model indices for the grey zone.
    pub provider: usize,
    pub model: usize,
    pub timeout_ms: u32,
    pub pending_ttl_minutes: u32,
    /// The decision bar per tolerance, in [`TOLERANCES`] order.
    pub bars: [f64; 3],
    pub operations: Vec<OperationDef>,
    pub callers: Vec<CallerDef>,
}

#[derive(Debug, Clone)]
pub struct OperationDef {
    pub name: String,
    pub ident: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct CallerDef {
    pub name: String,
    pub ident: String,
    pub token_var: String,
    pub daily_budget_usd: f64,
    pub cost_threshold_usd: f64,
    /// Index into [`TOLERANCES`].
    pub tolerance: usize,
    /// Operation indices.
    pub blocked: Vec<usize>,
    pub requires_human: Vec<usize>,
    pub max_duration_minutes: u32,
    /// Index into [`MONITORING`].
    pub monitoring: usize,
}

impl Approvals {
    /// The canonical form hashed into `POLICY_VERSION` (names, not indices).
    pub fn canonical_json(&self, provider: &str, model: &str) -> Value {
        let ops = |v: &[usize]| -> Vec<&str> {
            v.iter()
                .filter_map(|&i| self.operations.get(i).map(|o| o.name.as_str()))
                .collect()
        };
        json!({
            "model": {"provider": provider, "model": model, "timeoutMs": self.timeout_ms},
            "pendingTtlMinutes": self.pending_ttl_minutes,
            "tolerances": self.bars,
            "operations": self.operations.iter().map(|o| o.name.clone()).collect::<Vec<_>>(),
            "callers": self.callers.iter().map(|c| json!({
                "id": c.name, "tokenVar": c.token_var, "dailyBudgetUsd": c.daily_budget_usd,
                "costThresholdUsd": c.cost_threshold_usd, "riskTolerance": TOLERANCES.get(c.tolerance),
                "blocked": ops(&c.blocked), "requiresHuman": ops(&c.requires_human),
                "maxDurationMinutes": c.max_duration_minutes, "monitoring": MONITORING.get(c.monitoring),
            })).collect::<Vec<_>>(),
        })
    }
}
