//! The gateway's state: one value per isolate (Worker) or per thread (native
//! host). Hosts build a [`Gateway`] once over their [`Host`] and call
//! `handle`, `consume` and `scheduled` on it (see [`crate::dispatch`]).

use std::cell::Cell;
use std::rc::Rc;

use sf_core::policy::{Environment, Var};
use sf_core::ports::{Host, Vars};
use sf_core::Isolate;

/// In-flight requests allowed per isolate on capped routes (CONTRACT.md section 0.6).
pub const CONCURRENCY_CAP: u32 = 8;

/// Overrides [`CONCURRENCY_CAP`]. On Cloudflare a busy isolate is one of many;
/// a native host has one "isolate" per core, so a self-hosted gateway that
/// serves more concurrent callers raises this instead of shedding them.
pub const CONCURRENCY_CAP_VAR: &str = Var::SfConcurrencyCap.name();

/// Per-isolate state shared by every request on this isolate/thread.
pub struct Gateway<H: Host> {
    /// The host's ports and the environment facts every feature reads.
    iso: Rc<Isolate<H>>,
    /// In-flight requests on concurrency-capped routes.
    inflight: Cell<u32>,
    /// [`CONCURRENCY_CAP`] or its override, read once.
    cap: u32,
}

/// Releases a concurrency slot when the request ends, however it ends.
pub(crate) struct InflightLease<'a>(&'a Cell<u32>);

impl Drop for InflightLease<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl<H: Host> Gateway<H> {
    pub fn new(host: H) -> Rc<Self> {
        let cap = host
            .vars()
            .var(CONCURRENCY_CAP_VAR)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|c| *c > 0)
            .unwrap_or(CONCURRENCY_CAP);
        Rc::new(Self {
            iso: Rc::new(Isolate::new(host)),
            inflight: Cell::new(0),
            cap,
        })
    }

    /// What features receive: the ports and the environment facts.
    pub fn isolate(&self) -> &Rc<Isolate<H>> {
        &self.iso
    }

    pub fn host(&self) -> &H {
        self.iso.host()
    }

    /// `ENVIRONMENT` as configured (trimmed), if any.
    pub fn environment_name(&self) -> Option<&str> {
        self.iso.environment_name()
    }

    /// `ENVIRONMENT` when it names one of the policy's environments.
    pub fn environment(&self) -> Option<Environment> {
        self.iso.environment()
    }

    /// In-flight requests on capped routes right now (for tests and metrics).
    pub fn inflight(&self) -> u32 {
        self.inflight.get()
    }

    /// Takes a slot of the per-isolate concurrency cap, or `None` when all
    /// are in use. The slot is given back when the lease drops.
    pub(crate) fn enter_capped(&self) -> Option<InflightLease<'_>> {
        if self.inflight.get() >= self.cap {
            return None;
        }
        self.inflight.set(self.inflight.get() + 1);
        Some(InflightLease(&self.inflight))
    }
}

#[cfg(test)]
mod var_defaults {
    use super::*;

    #[test]
    fn the_policy_default_of_the_cap_is_the_code_default() {
        assert_eq!(
            Var::SfConcurrencyCap.default_value(),
            Some(CONCURRENCY_CAP.to_string().as_str())
        );
    }
}
