//! `POST /v1/l10n/plan` (CONTRACT 2.8): the snapshot and fingerprint Paris
//! plans l10n jobs with. Auth (Bearer) is the route's, before this.

use serde_json::{json, Value};

use crate::allowlist::{collect_entries, snapshot_of};
use crate::error::L10nError;
use crate::io::L10nSource;
use crate::js::js_trim;
use crate::source::{load_allowlist, load_instance};
use crate::stable::base_fingerprint;

/// A validated plan request.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub widget_type: String,
    /// An object config; without it the instance is fetched from Paris.
    pub config: Option<Value>,
    pub base_updated_at: Option<String>,
    pub public_id: Option<String>,
    pub workspace_id: Option<String>,
}

/// The body of a route that reads JSON leniently: empty is `null`, anything
/// unparsable is `400 "Invalid JSON body"`.
pub fn read_json_body(text: &str) -> Result<Value, L10nError> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|_| L10nError::bad_request("Invalid JSON body"))
}

fn trimmed(body: &Value, key: &str) -> Option<String> {
    body.get(key)
        .and_then(Value::as_str)
        .map(js_trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Checks the request body, with the contract's messages.
pub fn parse_plan_request(body: &Value) -> Result<PlanRequest, L10nError> {
    if !body.is_object() {
        return Err(L10nError::bad_request("body must be an object"));
    }
    let req = PlanRequest {
        widget_type: trimmed(body, "widgetType")
            .ok_or_else(|| L10nError::bad_request("Missing required field: widgetType"))?,
        config: body.get("config").filter(|c| c.is_object()).cloned(),
        base_updated_at: trimmed(body, "baseUpdatedAt"),
        public_id: trimmed(body, "publicId"),
        workspace_id: trimmed(body, "workspaceId"),
    };
    if req.config.is_none() && (req.public_id.is_none() || req.workspace_id.is_none()) {
        return Err(L10nError::bad_request(
            "Missing required fields: config OR (publicId + workspaceId)",
        ));
    }
    Ok(req)
}

/// Computes `{widgetType, baseFingerprint, baseUpdatedAt, snapshot}`.
pub async fn plan<S: L10nSource>(io: &S, req: &PlanRequest) -> Result<Value, L10nError> {
    let mut widget_type = req.widget_type.clone();
    let mut base_updated_at = req.base_updated_at.clone();
    let config = match &req.config {
        Some(c) => c.clone(),
        None => {
            let (Some(ws), Some(pid)) = (&req.workspace_id, &req.public_id) else {
                return Err(L10nError::bad_request("Missing workspaceId"));
            };
            let instance = load_instance(io, ws, pid).await?;
            if let Some(w) = instance.widget_type {
                widget_type = w;
            }
            if instance.updated_at.is_some() {
                base_updated_at = instance.updated_at;
            }
            instance.config
        }
    };
    let allowlist = load_allowlist(io, &widget_type).await?;
    let snapshot = Value::Object(snapshot_of(&collect_entries(&config, &allowlist)));
    Ok(json!({
        "widgetType": widget_type,
        "baseFingerprint": base_fingerprint(&snapshot),
        "baseUpdatedAt": base_updated_at,
        "snapshot": snapshot,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(v: Value) -> Option<String> {
        parse_plan_request(&v).err().map(|e| e.message)
    }

    #[test]
    fn validates() {
        assert_eq!(msg(json!(null)), Some("body must be an object".into()));
        assert_eq!(msg(json!([])), Some("body must be an object".into()));
        assert_eq!(
            msg(json!({"widgetType": "  "})),
            Some("Missing required field: widgetType".into())
        );
        assert_eq!(
            msg(json!({"widgetType": "faq", "config": "x", "publicId": "p"})),
            Some("Missing required fields: config OR (publicId + workspaceId)".into())
        );
        let ok =
            parse_plan_request(&json!({"widgetType": " faq ", "config": {}, "baseUpdatedAt": " "}));
        assert_eq!(
            ok.map(|r| (r.widget_type, r.base_updated_at)),
            Ok(("faq".into(), None))
        );
        assert_eq!(read_json_body("").ok(), Some(Value::Null));
        assert_eq!(
            read_json_body("{").err().map(|e| e.message),
            Some("Invalid JSON body".into())
        );
    }
}
