//! The SDR copy allowlist from Tokyo (CONTRACT 7.3.6).

use std::time::Duration;

use serde_json::Value;

use super::ops::AllowEntry;
use sf_core::error::ApiError;
use sf_core::http::encode_uri_component;
use sf_core::policy::Var;
use sf_core::ports::{Fetch, Host, Vars};

const TOKYO_TIMEOUT: Duration = Duration::from_millis(5000);

fn invalid() -> ApiError {
    ApiError::provider(502, "tokyo", "Invalid sdr.allowlist.json")
}

/// `{v:1, paths:[{path, type: richtext|string, role?}]}`; `None` if the shape is wrong.
fn parse_entries(v: &Value) -> Option<Vec<AllowEntry>> {
    if v.get("v").and_then(Value::as_f64) != Some(1.0) {
        return None;
    }
    v.get("paths")?
        .as_array()?
        .iter()
        .map(|e| {
            let path = e.get("path")?.as_str()?.trim();
            let type_ = e.get("type")?.as_str()?;
            if path.is_empty() || !matches!(type_, "richtext" | "string") {
                return None;
            }
            let role = match e.get("role") {
                None | Some(Value::Null) => None,
                Some(Value::String(r)) => Some(r.clone()),
                Some(_) => return None,
            };
            Some(AllowEntry {
                path: path.to_owned(),
                type_: type_.to_owned(),
                role,
            })
        })
        .collect()
}

/// Fetches a JSON document; `None` for 404, non-2xx, network errors or non-JSON.
async fn get_json<F: Fetch>(fetch: &F, url: &str) -> Result<Option<Value>, ApiError> {
    let req = http::Request::get(url)
        .header("accept", "application/json")
        .body(Vec::new())
        .map_err(|_| {
            ApiError::provider(
                500,
                "tokyo",
                format!("Invalid {}", Var::TokyoBaseUrl.name()),
            )
        })?;
    let Ok(res) = fetch.fetch(req, TOKYO_TIMEOUT).await else {
        return Ok(None);
    };
    if !res.status().is_success() {
        return Ok(None);
    }
    Ok(serde_json::from_slice(res.body()).ok())
}

/// Environments where the localisation allowlist may stand in for a missing
/// SDR allowlist (never production).
fn dev_like(environment: &str) -> bool {
    let e = environment.trim().to_ascii_lowercase();
    matches!(
        e.as_str(),
        "" | "local" | "cloud-dev" | "dev" | "development"
    )
}

/// The allowlist for `widget_type`; empty when there is none.
pub async fn load<H: Host>(
    host: &H,
    widget_type: &str,
    environment: &str,
) -> Result<Vec<AllowEntry>, ApiError> {
    let base = host
        .vars()
        .var(Var::TokyoBaseUrl.name())
        .map(|b| b.trim().trim_end_matches('/').to_owned())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            ApiError::provider(
                500,
                "tokyo",
                format!("Missing {}", Var::TokyoBaseUrl.name()),
            )
        })?;
    let dir = format!("{base}/widgets/{}", encode_uri_component(widget_type));
    if let Some(doc) = get_json(host.fetch(), &format!("{dir}/sdr.allowlist.json")).await? {
        return parse_entries(&doc).ok_or_else(invalid);
    }
    if !dev_like(environment) {
        return Ok(Vec::new());
    }
    let Some(doc) = get_json(host.fetch(), &format!("{dir}/localization.json")).await? else {
        return Ok(Vec::new());
    };
    const NOT_COPY: [&str; 5] = ["branding", "legal", "disclaimer", "powered", "copyright"];
    Ok(parse_entries(&doc)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            let p = e.path.to_ascii_lowercase();
            !NOT_COPY.iter().any(|w| p.contains(w))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode_uri_component("faq"), "faq");
        assert_eq!(encode_uri_component("a b/c?é"), "a%20b%2Fc%3F%C3%A9");
    }

    #[test]
    fn entry_shapes() {
        let ok = json!({"v":1,"paths":[{"path":" title ","type":"string"},{"path":"a.*.b","type":"richtext","role":"answer"}]});
        assert_eq!(parse_entries(&ok).map(|e| e.len()), Some(2));
        assert_eq!(parse_entries(&json!({"v":2,"paths":[]})), None);
        assert_eq!(
            parse_entries(&json!({"v":1,"paths":[{"path":"a","type":"number"}]})),
            None
        );
    }
}
