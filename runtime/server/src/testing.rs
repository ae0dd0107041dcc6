//! Helpers for integration tests, here and in other crates: a throwaway data
//! directory and a server on an ephemeral 127.0.0.1 port.
//!
//! ```no_run
//! let srv = sf_server::testing::TestServer::start([("ENVIRONMENT", "local")]).unwrap();
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

/// A running server over a temporary data directory. Dropping it shuts the
/// server down (gracefully) and removes the directory.
pub struct TestServer {
    handle: Option<ServerHandle>,
    addr: SocketAddr,
    base_url: String,
    dir: TempDir,
}

impl TestServer {
    /// Two worker threads, request logging off, exactly `vars` as the
    /// environment (the process environment is not read).
    pub fn start<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ServerError> {
        Self::start_with(vars, |_| {})
    }

    /// Like [`TestServer::start`], with a chance to adjust the config
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

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.shutdown();
        }
    }
}
