//! The checked learning rules (policy/learning.yaml): how an interaction is
//! scored, per agent, and the success criteria of `sf report`.

use serde_json::{json, Value};

/// The signals a score weighs, in the order of the generated `Signal` enum
/// (name, Rust identifier, what it means; each is 0 or 1 per interaction).
pub const SIGNALS: [(&str, &str, &str); 8] = [
    ("opsValid", "OpsValid", "the interaction's index row has outcome `ops_applied`"),
    ("continued", "Continued", "a later interaction in the same session within `continuedWithinMinutes`, or a `ux_keep` outcome"),
    ("kept", "Kept", "a `ux_keep` outcome"),
    ("notUndone", "NotUndone", "no `ux_undo` outcome"),
    ("clicked", "Clicked", "a `cta_clicked` or `upgrade_clicked` outcome"),
    ("converted", "Converted", "a `signup_completed` or `upgrade_completed` outcome"),
    ("paid", "Paid", "an `upgrade_completed` outcome"),
    ("helpful", "Helpful", "a `feedback_helpful` outcome (the user said the answer helped)"),
];

/// The success criteria (seed 004 section 11), in the order of the generated
/// `Criterion` enum: (name, Rust identifier, the bound it takes: true = `min`).
pub const CRITERIA: [(&str, &str, bool); 4] = [
    ("validOpsRate", "ValidOpsRate", true),
    ("undoRate", "UndoRate", false),
    ("p95LatencyMs", "P95LatencyMs", false),
    ("conversionRate", "ConversionRate", true),
];

#[derive(Debug, Clone, Default)]
pub struct Learning {
    pub continued_within_minutes: u32,
    pub rescore_days: u32,
    pub scoring: Vec<ScoringDef>,
    /// One bar per [`CRITERIA`] entry, in that order.
    pub criteria: Vec<f64>,
    /// The example banks of `update-example-banks`, in policy order.
    pub banks: Vec<BankDef>,
}

/// One agent's example bank (policy/learning.yaml `exampleBanks`).
#[derive(Debug, Clone)]
pub struct BankDef {
    /// Agent index.
    pub agent: usize,
    /// Examples kept per widget type (the best by score), golden ones aside.
    pub k: u32,
    /// Tokens (characters / 4) the rendered examples of the bank stay within.
    pub token_budget: u32,
    /// Lowest score an example by score may have.
    pub min_score: f64,
}

#[derive(Debug, Clone)]
pub struct ScoringDef {
    /// Agent index.
    pub agent: usize,
    /// (index into [`SIGNALS`], weight), in policy order.
    pub weights: Vec<(usize, f64)>,
}

impl Learning {
    /// The canonical form hashed into `POLICY_VERSION` (names, not indices).
    pub fn canonical_json(&self, agent: impl Fn(usize) -> String) -> Value {
        json!({
            "continuedWithinMinutes": self.continued_within_minutes,
            "rescoreDays": self.rescore_days,
            "scoring": self.scoring.iter().map(|s| json!({
                "agent": agent(s.agent),
                "weights": s.weights.iter().map(|(i, w)| json!([SIGNALS.get(*i).map(|s| s.0), w])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "criteria": self.criteria,
            "exampleBanks": self.banks.iter().map(|b| json!({
                "agent": agent(b.agent), "k": b.k, "tokenBudget": b.token_budget, "minScore": b.min_score,
            })).collect::<Vec<_>>(),
        })
    }
}
