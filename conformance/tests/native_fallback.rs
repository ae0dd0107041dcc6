//! The fallback of `POST /v1/chat/completions` against loopback mock
//! providers (issue 13, item 8): a tier's model that streams its answer
//! (server-sent chunks) is assembled; one that sleeps past the deadline gives
//! way to the fast model within the one deadline; when both sleep, the call
//! ends at the deadline with the timeout error.

use std::time::{Duration, Instant};

use serde_json::json;
use sf_conformance::approvals::ADMIN_TOKEN;
use sf_conformance::http::{request, Response};
use sf_conformance::mock::{MockUpstream, Script};
use sf_conformance::tenants::{create_tenant, unique_slug};

fn script(content: &str, delay_ms: u64) -> Script {
    Script {
        content: content.into(),
        status: 200,
        delay_ms,
    }
}

fn chat(base: &str, key: &str, timeout_ms: &str, stream: bool) -> Response {
    let auth = format!("Bearer {key}");
    let body = json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 20, "stream": stream});
    request(
        base,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("x-sf-timeout-ms", timeout_ms),
        ],
        body.to_string().as_bytes(),
    )
    .expect("request")
}

#[test]
fn streamed_slow_and_both_slow_upstreams() {
    let deepseek = MockUpstream::start(script("fast answer", 0)).expect("mock");
    let openai = MockUpstream::start(script("premium answer", 0)).expect("mock");
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
    let (_, premium) = create_tenant(&base, &unique_slug("fb"), "premium").expect("tenant");

    // The tier's model streams its answer: the chunks are joined, usage kept.
    let sse = [
        r#"data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"str"}}]}"#,
        r#"data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"eamed"}}]}"#,
        r#"data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}"#,
        "data: [DONE]",
    ]
    .join("\n\n");
    openai.route("POST", "/v1/chat/completions", 200, &sse);
    let r = chat(&base, &premium, "5000", false);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], "streamed");
    assert_eq!(v["usage"]["total_tokens"], 6);
    assert_eq!(r.header("x-sf-fallback"), Some("false"));
    openai.clear_routes();

    // The tier's model sleeps past its share: the fast one answers in time.
    openai.reset(script("late", 3_000));
    let started = Instant::now();
    let r = chat(&base, &premium, "1200", true);
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("fast answer"));
    assert_eq!(r.header("x-sf-fallback"), Some("true"));
    assert!(
        took < Duration::from_millis(1200),
        "within the deadline: {took:?}"
    );
    assert!(
        took >= Duration::from_millis(700),
        "the tier's model had 2/3: {took:?}"
    );

    // Both sleep: the timeout error at the deadline.
    deepseek.reset(script("late too", 3_000));
    let started = Instant::now();
    let r = chat(&base, &premium, "900", false);
    let took = started.elapsed();
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["error"]["message"], "Execution timeout exceeded");
    assert!(
        took < Duration::from_millis(1400),
        "ends at the deadline: {took:?}"
    );
    assert!(took >= Duration::from_millis(850), "{took:?}");
    srv.shutdown().expect("graceful shutdown");
}
