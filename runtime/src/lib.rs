//! San Francisco's composition root: the [`Gateway`] the hosts build once per
//! isolate (Worker) or thread (native host), table-driven dispatch over the
//! compiled policy, and the glue that implements the generated traits (one
//! method per route in `routes`, per agent in `agents`, per job in `jobs`,
//! per queue kind in `consumer`) with the features.
//!
//! Features (`sf-llm`, `sf-copilot`, `sf-records`) depend on `sf-core` only;
//! only this crate knows them all.

pub mod admin_policy;
pub mod admin_session;
pub mod agents;
pub mod consumer;
pub mod dispatch;
pub mod execute;
pub mod gateway;
pub mod jobs;
pub mod learning;
pub mod pages;
pub mod ratelimit;
pub mod routes;

pub use gateway::Gateway;
pub use sf_core::error::ConsumeError;
