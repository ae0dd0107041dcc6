//! `analyze-and-improve`: from an agent's clustered failures, a model chosen
//! by the policy drafts a candidate prompt; the candidate is stored as a
//! draft (`source` = `analyze`, the evidence in its note) and, where the
//! policy allows, an experiment starts it against the active version. A
//! candidate is never activated without a test.

use std::time::Duration;

use serde_json::{json, Value};

use sf_core::policy::{Agent, Model, Provider};
use sf_core::ports::{Clock, Host};
use sf_core::template;
use sf_llm::providers::{call_chat, ChatMessage, ChatRequest, Role};

use crate::{choice, experiments, prompts};

/// How one way of failing showed (from the interaction records).
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub kind: String,
    pub description: String,
    pub count: u64,
    /// (request, answer) examples, newest first.
    pub examples: Vec<(String, String)>,
}

/// The job's settings (policy/learning.yaml `improve`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub provider: Provider,
    pub model: Model,
    pub timeout_ms: u32,
    /// No candidate below this many failures in the window.
    pub min_failures: u64,
    /// Start an experiment of the candidate against the active version.
    pub start_experiment: bool,
    pub min_per_arm: u64,
    pub tuned_for_per_arm: u64,
}

/// What the job did for one agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Skipped(String),
    Drafted {
        version: String,
        experiment: Option<String>,
    },
}

impl Outcome {
    pub fn to_json(&self, agent: Agent) -> Value {
        match self {
            Outcome::Skipped(why) => json!({"agentId": agent.name(), "skipped": why}),
            Outcome::Drafted {
                version,
                experiment,
            } => {
                json!({"agentId": agent.name(), "draft": version, "experiment": experiment})
            }
        }
    }
}

fn instructions() -> String {
    format!(
        "You improve the instruction text (system prompt) of a production AI agent. You get its current \
         instructions and the ways it failed recently, with examples. Write a revised instruction text that \
         keeps every rule and the exact output format of the current one and addresses the failures. The \
         only placeholders allowed are {}; keep the ones the current text uses. Reply with one JSON object \
         and nothing else: {{\"prompt\": string, \"rationale\": string}}.",
        template::PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect::<Vec<_>>().join(" and ")
    )
}

fn evidence_text(current: &str, evidence: &[Evidence]) -> String {
    let mut out = format!("CURRENT INSTRUCTIONS:\n{current}\n\nFAILURES:");
    for e in evidence {
        out.push_str(&format!(
            "\n- {} ({}): {} interaction(s)",
            e.kind, e.description, e.count
        ));
        for (i, (req, ans)) in e.examples.iter().enumerate() {
            out.push_str(&format!(
                "\n  example {}: request: {req:?} answer: {ans:?}",
                i + 1
            ));
        }
    }
    out
}

/// The candidate text of a model reply (`{"prompt","rationale"}`, code
/// fences allowed), or why it is unusable.
pub fn parse_reply(text: &str) -> Result<(String, String), String> {
    let start = text.find('{').ok_or("the reply holds no JSON object")?;
    let end = text.rfind('}').ok_or("the reply holds no JSON object")?;
    let v: Value = serde_json::from_str(text.get(start..=end).unwrap_or_default())
        .map_err(|e| format!("the reply is not JSON: {e}"))?;
    let prompt = v["prompt"]
        .as_str()
        .ok_or("the reply has no `prompt` string")?
        .trim()
        .to_owned();
    template::check(&prompt).map_err(|why| format!("the candidate does not render: {why}"))?;
    let rationale = v["rationale"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(1000)
        .collect();
    Ok((prompt, rationale))
}

/// Drafts (and maybe tests) a candidate for `agent` from `evidence`.
pub async fn propose<H: Host>(h: &H, agent: Agent, evidence: &[Evidence], s: &Settings) -> Outcome {
    let failures: u64 = evidence.iter().map(|e| e.count).sum();
    if failures < s.min_failures {
        return Outcome::Skipped(format!(
            "{failures} failure(s), fewer than the {} the policy asks for",
            s.min_failures
        ));
    }
    let active = match prompts::active(h, agent).await {
        Ok(Some(v)) => v,
        Ok(None) => return Outcome::Skipped("no active prompt".into()),
        Err(e) => return Outcome::Skipped(e.message),
    };
    if !sf_llm::has_credentials(h, s.provider) {
        return Outcome::Skipped(format!(
            "{} has no credentials set (policy/providers.yaml)",
            s.provider.name()
        ));
    }
    let req = ChatRequest {
        model: s.model.name().to_owned(),
        messages: vec![
            ChatMessage::new(Role::System, instructions()),
            ChatMessage::new(Role::User, evidence_text(&active.text, evidence)),
        ],
        max_tokens: 2000,
        temperature: 0.2,
    };
    let target = sf_llm::target_for(h, s.provider);
    let timeout = Duration::from_millis(u64::from(s.timeout_ms));
    let reply = match call_chat(h.fetch(), &target, &req, timeout, h.clock().now_ms()).await {
        Ok(r) => r,
        Err(e) => return Outcome::Skipped(format!("the model call failed: {}", e.message)),
    };
    let (text, rationale) = match parse_reply(&reply.text) {
        Ok(c) => c,
        Err(why) => return Outcome::Skipped(why),
    };
    let note = json!({
        "rationale": rationale, "basedOn": active.version, "model": s.model.name(),
        "failures": evidence.iter().map(|e| json!({"kind": e.kind, "count": e.count})).collect::<Vec<_>>(),
    })
    .to_string();
    let draft = match prompts::create(h, agent, None, &text, Some(&note), prompts::SOURCE_ANALYZE)
        .await
    {
        Ok(d) => d,
        Err(e) => return Outcome::Skipped(format!("storing the candidate failed: {}", e.message)),
    };
    let mut experiment = None;
    if s.start_experiment {
        let spec = json!({"agentId": agent.name(), "arms": [active.version, draft.version], "metric": "score",
                          "minPerArm": s.min_per_arm, "tunedForPerArm": s.tuned_for_per_arm});
        match experiments::create(h, &spec).await {
            Ok(e) => {
                experiment = Some(e.id);
                if let Err(e) = choice::refresh(h, agent).await {
                    sf_core::sf_log!(
                        "learning: prompt choice of {} not refreshed: {}",
                        agent.name(),
                        e.message
                    );
                }
            }
            // E.g. a test already runs for the agent: the draft waits.
            Err(e) => sf_core::sf_log!(
                "learning: no experiment for draft {}: {}",
                draft.version,
                e.message
            ),
        }
    }
    Outcome::Drafted {
        version: draft.version,
        experiment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_checked() {
        let ok =
            "```json\n{\"prompt\": \"Be brief. {{examples}}\", \"rationale\": \"shorter\"}\n```";
        assert_eq!(
            parse_reply(ok),
            Ok(("Be brief. {{examples}}".into(), "shorter".into()))
        );
        assert!(parse_reply("no json").is_err());
        assert!(parse_reply("{\"rationale\": \"x\"}").is_err());
        assert!(parse_reply("{\"prompt\": \"Hi {{name}}\"}")
            .is_err_and(|e| e.contains("unknown placeholder `{{name}}`")));
        assert!(instructions().contains("{{examples}} and {{locale}}"));
    }
}
