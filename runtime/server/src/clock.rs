//! The Clock port: the system clock, or a manual one tests move.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sf_core::ports::Clock;

/// Wall clock. `Manual` lets tests move time (TTL expiry) without sleeping.
#[derive(Debug, Clone, Default)]
pub enum NativeClock {
    #[default]
    System,
    Manual(Arc<AtomicU64>),
}

impl NativeClock {
    pub fn manual(start_ms: u64) -> Self {
        NativeClock::Manual(Arc::new(AtomicU64::new(start_ms)))
    }
    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, ms: u64) {
        if let NativeClock::Manual(t) = self {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }
}

impl Clock for NativeClock {
    fn now_ms(&self) -> u64 {
        match self {
            NativeClock::System => system_now_ms(),
            NativeClock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }
    fn sleep(&self, ms: u64) -> impl std::future::Future<Output = ()> {
        tokio::time::sleep(std::time::Duration::from_millis(ms))
    }
}

pub fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
