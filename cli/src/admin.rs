//! The gateway's admin API as the `tenant` and `routing` commands call it:
//! `--base-url` (or `SF_BASE_URL`, or `baseUrl` in `.sf.json`, default
//! `http://127.0.0.1:3002`) and `SF_ADMIN_TOKEN`. Answers map onto the exit
//! codes: 400/404/409 are validation (1), 401/403 auth (2), an unreachable
//! gateway, a timeout, 429 and 5xx external (3).

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::Value;

use crate::config::Config;
use crate::out::Fail;

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:3002";

#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The gateway (default: `baseUrl` of .sf.json, else http://127.0.0.1:3002).
    #[arg(long, env = "SF_BASE_URL")]
    pub base_url: Option<String>,
    /// The admin token (`sf serve` prints its development one; on Cloudflare: the SF_ADMIN_TOKEN secret).
    #[arg(long = "admin-token", env = "SF_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub elapsed: Duration,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Admin {
    pub base: String,
    token: String,
    timeout: Duration,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Admin {
    pub fn new(t: &Target, cfg: &Config) -> Result<Self, Fail> {
        let base = t
            .base_url
            .clone()
            .or_else(|| cfg.str("baseUrl").map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Fail::validation(
                "BAD_BASE_URL",
                format!("--base-url `{base}` is not an http:// or https:// URL"),
                "pass the gateway's URL, e.g. --base-url http://127.0.0.1:3002",
            ));
        }
        let token = t
            .token
            .clone()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Fail::auth(
                    "NO_ADMIN_TOKEN",
                    "SF_ADMIN_TOKEN is not set",
                    "export SF_ADMIN_TOKEN=<the gateway's admin token> (a local `sf serve` prints it and keeps it in .sf/dev-secrets.env)",
                )
            })?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Fail::external(
                    "HTTP_CLIENT",
                    format!("cannot build the HTTP client: {e}"),
                    "report this",
                )
            })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Fail::external(
                    "HTTP_CLIENT",
                    format!("cannot start the HTTP runtime: {e}"),
                    "report this",
                )
            })?;
        Ok(Self {
            base,
            token,
            timeout: Duration::from_secs(t.timeout.max(1)),
            client,
            rt,
        })
    }

    /// An admin call (the admin token as bearer).
    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Fail> {
        let token = self.token.clone();
        self.send(method, path, body, &token)
    }

    /// A call with another bearer (a tenant key).
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        bearer: &str,
    ) -> Result<Answer, Fail> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .client
            .request(method.clone(), &url)
            .bearer_auth(bearer)
            .timeout(self.timeout);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let started = Instant::now();
        let res = self.rt.block_on(async {
            let r = req.send().await?;
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let bytes = r.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes))
        });
        let (status, headers, bytes) = res.map_err(|e| {
            let why = if e.is_timeout() {
                format!("no answer within {} s", self.timeout.as_secs())
            } else {
                "cannot connect".to_owned()
            };
            Fail::external(
                "UNREACHABLE",
                format!("{method} {url}: {why}"),
                "start the gateway (`sf serve`) or fix --base-url / SF_BASE_URL",
            )
        })?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let a = Answer {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        };
        if (200..300).contains(&status) {
            Ok(a)
        } else {
            Err(failure(&method, &url, &a))
        }
    }
}

/// The gateway's error envelope as a CLI failure with the right exit code.
fn failure(method: &reqwest::Method, url: &str, a: &Answer) -> Fail {
    let msg = a.body["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {}", a.status));
    let message = format!("{method} {url} answered {}: {msg}", a.status);
    match a.status {
        401 | 403 => Fail::auth(
            "AUTH_FAILED",
            message,
            "check SF_ADMIN_TOKEN (or the key): it must be the gateway's own",
        ),
        400 | 404 | 409 | 413 | 422 => Fail::validation(
            "REJECTED",
            message,
            "fix the arguments as the message says",
        ),
        500 if msg.contains("Missing SF_ADMIN_TOKEN") => Fail::auth(
            "ADMIN_DISABLED",
            message,
            "the gateway has no SF_ADMIN_TOKEN: set it there (`wrangler secret put SF_ADMIN_TOKEN`, or in the environment of `sf serve`)",
        ),
        _ => Fail::external(
            "GATEWAY_ERROR",
            message,
            "the gateway or its upstream failed; retry, or look at the gateway's logs",
        ),
    }
}
