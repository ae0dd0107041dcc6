//! trybuild: the shipped policy compiles (and its API behaves), and every
//! broken policy under fixtures/policy/invalid/ fails with the reviewed
//! `.stderr` next to it. Bless with `TRYBUILD=overwrite`, then read the diff.

use std::path::Path;

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    // The macro resolves `$NAME/...` from the environment of rustc, which
    // trybuild's cargo inherits from this process.
    std::env::set_var("SF_POLICY_ROOT", &root);
    std::env::set_var("SF_POLICY_FIXTURES", root.join("fixtures/policy"));
    let t = trybuild::TestCases::new();
    t.pass("../../fixtures/policy/valid/shipped.rs");
    t.compile_fail("../../fixtures/policy/invalid/*/*.rs");
}
