//! OpenAI Chat Completions and compatible upstreams (OpenAI, DeepSeek, Groq,
//! Amazon Nova API, local servers).
//!
//! Request: `POST {base}{path}` with `authorization: Bearer <key>` and
//! `{model, messages:[{role,content}], …}`. Models whose id starts with
//! `gpt-5` take `max_completion_tokens` and no `temperature` (they reject
//! both `max_tokens` and a non-default temperature); every other model gets
//! `temperature` and `max_tokens`.

use serde_json::{json, Map, Value};

use super::{
    empty_response, json_request, parse_json, reported_model, token_count, ChatRequest,
    ChatResponse, OpenAiPath, ProviderTarget,
};
use sf_core::error::ApiError;

/// Amazon Nova API model id: drops a `[xx.]amazon.` prefix and a `:N` suffix
/// (`us.amazon.nova-pro-v1:0` → `nova-pro-v1`), so Bedrock-style ids from the
/// policy work against the Nova endpoint.
pub fn nova_model_id(model: &str) -> String {
    let mut id = model.trim();
    if let Some(rest) = id.strip_prefix("amazon.") {
        id = rest;
    } else if let Some((region, rest)) = id.split_once('.') {
        if region.len() == 2
            && region.bytes().all(|b| b.is_ascii_lowercase())
            && rest.starts_with("amazon.")
        {
            id = &rest["amazon.".len()..];
        }
    }
    if let Some((head, n)) = id.rsplit_once(':') {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            id = head;
        }
    }
    id.to_owned()
}

/// The model id sent on the wire for this target.
pub fn wire_model(target: &ProviderTarget, model: &str) -> String {
    if target.path_style == OpenAiPath::Nova {
        nova_model_id(model)
    } else {
        model.to_owned()
    }
}

pub(super) fn build(
    target: &ProviderTarget,
    req: &ChatRequest,
) -> Result<http::Request<Vec<u8>>, ApiError> {
    let key = match target.path_style {
        OpenAiPath::Local => target
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty()),
        _ => Some(target.require_key()?),
    };
    let model = wire_model(target, &req.model);
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), Value::String(model.clone()));
    body.insert("messages".into(), Value::Array(messages));
    if model.starts_with("gpt-5") {
        body.insert("max_completion_tokens".into(), req.max_tokens.into());
    } else {
        body.insert("temperature".into(), req.temperature.into());
        body.insert("max_tokens".into(), req.max_tokens.into());
    }
    let url = format!("{}{}", target.base(), target.path_style.suffix());
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    json_request(&target.provider, &url, &headers, &Value::Object(body))
}

/// Text of a content value: a string; an array of parts (strings or objects),
/// concatenated; an object with `text`, `value` or `content` (first non-empty,
/// recursively, so `{text:{value:"…"}}` works).
fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().map(content_text).collect(),
        Value::Object(o) => ["text", "value", "content"]
            .iter()
            .filter_map(|k| o.get(*k))
            .map(content_text)
            .find(|s| !s.trim().is_empty())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// An upstream that streams anyway (server-sent `chat.completion.chunk`
/// events): the deltas joined into one `chat.completion`, with the model and
/// the usage of the chunks that carry them. `None` when `body` is not a stream.
pub fn assemble_stream(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.trim_start().starts_with("data:") {
        return None;
    }
    let mut content = String::new();
    let (mut model, mut usage) = (Value::Null, Value::Null);
    for line in text.lines() {
        let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else {
            continue;
        };
        if data == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(data).ok()?;
        if let Some(d) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
        {
            content.push_str(d);
        }
        if let Some(m) = chunk.get("model").filter(|m| m.is_string()) {
            model = m.clone();
        }
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            usage = u.clone();
        }
    }
    Some(json!({
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": usage,
    }))
}

pub(super) fn parse(
    target: &ProviderTarget,
    req: &ChatRequest,
    body: &[u8],
) -> Result<ChatResponse, ApiError> {
    let provider = target.provider.as_str();
    let v = match assemble_stream(body) {
        Some(v) => v,
        None => parse_json(provider, body)?,
    };
    let message = v.pointer("/choices/0/message");
    let candidates = [
        message.and_then(|m| m.get("content")).map(content_text),
        message
            .and_then(|m| m.get("refusal"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        v.get("output_text").map(content_text),
    ];
    let text = candidates
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .ok_or_else(|| empty_response(provider))?;
    let usage = v.get("usage");
    Ok(ChatResponse {
        text,
        model: reported_model(v.get("model"), &wire_model(target, &req.model)),
        prompt_tokens: token_count(usage.and_then(|u| u.get("prompt_tokens"))),
        completion_tokens: token_count(usage.and_then(|u| u.get("completion_tokens"))),
    })
}
