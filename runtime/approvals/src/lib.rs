//! Approvals for agent tasks (issue 15): an agency asks `POST /api/approve`
//! before it runs a task, and gets approved, denied or pending (a human
//! decides). The rules are compiled from `policy/approvals.yaml`
//! (`sf_core::policy::APPROVAL_CALLERS`): blocked operations are denied, a
//! task over what is left of the day's budget is denied, one over the
//! caller's threshold or of a human-only type is pending; only the rest (the
//! grey zone) goes to a model, whose failure or timeout leaves the task
//! pending (a human decides; nothing runs unapproved).
//!
//! The day's spend is reserved atomically at decision time with the Counter
//! port (ceiling = the daily budget), so parallel approvals never pass the
//! budget; the task's cost report settles it. Decisions are keyed to the
//! request's hash: the same body replays the same decision, a different body
//! for a known task is a 409.
//!
//! Depends on `sf-core` (and `sf-llm` for the model call) only; the
//! composition root binds the route handlers in [`api`].

pub mod admin;
pub mod api;
pub mod auth;
pub mod decide;
pub mod grey;
pub mod rules;
pub mod store;
