//! Dispatch: what the hosts call on a [`Gateway`]. Requests are routed by the
//! compiled policy (`policy::resolve`), then checked in the order the contract
//! fixes (concurrency cap → environment gate → rate limit → body size → auth) before the
//! route's handler runs; queue messages and cron ticks go to the consumer.

use std::rc::Rc;

use sf_core::error::{ApiError, ConsumeError, ErrorCode};
use sf_core::http::{error_response, RouteCtx, MAX_BODY_BYTES};
use sf_core::policy::{self, Auth, Var};
use sf_core::ports::{Clock, Host, Vars};
use sf_core::secret;

use crate::gateway::Gateway;

/// The bearer token of the `admin` auth scheme.
pub const ADMIN_TOKEN_VAR: &str = Var::SfAdminToken.name();

impl<H: Host> Gateway<H> {
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
            let lease = self.enter_capped();
            if lease.is_none() {
                return Err(ApiError::budget("Service concurrency limit reached"));
            }
            lease
        } else {
            None
        };

        if let Some(allowed) = spec.environments {
            let here = self.environment();
            if !here.is_some_and(|e| allowed.contains(&e)) {
                return Err(ApiError::not_found());
            }
        }

        if let Some(limited) = crate::ratelimit::check(self.host(), route, &req).await {
            return Ok(limited);
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
            // Approvals callers' tokens: the handler learns which caller it is.
            // Tenant keys: the handler looks the key up (runtime/tenants).
            Auth::None | Auth::Grant | Auth::ParisSignature | Auth::Caller | Auth::Tenant => {}
            Auth::Bearer => self.check_bearer(&req, Var::ParisDevJwt.name())?,
            // The bearer token or the admin UI's session cookie (+ CSRF header).
            Auth::Admin => {
                crate::admin_session::check_admin(self.host(), &req)?;
            }
        }

        let cx = RouteCtx {
            req,
            param,
            started_ms,
        };
        policy::dispatch_route(&crate::routes::Handlers(self), route, cx).await
    }

    /// CONTRACT.md section 2.0 (`var` = `PARIS_DEV_JWT`; the admin routes go
    /// through `admin_session::check_admin`), with a constant-time token comparison.
    fn check_bearer(&self, req: &http::Request<Vec<u8>>, var: &str) -> Result<(), ApiError> {
        let expected = self
            .host()
            .vars()
            .var(var)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        if expected.is_empty() {
            return Err(ApiError::missing_var(var));
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
    /// Answers the job's one-line summary.
    pub async fn run_job(self: &Rc<Self>, job: sf_core::policy::Job) -> Result<String, String> {
        crate::jobs::run(self, job).await.map(|d| d.summary)
    }

    /// Runs one job now and answers its report (`POST /admin/v1/jobs/{job}/run`).
    pub async fn run_job_report(
        self: &Rc<Self>,
        job: sf_core::policy::Job,
    ) -> crate::jobs::JobResult {
        crate::jobs::run(self, job).await
    }
}
