//! A throwaway gateway: a temporary data directory and a server on an
//! ephemeral 127.0.0.1 port, gone when dropped. `sf eval` runs its cases
//! against one when no `--base-url` is given; integration tests and the
//! benchmarks use it too, with [`MockUpstream`], a scripted OpenAI-compatible
//! provider on another ephemeral port.
//!
//! ```no_run
//! let srv = sf_server::ephemeral::EphemeralServer::start([("ENVIRONMENT", "local")]).unwrap();
//! let url = format!("{}/healthz", srv.base_url());
//! # let _ = url;
//! srv.shutdown().unwrap();
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::server::{start, ServeConfig, ServerError, ServerHandle};
use crate::vars::NativeVars;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "sf-{label}-{}-{nanos}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        // A failure here surfaces at the first use of the path, with its name.
        let _ = std::fs::create_dir_all(&path);
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A running gateway over a temporary data directory. Dropping it shuts the
/// server down (gracefully) and removes the directory.
pub struct EphemeralServer {
    handle: Option<ServerHandle>,
    addr: SocketAddr,
    base_url: String,
    dir: TempDir,
}

impl EphemeralServer {
    /// Two worker threads, request logging off, exactly `vars` as the
    /// environment (the process environment is not read).
    pub fn start<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ServerError> {
        Self::start_with(vars, |_| {})
    }

    /// Like [`EphemeralServer::start`], with a chance to adjust the config
    /// (threads, body cap, queue timings, scheduled jobs...).
    pub fn start_with<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Result<Self, ServerError> {
        let dir = TempDir::new("server");
        let map: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut cfg = ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().to_path_buf(),
            threads: 2,
            dev_vars_path: None,
            vars: Some(NativeVars::from_map(map)),
            log_requests: false,
            ..ServeConfig::default()
        };
        configure(&mut cfg);
        let handle = start(cfg)?;
        let addr = handle.local_addr();
        Ok(Self {
            handle: Some(handle),
            addr,
            base_url: format!("http://{addr}"),
            dir,
        })
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data directory (`sf.sqlite3`, `blob/`), e.g. to assert on rows.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the graceful shutdown without waiting for it.
    pub fn trigger_shutdown(&self) {
        if let Some(h) = &self.handle {
            h.trigger_shutdown();
        }
    }

    /// Graceful shutdown; returns once every worker thread has exited.
    pub fn shutdown(mut self) -> Result<(), ServerError> {
        match self.handle.take() {
            Some(h) => h.shutdown(),
            None => Ok(()),
        }
    }
}

impl Drop for EphemeralServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.shutdown();
        }
    }
}

/// Settings of [`MockUpstream`].
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// The assistant message content every completion returns.
    pub content: String,
    /// Delay before answering a completion (timeouts, in-flight tests).
    pub delay_ms: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            content: "{\"message\":\"ok\"}".to_owned(),
            delay_ms: 0,
            prompt_tokens: 12,
            completion_tokens: 5,
        }
    }
}

/// A mock OpenAI-compatible upstream on an ephemeral 127.0.0.1 port, served
/// by its own thread. `POST .../chat/completions` answers a fixed chat
/// completion (echoing the request's `model`); `GET /redirect` answers a 302;
/// anything else is a 404. Used by the provider tests and the load benchmark.
pub struct MockUpstream {
    addr: SocketAddr,
    completions: std::sync::Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockUpstream {
    pub fn start(opts: MockOptions) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), opts)
    }

    /// Listens on `addr` (must be a loopback address for tests and benchmarks).
    pub fn start_on(addr: SocketAddr, opts: MockOptions) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let completions = std::sync::Arc::new(AtomicU64::new(0));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let counter = completions.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("sf-mock-upstream".into())
            .spawn(move || rt.block_on(mock_main(listener, opts, counter, stop_rx)))?;
        Ok(Self {
            addr,
            completions,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/v1`, the shape of an OpenAI-compatible base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Completions answered so far.
    pub fn completions(&self) -> u64 {
        self.completions.load(Ordering::SeqCst)
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn mock_main(
    listener: std::net::TcpListener,
    opts: MockOptions,
    counter: std::sync::Arc<AtomicU64>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let opts = std::sync::Arc::new(opts);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let opts = opts.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let opts = opts.clone();
                        let counter = counter.clone();
                        async move { Ok::<_, std::convert::Infallible>(mock_answer(req, &opts, &counter).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
            _ = &mut stop => return,
        }
    }
}

async fn mock_answer(
    req: http::Request<hyper::body::Incoming>,
    opts: &MockOptions,
    counter: &AtomicU64,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    use http_body_util::BodyExt;
    let json = |status: u16, body: String| {
        let mut res = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
        *res.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        res.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        res
    };
    let path = req.uri().path().to_owned();
    if req.method() == http::Method::GET && path == "/redirect" {
        let mut res = json(302, "{}".to_owned());
        res.headers_mut().insert(
            http::header::LOCATION,
            http::HeaderValue::from_static("/elsewhere"),
        );
        return res;
    }
    if req.method() != http::Method::POST || !path.ends_with("/chat/completions") {
        return json(404, "{\"error\":{\"message\":\"not found\"}}".to_owned());
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return json(400, "{\"error\":{\"message\":\"bad body\"}}".to_owned()),
    };
    let model = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("model").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "mock-model".to_owned());
    if opts.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(opts.delay_ms)).await;
    }
    counter.fetch_add(1, Ordering::SeqCst);
    let answer = serde_json::json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": opts.content},
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": opts.prompt_tokens,
            "completion_tokens": opts.completion_tokens,
            "total_tokens": opts.prompt_tokens + opts.completion_tokens
        }
    });
    json(200, answer.to_string())
}
