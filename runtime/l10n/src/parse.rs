//! Reading a model's answer for one instance batch (CONTRACT 7.4 step 13).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::allowlist::Item;
use crate::error::L10nError;
use crate::js::js_trim;
use crate::placeholders::normalize_brace_spacing;
use crate::safety::check_translation;

/// The JSON text inside a reply: a whole ```json fence, else the outermost
/// `[...]`, else the outermost `{...}`, else the trimmed reply.
pub fn extract_json(raw: &str) -> &str {
    let t = js_trim(raw);
    if t.len() >= 6 && t.starts_with("```") && t.ends_with("```") {
        let mut inner = &t[3..t.len() - 3];
        if inner
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("json"))
        {
            inner = &inner[4..];
        }
        return js_trim(inner);
    }
    for (open, close) in [('[', ']'), ('{', '}')] {
        if let (Some(a), Some(z)) = (t.find(open), t.rfind(close)) {
            if z > a {
                return &t[a..=z];
            }
        }
    }
    t
}

/// Parses and checks the translations of `expected` (one batch): an array or
/// `{items:[...]}` of `{path, value}` covering exactly the expected paths once
/// each. Values get their brace spacing repaired and must pass the safety
/// checks. Returns `(path, value)` in the order of `expected`.
pub fn parse_batch_reply(
    raw: &str,
    expected: &[Item],
    provider: &str,
) -> Result<Vec<(String, String)>, L10nError> {
    let fail = |m: String| L10nError::provider(provider, m);
    let json: Value = serde_json::from_str(raw)
        .or_else(|_| serde_json::from_str(extract_json(raw)))
        .map_err(|_| fail("Invalid JSON response".into()))?;
    let items = match &json {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("items") {
            Some(Value::Array(a)) => a,
            _ => return Err(fail("Expected JSON array response".into())),
        },
        _ => return Err(fail("Expected JSON array response".into())),
    };
    let wanted: HashSet<&str> = expected.iter().map(|i| i.path.as_str()).collect();
    let mut got: HashMap<&str, &str> = HashMap::new();
    for (index, entry) in items.iter().enumerate() {
        let Value::Object(entry) = entry else {
            return Err(fail(format!("Item {index} is not an object")));
        };
        let path = entry.get("path").and_then(Value::as_str).unwrap_or("");
        let Some(value) = entry.get("value").and_then(Value::as_str) else {
            return Err(fail(format!("Item {index} missing path/value")));
        };
        if path.is_empty() {
            return Err(fail(format!("Item {index} missing path/value")));
        }
        if !wanted.contains(path) {
            return Err(fail(format!("Unexpected path: {path}")));
        }
        if got.insert(path, value).is_some() {
            return Err(fail(format!("Duplicate path: {path}")));
        }
    }
    if got.len() != expected.len() {
        return Err(fail("Translation output size mismatch".into()));
    }
    expected
        .iter()
        .map(|item| {
            let value = got
                .get(item.path.as_str())
                .ok_or_else(|| fail(format!("Missing translated value for path: {}", item.path)))?;
            let value = normalize_brace_spacing(&item.value, value);
            check_translation(item, &value, provider)?;
            Ok((item.path.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowlist::EntryType;

    fn exp(pairs: &[(&str, &str)]) -> Vec<Item> {
        pairs
            .iter()
            .map(|(p, v)| Item {
                path: (*p).into(),
                kind: EntryType::String,
                value: (*v).into(),
            })
            .collect()
    }

    fn err(raw: &str, e: &[Item]) -> String {
        parse_batch_reply(raw, e, "deepseek")
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn extracts_json_from_chatter() {
        assert_eq!(extract_json("```json\n[1]\n```"), "[1]");
        assert_eq!(extract_json("```JSON [1] ```"), "[1]");
        assert_eq!(extract_json("Sure! [1, 2] done"), "[1, 2]");
        // Arrays win over objects, as in the original.
        assert_eq!(extract_json("Here: {\"items\": []} ok"), "[]");
        assert_eq!(extract_json("Here: {\"a\": 1} ok"), "{\"a\": 1}");
        assert_eq!(extract_json("  nothing "), "nothing");
    }

    #[test]
    fn accepts_array_or_items_and_reorders() {
        let e = exp(&[("a", "Hello {name}"), ("b", "Bye")]);
        let raw = r#"noise {"items":[{"path":"b","value":"Salut"},{"path":"a","value":"Bonjour { name }"}]}"#;
        assert_eq!(
            parse_batch_reply(raw, &e, "x"),
            Ok(vec![
                ("a".into(), "Bonjour {name}".into()),
                ("b".into(), "Salut".into())
            ])
        );
    }

    #[test]
    fn rejects_bad_replies() {
        let e = exp(&[("a", "Hello"), ("b", "Bye")]);
        assert_eq!(err("not json", &e), "Invalid JSON response");
        assert_eq!(err("{\"x\":1}", &e), "Expected JSON array response");
        assert_eq!(err("\"str\"", &e), "Expected JSON array response");
        assert_eq!(err("[1]", &e), "Item 0 is not an object");
        assert_eq!(err(r#"[{"path":"a"}]"#, &e), "Item 0 missing path/value");
        assert_eq!(
            err(r#"[{"path":"","value":""}]"#, &e),
            "Item 0 missing path/value"
        );
        assert_eq!(
            err(r#"[{"path":"z","value":""}]"#, &e),
            "Unexpected path: z"
        );
        assert_eq!(
            err(r#"[{"path":"a","value":""},{"path":"a","value":""}]"#, &e),
            "Duplicate path: a"
        );
        assert_eq!(
            err(r#"[{"path":"a","value":"x"}]"#, &e),
            "Translation output size mismatch"
        );
        let p = exp(&[("a", "Hi {n}")]);
        assert_eq!(
            err(r#"[{"path":"a","value":"Salut"}]"#, &p),
            "Placeholder mismatch at path: a"
        );
    }
}
