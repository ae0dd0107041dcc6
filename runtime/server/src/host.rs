//! [`NativeHost`]: every port of `sf_core::ports` on one machine.
//!
//! One value per thread (the isolate model): it owns that thread's HTTP
//! client and deferred-task list, and uses a SQLite connection that is its
//! own or shared with the other workers ([`SharedConnection`], the server's
//! default). SQLite calls run inline on
//! the thread: they take microseconds in WAL mode, less than a hop to a
//! blocking pool would (see `benches/ports.rs`); files (Blob) go to Tokio's
//! blocking pool when a runtime is present because an fsync can take
//! milliseconds.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rusqlite::Connection;
use sf_core::ports::{BackgroundTask, Host, PortError};
use tokio::sync::Notify;

use crate::blob::NativeBlob;
use crate::clock::NativeClock;
use crate::counter::NativeCounter;
use crate::db::{Db, SharedConnection};
use crate::fetch::NativeFetch;
use crate::kv::NativeKv;
use crate::queue::NativeQueue;
use crate::random::NativeRandom;
use crate::sql::NativeSql;
use crate::vars::NativeVars;

/// Name of the events queue the core's `Queue` port produces to.
pub const EVENTS_QUEUE: &str = "sanfrancisco-events";

/// Options of [`NativeHost::open_with`].
#[derive(Clone, Default)]
pub struct HostOptions {
    pub clock: NativeClock,
    /// Wakes queue consumers when a message is sent (shared by all threads).
    pub queue_notify: Option<Arc<Notify>>,
    /// Leave the `Queue` port unbound (like wrangler's `env.local`).
    pub no_queue: bool,
    /// Never checkpoint the WAL from this connection: a server's worker
    /// threads leave that (and its fsyncs) to a background checkpointer so
    /// no request pays for it.
    pub no_autocheckpoint: bool,
    /// Use this connection instead of opening one (the server shares one
    /// among its worker threads).
    pub connection: Option<SharedConnection>,
}

/// Deferred work (`waitUntil`): queued here, started by the server's driver
/// task on the same thread, awaited at shutdown.
#[derive(Default)]
pub(crate) struct Deferred {
    pub(crate) tasks: RefCell<Vec<BackgroundTask>>,
    pub(crate) running: Cell<usize>,
    pub(crate) wake: Notify,
    pub(crate) idle: Notify,
}

pub struct NativeHost {
    data_dir: PathBuf,
    db: Rc<Db>,
    kv: NativeKv,
    sql: NativeSql,
    counter: NativeCounter,
    queue: Option<NativeQueue>,
    blob: NativeBlob,
    fetch: NativeFetch,
    clock: NativeClock,
    random: NativeRandom,
    vars: NativeVars,
    pub(crate) deferred: Rc<Deferred>,
}

impl NativeHost {
    /// Opens `<data_dir>/sf.sqlite3` (creating it, the host tables and the
    /// embedded migrations as needed) and `<data_dir>/blob/`.
    pub fn open(data_dir: impl AsRef<Path>, vars: NativeVars) -> Result<Self, PortError> {
        Self::open_with(data_dir, vars, HostOptions::default())
    }

    pub fn open_with(
        data_dir: impl AsRef<Path>,
        vars: NativeVars,
        opts: HostOptions,
    ) -> Result<Self, PortError> {
        let data_dir = data_dir.as_ref().to_path_buf();
        let conn = match opts.connection.clone() {
            Some(c) => c,
            None => SharedConnection::open(&data_dir, opts.no_autocheckpoint)?,
        };
        let clock = opts.clock.clone();
        let db = Rc::new(Db {
            conn,
            clock: clock.clone(),
        });
        let blob = NativeBlob::open(&data_dir)?;
        let notify = opts.queue_notify.unwrap_or_default();
        let queue =
            (!opts.no_queue).then(|| NativeQueue::new(db.clone(), EVENTS_QUEUE, notify.clone()));
        Ok(Self {
            kv: NativeKv::new(db.clone()),
            sql: NativeSql::new(db.clone()),
            counter: NativeCounter::new(db.clone()),
            queue,
            blob,
            fetch: NativeFetch::new()?,
            clock,
            random: NativeRandom,
            vars,
            deferred: Rc::new(Deferred::default()),
            db,
            data_dir,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Removes expired KV entries and counter lanes; returns rows deleted.
    /// Reads already treat them as absent; this only reclaims space.
    pub fn purge_expired(&self) -> Result<u64, PortError> {
        let now = self.db.now_ms() as i64;
        self.db.with("kv", |c| {
            let a = c.execute(
                "DELETE FROM native_kv WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?1",
                [now],
            )?;
            let b = c.execute(
                "DELETE FROM native_counters WHERE expires_at_ms <= ?1",
                [now],
            )?;
            Ok((a + b) as u64)
        })
    }

    /// Runs every deferred task to completion on the current task (tools and
    /// tests that use the host without the server's driver).
    pub async fn run_deferred(&self) {
        loop {
            let tasks: Vec<BackgroundTask> = std::mem::take(&mut *self.deferred.tasks.borrow_mut());
            if tasks.is_empty() {
                return;
            }
            for t in tasks {
                t.await;
            }
        }
    }

    /// Runs `f` on this host's own SQLite connection (tools, tests and
    /// benchmarks that need raw SQL on `sf.sqlite3`).
    pub fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, PortError> {
        self.db.with("sql", f)
    }

    /// Deferred tasks queued or running.
    pub fn deferred_pending(&self) -> usize {
        self.deferred.tasks.borrow().len() + self.deferred.running.get()
    }

    pub(crate) fn db(&self) -> &Rc<Db> {
        &self.db
    }
}

impl Host for NativeHost {
    type Kv = NativeKv;
    type Sql = NativeSql;
    type Blob = NativeBlob;
    type Queue = NativeQueue;
    type Fetch = NativeFetch;
    type Clock = NativeClock;
    type Random = NativeRandom;
    type Counter = NativeCounter;
    type Vars = NativeVars;

    fn kv(&self) -> &NativeKv {
        &self.kv
    }
    fn sql(&self) -> &NativeSql {
        &self.sql
    }
    fn blob(&self) -> &NativeBlob {
        &self.blob
    }
    fn queue(&self) -> Option<&NativeQueue> {
        self.queue.as_ref()
    }
    fn fetch(&self) -> &NativeFetch {
        &self.fetch
    }
    fn clock(&self) -> &NativeClock {
        &self.clock
    }
    fn random(&self) -> &NativeRandom {
        &self.random
    }
    fn counter(&self) -> &NativeCounter {
        &self.counter
    }
    fn vars(&self) -> &NativeVars {
        &self.vars
    }
    fn defer(&self, task: BackgroundTask) {
        self.deferred.tasks.borrow_mut().push(task);
        self.deferred.wake.notify_one();
    }
}

/// Starts queued deferred tasks as local tasks as they arrive. Runs inside
/// the worker's `LocalSet` for the life of the thread.
pub(crate) async fn defer_driver(deferred: Rc<Deferred>) {
    loop {
        let tasks: Vec<BackgroundTask> = std::mem::take(&mut *deferred.tasks.borrow_mut());
        if tasks.is_empty() {
            deferred.wake.notified().await;
            continue;
        }
        for t in tasks {
            deferred.running.set(deferred.running.get() + 1);
            let d = deferred.clone();
            tokio::task::spawn_local(async move {
                t.await;
                d.running.set(d.running.get().saturating_sub(1));
                if d.running.get() == 0 && d.tasks.borrow().is_empty() {
                    d.idle.notify_waiters();
                }
            });
        }
    }
}
