//! `sf deploy` and `sf secrets sync` driving a stub wrangler (a shell script
//! that logs its arguments, writes a fake bundle and the ND-JSON output file
//! wrangler writes), the deployed Worker played by a gateway on loopback:
//! exit codes 0/1/2/3, values never printed, the size budget enforced.

mod common;

use common::{repo, Run, Scratch};
use sf_server::ephemeral::EphemeralServer;

const STUB: &str = r#"#!/usr/bin/env bash
echo "$*" >> "$STUB_LOG"
[ -n "$CLOUDFLARE_ACCOUNT_ID" ] && echo "account $CLOUDFLARE_ACCOUNT_ID" >> "$STUB_LOG"
case "$*" in
  *"$STUB_FAIL"*) if [ -n "$STUB_FAIL" ]; then
      if [ -n "$STUB_AUTH" ]; then echo "✘ [ERROR] Authentication error [code: 10000]" >&2; else echo "✘ [ERROR] something broke" >&2; fi
      exit 1; fi ;;
esac
case "$1 $2" in
  "secret bulk") echo "FILE: $(cat "$3")" >> "$STUB_LOG" ;;
  "deploy --dry-run") mkdir -p build && head -c "${STUB_WASM_BYTES:-2048}" /dev/urandom > build/index_bg.wasm && echo "export default {}" > build/index.js ;;
  "deploy "*|"deploy") printf '{"type":"deploy","version":1,"worker_name":"sanfrancisco","targets":["%s"],"version_id":"v-123"}\n' "$STUB_URL" >> "$WRANGLER_OUTPUT_FILE_PATH" ;;
esac
exit 0
"#;

fn setup(label: &str) -> Scratch {
    let d = Scratch::new(label);
    let w = std::fs::read_to_string(repo().join("wrangler.toml"))
        .unwrap_or_default()
        .replace(
            "00000000000000000000000000000003",
            "3f2c9a1b7d4e4f0a9b8c7d6e5f4a3b2c",
        )
        .replace(
            "00000000-0000-4000-8000-000000000003",
            "6b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        );
    d.write("wrangler.toml", &w);
    d.write("node_modules/.bin/wrangler", STUB);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            d.path().join("node_modules/.bin/wrangler"),
            std::fs::Permissions::from_mode(0o755),
        );
    }
    d
}

fn sf(d: &Scratch, args: &[&str], extra: &[(&str, &str)]) -> Run {
    let log = d.path().join("stub.log").display().to_string();
    let path = std::env::var("PATH").unwrap_or_default();
    let mut env: Vec<(&str, &str)> = vec![("STUB_LOG", &log), ("PATH", &path)];
    env.extend_from_slice(extra);
    common::sf(d.path(), args, &env)
}

fn log(d: &Scratch) -> String {
    std::fs::read_to_string(d.path().join("stub.log")).unwrap_or_default()
}

const PROD_SECRETS: [(&str, &str); 4] = [
    ("AI_GRANT_HMAC_SECRET", "g-secret-value"),
    ("PARIS_DEV_JWT", "b-secret-value"),
    ("OPENAI_API_KEY", "k"),
    ("DEEPSEEK_API_KEY", "k"),
];

#[test]
fn secrets_sync_sends_declared_secrets_only_and_never_prints_them() {
    let d = setup("secrets");
    d.write(
        ".dev.vars.prod",
        "AI_GRANT_HMAC_SECRET=g-secret-value\nPARIS_DEV_JWT=b-secret-value\n",
    );
    d.write(
        ".sf.json",
        r#"{"accountId": "0123456789abcdef0123456789abcdef"}"#,
    );
    let r = sf(&d, &["secrets", "sync", "--env", "production"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::remove_file(d.path().join(".sf.json")).unwrap_or_default();
    let v = r.json();
    assert_eq!(
        v["synced"],
        serde_json::json!(["AI_GRANT_HMAC_SECRET", "PARIS_DEV_JWT"])
    );
    assert_eq!(v["worker"], "sanfrancisco");
    assert!(!r.stdout.contains("secret-value"), "{}", r.stdout);
    let l = log(&d);
    assert!(
        l.contains("secret bulk ") && l.contains("--env prod"),
        "{l}"
    );
    assert!(
        l.contains(r#""AI_GRANT_HMAC_SECRET":"g-secret-value""#),
        "the stub got the values: {l}"
    );

    // 1: a plain variable or an undeclared name; nothing sent.
    std::fs::remove_file(d.path().join("stub.log")).unwrap_or_default();
    d.write(
        "bad.env",
        "PARIS_DEV_JWT=x\nPARIS_BASE_URL=https://p\nMY_TOKEN=y\n",
    );
    let r = sf(
        &d,
        &["secrets", "sync", "--env", "prod", "--from", "bad.env"],
        &[],
    );
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (1, serde_json::json!("NOT_SYNCED")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("PARIS_BASE_URL is not a secret")
            && r.stderr.contains("MY_TOKEN is not declared"),
        "{}",
        r.stderr
    );
    assert_eq!(log(&d), "");
    let r = sf(&d, &["secrets", "sync"], &[]);
    assert_eq!(r.code, 1);
    // --dry-run runs no wrangler; table output.
    let r = sf(
        &d,
        &[
            "secrets",
            "sync",
            "--env",
            "dev",
            "--from",
            ".dev.vars.prod",
            "--dry-run",
            "--format",
            "table",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "would send 2 secret(s) to sanfrancisco-dev (dev):\n  AI_GRANT_HMAC_SECRET\n  PARIS_DEV_JWT\n");
    assert_eq!(log(&d), "");
    // 2 and 3: wrangler's auth failure and any other failure.
    let r = sf(
        &d,
        &["secrets", "sync", "--env", "prod"],
        &[("STUB_FAIL", "secret bulk"), ("STUB_AUTH", "1")],
    );
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (2, serde_json::json!("CLOUDFLARE_AUTH")),
        "{}",
        r.stderr
    );
    let r = sf(
        &d,
        &["secrets", "sync", "--env", "prod"],
        &[("STUB_FAIL", "secret bulk")],
    );
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (3, serde_json::json!("WRANGLER_FAILED")),
        "{}",
        r.stderr
    );
}

#[test]
fn deploy_validates_builds_checks_size_migrates_deploys_and_probes() {
    let d = setup("deploy");
    let worker = EphemeralServer::start([
        ("ENVIRONMENT", "prod"),
        ("AI_GRANT_HMAC_SECRET", "x"),
        ("PARIS_DEV_JWT", "y"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let mut env: Vec<(&str, &str)> = PROD_SECRETS.to_vec();
    env.push(("STUB_URL", worker.base_url()));

    let r = sf(&d, &["deploy", "--env", "prod"], &env);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, log(&d));
    let v = r.json();
    assert_eq!(v["deployedPolicyVersion"], sf_core::policy::POLICY_VERSION);
    assert_eq!(v["versionId"], "v-123");
    assert_eq!(v["healthz"]["env"], "prod");
    assert_eq!(v["bundle"]["budgetKiB"], 560);
    let steps: Vec<String> = log(&d).lines().map(str::to_owned).collect();
    let dist = format!(
        "deploy --dry-run --outdir {}/dist --env prod",
        d.path().display()
    );
    assert_eq!(
        steps,
        [
            dist.as_str(),
            "d1 migrations apply SF_D1 --remote --env prod",
            "deploy --env prod"
        ]
    );
    assert!(!r.stdout.contains("g-secret-value"));

    // --dry-run: no migrations, no deploy; environment problems reported, not fatal.
    std::fs::remove_file(d.path().join("stub.log")).unwrap_or_default();
    let r = sf(
        &d,
        &["deploy", "--env", "prod", "--dry-run", "--format", "table"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("dry run of sanfrancisco (prod): bundle "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("environment problem(s) (not fatal for a dry run)"),
        "{}",
        r.stdout
    );
    assert_eq!(log(&d).lines().count(), 1);

    // 1: the environment is not ready; the bundle is over budget.
    let r = sf(&d, &["deploy", "--env", "prod"], &[]);
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (1, serde_json::json!("ENV_INVALID")),
        "{}",
        r.stderr
    );
    let mut big = env.clone();
    big.push(("STUB_WASM_BYTES", "600000"));
    let r = sf(&d, &["deploy", "--env", "prod"], &big);
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (1, serde_json::json!("BUNDLE_TOO_BIG")),
        "{}",
        r.stderr
    );
    // 2: Cloudflare auth while migrating; 3: the deploy fails, or the probe finds nothing.
    let mut auth = env.clone();
    auth.extend([("STUB_FAIL", "d1 migrations"), ("STUB_AUTH", "1")]);
    let r = sf(&d, &["deploy", "--env", "prod"], &auth);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let mut fail = env.clone();
    fail.push(("STUB_FAIL", "deploy --env"));
    let r = sf(&d, &["deploy", "--env", "prod"], &fail);
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (3, serde_json::json!("WRANGLER_FAILED")),
        "{}",
        r.stderr
    );
    let r = sf(
        &d,
        &["deploy", "--env", "prod", "--url", "http://127.0.0.1:9"],
        &env,
    );
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (3, serde_json::json!("UNREACHABLE")),
        "{}",
        r.stderr
    );
    // No wrangler at all.
    std::fs::remove_file(d.path().join("node_modules/.bin/wrangler")).unwrap_or_default();
    let r = sf(&d, &["deploy", "--env", "prod", "--dry-run"], &[]);
    assert_eq!(
        (r.code, r.error()["error"]["code"].clone()),
        (3, serde_json::json!("NO_WRANGLER")),
        "{}",
        r.stderr
    );
}
