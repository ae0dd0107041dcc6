//! Cloudflare Workers AI over REST (no binding needed, so the native host and
//! the Worker share one code path).
//!
//! Request: `POST {base}/accounts/{account_id}/ai/run/{model}` with
//! `authorization: Bearer <API token>` and `{messages, max_tokens,
//! temperature}`; base is normally `https://api.cloudflare.com/client/v4`.
//! Through AI Gateway the target has no `account_id` and `base_url` is the
//! gateway's `workers-ai` endpoint
//! (`https://gateway.ai.cloudflare.com/v1/{account}/{gateway}/workers-ai`):
//! the path is then `{base}/{model}`. Both answer
//! `{"result":{"response":"…","usage":{…}},"success":true,…}`.
//!
//! Model ids keep their `/` separators (`@cf/meta/llama-3.1-8b-instruct`);
//! each segment is percent-encoded except `@`.

use serde_json::{json, Value};

use super::bedrock::encode_uri_component;
use super::{
    empty_response, json_request, parse_json, token_count, ChatRequest, ChatResponse,
    ProviderTarget,
};
use sf_core::error::ApiError;

fn model_path(model: &str) -> String {
    model
        .trim()
        .split('/')
        .map(|seg| encode_uri_component(seg).replace("%40", "@"))
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) fn build(
    target: &ProviderTarget,
    req: &ChatRequest,
) -> Result<http::Request<Vec<u8>>, ApiError> {
    let key = target.require_key()?;
    let url = match target.account_id.as_deref().map(str::trim) {
        Some(account) if !account.is_empty() => format!(
            "{}/accounts/{}/ai/run/{}",
            target.base(),
            encode_uri_component(account),
            model_path(&req.model)
        ),
        _ => format!("{}/{}", target.base(), model_path(&req.model)),
    };
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let body = json!({
        "messages": messages,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
    });
    let auth = format!("Bearer {key}");
    json_request(&target.provider, &url, &[("authorization", &auth)], &body)
}

pub(super) fn parse(
    target: &ProviderTarget,
    req: &ChatRequest,
    body: &[u8],
) -> Result<ChatResponse, ApiError> {
    let provider = target.provider.as_str();
    let v = parse_json(provider, body)?;
    // Models in JSON mode answer with an object; agents want its JSON text.
    let text = match v.pointer("/result/response") {
        Some(Value::String(s)) => s.clone(),
        Some(o @ (Value::Object(_) | Value::Array(_))) => o.to_string(),
        _ => String::new(),
    };
    if text.trim().is_empty() {
        return Err(empty_response(provider));
    }
    let usage = v.pointer("/result/usage");
    Ok(ChatResponse {
        text,
        model: req.model.trim().to_owned(),
        prompt_tokens: token_count(usage.and_then(|u| u.get("prompt_tokens"))),
        completion_tokens: token_count(usage.and_then(|u| u.get("completion_tokens"))),
    })
}
