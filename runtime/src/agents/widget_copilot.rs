//! Glue between `/v1/execute` and the widget copilot engine (`sf_copilot`):
//! the engine asks for model calls through [`CopilotModel`], which this module
//! serves with the gateway's model layer, so budgets, fallback and the single
//! deadline apply to copilot calls (including the repair call) too.

use super::{AgentCall, AgentOutput};
use sf_copilot::{CopilotCtx, CopilotModel, ModelCall, ModelReply, MsgRole, Role};
use sf_core::error::ApiError;
use sf_core::ports::Host;
use sf_llm::providers::{ChatMessage, Role as ChatRole};
use sf_llm::{LlmRequest, LlmScope};

struct GatewayModel<'a, H: Host> {
    scope: LlmScope<'a, H>,
}

impl<H: Host> CopilotModel for GatewayModel<'_, H> {
    async fn complete(&self, req: ModelCall) -> Result<ModelReply, ApiError> {
        let messages = req
            .messages
            .into_iter()
            .map(|(role, content)| {
                let role = match role {
                    MsgRole::System => ChatRole::System,
                    MsgRole::User => ChatRole::User,
                    MsgRole::Assistant => ChatRole::Assistant,
                };
                ChatMessage::new(role, content)
            })
            .collect();
        let reply = sf_llm::chat(
            &self.scope,
            LlmRequest {
                max_tokens: req.max_tokens,
                timeout_ms: req.timeout_ms,
                ..LlmRequest::new(messages, f64::from(req.temperature))
            },
        )
        .await?;
        Ok(ModelReply {
            text: reply.text,
            provider: reply.provider.name().to_owned(),
            model: reply.model,
            prompt_tokens: reply.prompt_tokens,
            completion_tokens: reply.completion_tokens,
        })
    }
}

pub async fn run<H: Host>(call: AgentCall<'_, H>, role: Role) -> Result<AgentOutput, ApiError> {
    let host = call.gw.host();
    let timeout_ms = call.grant.timeout_ms()? as u64;
    let model = GatewayModel {
        scope: LlmScope {
            host,
            agent: call.agent,
            grant: call.grant,
            environment: call.gw.environment(),
            deadline_ms: call.started_ms + timeout_ms,
        },
    };
    let subject = call.grant.subject_key();
    let environment = call.gw.environment_name().unwrap_or("local");
    let max_requests_raw = call.grant.raw_max_requests();
    let session_id = call
        .input
        .get("sessionId")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .unwrap_or_default();
    let widget_type = call
        .input
        .get("widgetType")
        .and_then(|v| v.as_str())
        .map(str::trim);
    let prompt = sf_learning::choice::choose(host, call.agent, session_id, widget_type).await;
    let cx = CopilotCtx {
        host,
        model: &model,
        role,
        grant_subject_key: &subject,
        grant_max_requests_raw: max_requests_raw,
        grant_timeout_ms: timeout_ms,
        environment,
        started_ms: call.started_ms,
        prompt: &prompt,
    };
    let mut out = sf_copilot::run(&cx, call.input).await?;
    // `meta.promptVersion` keeps the contract's value for the policy's
    // prompt; a stored version names itself.
    if prompt.is_stored() {
        if let Some(meta) = out.result.get_mut("meta").and_then(|m| m.as_object_mut()) {
            meta.insert("promptVersion".into(), prompt.version.clone().into());
        }
    }
    Ok(AgentOutput {
        result: out.result,
        usage: out.usage,
        prompt: Some(prompt),
    })
}
