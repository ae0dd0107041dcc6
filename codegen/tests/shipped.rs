//! The shipped policy compiles and matches CONTRACT.md.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn shipped_policy_compiles() {
    let g = match sf_codegen::compile(root()) {
        Ok(g) => g,
        Err(d) => panic!("{d}"),
    };
    if std::env::var_os("SF_DUMP").is_some() {
        println!("{}", g.source());
        println!(
            "{}",
            serde_json::to_string_pretty(&g.policy.explain_json()).unwrap_or_default()
        );
    }
    assert!(g.policy.version.starts_with("pol-"));
    assert_eq!(g.policy.version.len(), 20);
}
