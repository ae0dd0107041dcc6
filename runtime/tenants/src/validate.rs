//! Validation of the admin bodies. Every error names the field and the fix.

use serde_json::Value;

use sf_core::error::{ApiError, Issue};

use sf_core::policy::{Tier, DEFAULT_TIER};
/// Longest key lifetime a caller may ask for.
pub const MAX_EXPIRY_DAYS: u64 = 3650;

fn invalid(field: &str, message: String) -> ApiError {
    ApiError::bad_request(format!("Invalid `{field}`: {message}"))
        .with_issues(vec![Issue::new(field, message)])
}

fn name_like(field: &str, v: Option<&Value>, what: &str) -> Result<String, ApiError> {
    let fix = format!(
        "{what} must be 2-63 characters of lowercase letters, digits and `-`, starting with a letter or digit (e.g. \"acme-prod\")"
    );
    let Some(Value::String(s)) = v else {
        return Err(invalid(field, format!("missing or not a string; {fix}")));
    };
    let ok = (2..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(s.clone())
    } else {
        Err(invalid(field, fix))
    }
}

pub fn slug(v: Option<&Value>) -> Result<String, ApiError> {
    name_like("slug", v, "the slug")
}

pub fn platform(v: Option<&Value>) -> Result<String, ApiError> {
    name_like("platform", v, "the platform")
}

/// A tier of policy/tenancy.yaml; omitted, its `defaultTier`.
pub fn tier(v: Option<&Value>) -> Result<String, ApiError> {
    let names: Vec<&str> = Tier::ALL.iter().map(|t| t.name()).collect();
    let fix = format!("use one of: {}", names.join(", "));
    match v {
        None => Ok(DEFAULT_TIER.name().to_owned()),
        Some(Value::String(s)) if Tier::from_name(s).is_some() => Ok(s.clone()),
        Some(Value::String(s)) => Err(invalid("tier", format!("unknown tier \"{s}\"; {fix}"))),
        _ => Err(invalid("tier", format!("missing or not a string; {fix}"))),
    }
}

/// `expiresInDays` (optional): a whole number of days, 1 to [`MAX_EXPIRY_DAYS`].
pub fn expires_in_days(v: Option<&Value>) -> Result<Option<u64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(n) => match n.as_u64() {
            Some(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Ok(Some(d)),
            _ => Err(invalid(
                "expiresInDays",
                format!("must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or omitted for a key that does not expire"),
            )),
        },
    }
}

/// Only `allowed` keys in an object body.
pub fn only_fields(body: &Value, allowed: &[&str]) -> Result<(), ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request("The body must be a JSON object"));
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            k,
            format!("unknown field; the fields are: {}", allowed.join(", ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_field_and_the_fix() {
        let e = slug(Some(&json!("Acme Prod"))).unwrap_err();
        assert!(
            e.message.contains("`slug`") && e.message.contains("lowercase"),
            "{}",
            e.message
        );
        assert_eq!(e.issues[0].path, "slug");
        let e = tier(Some(&json!("gold"))).unwrap_err();
        assert!(e.message.contains("free, premium"), "{}", e.message);
        let e = platform(None).unwrap_err();
        assert!(e.message.contains("`platform`"), "{}", e.message);
        assert!(expires_in_days(Some(&json!(0))).is_err());
        assert_eq!(expires_in_days(Some(&json!(30))).unwrap(), Some(30));
        let e = only_fields(&json!({"slug": "a", "name": 1}), &["slug"]).unwrap_err();
        assert!(e.message.contains("`name`"), "{}", e.message);
    }

    #[test]
    fn good_values_pass() {
        assert_eq!(slug(Some(&json!("acme-prod"))).unwrap(), "acme-prod");
        assert_eq!(tier(Some(&json!("premium"))).unwrap(), "premium");
        assert_eq!(tier(None).unwrap(), "free", "defaultTier");
    }
}
