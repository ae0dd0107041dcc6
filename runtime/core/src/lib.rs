//! San Francisco's core: what every feature and both hosts share.
//!
//! Host-agnostic: speaks `http::Request<Vec<u8>>` / `http::Response<Vec<u8>>`
//! and reaches the world only through [`ports`]. No `worker`, no Tokio, no
//! SQLite (a test keeps it so). Features (`sf-llm`, `sf-copilot`,
//! `sf-records`, ...) depend on this crate and never on each other; the
//! composition root (`sf-runtime`) wires them to the generated policy traits.

pub mod b64;
pub mod commands;
pub mod error;
pub mod grants;
pub mod http;
pub mod isolate;
pub mod jsjson;
pub mod logsink;
pub mod mint;
pub mod net;
pub mod paris;
pub mod policy;
pub mod ports;
pub mod prompt_choice;
pub mod rawjson;
pub mod secret;
pub mod template;
pub mod time_fmt;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use isolate::Isolate;
