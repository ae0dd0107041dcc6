//! The learning rules (policy/learning.yaml): the four fixtures of
//! fixtures/policy/invalid/learning_* (also trybuild cases) with their exact
//! place, then the other rules on the shipped policy changed in memory.

mod common;

/// The shipped policy with `old` replaced by `new` in its file.
fn with(old: &str, new: &str) -> Result<sf_codegen::Generated, sf_codegen::Diagnostics> {
    common::shipped_with(sf_codegen::load::LEARNING, old, new)
}

fn fails(old: &str, new: &str, message: &str) {
    match with(old, new) {
        Ok(_) => panic!("`{new}` compiled but must fail"),
        Err(d) => {
            assert!(
                d.0.iter().any(|x| x.message.contains(message)),
                "no `{message}` in:\n{d}"
            );
            assert_eq!(d.0.len(), 1, "one mistake, one error:\n{d}");
        }
    }
}

#[test]
fn the_shipped_learning_policy_compiles() {
    let g = with("rescoreDays: 7", "rescoreDays: 7").expect("shipped policy");
    let l = &g.policy.learning;
    assert_eq!(l.scoring.len(), 3);
    assert_eq!(l.criteria, vec![0.8, 0.25, 8000.0, 0.05]);
    assert_eq!((l.continued_within_minutes, l.rescore_days), (30, 7));
}

#[test]
fn each_learning_rule() {
    // A second scoring of one agent is a duplicate YAML key, refused by the parser.
    match with(
        "  sdr.copilot: { continued: 0.3,",
        "  sdr.widget.copilot.v1: { continued: 0.3,",
    ) {
        Ok(_) => panic!("a duplicate scoring compiled"),
        Err(d) => assert!(d.to_string().contains("duplicate mapping key"), "{d}"),
    }
    // So is a signal weighted twice.
    match with("clicked: 0.3, converted", "continued: 0.3, converted") {
        Ok(_) => panic!("a duplicate weight compiled"),
        Err(d) => assert!(d.to_string().contains("duplicate mapping key"), "{d}"),
    }
    fails(
        "{ continued: 0.3, clicked: 0.3, converted: 0.4 }",
        "{}",
        "the weights of agent `sdr.copilot` sum to 0, not 1",
    );
    fails(
        "undoRate: { max: 0.25 }",
        "undoRate: { min: 0.25 }",
        "criterion `undoRate` takes exactly one bound, `max`",
    );
    fails(
        "validOpsRate: { min: 0.8 }",
        "validOpsRate: { min: 80 }",
        "the bar of `validOpsRate` is out of range: 80",
    );
    fails(
        "  conversionRate: { min: 0.05 }\n",
        "",
        "criterion `conversionRate` has no bar",
    );
    fails(
        "  conversionRate: { min: 0.05 }\n",
        "  conversionRate: { min: 0.05 }\n  liftRate: { min: 0.1 }\n",
        "unknown criterion `liftRate`",
    );
    fails(
        "continuedWithinMinutes: 30",
        "continuedWithinMinutes: 0",
        "continuedWithinMinutes must be from 1 to 1440, not 0",
    );
    fails(
        "rescoreDays: 7",
        "rescoreDays: 365",
        "rescoreDays must be from 1 to 90, not 365",
    );
    // Example banks: k >= 1, a positive token budget, a minimum score in [0, 1].
    fails(
        "sdr.copilot: { k: 3,",
        "sdr.copilot: { k: 0,",
        "the example bank of `sdr.copilot` must keep k from 1 to 50 examples, not 0",
    );
    fails(
        "tokenBudget: 800,",
        "tokenBudget: 0,",
        "the token budget of the example bank of `sdr.copilot` must be from 1 to 100000, not 0",
    );
    fails(
        "tokenBudget: 800, minScore: 0.6",
        "tokenBudget: 800, minScore: 1.5",
        "the minScore of the example bank of `sdr.copilot` must be in [0, 1], not 1.5",
    );
}

#[test]
fn the_helpful_signal_and_the_banks_compile() {
    let g = with(
        "sdr.copilot: { continued: 0.3, clicked: 0.3, converted: 0.4 }",
        "sdr.copilot: { continued: 0.3, helpful: 0.3, converted: 0.4 }",
    )
    .expect("helpful is a signal");
    let s = g
        .policy
        .learning
        .scoring
        .iter()
        .find(|s| s.weights.len() == 3)
        .expect("sdr.copilot");
    let helpful = sf_codegen::model::SIGNALS
        .iter()
        .position(|s| s.0 == "helpful");
    assert!(s.weights.iter().any(|(i, _)| Some(*i) == helpful));
    let banks = &g.policy.learning.banks;
    assert_eq!(
        banks
            .iter()
            .map(|b| (b.k, b.token_budget))
            .collect::<Vec<_>>(),
        [(3, 1500), (3, 1500), (3, 800)]
    );
}

fn case(name: &str) -> std::path::PathBuf {
    common::root().join("fixtures/policy/invalid").join(name)
}

/// The fixture's one error: place, message and help.
fn expect(name: &str, count: usize, file: &str, line: u64, col: u64, message: &str, help: &str) {
    let d = match sf_codegen::compile(&case(name)) {
        Ok(_) => panic!("fixture `{name}` compiled but must fail"),
        Err(d) => d,
    };
    let first = &d.0[0];
    assert_eq!(
        (
            first.file.as_str(),
            first.line,
            first.col,
            first.message.as_str()
        ),
        (file, line, col, message),
        "{d}"
    );
    assert!(first.help.as_deref().unwrap_or("").contains(help), "{d}");
    assert_eq!(d.len(), count, "{d}");
}

#[test]
fn learning_unknown_signal() {
    expect(
        "learning_unknown_signal",
        1,
        "policy/learning.yaml",
        35,
        43,
        "unknown signal `continud`",
        "did you mean `continued`?",
    );
}
#[test]
fn learning_weight_out_of_range() {
    expect(
        "learning_weight_out_of_range",
        1,
        "policy/learning.yaml",
        37,
        48,
        "the weight of `kept` must be in [0, 1], not 1.5",
        "weighted share",
    );
}
#[test]
fn learning_weights_not_one() {
    expect(
        "learning_weights_not_one",
        1,
        "policy/learning.yaml",
        39,
        16,
        "the weights of agent `sdr.copilot` sum to 1.1, not 1",
        "add up to 1",
    );
}
#[test]
fn learning_bank_unknown_agent() {
    expect(
        "learning_bank_unknown_agent",
        1,
        "policy/learning.yaml",
        50,
        3,
        "unknown agent `sdr.copilott`",
        "did you mean `sdr.copilot`?",
    );
}
#[test]
fn learning_unknown_agent() {
    expect(
        "learning_unknown_agent",
        1,
        "policy/learning.yaml",
        39,
        3,
        "unknown agent `sdr.copilott`",
        "did you mean `sdr.copilot`?",
    );
}
