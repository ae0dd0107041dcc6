//! The one SQLite file (`<data-dir>/sf.sqlite3`) behind Sql, Kv, Counter and the
//! queue: connection setup, the host's own tables and the D1 migration runner.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sf_core::ports::{Clock, PortError};

use crate::clock::NativeClock;

/// D1 migrations of the repository (`migrations/*.sql`), embedded by `build.rs`
/// in name order, so the binary applies them wherever it runs.
pub static MIGRATIONS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "sf.sqlite3";

/// Roughly how long a writer waits for another connection's write lock
/// before failing with SQLITE_BUSY (see [`busy_wait`]).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Busy handler: SQLite's default one sleeps 1 ms, then 2, 5, 10... on the
/// first conflict, which would dominate tail latency when two worker threads
/// reserve budget counters at once (a write transaction lasts tens of
/// microseconds). Poll finely first, then back off to 1 ms steps up to about
/// [`BUSY_TIMEOUT`]. `benches/counter_contention.rs` measures the difference.
pub fn busy_wait(attempt: i32) -> bool {
    const FINE: i32 = 200;
    let coarse = BUSY_TIMEOUT.as_millis() as i32;
    if attempt < FINE {
        std::thread::sleep(Duration::from_micros(20));
        true
    } else if attempt < FINE + coarse {
        std::thread::sleep(Duration::from_millis(1));
        true
    } else {
        false
    }
}

pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}

/// Opens a connection with the settings every user of the file shares.
pub fn open(data_dir: &Path) -> Result<Connection, String> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
    let path = db_path(data_dir);
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    conn.busy_handler(Some(busy_wait))
        .map_err(|e| format!("{}: busy handler: {e}", path.display()))?;
    // WAL: readers never block the writer and vice versa. NORMAL sync is
    // durable across process crashes (only an OS crash may lose the last
    // commits), which is the trade-off D1 itself makes visible as eventual.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| format!("{}: journal_mode=WAL: {e}", path.display()))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| format!("{}: synchronous=NORMAL: {e}", path.display()))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| format!("{}: foreign_keys=ON: {e}", path.display()))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The host's own tables (KV, counters, queue, scheduler). They stand in for
/// Cloudflare services, not for D1, so they are not D1 migrations; creating
/// them is idempotent.
const HOST_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS native_kv (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL,
  expires_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idx_native_kv_expires ON native_kv(expires_at_ms)
  WHERE expires_at_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS native_counters (
  key TEXT NOT NULL,
  lane TEXT NOT NULL,
  value INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (key, lane)
);
CREATE INDEX IF NOT EXISTS idx_native_counters_expires ON native_counters(expires_at_ms);
CREATE TABLE IF NOT EXISTS queue_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  visible_at_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS idx_queue_messages_visible ON queue_messages(queue, visible_at_ms);
CREATE TABLE IF NOT EXISTS queue_dead (
  id INTEGER PRIMARY KEY NOT NULL,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  failed_at_ms INTEGER NOT NULL,
  last_error TEXT
);
CREATE TABLE IF NOT EXISTS scheduler_runs (
  cron TEXT NOT NULL,
  slot_ms INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  PRIMARY KEY (cron, slot_ms)
);
";

/// Wrangler's bookkeeping table, same columns, so `wrangler d1 migrations apply`
/// against a copy of this file and the native host agree on what ran.
const D1_MIGRATIONS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS d1_migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);
";

/// Creates the host tables and applies the embedded migrations not yet recorded.
/// Returns the names applied by this call.
pub fn ensure_schema(conn: &mut Connection) -> Result<Vec<String>, String> {
    conn.execute_batch(HOST_SCHEMA)
        .map_err(|e| format!("creating host tables: {e}"))?;
    apply_migrations(conn, MIGRATIONS)
}

/// Applies `migrations` (name, sql) in order, each in its own transaction
/// together with its `d1_migrations` row, so a failing file leaves nothing
/// behind and is retried at the next boot. `BEGIN IMMEDIATE` serialises
/// concurrent boots (threads or processes): the second one re-reads the
/// applied set under the write lock and finds nothing left to do.
pub fn apply_migrations(
    conn: &mut Connection,
    migrations: &[(&str, &str)],
) -> Result<Vec<String>, String> {
    conn.execute_batch(D1_MIGRATIONS_TABLE)
        .map_err(|e| format!("creating d1_migrations: {e}"))?;
    let mut applied_now = Vec::new();
    for (name, sql) in migrations {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| format!("migration {name}: begin: {e}"))?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM d1_migrations WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(|e| format!("migration {name}: reading d1_migrations: {e}"))?;
        if done {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| {
            format!("migration {name} failed: {e} (fix the file under migrations/ and restart)")
        })?;
        tx.execute("INSERT INTO d1_migrations (name) VALUES (?1)", [name])
            .map_err(|e| format!("migration {name}: recording: {e}"))?;
        tx.commit()
            .map_err(|e| format!("migration {name}: commit: {e}"))?;
        applied_now.push((*name).to_owned());
    }
    Ok(applied_now)
}

/// Names recorded in `d1_migrations`, in the order they were applied.
pub fn applied_migrations(conn: &Connection) -> Result<Vec<String>, String> {
    let mut stmt = conn
        .prepare("SELECT name FROM d1_migrations ORDER BY id")
        .map_err(|e| format!("reading d1_migrations: {e}"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| format!("reading d1_migrations: {e}"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading d1_migrations: {e}"))
}

/// Checkpoints the WAL into the database file every `every` until `stop`
/// turns true, then once more (TRUNCATE) so a stopped server leaves a compact
/// file. Runs on its own thread: checkpoints fsync, and worker connections
/// are opened with `wal_autocheckpoint=0` so requests never do.
pub fn run_checkpointer(data_dir: &Path, every: Duration, stop: &std::sync::atomic::AtomicBool) {
    use std::sync::atomic::Ordering;
    let conn = match open(data_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sf-server: checkpointer disabled: {e}");
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(every);
        // PASSIVE never waits for readers or writers; what it cannot copy now
        // it copies next time.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            eprintln!("sf-server: WAL checkpoint failed: {e}");
        }
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// A SQLite connection several worker threads share, one statement group
/// at a time (a mutex held only inside synchronous port calls, never across
/// an await). Within one process this replaces SQLite's file locking and busy
/// waits between connections by a futex hand-off, and keeps one warm page
/// cache; `BEGIN IMMEDIATE` still makes transactions atomic against other
/// processes on the same file. `benches/counter_contention.rs` compares it
/// with a connection per thread.
#[derive(Clone)]
pub struct SharedConnection(Arc<Mutex<Connection>>);

impl SharedConnection {
    /// Opens `<data_dir>/sf.sqlite3` with the host tables and migrations.
    /// `no_autocheckpoint`: see `HostOptions::no_autocheckpoint`.
    pub fn open(data_dir: &Path, no_autocheckpoint: bool) -> Result<Self, PortError> {
        let mut conn = open(data_dir).map_err(|m| PortError::new("sql", m))?;
        ensure_schema(&mut conn).map_err(|m| PortError::new("sql", m))?;
        if no_autocheckpoint {
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(|e| PortError::new("sql", format!("wal_autocheckpoint=0: {e}")))?;
        }
        Ok(Self(Arc::new(Mutex::new(conn))))
    }
}

/// The SQLite connection behind this host's ports plus the clock every
/// expiry uses.
pub struct Db {
    pub(crate) conn: SharedConnection,
    pub(crate) clock: NativeClock,
}

impl Db {
    /// Runs `f` on the connection. Port methods never await while holding it.
    /// A poisoned lock (a panic inside SQLite code) is recovered: SQLite
    /// rolls back an unfinished transaction when the next one begins.
    pub(crate) fn with<T>(
        &self,
        port: &'static str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, PortError> {
        let mut conn = match self.conn.0.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut conn).map_err(|e| PortError::new(port, e.to_string()))
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}
