//! A scripted OpenAI-compatible upstream on 127.0.0.1 that counts the calls
//! it receives, so the suite can prove budgets hold ("exactly N model calls").

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

pub struct MockUpstream {
    pub port: u16,
    calls: Arc<AtomicUsize>,
    script: Arc<Mutex<Script>>,
    stop: Arc<AtomicBool>,
    last_body: Arc<Mutex<Option<serde_json::Value>>>,
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
        let (c, s, st, lb) = (
            calls.clone(),
            script.clone(),
            stop.clone(),
            last_body.clone(),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (c, s, lb) = (c.clone(), s.clone(), lb.clone());
                thread::spawn(move || serve(conn, &c, &s, &lb));
            }
        });
        Ok(Self {
            port,
            calls,
            script,
            stop,
            last_body,
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
    let body: serde_json::Value = serde_json::from_slice(&buf[head_end..]).unwrap_or_default();
    calls.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut lb) = last_body.lock() {
        *lb = Some(body.clone());
    }
    let s = script.lock().map(|s| s.clone()).unwrap_or(Script {
        content: String::new(),
        status: 500,
        delay_ms: 0,
    });
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
