//! `.dev.vars.example` and the "Variables" table of README.md are rendered
//! from policy/vars.yaml; this test fails when either drifts from the policy.
//! Rewrite both with `SF_BLESS=1 cargo test -p sf-codegen --test vars_docs`.

use std::path::Path;

fn bless() -> bool {
    std::env::var_os("SF_BLESS").is_some_and(|v| v == "1")
}

fn check(path: &Path, expected: &str) {
    if bless() {
        if let Err(e) = std::fs::write(path, expected) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is not what policy/vars.yaml renders to; refresh it with\n  \
         SF_BLESS=1 cargo test -p sf-codegen --test vars_docs\nand review the diff.\n\
         --- expected ---\n{expected}",
        path.display()
    );
}

fn policy() -> sf_codegen::Policy {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    match sf_codegen::compile(root) {
        Ok(g) => g.policy,
        Err(d) => panic!("{d}"),
    }
}

#[test]
fn dev_vars_example_matches_the_policy() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    check(
        &root.join(".dev.vars.example"),
        &policy().dev_vars_example(),
    );
}

#[test]
fn readme_variables_table_matches_the_policy() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap_or_default();
    let Some(expected) = policy().readme_with_vars(&readme) else {
        panic!(
            "README.md lacks the markers `{}` and `{}` around its Variables table",
            sf_codegen::vars::README_BEGIN,
            sf_codegen::vars::README_END
        );
    };
    check(&path, &expected);
}

#[test]
fn every_variable_is_in_both_documents() {
    let p = policy();
    let example = p.dev_vars_example();
    let table = p.vars_table_md();
    for v in &p.vars {
        assert!(example.contains(&format!("{}=", v.name)), "{}", v.name);
        assert!(table.contains(&format!("| `{}` |", v.name)), "{}", v.name);
    }
    // Secrets never show a value but an example placeholder.
    for v in p.vars.iter().filter(|v| v.secret) {
        assert!(v.default.is_none(), "{}", v.name);
    }
}
