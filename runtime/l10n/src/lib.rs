//! San Francisco localization (CONTRACT 2.8-2.10, 7.4, 7.5).
//!
//! Pure logic, no host and no other `sf-*` crate: the composition root wires
//! these functions to routes and the queue and implements [`io::L10nIo`]
//! (and [`io::TranslateIo`]) over the gateway's ports.

pub mod allowlist;
pub mod batch;
pub mod error;
pub mod flow;
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
