//! San Francisco gateway core.
//!
//! Host-agnostic: speaks `http::Request<Vec<u8>>` / `http::Response<Vec<u8>>`
//! and reaches the world only through [`ports`]. No `worker`, no Tokio.

pub mod b64;
pub mod error;
pub mod gateway;
pub mod grants;
pub mod policy;
pub mod ports;
pub mod providers;
pub mod secret;

pub use gateway::{ConsumeError, Gateway};
