//! The learning rules (policy/learning.yaml) beyond the trybuild cases: the
//! shipped policy with one change in memory, and the message it must give.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn with(old: &str, new: &str) -> Result<sf_codegen::Generated, sf_codegen::Diagnostics> {
    let mut files: Vec<(String, String)> = sf_codegen::load::FILES
        .iter()
        .map(|rel| {
            let text = std::fs::read_to_string(root().join(rel)).expect("policy file");
            if *rel == sf_codegen::load::LEARNING {
                assert_eq!(text.matches(old).count(), 1, "`{old}` must occur once");
                ((*rel).to_owned(), text.replace(old, new))
            } else {
                ((*rel).to_owned(), text)
            }
        })
        .collect();
    for e in std::fs::read_dir(root().join("policy/prompts"))
        .expect("policy/prompts")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(e.path()).expect("prompt file");
        files.push((format!("policy/prompts/{name}"), text));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(r, t)| (r.as_str(), t.as_str()))
        .collect();
    sf_codegen::compile_sources(&refs)
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
}
