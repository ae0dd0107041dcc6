//! Cloudflare AI Gateway as a provider path (issue 13). A target whose
//! `base_url` is a gateway route (`{base}/v1/{account}/{gateway}/{route}`)
//! carries an [`AiGateway`]: its requests gain `cf-aig-authorization: Bearer
//! <token>` (when a token is set) and `cf-aig-metadata`, a JSON object of at
//! most [`MAX_METADATA`] scalar entries (the gateway keeps only five and takes
//! strings, numbers and booleans).

use serde_json::Value;

/// Entries the gateway keeps in `cf-aig-metadata`.
pub const MAX_METADATA: usize = 5;

/// Where AI Gateway is when `CF_AI_GATEWAY_BASE_URL` is unset.
pub const DEFAULT_BASE_URL: &str = "https://gateway.ai.cloudflare.com";

/// The gateway's headers for one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AiGateway {
    /// Sent as `cf-aig-authorization: Bearer {token}`.
    pub token: Option<String>,
    /// `cf-aig-metadata` entries, in order; scalars only.
    metadata: Vec<(String, Value)>,
}

impl AiGateway {
    pub fn new(token: Option<String>) -> Self {
        Self {
            token,
            metadata: Vec::new(),
        }
    }

    /// Adds (or replaces) one metadata entry. Refused (false) when the value
    /// is not a string, number or boolean, or when five entries are set.
    pub fn set_metadata(&mut self, key: &str, value: Value) -> bool {
        if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            return false;
        }
        if let Some(e) = self.metadata.iter_mut().find(|(k, _)| k == key) {
            e.1 = value;
            return true;
        }
        if self.metadata.len() >= MAX_METADATA {
            return false;
        }
        self.metadata.push((key.to_owned(), value));
        true
    }

    /// The `cf-aig-metadata` value: a JSON object in insertion order, or
    /// `None` without entries.
    pub fn metadata_header(&self) -> Option<String> {
        if self.metadata.is_empty() {
            return None;
        }
        let body: Vec<String> = self
            .metadata
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
            .collect();
        Some(format!("{{{}}}", body.join(",")))
    }

    /// Adds the gateway's headers to a built request.
    pub fn apply(
        &self,
        req: &mut http::Request<Vec<u8>>,
    ) -> Result<(), http::header::InvalidHeaderValue> {
        let h = req.headers_mut();
        if let Some(t) = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            h.insert(
                "cf-aig-authorization",
                http::HeaderValue::from_str(&format!("Bearer {t}"))?,
            );
        }
        if let Some(m) = self.metadata_header() {
            h.insert("cf-aig-metadata", http::HeaderValue::from_str(&m)?);
        }
        Ok(())
    }
}

/// `{base}/v1/{account}/{gateway}/{route}`, the ids percent-encoded.
pub fn route_url(base: &str, account: &str, gateway: &str, route: &str) -> String {
    use super::bedrock::encode_uri_component as enc;
    format!(
        "{}/v1/{}/{}/{route}",
        base.trim().trim_end_matches('/'),
        enc(account.trim()),
        enc(gateway.trim())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_is_an_ordered_object_of_at_most_five_scalars() {
        let mut g = AiGateway::new(Some("t".into()));
        assert_eq!(g.metadata_header(), None);
        assert!(g.set_metadata("tenant", json!("t-1")));
        assert!(g.set_metadata("tier", json!("premium")));
        assert!(!g.set_metadata("nested", json!({"a": 1})));
        assert!(!g.set_metadata("list", json!([1])));
        assert!(g.set_metadata("n", json!(3)));
        assert!(g.set_metadata("b", json!(true)));
        assert!(g.set_metadata("e", json!("x\"y")));
        assert!(!g.set_metadata("sixth", json!("no")));
        assert!(
            g.set_metadata("tier", json!("free")),
            "replacing is not adding"
        );
        assert_eq!(
            g.metadata_header().as_deref(),
            Some(r#"{"tenant":"t-1","tier":"free","n":3,"b":true,"e":"x\"y"}"#)
        );
    }

    #[test]
    fn route_url_encodes_the_ids() {
        assert_eq!(
            route_url(
                "https://gateway.ai.cloudflare.com/",
                "acc",
                "my gw",
                "openai"
            ),
            "https://gateway.ai.cloudflare.com/v1/acc/my%20gw/openai"
        );
    }
}
