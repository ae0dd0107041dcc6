//! The generated code for the shipped policy, checked in at
//! fixtures/policy/valid/shipped.expected.rs so a change to the generator (or
//! to the policy) shows up as a reviewable diff. Refresh with
//! `SF_BLESS=1 cargo test -p sf-codegen --test golden`.

use std::path::Path;

#[test]
fn generated_code_matches_the_golden_copy() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let golden = root.join("fixtures/policy/valid/shipped.expected.rs");
    let g = match sf_codegen::compile(root) {
        Ok(g) => g,
        Err(d) => panic!("{d}"),
    };
    let actual = g.source();
    if std::env::var_os("SF_BLESS").is_some_and(|v| v == "1") {
        if let Err(e) = std::fs::write(&golden, &actual) {
            panic!("cannot write {}: {e}", golden.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        let line = |s: &str| s.lines().nth(first).unwrap_or("<end of file>").to_string();
        panic!(
            "the generated code differs from {} (first at line {}):\n  expected: {}\n  actual:   {}\n\
             If the change is intended, refresh the golden copy with\n  \
             SF_BLESS=1 cargo test -p sf-codegen --test golden\nand review the diff.",
            golden.display(),
            first + 1,
            line(&expected),
            line(&actual),
        );
    }
}
