//! Loading an instance from Paris and a widget allowlist from Tokyo (with
//! its KV cache): shared by `POST /v1/l10n/plan` and the job flow.

use serde_json::Value;

use crate::allowlist::{
    allowlist_cache_key, cached_allowlist_value, parse_cached_allowlist, parse_localization_file,
    AllowlistEntry, ALLOWLIST_CACHE_TTL_S,
};
use crate::error::{IoFailure, L10nError};
use crate::io::{L10nSource, Reply};

/// What we use of a Paris instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// `widgetType` when a non-empty string.
    pub widget_type: Option<String>,
    pub config: Value,
    /// `updatedAt` when a string.
    pub updated_at: Option<String>,
}

/// An outbound failure as an error: a missing setting is ours (500); a
/// network failure is blamed on the service called (502). (The original let
/// the latter escape as `500 "Unhandled error"` on the plan route.)
pub(crate) fn failure(service: &str, f: IoFailure) -> L10nError {
    match f {
        IoFailure::Config(m) => L10nError::internal(m),
        other => L10nError::provider(service, other.message()),
    }
}

fn status_error(service: &str, what: &str, reply: &Reply) -> L10nError {
    let text = format!("{what} ({}) {}", reply.status, reply.body);
    L10nError::provider(service, crate::js::js_trim(&text))
}

/// A 2xx whose body is an HTML page (a login wall, a proxy error page, a base
/// URL pointing at a website) is reported as such instead of failing as
/// "invalid JSON", so the operator knows which setting to look at.
pub(crate) fn html_error(service: &str, var: &str, reply: &Reply) -> Option<L10nError> {
    let head = reply.body.trim_start();
    let html = head.starts_with('<')
        && head
            .get(..64.min(head.len()))
            .is_some_and(|h| h.to_ascii_lowercase().contains("html") || h.starts_with("<!"));
    html.then(|| {
        L10nError::provider(
            service,
            format!(
                "{service} answered an HTML page ({}) instead of JSON; check {var}",
                reply.status
            ),
        )
    })
}

/// JavaScript truthiness, for the original's `!body.config`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0 && !x.is_nan()),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// GETs and checks an instance.
pub async fn load_instance<S: L10nSource>(
    io: &S,
    workspace_id: &str,
    public_id: &str,
) -> Result<Instance, L10nError> {
    let reply = io
        .get_instance(workspace_id, public_id)
        .await
        .map_err(|f| failure("paris", f))?;
    if !reply.ok() {
        return Err(status_error("paris", "Failed to load instance", &reply));
    }
    if let Some(e) = html_error("paris", "PARIS_BASE_URL", &reply) {
        return Err(e);
    }
    let invalid = || L10nError::provider("paris", "Invalid instance response");
    let body: Value = serde_json::from_str(&reply.body).map_err(|_| invalid())?;
    let config = match body.get("config") {
        Some(c) if body.is_object() && truthy(c) => c.clone(),
        _ => return Err(invalid()),
    };
    Ok(Instance {
        widget_type: body
            .get("widgetType")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        config,
        updated_at: body
            .get("updatedAt")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// The allowlist of `widget_type`: the KV copy if there is a valid one, else
/// Tokyo's file (then cached for an hour). KV failures only cost a cache
/// miss or a lost cache write; they do not fail the caller.
pub async fn load_allowlist<S: L10nSource>(
    io: &S,
    widget_type: &str,
) -> Result<Vec<AllowlistEntry>, L10nError> {
    let key = allowlist_cache_key(widget_type);
    if let Ok(Some(text)) = io.kv_get(&key).await {
        if let Some(entries) = parse_cached_allowlist(&text) {
            return Ok(entries);
        }
    }
    let reply = io
        .get_localization(widget_type)
        .await
        .map_err(|f| failure("tokyo", f))?;
    if !reply.ok() {
        return Err(status_error("tokyo", "Failed to load allowlist", &reply));
    }
    if let Some(e) = html_error("tokyo", "TOKYO_BASE_URL", &reply) {
        return Err(e);
    }
    let entries = parse_localization_file(&reply.body)?;
    let _ = io
        .kv_put(
            &key,
            &cached_allowlist_value(&entries),
            ALLOWLIST_CACHE_TTL_S,
        )
        .await;
    Ok(entries)
}
