//! Issue 13's later rules: providers.yaml `aiGateway` (a misspelt provider,
//! a provider listed twice), tenancy.yaml `modes` (a misspelt mode) and
//! endpoints.yaml `rateLimits` (a misspelt route) fail at file:line:col. The
//! fixtures are in fixtures/policy/invalid/{gateway_*, tenancy_unknown_mode,
//! ratelimit_unknown_route}, with their trybuild `.stderr` next to them.

use std::path::Path;

fn first(name: &str) -> (usize, sf_codegen::Diagnostic) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/policy/invalid")
        .join(name);
    match sf_codegen::compile(&dir) {
        Ok(_) => panic!("fixture `{name}` compiled but must fail"),
        Err(d) => (d.len(), d.0[0].clone()),
    }
}

#[test]
fn gateway_unknown_provider() {
    let (n, d) = first("gateway_unknown_provider");
    assert_eq!(
        (d.file.as_str(), d.line, d.col, d.message.as_str()),
        (
            "policy/providers.yaml",
            133,
            17,
            "unknown provider `deepsek`"
        ),
        "{d:?}"
    );
    assert!(d
        .help
        .unwrap_or_default()
        .contains("did you mean `deepseek`?"));
    assert_eq!(n, 1);
}

#[test]
fn gateway_provider_twice() {
    let (n, d) = first("gateway_provider_twice");
    assert_eq!(
        (d.file.as_str(), d.line, d.col, d.message.as_str()),
        (
            "policy/providers.yaml",
            134,
            17,
            "provider `openai` is listed twice in `aiGateway`"
        ),
        "{d:?}"
    );
    assert_eq!(n, 1);
}

#[test]
fn tenancy_unknown_mode() {
    let (n, d) = first("tenancy_unknown_mode");
    assert_eq!(
        (d.file.as_str(), d.line, d.col, d.message.as_str()),
        ("policy/tenancy.yaml", 30, 107, "unknown mode `monitr`"),
        "{d:?}"
    );
    assert!(d
        .help
        .unwrap_or_default()
        .contains("did you mean `monitor`?"));
    assert_eq!(n, 1);
}

#[test]
fn ratelimit_unknown_route() {
    let (n, d) = first("ratelimit_unknown_route");
    assert_eq!(
        (d.file.as_str(), d.line, d.col, d.message.as_str()),
        (
            "policy/endpoints.yaml",
            63,
            35,
            "unknown route `tenant_models`"
        ),
        "{d:?}"
    );
    assert!(d
        .help
        .unwrap_or_default()
        .contains("did you mean `tenants_models`?"));
    assert_eq!(n, 1);
}
