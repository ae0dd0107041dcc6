//! The gateway: one value per isolate (Worker) or per thread (native host).
//!
//! Hosts build a [`Gateway`] once over their [`Host`] and call [`Gateway::handle`]
//! for every request, [`Gateway::consume`] for every queue message and
//! [`Gateway::scheduled`] for every cron tick.

use std::cell::Cell;
use std::rc::Rc;

use crate::error::ApiError;
use crate::ports::{Clock, Host, Vars};

/// Per-isolate state shared by every request on this isolate/thread.
pub struct Gateway<H: Host> {
    host: H,
    /// In-flight requests on concurrency-capped routes (CONTRACT.md section 0.6).
    pub(crate) inflight: Cell<u32>,
}

/// Why a queue message was not processed. `Retry` asks the host to redeliver it
/// later; `Reject` sends it to the dead-letter store at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeError {
    Retry(String),
    Reject(String),
}

impl<H: Host> Gateway<H> {
    pub fn new(host: H) -> Rc<Self> {
        Rc::new(Self {
            host,
            inflight: Cell::new(0),
        })
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    /// Handles one HTTP request. Never panics on input; every answer is JSON
    /// with `cache-control: no-store`.
    pub async fn handle(self: &Rc<Self>, req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let path = req.uri().path();
        if (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
            && path == "/healthz"
        {
            let env = self
                .host
                .vars()
                .var("ENVIRONMENT")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".to_owned());
            let body = serde_json::json!({
                "ok": true, "service": "sanfrancisco", "env": env, "ts": self.host.clock().now_ms()
            });
            return json_response(200, &body);
        }
        error_response(&ApiError::not_found())
    }

    /// Processes one queue message (events, `sf.command`, l10n jobs).
    pub async fn consume(
        self: &Rc<Self>,
        _queue: &str,
        _body: serde_json::Value,
    ) -> Result<(), ConsumeError> {
        Err(ConsumeError::Reject("no consumer yet".to_owned()))
    }

    /// Runs the jobs scheduled for `cron`.
    pub async fn scheduled(self: &Rc<Self>, _cron: &str) {}
}

/// A JSON response with the headers every route carries.
pub fn json_response(status: u16, body: &serde_json::Value) -> http::Response<Vec<u8>> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = http::Response::new(bytes);
    *res.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

pub fn error_response(err: &ApiError) -> http::Response<Vec<u8>> {
    json_response(err.status, &err.to_json())
}
