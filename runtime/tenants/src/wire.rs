//! One provider call, as `sf_llm::providers::call_chat`, plus OpenAI's
//! `response_format` for the providers that speak the OpenAI protocol (the
//! others do not take it, so it is not sent to them).

use std::time::Duration;

use serde_json::Value;

use sf_core::error::ApiError;
use sf_core::ports::{Fetch, FetchError};
use sf_llm::providers::{self, ChatRequest, ChatResponse, Protocol, ProviderTarget};

fn with_response_format(req: http::Request<Vec<u8>>, rf: &Value) -> http::Request<Vec<u8>> {
    let (parts, body) = req.into_parts();
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut m)) => {
            m.insert("response_format".into(), rf.clone());
            serde_json::to_vec(&Value::Object(m)).unwrap_or(body)
        }
        _ => body,
    };
    let mut req = http::Request::from_parts(parts, body);
    req.headers_mut().remove(http::header::CONTENT_LENGTH);
    req
}

pub async fn call<F: Fetch>(
    fetch: &F,
    target: &ProviderTarget,
    req: &ChatRequest,
    response_format: Option<&Value>,
    timeout: Duration,
    now_ms: u64,
) -> Result<ChatResponse, ApiError> {
    let Some(rf) = response_format.filter(|_| target.protocol == Protocol::OpenaiChat) else {
        return providers::call_chat(fetch, target, req, timeout, now_ms).await;
    };
    let http_req = with_response_format(providers::build_request(target, req, now_ms)?, rf);
    let resp = match fetch.fetch(http_req, timeout).await {
        Ok(r) => r,
        Err(FetchError::Timeout) => return Err(ApiError::budget("Execution timeout exceeded")),
        Err(FetchError::Network(_) | FetchError::Blocked(_)) => {
            return Err(ApiError::provider(
                502,
                target.provider.clone(),
                "Upstream request failed",
            ))
        }
    };
    providers::parse_response(target, req, resp.status().as_u16(), resp.body())
}
