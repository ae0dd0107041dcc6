//! Shared by the `events_*` tests: grants, a loopback HTTP client, a host
//! whose Blob/Sql/Queue ports fail on demand, and readers for what the
//! consumer filed (R2 objects on disk, D1 rows).
#![allow(dead_code)] // each test crate uses a different subset

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use sf_core::grants::mint_grant;
use sf_core::ports::{
    BackgroundTask, Blob, Host, PortError, Queue, Sql, SqlRow, SqlStatement, SqlValue,
};
use sf_server::counter::NativeCounter;
use sf_server::fetch::NativeFetch;
use sf_server::kv::NativeKv;
use sf_server::{NativeClock, NativeHost, NativeRandom, NativeVars};

pub const SECRET: &str = "events-test-secret-0123456789";
pub const FAR_FUTURE_S: u64 = 4_102_444_800; // 2100-01-01

pub fn vars() -> Vec<(&'static str, &'static str)> {
    vec![("ENVIRONMENT", "local"), ("AI_GRANT_HMAC_SECRET", SECRET)]
}

pub fn native_vars() -> NativeVars {
    NativeVars::from_map(
        vars()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// A grant payload the way Paris mints one (see conformance/src/lib.rs).
pub fn payload(agent: &str, jti: &str, session: &str) -> Value {
    json!({
        "v": 1, "iss": "paris", "jti": jti,
        "sub": {"kind": "anon", "sessionId": session},
        "exp": FAR_FUTURE_S,
        "caps": [format!("agent:{agent}")],
        "budgets": {"maxTokens": 200, "timeoutMs": 10000, "maxRequests": 5},
        "mode": "editor",
        "ai": {
            "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
            "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
            "allowProviderChoice": false, "allowModelChoice": false
        },
        "trace": {"sessionId": session, "envStage": "local", "locale": "de-ch"}
    })
}

pub fn probe_body(i: usize) -> (String, Value) {
    let token = mint_grant(
        &payload(
            "debug.grantProbe",
            &format!("j-{i}"),
            &format!("s-{}", i % 7),
        ),
        SECRET,
    );
    let body = json!({
        "grant": token,
        "agentId": "debug.grantProbe",
        "input": {"ping": format!("p{i}")},
        "trace": {"requestId": format!("req-{i:05}")},
    });
    (token, body)
}

/// One request over a fresh loopback connection; (status, body).
pub fn post(addr: SocketAddr, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect to the test server");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, raw[split + 4..].to_vec())
}

/// Every object under `<data_dir>/blob/` as (key, bytes), sorted by key.
pub fn blobs(data_dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().into_string().unwrap();
            let key = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &key, out);
            } else {
                out.push((key, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&data_dir.join("blob"), "", &mut out);
    out.sort();
    out
}

pub fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn to_port(v: rusqlite::types::Value) -> SqlValue {
    match v {
        rusqlite::types::Value::Null => SqlValue::Null,
        rusqlite::types::Value::Integer(i) => SqlValue::Integer(i),
        rusqlite::types::Value::Real(f) => SqlValue::Real(f),
        rusqlite::types::Value::Text(t) => SqlValue::Text(t),
        rusqlite::types::Value::Blob(b) => SqlValue::Text(String::from_utf8_lossy(&b).into()),
    }
}

/// Columns the learning loop writes later (the scoring job, migrations/0005_learning.sql;
/// the conversion marks, 0006_review.sql), not derived from the event when it is filed.
const SCORED_COLUMNS: [&str; 4] = ["score", "scoredAtMs", "convertedAtMs", "paidAtMs"];

/// All `copilot_events_v1` rows by requestId, as the port's values (the
/// filed columns only: not those the scoring job writes).
pub fn event_rows(conn: &rusqlite::Connection) -> HashMap<String, Vec<(String, SqlValue)>> {
    let mut stmt = conn.prepare("SELECT * FROM copilot_events_v1").unwrap();
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).unwrap();
    let mut out = HashMap::new();
    while let Some(r) = rows.next().unwrap() {
        let cols: Vec<(String, SqlValue)> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !SCORED_COLUMNS.contains(&n.as_str()))
            .map(|(i, n)| (n.clone(), to_port(r.get(i).unwrap())))
            .collect();
        let id = match &cols[0].1 {
            SqlValue::Text(t) => t.clone(),
            other => panic!("requestId is {other:?}"),
        };
        out.insert(id, cols);
    }
    out
}

/// Asserts exactly `n` raw logs, `n` index rows and `n` interactions, and
/// that every row is exactly what its object derives to.
pub fn assert_filed_exactly(data_dir: &Path, n: usize) {
    let conn = sf_server::db::open(data_dir).unwrap();
    let objects: Vec<(String, Vec<u8>)> = blobs(data_dir)
        .into_iter()
        .filter(|(k, _)| k.starts_with("logs/"))
        .collect();
    assert_eq!(objects.len(), n, "raw log objects");
    assert_eq!(count(&conn, "copilot_events_v1"), n as i64, "index rows");
    assert_eq!(count(&conn, "sf_interactions"), n as i64, "interactions");
    let rows = event_rows(&conn);
    for (key, bytes) in &objects {
        let ev: Value = serde_json::from_slice(bytes).unwrap();
        let id = ev["requestId"].as_str().unwrap();
        let expected_key = sf_records::events::raw_log_key(
            "local",
            ev["agentId"].as_str().unwrap(),
            ev["occurredAtMs"].as_i64().unwrap(),
            id,
        );
        assert_eq!(key, &expected_key);
        let expected: Vec<(String, SqlValue)> = sf_records::events::index_row(&ev, "local")
            .into_iter()
            .map(|(c, v)| (c.to_owned(), v))
            .collect();
        assert_eq!(rows.get(id), Some(&expected), "row of {key}");
        let r2_key: String = conn
            .query_row(
                "SELECT r2_key FROM sf_interactions WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(&r2_key, key);
    }
}

/// Which port calls fail, and what was called.
#[derive(Default)]
pub struct Faults {
    /// request id → remaining failures of a raw-log put for it.
    pub put_failures: RefCell<HashMap<String, u32>>,
    /// request ids whose next D1 batch fails (once each).
    pub batch_failures: RefCell<HashSet<String>>,
    /// Every queue send fails.
    pub queue_down: Cell<bool>,
    /// Every blob/sql call fails (the store path without a queue).
    pub storage_down: Cell<bool>,
    pub puts: Cell<u64>,
    pub failed_puts: Cell<u64>,
    pub failed_batches: Cell<u64>,
}

fn request_id_of_key(key: &str) -> Option<&str> {
    key.rsplit('/').next()?.strip_suffix(".json")
}

pub struct FaultyBlob {
    host: Rc<NativeHost>,
    faults: Rc<Faults>,
}

impl Blob for FaultyBlob {
    async fn put(&self, key: &str, body: Vec<u8>, ct: &str) -> Result<(), PortError> {
        self.faults.puts.set(self.faults.puts.get() + 1);
        if self.faults.storage_down.get() {
            return Err(PortError::new("blob", "injected: storage down"));
        }
        if let Some(id) = request_id_of_key(key) {
            let mut m = self.faults.put_failures.borrow_mut();
            if let Some(left) = m.get_mut(id) {
                if *left > 0 {
                    *left -= 1;
                    self.faults
                        .failed_puts
                        .set(self.faults.failed_puts.get() + 1);
                    return Err(PortError::new("blob", "injected: put failed"));
                }
            }
        }
        self.host.blob().put(key, body, ct).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        if self.faults.storage_down.get() {
            return Err(PortError::new("blob", "injected: storage down"));
        }
        self.host.blob().get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.host.blob().delete(key).await
    }
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        self.host.blob().list(prefix, limit).await
    }
}

pub struct FaultySql {
    host: Rc<NativeHost>,
    faults: Rc<Faults>,
}

impl Sql for FaultySql {
    async fn execute(&self, stmt: SqlStatement) -> Result<u64, PortError> {
        if self.faults.storage_down.get() {
            return Err(PortError::new("sql", "injected: storage down"));
        }
        self.host.sql().execute(stmt).await
    }
    async fn query(&self, stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError> {
        if self.faults.storage_down.get() {
            return Err(PortError::new("sql", "injected: storage down"));
        }
        self.host.sql().query(stmt).await
    }
    async fn batch(&self, stmts: Vec<SqlStatement>) -> Result<(), PortError> {
        if self.faults.storage_down.get() {
            return Err(PortError::new("sql", "injected: storage down"));
        }
        let id = stmts
            .first()
            .and_then(|s| s.params.first())
            .and_then(|p| match p {
                SqlValue::Text(t) => Some(t.clone()),
                _ => None,
            });
        if let Some(id) = id {
            if self.faults.batch_failures.borrow_mut().remove(&id) {
                self.faults
                    .failed_batches
                    .set(self.faults.failed_batches.get() + 1);
                return Err(PortError::new("sql", "injected: D1 insert failed"));
            }
        }
        self.host.sql().batch(stmts).await
    }
}

pub struct FaultyQueue {
    host: Rc<NativeHost>,
    faults: Rc<Faults>,
}

impl Queue for FaultyQueue {
    async fn send(&self, body: &Value) -> Result<(), PortError> {
        if self.faults.queue_down.get() {
            return Err(PortError::new("queue", "injected: queue down"));
        }
        match self.host.queue() {
            Some(q) => q.send(body).await,
            None => Err(PortError::new("queue", "not bound")),
        }
    }
}

/// `NativeHost` with Blob, Sql and Queue behind fault-injecting decorators.
pub struct FaultyHost {
    pub inner: Rc<NativeHost>,
    pub faults: Rc<Faults>,
    blob: FaultyBlob,
    sql: FaultySql,
    queue: FaultyQueue,
}

impl FaultyHost {
    pub fn open(data_dir: &Path, faults: Rc<Faults>) -> Self {
        let inner = Rc::new(NativeHost::open(data_dir, native_vars()).unwrap());
        Self {
            blob: FaultyBlob {
                host: inner.clone(),
                faults: faults.clone(),
            },
            sql: FaultySql {
                host: inner.clone(),
                faults: faults.clone(),
            },
            queue: FaultyQueue {
                host: inner.clone(),
                faults: faults.clone(),
            },
            inner,
            faults,
        }
    }
}

impl Host for FaultyHost {
    type Kv = NativeKv;
    type Sql = FaultySql;
    type Blob = FaultyBlob;
    type Queue = FaultyQueue;
    type Fetch = NativeFetch;
    type Clock = NativeClock;
    type Random = NativeRandom;
    type Counter = NativeCounter;
    type Vars = NativeVars;

    fn kv(&self) -> &NativeKv {
        self.inner.kv()
    }
    fn sql(&self) -> &FaultySql {
        &self.sql
    }
    fn blob(&self) -> &FaultyBlob {
        &self.blob
    }
    fn queue(&self) -> Option<&FaultyQueue> {
        Some(&self.queue)
    }
    fn fetch(&self) -> &NativeFetch {
        self.inner.fetch()
    }
    fn clock(&self) -> &NativeClock {
        self.inner.clock()
    }
    fn random(&self) -> &NativeRandom {
        self.inner.random()
    }
    fn counter(&self) -> &NativeCounter {
        self.inner.counter()
    }
    fn vars(&self) -> &NativeVars {
        self.inner.vars()
    }
    fn defer(&self, task: BackgroundTask) {
        self.inner.defer(task)
    }
}

pub fn execute_request(body: &Value) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("POST")
        .uri("/v1/execute")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
