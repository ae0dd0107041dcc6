//! The conformance suite against the native host (`sf serve`'s server,
//! in-process on an ephemeral loopback port).

use sf_conformance::mock::{MockUpstream, Script};

#[test]
fn native_host_passes_the_conformance_suite() {
    let mock = MockUpstream::start(Script {
        content: String::new(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock upstream on 127.0.0.1");
    let server = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("AI_GRANT_HMAC_SECRET", "test-secret".to_owned()),
        ("PARIS_DEV_JWT", "dev-jwt-token".to_owned()),
        ("DEEPSEEK_API_KEY", "test-key".to_owned()),
        ("DEEPSEEK_BASE_URL", mock.base_url()),
        ("OPENAI_API_KEY", "test-openai-key".to_owned()),
        ("OPENAI_BASE_URL", mock.base_url()),
        ("TOKYO_BASE_URL", mock.base_url()),
        ("PARIS_BASE_URL", mock.base_url()),
        (
            "SF_APPROVALS_AGENCY_TOKEN",
            sf_conformance::approvals::AGENCY_TOKEN.to_owned(),
        ),
        (
            "SF_ADMIN_TOKEN",
            sf_conformance::approvals::ADMIN_TOKEN.to_owned(),
        ),
        ("SF_APPROVALS_MODEL_TIMEOUT_MS", "1000".to_owned()),
    ])
    .expect("server starts");
    let cfg = sf_conformance::Config {
        base_url: server.base_url().to_owned(),
        secret: "test-secret".into(),
        bearer: "dev-jwt-token".into(),
        mock: &mock,
        host: sf_conformance::HostKind::Any,
        host_log: None,
    };
    let report = sf_conformance::run(&cfg);
    for (name, why) in &report.failed {
        eprintln!("FAIL {name}: {why}");
    }
    assert!(report.failed.is_empty(), "{}", report.summary());
    assert!(report.passed.len() >= 36, "{}", report.summary());
    for l10n in [
        "l10n plan from a config",
        "l10n translate through the Responses API",
        "personalization preview: Paris' body without v/kind, polled to completed with the model's overrides",
        "personalization onboarding: the profile is POSTed to Paris with the internal service header",
        "approvals grey zone through the model",
        "approvals model timeout leaves the task pending",
        "approvals human decision through the admin routes",
        "learning metrics on the admin scheme",
        "learning review queue: list, conversion re-score, labels, 404",
        "learning jobs run now: the example bank holds the golden interaction, not the bad one",
        "tenants admin create, list, update",
        "tenants keys: add with expiry, revoke",
        "tenants chat completions and models with a tenant key",
    ] {
        assert!(
            report.passed.iter().any(|p| p == l10n),
            "{l10n} did not run"
        );
    }
    server.shutdown().expect("graceful shutdown");
}

/// CONTRACT.md section 12 vectors that need a gateway missing its settings:
/// each answers 500 naming the variable to set (the original said "Unhandled error"
/// for the grant secret).
#[test]
fn missing_settings_are_named() {
    use sf_conformance::http::request;
    let server = sf_server::ephemeral::EphemeralServer::start([("ENVIRONMENT", "dev")])
        .expect("server starts");
    let base = server.base_url().to_owned();

    let res = request(
        &base,
        "GET",
        "/v1/personalization/preview/j",
        &[("authorization", "Bearer x")],
        b"",
    )
    .expect("request");
    assert_eq!(res.status, 500);
    assert_eq!(
        res.json(),
        serde_json::json!({"error":{"code":"PROVIDER_ERROR","provider":"sanfrancisco","message":"Missing PARIS_DEV_JWT"}})
    );

    let body = br#"{"grant":"v1.e30.AAAA","agentId":"debug.grantProbe"}"#;
    let res = request(
        &base,
        "POST",
        "/v1/execute",
        &[("content-type", "application/json")],
        body,
    )
    .expect("request");
    assert_eq!(res.status, 500);
    assert_eq!(
        res.json()["error"]["message"],
        "Missing AI_GRANT_HMAC_SECRET"
    );
    server.shutdown().expect("graceful shutdown");

    // A provider without its key: the contract's 500 naming the key.
    let server = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev"),
        ("AI_GRANT_HMAC_SECRET", "s"),
    ])
    .expect("server starts");
    let payload = serde_json::json!({
        "v":1,"iss":"paris","jti":"k1","sub":{"kind":"anon","sessionId":"x"},"exp":4102444800u64,
        "caps":["agent:sdr.copilot"],"budgets":{"maxTokens":10,"timeoutMs":5000,"maxRequests":1},"mode":"editor",
        "ai":{"profile":"free_low","allowedProviders":["deepseek"],"defaultProvider":"deepseek"}
    });
    let grant = sf_core::grants::mint_grant(&payload, "s");
    let body = serde_json::json!({"grant": grant, "agentId": "sdr.copilot", "input": {"sessionId": "x", "message": "hi"}});
    let res = request(
        server.base_url(),
        "POST",
        "/v1/execute",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
    .expect("request");
    assert_eq!(res.status, 500);
    assert_eq!(
        res.json(),
        serde_json::json!({"error":{"code":"PROVIDER_ERROR","provider":"deepseek","message":"Missing DEEPSEEK_API_KEY"}})
    );
    server.shutdown().expect("graceful shutdown");
}
