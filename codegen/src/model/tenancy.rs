//! The checked tenancy policy (policy/tenancy.yaml).

use serde_json::{json, Value};

/// The rubric's model classes, in the order of the generated `ModelClass`.
pub const CLASSES: [&str; 2] = ["high", "fast"];
/// Tiers the rubric names, and the class each must map to.
pub const RUBRIC: [(&str, usize); 2] = [("premium", 0), ("free", 1)];

#[derive(Debug, Clone, Default)]
pub struct Tenancy {
    /// (provider, model) indices per class, in [`CLASSES`] order.
    pub classes: [(usize, usize); 2],
    pub timeout_ms: u32,
    pub workloads: Vec<(String, String)>,
    pub tiers: Vec<TierDef>,
    /// Tier index for a tenant created without one.
    pub default_tier: usize,
}

#[derive(Debug, Clone)]
pub struct TierDef {
    pub name: String,
    pub ident: String,
    /// Index into [`CLASSES`].
    pub class: usize,
    /// Workload indices.
    pub workloads: Vec<usize>,
    pub requests_per_day: u64,
    pub tokens_per_day: u64,
    /// Rules of [`RULES`] in shadow mode (`monitor`) for this tier, by index.
    pub monitor: Vec<usize>,
}

/// The rules a tier may put in shadow mode, in the order of the generated `TenancyRule`.
pub const RULES: [&str; 3] = ["quota", "workload", "model"];
/// The modes a rule may have.
pub const MODES: [&str; 2] = ["enforce", "monitor"];

impl Tenancy {
    /// The canonical (and explained) form: names, not indices.
    pub fn canonical_json(&self, name: impl Fn(usize, usize) -> (String, String)) -> Value {
        let classes: serde_json::Map<String, Value> = CLASSES
            .iter()
            .zip(&self.classes)
            .map(|(c, &(p, m))| {
                let (p, m) = name(p, m);
                (c.to_string(), json!({"provider": p, "model": m}))
            })
            .collect();
        json!({
            "classes": classes,
            "timeoutMs": self.timeout_ms,
            "workloads": self.workloads.iter().map(|w| w.0.clone()).collect::<Vec<_>>(),
            "defaultTier": self.tiers.get(self.default_tier).map(|t| t.name.clone()),
            "tiers": self.tiers.iter().map(|t| json!({
                "id": t.name, "class": CLASSES.get(t.class),
                "workloads": t.workloads.iter().filter_map(|&i| self.workloads.get(i).map(|w| w.0.clone())).collect::<Vec<_>>(),
                "requestsPerDay": t.requests_per_day, "tokensPerDay": t.tokens_per_day,
                "modes": RULES.iter().enumerate().map(|(i, r)| (r.to_string(), json!(MODES[usize::from(t.monitor.contains(&i))]))).collect::<serde_json::Map<String, Value>>(),
            })).collect::<Vec<_>>(),
        })
    }
}
