//! The widget copilot engine behind `sdr.widget.copilot.v1` and
//! `cs.widget.copilot.v1` (CONTRACT.md 7.3): one engine, two roles.
//!
//! A request runs through a deterministic pipeline first (error-page
//! detection, pending decisions, gates, explanations, clarifications, URL
//! handling); only when none of those answers does the model get called, and
//! whatever it returns is parsed, filtered, validated against the widget's
//! controls with the same rules Bob applies, and limited to light edits.
//!
//! The gateway reaches the model through [`CopilotModel`] so that this module
//! knows nothing of providers, budgets or retries.
#![allow(async_fn_in_trait)] // futures are intentionally !Send, see sf_core::ports

pub mod allowlist;
pub mod clarify;
pub mod eval;
pub mod explain;
pub mod input;
pub mod language;
pub mod limits;
pub mod messages;
pub mod meta;
pub mod ops;
pub mod page;
pub mod parse;
pub mod pipeline;
pub mod prompt;
pub mod session;
pub mod text;
pub mod vocab;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use sf_core::error::ApiError;
use sf_core::ports::Host;

pub use pipeline::run;

/// Which of the two agents is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Minibob and free tiers: FAQ copy only, set-only ops on the allowlist.
    Sdr,
    /// Paid tiers: any editable control.
    Cs,
}

impl Role {
    /// `meta.promptRole` and the session key segment.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Sdr => "sdr",
            Role::Cs => "cs",
        }
    }
    /// `meta.policyVersion` (CONTRACT 7.3.10).
    pub const fn policy_version(self) -> &'static str {
        match self {
            Role::Sdr => "widget.copilot.policy.sdr.minibob.v1@2026-02-11",
            Role::Cs => "widget.copilot.policy.cs.editor.v1@2026-02-11",
        }
    }
}

/// Author of one chat message sent to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgRole {
    System,
    User,
    Assistant,
}

impl MsgRole {
    pub const fn name(self) -> &'static str {
        match self {
            MsgRole::System => "system",
            MsgRole::User => "user",
            MsgRole::Assistant => "assistant",
        }
    }
}

/// One model call as the engine wants it. `None` limits mean "the grant's".
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCall {
    pub messages: Vec<(MsgRole, String)>,
    pub temperature: f32,
    /// The gateway clamps this to the grant's `maxTokens`.
    pub max_tokens: Option<u32>,
    /// The gateway clamps this to what is left of the grant's `timeoutMs`.
    pub timeout_ms: Option<u64>,
}

/// What came back from the provider that finally answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelReply {
    pub text: String,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What the engine needs from the gateway. The gateway implements it over the
/// provider call loop and the grant's budgets; each call consumes one request.
pub trait CopilotModel {
    async fn complete(&self, req: ModelCall) -> Result<ModelReply, ApiError>;
}

/// Everything one execution needs besides the input.
pub struct CopilotCtx<'a, H: Host, M: CopilotModel> {
    pub host: &'a H,
    pub model: &'a M,
    pub role: Role,
    /// Stable identity of the grant's subject; sessions are bound to it so a
    /// caller cannot read or poison another caller's session (CONTRACT 15.6).
    pub grant_subject_key: &'a str,
    /// `budgets.maxRequests` exactly as the grant carries it (repair needs >= 2).
    pub grant_max_requests_raw: f64,
    pub grant_timeout_ms: u64,
    /// `ENVIRONMENT` as configured (decides the Tokyo allowlist fallback).
    pub environment: &'a str,
    /// Epoch ms when the request started (the grant timeout counts from here).
    pub started_ms: u64,
    /// The prompt version and few-shot examples the learning loop chose.
    pub prompt: &'a sf_core::prompt_choice::PromptChoice,
}

/// The `/v1/execute` payload parts the engine owns.
#[derive(Debug, Clone, PartialEq)]
pub struct CopilotOutput {
    /// `{message, ops?, cta?, meta}`.
    pub result: serde_json::Value,
    /// `{provider, model, promptTokens, completionTokens, latencyMs}`.
    pub usage: serde_json::Value,
}
