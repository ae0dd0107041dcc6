//! Per-client rate limits on the native host (endpoints.yaml `rateLimits`):
//! `GET /v1/models` allows its limit per tenant key per window, then 429 with
//! `retry-after`, while another key keeps its own bucket; `GET /health` is
//! limited per client IP (the peer address).

use serde_json::Value;
use sf_conformance::approvals::ADMIN_TOKEN;
use sf_conformance::http::request;
use sf_conformance::tenants::{create_tenant, unique_slug};
use sf_core::policy::Route;

#[test]
fn past_the_limit_429_with_retry_after_per_key_and_per_ip() {
    let srv = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("SF_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
    ])
    .expect("server starts");
    let base = srv.base_url().to_owned();
    let (_, a) = create_tenant(&base, &unique_slug("rl-a"), "free").expect("tenant");
    let (_, b) = create_tenant(&base, &unique_slug("rl-b"), "free").expect("tenant");
    let models = |key: &str| {
        let auth = format!("Bearer {key}");
        request(
            &base,
            "GET",
            "/v1/models",
            &[("authorization", auth.as_str())],
            b"",
        )
        .expect("request")
    };
    let limit = Route::TenantsModels.rate_limit().expect("limited").limit;
    for i in 0..limit {
        assert_eq!(models(&a).status, 200, "call {i}");
    }
    let r = models(&a);
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("retry-after");
    assert!((1..=60).contains(&retry), "{retry}");
    let v: Value = r.json();
    assert_eq!(v["error"]["code"], "BUDGET_EXCEEDED");
    assert!(v["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Rate limit `tenant-models` reached")));
    assert_eq!(models(&b).status, 200, "another key has its own bucket");

    let ip_limit = Route::ApprovalsHealth.rate_limit().expect("limited").limit;
    for i in 0..ip_limit {
        let s = request(&base, "GET", "/health", &[], b"")
            .expect("request")
            .status;
        assert_ne!(s, 429, "call {i}");
    }
    let r = request(&base, "GET", "/health", &[], b"").expect("request");
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    srv.shutdown().expect("graceful shutdown");
}
