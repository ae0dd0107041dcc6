//! `sf env validate` on scratch copies of wrangler.toml and `.sf.json`:
//! exit codes, the problems named with their fixes, JSON and table snapshots,
//! and values never printed.

mod common;

use common::{repo, sf, snapshot, Scratch};

const SECRETS: &str =
    "AI_GRANT_HMAC_SECRET=grant-secret-value-xyz\nPARIS_DEV_JWT=bearer-value-xyz\n";

fn shipped_wrangler() -> String {
    std::fs::read_to_string(repo().join("wrangler.toml")).unwrap_or_default()
}

/// The shipped wrangler.toml with real-looking ids in place of the placeholders.
fn deployable_wrangler() -> String {
    shipped_wrangler()
        .replace(
            "00000000000000000000000000000003",
            "3f2c9a1b7d4e4f0a9b8c7d6e5f4a3b2c",
        )
        .replace(
            "00000000-0000-4000-8000-000000000003",
            "6b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        )
}

#[test]
fn local_is_ready_with_the_two_secrets_and_never_prints_them() {
    let d = Scratch::new("env-ok");
    d.write("wrangler.toml", &shipped_wrangler());
    d.write(".dev.vars", SECRETS);
    let r = sf(d.path(), &["env", "validate"], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["env"], "local");
    assert!(!r.stdout.contains("grant-secret-value-xyz") && !r.stdout.contains("bearer-value-xyz"));
    assert_eq!(r.stderr, "");
    snapshot("env_validate_local_ok.json", &d.scrub(&r.stdout));
    let t = sf(d.path(), &["env", "validate", "--format", "table"], &[]);
    assert_eq!(t.code, 0);
    snapshot("env_validate_local_ok.txt", &d.scrub(&t.stdout));
}

#[test]
fn prod_lists_every_problem_with_a_fix_and_exits_1() {
    let d = Scratch::new("env-prod");
    d.write("wrangler.toml", &shipped_wrangler().replace("crons = [\"0 2 * * *\", \"0 * * * *\"]\n\n# ------------------------------------------------------------------ local", "crons = [\"0 3 * * *\"]\n\n# ------------------------------------------------------------------ local"));
    d.write(
        ".sf.json",
        r#"{"workerName": "sanfrancisco", "kvNamespaceId": "0123456789abcdef0123456789abcdef"}"#,
    );
    let r = sf(
        d.path(),
        &["env", "validate", "--env", "production"],
        &[("AI_GRANT_HMAC_SECRET", "x")],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let e = r.error();
    assert_eq!(e["error"]["code"], "ENV_INVALID");
    let v = r.json();
    let items: Vec<String> = v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    format!(
                        "{}:{}",
                        p["check"].as_str().unwrap_or(""),
                        p["item"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        items,
        [
            "variables:PARIS_DEV_JWT",
            "bindings:SF_KV",
            "bindings:SF_KV",
            "bindings:SF_D1",
            "routing:high",
            "routing:fast",
        ],
        "{}",
        r.stdout
    );
    assert!(v["problems"].as_array().is_some_and(|a| a
        .iter()
        .all(|p| p["fix"].as_str().is_some_and(|f| !f.is_empty()))));
    snapshot("env_validate_prod_problems.json", &d.scrub(&r.stdout));
    let t = sf(
        d.path(),
        &["env", "validate", "--env", "prod", "--format", "table"],
        &[("AI_GRANT_HMAC_SECRET", "x")],
    );
    assert_eq!(t.code, 1);
    snapshot("env_validate_prod_problems.txt", &d.scrub(&t.stdout));
    assert_eq!(
        t.stderr,
        "error[ENV_INVALID]: 6 problem(s) in environment prod\nhint: fix each problem as its `fix` says, then run `sf env validate` again\n"
    );
}

#[test]
fn dev_cron_and_binding_drift_is_named() {
    let d = Scratch::new("env-dev");
    let w = deployable_wrangler()
        .replace("crons = [\"0 2 * * *\", \"0 * * * *\"]\n\n# ------------------------------------------------------------------ local", "crons = [\"0 3 * * *\"]\n\n# ------------------------------------------------------------------ local")
        .replacen("[[r2_buckets]]\nbinding = \"SF_R2\"", "[[r2_buckets]]\nbinding = \"SF_LOGS\"", 1)
        .replacen("id = \"00000000000000000000000000000001\"", "id = \"7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d\"", 1)
        .replacen("database_id = \"00000000-0000-4000-8000-000000000001\"", "database_id = \"1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e\"", 1)
        .replacen("[vars]\nENVIRONMENT = \"dev\"", "[vars]\nENVIRONMENT = \"dev\"\nPARIS_DEV_JWT = \"oops\"", 1);
    d.write("wrangler.toml", &w);
    let env = [
        ("SF_ENV", "dev"),
        ("AI_GRANT_HMAC_SECRET", "x"),
        ("OPENAI_API_KEY", "k"),
        ("DEEPSEEK_API_KEY", "k"),
    ];
    let r = sf(d.path(), &["env", "validate"], &env);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = r.json();
    let problems: Vec<String> = v["problems"]
        .as_array()
        .map(|a| a.iter().map(out).collect())
        .unwrap_or_default();
    assert_eq!(
        problems,
        [
            "variables PARIS_DEV_JWT: secret PARIS_DEV_JWT is required in dev (internal-routes) and not set",
            "variables PARIS_DEV_JWT: secret PARIS_DEV_JWT is written in plain text in the top level of wrangler.toml's vars",
            "bindings SF_R2: the top level of wrangler.toml declares no r2_buckets binding `SF_R2` (the Worker opens it)",
            "crons 0 * * * *: policy/jobs.yaml schedules \"0 * * * *\" but the top level of wrangler.toml has no such trigger",
            "crons 0 2 * * *: policy/jobs.yaml schedules \"0 2 * * *\" but the top level of wrangler.toml has no such trigger",
            "crons 0 3 * * *: the top level of wrangler.toml triggers \"0 3 * * *\", which policy/jobs.yaml does not schedule (nothing would run)",
        ],
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("oops"), "a value was printed");
}

fn out(p: &serde_json::Value) -> String {
    format!(
        "{} {}: {}",
        p["check"].as_str().unwrap_or(""),
        p["item"].as_str().unwrap_or(""),
        p["problem"].as_str().unwrap_or("")
    )
}

#[test]
fn a_secret_in_sf_json_is_refused_naming_the_key() {
    let d = Scratch::new("env-secret");
    d.write("wrangler.toml", &shipped_wrangler());
    d.write(".dev.vars", SECRETS);
    d.write(
        "ops/.sf.json",
        r#"{"workerName": "sanfrancisco-local", "cloudflareApiToken": "abc"}"#,
    );
    let r = sf(
        d.path(),
        &["env", "validate", "--config", "ops/.sf.json"],
        &[],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["problems"][0]["check"], "config");
    assert_eq!(
        v["problems"][0]["problem"],
        "ops/.sf.json: `cloudflareApiToken` looks like a secret; .sf.json holds no secrets"
    );
    assert!(v["problems"][0]["fix"]
        .as_str()
        .is_some_and(|f| f.contains("remove `cloudflareApiToken` from .sf.json")));
    // Found upwards from a subdirectory, and SF_CONFIG names one explicitly.
    d.write(
        ".sf.json",
        r#"{"modelTierMap": {"premium": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"}}"#,
    );
    std::fs::create_dir_all(d.path().join("a/b")).unwrap_or_default();
    let r = sf(
        &d.path().join("a/b"),
        &["env", "validate", "--root", d.path().to_str().unwrap_or("")],
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.json()["problems"][0]["problem"].as_str().is_some_and(|p| p.contains("`modelTierMap.premium`: model `@cf/meta/llama-3.3-70b-instruct-fp8-fast` is not in the catalogue")), "{}", r.stdout);
    let r = sf(
        d.path(),
        &["env", "validate"],
        &[("SF_CONFIG", "missing.json")],
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.json()["problems"][0]["problem"],
        "config file missing.json does not exist"
    );
}

#[test]
fn an_unknown_environment_is_a_validation_error() {
    let d = Scratch::new("env-unknown");
    d.write("wrangler.toml", &shipped_wrangler());
    let r = sf(d.path(), &["env", "validate", "--env", "staging"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    snapshot("env_validate_unknown_env.stderr", &r.stderr);
    let r = sf(
        d.path(),
        &["env", "validate", "--root", "/nonexistent-sf"],
        &[],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.error()["error"]["code"], "WRANGLER_TOML");
}

#[test]
fn help_has_examples() {
    let r = sf(&repo(), &["env", "validate", "--help"], &[]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("Examples:") && r.stdout.contains("Exit codes"),
        "{}",
        r.stdout
    );
}
