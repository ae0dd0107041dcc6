//! The HTTP server: one OS thread per core, each with a current-thread Tokio
//! runtime and a `LocalSet`, its own `Rc<Gateway<NativeHost>>` (the isolate
//! model: the gateway is `!Send`) and its own `SO_REUSEPORT` listener on the
//! shared address, so the kernel spreads connections and no request ever
//! crosses threads.

use std::cell::Cell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use sf_core::error::ApiError;
use sf_core::http::error_response;
use sf_runtime::Gateway;
use tokio::sync::{watch, Notify};

use crate::body::{body_error, drain, read_body, too_large, BodyRead, DRAIN_LIMIT};
use crate::clock::NativeClock;
use crate::consumer::run_consumer;
use crate::db;
use crate::db::SharedConnection;
use crate::host::{defer_driver, HostOptions, NativeHost};
use crate::queue::QueueConfig;
use crate::scheduler::{parse_jobs, run_scheduler, CronSpec};
use crate::vars::NativeVars;

/// Default request body cap. Bob's widget payloads are tens of KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of [`serve`] / [`start`]. Build with struct update syntax over
/// `ServeConfig::default()`.
#[derive(Clone)]
pub struct ServeConfig {
    /// Default `127.0.0.1:3002`. Port 0 picks a free port (see [`ServerHandle::local_addr`]).
    pub addr: SocketAddr,
    /// Default `./.sf`: holds `sf.sqlite3` and `blob/`.
    pub data_dir: PathBuf,
    /// Worker threads; default: available parallelism.
    pub threads: usize,
    /// Default `Some(".dev.vars")`; a missing file is fine.
    pub dev_vars_path: Option<PathBuf>,
    /// When set, exactly these vars (no process environment, no `.dev.vars`).
    pub vars: Option<NativeVars>,
    /// Larger bodies get `413`.
    pub max_body_bytes: usize,
    /// How long a slow client may take to send its body.
    pub body_timeout: Duration,
    /// Bound on waiting for in-flight requests and deferred work at shutdown.
    pub shutdown_timeout: Duration,
    /// One stderr line per request (method, path, status, ms).
    pub log_requests: bool,
    /// `(cron, job name)` pairs for `Gateway::scheduled`, e.g. from `sf_core::policy::SCHEDULE`.
    pub scheduled_jobs: Vec<(String, String)>,
    pub queue: QueueConfig,
    /// Run queue consumers on the worker threads.
    pub consume_queue: bool,
    /// The clock every port and the scheduler read; `NativeClock::manual`
    /// lets tests move time (grant expiry, TTLs, cron slots).
    pub clock: NativeClock,
    /// Give each worker thread its own SQLite connection instead of sharing
    /// one (see `SharedConnection`); for comparison in benchmarks.
    pub connection_per_thread: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3002)),
            data_dir: PathBuf::from(".sf"),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            dev_vars_path: Some(PathBuf::from(".dev.vars")),
            vars: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
            log_requests: true,
            scheduled_jobs: Vec::new(),
            queue: QueueConfig::default(),
            consume_queue: true,
            clock: NativeClock::System,
            connection_per_thread: false,
        }
    }
}

#[derive(Debug)]
pub enum ServerError {
    /// The address could not be bound (in use, not local, no permission).
    Bind { addr: SocketAddr, message: String },
    /// Data directory, database, migrations, vars or cron setup failed.
    Setup(String),
    /// A worker thread could not start or died.
    Thread(String),
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::Bind { addr, message } => write!(
                f,
                "cannot listen on {addr}: {message} (pick another with --addr)"
            ),
            ServerError::Setup(m) => write!(f, "{m}"),
            ServerError::Thread(m) => write!(f, "worker thread: {m}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// A running server. Dropping it does not stop it; call [`ServerHandle::shutdown`].
pub struct ServerHandle {
    local_addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
    checkpointer: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl ServerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts a graceful shutdown: listeners close, in-flight requests finish.
    pub fn trigger_shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// Graceful shutdown, then waits for every worker thread.
    pub fn shutdown(self) -> Result<(), ServerError> {
        self.trigger_shutdown();
        self.join()
    }

    /// Waits for the worker threads (after a shutdown was triggered).
    pub fn join(self) -> Result<(), ServerError> {
        let mut failed = 0;
        for t in self.threads {
            if t.join().is_err() {
                failed += 1;
            }
        }
        // After the workers: their last writes get checkpointed too.
        if let Some((stop, t)) = self.checkpointer {
            stop.store(true, Ordering::SeqCst);
            if t.join().is_err() {
                failed += 1;
            }
        }
        if failed > 0 {
            return Err(ServerError::Thread(format!(
                "{failed} worker thread(s) panicked"
            )));
        }
        Ok(())
    }
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub fn serve(config: ServeConfig) -> Result<(), ServerError> {
    let handle = start(config)?;
    eprintln!("sf-server: listening on http://{}", handle.local_addr());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ServerError::Setup(format!("signal runtime: {e}")))?;
    rt.block_on(wait_for_signal())?;
    eprintln!("sf-server: shutting down (finishing in-flight requests)");
    handle.shutdown()
}

async fn wait_for_signal() -> Result<(), ServerError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| ServerError::Setup(format!("cannot watch SIGTERM: {e}")))?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(|e| ServerError::Setup(format!("cannot watch SIGINT: {e}")))?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| ServerError::Setup(format!("cannot watch Ctrl-C: {e}")))
    }
}

fn probe_free(addr: SocketAddr) -> Result<(), ServerError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let err = |e: std::io::Error| ServerError::Bind {
        addr,
        message: e.to_string(),
    };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(err)?;
    // Without SO_REUSEADDR a port in TIME_WAIT looks busy; with it, only a
    // live listener (reuseport or not) makes this bind fail.
    socket.set_reuse_address(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, ServerError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let err = |e: std::io::Error| ServerError::Bind {
        addr,
        message: e.to_string(),
    };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(err)?;
    socket.set_reuse_address(true).map_err(err)?;
    #[cfg(unix)]
    socket.set_reuse_port(true).map_err(err)?;
    socket.set_nonblocking(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)?;
    socket.listen(1024).map_err(err)?;
    Ok(socket.into())
}

/// What every worker thread needs, cloned into it.
#[derive(Clone)]
struct WorkerSpec {
    index: usize,
    data_dir: PathBuf,
    vars: NativeVars,
    max_body_bytes: usize,
    body_timeout: Duration,
    shutdown_timeout: Duration,
    log_requests: bool,
    crons: Vec<(String, CronSpec)>,
    queue: QueueConfig,
    consume_queue: bool,
    queue_notify: Arc<Notify>,
    clock: NativeClock,
    connection: Option<SharedConnection>,
}

/// Binds, prepares the database (migrations included) and starts the workers.
/// Returns once every worker is accepting.
pub fn start(config: ServeConfig) -> Result<ServerHandle, ServerError> {
    let vars = match config.vars {
        Some(v) => v,
        None => {
            NativeVars::from_env(config.dev_vars_path.as_deref()).map_err(ServerError::Setup)?
        }
    };
    let crons = parse_jobs(&config.scheduled_jobs).map_err(ServerError::Setup)?;
    {
        let mut conn = db::open(&config.data_dir).map_err(ServerError::Setup)?;
        let applied = db::ensure_schema(&mut conn).map_err(ServerError::Setup)?;
        for name in applied {
            eprintln!("sf-server: applied migration {name}");
        }
    }
    let threads = config.threads.max(1);
    // SO_REUSEPORT would let a second `sf serve` of the same user silently
    // share a busy port; a plain bind first turns that into "address in use".
    if config.addr.port() != 0 {
        probe_free(config.addr)?;
    }
    // The first bind resolves port 0; the others join the same port.
    let first = bind(config.addr)?;
    let local_addr = first.local_addr().map_err(|e| ServerError::Bind {
        addr: config.addr,
        message: e.to_string(),
    })?;
    let shared = if config.connection_per_thread {
        None
    } else {
        Some(
            SharedConnection::open(&config.data_dir, true)
                .map_err(|e| ServerError::Setup(e.to_string()))?,
        )
    };
    let mut listeners = vec![first];
    for _ in 1..threads {
        #[cfg(unix)]
        listeners.push(bind(local_addr)?);
        #[cfg(not(unix))]
        listeners.push(listeners[0].try_clone().map_err(|e| ServerError::Bind {
            addr: local_addr,
            message: e.to_string(),
        })?);
    }

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let queue_notify = Arc::new(Notify::new());
    let mut handles = Vec::with_capacity(threads);
    for (index, listener) in listeners.into_iter().enumerate() {
        let spec = WorkerSpec {
            index,
            data_dir: config.data_dir.clone(),
            vars: vars.clone(),
            max_body_bytes: config.max_body_bytes,
            body_timeout: config.body_timeout,
            shutdown_timeout: config.shutdown_timeout,
            log_requests: config.log_requests,
            crons: if index == 0 {
                crons.clone()
            } else {
                Vec::new()
            },
            queue: config.queue.clone(),
            consume_queue: config.consume_queue,
            queue_notify: queue_notify.clone(),
            clock: config.clock.clone(),
            connection: shared.clone(),
        };
        let rx = shutdown_rx.clone();
        let ready = ready_tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("sf-worker-{index}"))
            .spawn(move || worker_thread(spec, listener, rx, ready))
            .map_err(|e| ServerError::Thread(format!("cannot spawn: {e}")))?;
        handles.push(handle);
    }
    drop(ready_tx);
    let stop = Arc::new(AtomicBool::new(false));
    let checkpointer = {
        let stop = stop.clone();
        let dir = config.data_dir.clone();
        std::thread::Builder::new()
            .name("sf-checkpoint".into())
            .spawn(move || db::run_checkpointer(&dir, Duration::from_millis(200), &stop))
            .map_err(|e| ServerError::Thread(format!("cannot spawn the checkpointer: {e}")))?
    };
    let server = ServerHandle {
        local_addr,
        shutdown_tx,
        threads: handles,
        checkpointer: Some((stop, checkpointer)),
    };
    for _ in 0..threads {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(m)) => {
                let _ = server.shutdown();
                return Err(ServerError::Setup(m));
            }
            Err(_) => {
                let _ = server.shutdown();
                return Err(ServerError::Thread("a worker exited during startup".into()));
            }
        }
    }
    Ok(server)
}

fn worker_thread(
    spec: WorkerSpec,
    listener: std::net::TcpListener,
    shutdown: watch::Receiver<bool>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(format!("worker {}: runtime: {e}", spec.index)));
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, worker_main(spec, listener, shutdown, ready));
}

/// Open connections of one worker, awaited at shutdown.
#[derive(Default)]
struct ConnTracker {
    open: Cell<usize>,
    idle: Notify,
}

struct ConnGuard(Rc<ConnTracker>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let n = self.0.open.get().saturating_sub(1);
        self.0.open.set(n);
        if n == 0 {
            self.0.idle.notify_waiters();
        }
    }
}

async fn until_shutdown(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn worker_main(
    spec: WorkerSpec,
    listener: std::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let opts = HostOptions {
        queue_notify: Some(spec.queue_notify.clone()),
        clock: spec.clock.clone(),
        no_autocheckpoint: true,
        connection: spec.connection.clone(),
        ..HostOptions::default()
    };
    let host = match NativeHost::open_with(&spec.data_dir, spec.vars.clone(), opts) {
        Ok(h) => h,
        Err(e) => {
            let _ = ready.send(Err(format!("worker {}: {e}", spec.index)));
            return;
        }
    };
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(format!("worker {}: listener: {e}", spec.index)));
            return;
        }
    };
    let gateway = Gateway::new(host);
    let deferred = gateway.host().deferred.clone();
    tokio::task::spawn_local(defer_driver(deferred.clone()));
    let consumer = spec.consume_queue.then(|| {
        tokio::task::spawn_local(run_consumer(
            gateway.clone(),
            spec.queue.clone(),
            spec.queue_notify.clone(),
            shutdown.clone(),
        ))
    });
    if spec.index == 0 {
        tokio::task::spawn_local(run_scheduler(
            gateway.clone(),
            spec.crons.clone(),
            shutdown.clone(),
        ));
        tokio::task::spawn_local(purge_loop(gateway.clone(), shutdown.clone()));
    }
    let _ = ready.send(Ok(()));

    let spec = Rc::new(spec);
    let conns = Rc::new(ConnTracker::default());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    conns.open.set(conns.open.get() + 1);
                    let guard = ConnGuard(conns.clone());
                    tokio::task::spawn_local(serve_connection(
                        stream, peer.ip(), gateway.clone(), spec.clone(), shutdown.clone(), guard,
                    ));
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    eprintln!("sf-server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = until_shutdown(&mut shutdown) => break,
        }
    }
    drop(listener);

    let deadline = Instant::now() + spec.shutdown_timeout;
    let drained = tokio::time::timeout_at(deadline.into(), async {
        while conns.open.get() > 0 {
            conns.idle.notified().await;
        }
    })
    .await;
    if drained.is_err() {
        eprintln!(
            "sf-server: worker {}: {} connection(s) still open after {:?}; closing them",
            spec.index,
            conns.open.get(),
            spec.shutdown_timeout
        );
    }
    let flushed = tokio::time::timeout_at(deadline.into(), async {
        loop {
            // Let the driver start anything queued by the last requests.
            tokio::task::yield_now().await;
            if deferred.tasks.borrow().is_empty() && deferred.running.get() == 0 {
                break;
            }
            if deferred.running.get() > 0 {
                deferred.idle.notified().await;
            }
        }
    })
    .await;
    if flushed.is_err() {
        eprintln!(
            "sf-server: worker {}: deferred work still running after {:?}; abandoning it",
            spec.index, spec.shutdown_timeout
        );
    }
    if let Some(c) = consumer {
        let _ = tokio::time::timeout_at(deadline.into(), c).await;
    }
}

async fn purge_loop(gateway: Rc<Gateway<NativeHost>>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = until_shutdown(&mut shutdown) => return,
        }
        if let Err(e) = gateway.host().purge_expired() {
            eprintln!("sf-server: purging expired keys failed: {e}");
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: std::net::IpAddr,
    gateway: Rc<Gateway<NativeHost>>,
    spec: Rc<WorkerSpec>,
    mut shutdown: watch::Receiver<bool>,
    _guard: ConnGuard,
) {
    let service = service_fn(move |mut req: http::Request<Incoming>| {
        // Rate limits keyed by IP read the peer address (runtime/src/ratelimit.rs).
        req.extensions_mut()
            .insert(sf_core::http::ClientIp(peer.to_string()));
        let gateway = gateway.clone();
        let spec = spec.clone();
        async move { Ok::<_, Infallible>(handle_request(&gateway, &spec, req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = until_shutdown(&mut shutdown) => {}
    }
    // Finish the request in progress (if any), then close instead of idling.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

async fn handle_request(
    gateway: &Rc<Gateway<NativeHost>>,
    spec: &WorkerSpec,
    req: http::Request<Incoming>,
) -> http::Response<Full<Bytes>> {
    let started = Instant::now();
    let method = req.method().clone();
    // The path only: query strings can carry tokens and are never logged.
    let path = req.uri().path().to_owned();
    let res = if crate::admin_ui::is_ui_path(&path) {
        crate::admin_ui::serve(&method, &path)
    } else {
        read_and_dispatch(gateway, spec, req).await
    };
    if spec.log_requests {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        eprintln!("{}", log_line(&method, &path, res.status().as_u16(), ms));
    }
    res.map(|b| Full::new(Bytes::from(b)))
}

/// The request log line: method, path (never the query), status, duration.
/// Headers and bodies are never logged: they carry grants and secrets.
pub(crate) fn log_line(method: &http::Method, path: &str, status: u16, ms: f64) -> String {
    format!("{method} {path} {status} {ms:.2}ms")
}

async fn read_and_dispatch(
    gateway: &Rc<Gateway<NativeHost>>,
    spec: &WorkerSpec,
    req: http::Request<Incoming>,
) -> http::Response<Vec<u8>> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let expects_continue = parts
        .headers
        .get(http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    if declared.is_some_and(|n| n > spec.max_body_bytes as u64) {
        // A client that waits for `100 Continue` never sends the body: answer
        // now. One that is already sending must be read to the end (within
        // bounds), or it meets a reset instead of the answer.
        if !expects_continue && declared.is_some_and(|n| n <= DRAIN_LIMIT) {
            drain(body, spec.body_timeout).await;
        }
        return too_large();
    }
    let bytes = match read_body(body, spec.max_body_bytes, spec.body_timeout).await {
        BodyRead::Complete(b) => b,
        BodyRead::TooLarge => return too_large(),
        BodyRead::Invalid => return body_error(400, "Invalid request body"),
        BodyRead::TimedOut => return body_error(408, "Request body timeout"),
    };
    let req = http::Request::from_parts(parts, bytes.to_vec());
    // The contract answers an unexpected failure with its 500 envelope; a
    // panic in the core must not take the connection (or the thread) down.
    match std::panic::AssertUnwindSafe(gateway.handle(req))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        Err(_) => {
            eprintln!("sf-server: the gateway panicked while handling a request");
            error_response(&ApiError::unhandled())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_has_no_query_or_headers() {
        let req = http::Request::builder()
            .uri("/v1/execute?grant=v1.secret.sig")
            .header("authorization", "Bearer topsecret")
            .body(())
            .unwrap();
        let line = log_line(req.method(), req.uri().path(), 401, 1.234);
        assert_eq!(line, "GET /v1/execute 401 1.23ms");
    }
}
