//! Amazon Bedrock Converse, SigV4-signed (service `bedrock`).
//!
//! Request: `POST {base}/model/{encodeURIComponent(modelId)}/converse` with
//! `{system?:[{text}], messages:[{role, content:[{text}]}],
//! inferenceConfig:{maxTokens, temperature}}`; signed headers
//! `content-type;host;x-amz-date[;x-amz-security-token]`. The base defaults to
//! `https://bedrock-runtime.{region}.amazonaws.com`. Response text: the
//! concatenation of `output.message.content[].text`; usage
//! `usage.inputTokens/outputTokens`; the reported model is the normalised id.

use serde_json::{json, Value};

use super::sigv4::{self, Credentials};
use super::{
    config_err, empty_response, json_request, parse_json, token_count, ChatRequest, ChatResponse,
    ProviderTarget, Role,
};
use sf_core::error::ApiError;
pub use sf_core::http::encode_uri_component;
use sf_core::policy::Var;

/// Bare ids (no vendor prefix, e.g. `nova-2-lite-v1`) become
/// `amazon.{id}:0`; ids that already name a vendor (`amazon.nova-pro-v1:0`,
/// `us.amazon.nova-lite-v1:0`) are kept. A bare id that already carries a
/// `:N` version keeps it.
pub fn bedrock_model_id(model: &str) -> String {
    let id = model.trim();
    if id.contains('.') {
        return id.to_owned();
    }
    let versioned = id
        .rsplit_once(':')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if versioned {
        format!("amazon.{id}")
    } else {
        format!("amazon.{id}:0")
    }
}

pub(super) fn build(
    target: &ProviderTarget,
    req: &ChatRequest,
    now_ms: u64,
) -> Result<http::Request<Vec<u8>>, ApiError> {
    let provider = target.provider.as_str();
    let missing = |var: &str| ApiError::provider(500, provider, format!("Missing {var}"));
    let creds = target
        .bedrock
        .as_ref()
        .ok_or_else(|| missing(Var::AmazonBedrockAccessKeyId.name()))?;
    if creds.access_key_id.trim().is_empty() {
        return Err(missing(Var::AmazonBedrockAccessKeyId.name()));
    }
    if creds.secret_access_key.trim().is_empty() {
        return Err(missing(Var::AmazonBedrockSecretAccessKey.name()));
    }
    let region = creds.region.trim();
    if region.is_empty() {
        return Err(missing(Var::AmazonBedrockRegion.name()));
    }
    let base = match target.base() {
        "" => format!("https://bedrock-runtime.{region}.amazonaws.com"),
        b => b.to_owned(),
    };
    let model = bedrock_model_id(&req.model);
    let url = format!("{base}/model/{}/converse", encode_uri_component(&model));

    let system: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| json!({"text": m.content}))
        .collect();
    let messages: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({"role": m.role.as_str(), "content": [{"text": m.content}]}))
        .collect();
    let mut body = serde_json::Map::new();
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(messages));
    body.insert(
        "inferenceConfig".into(),
        json!({"maxTokens": req.max_tokens, "temperature": req.temperature}),
    );

    let mut http_req = json_request(provider, &url, &[], &Value::Object(body))?;
    let session_token = creds
        .session_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    sigv4::sign_request(
        &mut http_req,
        &Credentials {
            access_key_id: creds.access_key_id.trim(),
            secret_access_key: creds.secret_access_key.trim(),
            session_token,
        },
        region,
        "bedrock",
        now_ms,
    )
    .map_err(|e| config_err(provider, e))?;
    Ok(http_req)
}

pub(super) fn parse(
    target: &ProviderTarget,
    req: &ChatRequest,
    body: &[u8],
) -> Result<ChatResponse, ApiError> {
    let provider = target.provider.as_str();
    let v = parse_json(provider, body)?;
    let text: String = v
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(empty_response(provider));
    }
    let usage = v.get("usage");
    Ok(ChatResponse {
        text,
        model: bedrock_model_id(&req.model),
        prompt_tokens: token_count(usage.and_then(|u| u.get("inputTokens"))),
        completion_tokens: token_count(usage.and_then(|u| u.get("outputTokens"))),
    })
}
