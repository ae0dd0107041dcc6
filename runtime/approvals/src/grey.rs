//! The grey zone: a task no rule decides goes to the policy's model
//! (`APPROVAL_MODEL`) with one structured-output call. The model scores the
//! task's risk (0..1); it is approved only when it says so and the score is
//! within the caller's tolerance bar. Any failure (no key, a timeout, an
//! upstream error, an answer that is not the JSON asked for) is `None`: the
//! caller then leaves the task pending for a human.

use std::time::Duration;

use serde_json::Value;

use sf_core::policy::{CallerRules, MonitoringLevel, APPROVAL_MODEL};
use sf_core::ports::{Clock, Host, Vars};
use sf_llm::providers::{call_chat, ChatMessage, ChatRequest, Role};

use crate::rules::Task;

/// The model's answer, already held against the caller's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub approve: bool,
    pub risk: f64,
    pub reason: String,
    pub max_duration_minutes: Option<u32>,
    pub monitoring: Option<MonitoringLevel>,
}

const SYSTEM: &str = "You review tasks an AI agency wants to run for its owner. Answer with one JSON object only: \
{\"approve\": true|false, \"risk\": <0..1>, \"reason\": \"<one sentence>\", \"maxDurationMinutes\": <int, optional>, \"monitoringLevel\": \"basic\"|\"detailed\"|\"strict\" (optional)}. \
risk is how likely the task is to cause harm, waste or embarrassment.";

pub fn prompt(rules: &CallerRules, t: &Task, remaining_usd: f64) -> Vec<ChatMessage> {
    let user = serde_json::json!({
        "task": {"taskId": t.task_id, "type": t.kind, "description": t.description,
                 "estimatedCost": t.estimated_cost, "agentType": t.agent_type},
        "owner": {"riskTolerance": rules.tolerance.name(), "maxRiskToApprove": rules.tolerance.bar(),
                  "remainingBudgetUsd": remaining_usd, "maxDurationMinutes": rules.max_duration_minutes},
    });
    vec![
        ChatMessage::new(Role::System, SYSTEM),
        ChatMessage::new(Role::User, user.to_string()),
    ]
}

/// Reads the model's JSON (also inside a ```json fence or surrounded by prose).
pub fn parse(text: &str, rules: &CallerRules) -> Option<Verdict> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let v: Value = serde_json::from_str(text.get(start..=end)?).ok()?;
    let approve = v.get("approve")?.as_bool()?;
    let risk = v
        .get("risk")?
        .as_f64()
        .filter(|r| (0.0..=1.0).contains(r))?;
    let reason = v.get("reason").and_then(Value::as_str).unwrap_or("").trim();
    let within = risk <= rules.tolerance.bar();
    let reason = match (approve, within) {
        (true, false) => format!(
            "Risk {risk:.2} is above the {} bar of {:.2}: {reason}",
            rules.tolerance.name(),
            rules.tolerance.bar()
        ),
        _ if reason.is_empty() => {
            if approve {
                "Approved by the reviewer model".into()
            } else {
                "Denied by the reviewer model".into()
            }
        }
        _ => reason.chars().take(500).collect(),
    };
    Some(Verdict {
        approve: approve && within,
        risk,
        reason,
        max_duration_minutes: v
            .get("maxDurationMinutes")
            .and_then(Value::as_u64)
            .map(|m| m.min(u64::from(u32::MAX)) as u32),
        monitoring: v
            .get("monitoringLevel")
            .and_then(Value::as_str)
            .and_then(MonitoringLevel::from_name),
    })
}

/// Lowers (never raises) the policy's `timeoutMs`, e.g. for tests.
pub const TIMEOUT_VAR: &str = "SF_APPROVALS_MODEL_TIMEOUT_MS";

fn timeout_ms<H: Host>(h: &H) -> u64 {
    let policy = u64::from(APPROVAL_MODEL.timeout_ms);
    h.vars()
        .var(TIMEOUT_VAR)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|t| *t > 0)
        .map_or(policy, |t| t.min(policy))
}

/// One call within `APPROVAL_MODEL.timeout_ms`; `None` on any failure.
pub async fn ask<H: Host>(
    h: &H,
    rules: &CallerRules,
    t: &Task,
    remaining_usd: f64,
) -> Option<Verdict> {
    let p = APPROVAL_MODEL.provider;
    if !sf_llm::has_credentials(h, p) {
        return None;
    }
    let target = sf_llm::target_for(h, p);
    let req = ChatRequest {
        model: APPROVAL_MODEL.model.name().to_owned(),
        messages: prompt(rules, t, remaining_usd),
        max_tokens: 300,
        temperature: 0.0,
    };
    let timeout = Duration::from_millis(timeout_ms(h));
    let now = h.clock().now_ms();
    let res = call_chat(h.fetch(), &target, &req, timeout, now)
        .await
        .ok()?;
    parse(&res.text, rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sf_core::policy::ApprovalCaller;

    #[test]
    fn the_bar_holds_whatever_the_model_says() {
        let r = ApprovalCaller::Agency.rules();
        let ok = parse(r#"{"approve":true,"risk":0.1,"reason":"fine"}"#, r).expect("parses");
        assert!(ok.approve);
        let risky = parse(
            r#"```json
{"approve":true,"risk":0.9,"reason":"meh"}
```"#,
            r,
        )
        .expect("parses");
        assert!(!risky.approve);
        assert!(risky.reason.contains("above the balanced bar"));
        assert_eq!(parse("I approve", r), None);
        assert_eq!(parse(r#"{"approve":true,"risk":7}"#, r), None);
    }
}
