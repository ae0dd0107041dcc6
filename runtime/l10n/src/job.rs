//! The `l10n.instance.v1` job message (CONTRACT 7.4, 4.8) and the body of
//! the local-only `POST /v1/l10n` (2.9).

use serde_json::Value;

use crate::error::{Issue, L10nError};
use crate::js::js_trim;
use crate::targets::Changes;

/// A validated l10n job. `raw` is the message as received (kept for logs,
/// always redacted before it is written).
#[derive(Debug, Clone, PartialEq)]
pub struct L10nJob {
    /// 1 or 2.
    pub v: u8,
    pub agent_id: String,
    /// The grant token: verify it (cap `agent:{agent_id}`, raw) before running; never log it.
    pub grant: String,
    pub public_id: String,
    pub widget_type: String,
    /// As sent (normalised only when the job runs).
    pub locale: String,
    /// Required (non-empty) for v2; `None` for v1.
    pub base_fingerprint: Option<String>,
    pub base_updated_at: Option<String>,
    /// `curated` or `user`.
    pub kind: String,
    /// Non-empty string, else `None` (the job is then skipped).
    pub workspace_id: Option<String>,
    pub changes: Changes,
    pub raw: Value,
}

fn non_empty(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .filter(|s| !js_trim(s).is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// `isL10nJob`: the message if it is a v1 or v2 job, else `None`.
pub fn parse_job(value: &Value) -> Option<L10nJob> {
    let Value::Object(_) = value else { return None };
    let v = match value.get("v").and_then(Value::as_f64) {
        Some(1.0) => 1,
        Some(2.0) => 2,
        _ => return None,
    };
    let kind = value.get("kind").and_then(Value::as_str)?;
    if kind != "curated" && kind != "user" {
        return None;
    }
    let base_updated_at = value
        .get("baseUpdatedAt")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut job = L10nJob {
        v,
        agent_id: non_empty(value, "agentId")?,
        grant: non_empty(value, "grant")?,
        public_id: non_empty(value, "publicId")?,
        widget_type: non_empty(value, "widgetType")?,
        locale: non_empty(value, "locale")?,
        base_fingerprint: None,
        base_updated_at,
        kind: kind.to_owned(),
        workspace_id: non_empty(value, "workspaceId"),
        changes: Changes::default(),
        raw: value.clone(),
    };
    if v == 1 {
        // v1 requires baseUpdatedAt and always translates everything.
        job.base_updated_at = Some(non_empty(value, "baseUpdatedAt")?);
        return Some(job);
    }
    job.base_fingerprint = Some(non_empty(value, "baseFingerprint")?);
    for key in ["changedPaths", "removedPaths"] {
        match value.get(key) {
            None | Some(Value::Null) | Some(Value::Array(_)) => {}
            Some(_) => return None,
        }
    }
    job.changes = Changes {
        changed: string_list(value.get("changedPaths")),
        removed: string_list(value.get("removedPaths")).unwrap_or_default(),
    };
    Some(job)
}

/// JavaScript truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The jobs of a `POST /v1/l10n` body (the raw text): an array, `{jobs:[...]}`,
/// `{job:{...}}` or a single job. Errors are the contract's 400s; grants are
/// not checked here (verify each one next, first failure answers).
pub fn parse_dispatch_body(text: &str) -> Result<Vec<L10nJob>, L10nError> {
    let body: Value =
        serde_json::from_str(text).map_err(|_| L10nError::bad_request("Invalid JSON body"))?;
    let jobs: Vec<Value> = match &body {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match (o.get("jobs"), o.get("job")) {
            (Some(Value::Array(a)), _) => a.clone(),
            (_, Some(j)) if truthy(j) => vec![j.clone()],
            _ => vec![body.clone()],
        },
        _ => Vec::new(),
    };
    if jobs.is_empty() {
        return Err(L10nError::bad_request("No jobs provided"));
    }
    let parsed: Vec<Option<L10nJob>> = jobs.iter().map(parse_job).collect();
    let issues: Vec<Issue> = parsed
        .iter()
        .enumerate()
        .filter(|(_, j)| j.is_none())
        .map(|(i, _)| Issue {
            path: format!("jobs[{i}]"),
            message: "invalid l10n job".into(),
        })
        .collect();
    if !issues.is_empty() {
        return Err(L10nError::bad_request("Invalid l10n jobs").with_issues(issues));
    }
    Ok(parsed.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2() -> Value {
        json!({"v": 2, "agentId": "l10n.instance.v1", "grant": "v1.x.y", "publicId": "wgt_1",
               "widgetType": "faq", "locale": "fr", "baseFingerprint": "fp", "kind": "curated",
               "workspaceId": "ws_1", "changedPaths": ["a", 3, " "], "removedPaths": null})
    }

    #[test]
    fn parses_v2() {
        let job = parse_job(&v2()).expect("valid");
        assert_eq!(job.v, 2);
        assert_eq!(job.changes.changed, Some(vec!["a".to_owned()]));
        assert!(job.changes.removed.is_empty());
        assert_eq!(job.workspace_id.as_deref(), Some("ws_1"));
    }

    #[test]
    fn rejects_invalid() {
        for (k, val) in [
            ("v", json!(3)),
            ("kind", json!("other")),
            ("grant", json!("")),
            ("baseFingerprint", json!(null)),
            ("changedPaths", json!("a")),
        ] {
            let mut j = v2();
            j[k] = val;
            assert!(parse_job(&j).is_none(), "{k}");
        }
        let v1 = json!({"v": 1, "agentId": "a", "grant": "g", "publicId": "p", "widgetType": "w",
                        "locale": "fr", "kind": "user"});
        assert!(parse_job(&v1).is_none());
        let mut ok = v1.clone();
        ok["baseUpdatedAt"] = json!("2026-01-01");
        assert!(parse_job(&ok).is_some_and(|j| j.changes.changed.is_none()));
    }

    #[test]
    fn dispatch_body_forms() {
        let one = v2().to_string();
        assert_eq!(parse_dispatch_body(&one).map(|j| j.len()), Ok(1));
        assert_eq!(
            parse_dispatch_body(&format!("[{one},{one}]")).map(|j| j.len()),
            Ok(2)
        );
        assert_eq!(
            parse_dispatch_body(&format!("{{\"jobs\":[{one}]}}")).map(|j| j.len()),
            Ok(1)
        );
        assert_eq!(
            parse_dispatch_body(&format!("{{\"job\":{one}}}")).map(|j| j.len()),
            Ok(1)
        );
        let msg = |t: &str| parse_dispatch_body(t).err().map(|e| e.message);
        assert_eq!(msg(""), Some("Invalid JSON body".into()));
        assert_eq!(msg("[]"), Some("No jobs provided".into()));
        assert_eq!(msg("{\"jobs\":[]}"), Some("No jobs provided".into()));
        assert_eq!(msg("7"), Some("No jobs provided".into()));
        let bad = parse_dispatch_body(&format!("[{one},{{}}]")).err();
        assert_eq!(
            bad.map(|e| e.to_body().to_string()),
            Some(r#"{"error":{"code":"BAD_REQUEST","message":"Invalid l10n jobs","issues":[{"path":"jobs[1]","message":"invalid l10n job"}]}}"#.into())
        );
    }
}
