//! stable_stringify and base_fingerprint against an independent
//! implementation: `fixtures/l10n/fingerprints.mjs`, run under Node, wrote
//! `fixtures/l10n/fingerprints.json`. No Node is needed here.

use serde_json::Value;
use sf_l10n::{base_fingerprint, stable_stringify};

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/l10n/fingerprints.json"
));

#[test]
fn matches_node_reference() {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let cases = fixture["cases"].as_array().expect("cases array");
    assert!(cases.len() >= 10, "fixture has too few cases");
    for case in cases {
        let json = case["json"].as_str().expect("json text");
        let input: Value = serde_json::from_str(json).expect("case input parses");
        assert_eq!(
            stable_stringify(&input),
            case["stable"].as_str().expect("stable text"),
            "stable text of {json}"
        );
        assert_eq!(
            base_fingerprint(&input),
            case["fingerprint"].as_str().expect("fingerprint"),
            "fingerprint of {json}"
        );
    }
}
