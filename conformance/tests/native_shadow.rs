//! Shadow mode on the native host (policy/tenancy.yaml `modes`): the `trial`
//! tier monitors its quota, workloads and models, so what `free` refuses goes
//! through for `trial`, with `x-sf-shadow` naming the rule, and each would-be
//! refusal is counted in the admin usage (`shadow`).

use serde_json::{json, Value};
use sf_conformance::approvals::ADMIN_TOKEN;
use sf_conformance::http::{request, Response};
use sf_conformance::mock::{MockUpstream, Script};
use sf_conformance::tenants::{call, create_tenant, unique_slug};

fn ok(content: &str) -> Script {
    Script {
        content: content.into(),
        status: 200,
        delay_ms: 0,
    }
}

fn chat(base: &str, key: &str, body: &Value) -> Response {
    let auth = format!("Bearer {key}");
    request(
        base,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .expect("request")
}

#[test]
fn monitored_rules_let_the_request_through_and_count_it() {
    let deepseek = MockUpstream::start(ok("fast")).expect("mock");
    let openai = MockUpstream::start(ok("premium")).expect("mock");
    let srv = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("DEEPSEEK_API_KEY", "k".to_owned()),
        ("DEEPSEEK_BASE_URL", deepseek.base_url()),
        ("OPENAI_API_KEY", "k".to_owned()),
        ("OPENAI_BASE_URL", openai.base_url()),
        ("SF_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
    ])
    .expect("server starts");
    let base = srv.base_url().to_owned();
    let trial_rules = sf_core::policy::Tier::Trial.rules();
    let quota = trial_rules.requests_per_day;
    let (trial_id, trial) = create_tenant(&base, &unique_slug("trial"), "trial").expect("tenant");
    let (_, free) = create_tenant(&base, &unique_slug("free"), "free").expect("tenant");
    let hi = json!([{"role": "user", "content": "hi"}]);

    // Enforced for free: a workload it does not run and the premium model are 400.
    let code = json!({"messages": hi, "max_tokens": 5, "metadata": {"workload": "code"}});
    assert_eq!(chat(&base, &free, &code).status, 400);
    let gpt = json!({"messages": hi, "max_tokens": 5, "model": "gpt-4o"});
    assert_eq!(chat(&base, &free, &gpt).status, 400);

    // Monitored for trial: both go through, named in x-sf-shadow.
    let r = chat(&base, &trial, &code);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("x-sf-shadow"), Some("workload"));
    let r = chat(&base, &trial, &gpt);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("x-sf-shadow"), Some("model"));
    assert_eq!(r.header("x-sf-provider"), Some("openai"));
    assert_eq!(r.json()["choices"][0]["message"]["content"], "premium");
    // An undeclared workload is still a bad request, monitored or not.
    let bogus = json!({"messages": hi, "metadata": {"workload": "mining"}});
    assert_eq!(chat(&base, &trial, &bogus).status, 400);

    // The rest of the daily quota, then one past it: answered, not refused.
    let plain = json!({"messages": hi, "max_tokens": 5});
    for i in 2..quota {
        let r = chat(&base, &trial, &plain);
        assert_eq!(r.status, 200, "call {i}");
        assert_eq!(
            r.header("x-sf-shadow"),
            None,
            "call {i} is within the quota"
        );
    }
    let r = chat(&base, &trial, &plain);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("x-sf-shadow"), Some("quota"));
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(r.header("retry-after"), None);

    let (s, u) = call(
        &base,
        "GET",
        &format!("/admin/v1/tenants/{trial_id}/usage"),
        Some(ADMIN_TOKEN),
        &Value::Null,
    )
    .expect("usage");
    assert_eq!(s, 200, "{u}");
    assert_eq!(
        u["shadow"],
        json!({"quota": 1, "workload": 1, "model": 1}),
        "{u}"
    );
    srv.shutdown().expect("graceful shutdown");
}
