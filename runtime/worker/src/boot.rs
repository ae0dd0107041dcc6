//! Boot-time validation of the required bindings (issue 13, charter phase 1):
//! a Worker deployed without `SF_D1`, `SF_KV` or `SF_R2` answers every request
//! with a 500 in the contract's error envelope naming what is missing and the
//! wrangler.toml snippet that adds it, instead of failing on first use. Pure,
//! so it is tested natively.

use sf_core::error::{ApiError, Issue};

use crate::host::{D1_BINDING, KV_BINDING, R2_BINDING};

/// The bindings no request can do without, in the order they are reported.
pub const REQUIRED: [&str; 3] = [D1_BINDING, KV_BINDING, R2_BINDING];

/// The wrangler.toml lines that declare `binding` (ids to replace with the
/// ones `wrangler d1 create` / `wrangler kv namespace create` print).
pub fn snippet(binding: &str) -> &'static str {
    match binding {
        D1_BINDING => "[[d1_databases]]\nbinding = \"SF_D1\"\ndatabase_name = \"sanfrancisco_d1\"\ndatabase_id = \"<id from `wrangler d1 create sanfrancisco_d1`>\"\nmigrations_dir = \"migrations\"",
        KV_BINDING => "[[kv_namespaces]]\nbinding = \"SF_KV\"\nid = \"<id from `wrangler kv namespace create SF_KV`>\"",
        R2_BINDING => "[[r2_buckets]]\nbinding = \"SF_R2\"\nbucket_name = \"<bucket from `wrangler r2 bucket create`>\"",
        _ => "",
    }
}

/// The error every request gets while `missing` (names from [`REQUIRED`]) is
/// not empty: one issue per binding, whose message is its snippet.
pub fn missing_bindings_error(missing: &[&str]) -> Option<ApiError> {
    if missing.is_empty() {
        return None;
    }
    let issues = missing
        .iter()
        .map(|b| Issue::new(format!("bindings.{b}"), snippet(b)))
        .collect();
    Some(
        ApiError::provider(
            500,
            "sanfrancisco",
            format!(
                "Missing Worker binding(s) {}: add them to wrangler.toml for this environment \
                 (bindings are not inherited by [env.*] sections) and deploy again; the snippets are in `issues`",
                missing.join(", ")
            ),
        )
        .with_issues(issues),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_missing_nothing_to_say() {
        assert_eq!(missing_bindings_error(&[]), None);
    }

    #[test]
    fn the_envelope_names_each_missing_binding_with_its_snippet() {
        let e = missing_bindings_error(&["SF_D1", "SF_R2"]).expect("an error");
        let res = sf_core::http::error_response(&e);
        assert_eq!(res.status(), 500);
        let v: serde_json::Value = serde_json::from_slice(res.body()).expect("JSON");
        assert_eq!(v["error"]["code"], "PROVIDER_ERROR");
        assert_eq!(v["error"]["provider"], "sanfrancisco");
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with("Missing Worker binding(s) SF_D1, SF_R2: add them to wrangler.toml"),
            "{msg}"
        );
        assert_eq!(v["error"]["issues"][0]["path"], "bindings.SF_D1");
        assert_eq!(v["error"]["issues"][1]["path"], "bindings.SF_R2");
        let d1 = v["error"]["issues"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            d1.starts_with("[[d1_databases]]\nbinding = \"SF_D1\""),
            "{d1}"
        );
        assert!(v["error"]["issues"][1]["message"]
            .as_str()
            .is_some_and(|s| s.contains("[[r2_buckets]]\nbinding = \"SF_R2\"")));
        assert_eq!(v["error"]["issues"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn every_required_binding_has_a_snippet_naming_it() {
        for b in REQUIRED {
            assert!(snippet(b).contains(&format!("binding = \"{b}\"")), "{b}");
        }
    }
}
