//! The deterministic part of a decision, from the compiled rules
//! (`policy::CallerRules`): pure, so every rule is a unit test.

use sf_core::policy::{ApprovalOperation, CallerRules, MonitoringLevel};

/// What the rules say before any money is reserved or any model is asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Refused outright.
    Deny(String),
    /// A human decides.
    Human(String),
    /// No rule decides: the model does (within the day's budget).
    Grey,
}

/// One approval request as the agency sends it (seed: `POST /api/approve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub task_id: String,
    pub kind: String,
    pub description: String,
    pub estimated_cost: f64,
    pub agent_type: String,
}

/// Blocked → deny; over the threshold, a human-only or an unknown type → a
/// human. The day's budget is checked atomically afterwards ([`crate::spend`]).
pub fn gate(rules: &CallerRules, t: &Task) -> Gate {
    let Some(op) = ApprovalOperation::from_name(&t.kind) else {
        return Gate::Human(format!(
            "`{}` is not a declared operation type; a human decides",
            t.kind
        ));
    };
    if rules.blocked.contains(&op) {
        return Gate::Deny(format!("`{op}` operations are blocked for this caller"));
    }
    if t.estimated_cost > rules.daily_budget_usd {
        return Gate::Deny(format!(
            "Estimated cost ${:.2} is above the daily budget of ${:.2}",
            t.estimated_cost, rules.daily_budget_usd
        ));
    }
    if rules.requires_human.contains(&op) {
        return Gate::Human(format!("`{op}` operations always need a human"));
    }
    if t.estimated_cost > rules.cost_threshold_usd {
        return Gate::Human(format!(
            "Estimated cost ${:.2} is above the ${:.2} threshold; a human decides",
            t.estimated_cost, rules.cost_threshold_usd
        ));
    }
    Gate::Grey
}

/// The limits an approval imposes: the caller's, tightened (never loosened)
/// by what the model asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_duration_minutes: u32,
    pub monitoring: MonitoringLevel,
}

impl Limits {
    pub fn of(rules: &CallerRules) -> Self {
        Limits {
            max_duration_minutes: rules.max_duration_minutes,
            monitoring: rules.monitoring,
        }
    }

    pub fn tightened(self, minutes: Option<u32>, monitoring: Option<MonitoringLevel>) -> Self {
        Limits {
            max_duration_minutes: minutes
                .filter(|m| *m > 0)
                .map_or(self.max_duration_minutes, |m| {
                    m.min(self.max_duration_minutes)
                }),
            monitoring: monitoring.map_or(self.monitoring, |m| m.max(self.monitoring)),
        }
    }
}

/// `"2 hours"`, `"90 minutes"`: the seed's `maxDuration` wording.
pub fn duration_words(minutes: u32) -> String {
    match minutes {
        60 => "1 hour".into(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        1 => "1 minute".into(),
        m => format!("{m} minutes"),
    }
}

/// USD to integer micro-dollars for the counter (rounded up: never under-reserve).
pub fn micros(usd: f64) -> i64 {
    if !usd.is_finite() || usd <= 0.0 {
        return 0;
    }
    (usd * 1e6).ceil().min(i64::MAX as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use sf_core::policy::ApprovalCaller;

    fn task(kind: &str, cost: f64) -> Task {
        Task {
            task_id: "t".into(),
            kind: kind.into(),
            description: "d".into(),
            estimated_cost: cost,
            agent_type: "CodeGen".into(),
        }
    }

    fn rules() -> &'static CallerRules {
        ApprovalCaller::Agency.rules()
    }

    #[test]
    fn the_shipped_table_is_the_policy() {
        let r = rules();
        assert_eq!((r.daily_budget_usd, r.cost_threshold_usd), (50.0, 10.0));
        assert_eq!(r.token_var, "SF_APPROVALS_AGENCY_TOKEN");
        assert_eq!(r.tolerance.bar(), 0.4);
        assert!(r
            .blocked
            .contains(&ApprovalOperation::FinancialTransactions));
    }

    #[test]
    fn blocked_operations_are_denied_whatever_they_cost() {
        assert!(matches!(
            gate(rules(), &task("financial_transactions", 0.0)),
            Gate::Deny(_)
        ));
    }

    #[test]
    fn over_the_daily_budget_is_denied_before_a_human_sees_it() {
        assert!(matches!(gate(rules(), &task("code", 50.01)), Gate::Deny(_)));
        assert!(matches!(
            gate(rules(), &task("data_deletion", 80.0)),
            Gate::Deny(_)
        ));
    }

    #[test]
    fn over_the_threshold_human_only_and_unknown_types_go_to_a_human() {
        assert!(matches!(
            gate(rules(), &task("code", 10.01)),
            Gate::Human(_)
        ));
        assert!(matches!(
            gate(rules(), &task("data_deletion", 0.1)),
            Gate::Human(_)
        ));
        assert!(matches!(
            gate(rules(), &task("teleport", 0.1)),
            Gate::Human(_)
        ));
    }

    #[test]
    fn the_rest_is_the_grey_zone() {
        assert_eq!(gate(rules(), &task("code", 5.5)), Gate::Grey);
        assert_eq!(gate(rules(), &task("research", 10.0)), Gate::Grey);
    }

    #[test]
    fn the_model_may_tighten_limits_but_never_loosen_them() {
        let l = Limits::of(rules());
        assert_eq!(l.tightened(Some(600), Some(MonitoringLevel::Basic)), l);
        let t = l.tightened(Some(30), Some(MonitoringLevel::Strict));
        assert_eq!(
            (t.max_duration_minutes, t.monitoring),
            (30, MonitoringLevel::Strict)
        );
        assert_eq!(duration_words(120), "2 hours");
        assert_eq!(duration_words(90), "90 minutes");
    }

    #[test]
    fn costs_are_reserved_rounded_up() {
        assert_eq!(micros(5.5), 5_500_000);
        assert_eq!(micros(0.0000001), 1);
        assert_eq!(micros(-1.0), 0);
        assert_eq!(micros(f64::NAN), 0);
    }
}
