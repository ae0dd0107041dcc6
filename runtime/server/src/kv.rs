//! `Kv` on SQLite (`native_kv`). Expired keys read as absent at once; their
//! rows are deleted when read and by [`crate::NativeHost::purge_expired`].

use std::rc::Rc;

use rusqlite::OptionalExtension;
use sf_core::ports::{Kv, PortError};

use crate::db::Db;

pub struct NativeKv {
    db: Rc<Db>,
}

impl NativeKv {
    pub(crate) fn new(db: Rc<Db>) -> Self {
        Self { db }
    }
}

/// A GLOB pattern matching exactly the keys that start with `prefix`. SQLite
/// turns a literal GLOB prefix into an index range, so listing stays cheap.
pub(crate) fn glob_prefix(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        match c {
            '*' => p.push_str("[*]"),
            '?' => p.push_str("[?]"),
            '[' => p.push_str("[[]"),
            c => p.push(c),
        }
    }
    p.push('*');
    p
}

impl Kv for NativeKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        let now = self.db.now_ms() as i64;
        self.db.with("kv", |c| {
            let row: Option<(String, Option<i64>)> = c
                .prepare_cached("SELECT value, expires_at_ms FROM native_kv WHERE key = ?1")?
                .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match row {
                Some((_, Some(exp))) if exp <= now => {
                    c.prepare_cached(
                        "DELETE FROM native_kv WHERE key = ?1 AND expires_at_ms <= ?2",
                    )?
                    .execute(rusqlite::params![key, now])?;
                    Ok(None)
                }
                Some((v, _)) => Ok(Some(v)),
                None => Ok(None),
            }
        })
    }

    async fn put(&self, key: &str, value: &str, ttl_s: Option<u64>) -> Result<(), PortError> {
        let expires = ttl_s.map(|t| {
            let ms = t.saturating_mul(1000).min(i64::MAX as u64 / 2);
            (self.db.now_ms() + ms) as i64
        });
        self.db.with("kv", |c| {
            c.prepare_cached(
                "INSERT INTO native_kv (key, value, expires_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                   expires_at_ms = excluded.expires_at_ms",
            )?
            .execute(rusqlite::params![key, value, expires])?;
            Ok(())
        })
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.db.with("kv", |c| {
            c.prepare_cached("DELETE FROM native_kv WHERE key = ?1")?
                .execute([key])?;
            Ok(())
        })
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let now = self.db.now_ms() as i64;
        let pattern = glob_prefix(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.with("kv", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT key FROM native_kv WHERE key GLOB ?1
                   AND (expires_at_ms IS NULL OR expires_at_ms > ?2)
                 ORDER BY key LIMIT ?3",
            )?;
            let rows = stmt.query_map(rusqlite::params![pattern, now, limit], |r| r.get(0))?;
            rows.collect()
        })
    }
}
