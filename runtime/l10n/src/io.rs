//! What the l10n flows need from the world, as traits the composition root
//! implements over the gateway's ports (KV, R2, Fetch, the LLM layer).
//!
//! Futures are not `Send` (Workers); `async fn` in traits, static dispatch.
//! The crate builds every body, key and error message; an implementation
//! only moves bytes, so the wire facts stay here and are tested here.
#![allow(async_fn_in_trait)] // futures are intentionally !Send, see module docs

use serde_json::{json, Map, Value};

use crate::error::{IoFailure, L10nError};
pub use sf_core::http::encode_uri_component;

/// An HTTP answer: status and body text (an implementation reads the body
/// fully; it may cap its size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Header every Paris call carries besides `authorization: Bearer PARIS_DEV_JWT`.
pub const INTERNAL_SERVICE_HEADER: (&str, &str) = ("x-ck-internal-service", "sanfrancisco.l10n");

/// Paris path (append to `PARIS_BASE_URL`) of an instance; GET with `cache-control: no-store`.
pub fn paris_instance_path(workspace_id: &str, public_id: &str) -> String {
    format!(
        "/api/workspaces/{}/instance/{}?subject=workspace",
        encode_uri_component(workspace_id),
        encode_uri_component(public_id)
    )
}

/// Paris path of a locale overlay (GET with `cache-control: no-store`; PUT with `content-type: application/json`).
pub fn paris_overlay_path(workspace_id: &str, public_id: &str, locale: &str) -> String {
    format!(
        "/api/workspaces/{}/instances/{}/layers/locale/{}?subject=workspace",
        encode_uri_component(workspace_id),
        encode_uri_component(public_id),
        encode_uri_component(locale)
    )
}

/// Paris path of the job report (POST, JSON).
pub const PARIS_REPORT_PATH: &str = "/api/l10n/jobs/report";

/// Tokyo path (append to `TOKYO_BASE_URL`) of a widget's allowlist (GET, no auth).
pub fn tokyo_localization_path(widget_type: &str) -> String {
    format!(
        "/widgets/{}/localization.json",
        encode_uri_component(widget_type)
    )
}

/// Token and latency accounting of model calls, as logged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub latency_ms: u64,
    pub cost_usd: Option<f64>,
}

impl Usage {
    /// Adds `next` to a running total (`None` = first call).
    pub fn merge(total: Option<Usage>, next: &Usage) -> Usage {
        let Some(base) = total else {
            return next.clone();
        };
        let pick = |a: &str, b: &str| {
            if a.is_empty() {
                b.to_owned()
            } else {
                a.to_owned()
            }
        };
        Usage {
            provider: pick(&base.provider, &next.provider),
            model: pick(&base.model, &next.model),
            prompt_tokens: base.prompt_tokens + next.prompt_tokens,
            completion_tokens: base.completion_tokens + next.completion_tokens,
            latency_ms: base.latency_ms + next.latency_ms,
            cost_usd: match (base.cost_usd, next.cost_usd) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
            },
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("provider".into(), json!(self.provider));
        m.insert("model".into(), json!(self.model));
        m.insert("promptTokens".into(), json!(self.prompt_tokens));
        m.insert("completionTokens".into(), json!(self.completion_tokens));
        m.insert("latencyMs".into(), json!(self.latency_ms));
        if let Some(c) = self.cost_usd {
            m.insert("costUsd".into(), json!(c));
        }
        Value::Object(m)
    }
}

/// One chat call of an instance job (CONTRACT 7.4 step 12).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCall {
    pub agent_id: String,
    pub system: String,
    pub user: String,
    pub temperature: f64,
    /// Upper bound; the implementation takes `min(this, grant budget)`.
    pub max_tokens: u32,
    /// Upper bound; the implementation takes `min(this, grant budget)`.
    pub timeout_ms: u64,
    /// Budget choice: a job is one request against its grant, however many
    /// batches and richtext fallbacks it needs. Only the job's first model
    /// call has this set; the implementation reserves one grant request for
    /// it and lets the later calls through without a new reservation (their
    /// tokens and cost still count). Paris mints these grants with
    /// `maxRequests 1`, so counting every call (the original) makes every
    /// multi-batch job fail with 429 (CONTRACT 15.10).
    pub counts_against_grant: bool,
}

/// A model's answer: the text content and its usage.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelReply {
    pub content: String,
    pub usage: Usage,
}

/// Reads instances and allowlists: enough for `POST /v1/l10n/plan`.
pub trait L10nSource {
    /// GET [`paris_instance_path`] on Paris.
    async fn get_instance(&self, workspace_id: &str, public_id: &str) -> Result<Reply, IoFailure>;
    /// GET [`tokyo_localization_path`] on Tokyo.
    async fn get_localization(&self, widget_type: &str) -> Result<Reply, IoFailure>;
    /// KV read (allowlist cache).
    async fn kv_get(&self, key: &str) -> Result<Option<String>, IoFailure>;
    /// KV write with a TTL in seconds (allowlist cache).
    async fn kv_put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), IoFailure>;
}

/// Everything an instance job does besides reading (CONTRACT 7.4). One value
/// serves one job: it holds the job's verified grant for [`L10nIo::call_model`].
pub trait L10nIo: L10nSource {
    /// GET [`paris_overlay_path`].
    async fn get_overlay(
        &self,
        workspace_id: &str,
        public_id: &str,
        locale: &str,
    ) -> Result<Reply, IoFailure>;
    /// PUT [`paris_overlay_path`] with `body` (JSON).
    async fn put_overlay(
        &self,
        workspace_id: &str,
        public_id: &str,
        locale: &str,
        body: &str,
    ) -> Result<Reply, IoFailure>;
    /// One chat completion under the job's grant (budgets, fallback, retries
    /// are the LLM layer's). Errors keep their contract status and message,
    /// e.g. `429 "Grant request budget exceeded"`.
    async fn call_model(&self, call: &ModelCall) -> Result<ModelReply, L10nError>;
    /// POST [`PARIS_REPORT_PATH`] with `body` (JSON). Failures are only logged by the flow.
    async fn post_report(&self, body: &str) -> Result<(), IoFailure>;
    /// R2 put of a job log (`application/json`).
    async fn put_log(&self, key: &str, body: &str) -> Result<(), IoFailure>;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// What `POST /v1/l10n/translate` needs (CONTRACT 7.5).
pub trait TranslateIo {
    /// POST `https://api.openai.com/v1/responses` with `authorization: Bearer
    /// OPENAI_API_KEY`, `content-type: application/json`, `body`, and a 90 s
    /// deadline ([`IoFailure::Timeout`] when it passes). A missing key is
    /// [`IoFailure::Config`]`("Missing OPENAI_API_KEY")`.
    async fn post_responses(&self, body: &str) -> Result<Reply, IoFailure>;
    /// `OPENAI_MODEL` or `None` (then `gpt-5.2`).
    fn model(&self) -> Option<String>;
    /// R2 put of the log (`application/json`).
    async fn put_log(&self, key: &str, body: &str) -> Result<(), IoFailure>;
    fn now_ms(&self) -> u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded() {
        assert_eq!(
            paris_overlay_path("ws 1", "wgt/1", "fr-fr"),
            "/api/workspaces/ws%201/instances/wgt%2F1/layers/locale/fr-fr?subject=workspace"
        );
        assert_eq!(
            paris_instance_path("w", "p"),
            "/api/workspaces/w/instance/p?subject=workspace"
        );
        assert_eq!(
            tokyo_localization_path("faq"),
            "/widgets/faq/localization.json"
        );
        assert_eq!(encode_uri_component("é!*"), "%C3%A9!*");
    }

    #[test]
    fn usage_merges() {
        let a = Usage {
            provider: "deepseek".into(),
            model: "m".into(),
            prompt_tokens: 1,
            completion_tokens: 2,
            latency_ms: 3,
            cost_usd: None,
        };
        let b = Usage {
            cost_usd: Some(0.5),
            ..a.clone()
        };
        let m = Usage::merge(Some(a.clone()), &b);
        assert_eq!(
            (m.prompt_tokens, m.latency_ms, m.cost_usd),
            (2, 6, Some(0.5))
        );
        assert_eq!(Usage::merge(None, &a), a);
        assert_eq!(
            a.to_json().to_string(),
            r#"{"provider":"deepseek","model":"m","promptTokens":1,"completionTokens":2,"latencyMs":3}"#
        );
    }
}
