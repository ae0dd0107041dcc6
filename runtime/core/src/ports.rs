//! Ports: the only way the core reaches the world.
//!
//! Each host (the Cloudflare Worker, the native server, test fakes) implements
//! [`Host`]. Futures are deliberately not `Send`: on workerd every JS-backed
//! future is `!Send`, and the native host runs one single-threaded runtime per
//! core, like isolates. Traits use `async fn` directly (static dispatch through
//! the `Host` associated types), so the hot path has no boxing.
#![allow(async_fn_in_trait)] // futures are intentionally !Send, see module docs

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A failure of a backing service (KV, D1, R2, a queue, the network).
/// The message is for logs; it must never contain a grant or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError {
    pub port: &'static str,
    pub message: String,
}

impl PortError {
    pub fn new(port: &'static str, message: impl Into<String>) -> Self {
        Self {
            port,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.port, self.message)
    }
}

impl std::error::Error for PortError {}

/// Key-value store with per-key expiry (Workers KV semantics: last write wins,
/// no read-modify-write guarantees; use [`Counter`] for anything that must add up).
pub trait Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError>;
    /// `ttl_s: None` keeps the value until deleted.
    async fn put(&self, key: &str, value: &str, ttl_s: Option<u64>) -> Result<(), PortError>;
    async fn delete(&self, key: &str) -> Result<(), PortError>;
    /// Keys starting with `prefix` (unexpired), at most `limit`.
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError>;
}

/// A value bound to a `?` placeholder or read from a row (D1 / SQLite types).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// One result row: column names and values in select order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlRow {
    pub columns: Vec<(String, SqlValue)>,
}

impl SqlRow {
    pub fn get(&self, name: &str) -> Option<&SqlValue> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(SqlValue::Text(s)) => Some(s),
            _ => None,
        }
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(SqlValue::Integer(i)) => Some(*i),
            _ => None,
        }
    }
    /// A `COUNT(*)` / `SUM(...)` column as a count: D1 may answer a whole
    /// number as a real; negative, null or absent is 0.
    pub fn count(&self, name: &str) -> u64 {
        match self.get(name) {
            Some(SqlValue::Integer(i)) => u64::try_from(*i).unwrap_or(0),
            Some(SqlValue::Real(r)) if *r >= 0.0 => *r as u64,
            _ => 0,
        }
    }
}

/// One statement with positional `?` parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlStatement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl SqlStatement {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }
}

/// SQL database with D1 semantics (SQLite dialect, `?` parameters, `batch` is one transaction).
pub trait Sql {
    /// Runs one statement; returns the number of rows changed.
    async fn execute(&self, stmt: SqlStatement) -> Result<u64, PortError>;
    async fn query(&self, stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError>;
    /// All statements in one transaction: all apply or none do.
    async fn batch(&self, stmts: Vec<SqlStatement>) -> Result<(), PortError>;
}

/// Object store (R2 semantics).
pub trait Blob {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    async fn delete(&self, key: &str) -> Result<(), PortError>;
    /// Object keys under `prefix`, lexicographic, at most `limit`.
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError>;
}

/// Producer side of the events queue (at-least-once delivery).
pub trait Queue {
    async fn send(&self, body: &serde_json::Value) -> Result<(), PortError>;
}

/// Outbound HTTP. `timeout` bounds the whole exchange including the body.
pub trait Fetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The deadline passed before a complete response arrived.
    Timeout,
    /// DNS, connect, TLS or read failure (message is for logs).
    Network(String),
    /// Refused by the host's network policy (e.g. SSRF guard after DNS resolution).
    Blocked(String),
}

/// Wall clock and timers.
pub trait Clock {
    fn now_ms(&self) -> u64;
    /// Resolves after `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
}

/// Cryptographically secure randomness.
pub trait Random {
    fn fill(&self, buf: &mut [u8]);

    /// RFC 4122 version-4 UUID, lowercase hyphenated.
    fn uuid_v4(&self) -> String {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = |r: &[u8]| r.iter().map(|x| format!("{x:02x}")).collect::<String>();
        format!(
            "{}-{}-{}-{}-{}",
            h(&b[0..4]),
            h(&b[4..6]),
            h(&b[6..8]),
            h(&b[8..10]),
            h(&b[10..16])
        )
    }
}

/// One lane of an atomic reservation: add `amount` to `lane` unless the result
/// would exceed `ceiling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserve<'a> {
    pub lane: &'a str,
    pub amount: i64,
    /// `None`: no ceiling, always added.
    pub ceiling: Option<i64>,
}

/// Atomic counters keyed by string, each key holding named integer lanes.
/// Budgets need this: eventually consistent KV cannot refuse the (n+1)th
/// concurrent request. Cloudflare: one Durable Object per key. Native: SQLite.
pub trait Counter {
    /// All-or-nothing: either every lane is increased (returns `true`) or,
    /// if any lane would pass its ceiling, nothing changes (returns `false`).
    /// The key expires at `expires_at_ms` (epoch ms); an expired key reads as zeros.
    async fn reserve(
        &self,
        key: &str,
        lanes: &[Reserve<'_>],
        expires_at_ms: u64,
    ) -> Result<bool, PortError>;
    /// Unconditionally adds `delta` (may be negative) to one lane, e.g. to
    /// settle a worst-case cost reservation down to the real cost.
    async fn adjust(&self, key: &str, lane: &str, delta: i64) -> Result<(), PortError>;
    /// Current lane values (zeros when absent or expired).
    async fn read(&self, key: &str, lane: &str) -> Result<i64, PortError>;
}

/// Configuration and secrets, read exactly as on Cloudflare (vars + secrets).
pub trait Vars {
    fn var(&self, name: &str) -> Option<String>;

    /// The variable trimmed, `None` when unset or blank: how settings are read.
    fn setting(&self, name: &str) -> Option<String> {
        self.var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// Work that must finish after the response is sent (Workers `ctx.waitUntil`).
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Everything a host provides.
pub trait Host: 'static {
    type Kv: Kv;
    type Sql: Sql;
    type Blob: Blob;
    type Queue: Queue;
    type Fetch: Fetch;
    type Clock: Clock;
    type Random: Random;
    type Counter: Counter;
    type Vars: Vars;

    fn kv(&self) -> &Self::Kv;
    fn sql(&self) -> &Self::Sql;
    fn blob(&self) -> &Self::Blob;
    /// `None` when the events queue is not bound (e.g. wrangler `env.local`).
    fn queue(&self) -> Option<&Self::Queue>;
    fn fetch(&self) -> &Self::Fetch;
    fn clock(&self) -> &Self::Clock;
    fn random(&self) -> &Self::Random;
    fn counter(&self) -> &Self::Counter;
    fn vars(&self) -> &Self::Vars;
    /// Runs `task` after the response without delaying it.
    fn defer(&self, task: BackgroundTask);
}
