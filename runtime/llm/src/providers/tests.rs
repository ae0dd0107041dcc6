use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use futures_executor::block_on;
use serde_json::{json, Value};

use super::sigv4::{self, Credentials};
use super::*;

fn fixtures_dir() -> String {
    format!("{}/../../fixtures/providers", env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn str_field(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

fn opt_str(v: &Value, k: &str) -> Option<String> {
    v[k].as_str().map(str::to_owned)
}

fn target_from(v: &Value) -> ProviderTarget {
    let protocol = match v["protocol"].as_str() {
        Some("OpenaiChat") => Protocol::OpenaiChat,
        Some("AnthropicMessages") => Protocol::AnthropicMessages,
        Some("BedrockConverse") => Protocol::BedrockConverse,
        Some("WorkersAi") => Protocol::WorkersAi,
        other => panic!("unknown protocol {other:?}"),
    };
    let mut t = ProviderTarget::new(str_field(v, "provider"), protocol, str_field(v, "base_url"));
    t.api_key = opt_str(v, "api_key");
    t.api_key_var = str_field(v, "api_key_var");
    t.path_style = match v["path_style"].as_str() {
        Some("Groq") => OpenAiPath::Groq,
        Some("Nova") => OpenAiPath::Nova,
        Some("Local") => OpenAiPath::Local,
        _ => OpenAiPath::ChatCompletions,
    };
    t.account_id = opt_str(v, "account_id");
    t.bedrock = v["bedrock"].as_object().map(|b| AwsCredentials {
        access_key_id: b["access_key_id"].as_str().unwrap_or_default().into(),
        secret_access_key: b["secret_access_key"].as_str().unwrap_or_default().into(),
        session_token: b["session_token"].as_str().map(str::to_owned),
        region: b["region"].as_str().unwrap_or_default().into(),
    });
    t
}

fn chat_from(v: &Value) -> ChatRequest {
    ChatRequest {
        model: str_field(v, "model"),
        messages: v["messages"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        let role = match m["role"].as_str() {
                            Some("system") => Role::System,
                            Some("assistant") => Role::Assistant,
                            _ => Role::User,
                        };
                        ChatMessage::new(role, str_field(m, "content"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        max_tokens: v["max_tokens"].as_u64().unwrap_or_default() as u32,
        temperature: v["temperature"].as_f64().unwrap_or_default(),
    }
}

/// A `Fetch` that checks the request against a transcript and answers with its response.
struct TranscriptFetch {
    name: String,
    request: Value,
    status: u16,
    body: Vec<u8>,
    calls: Cell<u32>,
    seen_timeout: Cell<Option<Duration>>,
}

impl Fetch for TranscriptFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        self.calls.set(self.calls.get() + 1);
        self.seen_timeout.set(Some(timeout));
        let name = &self.name;
        let want = &self.request;
        assert_eq!(req.method().as_str(), want["method"], "{name}: method");
        assert_eq!(
            req.uri().to_string(),
            want["url"].as_str().unwrap_or(""),
            "{name}: url"
        );
        let got_headers: BTreeMap<String, String> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or("<non-ascii>").to_owned(),
                )
            })
            .collect();
        let want_headers: BTreeMap<String, String> = want["headers"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(got_headers, want_headers, "{name}: headers");
        // Byte-exact body: same keys, same order, same number formatting.
        let want_body = serde_json::to_vec(&want["body"]).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(req.body()),
            String::from_utf8_lossy(&want_body),
            "{name}: body"
        );
        http::Response::builder()
            .status(self.status)
            .body(self.body.clone())
            .map_err(|e| FetchError::Network(e.to_string()))
    }
}

fn run_transcript(name: &str) {
    let path = format!("{}/{name}.json", fixtures_dir());
    let t: Value = serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let target = target_from(&t["target"]);
    let chat = chat_from(&t["chat"]);
    let body = match &t["response"]["body"] {
        Value::String(s) => s.clone().into_bytes(),
        v => serde_json::to_vec(v).unwrap_or_default(),
    };
    let fetch = TranscriptFetch {
        name: name.into(),
        request: t["request"].clone(),
        status: t["response"]["status"].as_u64().unwrap_or(0) as u16,
        body,
        calls: Cell::new(0),
        seen_timeout: Cell::new(None),
    };
    let now_ms = t["now_ms"].as_u64().unwrap_or(0);
    let got = block_on(call_chat(
        &fetch,
        &target,
        &chat,
        Duration::from_millis(15_000),
        now_ms,
    ))
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(fetch.calls.get(), 1, "{name}: one upstream call");
    assert_eq!(
        fetch.seen_timeout.get(),
        Some(Duration::from_millis(15_000)),
        "{name}: timeout passed through"
    );
    let e = &t["expected"];
    assert_eq!(
        got,
        ChatResponse {
            text: str_field(e, "text"),
            model: str_field(e, "model"),
            prompt_tokens: e["prompt_tokens"].as_u64().unwrap_or(u64::MAX),
            completion_tokens: e["completion_tokens"].as_u64().unwrap_or(u64::MAX),
        },
        "{name}: parsed response"
    );
}

#[test]
fn transcript_openai_gpt5_uses_max_completion_tokens() {
    run_transcript("openai");
}

#[test]
fn transcript_openai_gpt4o_content_parts() {
    run_transcript("openai-gpt4o-parts");
}

#[test]
fn transcript_openai_refusal() {
    run_transcript("openai-refusal");
}

#[test]
fn transcript_deepseek() {
    run_transcript("deepseek");
}

#[test]
fn transcript_groq() {
    run_transcript("groq");
}

#[test]
fn transcript_nova_normalises_model_id() {
    run_transcript("nova");
}

#[test]
fn transcript_local_without_key() {
    run_transcript("local");
}

#[test]
fn transcript_anthropic_joins_all_system_messages() {
    run_transcript("anthropic");
}

#[test]
fn transcript_workers_ai_rest() {
    run_transcript("workersai");
}

#[test]
fn transcript_workers_ai_gateway() {
    run_transcript("workersai-gateway");
}

/// The expected Authorization was computed by fixtures/providers/gen_transcripts.py
/// (Python hmac/hashlib), not by this crate.
#[test]
fn transcript_bedrock_converse_signed_with_colon_model_id() {
    run_transcript("bedrock");
    // And the canonical request double-encodes the `:` of the model id.
    let t: Value = serde_json::from_str(&read(&format!("{}/bedrock.json", fixtures_dir())))
        .unwrap_or_default();
    let target = target_from(&t["target"]);
    let chat = chat_from(&t["chat"]);
    let mut req = build_request(&target, &chat, 0).unwrap_or_else(|e| panic!("{e}"));
    let c = target.bedrock.clone().unwrap_or_else(|| panic!("creds"));
    let signed = sigv4::sign_request(
        &mut req,
        &Credentials {
            access_key_id: &c.access_key_id,
            secret_access_key: &c.secret_access_key,
            session_token: c.session_token.as_deref(),
        },
        &c.region,
        "bedrock",
        t["now_ms"].as_u64().unwrap_or(0),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        signed.canonical_request,
        str_field(&t["request"], "canonical_request")
    );
    assert!(signed
        .canonical_request
        .starts_with("POST\n/model/amazon.nova-lite-v1%253A0/converse\n\n"));
    assert_eq!(req.uri().path(), "/model/amazon.nova-lite-v1%3A0/converse");
}

// --- SigV4 against AWS's published test suite ------------------------------

fn sigv4_case(case: &str) {
    let dir = format!("{}/sigv4/{case}", fixtures_dir());
    let ctx: Value =
        serde_json::from_str(&read(&format!("{dir}/context.json"))).unwrap_or_default();
    let raw = read(&format!("{dir}/request.txt"));
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut rl = request_line.split(' ');
    let method = rl.next().unwrap_or_default();
    let target = rl.next().unwrap_or_default();
    let mut b = http::Request::builder().method(method);
    let mut host = String::new();
    for line in lines {
        let (k, v) = line.split_once(':').unwrap_or((line, ""));
        if k.eq_ignore_ascii_case("host") {
            host = v.to_owned();
        }
        b = b.header(k, v);
    }
    if ctx["sign_body"] == true {
        b = b.header("x-amz-content-sha256", sigv4::sha256_hex(body.as_bytes()));
    }
    let mut req = b
        .uri(format!("https://{host}{target}"))
        .body(body.as_bytes().to_vec())
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let creds = &ctx["credentials"];
    let signed = sigv4::sign_request(
        &mut req,
        &Credentials {
            access_key_id: creds["access_key_id"].as_str().unwrap_or_default(),
            secret_access_key: creds["secret_access_key"].as_str().unwrap_or_default(),
            session_token: creds["token"].as_str(),
        },
        ctx["region"].as_str().unwrap_or_default(),
        ctx["service"].as_str().unwrap_or_default(),
        1_440_938_160_000, // 2015-08-30T12:36:00Z = context.json "timestamp"
    )
    .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(ctx["timestamp"], "2015-08-30T12:36:00Z");
    assert_eq!(
        signed.canonical_request,
        read(&format!("{dir}/header-canonical-request.txt")),
        "{case}"
    );
    assert_eq!(
        signed.string_to_sign,
        read(&format!("{dir}/header-string-to-sign.txt")),
        "{case}"
    );
    assert_eq!(
        signed.signature,
        read(&format!("{dir}/header-signature.txt")).trim(),
        "{case}"
    );
    assert_eq!(
        req.headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(signed.authorization.as_str())
    );
}

#[test]
fn sigv4_get_vanilla() {
    sigv4_case("get-vanilla");
}

#[test]
fn sigv4_post_vanilla() {
    sigv4_case("post-vanilla");
}

#[test]
fn sigv4_get_vanilla_query_order_key_case() {
    sigv4_case("get-vanilla-query-order-key-case");
}

#[test]
fn sigv4_get_vanilla_with_session_token() {
    sigv4_case("get-vanilla-with-session-token");
}

#[test]
fn sigv4_post_x_www_form_urlencoded() {
    sigv4_case("post-x-www-form-urlencoded");
}

// --- request rules -----------------------------------------------------------

fn openai_target() -> ProviderTarget {
    let mut t = ProviderTarget::new("openai", Protocol::OpenaiChat, "https://api.openai.com");
    t.api_key = Some("k".into());
    t.api_key_var = "OPENAI_API_KEY".into();
    t
}

fn chat(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![ChatMessage::new(Role::User, "hi")],
        max_tokens: 100,
        temperature: 0.2,
    }
}

fn body_of(req: &http::Request<Vec<u8>>) -> Value {
    serde_json::from_slice(req.body()).unwrap_or_default()
}

#[test]
fn gpt5_rule_applies_by_model_prefix() {
    for (model, gpt5) in [
        ("gpt-5", true),
        ("gpt-5.2", true),
        ("gpt-5-mini", true),
        ("gpt-4o", false),
        ("o3", false),
    ] {
        let req =
            build_request(&openai_target(), &chat(model), 0).unwrap_or_else(|e| panic!("{e}"));
        let b = body_of(&req);
        assert_eq!(b.get("max_completion_tokens").is_some(), gpt5, "{model}");
        assert_eq!(b.get("temperature").is_some(), !gpt5, "{model}");
        assert_eq!(b.get("max_tokens").is_some(), !gpt5, "{model}");
    }
}

#[test]
fn nova_and_bedrock_model_ids() {
    assert_eq!(openai::nova_model_id("amazon.nova-pro-v1:0"), "nova-pro-v1");
    assert_eq!(
        openai::nova_model_id("us.amazon.nova-lite-v1:0"),
        "nova-lite-v1"
    );
    assert_eq!(openai::nova_model_id("nova-2-lite-v1"), "nova-2-lite-v1");
    assert_eq!(
        openai::nova_model_id("eu.amazon.nova-micro-v1:12"),
        "nova-micro-v1"
    );
    assert_eq!(openai::nova_model_id("nova-x:latest"), "nova-x:latest");
    assert_eq!(
        bedrock::bedrock_model_id("nova-2-lite-v1"),
        "amazon.nova-2-lite-v1:0"
    );
    assert_eq!(
        bedrock::bedrock_model_id("nova-pro-v1:0"),
        "amazon.nova-pro-v1:0"
    );
    assert_eq!(
        bedrock::bedrock_model_id("amazon.nova-pro-v1:0"),
        "amazon.nova-pro-v1:0"
    );
    assert_eq!(
        bedrock::bedrock_model_id("us.amazon.nova-pro-v1:0"),
        "us.amazon.nova-pro-v1:0"
    );
    assert_eq!(
        bedrock::encode_uri_component("a:b/c d@é"),
        "a%3Ab%2Fc%20d%40%C3%A9"
    );
}

#[test]
fn missing_credentials_are_500_naming_the_variable() {
    let mut t = openai_target();
    t.api_key = None;
    let e = build_request(&t, &chat("gpt-4o"), 0)
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(
        (e.status, e.code, e.message.as_str()),
        (500, ErrorCode::ProviderError, "Missing OPENAI_API_KEY")
    );
    assert_eq!(e.provider.as_deref(), Some("openai"));
    t.api_key = Some("  ".into());
    assert_eq!(
        build_request(&t, &chat("gpt-4o"), 0)
            .err()
            .map(|e| e.message),
        Some("Missing OPENAI_API_KEY".into())
    );

    let b = ProviderTarget::new("amazon", Protocol::BedrockConverse, "");
    let e = build_request(&b, &chat("nova-2-lite-v1"), 0)
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(
        (e.status, e.message.as_str()),
        (500, "Missing AMAZON_BEDROCK_ACCESS_KEY_ID")
    );
    let mut b = b;
    b.bedrock = Some(AwsCredentials {
        access_key_id: "AK".into(),
        secret_access_key: "SK".into(),
        session_token: None,
        region: String::new(),
    });
    let e = build_request(&b, &chat("nova-2-lite-v1"), 0)
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(e.message, "Missing AMAZON_BEDROCK_REGION");
    // With a region and no base URL, the regional endpoint is used; no session token header.
    if let Some(c) = b.bedrock.as_mut() {
        c.region = "eu-west-1".into();
    }
    let req = build_request(&b, &chat("nova-2-lite-v1"), 1_440_938_160_000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        req.uri().to_string(),
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.nova-2-lite-v1%3A0/converse"
    );
    assert!(req.headers().get("x-amz-security-token").is_none());
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/20150830/eu-west-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="), "{auth}");
}

#[test]
fn bad_base_url_is_a_500_not_a_panic() {
    let mut t = openai_target();
    t.base_url = "not a url".into();
    let e = build_request(&t, &chat("gpt-4o"), 0)
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!((e.status, e.code), (500, ErrorCode::ProviderError));
}

// --- errors ------------------------------------------------------------------

/// A `Fetch` that answers with a fixed outcome.
struct Canned(RefCell<Option<Result<http::Response<Vec<u8>>, FetchError>>>);

impl Canned {
    fn status(status: u16, body: &str) -> Self {
        let r = http::Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .map_err(|e| FetchError::Network(e.to_string()));
        Self(RefCell::new(Some(r)))
    }
    fn error(e: FetchError) -> Self {
        Self(RefCell::new(Some(Err(e))))
    }
}

impl Fetch for Canned {
    async fn fetch(
        &self,
        _req: http::Request<Vec<u8>>,
        _timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        self.0
            .borrow_mut()
            .take()
            .unwrap_or(Err(FetchError::Network("called twice".into())))
    }
}

fn call_with(fetch: Canned, target: &ProviderTarget) -> Result<ChatResponse, ApiError> {
    block_on(call_chat(
        &fetch,
        target,
        &chat("gpt-4o"),
        Duration::from_secs(1),
        0,
    ))
}

#[track_caller]
fn assert_err(
    r: Result<ChatResponse, ApiError>,
    status: u16,
    code: ErrorCode,
    msg: &str,
    provider: Option<&str>,
) {
    let e = r.err().unwrap_or_else(|| panic!("expected error {msg:?}"));
    assert_eq!(
        (e.status, e.code, e.message.as_str(), e.provider.as_deref()),
        (status, code, msg, provider)
    );
}

#[test]
fn transport_errors() {
    let t = openai_target();
    assert_err(
        call_with(Canned::error(FetchError::Timeout), &t),
        429,
        ErrorCode::BudgetExceeded,
        "Execution timeout exceeded",
        None,
    );
    assert_err(
        call_with(Canned::error(FetchError::Network("reset".into())), &t),
        502,
        ErrorCode::ProviderError,
        "Upstream request failed",
        Some("openai"),
    );
    assert_err(
        call_with(Canned::error(FetchError::Blocked("private".into())), &t),
        502,
        ErrorCode::ProviderError,
        "Upstream request failed",
        Some("openai"),
    );
}

#[test]
fn upstream_status_errors() {
    let t = openai_target();
    assert_err(
        call_with(
            Canned::status(429, "  {\"error\":{\"message\":\"Rate limit reached\"}}\n"),
            &t,
        ),
        502,
        ErrorCode::ProviderError,
        "Upstream error (429) {\"error\":{\"message\":\"Rate limit reached\"}}",
        Some("openai"),
    );
    assert_err(
        call_with(Canned::status(503, ""), &t),
        502,
        ErrorCode::ProviderError,
        "Upstream error (503)",
        Some("openai"),
    );
    assert_err(
        call_with(
            Canned::status(502, "<!DOCTYPE html><html><body>Bad gateway</body></html>"),
            &t,
        ),
        502,
        ErrorCode::ProviderError,
        "Upstream error (502) [html omitted]",
        Some("openai"),
    );
    assert_err(
        call_with(Canned::status(500, "\n<HTML><HEAD>err</HEAD></HTML>"), &t),
        502,
        ErrorCode::ProviderError,
        "Upstream error (500) [html omitted]",
        Some("openai"),
    );
    let long = "é".repeat(600);
    let e = call_with(Canned::status(400, &long), &t)
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(
        e.message,
        format!("Upstream error (400) {}…", "é".repeat(MAX_ERROR_BODY_CHARS))
    );
    // 3xx is not success either.
    assert_err(
        call_with(Canned::status(301, "moved"), &t),
        502,
        ErrorCode::ProviderError,
        "Upstream error (301) moved",
        Some("openai"),
    );
}

#[test]
fn body_errors() {
    let t = openai_target();
    assert_err(
        call_with(Canned::status(200, "{not json"), &t),
        502,
        ErrorCode::ProviderError,
        "Invalid upstream JSON",
        Some("openai"),
    );
    assert_err(
        call_with(Canned::status(200, ""), &t),
        502,
        ErrorCode::ProviderError,
        "Invalid upstream JSON",
        Some("openai"),
    );
    for body in [
        json!({}),
        json!({"choices": []}),
        json!({"choices": [{"message": {"content": "   "}}]}),
        json!({"choices": [{"message": {"content": null}}]}),
        json!({"choices": [{"message": {"content": [{"type": "image"}]}}]}),
    ] {
        assert_err(
            call_with(Canned::status(200, &body.to_string()), &t),
            502,
            ErrorCode::ProviderError,
            "Empty model response",
            Some("openai"),
        );
    }
    // output_text is the last resort.
    let r = call_with(
        Canned::status(200, &json!({"output_text": "x"}).to_string()),
        &t,
    );
    assert_eq!(r.map(|r| r.text), Ok("x".into()));

    let mut a = ProviderTarget::new(
        "anthropic",
        Protocol::AnthropicMessages,
        "https://api.anthropic.com",
    );
    a.api_key = Some("k".into());
    assert_err(
        call_with(
            Canned::status(200, &json!({"content": [{"type": "tool_use"}]}).to_string()),
            &a,
        ),
        502,
        ErrorCode::ProviderError,
        "Empty model response",
        Some("anthropic"),
    );
    let mut w = ProviderTarget::new(
        "workersai",
        Protocol::WorkersAi,
        "https://api.cloudflare.com/client/v4",
    );
    w.api_key = Some("k".into());
    w.account_id = Some("acc".into());
    assert_err(
        call_with(
            Canned::status(200, &json!({"result": {}, "success": true}).to_string()),
            &w,
        ),
        502,
        ErrorCode::ProviderError,
        "Empty model response",
        Some("workersai"),
    );
    let r = call_with(
        Canned::status(200, &json!({"result": {"response": {"a": 1}}}).to_string()),
        &w,
    );
    assert_eq!(r.map(|r| r.text), Ok("{\"a\":1}".into()));
}

#[test]
fn retryable_classification() {
    let p = |m: &str| ApiError::provider(502, "openai", m);
    for m in [
        "Upstream error (500) boom",
        "Upstream error (503)",
        "Upstream error (408) x",
        "Upstream error (409) x",
        "Upstream error (425) x",
        "Upstream error (429) x",
        "Empty model response",
        "Upstream request failed",
        "Invalid upstream JSON",
        "Upstream error (400) Rate limit exceeded",
        "Upstream error (400) model temporarily unavailable",
        "Upstream error (400) request timed out",
    ] {
        assert!(is_retryable(&p(m)), "{m}");
    }
    for m in [
        "Upstream error (400) bad",
        "Upstream error (401) nope",
        "Upstream error (404) x",
        "Model did not return valid JSON",
    ] {
        assert!(!is_retryable(&p(m)), "{m}");
    }
    // Not a 502 PROVIDER_ERROR: never retried, whatever the text.
    assert!(!is_retryable(&ApiError::budget(
        "Execution timeout exceeded"
    )));
    assert!(!is_retryable(&ApiError::provider(
        500,
        "openai",
        "Missing OPENAI_API_KEY"
    )));
    assert!(!is_retryable(&ApiError::new(
        502,
        ErrorCode::BadRequest,
        "Upstream error (500)"
    )));
}
