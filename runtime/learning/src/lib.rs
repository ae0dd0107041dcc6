//! The learning loop's prompts (issue 11): which prompt version each
//! execution runs, and how a better version takes over.
//!
//! - [`stats`]: the A/B/n split (sticky per session) and the anytime-valid
//!   winner rule, as pure functions.
//! - [`prompts`]: prompt versions in `sf_prompts`: the policy's prompt file is
//!   an agent's baseline version; new versions come from the admin API (or
//!   the analyze job) as drafts; one is active per agent.
//! - [`experiments`]: tests of versions against each other in
//!   `sf_experiments`; the decide job promotes a winner with its evidence.
//! - [`choice`]: the per-agent KV document the executions read (active
//!   version, running experiment) and the choice for one session, with the
//!   example bank's few-shot examples.
//! - [`admin`]: the `/admin/v1/prompts` and `/admin/v1/experiments` routes.
#![allow(async_fn_in_trait)] // futures are intentionally !Send, see sf_core::ports

pub mod admin;
pub mod choice;
pub mod experiments;
pub mod improve;
pub mod prompts;
pub mod stats;

pub use stats::*;

use sf_core::error::{ApiError, ErrorCode};
use sf_core::policy::Agent;
use sf_core::ports::{Clock, Host};

pub(crate) fn now<H: Host>(h: &H) -> i64 {
    i64::try_from(h.clock().now_ms()).unwrap_or(i64::MAX)
}

/// The agent named by a path or body, when it has a prompt in the policy
/// (only those have versions); otherwise a 404 naming the agents that do.
pub fn prompted_agent(raw: &str) -> Result<Agent, ApiError> {
    match Agent::from_name(raw) {
        Some(a) if a.prompt().is_some() => Ok(a),
        _ => Err(ApiError::new(
            404,
            ErrorCode::BadRequest,
            format!(
                "Unknown agent `{raw}` for prompts: agents with a prompt in policy/prompts.yaml are {}",
                prompted_agents().join(", ")
            ),
        )),
    }
}

/// The agents that have a prompt in the policy.
pub fn prompted_agents() -> Vec<&'static str> {
    Agent::ALL
        .iter()
        .filter(|a| a.prompt().is_some())
        .map(|a| a.name())
        .collect()
}
