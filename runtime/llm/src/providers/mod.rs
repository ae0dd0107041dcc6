//! LLM provider wire formats (CONTRACT.md section 8.4).
//!
//! Each protocol module is a pure request builder plus a pure response
//! parser; [`call_chat`] glues them to the [`Fetch`] port. Nothing here reads
//! the policy or the environment: the caller describes the upstream in a
//! [`ProviderTarget`] (filled from `policy::Provider` and env vars) and owns
//! retries, fallback and budgets (section 8.3; see [`is_retryable`]).
//!
//! Errors are the contract's, with `error.provider` = the target's name:
//! timeout → `429 BUDGET_EXCEEDED "Execution timeout exceeded"`; network →
//! `502 "Upstream request failed"`; non-2xx → `502 "Upstream error ({status}) {body}"`
//! (body trimmed, capped at [`MAX_ERROR_BODY_CHARS`], HTML replaced by
//! `[html omitted]`); unparsable body → `502 "Invalid upstream JSON"`; no text
//! → `502 "Empty model response"`; missing credentials → `500 "Missing <VAR>"`.

use std::time::Duration;

use serde_json::Value;

use sf_core::error::{ApiError, ErrorCode};
use sf_core::ports::{Fetch, FetchError};

pub mod anthropic;
pub mod bedrock;
pub mod gateway;
pub mod openai;
pub mod sigv4;
pub mod workersai;

/// Wire protocol of an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OpenAI Chat Completions and compatibles (DeepSeek, Groq, Amazon Nova API, local servers).
    OpenaiChat,
    /// Anthropic Messages API.
    AnthropicMessages,
    /// Amazon Bedrock Converse, signed with SigV4.
    BedrockConverse,
    /// Cloudflare Workers AI REST API (or an AI Gateway `workers-ai` endpoint).
    WorkersAi,
}

/// Path appended to the base URL of an OpenAI-compatible upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OpenAiPath {
    /// `/v1/chat/completions` (OpenAI, DeepSeek).
    #[default]
    ChatCompletions,
    /// `/openai/v1/chat/completions` (Groq).
    Groq,
    /// `/chat/completions` (Amazon Nova API, whose base URL already ends in `/v1`);
    /// also normalises Bedrock-style model ids (see [`openai::nova_model_id`]).
    Nova,
    /// `/v1/chat/completions` on a local OpenAI-compatible server; the API key is optional.
    Local,
    /// `/chat/completions` after an AI Gateway provider route (`.../openai`, `.../groq`).
    Gateway,
}

impl OpenAiPath {
    pub const fn suffix(self) -> &'static str {
        match self {
            OpenAiPath::ChatCompletions | OpenAiPath::Local => "/v1/chat/completions",
            OpenAiPath::Groq => "/openai/v1/chat/completions",
            OpenAiPath::Nova | OpenAiPath::Gateway => "/chat/completions",
        }
    }
}

/// Bedrock credentials (`AMAZON_BEDROCK_ACCESS_KEY_ID`, `…_SECRET_ACCESS_KEY`,
/// `…_SESSION_TOKEN`, `…_REGION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

/// One upstream to call. Build with [`ProviderTarget::new`] and set the fields
/// the protocol needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTarget {
    /// Provider name, reported in `error.provider` (e.g. `"deepseek"`).
    pub provider: String,
    pub protocol: Protocol,
    /// Base URL without the endpoint path; a trailing `/` is ignored.
    /// OpenAI-compatible: e.g. `https://api.deepseek.com`, `https://api.nova.amazon.com/v1`.
    /// Anthropic: `https://api.anthropic.com`.
    /// Bedrock: `https://bedrock-runtime.{region}.amazonaws.com` (or `AMAZON_BEDROCK_ENDPOINT`).
    /// Workers AI: `https://api.cloudflare.com/client/v4` with [`Self::account_id`] set, or an
    /// AI Gateway endpoint `https://gateway.ai.cloudflare.com/v1/{account}/{gateway}/workers-ai`
    /// with `account_id: None`.
    pub base_url: String,
    /// Bearer / `x-api-key` credential. Required except for [`OpenAiPath::Local`] and Bedrock.
    pub api_key: Option<String>,
    /// Name of the variable holding the credential, for the `500 "Missing <VAR>"` error.
    pub api_key_var: String,
    /// OpenAI-compatible endpoint path.
    pub path_style: OpenAiPath,
    /// Required for [`Protocol::BedrockConverse`].
    pub bedrock: Option<AwsCredentials>,
    /// Workers AI: the Cloudflare account id for the REST path
    /// `{base}/accounts/{account_id}/ai/run/{model}`; `None` means `base_url`
    /// is an AI Gateway `workers-ai` endpoint and the path is `{base}/{model}`.
    pub account_id: Option<String>,
    /// Set when `base_url` is a Cloudflare AI Gateway route: the gateway's
    /// headers (`cf-aig-authorization`, `cf-aig-metadata`).
    pub gateway: Option<gateway::AiGateway>,
}

impl ProviderTarget {
    pub fn new(
        provider: impl Into<String>,
        protocol: Protocol,
        base_url: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            protocol,
            base_url: base_url.into(),
            api_key: None,
            api_key_var: String::new(),
            path_style: OpenAiPath::default(),
            bedrock: None,
            account_id: None,
            gateway: None,
        }
    }

    pub(crate) fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The API key, or `500 "Missing <VAR>"`.
    pub(crate) fn require_key(&self) -> Result<&str, ApiError> {
        match self.api_key.as_deref().map(str::trim) {
            Some(k) if !k.is_empty() => Ok(k),
            _ => Err(ApiError::provider(
                500,
                self.provider.clone(),
                format!("Missing {}", self.api_key_var_or_default()),
            )),
        }
    }

    fn api_key_var_or_default(&self) -> String {
        if self.api_key_var.is_empty() {
            format!("{}_API_KEY", self.provider.to_ascii_uppercase())
        } else {
            self.api_key_var.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// One chat completion request, provider-neutral.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Model id as the policy names it (Nova/Bedrock ids are normalised per protocol).
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    /// f64 so that `0.2` serialises as `0.2` (an f32 widens to 0.20000000298…).
    pub temperature: f64,
}

/// Text and usage of a completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatResponse {
    pub text: String,
    /// The model the upstream reports, else the requested (normalised) id.
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Longest upstream error body echoed in a 502 message, in characters.
pub const MAX_ERROR_BODY_CHARS: usize = 500;

pub(crate) fn provider_err(provider: &str, message: impl Into<String>) -> ApiError {
    ApiError::provider(502, provider, message)
}

pub(crate) fn invalid_json(provider: &str) -> ApiError {
    provider_err(provider, "Invalid upstream JSON")
}

pub(crate) fn empty_response(provider: &str) -> ApiError {
    provider_err(provider, "Empty model response")
}

/// `500` for a target the caller could not have meant (bad base URL, bad header bytes).
pub(crate) fn config_err(provider: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError::provider(
        500,
        provider,
        format!("Invalid {provider} configuration: {what}"),
    )
}

/// `502 "Upstream error ({status}) {body}"`: body trimmed, HTML never echoed,
/// at most [`MAX_ERROR_BODY_CHARS`] characters (then `…`).
pub fn upstream_error(provider: &str, status: u16, body: &[u8]) -> ApiError {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let shown = if head.starts_with('<') && (head.contains("<html") || head.contains("<!doctype")) {
        "[html omitted]".to_owned()
    } else if text.chars().count() > MAX_ERROR_BODY_CHARS {
        let mut s: String = text.chars().take(MAX_ERROR_BODY_CHARS).collect();
        s.push('…');
        s
    } else {
        text.to_owned()
    };
    let msg = format!("Upstream error ({status}) {shown}");
    provider_err(provider, msg.trim_end())
}

/// Parses a JSON body or fails with `502 "Invalid upstream JSON"`.
pub(crate) fn parse_json(provider: &str, body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|_| invalid_json(provider))
}

/// A token count from JSON: non-negative numbers, floored; anything else 0.
pub(crate) fn token_count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|x| *x > 0.0).map(|x| x.floor() as u64))
            .unwrap_or(0),
        _ => 0,
    }
}

/// Non-empty model string from the response, else the requested id.
pub(crate) fn reported_model(v: Option<&Value>, requested: &str) -> String {
    v.and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(requested)
        .to_owned()
}

pub(crate) fn json_request(
    provider: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Result<http::Request<Vec<u8>>, ApiError> {
    let mut b = http::Request::builder()
        .method(http::Method::POST)
        .uri(url)
        .header(http::header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let bytes = serde_json::to_vec(body).map_err(|e| config_err(provider, e))?;
    b.body(bytes).map_err(|e| config_err(provider, e))
}

/// Builds the HTTP request for `req` on `target`. `now_ms` is only used by
/// SigV4 (Bedrock), which signs the current time.
pub fn build_request(
    target: &ProviderTarget,
    req: &ChatRequest,
    now_ms: u64,
) -> Result<http::Request<Vec<u8>>, ApiError> {
    let mut r = match target.protocol {
        Protocol::OpenaiChat => openai::build(target, req),
        Protocol::AnthropicMessages => anthropic::build(target, req),
        Protocol::BedrockConverse => bedrock::build(target, req, now_ms),
        Protocol::WorkersAi => workersai::build(target, req),
    }?;
    if let Some(g) = &target.gateway {
        g.apply(&mut r)
            .map_err(|e| config_err(&target.provider, format_args!("AI Gateway header: {e}")))?;
    }
    Ok(r)
}

/// Parses an upstream answer (any status) into text and usage.
pub fn parse_response(
    target: &ProviderTarget,
    req: &ChatRequest,
    status: u16,
    body: &[u8],
) -> Result<ChatResponse, ApiError> {
    if !(200..300).contains(&status) {
        return Err(upstream_error(&target.provider, status, body));
    }
    match target.protocol {
        Protocol::OpenaiChat => openai::parse(target, req, body),
        Protocol::AnthropicMessages => anthropic::parse(target, req, body),
        Protocol::BedrockConverse => bedrock::parse(target, req, body),
        Protocol::WorkersAi => workersai::parse(target, req, body),
    }
}

/// One model call: build, fetch with `timeout` (the caller passes what is left
/// of the grant's overall deadline), parse. `now_ms` is the wall clock, used
/// to sign Bedrock requests.
pub async fn call_chat<F: Fetch>(
    fetch: &F,
    target: &ProviderTarget,
    req: &ChatRequest,
    timeout: Duration,
    now_ms: u64,
) -> Result<ChatResponse, ApiError> {
    let http_req = build_request(target, req, now_ms)?;
    let resp = match fetch.fetch(http_req, timeout).await {
        Ok(r) => r,
        Err(FetchError::Timeout) => return Err(ApiError::budget("Execution timeout exceeded")),
        Err(FetchError::Network(_) | FetchError::Blocked(_)) => {
            return Err(provider_err(&target.provider, "Upstream request failed"))
        }
    };
    parse_response(target, req, resp.status().as_u16(), resp.body())
}

/// Whether the call loop may retry or fall back after `err` (CONTRACT.md 8.3
/// step 3): only `502 PROVIDER_ERROR` whose message carries
/// `Upstream error (NNN)` with NNN >= 500 or in {408, 409, 425, 429}, or
/// mentions an empty response, a failed request, invalid JSON, a rate limit,
/// temporary unavailability or a timeout.
pub fn is_retryable(err: &ApiError) -> bool {
    if err.status != 502 || err.code != ErrorCode::ProviderError {
        return false;
    }
    let msg = err.message.to_ascii_lowercase();
    if let Some(rest) = msg.split("upstream error (").nth(1) {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if rest[digits.len()..].starts_with(')') {
            if let Ok(code) = digits.parse::<u16>() {
                if code >= 500 || matches!(code, 408 | 409 | 425 | 429) {
                    return true;
                }
            }
        }
    }
    [
        "empty model response",
        "upstream request failed",
        "invalid upstream json",
        "rate limit",
        "temporarily unavailable",
        "timed out",
        "timeout",
    ]
    .iter()
    .any(|s| msg.contains(s))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
