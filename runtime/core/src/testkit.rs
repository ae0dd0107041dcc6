//! One in-memory host for tests (feature `testkit`): every port works in
//! memory, deterministically, on one thread. Features test against it; the
//! hosts have their own real ports and test those against SQLite, files and
//! workerd.
//!
//! What each port does: KV, Blob and Counter keep their data in maps (the
//! counter with the real all-or-nothing semantics); the queue records what was
//! sent (`None` from `Host::queue` unless [`FakeHost::with_queue`]); Fetch
//! serves [`Canned`] answers by exact URL and records every request; the clock
//! moves only when told to (or by `step` on every read); randomness is a fixed
//! byte; deferred tasks are kept until [`FakeHost::run_deferred`]; SQL statements
//! are recorded and answered from rows the test queues with
//! [`FakeSql::answer`].

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::ports::*;

/// KV in a map; TTLs are recorded, not enforced.
#[derive(Default)]
pub struct FakeKv {
    pub map: RefCell<HashMap<String, String>>,
    pub ttls: RefCell<HashMap<String, Option<u64>>>,
}

impl Kv for FakeKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        Ok(self.map.borrow().get(key).cloned())
    }
    async fn put(&self, key: &str, value: &str, ttl_s: Option<u64>) -> Result<(), PortError> {
        self.map
            .borrow_mut()
            .insert(key.to_owned(), value.to_owned());
        self.ttls.borrow_mut().insert(key.to_owned(), ttl_s);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.map.borrow_mut().remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let mut keys: Vec<String> = self
            .map
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.sort();
        keys.truncate(limit);
        Ok(keys)
    }
}

/// Records every statement; queries answer the rows queued with [`FakeSql::answer`]
/// in order (none queued: no rows).
#[derive(Default)]
pub struct FakeSql {
    pub statements: RefCell<Vec<SqlStatement>>,
    pub answers: RefCell<VecDeque<Vec<SqlRow>>>,
}

impl FakeSql {
    pub fn answer(&self, rows: Vec<SqlRow>) {
        self.answers.borrow_mut().push_back(rows);
    }
}

impl Sql for FakeSql {
    async fn execute(&self, stmt: SqlStatement) -> Result<u64, PortError> {
        self.statements.borrow_mut().push(stmt);
        Ok(1)
    }
    async fn query(&self, stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError> {
        self.statements.borrow_mut().push(stmt);
        Ok(self.answers.borrow_mut().pop_front().unwrap_or_default())
    }
    async fn batch(&self, stmts: Vec<SqlStatement>) -> Result<(), PortError> {
        self.statements.borrow_mut().extend(stmts);
        Ok(())
    }
}

/// Objects in an ordered map (so `list` is lexicographic, as on R2).
#[derive(Default)]
pub struct FakeBlob(pub RefCell<BTreeMap<String, Vec<u8>>>);

impl Blob for FakeBlob {
    async fn put(&self, key: &str, body: Vec<u8>, _ct: &str) -> Result<(), PortError> {
        self.0.borrow_mut().insert(key.to_owned(), body);
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.0.borrow().get(key).cloned())
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        Ok(self
            .0
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// Keeps every message sent.
#[derive(Default)]
pub struct FakeQueue(pub RefCell<Vec<Value>>);

impl Queue for FakeQueue {
    async fn send(&self, body: &Value) -> Result<(), PortError> {
        self.0.borrow_mut().push(body.clone());
        Ok(())
    }
}

/// Always the same byte: ids are stable across runs.
pub struct FixedRandom(pub u8);

impl Random for FixedRandom {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(self.0);
    }
}

/// Lanes in a map, with the port's all-or-nothing reservation (expiry ignored).
#[derive(Default)]
pub struct FakeCounter(pub RefCell<HashMap<(String, String), i64>>);

impl Counter for FakeCounter {
    async fn reserve(
        &self,
        key: &str,
        lanes: &[Reserve<'_>],
        _expires_at_ms: u64,
    ) -> Result<bool, PortError> {
        let mut m = self.0.borrow_mut();
        let fits = lanes.iter().all(|l| {
            let now = m
                .get(&(key.to_owned(), l.lane.to_owned()))
                .copied()
                .unwrap_or(0);
            l.ceiling.is_none_or(|c| now + l.amount <= c)
        });
        if fits {
            for l in lanes {
                *m.entry((key.to_owned(), l.lane.to_owned())).or_insert(0) += l.amount;
            }
        }
        Ok(fits)
    }
    async fn adjust(&self, key: &str, lane: &str, delta: i64) -> Result<(), PortError> {
        *self
            .0
            .borrow_mut()
            .entry((key.to_owned(), lane.to_owned()))
            .or_insert(0) += delta;
        Ok(())
    }
    async fn read(&self, key: &str, lane: &str) -> Result<i64, PortError> {
        Ok(self
            .0
            .borrow()
            .get(&(key.to_owned(), lane.to_owned()))
            .copied()
            .unwrap_or(0))
    }
}

/// A canned response: status, content type, optional `Location`, body.
#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Canned {
    pub fn json(body: &Value) -> Self {
        Canned {
            status: 200,
            content_type: "application/json".into(),
            location: None,
            body: body.to_string().into_bytes(),
        }
    }
    pub fn html(body: &str) -> Self {
        Canned {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            location: None,
            body: body.as_bytes().to_vec(),
        }
    }
    pub fn redirect(to: &str) -> Self {
        Canned {
            status: 302,
            content_type: "text/html".into(),
            location: Some(to.into()),
            body: Vec::new(),
        }
    }
    pub fn status(status: u16) -> Self {
        Canned {
            status,
            content_type: "text/html".into(),
            location: None,
            body: b"nope".to_vec(),
        }
    }
}

/// Serves canned responses by exact URL; everything else is a 404. Records
/// each request URL and whether it carried the [`crate::net::PublicOnly`] marker.
#[derive(Default)]
pub struct FakeFetch {
    pub routes: RefCell<HashMap<String, Canned>>,
    pub blocked: RefCell<HashMap<String, String>>,
    pub seen: RefCell<Vec<(String, bool)>>,
}

impl Fetch for FakeFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        _timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let url = req.uri().to_string();
        let public_only = req.extensions().get::<crate::net::PublicOnly>().is_some();
        self.seen.borrow_mut().push((url.clone(), public_only));
        if let Some(reason) = self.blocked.borrow().get(&url) {
            return Err(FetchError::Blocked(reason.clone()));
        }
        let canned = self
            .routes
            .borrow()
            .get(&url)
            .cloned()
            .unwrap_or_else(|| Canned::status(404));
        let mut b = http::Response::builder()
            .status(canned.status)
            .header("content-type", canned.content_type);
        if let Some(l) = canned.location {
            b = b.header("location", l);
        }
        b.body(canned.body)
            .map_err(|e| FetchError::Network(e.to_string()))
    }
}

/// A clock that moves by `step` on every read and by the slept time.
pub struct FakeClock {
    pub now: Cell<u64>,
    /// Added to `now` on every read, so latencies are not all zero.
    pub step: Cell<u64>,
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        let n = self.now.get();
        self.now.set(n + self.step.get());
        n
    }
    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        self.now.set(self.now.get() + ms);
        std::future::ready(())
    }
}

#[derive(Default)]
pub struct FakeVars(pub RefCell<HashMap<String, String>>);

impl FakeVars {
    pub fn set(&self, name: &str, value: &str) {
        self.0
            .borrow_mut()
            .insert(name.to_owned(), value.to_owned());
    }
}

impl Vars for FakeVars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.borrow().get(name).cloned()
    }
}

/// The in-memory host.
pub struct FakeHost {
    pub kv: FakeKv,
    pub sql: FakeSql,
    pub blob: FakeBlob,
    pub queue: Option<FakeQueue>,
    pub fetch: FakeFetch,
    pub clock: FakeClock,
    pub random: FixedRandom,
    pub counter: FakeCounter,
    pub vars: FakeVars,
    pub deferred: RefCell<Vec<BackgroundTask>>,
}

/// The clock's start: 2023-11-14T22:13:20Z.
pub const START_MS: u64 = 1_700_000_000_000;

impl Default for FakeHost {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeHost {
    pub fn new() -> Self {
        FakeHost {
            kv: FakeKv::default(),
            sql: FakeSql::default(),
            blob: FakeBlob::default(),
            queue: None,
            fetch: FakeFetch::default(),
            clock: FakeClock {
                now: Cell::new(START_MS),
                step: Cell::new(0),
            },
            random: FixedRandom(7),
            counter: FakeCounter::default(),
            vars: FakeVars::default(),
            deferred: RefCell::new(Vec::new()),
        }
    }
    /// Binds a queue (without one, `Host::queue` is `None`, as in wrangler's `env.local`).
    pub fn with_queue(mut self) -> Self {
        self.queue = Some(FakeQueue::default());
        self
    }
    pub fn with_var(self, name: &str, value: &str) -> Self {
        self.vars.set(name, value);
        self
    }
    /// Serves `c` at `url`.
    pub fn route(&self, url: &str, c: Canned) {
        self.fetch.routes.borrow_mut().insert(url.to_owned(), c);
    }
    /// Runs the tasks deferred so far (and those they defer), in order.
    pub async fn run_deferred(&self) {
        loop {
            let tasks: Vec<BackgroundTask> = self.deferred.borrow_mut().drain(..).collect();
            if tasks.is_empty() {
                return;
            }
            for t in tasks {
                t.await;
            }
        }
    }
}

impl Host for FakeHost {
    type Kv = FakeKv;
    type Sql = FakeSql;
    type Blob = FakeBlob;
    type Queue = FakeQueue;
    type Fetch = FakeFetch;
    type Clock = FakeClock;
    type Random = FixedRandom;
    type Counter = FakeCounter;
    type Vars = FakeVars;
    fn kv(&self) -> &FakeKv {
        &self.kv
    }
    fn sql(&self) -> &FakeSql {
        &self.sql
    }
    fn blob(&self) -> &FakeBlob {
        &self.blob
    }
    fn queue(&self) -> Option<&FakeQueue> {
        self.queue.as_ref()
    }
    fn fetch(&self) -> &FakeFetch {
        &self.fetch
    }
    fn clock(&self) -> &FakeClock {
        &self.clock
    }
    fn random(&self) -> &FixedRandom {
        &self.random
    }
    fn counter(&self) -> &FakeCounter {
        &self.counter
    }
    fn vars(&self) -> &FakeVars {
        &self.vars
    }
    fn defer(&self, task: BackgroundTask) {
        self.deferred.borrow_mut().push(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_is_all_or_nothing() {
        let c = FakeCounter::default();
        let lanes = [
            Reserve {
                lane: "a",
                amount: 1,
                ceiling: Some(1),
            },
            Reserve {
                lane: "b",
                amount: 5,
                ceiling: Some(4),
            },
        ];
        assert!(!futures_executor::block_on(c.reserve("k", &lanes, 0)).unwrap());
        assert_eq!(futures_executor::block_on(c.read("k", "a")).unwrap(), 0);
        assert!(futures_executor::block_on(c.reserve("k", &lanes[..1], 0)).unwrap());
        assert_eq!(futures_executor::block_on(c.read("k", "a")).unwrap(), 1);
    }
}
