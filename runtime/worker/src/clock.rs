//! The `Clock` port on `Date.now` and `setTimeout`.

use std::future::Future;
use std::time::Duration;

use sf_core::ports::Clock;

pub struct CfClock;

/// A JS `setTimeout` timer (cleared if dropped early). setTimeout takes an i32.
pub(crate) fn sleep_ms(ms: u64) -> worker::Delay {
    worker::Delay::from(Duration::from_millis(ms.min(i32::MAX as u64)))
}

impl Clock for CfClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        sleep_ms(ms)
    }
}
