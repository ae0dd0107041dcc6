//! San Francisco's model layer: the providers' wire formats ([`providers`])
//! and the one entry point every agent calls ([`chat`]): provider and model
//! selection and fallback from the compiled policy, retries within one
//! deadline, and the grant's budgets reserved before each call and settled
//! after it.

mod chat;
pub mod providers;

pub use chat::{
    chat, has_credentials, plan_calls, price_of, target_for, usage_json, LlmReply, LlmRequest,
    LlmScope,
};
