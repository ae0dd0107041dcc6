//! `sf tenant` and `sf routing test` against a real gateway on loopback
//! (EphemeralServer) with a mock OpenAI-compatible upstream: every exit code
//! (0 ok, 1 validation, 2 auth, 3 external), JSON and table snapshots.

mod common;

use common::{snapshot, Run, Scratch};
use sf_server::ephemeral::{EphemeralServer, MockOptions, MockUpstream};

const TOKEN: &str = "cli-admin-token";

fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}/v1")
}

fn gateway(openai: &str, deepseek: &str) -> EphemeralServer {
    EphemeralServer::start([
        ("ENVIRONMENT", "local".to_owned()),
        ("SF_ADMIN_TOKEN", TOKEN.to_owned()),
        ("AI_GRANT_HMAC_SECRET", "s".to_owned()),
        ("PARIS_DEV_JWT", "b".to_owned()),
        ("OPENAI_API_KEY", "k".to_owned()),
        ("OPENAI_BASE_URL", openai.to_owned()),
        ("DEEPSEEK_API_KEY", "k".to_owned()),
        ("DEEPSEEK_BASE_URL", deepseek.to_owned()),
    ])
    .unwrap_or_else(|e| panic!("cannot start the gateway: {e}"))
}

fn sf(dir: &Scratch, base: &str, args: &[&str]) -> Run {
    common::sf(
        dir.path(),
        args,
        &[("SF_BASE_URL", base), ("SF_ADMIN_TOKEN", TOKEN)],
    )
}

fn code(r: &Run) -> String {
    r.error()["error"]["code"].as_str().unwrap_or("").to_owned()
}

/// Ids and timestamps vary: snapshot the rest.
fn scrub(text: &str, ids: &[String]) -> String {
    let mut t = text.to_owned();
    for (i, id) in ids.iter().enumerate() {
        t = t.replace(id, &format!("<id{i}>"));
    }
    let re_num = |s: &str, key: &str| -> String {
        s.lines()
            .map(|l| match l.find(&format!("\"{key}\": ")) {
                Some(p) => format!(
                    "{}\"{key}\": <n>{}",
                    &l[..p],
                    if l.trim_end().ends_with(',') { "," } else { "" }
                ),
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    re_num(
        &re_num(&re_num(&t, "createdAtMs"), "updatedAtMs"),
        "latencyMs",
    )
}

#[test]
fn tenants_create_update_list_with_every_exit_code() {
    let mock = MockUpstream::start(MockOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let gw = gateway(&mock.base_url(), &mock.base_url());
    let base = gw.base_url().to_owned();
    let dir = Scratch::new("tenant");

    let r = sf(
        &dir,
        &base,
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--platform",
            "web",
            "--tier",
            "premium",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let id = v["tenant"]["id"].as_str().unwrap_or("").to_owned();
    assert_eq!(v["tenant"]["tier"], "premium");
    assert!(
        v["apiKey"]
            .as_str()
            .is_some_and(|k| k.starts_with("sk-sf-")),
        "{v}"
    );

    // A platform from .sf.json and a generated slug, as a table.
    dir.write(".sf.json", r#"{"defaultPlatform": "shop"}"#);
    let r = sf(&dir, &base, &["tenant", "create", "--format", "table"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(" shop ") && r.stdout.contains("api key (shown once): sk-sf-"),
        "{}",
        r.stdout
    );

    // 1: unknown tier (nothing sent), a taken slug (409), an unknown tenant (404), a bad platform (400).
    let r = sf(
        &dir,
        &base,
        &["tenant", "create", "--platform", "web", "--tier", "gold"],
    );
    assert_eq!((r.code, code(&r)), (1, "UNKNOWN_TIER".to_owned()));
    snapshot("tenant_create_unknown_tier.stderr", &r.stderr);
    let r = sf(
        &dir,
        &base,
        &["tenant", "create", "--slug", "acme", "--platform", "web"],
    );
    assert_eq!(
        (r.code, code(&r)),
        (1, "REJECTED".to_owned()),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("answered 409"), "{}", r.stderr);
    let r = sf(
        &dir,
        &base,
        &["tenant", "update", "--tenant-id", "nope", "--tier", "free"],
    );
    assert_eq!(
        (r.code, code(&r)),
        (1, "REJECTED".to_owned()),
        "{}",
        r.stderr
    );
    let r = sf(
        &dir,
        &base,
        &["tenant", "create", "--platform", "streamkinetics.com"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("Invalid `platform`"), "{}", r.stderr);

    // 2: a wrong token, no token.
    let r = common::sf(
        dir.path(),
        &["tenant", "list"],
        &[("SF_BASE_URL", &base), ("SF_ADMIN_TOKEN", "wrong")],
    );
    assert_eq!(
        (r.code, code(&r)),
        (2, "AUTH_FAILED".to_owned()),
        "{}",
        r.stderr
    );
    let r = common::sf(dir.path(), &["tenant", "list"], &[("SF_BASE_URL", &base)]);
    assert_eq!(
        (r.code, code(&r)),
        (2, "NO_ADMIN_TOKEN".to_owned()),
        "{}",
        r.stderr
    );

    // 3: nothing listening.
    let r = sf(
        &dir,
        &closed_port_url().replace("/v1", ""),
        &["tenant", "list"],
    );
    assert_eq!(
        (r.code, code(&r)),
        (3, "UNREACHABLE".to_owned()),
        "{}",
        r.stderr
    );

    // Update, then list: JSON and table snapshots.
    let r = sf(
        &dir,
        &base,
        &["tenant", "update", "--tenant-id", &id, "--tier", "free"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["tenant"]["tier"], "free");
    std::fs::remove_file(dir.path().join(".sf.json")).unwrap_or_default();
    let r = sf(&dir, &base, &["tenant", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let list = v["tenants"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    let mut ids: Vec<String> = list
        .iter()
        .map(|t| t["id"].as_str().unwrap_or("").to_owned())
        .collect();
    ids.extend(
        list.iter()
            .map(|t| t["slug"].as_str().unwrap_or("").to_owned())
            .filter(|s| s.starts_with("shop-")),
    );
    let acme_first = list[0]["slug"] == "acme";
    if !acme_first {
        ids.swap(0, 1);
    }
    let r2 = sf(&dir, &base, &["tenant", "list", "--format", "table"]);
    assert_eq!(r2.code, 0);
    if acme_first {
        snapshot("tenant_list.json", &scrub(&r.stdout, &ids));
        snapshot("tenant_list.txt", &scrub(&r2.stdout, &ids));
    }
}

#[test]
fn routing_test_reports_model_provider_tokens_and_fallback() {
    let mock = MockUpstream::start(MockOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let gw = gateway(&mock.base_url(), &mock.base_url());
    let base = gw.base_url().to_owned();
    let dir = Scratch::new("routing");

    let r = sf(&dir, &base, &["routing", "test", "--tier", "premium"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["provider"], "openai");
    assert_eq!(v["model"], "gpt-4o");
    assert_eq!(v["fallback"], false);
    assert_eq!(
        v["tokens"],
        serde_json::json!({"prompt": 12, "completion": 5, "total": 17})
    );
    assert_eq!(v["keyRevoked"], true);
    let tenant = v["tenantId"].as_str().unwrap_or("").to_owned();
    snapshot(
        "routing_test_premium.json",
        &scrub(&r.stdout, std::slice::from_ref(&tenant)),
    );
    // The test tenant is reused, not created again.
    let r = sf(
        &dir,
        &base,
        &["routing", "test", "--tier", "premium", "--format", "table"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot(
        "routing_test_premium.txt",
        &scrub(&r.stdout, &[])
            .lines()
            .map(|l| {
                // the latency column varies
                let cells: Vec<&str> = l.split("  ").filter(|c| !c.is_empty()).collect();
                if cells.len() == 6 && cells[0] == "premium" {
                    format!(
                        "{} {} {} {} <ms> {}",
                        cells[0], cells[1], cells[2], cells[3], cells[5]
                    )
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let list = sf(&dir, &base, &["tenant", "list"]).json();
    assert_eq!(list["tenants"].as_array().map(Vec::len), Some(1));
    let r = sf(&dir, &base, &["routing", "test", "--tier", "gold"]);
    assert_eq!((r.code, code(&r)), (1, "UNKNOWN_TIER".to_owned()));
    let r = sf(
        &dir,
        &base,
        &["routing", "test", "--tier", "free", "--tenant-id", &tenant],
    );
    assert_eq!(
        (r.code, code(&r)),
        (1, "TIER_MISMATCH".to_owned()),
        "{}",
        r.stderr
    );
    let r = common::sf(
        dir.path(),
        &["routing", "test", "--tier", "free"],
        &[("SF_BASE_URL", &base), ("SF_ADMIN_TOKEN", "wrong")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn routing_test_shows_the_fallback_and_exits_3_when_every_model_fails() {
    let mock = MockUpstream::start(MockOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let dead = closed_port_url();
    let dir = Scratch::new("routing-fallback");
    // openai (premium's class) is down: the fast model answers.
    let gw = gateway(&dead, &mock.base_url());
    let r = sf(
        &dir,
        gw.base_url(),
        &["routing", "test", "--tier", "premium"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (v["fallback"].clone(), v["provider"].clone()),
        (serde_json::json!(true), serde_json::json!("deepseek")),
        "{v}"
    );
    drop(gw);
    // Both down: 502 from the gateway is an external failure.
    let gw = gateway(&dead, &dead);
    let r = sf(&dir, gw.base_url(), &["routing", "test", "--tier", "free"]);
    assert_eq!(
        (r.code, code(&r)),
        (3, "GATEWAY_ERROR".to_owned()),
        "{}",
        r.stderr
    );
}
