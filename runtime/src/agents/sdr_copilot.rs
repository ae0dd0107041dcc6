//! `sdr.copilot` (CONTRACT.md 7.2): a short sales-assistant chat with a
//! session in KV and a strict JSON reply.
//!
//! The session is bound to the grant's subject: a record written for another
//! subject is never read or overwritten (the original keyed it by the
//! client-supplied id alone).

use serde_json::{json, Value};

use super::{AgentCall, AgentOutput};
use sf_core::error::{ApiError, Issue};
use sf_core::policy::Agent;
use sf_core::ports::{Clock, Host, Kv};
use sf_llm::providers::{ChatMessage, Role as ChatRole};
use sf_llm::{LlmRequest, LlmScope};

const SESSION_TTL_S: u64 = 86_400;
const MAX_TURNS: usize = 10;

/// The instruction text, from policy/prompts/sdr.copilot.md (a build error
/// if the policy drops it).
const SYSTEM_PROMPT: &str = match Agent::SdrCopilot.prompt() {
    Some(p) => p.text,
    None => panic!("policy/prompts.yaml must give sdr.copilot a prompt"),
};

fn input_issue(path: &str) -> Issue {
    Issue::new(path, "Missing required value")
}

fn model_err(provider: &str, message: &str) -> ApiError {
    ApiError::provider(502, provider, message)
}

/// Validates the model's reply into the result object.
fn parse_reply(text: &str, provider: &str) -> Result<Value, ApiError> {
    let parsed: Value = serde_json::from_str(text.trim())
        .map_err(|_| model_err(provider, "Model did not return valid JSON"))?;
    let obj = parsed
        .as_object()
        .ok_or_else(|| model_err(provider, "Model output must be an object"))?;
    let message = obj
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| model_err(provider, "Model output missing message"))?;
    let next = match obj.get("next").and_then(Value::as_str) {
        Some(n @ ("continue" | "end")) => n,
        _ => {
            return Err(model_err(
                provider,
                "Model output next must be continue|end",
            ))
        }
    };
    let mut result = json!({ "message": message, "next": next });
    if let Some(cta) = obj.get("cta") {
        let cta_obj = cta
            .as_object()
            .ok_or_else(|| model_err(provider, "Model output cta must be an object"))?;
        let ok = cta_obj.get("kind").and_then(Value::as_str) == Some("signup")
            && cta_obj
                .get("label")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
            && cta_obj
                .get("href")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty());
        if !ok {
            return Err(model_err(
                provider,
                "Model output cta must be { kind:\"signup\", label, href }",
            ));
        }
        result["cta"] = cta.clone();
    }
    Ok(result)
}

pub async fn run<H: Host>(call: AgentCall<'_, H>) -> Result<AgentOutput, ApiError> {
    let Some(input) = call.input.as_object() else {
        return Err(ApiError::bad_request("Invalid input")
            .with_issues(vec![Issue::new("input", "Expected an object")]));
    };
    let session_id = input
        .get("sessionId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let message = input
        .get("message")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let mut issues = Vec::new();
    if session_id.is_none() {
        issues.push(input_issue("input.sessionId"));
    }
    if message.is_none() {
        issues.push(input_issue("input.message"));
    }
    let (Some(session_id), Some(message)) = (session_id, message) else {
        return Err(ApiError::bad_request("Invalid input").with_issues(issues));
    };

    let host = call.gw.host();
    let now = host.clock().now_ms();
    let owner = call.grant.subject_key();
    let key = format!("sdr:session:{session_id}");
    let (stored, prompt) = futures_util::join!(
        host.kv().get(&key),
        sf_learning::choice::choose(host, call.agent, session_id, None)
    );
    let stored = stored.ok().flatten();
    // `None` means "do not persist": the id belongs to another subject.
    let mut session: Option<Value> = match stored {
        None => Some(
            json!({ "sessionId": session_id, "createdAtMs": now, "lastActiveAtMs": now, "owner": owner, "turns": [] }),
        ),
        Some(text) => {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if !v.is_object() || !v.get("turns").is_some_and(Value::is_array) {
                return Err(ApiError::provider(
                    500,
                    "sanfrancisco",
                    "Session store is corrupted",
                ));
            }
            if v.get("owner").and_then(Value::as_str) == Some(owner.as_str()) {
                Some(v)
            } else {
                None
            }
        }
    };

    let system = prompt.render(SYSTEM_PROMPT, "");
    let mut messages = vec![ChatMessage::new(ChatRole::System, system)];
    if let Some(turns) = session.as_ref().and_then(|s| s["turns"].as_array()) {
        for t in turns {
            let role = match t["role"].as_str() {
                Some("assistant") => ChatRole::Assistant,
                _ => ChatRole::User,
            };
            messages.push(ChatMessage::new(
                role,
                t["content"].as_str().unwrap_or_default(),
            ));
        }
    }
    messages.push(ChatMessage::new(ChatRole::User, message));

    let scope = LlmScope {
        host,
        agent: call.agent,
        grant: call.grant,
        environment: call.gw.environment(),
        deadline_ms: call.started_ms + call.grant.timeout_ms()? as u64,
    };
    let first_call_ms = host.clock().now_ms();
    let reply = sf_llm::chat(&scope, LlmRequest::new(messages, 0.2)).await?;
    let result = parse_reply(&reply.text, reply.provider.name())?;

    if let Some(s) = session.as_mut() {
        if let Some(turns) = s["turns"].as_array_mut() {
            turns.push(json!({ "role": "user", "content": message }));
            turns.push(json!({ "role": "assistant", "content": result["message"] }));
            let excess = turns.len().saturating_sub(MAX_TURNS);
            turns.drain(..excess);
        }
        s["lastActiveAtMs"] = json!(host.clock().now_ms());
        // A failed session write must not fail a paid answer.
        let _ = host
            .kv()
            .put(&key, &s.to_string(), Some(SESSION_TTL_S))
            .await;
    }
    let latency = host.clock().now_ms().saturating_sub(first_call_ms);
    Ok(AgentOutput {
        result,
        usage: sf_llm::usage_json(&reply, latency, true),
        prompt: Some(prompt),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_validation_matches_contract_messages() {
        let e = parse_reply("hello", "deepseek").unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (502, "Model did not return valid JSON")
        );
        assert_eq!(e.provider.as_deref(), Some("deepseek"));
        let e = parse_reply("[1]", "deepseek").unwrap_err();
        assert_eq!(e.message, "Model output must be an object");
        let e = parse_reply(r#"{"message":" "}"#, "deepseek").unwrap_err();
        assert_eq!(e.message, "Model output missing message");
        let e = parse_reply(r#"{"message":"hi","next":"later"}"#, "deepseek").unwrap_err();
        assert_eq!(e.message, "Model output next must be continue|end");
        let e = parse_reply(r#"{"message":"hi","next":"end","cta":1}"#, "deepseek").unwrap_err();
        assert_eq!(e.message, "Model output cta must be an object");
        let e = parse_reply(
            r#"{"message":"hi","next":"end","cta":{"kind":"x"}}"#,
            "deepseek",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Model output cta must be { kind:\"signup\", label, href }"
        );
        let ok = parse_reply(r#"{"message":"Hi!","next":"continue"}"#, "deepseek").unwrap();
        assert_eq!(ok, json!({"message":"Hi!","next":"continue"}));
    }
}
