//! [`CfHost`]: the ports of `sf_runtime` on Cloudflare bindings, one file per
//! port, wired together here.
//!
//! Every binding is looked up once, when the isolate builds its gateway, and a
//! missing or broken binding is kept as an error value instead of failing the
//! build. The three no request can do without (`SF_D1`, `SF_KV`, `SF_R2`) are
//! checked before every request ([`crate::boot`]: a 500 naming them and the
//! wrangler.toml snippet); the others (queue, counter) are reported by the
//! port that needs them.

use sf_core::ports::{BackgroundTask, Host};
use worker::Env;

use crate::blob::CfBlob;
use crate::clock::CfClock;
use crate::counter::DoCounter;
use crate::fetch::CfFetch;
use crate::kv::CfKv;
use crate::queue::CfQueue;
use crate::random::CfRandom;
use crate::sql::CfSql;
use crate::vars::CfVars;

pub const KV_BINDING: &str = "SF_KV";
pub const D1_BINDING: &str = "SF_D1";
pub const R2_BINDING: &str = "SF_R2";
pub const EVENTS_BINDING: &str = "SF_EVENTS";
pub const COUNTER_BINDING: &str = "SF_BUDGET_COUNTER";

fn missing(port: &'static str, binding: &str, e: impl std::fmt::Display) -> String {
    format!(
        "{port} binding `{binding}` is not available ({e}); declare it in wrangler.toml for this environment"
    )
}

pub struct CfHost {
    kv: CfKv,
    sql: CfSql,
    blob: CfBlob,
    queue: Option<CfQueue>,
    fetch: CfFetch,
    clock: CfClock,
    random: CfRandom,
    counter: DoCounter,
    vars: CfVars,
}

impl CfHost {
    /// Never fails: a binding that is absent is reported by the port that needs it.
    /// `env` is the same object for every request of an isolate, so holding it is safe.
    pub fn new(env: Env) -> Self {
        let queue = env.queue(EVENTS_BINDING).ok().map(CfQueue);
        CfHost {
            kv: CfKv(env.kv(KV_BINDING).map_err(|e| missing("kv", KV_BINDING, e))),
            sql: CfSql(
                env.d1(D1_BINDING)
                    .map_err(|e| missing("sql", D1_BINDING, e)),
            ),
            blob: CfBlob(
                env.bucket(R2_BINDING)
                    .map_err(|e| missing("blob", R2_BINDING, e)),
            ),
            queue,
            fetch: CfFetch,
            clock: CfClock,
            random: CfRandom,
            counter: DoCounter(
                env.durable_object(COUNTER_BINDING)
                    .map_err(|e| missing("counter", COUNTER_BINDING, e)),
            ),
            vars: CfVars(env),
        }
    }
}

impl CfHost {
    /// The required bindings (`boot::REQUIRED`) this isolate could not look up.
    pub fn missing_bindings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.sql.0.is_err() {
            out.push(D1_BINDING);
        }
        if self.kv.0.is_err() {
            out.push(KV_BINDING);
        }
        if self.blob.0.is_err() {
            out.push(R2_BINDING);
        }
        out
    }
}

impl Host for CfHost {
    type Kv = CfKv;
    type Sql = CfSql;
    type Blob = CfBlob;
    type Queue = CfQueue;
    type Fetch = CfFetch;
    type Clock = CfClock;
    type Random = CfRandom;
    type Counter = DoCounter;
    type Vars = CfVars;

    fn kv(&self) -> &CfKv {
        &self.kv
    }
    fn sql(&self) -> &CfSql {
        &self.sql
    }
    fn blob(&self) -> &CfBlob {
        &self.blob
    }
    fn queue(&self) -> Option<&CfQueue> {
        self.queue.as_ref()
    }
    fn fetch(&self) -> &CfFetch {
        &self.fetch
    }
    fn clock(&self) -> &CfClock {
        &self.clock
    }
    fn random(&self) -> &CfRandom {
        &self.random
    }
    fn counter(&self) -> &DoCounter {
        &self.counter
    }
    fn vars(&self) -> &CfVars {
        &self.vars
    }
    fn defer(&self, task: BackgroundTask) {
        crate::wait::defer(task);
    }
}
