//! Executors of the `execute`-surface agents. The compiled policy generates
//! `policy::AgentExecutors` with one method per such agent, so an agent added
//! to `agents.yaml` without an executor here fails to compile.

mod grant_probe;
mod sdr_copilot;
mod widget_copilot;

use std::marker::PhantomData;
use std::rc::Rc;

use serde_json::Value;

use crate::gateway::Gateway;
use sf_core::error::ApiError;
use sf_core::grants::Grant;
use sf_core::policy::{Agent, AgentExecutors};
use sf_core::ports::Host;
use sf_core::prompt_choice::PromptChoice;

/// One `/v1/execute` call after the grant and capability checks passed.
pub struct AgentCall<'a, H: Host> {
    pub gw: &'a Rc<Gateway<H>>,
    pub agent: Agent,
    pub grant: &'a Grant,
    pub input: &'a Value,
    pub request_id: &'a str,
    /// Request start, epoch ms; the grant's `timeoutMs` counts from here.
    pub started_ms: u64,
}

/// An executor's answer: the `result` and `usage` of the response, and the
/// prompt the learning loop chose (recorded on the interaction event).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOutput {
    pub result: Value,
    pub usage: Value,
    pub prompt: Option<PromptChoice>,
}

/// Binds the generated trait to the executors.
pub struct Executors<'a, H: Host>(PhantomData<AgentCall<'a, H>>);

impl<H: Host> Executors<'_, H> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<H: Host> Default for Executors<'_, H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, H: Host> AgentExecutors for Executors<'a, H> {
    type Call = AgentCall<'a, H>;
    type Out = Result<AgentOutput, ApiError>;
    async fn debug_grant_probe(&self, call: AgentCall<'a, H>) -> Self::Out {
        grant_probe::run(call)
    }
    async fn sdr_copilot(&self, call: AgentCall<'a, H>) -> Self::Out {
        sdr_copilot::run(call).await
    }
    async fn sdr_widget_copilot_v1(&self, call: AgentCall<'a, H>) -> Self::Out {
        widget_copilot::run(call, sf_copilot::Role::Sdr).await
    }
    async fn cs_widget_copilot_v1(&self, call: AgentCall<'a, H>) -> Self::Out {
        widget_copilot::run(call, sf_copilot::Role::Cs).await
    }
}
