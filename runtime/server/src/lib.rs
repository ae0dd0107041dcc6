//! San Francisco native host: runs the gateway core on one machine with no
//! Cloudflare account.
//!
//! - [`serve`] / [`start`]: the HTTP server (hyper 1, HTTP/1.1 keep-alive), one
//!   current-thread Tokio runtime per core, each thread owning its own
//!   `Rc<Gateway<NativeHost>>`.
//! - [`NativeHost`]: every port of `sf_core::ports`: SQLite for Sql, Kv,
//!   Counter and the durable queue (`<data-dir>/sf.sqlite3`), files for Blob
//!   (`<data-dir>/blob/`), reqwest for Fetch.
//! - [`QueueStore`]: dead-letter listing and replay for tools.
//! - [`admin_ui`]: the admin UI's static files under `/admin/`, embedded at
//!   build time from `admin/dist` (a page saying how to build it otherwise).
//! - [`ephemeral`]: a throwaway gateway (temporary data dir, ephemeral loopback
//!   port) and a mock OpenAI-compatible upstream: `sf eval`'s in-process
//!   gateway, integration tests, benchmarks.
//!
//! Migrations: every `migrations/*.sql` file of the repository is embedded at
//! build time by `build.rs` (`include_str!` of each file, listed in name order
//! into `$OUT_DIR/migrations.rs`) and applied at boot, recorded in wrangler's
//! `d1_migrations` table.

pub mod admin_ui;
pub mod blob;
mod body;
pub mod clock;
pub mod consumer;
pub mod counter;
pub mod db;
pub mod ephemeral;
pub mod fetch;
pub mod host;
pub mod kv;
pub mod queue;
pub mod random;
pub mod scheduler;
pub mod server;
pub mod sql;
pub mod vars;

pub use clock::NativeClock;
pub use db::SharedConnection;
pub use host::{HostOptions, NativeHost, EVENTS_QUEUE};
pub use queue::{DeadLetter, QueueConfig, QueueStore};
pub use random::NativeRandom;
pub use server::{serve, start, ServeConfig, ServerError, ServerHandle};
pub use vars::NativeVars;
