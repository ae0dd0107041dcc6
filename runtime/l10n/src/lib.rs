//! San Francisco localization (CONTRACT 2.8-2.10, 7.4, 7.5).
//!
//! The logic is pure and speaks to the world through [`io`]'s traits, which
//! [`gateway`] implements over the core's ports and the model layer; the
//! composition root only routes to [`gateway`]'s entry points.
//!
//! Entry points:
//! - `POST /v1/l10n/plan`: [`plan::read_json_body`] -> [`plan::parse_plan_request`] -> [`plan::plan`].
//! - `POST /v1/l10n` (local): [`job::parse_dispatch_body`], verify each `job.grant`
//!   (cap `agent:{agent_id}`), then [`flow::run_job`] per job.
//! - queue `instance-l10n-generate-*`: [`job::parse_job`], verify the grant, [`flow::run_job`].
//! - `POST /v1/l10n/translate`: [`plan::read_json_body`] -> [`translate::translate`].
//! - Errors are [`L10nError`]; answer with `status` and [`L10nError::to_body`].
//!
//! Choices that differ from the original (CONTRACT 15):
//! - Grant budget: a job is one request against its grant. Only its first
//!   model call has [`io::ModelCall::counts_against_grant`] set; the
//!   implementation reserves one request for it and none for the later
//!   batches and richtext fallbacks (15.10).
//! - Logs and reports carry the job with its grant redacted (15.8).
//! - R2 log and report failures do not turn a written overlay into `failed`,
//!   and a KV cache write failure does not fail the allowlist load.
//! - Network failures on the plan route are `502` blamed on Paris/Tokyo, not
//!   `500 "Unhandled error"`.
//! - The system prompts are ours (same rules); the user prompts, limits,
//!   messages and reason codes are the contract's.

pub mod allowlist;
pub mod batch;
pub mod error;
pub mod flow;
pub mod gateway;
pub mod io;
pub mod job;
pub mod js;
pub mod literal;
pub mod locale;
pub mod overlay;
pub mod parse;
pub mod paths;
pub mod placeholders;
pub mod plan;
pub mod prompt;
pub mod report;
pub mod richtext;
pub mod safety;
pub mod source;
pub mod stable;
pub mod targets;
pub mod translate;

pub use error::{IoFailure, Issue, L10nError};
pub use stable::{base_fingerprint, sha256_hex, stable_stringify};
