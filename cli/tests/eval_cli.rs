//! `sf eval` runs the shipped golden set against its own in-process gateway.

use std::process::Command;

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn golden_set_passes_through_sf_eval() {
    let out = Command::new(env!("CARGO_BIN_EXE_sf"))
        .current_dir(repo_root())
        .args(["eval", "fixtures/copilot/prompts.jsonl"])
        .env_remove("AI_GRANT_HMAC_SECRET")
        .output()
        .expect("sf runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sf eval failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pass 36/36 (100.0%)"), "{stdout}");
    assert!(stdout.contains("eval: 36 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("intents: clarify=28 explain=8"), "{stdout}");
    assert!(stdout.contains("outcomes: no_ops=36"), "{stdout}");
}

#[test]
fn a_failing_case_makes_sf_eval_exit_1() {
    let dir = std::env::temp_dir().join(format!("sf-eval-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.jsonl");
    std::fs::write(
        &file,
        r#"{"name":"explain multi-open","widgetType":"faq","prompt":"What does multi-open do?","expectedIntent":"edit","expectedOutcome":"no_ops"}"#,
    )
    .expect("write case");
    let out = Command::new(env!("CARGO_BIN_EXE_sf"))
        .current_dir(repo_root())
        .arg("eval")
        .arg(&file)
        .output()
        .expect("sf runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("eval: 0 passed, 1 failed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
