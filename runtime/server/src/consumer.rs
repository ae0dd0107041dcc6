//! The queue consumer of one worker thread: claims messages from the durable
//! queue ([`crate::queue`]) and hands each to `Gateway::consume`.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use sf_core::ports::{Clock, Host};
use sf_runtime::{ConsumeError, Gateway};
use tokio::sync::{watch, Notify};

use crate::db::Db;
use crate::host::NativeHost;
use crate::queue::*;

/// The consumer loop of one worker thread: claims messages and hands each to
/// `Gateway::consume`, one at a time, acknowledging each on its own.
/// Returns when `shutdown` turns true, after the message in hand.
pub(crate) async fn run_consumer(
    gateway: Rc<Gateway<NativeHost>>,
    cfg: QueueConfig,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let db = gateway.host().db().clone();
    let mut error_backoff_ms = 100u64;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = db.now_ms();
        let claimed = db.with("queue", |c| claim(c, now, cfg.lease_ms, cfg.batch_size));
        let batch = match claimed {
            Ok(b) => {
                error_backoff_ms = 100;
                b
            }
            Err(e) => {
                eprintln!("sf-server: queue claim failed: {e}");
                error_backoff_ms = (error_backoff_ms * 2).min(5_000);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(error_backoff_ms)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        let full = batch.len() as u32 >= cfg.batch_size;
        // Successes of this batch, acknowledged together when it ends: one
        // write instead of one per message. A crash before that redelivers
        // them, which consumers must tolerate anyway (at-least-once).
        let mut done = Vec::with_capacity(batch.len());
        let mut rest = batch.into_iter();
        while let Some(d) = rest.next() {
            if *shutdown.borrow() {
                flush_acks(&db, &mut done);
                // Hand unprocessed messages back rather than waiting a lease.
                let now = db.now_ms();
                for r in std::iter::once(d).chain(rest.by_ref()) {
                    if let Err(e) = db.with("queue", |c| release(c, r.id, now)) {
                        eprintln!("sf-server: queue release of message {} failed: {e}", r.id);
                    }
                }
                return;
            }
            if let Some(id) = deliver(&gateway, &db, &cfg, d).await {
                done.push(id);
            }
        }
        flush_acks(&db, &mut done);
        if full {
            continue;
        }
        // Sleep until a send wakes us, the next backoff ends, or a poll is due.
        let now = db.now_ms();
        let next = db.with("queue", |c| next_visible_at(c)).ok().flatten();
        let wait = match next {
            Some(at) if at <= now => continue,
            Some(at) => (at - now).min(cfg.idle_poll_ms),
            None => cfg.idle_poll_ms,
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn flush_acks(db: &Db, done: &mut Vec<i64>) {
    if let Err(e) = db.with("queue", |c| ack_many(c, done)) {
        // The leases will expire and the messages will be delivered again.
        eprintln!(
            "sf-server: acknowledging {} queue message(s) failed: {e}",
            done.len()
        );
    }
    done.clear();
}

/// Hands one message to the gateway. Failures are recorded at once; a
/// success returns the id for the batch's acknowledgement.
async fn deliver(
    gateway: &Rc<Gateway<NativeHost>>,
    db: &Rc<Db>,
    cfg: &QueueConfig,
    d: Delivery,
) -> Option<i64> {
    let body: serde_json::Value = match serde_json::from_str(&d.body) {
        Ok(v) => v,
        Err(e) => {
            let now = db.now_ms();
            let msg = format!("message is not JSON: {e}");
            if let Err(e) = db.with("queue", |c| fail(c, d.id, &msg, true, now, cfg)) {
                eprintln!("sf-server: queue message {}: {e}", d.id);
            }
            return None;
        }
    };
    let outcome = gateway.consume(&d.queue, body).await;
    let now = gateway.host().clock().now_ms();
    let result = match outcome {
        Ok(()) => return Some(d.id),
        Err(ConsumeError::Retry(why)) => db
            .with("queue", |c| fail(c, d.id, &why, false, now, cfg))
            .map(|disp| Some((disp, why))),
        Err(ConsumeError::Reject(why)) => db
            .with("queue", |c| fail(c, d.id, &why, true, now, cfg))
            .map(|disp| Some((disp, why))),
    };
    match result {
        Ok(Some((Disposition::Dead, why))) => eprintln!(
            "sf-server: queue {} message {} dead-lettered after {} attempt(s): {why}",
            d.queue, d.id, d.attempts
        ),
        Ok(_) => {}
        // The lease will expire and the message will be delivered again.
        Err(e) => eprintln!("sf-server: queue message {}: {e}", d.id),
    }
    None
}
