//! The AI Gateway provider path as `sf_llm::target_for` builds it from the
//! variables (policy/providers.yaml `aiGateway`): the URL of each route, the
//! gateway token, the provider key, and nothing changed without the gateway.

use sf_core::policy::Provider;
use sf_core::testkit::FakeHost;
use sf_llm::providers::{build_request, ChatMessage, ChatRequest, Role};

fn req(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![ChatMessage::new(Role::User, "hi")],
        max_tokens: 10,
        temperature: 0.5,
    }
}

fn gateway_host() -> FakeHost {
    FakeHost::new()
        .with_var("CF_AI_GATEWAY_BASE_URL", "http://127.0.0.1:1/")
        .with_var("CF_AI_GATEWAY_ACCOUNT_ID", "acc")
        .with_var("CF_AI_GATEWAY_GATEWAY_ID", "gw")
        .with_var("CLOUDFLARE_AI_GATEWAY_API_KEY", "aig")
}

fn header(r: &http::Request<Vec<u8>>, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[test]
fn each_provider_route_of_the_policy() {
    let h = gateway_host()
        .with_var("OPENAI_API_KEY", "oa")
        .with_var("GROQ_API_KEY", "gq")
        .with_var("ANTHROPIC_API_KEY", "an");
    let cases = [
        (
            Provider::Openai,
            "gpt-4o",
            "http://127.0.0.1:1/v1/acc/gw/openai/chat/completions",
        ),
        (
            Provider::Groq,
            "llama-3.3-70b-versatile",
            "http://127.0.0.1:1/v1/acc/gw/groq/chat/completions",
        ),
        (
            Provider::Anthropic,
            "claude-3-5-sonnet-20240620",
            "http://127.0.0.1:1/v1/acc/gw/anthropic/v1/messages",
        ),
        (
            Provider::WorkersAi,
            "@cf/meta/llama-3.1-8b-instruct",
            "http://127.0.0.1:1/v1/acc/gw/workers-ai/@cf/meta/llama-3.1-8b-instruct",
        ),
    ];
    for (p, model, url) in cases {
        let t = sf_llm::target_for(&h, p);
        let r = build_request(&t, &req(model), 0).expect("request builds");
        assert_eq!(r.uri().to_string(), url, "{p}");
        assert_eq!(
            header(&r, "cf-aig-authorization").as_deref(),
            Some("Bearer aig"),
            "{p}"
        );
        assert_eq!(header(&r, "cf-aig-metadata"), None, "no metadata set: {p}");
    }
}

#[test]
fn workers_ai_through_the_gateway_needs_only_the_gateway_variables() {
    let h = gateway_host();
    assert!(sf_llm::has_credentials(&h, Provider::WorkersAi));
    assert!(Provider::WorkersAi.grantable());
    let t = sf_llm::target_for(&h, Provider::WorkersAi);
    let r = build_request(&t, &req("@cf/meta/llama-3.1-8b-instruct"), 0).expect("builds");
    assert_eq!(header(&r, "authorization").as_deref(), Some("Bearer aig"));
    // With its own API token, Workers AI keeps it in Authorization.
    let h = gateway_host().with_var("CLOUDFLARE_API_TOKEN", "cf-api");
    let t = sf_llm::target_for(&h, Provider::WorkersAi);
    let r = build_request(&t, &req("@cf/meta/llama-3.1-8b-instruct"), 0).expect("builds");
    assert_eq!(
        header(&r, "authorization").as_deref(),
        Some("Bearer cf-api")
    );
    assert_eq!(
        header(&r, "cf-aig-authorization").as_deref(),
        Some("Bearer aig")
    );
}

#[test]
fn without_the_gateway_ids_nothing_changes() {
    let h = FakeHost::new()
        .with_var("CF_AI_GATEWAY_ACCOUNT_ID", "acc")
        .with_var("OPENAI_API_KEY", "oa");
    let t = sf_llm::target_for(&h, Provider::Openai);
    assert!(t.gateway.is_none());
    let r = build_request(&t, &req("gpt-4o"), 0).expect("builds");
    assert_eq!(
        r.uri().to_string(),
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(header(&r, "cf-aig-authorization"), None);
    // A provider without a route (amazon) ignores the gateway.
    let t = sf_llm::target_for(&gateway_host(), Provider::Amazon);
    assert!(t.gateway.is_none());
}
