//! `debug.grantProbe` (CONTRACT.md 7.1): proves a grant works end to end
//! without calling a model.

use serde_json::{json, Value};

use super::{AgentCall, AgentOutput};
use sf_core::error::{ApiError, Issue};
use sf_core::ports::{Clock, Host};

pub fn run<H: Host>(call: AgentCall<'_, H>) -> Result<AgentOutput, ApiError> {
    let input = match call.input {
        Value::Null => serde_json::Map::new(),
        Value::Object(o) => o.clone(),
        _ => {
            return Err(ApiError::bad_request("Invalid input")
                .with_issues(vec![Issue::new("input", "Expected an object")]))
        }
    };
    let mut result = json!({ "ok": true });
    if let Some(ping) = input
        .get("ping")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        result["echo"] = json!(ping);
    }
    let latency = call
        .gw
        .host()
        .clock()
        .now_ms()
        .saturating_sub(call.started_ms);
    Ok(AgentOutput {
        result,
        usage: json!({
            "provider": "sanfrancisco",
            "model": "debug.grantProbe",
            "promptTokens": 0,
            "completionTokens": 0,
            "latencyMs": latency,
        }),
        prompt: None,
    })
}
