//! `Counter` on SQLite (`native_counters`, one row per key and lane).
//!
//! `reserve` runs under `BEGIN IMMEDIATE`, SQLite's single write lock, so the
//! check of every lane and the increments are one atomic step across threads
//! and processes sharing the file. Expiry is per key: every lane of a key
//! carries the key's `expires_at_ms`; an expired key reads as zeros and is
//! reset by the next reservation.

use std::rc::Rc;

use rusqlite::{OptionalExtension, TransactionBehavior};
use sf_core::ports::{Counter, PortError, Reserve};

use crate::db::Db;

/// Expiry given to a key first created by `adjust` (no reservation told us
/// its lifetime). Settling normally follows a reservation, so this is rare.
const ADJUST_DEFAULT_TTL_MS: u64 = 24 * 3600 * 1000;

pub struct NativeCounter {
    db: Rc<Db>,
}

impl NativeCounter {
    pub(crate) fn new(db: Rc<Db>) -> Self {
        Self { db }
    }
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Counter for NativeCounter {
    async fn reserve(
        &self,
        key: &str,
        lanes: &[Reserve<'_>],
        expires_at_ms: u64,
    ) -> Result<bool, PortError> {
        let now = clamp_i64(self.db.now_ms());
        let expires = clamp_i64(expires_at_ms);
        self.db.with("counter", |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // An expired key starts over from zero.
            tx.prepare_cached(
                "DELETE FROM native_counters WHERE key = ?1 AND expires_at_ms <= ?2",
            )?
            .execute(rusqlite::params![key, now])?;
            for l in lanes {
                let current: i64 = tx
                    .prepare_cached(
                        "SELECT value FROM native_counters WHERE key = ?1 AND lane = ?2",
                    )?
                    .query_row(rusqlite::params![key, l.lane], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                // The same lane named twice adds up, so count what this call
                // already asked for on it.
                let earlier: i64 = lanes
                    .iter()
                    .take_while(|o| !std::ptr::eq(*o, l))
                    .filter(|o| o.lane == l.lane)
                    .map(|o| o.amount)
                    .fold(0i64, i64::saturating_add);
                let after = current.saturating_add(earlier).saturating_add(l.amount);
                if let Some(ceiling) = l.ceiling {
                    if after > ceiling {
                        // Dropping `tx` rolls back; nothing was written yet.
                        return Ok(false);
                    }
                }
            }
            for l in lanes {
                tx.prepare_cached(
                    "INSERT INTO native_counters (key, lane, value, expires_at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(key, lane) DO UPDATE SET value = value + excluded.value,
                       expires_at_ms = max(expires_at_ms, excluded.expires_at_ms)",
                )?
                .execute(rusqlite::params![key, l.lane, l.amount, expires])?;
            }
            // Lanes not named in this call live as long as the key.
            tx.prepare_cached(
                "UPDATE native_counters SET expires_at_ms = ?2
                 WHERE key = ?1 AND expires_at_ms < ?2",
            )?
            .execute(rusqlite::params![key, expires])?;
            tx.commit()?;
            Ok(true)
        })
    }

    async fn adjust(&self, key: &str, lane: &str, delta: i64) -> Result<(), PortError> {
        let now = clamp_i64(self.db.now_ms());
        let default_exp = clamp_i64(self.db.now_ms().saturating_add(ADJUST_DEFAULT_TTL_MS));
        self.db.with("counter", |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "DELETE FROM native_counters WHERE key = ?1 AND expires_at_ms <= ?2",
            )?
            .execute(rusqlite::params![key, now])?;
            let key_exp: Option<i64> = tx
                .prepare_cached("SELECT max(expires_at_ms) FROM native_counters WHERE key = ?1")?
                .query_row([key], |r| r.get(0))?;
            tx.prepare_cached(
                "INSERT INTO native_counters (key, lane, value, expires_at_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(key, lane) DO UPDATE SET value = value + excluded.value",
            )?
            .execute(rusqlite::params![
                key,
                lane,
                delta,
                key_exp.unwrap_or(default_exp)
            ])?;
            tx.commit()
        })
    }

    async fn read(&self, key: &str, lane: &str) -> Result<i64, PortError> {
        let now = clamp_i64(self.db.now_ms());
        self.db.with("counter", |c| {
            Ok(c.prepare_cached(
                "SELECT value FROM native_counters
                 WHERE key = ?1 AND lane = ?2 AND expires_at_ms > ?3",
            )?
            .query_row(rusqlite::params![key, lane, now], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
        })
    }
}
