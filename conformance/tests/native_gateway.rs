//! Cloudflare AI Gateway as a provider path on the native host (issue 13):
//! a loopback mock stands in for the gateway; a tenant's completion goes to
//! `{CF_AI_GATEWAY_BASE_URL}/v1/{account}/{gateway}/deepseek/chat/completions`
//! with `cf-aig-authorization`, the provider key in `Authorization` and
//! `cf-aig-metadata` = tenant, platform, tier, workload (checked exactly).

use serde_json::{json, Value};
use sf_conformance::approvals::ADMIN_TOKEN;
use sf_conformance::http::request;
use sf_conformance::mock::{MockUpstream, Script};
use sf_conformance::tenants::{create_tenant, unique_slug};

const GATEWAY_PATH: &str = "/v1/acct-42/gw-main/deepseek/chat/completions";

fn header<'a>(seen: &'a sf_conformance::mock::Seen, name: &str) -> Option<&'a str> {
    seen.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_tenant_completion_goes_through_the_gateway_with_its_metadata() {
    let gateway = MockUpstream::start(Script {
        content: "not the canned route".into(),
        status: 500,
        delay_ms: 0,
    })
    .expect("mock");
    let answer = json!({
        "id": "cmpl-gw", "object": "chat.completion", "model": "deepseek-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "via the gateway"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    });
    gateway.route("POST", GATEWAY_PATH, 200, &answer.to_string());
    let srv = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("DEEPSEEK_API_KEY", "ds-key".to_owned()),
        // Ignored once the gateway is configured: the call must not go here.
        ("DEEPSEEK_BASE_URL", "http://127.0.0.1:9".to_owned()),
        ("CF_AI_GATEWAY_BASE_URL", gateway.base_url()),
        ("CF_AI_GATEWAY_ACCOUNT_ID", "acct-42".to_owned()),
        ("CF_AI_GATEWAY_GATEWAY_ID", "gw-main".to_owned()),
        ("CLOUDFLARE_AI_GATEWAY_API_KEY", "aig-secret".to_owned()),
        ("SF_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
    ])
    .expect("server starts");
    let base = srv.base_url().to_owned();
    let (id, key) = create_tenant(&base, &unique_slug("gw"), "free").expect("tenant");
    let auth = format!("Bearer {key}");
    let body = json!({
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 20,
        "metadata": {"workload": "summarize"}
    });
    let r = request(
        &base,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v: Value = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], "via the gateway");
    assert_eq!(v["usage"]["total_tokens"], 8);
    assert_eq!(r.header("x-sf-provider"), Some("deepseek"));

    let seen = gateway.seen();
    assert_eq!(seen.len(), 1, "one call reached the gateway: {seen:?}");
    let s = &seen[0];
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", GATEWAY_PATH));
    assert_eq!(header(s, "cf-aig-authorization"), Some("Bearer aig-secret"));
    assert_eq!(header(s, "authorization"), Some("Bearer ds-key"));
    let meta = header(s, "cf-aig-metadata").expect("cf-aig-metadata sent");
    assert_eq!(
        meta,
        format!(r#"{{"tenant":"{id}","platform":"web","tier":"free","workload":"summarize"}}"#)
    );
    let meta: Value = serde_json::from_str(meta).expect("metadata is JSON");
    let entries = meta.as_object().expect("an object");
    assert!(entries.len() <= 5 && entries.values().all(|v| !v.is_object() && !v.is_array()));
    let sent: Value = serde_json::from_str(&s.body).expect("JSON body");
    assert_eq!(sent["model"], "deepseek-chat");
    assert_eq!(gateway.calls(), 0, "nothing reached the uncanned path");

    // Without a workload, three entries; the gateway path is unchanged.
    gateway.clear_routes();
    gateway.route("POST", GATEWAY_PATH, 200, &answer.to_string());
    let r = request(
        &base,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        json!({"messages": [{"role": "user", "content": "hi"}]})
            .to_string()
            .as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 200);
    let seen = gateway.seen();
    assert_eq!(
        header(&seen[0], "cf-aig-metadata"),
        Some(format!(r#"{{"tenant":"{id}","platform":"web","tier":"free"}}"#).as_str())
    );
    srv.shutdown().expect("graceful shutdown");
}
