//! The durable queue: `queue_messages` (pending and in-flight) and
//! `queue_dead` (the dead-letter store) in `sf.sqlite3`.
//!
//! Delivery is at least once and acknowledged per message. A consumer claims
//! a message by counting the attempt and hiding it for a lease; `Ok` deletes
//! it, `Retry` makes it visible again after an exponential backoff, `Reject`
//! or too many attempts move it to `queue_dead`. A consumer that crashes
//! mid-message leaves it hidden only until the lease ends. Claims run under
//! `BEGIN IMMEDIATE`, so consumers on several threads or processes never
//! claim the same message twice within a lease.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sf_core::ports::{PortError, Queue};

use tokio::sync::Notify;

use crate::clock::system_now_ms;
use crate::db;
use crate::db::Db;

/// Producer bound to one queue name (the core's `Queue` port).
///
/// Sends are group-committed: the first send on a thread opens a batch and
/// yields once, every send that runs meanwhile on the thread joins it, and
/// one transaction writes them all. Each `send` still returns only after its
/// row is committed, so "Ok" keeps meaning "durable"; the saving is one
/// commit per batch instead of one per event under load.
pub struct NativeQueue {
    db: Rc<Db>,
    name: String,
    notify: Arc<Notify>,
    open_batch: RefCell<Option<Rc<SendBatch>>>,
}

#[derive(Default)]
struct SendBatch {
    bodies: RefCell<Vec<String>>,
    result: RefCell<Option<Result<(), PortError>>>,
    done: Notify,
}

/// Settles the batch even if the leading send is dropped before committing,
/// so no follower waits forever.
struct LeaderGuard<'a> {
    queue: &'a NativeQueue,
    batch: Rc<SendBatch>,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if self.batch.result.borrow().is_none() {
            self.close_batch();
            *self.batch.result.borrow_mut() =
                Some(Err(PortError::new("queue", "send cancelled before commit")));
            self.batch.done.notify_waiters();
        }
    }
}

impl LeaderGuard<'_> {
    fn close_batch(&self) {
        let mut open = self.queue.open_batch.borrow_mut();
        if open.as_ref().is_some_and(|b| Rc::ptr_eq(b, &self.batch)) {
            *open = None;
        }
    }
}

impl NativeQueue {
    pub(crate) fn new(db: Rc<Db>, name: &str, notify: Arc<Notify>) -> Self {
        Self {
            db,
            name: name.to_owned(),
            notify,
            open_batch: RefCell::new(None),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Queue for NativeQueue {
    async fn send(&self, body: &serde_json::Value) -> Result<(), PortError> {
        let text = serde_json::to_string(body)
            .map_err(|e| PortError::new("queue", format!("cannot encode message: {e}")))?;
        let (batch, leader) = {
            let mut open = self.open_batch.borrow_mut();
            match &*open {
                Some(b) => (b.clone(), false),
                None => {
                    let b = Rc::new(SendBatch::default());
                    *open = Some(b.clone());
                    (b, true)
                }
            }
        };
        batch.bodies.borrow_mut().push(text);
        if !leader {
            loop {
                // Registered before the check: `notify_waiters` reaches it.
                let done = batch.done.notified();
                if let Some(r) = batch.result.borrow().clone() {
                    return r;
                }
                done.await;
            }
        }
        let guard = LeaderGuard {
            queue: self,
            batch: batch.clone(),
        };
        tokio::task::yield_now().await;
        guard.close_batch();
        let bodies = std::mem::take(&mut *batch.bodies.borrow_mut());
        let now = self.db.now_ms();
        let result = self.db.with("queue", |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for b in &bodies {
                enqueue(&tx, &self.name, b, now)?;
            }
            tx.commit()
        });
        *batch.result.borrow_mut() = Some(result.clone());
        batch.done.notify_waiters();
        drop(guard);
        if result.is_ok() {
            self.notify.notify_one();
        }
        result
    }
}

/// Retry and lease settings of the consumer.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Deliveries before a message that keeps asking for a retry is dead.
    pub max_attempts: u32,
    /// Backoff after the first failure; doubles per attempt.
    pub base_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// How long a claimed message stays hidden from other consumers.
    pub lease_ms: u64,
    /// Messages claimed at once by one consumer.
    pub batch_size: u32,
    /// Longest sleep between polls when nothing wakes the consumer.
    pub idle_poll_ms: u64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_backoff_ms: 1_000,
            max_backoff_ms: 60_000,
            lease_ms: 5 * 60_000,
            batch_size: 16,
            idle_poll_ms: 1_000,
        }
    }
}

impl QueueConfig {
    /// Delay before delivery number `attempts + 1`, after `attempts` failures.
    pub fn backoff_ms(&self, attempts: u32) -> u64 {
        let shift = attempts.saturating_sub(1).min(30);
        self.base_backoff_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_backoff_ms)
    }
}

/// A claimed message.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub queue: String,
    pub body: String,
    /// Including this delivery.
    pub attempts: u32,
}

/// A message in the dead-letter store.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: i64,
    pub queue: String,
    pub body: String,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub failed_at_ms: i64,
    pub last_error: Option<String>,
}

/// What happened to a message after a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    RetryAt(u64),
    Dead,
}

pub fn enqueue(c: &Connection, queue: &str, body: &str, now_ms: u64) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "INSERT INTO queue_messages (queue, body, attempts, visible_at_ms, created_at_ms)
         VALUES (?1, ?2, 0, ?3, ?3)",
    )?
    .execute(rusqlite::params![queue, body, now_ms as i64])?;
    Ok(c.last_insert_rowid())
}

/// Claims up to `limit` visible messages (oldest first) for `lease_ms`.
pub fn claim(
    c: &mut Connection,
    now_ms: u64,
    lease_ms: u64,
    limit: u32,
) -> rusqlite::Result<Vec<Delivery>> {
    // Look before taking the write lock: consumers wake on every send, and
    // an empty claim should not make request threads wait for the lock.
    let any: bool = c
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM queue_messages WHERE visible_at_ms <= ?1)")?
        .query_row([now_ms as i64], |r| r.get(0))?;
    if !any {
        return Ok(Vec::new());
    }
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::new();
    {
        let mut sel = tx.prepare_cached(
            "SELECT id, queue, body, attempts FROM queue_messages
             WHERE visible_at_ms <= ?1 ORDER BY visible_at_ms, id LIMIT ?2",
        )?;
        let rows = sel.query_map(rusqlite::params![now_ms as i64, limit], |r| {
            Ok(Delivery {
                id: r.get(0)?,
                queue: r.get(1)?,
                body: r.get(2)?,
                attempts: r.get::<_, u32>(3)?.saturating_add(1),
            })
        })?;
        for d in rows {
            out.push(d?);
        }
        let mut upd = tx.prepare_cached(
            "UPDATE queue_messages SET attempts = attempts + 1, visible_at_ms = ?2 WHERE id = ?1",
        )?;
        let until = now_ms.saturating_add(lease_ms) as i64;
        for d in &out {
            upd.execute(rusqlite::params![d.id, until])?;
        }
    }
    tx.commit()?;
    Ok(out)
}

/// Acknowledges a processed message.
pub fn ack(c: &Connection, id: i64) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM queue_messages WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Acknowledges several processed messages in one transaction.
pub fn ack_many(c: &mut Connection, ids: &[i64]) -> rusqlite::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut del = tx.prepare_cached("DELETE FROM queue_messages WHERE id = ?1")?;
        for id in ids {
            del.execute([id])?;
        }
    }
    tx.commit()
}

/// Puts a claimed but unprocessed message back at once, uncounted (shutdown).
pub fn release(c: &Connection, id: i64, now_ms: u64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE queue_messages SET attempts = max(attempts - 1, 0), visible_at_ms = ?2 WHERE id = ?1",
    )?
    .execute(rusqlite::params![id, now_ms as i64])?;
    Ok(())
}

/// Records a failed delivery: retry later, or dead-letter it when `reject`
/// is set or the attempts are used up.
pub fn fail(
    c: &mut Connection,
    id: i64,
    error: &str,
    reject: bool,
    now_ms: u64,
    cfg: &QueueConfig,
) -> rusqlite::Result<Disposition> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row: Option<(u32, String)> = tx
        .prepare_cached("SELECT attempts, body FROM queue_messages WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((attempts, body)) = row else {
        // Already acknowledged or dead-lettered by someone else.
        return Ok(Disposition::Dead);
    };
    let disposition = if reject || attempts >= cfg.max_attempts {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO queue_dead
               (id, queue, body, attempts, created_at_ms, failed_at_ms, last_error)
             SELECT id, queue, ?4, attempts, created_at_ms, ?2, ?3
             FROM queue_messages WHERE id = ?1",
        )?
        .execute(rusqlite::params![
            id,
            now_ms as i64,
            error,
            redact_body(body)
        ])?;
        tx.prepare_cached("DELETE FROM queue_messages WHERE id = ?1")?
            .execute([id])?;
        Disposition::Dead
    } else {
        let at = now_ms.saturating_add(cfg.backoff_ms(attempts));
        tx.prepare_cached(
            "UPDATE queue_messages SET visible_at_ms = ?2, last_error = ?3 WHERE id = ?1",
        )?
        .execute(rusqlite::params![id, at as i64, error])?;
        Disposition::RetryAt(at)
    };
    tx.commit()?;
    Ok(disposition)
}

/// The dead-letter copy of a message: grant tokens replaced (they must not
/// sit in a long-lived table, and an expired grant is useless on replay).
/// Bodies that are not JSON are kept as they are.
fn redact_body(body: String) -> String {
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) => {
            serde_json::to_string(&sf_runtime::consumer::redact_for_dead_letter(&v)).unwrap_or(body)
        }
        Err(_) => body,
    }
}

/// Earliest time a pending message becomes visible.
pub fn next_visible_at(c: &Connection) -> rusqlite::Result<Option<u64>> {
    c.prepare_cached("SELECT min(visible_at_ms) FROM queue_messages")?
        .query_row([], |r| r.get::<_, Option<i64>>(0))
        .map(|v| v.map(|v| v.max(0) as u64))
}

pub fn list_dead(c: &Connection, limit: usize) -> rusqlite::Result<Vec<DeadLetter>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, queue, body, attempts, created_at_ms, failed_at_ms, last_error
         FROM queue_dead ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok(DeadLetter {
            id: r.get(0)?,
            queue: r.get(1)?,
            body: r.get(2)?,
            attempts: r.get(3)?,
            created_at_ms: r.get(4)?,
            failed_at_ms: r.get(5)?,
            last_error: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Moves dead letters back to the queue with a fresh attempt count, keeping
/// their ids (so a replayed message is recognisable). `ids: None` replays all.
/// Returns how many were moved.
pub fn replay_dead(
    c: &mut Connection,
    ids: Option<&[i64]>,
    now_ms: u64,
) -> rusqlite::Result<usize> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let targets: Vec<i64> = match ids {
        Some(ids) => ids.to_vec(),
        None => {
            let mut stmt = tx.prepare("SELECT id FROM queue_dead ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        }
    };
    let mut moved = 0;
    for id in targets {
        let n = tx
            .prepare_cached(
                "INSERT INTO queue_messages
                   (id, queue, body, attempts, visible_at_ms, created_at_ms, last_error)
                 SELECT id, queue, body, 0, ?2, created_at_ms, last_error
                 FROM queue_dead WHERE id = ?1",
            )?
            .execute(rusqlite::params![id, now_ms as i64])?;
        if n == 1 {
            tx.prepare_cached("DELETE FROM queue_dead WHERE id = ?1")?
                .execute([id])?;
            moved += 1;
        }
    }
    tx.commit()?;
    Ok(moved)
}

/// Queue administration on the data directory, for tools (`sf events dlq`).
pub struct QueueStore {
    conn: Connection,
}

impl QueueStore {
    /// Opens `<data_dir>/sf.sqlite3`, creating the tables if needed.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, String> {
        let mut conn = db::open(data_dir.as_ref())?;
        db::ensure_schema(&mut conn)?;
        Ok(Self { conn })
    }

    pub fn send(&self, queue: &str, body: &serde_json::Value) -> Result<i64, String> {
        let text =
            serde_json::to_string(body).map_err(|e| format!("cannot encode message: {e}"))?;
        enqueue(&self.conn, queue, &text, system_now_ms()).map_err(|e| format!("enqueue: {e}"))
    }

    /// Messages waiting or in flight.
    pub fn pending(&self) -> Result<u64, String> {
        self.conn
            .query_row("SELECT count(*) FROM queue_messages", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| format!("counting queue_messages: {e}"))
    }

    pub fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, String> {
        list_dead(&self.conn, limit).map_err(|e| format!("reading queue_dead: {e}"))
    }

    /// Replays the given dead letters (`None`: all); a running server picks
    /// them up at its next poll.
    pub fn replay(&mut self, ids: Option<&[i64]>) -> Result<usize, String> {
        replay_dead(&mut self.conn, ids, system_now_ms())
            .map_err(|e| format!("replaying dead letters: {e}"))
    }
}
