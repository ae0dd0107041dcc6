//! The business-profile write to Paris (CONTRACT 10.5), with the internal
//! service header the original left out (so Paris refused every write).

use std::time::Duration;

use serde_json::Value;
use sf_core::http::encode_uri_component;
use sf_core::ports::{Fetch, FetchError, Host, Vars};
use sf_core::Isolate;

/// Header Paris' internal-trust check requires with the bearer.
pub const INTERNAL_SERVICE_HEADER: (&str, &str) = ("x-ck-internal-service", "sanfrancisco");
const PARIS_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest Paris error text kept in `persistError`.
const MAX_ERROR_CHARS: usize = 500;

pub fn business_profile_path(workspace_id: &str) -> String {
    format!(
        "/api/workspaces/{}/business-profile",
        encode_uri_component(workspace_id)
    )
}

fn var<H: Host>(iso: &Isolate<H>, name: &str) -> Result<String, String> {
    iso.host()
        .vars()
        .setting(name)
        .ok_or_else(|| format!("Missing {name}"))
}

/// POSTs `body` as the workspace's business profile; `Err` is the
/// `persistError` text (Paris' answer, or why it was not reached).
pub async fn post_business_profile<H: Host>(
    iso: &Isolate<H>,
    workspace_id: &str,
    body: &Value,
) -> Result<(), String> {
    let base = var(iso, "PARIS_BASE_URL")?;
    let token = var(iso, "PARIS_DEV_JWT")?;
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        business_profile_path(workspace_id)
    );
    let req = http::Request::post(&url)
        .header("authorization", format!("Bearer {token}"))
        .header(INTERNAL_SERVICE_HEADER.0, INTERNAL_SERVICE_HEADER.1)
        .header("content-type", "application/json")
        .body(body.to_string().into_bytes())
        .map_err(|_| "Invalid PARIS_BASE_URL".to_owned())?;
    match iso.host().fetch().fetch(req, PARIS_TIMEOUT).await {
        Ok(res) if res.status().is_success() => Ok(()),
        Ok(res) => {
            let text = String::from_utf8_lossy(res.body());
            let text = crate::cut_chars(text.trim(), MAX_ERROR_CHARS);
            Err(if text.is_empty() {
                format!("Paris answered HTTP {}", res.status().as_u16())
            } else {
                text
            })
        }
        Err(FetchError::Timeout) => Err("Paris did not answer in time".into()),
        Err(FetchError::Network(m)) | Err(FetchError::Blocked(m)) => {
            Err(format!("Paris unreachable: {m}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded() {
        assert_eq!(
            business_profile_path("ws 1/a"),
            "/api/workspaces/ws%201%2Fa/business-profile"
        );
    }
}
