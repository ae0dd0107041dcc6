//! The gateway: one value per isolate (Worker) or per thread (native host).
//!
//! Hosts build a [`Gateway`] once over their [`Host`] and call [`Gateway::handle`]
//! for every request, [`Gateway::consume`] for every queue message and
//! [`Gateway::scheduled`] for every cron tick.
//!
//! Dispatch is table-driven: the concurrency cap, the environment gate and the
//! auth scheme of a route come from the compiled policy (`policy::ROUTES`), in
//! the order the contract fixes (cap → environment → auth → handler).

use std::cell::Cell;
use std::rc::Rc;

use sf_core::error::{ApiError, ConsumeError, ErrorCode};
use sf_core::http::{error_response, RouteCtx, MAX_BODY_BYTES};
use sf_core::policy::{self, Auth, Environment};
use sf_core::ports::{Clock, Host, Vars};
use sf_core::{secret, Isolate};

/// In-flight requests allowed per isolate on capped routes (CONTRACT.md section 0.6).
pub const CONCURRENCY_CAP: u32 = 8;

/// Overrides [`CONCURRENCY_CAP`]. On Cloudflare a busy isolate is one of many;
/// a native host has one "isolate" per core, so a self-hosted gateway that
/// serves more concurrent callers raises this instead of shedding them.
pub const CONCURRENCY_CAP_VAR: &str = "SF_CONCURRENCY_CAP";

/// Per-isolate state shared by every request on this isolate/thread.
pub struct Gateway<H: Host> {
    /// The host's ports and the environment facts every feature reads.
    iso: Rc<Isolate<H>>,
    /// In-flight requests on concurrency-capped routes.
    inflight: Cell<u32>,
    /// [`CONCURRENCY_CAP`] or its override, read once.
    cap: u32,
}

/// Releases a concurrency slot when the request ends, however it ends.
struct InflightLease<'a>(&'a Cell<u32>);

impl Drop for InflightLease<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl<H: Host> Gateway<H> {
    pub fn new(host: H) -> Rc<Self> {
        let cap = host
            .vars()
            .var(CONCURRENCY_CAP_VAR)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|c| *c > 0)
            .unwrap_or(CONCURRENCY_CAP);
        Rc::new(Self {
            iso: Rc::new(Isolate::new(host)),
            inflight: Cell::new(0),
            cap,
        })
    }

    /// What features receive: the ports and the environment facts.
    pub fn isolate(&self) -> &Rc<Isolate<H>> {
        &self.iso
    }

    pub fn host(&self) -> &H {
        self.iso.host()
    }

    /// `ENVIRONMENT` as configured (trimmed), if any.
    pub fn environment_name(&self) -> Option<&str> {
        self.iso.environment_name()
    }

    /// `ENVIRONMENT` when it names one of the policy's environments.
    pub fn environment(&self) -> Option<Environment> {
        self.iso.environment()
    }

    /// In-flight requests on capped routes right now (for tests and metrics).
    pub fn inflight(&self) -> u32 {
        self.inflight.get()
    }

    /// Handles one HTTP request. Never panics on input; every answer is JSON
    /// with `cache-control: no-store`.
    pub async fn handle(self: &Rc<Self>, req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        match self.route(req).await {
            Ok(res) => res,
            Err(err) => error_response(&err),
        }
    }

    async fn route(
        self: &Rc<Self>,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, ApiError> {
        let started_ms = self.host().clock().now_ms();
        let (route, param) = match policy::resolve(req.method().as_str(), req.uri().path()) {
            Some((route, param)) => (route, param.map(str::to_owned)),
            None => return Err(ApiError::not_found()),
        };
        let spec = route.spec();

        let _lease = if spec.concurrency_capped {
            if self.inflight.get() >= self.cap {
                return Err(ApiError::budget("Service concurrency limit reached"));
            }
            self.inflight.set(self.inflight.get() + 1);
            Some(InflightLease(&self.inflight))
        } else {
            None
        };

        if let Some(allowed) = spec.environments {
            let here = self.environment();
            if !here.is_some_and(|e| allowed.contains(&e)) {
                return Err(ApiError::not_found());
            }
        }

        if req.body().len() > MAX_BODY_BYTES {
            return Err(ApiError::new(
                413,
                ErrorCode::BadRequest,
                "Request body too large",
            ));
        }

        match spec.auth {
            // Grants travel in the body and the Paris signature covers the raw
            // body: both are checked by the handler that reads the body.
            Auth::None | Auth::Grant | Auth::ParisSignature => {}
            Auth::Bearer => self.check_bearer(&req)?,
        }

        let cx = RouteCtx {
            req,
            param,
            started_ms,
        };
        policy::dispatch_route(&crate::routes::Handlers(self), route, cx).await
    }

    /// CONTRACT.md section 2.0, with a constant-time token comparison.
    fn check_bearer(&self, req: &http::Request<Vec<u8>>) -> Result<(), ApiError> {
        let expected = self
            .host()
            .vars()
            .var("PARIS_DEV_JWT")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        if expected.is_empty() {
            return Err(ApiError::missing_var("PARIS_DEV_JWT"));
        }
        let header = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(token) = secret::bearer_token(header) else {
            return Err(ApiError::denied(401, "Missing auth token"));
        };
        if !secret::ct_eq(token.trim().as_bytes(), expected.as_bytes()) {
            return Err(ApiError::denied(403, "Invalid auth token"));
        }
        Ok(())
    }

    /// Processes one queue message (events, `sf.command`, l10n jobs).
    pub async fn consume(
        self: &Rc<Self>,
        queue: &str,
        body: serde_json::Value,
    ) -> Result<(), ConsumeError> {
        crate::consumer::consume(self, queue, body).await
    }

    /// Runs the jobs scheduled for `cron` (policy/jobs.yaml `schedule`).
    pub async fn scheduled(self: &Rc<Self>, cron: &str) {
        crate::jobs::scheduled(self, cron).await
    }

    /// Runs one job now, whatever the schedule (operators: `sf`, the hosts).
    /// A name comes in through `policy::Job::from_name`.
    pub async fn run_job(self: &Rc<Self>, job: sf_core::policy::Job) -> crate::jobs::JobResult {
        crate::jobs::run(self, job).await
    }
}
