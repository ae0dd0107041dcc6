//! `result.meta` and `usage` (CONTRACT 7.3.10, 7.3.4).

use serde_json::{json, Map, Value};

use super::Role;

pub const PROMPT_VERSION: &str = "widget.copilot.core.v2@2026-02-11";
pub const PROMPT_PROFILE_VERSION: &str = "widget.copilot.prompt-profiles.v1@2026-02-11";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Edit,
    Explain,
    Clarify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    OpsApplied,
    NoOps,
    InvalidOps,
}

impl Intent {
    pub const fn name(self) -> &'static str {
        match self {
            Intent::Edit => "edit",
            Intent::Explain => "explain",
            Intent::Clarify => "clarify",
        }
    }
}

impl Outcome {
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::OpsApplied => "ops_applied",
            Outcome::NoOps => "no_ops",
            Outcome::InvalidOps => "invalid_ops",
        }
    }
}

/// The `meta` object, keys in contract order. `lang` is `(code, confidence)`.
pub fn meta(role: Role, intent: Intent, outcome: Outcome, lang: Option<(&str, f64)>) -> Value {
    let mut m = Map::new();
    m.insert("intent".into(), intent.name().into());
    m.insert("outcome".into(), outcome.name().into());
    m.insert("promptVersion".into(), PROMPT_VERSION.into());
    m.insert("promptProfileVersion".into(), PROMPT_PROFILE_VERSION.into());
    m.insert("promptRole".into(), role.name().into());
    m.insert("policyVersion".into(), role.policy_version().into());
    m.insert(
        "dictionaryHash".into(),
        super::vocab::DICTIONARY_HASH.into(),
    );
    if let Some((code, conf)) = lang {
        m.insert("language".into(), code.into());
        m.insert("languageConfidence".into(), json!(conf));
    }
    Value::Object(m)
}

/// `{message, ops?, cta?, meta}`: `ops` only when non-empty.
pub fn result(message: &str, ops: &[Value], cta: Option<Value>, meta: Value) -> Value {
    let mut m = Map::new();
    m.insert("message".into(), message.into());
    if !ops.is_empty() {
        m.insert("ops".into(), Value::Array(ops.to_vec()));
    }
    if let Some(c) = cta {
        m.insert("cta".into(), c);
    }
    m.insert("meta".into(), meta);
    Value::Object(m)
}

/// Usage of a deterministic answer: no model, the route tag as the model.
pub fn local_usage(tag: &str) -> Value {
    json!({"provider":"local","model":tag,"promptTokens":0,"completionTokens":0,"latencyMs":0})
}

pub fn model_usage(
    provider: &str,
    model: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
    latency_ms: u64,
) -> Value {
    json!({
        "provider": provider, "model": model,
        "promptTokens": prompt_tokens, "completionTokens": completion_tokens, "latencyMs": latency_ms
    })
}

/// The signup CTA of the SDR gates (Bob opens its upsell for `signup`).
pub fn signup_cta() -> Value {
    json!({"text":"Create a free account","action":"signup"})
}

/// Model CTAs survive only in the shape Bob renders (CONTRACT 7.3.8 step 1).
pub fn filter_cta(v: Option<&Value>) -> Option<Value> {
    let o = v?.as_object()?;
    let text = o.get("text")?.as_str()?.trim();
    let action = o.get("action")?.as_str()?;
    if text.is_empty() || !matches!(action, "signup" | "upgrade" | "learn-more") {
        return None;
    }
    let mut out = Map::new();
    out.insert("text".into(), text.into());
    out.insert("action".into(), action.into());
    if let Some(url) = o
        .get("url")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        out.insert("url".into(), url.into());
    }
    Some(Value::Object(out))
}
