//! The approvals rules (policy/approvals.yaml), one test each: the shipped
//! policy with one line changed in memory, and the message it must give.

mod common;

/// The shipped policy with `old` replaced by `new` in its file.
fn with(old: &str, new: &str) -> Result<sf_codegen::Generated, sf_codegen::Diagnostics> {
    common::shipped_with(sf_codegen::load::APPROVALS, old, new)
}

fn fails(old: &str, new: &str, message: &str) {
    match with(old, new) {
        Ok(_) => panic!("`{new}` compiled but must fail"),
        Err(d) => assert!(
            d.0.iter().any(|x| x.message.contains(message)),
            "no `{message}` in:\n{d}"
        ),
    }
}

#[test]
fn the_shipped_rules_compile_into_tables() {
    let g = with("costThresholdUsd: 10", "costThresholdUsd: 10").expect("shipped policy");
    let a = &g.policy.approvals;
    assert_eq!(a.callers.len(), 1);
    let c = &a.callers[0];
    assert_eq!(
        (c.name.as_str(), c.token_var.as_str()),
        ("agency", "SF_APPROVALS_AGENCY_TOKEN")
    );
    assert_eq!((c.daily_budget_usd, c.cost_threshold_usd), (50.0, 10.0));
    assert_eq!(sf_codegen::model::TOLERANCES[c.tolerance], "balanced");
    assert_eq!(a.bars, [0.2, 0.4, 0.6]);
    let op = |i: usize| a.operations[i].name.as_str();
    assert_eq!(
        c.blocked.iter().map(|&i| op(i)).collect::<Vec<_>>(),
        ["financial_transactions"]
    );
    assert!(c.requires_human.iter().any(|&i| op(i) == "data_deletion"));
    let src = g.source();
    for item in [
        "pub enum ApprovalOperation",
        "pub enum RiskTolerance",
        "pub static APPROVAL_CALLERS",
        "pub const APPROVAL_MODEL",
    ] {
        assert!(src.contains(item), "{item} not emitted");
    }
}

#[test]
fn a_change_to_the_rules_changes_the_policy_version() {
    let a = with("dailyBudgetUsd: 50", "dailyBudgetUsd: 50").expect("shipped");
    let b = with("dailyBudgetUsd: 50", "dailyBudgetUsd: 60").expect("edited");
    assert_ne!(a.policy.version, b.policy.version);
}

#[test]
fn an_operation_both_blocked_and_human_only_is_refused() {
    fails(
        "blocked: [financial_transactions]",
        "blocked: [financial_transactions, data_deletion]",
        "operation `data_deletion` is both blocked and requiresHuman",
    );
}

#[test]
fn an_unknown_human_only_operation_is_refused() {
    fails(
        "requiresHuman: [data_deletion,",
        "requiresHuman: [data_delete,",
        "unknown operation `data_delete`",
    );
}

#[test]
fn a_duplicate_operation_is_refused() {
    fails(
        "  - { id: content,",
        "  - { id: code,",
        "duplicate operation `code`",
    );
}

#[test]
fn a_model_outside_the_providers_catalogue_is_refused() {
    fails(
        "model: deepseek-chat,",
        "model: gpt-4o,",
        "unknown model `gpt-4o` for provider `deepseek`",
    );
}

#[test]
fn timeouts_and_ttls_are_positive() {
    fails(
        "timeoutMs: 8000",
        "timeoutMs: 0",
        "timeoutMs must be between 1 and 60000",
    );
    fails(
        "pendingTtlMinutes: 1440",
        "pendingTtlMinutes: -5",
        "pendingTtlMinutes must be between",
    );
    fails(
        "maxDurationMinutes: 120",
        "maxDurationMinutes: 0",
        "maxDurationMinutes must be between",
    );
}

#[test]
fn tolerance_bars_are_complete_and_in_range() {
    fails(
        "balanced: 0.4, ",
        "",
        "risk tolerance `balanced` has no bar",
    );
    fails(
        "aggressive: 0.6",
        "aggressive: 1.5",
        "the `aggressive` bar must be in (0, 1]",
    );
    fails(
        "conservative: 0.2",
        "cautious: 0.2",
        "unknown risk tolerance `cautious`",
    );
    fails(
        "riskTolerance: balanced",
        "riskTolerance: yolo",
        "unknown risk tolerance `yolo`",
    );
}

#[test]
fn budgets_are_positive() {
    fails(
        "dailyBudgetUsd: 50",
        "dailyBudgetUsd: 0",
        "dailyBudgetUsd of caller `agency` must be a positive number",
    );
    fails(
        "costThresholdUsd: 10",
        "costThresholdUsd: -1",
        "costThresholdUsd of caller `agency` must be a number >= 0",
    );
}

#[test]
fn monitoring_and_token_variables_are_checked() {
    fails(
        "monitoring: basic",
        "monitoring: paranoid",
        "unknown monitoring level `paranoid`",
    );
    fails(
        "tokenVar: SF_APPROVALS_AGENCY_TOKEN",
        "tokenVar: agency-token",
        "unknown variable `agency-token`",
    );
}

#[test]
fn a_duplicate_caller_is_refused() {
    let dup = "callers:\n  - id: agency\n    tokenVar: T2\n    dailyBudgetUsd: 5\n    costThresholdUsd: 1\n    riskTolerance: conservative\n    limits: { maxDurationMinutes: 5, monitoring: strict }\n  - id: agency\n";
    fails(
        "callers:\n  - id: agency\n",
        dup,
        "duplicate caller `agency`",
    );
}
