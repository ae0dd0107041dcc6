//! The command payloads (CONTRACT 2.4, 2.6, 4.6), validated in the
//! contract's order with its messages. The grant token is kept apart from
//! the input so it can never reach a job record.

use serde_json::{json, Map, Value};
use sf_core::error::ApiError;

use crate::record::Kind;

/// Overrides asked for when the caller names none that are valid.
pub const DEFAULT_OVERRIDES: [&str; 4] = ["heroTitle", "heroSubtitle", "sectionTitle", "ctaText"];
/// Override keys kept at most.
pub const MAX_OVERRIDES: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewInput {
    pub url: String,
    pub locale: Option<String>,
    pub template_context: Option<Map<String, Value>>,
    pub allowed_overrides: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnboardingInput {
    pub workspace_id: String,
    pub url: String,
    pub locale: Option<String>,
    pub website_depth: Option<f64>,
    pub gbp_place_id: Option<String>,
    pub facebook_page_id: Option<String>,
    pub instagram_handle: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobInput {
    Preview(PreviewInput),
    Onboarding(OnboardingInput),
}

/// A payload that passed validation (the grant is not verified yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// `None`: the caller sent none; the job gets a random id.
    pub job_id: Option<String>,
    pub grant_token: String,
    pub input: JobInput,
}

fn trimmed<'a>(p: &'a Map<String, Value>, k: &str) -> &'a str {
    p.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
}

fn opt_string(p: &Map<String, Value>, k: &str) -> Option<String> {
    p.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn check_agent(p: &Map<String, Value>, kind: Kind) -> Result<(), ApiError> {
    let ok = match p.get("agentId") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty() || s.trim() == kind.agent().name(),
        Some(_) => false,
    };
    ok.then_some(())
        .ok_or_else(|| ApiError::bad_request("Unsupported agentId"))
}

fn override_key_ok(k: &str) -> bool {
    (1..=40).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `allowedOverrides`: valid keys, trimmed, de-duplicated, at most 12; none
/// valid means the defaults.
pub fn allowed_overrides(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in v.and_then(Value::as_array).into_iter().flatten() {
        let Some(k) = k.as_str().map(str::trim) else {
            continue;
        };
        if override_key_ok(k) && !out.iter().any(|o| o == k) && out.len() < MAX_OVERRIDES {
            out.push(k.to_owned());
        }
    }
    if out.is_empty() {
        DEFAULT_OVERRIDES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        out
    }
}

fn job_id(p: &Map<String, Value>) -> Option<String> {
    Some(trimmed(p, "jobId").to_owned()).filter(|s| !s.is_empty())
}

/// The preview payload: `url`, `agentId`, `grant`, in that order.
pub fn parse_preview(p: &Map<String, Value>) -> Result<Accepted, ApiError> {
    let url = trimmed(p, "url");
    if url.is_empty() {
        return Err(ApiError::bad_request("Missing url"));
    }
    check_agent(p, Kind::Preview)?;
    let grant = trimmed(p, "grant");
    if grant.is_empty() {
        return Err(ApiError::bad_request("Missing grant"));
    }
    let locale = Some(trimmed(p, "locale").to_owned()).filter(|s| !s.is_empty());
    Ok(Accepted {
        job_id: job_id(p),
        grant_token: grant.to_owned(),
        input: JobInput::Preview(PreviewInput {
            url: url.to_owned(),
            locale,
            template_context: p.get("templateContext").and_then(Value::as_object).cloned(),
            allowed_overrides: allowed_overrides(p.get("allowedOverrides")),
        }),
    })
}

/// The onboarding payload: `grant`, `agentId`, `workspaceId` + `url`.
pub fn parse_onboarding(p: &Map<String, Value>) -> Result<Accepted, ApiError> {
    let grant = trimmed(p, "grant");
    if grant.is_empty() {
        return Err(ApiError::bad_request("Missing grant"));
    }
    check_agent(p, Kind::Onboarding)?;
    let (ws, url) = (trimmed(p, "workspaceId"), trimmed(p, "url"));
    if ws.is_empty() || url.is_empty() {
        return Err(ApiError::bad_request("Missing workspaceId or url"));
    }
    Ok(Accepted {
        job_id: job_id(p),
        grant_token: grant.to_owned(),
        input: JobInput::Onboarding(OnboardingInput {
            workspace_id: ws.to_owned(),
            url: url.to_owned(),
            locale: opt_string(p, "locale"),
            website_depth: p.get("websiteDepth").and_then(Value::as_f64),
            gbp_place_id: opt_string(p, "gbpPlaceId"),
            facebook_page_id: opt_string(p, "facebookPageId"),
            instagram_handle: opt_string(p, "instagramHandle"),
        }),
    })
}

impl JobInput {
    /// What the job record keeps as `input` (never the grant).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), v);
            }
        };
        match self {
            JobInput::Preview(i) => {
                put("agentId", Some(json!(Kind::Preview.agent().name())));
                put("url", Some(json!(i.url)));
                put("locale", i.locale.clone().map(Value::from));
                put(
                    "templateContext",
                    i.template_context.clone().map(Value::Object),
                );
                put("allowedOverrides", Some(json!(i.allowed_overrides)));
            }
            JobInput::Onboarding(i) => {
                put("agentId", Some(json!(Kind::Onboarding.agent().name())));
                put("workspaceId", Some(json!(i.workspace_id)));
                put("url", Some(json!(i.url)));
                put("locale", i.locale.clone().map(Value::from));
                put("websiteDepth", i.website_depth.map(|d| json!(d)));
                put("gbpPlaceId", i.gbp_place_id.clone().map(Value::from));
                put(
                    "facebookPageId",
                    i.facebook_page_id.clone().map(Value::from),
                );
                put(
                    "instagramHandle",
                    i.instagram_handle.clone().map(Value::from),
                );
            }
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn msg(r: Result<Accepted, ApiError>) -> String {
        r.map(|_| String::new()).unwrap_or_else(|e| e.message)
    }

    #[test]
    fn preview_errors_in_order() {
        assert_eq!(
            msg(parse_preview(&map(json!({"url": "  "})))),
            "Missing url"
        );
        assert_eq!(
            msg(parse_preview(&map(json!({"url": "a.com", "agentId": "x"})))),
            "Unsupported agentId"
        );
        assert_eq!(
            msg(parse_preview(&map(json!({"url": "a.com"})))),
            "Missing grant"
        );
        let ok = parse_preview(&map(
            json!({"url": " a.com ", "grant": "g", "jobId": " j1 ",
            "allowedOverrides": [" heroTitle ", "heroTitle", "bad key!", 5, "x".repeat(41)]}),
        ))
        .expect("valid");
        assert_eq!(ok.job_id.as_deref(), Some("j1"));
        let JobInput::Preview(p) = &ok.input else {
            panic!("preview")
        };
        assert_eq!(p.url, "a.com");
        assert_eq!(p.allowed_overrides, vec!["heroTitle".to_owned()]);
        assert!(!ok.input.to_json().to_string().contains("\"grant\""));
    }

    #[test]
    fn overrides_default_and_cap() {
        assert_eq!(
            allowed_overrides(Some(&json!(["!!"]))),
            DEFAULT_OVERRIDES.to_vec()
        );
        let many: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        assert_eq!(allowed_overrides(Some(&json!(many))).len(), MAX_OVERRIDES);
    }

    #[test]
    fn onboarding_errors_in_order() {
        assert_eq!(
            msg(parse_onboarding(&map(json!({"url": "a.com"})))),
            "Missing grant"
        );
        assert_eq!(
            msg(parse_onboarding(&map(
                json!({"grant": "g", "agentId": "agent.personalization.preview.v1"})
            ))),
            "Unsupported agentId"
        );
        assert_eq!(
            msg(parse_onboarding(&map(
                json!({"grant": "g", "url": "a.com"})
            ))),
            "Missing workspaceId or url"
        );
        assert!(parse_onboarding(&map(
            json!({"grant": "g", "url": "a.com", "workspaceId": "ws"})
        ))
        .is_ok());
    }
}
