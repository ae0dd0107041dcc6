//! San Francisco gateway core.
//!
//! Host-agnostic: speaks `http::Request<Vec<u8>>` / `http::Response<Vec<u8>>`
//! and reaches the world only through [`ports`]. No `worker`, no Tokio.

pub mod agents;
pub mod b64;
pub mod commands;
pub mod consumer;
pub mod copilot;
pub mod error;
pub mod events;
pub mod execute;
pub mod gateway;
pub mod grants;
pub mod llm;
pub mod logsink;
pub mod mint;
pub mod outcome;
pub mod policy;
pub mod ports;
pub mod providers;
pub mod retention;
pub mod routes;
pub mod secret;
pub mod time_fmt;

pub use gateway::{ConsumeError, Gateway};
