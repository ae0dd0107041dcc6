//! The locale overlay Paris keeps per instance and locale: reading the
//! existing one, merging new translations into it (CONTRACT 7.4 steps 8, 14)
//! and the body of the PUT (step 15).

use serde_json::{json, Value};

use crate::paths::path_matches;

/// A `{op:"set", path, value}` overlay operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOp {
    pub path: String,
    pub value: String,
}

/// What we use of an existing overlay.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExistingOverlay {
    pub base_fingerprint: Option<String>,
    pub ops: Vec<SetOp>,
}

/// Interprets Paris' answer to the overlay GET. Non-2xx (404 included) is "no
/// overlay"; a 2xx whose body is not JSON is an overlay without ops, as in
/// the original. Only well-formed `set` ops are kept.
pub fn parse_existing_overlay(status: u16, body: &str) -> Option<ExistingOverlay> {
    if !(200..300).contains(&status) {
        return None;
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let ops = json
        .get("ops")
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter()
                .filter_map(|op| {
                    let is_set = op.get("op").and_then(Value::as_str) == Some("set");
                    let path = op.get("path").and_then(Value::as_str)?;
                    let value = op.get("value").and_then(Value::as_str)?;
                    is_set.then(|| SetOp {
                        path: path.to_owned(),
                        value: value.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ExistingOverlay {
        base_fingerprint: json
            .get("baseFingerprint")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ops,
    })
}

/// Ordered path -> value map with JavaScript `Map` semantics (setting an
/// existing key keeps its place).
#[derive(Debug, Default)]
struct OrderedOps(Vec<SetOp>);

impl OrderedOps {
    fn set(&mut self, path: &str, value: &str) {
        match self.0.iter_mut().find(|o| o.path == path) {
            Some(o) => o.value = value.to_owned(),
            None => self.0.push(SetOp {
                path: path.to_owned(),
                value: value.to_owned(),
            }),
        }
    }

    fn remove_path_or_pattern(&mut self, p: &str) {
        if p.contains('*') {
            self.0.retain(|o| !path_matches(&o.path, p));
        } else {
            self.0.retain(|o| o.path != p);
        }
    }
}

/// Existing ops still pointing at a current path, minus removals, then the
/// new ops (copied values first, then translations) set over them.
pub fn merge_ops(
    existing: &[SetOp],
    is_current_path: impl Fn(&str) -> bool,
    removed: &[String],
    new_ops: &[SetOp],
) -> Vec<SetOp> {
    let mut merged = OrderedOps::default();
    for op in existing.iter().filter(|o| is_current_path(&o.path)) {
        merged.set(&op.path, &op.value);
    }
    for r in removed {
        merged.remove_path_or_pattern(r);
    }
    for op in new_ops {
        merged.set(&op.path, &op.value);
    }
    merged.0
}

/// Body of the overlay PUT.
pub fn overlay_put_body(
    ops: &[SetOp],
    base_updated_at: Option<&str>,
    base_fingerprint: &str,
    widget_type: &str,
) -> Value {
    let ops: Vec<Value> = ops
        .iter()
        .map(|o| json!({"op": "set", "path": o.path, "value": o.value}))
        .collect();
    json!({
        "ops": ops,
        "baseUpdatedAt": base_updated_at,
        "baseFingerprint": base_fingerprint,
        "source": "agent",
        "widgetType": widget_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(p: &str, v: &str) -> SetOp {
        SetOp {
            path: p.into(),
            value: v.into(),
        }
    }

    #[test]
    fn parses_existing() {
        let got = parse_existing_overlay(
            200,
            r#"{"baseFingerprint":"fp","ops":[{"op":"set","path":"a","value":"x"},{"op":"del","path":"b","value":"y"},{"op":"set","path":"c"}]}"#,
        );
        assert_eq!(
            got,
            Some(ExistingOverlay {
                base_fingerprint: Some("fp".into()),
                ops: vec![op("a", "x")]
            })
        );
        assert_eq!(parse_existing_overlay(404, "{}"), None);
        assert_eq!(parse_existing_overlay(500, "{}"), None);
        assert_eq!(
            parse_existing_overlay(200, "<html>"),
            Some(ExistingOverlay::default())
        );
    }

    #[test]
    fn merges_in_map_order() {
        let existing = vec![
            op("a", "old-a"),
            op("gone", "x"),
            op("items.0.q", "q0"),
            op("b", "old-b"),
        ];
        let current = ["a", "b", "items.0.q", "c"];
        let merged = merge_ops(
            &existing,
            |p| current.contains(&p),
            &["items.*.q".to_owned()],
            &[op("c", "new-c"), op("a", "new-a")],
        );
        assert_eq!(
            merged,
            vec![op("a", "new-a"), op("b", "old-b"), op("c", "new-c")]
        );
    }

    #[test]
    fn put_body_shape() {
        let body = overlay_put_body(&[op("a", "x")], None, "fp", "faq");
        assert_eq!(
            body.to_string(),
            r#"{"ops":[{"op":"set","path":"a","value":"x"}],"baseUpdatedAt":null,"baseFingerprint":"fp","source":"agent","widgetType":"faq"}"#
        );
    }
}
