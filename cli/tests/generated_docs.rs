//! The generated documents are checked in and current: docs/openapi.json
//! (`sf openapi`), docs/schemas/*.schema.json (`sf policy schema`), and the
//! `# yaml-language-server: $schema=...` line at the top of every policy
//! file pointing at its schema. Refresh with
//! `SF_BLESS=1 cargo test -p sf-cli --test generated_docs` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bless() -> bool {
    std::env::var_os("SF_BLESS").is_some_and(|v| v == "1")
}

fn sf(args: &[&str]) -> String {
    let out = match Command::new(env!("CARGO_BIN_EXE_sf"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run sf: {e}"),
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "sf {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn same_or_bless(path: &Path, want: &str) {
    if bless() {
        if let Some(d) = path.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        if let Err(e) = std::fs::write(path, want) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run\n  SF_BLESS=1 cargo test -p sf-cli --test generated_docs\nand review the diff.",
        path.display()
    );
}

#[test]
fn openapi_json_is_current() {
    same_or_bless(&root().join("docs/openapi.json"), &sf(&["openapi"]));
}

#[test]
fn policy_schemas_are_current_and_referenced() {
    let printed: serde_json::Value = match serde_json::from_str(&sf(&["policy", "schema"])) {
        Ok(v) => v,
        Err(e) => panic!("sf policy schema printed invalid JSON: {e}"),
    };
    let Some(schemas) = printed["schemas"].as_object() else {
        panic!("no schemas: {printed}")
    };
    assert_eq!(schemas.len(), 14, "one schema per policy file");
    for (rel, schema) in schemas {
        let stem = rel
            .rsplit('/')
            .next()
            .and_then(|b| b.strip_suffix(".yaml"))
            .unwrap_or(rel);
        let file = root().join(format!("docs/schemas/{stem}.schema.json"));
        let text = serde_json::to_string_pretty(schema).unwrap_or_default() + "\n";
        same_or_bless(&file, &text);
        // The policy file's first line names the schema, relative to the file.
        let policy = std::fs::read_to_string(root().join(rel)).unwrap_or_default();
        let up = if rel.contains('/') { "../" } else { "" };
        let line = format!("# yaml-language-server: $schema={up}docs/schemas/{stem}.schema.json");
        assert_eq!(
            policy.lines().next(),
            Some(line.as_str()),
            "first line of {rel}"
        );
    }
}
