//! A scripted upstream on 127.0.0.1: an OpenAI-compatible chat endpoint that
//! counts the calls it receives, so the suite can prove budgets hold ("exactly
//! N model calls"), and canned answers by method and path for the other
//! services the gateway calls (Paris, Tokyo, the Responses API), each request
//! recorded so a case can check what was sent.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the mock answers to every chat completion.
#[derive(Debug, Clone)]
pub struct Script {
    /// The assistant message content.
    pub content: String,
    pub status: u16,
    pub delay_ms: u64,
}

/// One canned answer for a method and path (the query string included).
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub body: String,
}

/// A request the mock received on a canned route.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

type Routes = Arc<Mutex<HashMap<(String, String), Canned>>>;

pub struct MockUpstream {
    pub port: u16,
    calls: Arc<AtomicUsize>,
    script: Arc<Mutex<Script>>,
    stop: Arc<AtomicBool>,
    last_body: Arc<Mutex<Option<serde_json::Value>>>,
    routes: Routes,
    seen: Arc<Mutex<Vec<Seen>>>,
    echo: Arc<AtomicBool>,
}

impl MockUpstream {
    /// On a free port.
    pub fn start(script: Script) -> std::io::Result<Self> {
        Self::start_on(0, script)
    }

    /// On a given port (0 = any), 127.0.0.1 only.
    pub fn start_on(port: u16, script: Script) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let calls = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(Mutex::new(script));
        let stop = Arc::new(AtomicBool::new(false));
        let last_body = Arc::new(Mutex::new(None));
        let routes: Routes = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let echo = Arc::new(AtomicBool::new(false));
        let (c, s, st, lb, r, sn, e) = (
            calls.clone(),
            script.clone(),
            stop.clone(),
            last_body.clone(),
            routes.clone(),
            seen.clone(),
            echo.clone(),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (c, s, lb, r, sn, e) = (
                    c.clone(),
                    s.clone(),
                    lb.clone(),
                    r.clone(),
                    sn.clone(),
                    e.clone(),
                );
                thread::spawn(move || serve(conn, &c, &s, &lb, &r, &sn, &e));
            }
        });
        Ok(Self {
            port,
            calls,
            script,
            stop,
            last_body,
            routes,
            seen,
            echo,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    pub fn reset(&self, script: Script) {
        self.calls.store(0, Ordering::SeqCst);
        if let Ok(mut s) = self.script.lock() {
            *s = script;
        }
    }
    pub fn last_body(&self) -> Option<serde_json::Value> {
        self.last_body.lock().ok().and_then(|b| b.clone())
    }
    /// Answers `method path` (query included) with `status` and `body` from now on.
    pub fn route(&self, method: &str, path: &str, status: u16, body: &str) {
        if let Ok(mut r) = self.routes.lock() {
            r.insert(
                (method.to_owned(), path.to_owned()),
                Canned {
                    status,
                    body: body.to_owned(),
                },
            );
        }
    }
    /// Answers each chat call whose last user message ends in a JSON array of
    /// `{path, value}` items (a localization batch) with the same paths, so
    /// every batch of a multi-batch job gets a well-formed answer.
    pub fn echo_batches(&self, on: bool) {
        self.echo.store(on, Ordering::SeqCst);
    }
    /// Forgets the canned routes and what they received.
    pub fn clear_routes(&self) {
        if let Ok(mut r) = self.routes.lock() {
            r.clear();
        }
        if let Ok(mut s) = self.seen.lock() {
            s.clear();
        }
    }
    /// The requests received on canned routes, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    mut conn: TcpStream,
    calls: &AtomicUsize,
    script: &Mutex<Script>,
    last_body: &Mutex<Option<serde_json::Value>>,
    routes: &Mutex<HashMap<(String, String), Canned>>,
    seen: &Mutex<Vec<Seen>>,
    echo: &AtomicBool,
) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    // Read headers, then the body by content-length.
    let (head_end, len) = loop {
        let Ok(n) = conn.read(&mut tmp) else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (p + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let Ok(n) = conn.read(&mut tmp) else { return };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let canned = routes
        .lock()
        .ok()
        .and_then(|r| r.get(&(method.clone(), path.clone())).cloned());
    if let Some(c) = canned {
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        if let Ok(mut s) = seen.lock() {
            s.push(Seen {
                method,
                path,
                headers,
                body: String::from_utf8_lossy(&buf[head_end..]).into_owned(),
            });
        }
        let res = format!(
            "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
            c.status,
            c.body.len(),
            c.body
        );
        let _ = conn.write_all(res.as_bytes());
        return;
    }
    let body: serde_json::Value = serde_json::from_slice(&buf[head_end..]).unwrap_or_default();
    calls.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut lb) = last_body.lock() {
        *lb = Some(body.clone());
    }
    let mut s = script.lock().map(|s| s.clone()).unwrap_or(Script {
        content: String::new(),
        status: 500,
        delay_ms: 0,
    });
    if echo.load(Ordering::SeqCst) {
        if let Some(items) = batch_items(&body) {
            s.content = serde_json::Value::Array(items).to_string();
        }
    }
    if s.delay_ms > 0 {
        thread::sleep(Duration::from_millis(s.delay_ms));
    }
    let model = body
        .get("model")
        .and_then(|m| m.as_str())
        .unwrap_or("mock-model");
    let payload = if s.status == 200 {
        serde_json::json!({
            "id": "cmpl-mock", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": s.content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        })
        .to_string()
    } else {
        serde_json::json!({"error": {"message": "mock failure"}}).to_string()
    };
    let res = format!(
        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        s.status,
        payload.len(),
        payload
    );
    let _ = conn.write_all(res.as_bytes());
}

/// The `[{path, ..}]` array that ends the last user message, answered as
/// `[{path, value}]` with a marker value.
fn batch_items(body: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    let text = body["messages"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| m["role"] == "user")?["content"]
        .as_str()?;
    let start = text.rfind("\n\n[")? + 2;
    let items: Vec<serde_json::Value> = serde_json::from_str(&text[start..]).ok()?;
    Some(
        items
            .iter()
            .map(|i| serde_json::json!({"path": i["path"], "value": "Étiquette"}))
            .collect(),
    )
}
