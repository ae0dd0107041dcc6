//! `sf policy explain` against CONTRACT.md section 4.2, cell for cell, and
//! `sf policy check` on a broken copy of the policy.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sf(args: &[&str]) -> std::process::Output {
    match Command::new(env!("CARGO_BIN_EXE_sf"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run sf: {e}"),
    }
}

fn explain(root: &Path) -> Value {
    let out = sf(&[
        "policy",
        "explain",
        "--format",
        "json",
        "--root",
        root.to_str().unwrap_or(""),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("explain printed invalid JSON: {e}"),
    }
}

const PROFILES: [&str; 4] = [
    "free_low",
    "paid_standard",
    "paid_premium",
    "curated_premium",
];

/// maxTokens, timeoutMs, maxRequests.
type Cell = (u32, u32, u32);

/// CONTRACT.md 4.2, "Registry budgets": agent -> [free_low, paid_standard, paid_premium, curated_premium].
const BUDGETS: [(&str, [Cell; 4]); 8] = [
    (
        "sdr.copilot",
        [
            (280, 15000, 1),
            (600, 25000, 2),
            (900, 35000, 2),
            (1200, 45000, 2),
        ],
    ),
    (
        "sdr.widget.copilot.v1",
        [
            (650, 45000, 2),
            (900, 45000, 3),
            (1400, 60000, 3),
            (1600, 60000, 3),
        ],
    ),
    (
        "cs.widget.copilot.v1",
        [
            (650, 45000, 2),
            (900, 45000, 3),
            (1400, 60000, 3),
            (1600, 60000, 3),
        ],
    ),
    (
        "debug.grantProbe",
        [
            (200, 10000, 1),
            (200, 10000, 1),
            (200, 10000, 1),
            (200, 10000, 1),
        ],
    ),
    (
        "l10n.instance.v1",
        [
            (900, 20000, 1),
            (1200, 30000, 1),
            (1800, 45000, 1),
            (2200, 60000, 1),
        ],
    ),
    (
        "l10n.prague.strings.v1",
        [
            (1500, 60000, 1),
            (1500, 60000, 1),
            (2000, 60000, 1),
            (2200, 60000, 1),
        ],
    ),
    (
        "agent.personalization.preview.v1",
        [
            (400, 25000, 1),
            (500, 30000, 1),
            (650, 30000, 1),
            (800, 30000, 1),
        ],
    ),
    (
        "agent.personalization.onboarding.v1",
        [
            (900, 30000, 2),
            (1200, 45000, 2),
            (1800, 60000, 3),
            (2200, 60000, 3),
        ],
    ),
];

#[test]
fn explain_matches_the_contract_cell_for_cell() {
    let v = explain(&root());
    assert!(
        v["policyVersion"]
            .as_str()
            .is_some_and(|s| s.starts_with("pol-") && s.len() == 20),
        "{}",
        v["policyVersion"]
    );
    let agents = v["agents"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = agents.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids, BUDGETS.iter().map(|(a, _)| *a).collect::<Vec<_>>());
    for ((id, cells), a) in BUDGETS.iter().zip(&agents) {
        let keys: Vec<&String> = a["budgets"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, PROFILES, "{id}");
        for (p, (t, ms, r)) in PROFILES.iter().zip(cells) {
            assert_eq!(
                a["budgets"][p],
                json!({"maxTokens": t, "timeoutMs": ms, "maxRequests": r}),
                "{id} {p}"
            );
        }
        assert_eq!(a["aliases"], json!([]), "{id}");
    }
    let surface = |id: &str| {
        agents
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["surface"].clone())
    };
    for id in [
        "sdr.copilot",
        "sdr.widget.copilot.v1",
        "cs.widget.copilot.v1",
        "debug.grantProbe",
    ] {
        assert_eq!(surface(id), Some(json!("execute")), "{id}");
    }
    assert_eq!(surface("l10n.instance.v1"), Some(json!("queue")));
    let providers = |id: &str| {
        agents
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["providers"].clone())
    };
    assert_eq!(
        providers("sdr.widget.copilot.v1"),
        Some(json!(["deepseek", "amazon"]))
    );
    assert_eq!(
        providers("cs.widget.copilot.v1"),
        Some(json!(["deepseek", "openai", "anthropic", "groq", "amazon"]))
    );
    assert_eq!(
        providers("l10n.instance.v1"),
        Some(json!(["deepseek", "openai", "anthropic"]))
    );
    assert_eq!(providers("l10n.prague.strings.v1"), Some(json!(["openai"])));
    let tc = |id: &str| {
        agents
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["taskClass"].clone())
    };
    assert_eq!(
        tc("l10n.prague.strings.v1"),
        Some(json!("l10n.prague.systemStrings"))
    );
    assert_eq!(tc("debug.grantProbe"), Some(json!("ops.debug")));

    assert_eq!(
        v["plans"],
        json!({"minibob": "free_low", "free": "free_low", "tier1": "paid_standard", "tier2": "paid_premium", "tier3": "paid_premium"})
    );
    let m = |d: &str, a: &[&str]| json!({"defaultModel": d, "allowed": a});
    assert_eq!(
        v["profiles"]["free_low"],
        json!({"defaultProvider": "deepseek", "models": {
            "deepseek": m("deepseek-chat", &["deepseek-chat"]),
            "amazon": m("nova-2-lite-v1", &["nova-2-lite-v1"])}})
    );
    assert_eq!(
        v["profiles"]["paid_standard"],
        json!({"defaultProvider": "openai", "models": {
            "deepseek": m("deepseek-chat", &["deepseek-chat", "deepseek-reasoner"]),
            "openai": m("gpt-5-mini", &["gpt-5-mini", "gpt-4o-mini"]),
            "anthropic": m("claude-3-5-sonnet-20240620", &["claude-3-5-sonnet-20240620"]),
            "groq": m("llama-3.3-70b-versatile", &["llama-3.3-70b-versatile"]),
            "amazon": m("amazon.nova-pro-v1:0", &["amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0"])}})
    );
    assert_eq!(
        v["profiles"]["paid_premium"],
        json!({"defaultProvider": "openai", "models": {
            "deepseek": m("deepseek-reasoner", &["deepseek-reasoner", "deepseek-chat"]),
            "openai": m("gpt-5.2", &["gpt-5.2", "gpt-5-mini", "gpt-5", "gpt-4o"]),
            "anthropic": m("claude-3-5-sonnet-20240620", &["claude-3-5-sonnet-20240620"]),
            "groq": m("llama-3.3-70b-versatile", &["llama-3.3-70b-versatile"]),
            "amazon": m("amazon.nova-pro-v1:0", &["amazon.nova-pro-v1:0", "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0"])}})
    );
    assert_eq!(
        v["profiles"]["curated_premium"],
        json!({"defaultProvider": "openai", "models": {
            "openai": m("gpt-5.2", &["gpt-5.2", "gpt-5-mini", "gpt-5", "gpt-4o"])}})
    );

    let r = |method: &str, path: &str, auth: &str, envs: Value, capped: bool| json!({"method": method, "path": path, "auth": auth, "environments": envs, "concurrencyCapped": capped});
    // The contract's routes come first, exactly; the approvals service's
    // routes (not in the contract) follow them.
    let contract_routes: Vec<Value> = v["routes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| {
                    // ... and the tenants' OpenAI-compatible routes (auth `tenant`).
                    r["auth"] != "tenant"
                        && !r["path"].as_str().is_some_and(|p| {
                            p == "/health" || p.starts_with("/api/") || p.starts_with("/admin/")
                        })
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        Value::Array(contract_routes),
        json!([
            r("GET", "/healthz", "none", Value::Null, false),
            r("HEAD", "/healthz", "none", Value::Null, false),
            r("POST", "/v1/execute", "grant", Value::Null, true),
            r("POST", "/v1/outcome", "paris-signature", Value::Null, false),
            r(
                "POST",
                "/v1/personalization/preview",
                "bearer",
                Value::Null,
                false
            ),
            r(
                "GET",
                "/v1/personalization/preview/{jobId}",
                "bearer",
                Value::Null,
                false
            ),
            r(
                "POST",
                "/v1/personalization/onboarding",
                "bearer",
                Value::Null,
                false
            ),
            r(
                "GET",
                "/v1/personalization/onboarding/{jobId}",
                "bearer",
                Value::Null,
                false
            ),
            r("POST", "/v1/l10n/plan", "bearer", Value::Null, false),
            r("POST", "/v1/l10n", "bearer", json!(["local"]), false),
            r(
                "POST",
                "/v1/l10n/translate",
                "bearer",
                json!(["local", "dev"]),
                true
            ),
        ])
    );
    let keys: Vec<&String> = v
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "source",
            "root",
            "policyVersion",
            "agents",
            "profiles",
            "plans",
            "routes",
            "variables",
            // Not in the contract's table: policy/tenancy.yaml (issue 13), after it.
            "tenancy"
        ]
    );
    assert_eq!(v["source"], json!("files"));
}

/// A copy of the policy in a temp dir, with `edit` applied to one file.
fn broken_copy(tag: &str, file: &str, from: &str, to: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sf-cli-policy-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policy")).unwrap_or_default();
    let src = root();
    let mut files = vec!["agents.yaml".to_string()];
    for e in std::fs::read_dir(src.join("policy"))
        .into_iter()
        .flatten()
        .flatten()
    {
        files.push(format!("policy/{}", e.file_name().to_string_lossy()));
    }
    // The prompt texts prompts.yaml references.
    std::fs::create_dir_all(dir.join("policy/prompts")).unwrap_or_default();
    for e in std::fs::read_dir(src.join("policy/prompts"))
        .into_iter()
        .flatten()
        .flatten()
    {
        files.push(format!(
            "policy/prompts/{}",
            e.file_name().to_string_lossy()
        ));
    }
    files.retain(|f| !f.ends_with("/prompts"));
    for f in files {
        let text = std::fs::read_to_string(src.join(&f)).unwrap_or_default();
        let text = if f == file {
            assert_eq!(
                text.matches(from).count(),
                1,
                "`{from}` must occur once in {f}"
            );
            text.replace(from, to)
        } else {
            text
        };
        std::fs::write(dir.join(&f), text).unwrap_or_default();
    }
    dir
}

#[test]
fn check_names_file_and_line_of_a_misspelled_reference() {
    let dir = broken_copy(
        "typo",
        "policy/profiles.yaml",
        "  tier2: paid_premium",
        "  tier2: paid_premum",
    );
    let out = sf(&["policy", "check", "--root", dir.to_str().unwrap_or("")]);
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: unknown profile `paid_premum`\n  --> policy/profiles.yaml:39:10\n"),
        "{err}"
    );
    assert!(
        err.contains("= help: did you mean `paid_premium`?"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn check_accepts_the_shipped_policy() {
    let out = sf(&["policy", "check", "--root", root().to_str().unwrap_or("")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("policy ok: pol-"));
}

#[test]
fn a_budget_edit_changes_explain() {
    let dir = broken_copy(
        "edit",
        "policy/budgets.yaml",
        "free_low:        { maxTokens: 280, timeoutMs: 15000, maxRequests: 1 }",
        "free_low:        { maxTokens: 300, timeoutMs: 15000, maxRequests: 1 }",
    );
    let edited = explain(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let shipped = explain(&root());
    assert_eq!(
        edited["agents"][0]["budgets"]["free_low"]["maxTokens"],
        json!(300)
    );
    assert_ne!(edited["policyVersion"], shipped["policyVersion"]);
}

/// An empty directory outside the repository, so no policy is found upwards.
fn empty_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sf-cli-empty-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    dir
}

fn sf_in(dir: &Path, args: &[&str]) -> std::process::Output {
    match Command::new(env!("CARGO_BIN_EXE_sf"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run sf: {e}"),
    }
}

#[test]
fn explain_without_policy_files_explains_the_compiled_policy() {
    let dir = empty_dir("explain");
    let json_out = sf_in(&dir, &["policy", "explain", "--format", "json"]);
    let table_out = sf_in(&dir, &["policy", "explain"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        json_out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&json_out.stderr)
    );
    let v: Value = match serde_json::from_slice(&json_out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("explain printed invalid JSON: {e}"),
    };
    assert_eq!(v["source"], json!("compiled"));
    assert_eq!(v["root"], Value::Null);
    // CONTRACT.md 4.2: sdr.copilot under free_low.
    assert_eq!(
        v["agents"][0]["budgets"]["free_low"],
        json!({ "maxTokens": 280, "timeoutMs": 15000, "maxRequests": 1 })
    );
    // The same policy as the files of this repository.
    let files = explain(&root());
    assert_eq!(v["policyVersion"], files["policyVersion"]);
    assert_eq!(v["agents"], files["agents"]);

    assert_eq!(table_out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&table_out.stdout);
    let first = table.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!(
            "policy {} (compiled into this binary",
            files["policyVersion"].as_str().unwrap_or("?")
        )),
        "{first}"
    );
}

#[test]
fn explain_with_a_missing_root_still_fails() {
    let dir = empty_dir("root");
    let out = sf_in(&dir, &["policy", "explain", "--root", "nowhere"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn version_names_the_compiled_policy() {
    let out = sf(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    // The binary is built from this repository's policy.
    let version = explain(&root())["policyVersion"].clone();
    let version = version.as_str().unwrap_or("?");
    assert!(version.starts_with("pol-"), "{version}");
    assert!(text.contains(version), "{text}");
}

#[test]
fn explain_lists_the_variables() {
    let v = explain(&root());
    let vars = v["variables"].as_array().cloned().unwrap_or_default();
    let grant = vars
        .iter()
        .find(|x| x["name"] == "AI_GRANT_HMAC_SECRET")
        .cloned()
        .unwrap_or_default();
    assert_eq!(grant["secret"], true);
    assert_eq!(
        grant["requiredIn"],
        serde_json::json!(["local", "dev", "prod"])
    );
    assert_eq!(grant["feature"], "grants");
    assert_eq!(vars.len(), sf_core::policy::Var::ALL.len());
    let out = sf(&[
        "policy",
        "explain",
        "--format",
        "table",
        "--root",
        root().to_str().unwrap_or(""),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nvariables\n"), "{text}");
    assert!(text.contains("SF_CONCURRENCY_CAP"), "{text}");
}

#[test]
fn explain_shows_the_tenancy_tiers() {
    let v = explain(&root());
    let t = &v["tenancy"];
    assert_eq!(
        t["classes"]["fast"],
        json!({"provider": "deepseek", "model": "deepseek-chat"})
    );
    assert_eq!(
        t["classes"]["high"],
        json!({"provider": "openai", "model": "gpt-4o"})
    );
    let tiers = t["tiers"].as_array().expect("tiers");
    let tier = |id: &str| {
        tiers
            .iter()
            .find(|x| x["id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(tier("premium")["class"], "high");
    assert_eq!(tier("free")["class"], "fast");
    assert!(tier("free")["requestsPerDay"]
        .as_u64()
        .is_some_and(|n| n > 0));
    let dir = empty_dir("explain-tenancy");
    let table = sf_in(&dir, &["policy", "explain"]);
    let _ = std::fs::remove_dir_all(&dir);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("tenancy (fallback: fast deepseek/deepseek-chat"),
        "{table}"
    );
    assert!(table.contains("openai/gpt-4o"), "{table}");
    // Shadow mode and the AI Gateway routes are explained with the rubric.
    assert_eq!(
        tier("trial")["modes"],
        json!({"quota": "monitor", "workload": "monitor", "model": "monitor"})
    );
    assert_eq!(tier("free")["modes"]["quota"], "enforce");
    assert!(t["aiGateway"]
        .as_array()
        .is_some_and(|g| g.contains(&json!({"provider": "workersai", "route": "workers-ai"}))));
    assert!(table.contains("quota,workload,model"), "{table}");
    assert!(
        table.contains("on error or timeout, one deadline 30000 ms"),
        "{table}"
    );
    assert!(table.contains("workersai -> workers-ai"), "{table}");
}
