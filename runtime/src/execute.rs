//! `POST /v1/execute` (CONTRACT.md section 2.2): verify the grant, resolve the
//! agent, check the capability, run the executor, answer, and record the
//! interaction without delaying the answer.

use std::rc::Rc;

use serde_json::{json, Value};

use sf_core::error::{ApiError, Issue};
use sf_core::http::{json_response, parse_json_body, well_formed_request_id, RouteCtx};
use sf_core::policy::{self, Agent, Surface};
use sf_core::ports::{Host, Random};
use sf_records::events;

use crate::agents::{AgentCall, AgentOutput, Executors};
use crate::gateway::Gateway;

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
    let grant = gw.isolate().verify_grant(token)?;

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
    let event = events::interaction_event(
        &grant,
        agent,
        &request_id,
        cx.started_ms,
        input,
        events::Answered {
            result: &out.result,
            usage: &out.usage,
            prompt: out.prompt.as_ref(),
        },
    );
    events::emit(gw.isolate(), event);
    Ok(json_response(200, &response))
}
