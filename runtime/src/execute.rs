//! `POST /v1/execute` (CONTRACT.md section 2.2): verify the grant, resolve the
//! agent, check the capability, run the executor, answer, and record the
//! interaction without delaying the answer.

use std::rc::Rc;

use serde_json::{json, Value};

use crate::agents::{AgentCall, AgentOutput, Executors};
use crate::error::{ApiError, Issue};
use crate::gateway::{json_response, Gateway, RouteCtx};
use crate::grants::{self, Grant};
use crate::policy::{self, Agent, Profile, Surface};

const PROFILE_NAMES: [&str; Profile::ALL.len()] = {
    let mut names = [""; Profile::ALL.len()];
    let mut i = 0;
    while i < Profile::ALL.len() {
        names[i] = Profile::ALL[i].name();
        i += 1;
    }
    names
};
use crate::ports::{Clock, Host, Random, Vars};

/// Longest caller-supplied request id we keep; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Parses a JSON body the way the original does: empty → `null`; anything
/// unparsable (including invalid UTF-8) → `400 "Invalid JSON body"`.
pub fn parse_json_body(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("Invalid JSON body"))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|_| ApiError::bad_request("Invalid JSON body"))
}

/// Verifies a grant token with `AI_GRANT_HMAC_SECRET` (500 naming the variable when unset).
pub fn verify<H: Host>(gw: &Gateway<H>, token: &str) -> Result<Grant, ApiError> {
    let secret = gw
        .host()
        .vars()
        .var("AI_GRANT_HMAC_SECRET")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::missing_var("AI_GRANT_HMAC_SECRET"))?;
    let names = grants::GrantNames {
        providers: gw.grantable_providers(),
        profiles: &PROFILE_NAMES,
    };
    grants::verify_grant(token, secret.as_bytes(), gw.host().clock().now_ms(), &names)
}

/// A caller's `trace.requestId` is echoed only when it is safe to use as a
/// primary key and an object name; anything else gets a server-generated id
/// (the original used any string verbatim, even `""`).
pub fn well_formed_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn handle<H: Host>(
    gw: &Rc<Gateway<H>>,
    cx: RouteCtx,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let body = parse_json_body(cx.req.body())?;
    let shape_ok = body.as_object().is_some_and(|o| {
        o.get("grant").is_some_and(Value::is_string)
            && o.get("agentId").is_some_and(Value::is_string)
    });
    if !shape_ok {
        return Err(ApiError::bad_request("Invalid request")
            .with_issues(vec![Issue::new("", "Expected { grant, agentId, input }")]));
    }
    let token = body["grant"].as_str().unwrap_or_default();
    let raw_agent = body["agentId"].as_str().unwrap_or_default();
    let grant = verify(gw, token)?;

    let agent = Agent::from_name(raw_agent)
        .ok_or_else(|| ApiError::denied(403, format!("Unknown agentId: {raw_agent}")))?;
    if agent.surface() != Surface::Execute {
        return Err(ApiError::denied(
            403,
            format!("Agent not executable via /v1/execute: {}", agent.name()),
        ));
    }
    let cap = format!("agent:{}", agent.name());
    if !grant.has_cap(&cap) {
        return Err(ApiError::denied(403, format!("Capability denied: {cap}")));
    }

    let request_id = body
        .get("trace")
        .and_then(|t| t.get("requestId"))
        .and_then(Value::as_str)
        .filter(|id| well_formed_request_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| gw.host().random().uuid_v4());
    let input = body.get("input").cloned().unwrap_or(Value::Null);

    let call = AgentCall {
        gw,
        agent,
        grant: &grant,
        input: &input,
        request_id: &request_id,
        started_ms: cx.started_ms,
    };
    let out: AgentOutput = policy::dispatch_agent(&Executors::new(), agent, call)
        .await
        .ok_or_else(ApiError::unhandled)??;

    let response = json!({
        "requestId": request_id,
        "agentId": agent.name(),
        "result": &out.result,
        "usage": &out.usage,
    });
    let event =
        crate::events::interaction_event(&grant, agent, &request_id, cx.started_ms, input, &out);
    crate::events::emit(gw, event);
    Ok(json_response(200, &response))
}
