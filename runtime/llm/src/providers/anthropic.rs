//! Anthropic Messages API.
//!
//! Request: `POST {base}/v1/messages`, headers `x-api-key` and
//! `anthropic-version: 2023-06-01`, body `{model, max_tokens, temperature,
//! system?, messages}`. Improvement over the original (which sent only the
//! first system message): every system message goes into `system`, joined
//! with a blank line, in order. Response text: the first `content[]` item of
//! type `text`.

use serde_json::{json, Map, Value};

use super::{
    empty_response, json_request, parse_json, reported_model, token_count, ChatRequest,
    ChatResponse, ProviderTarget, Role,
};
use sf_core::error::ApiError;

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(super) fn build(
    target: &ProviderTarget,
    req: &ChatRequest,
) -> Result<http::Request<Vec<u8>>, ApiError> {
    let key = target.require_key()?;
    let system: Vec<&str> = req
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let messages: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), req.model.clone().into());
    body.insert("max_tokens".into(), req.max_tokens.into());
    body.insert("temperature".into(), req.temperature.into());
    if !system.is_empty() {
        body.insert("system".into(), system.join("\n\n").into());
    }
    body.insert("messages".into(), Value::Array(messages));
    let url = format!("{}/v1/messages", target.base());
    json_request(
        &target.provider,
        &url,
        &[("x-api-key", key), ("anthropic-version", ANTHROPIC_VERSION)],
        &Value::Object(body),
    )
}

pub(super) fn parse(
    target: &ProviderTarget,
    req: &ChatRequest,
    body: &[u8],
) -> Result<ChatResponse, ApiError> {
    let provider = target.provider.as_str();
    let v = parse_json(provider, body)?;
    let text = v
        .get("content")
        .and_then(Value::as_array)
        .and_then(|items| {
            items
                .iter()
                .find(|i| i.get("type").and_then(Value::as_str) == Some("text"))
        })
        .and_then(|i| i.get("text"))
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| empty_response(provider))?;
    let usage = v.get("usage");
    Ok(ChatResponse {
        text: text.to_owned(),
        model: reported_model(v.get("model"), &req.model),
        prompt_tokens: token_count(usage.and_then(|u| u.get("input_tokens"))),
        completion_tokens: token_count(usage.and_then(|u| u.get("output_tokens"))),
    })
}
