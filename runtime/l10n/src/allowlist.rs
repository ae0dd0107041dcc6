//! Widget allowlists (Tokyo `/widgets/{type}/localization.json`) and the
//! snapshot of allowlisted strings (CONTRACT 2.8; KV cache 10.1).
//!
//! An allowlist path is dot-separated; a `*` segment stands for every index
//! of an array, a numeric segment indexes an array, any other segment names
//! an object key. Segments `__proto__`, `prototype` and `constructor` make the
//! whole path ignored: the original refused them to keep config from reaching
//! JavaScript prototypes, and the same paths must stay out of our snapshots
//! for fingerprints to agree.

use serde_json::{json, Map, Value};

use crate::error::L10nError;
use crate::js::js_trim;

/// How a value is translated: plain text or HTML-bearing richtext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    String,
    Richtext,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::String => "string",
            EntryType::Richtext => "richtext",
        }
    }

    /// Anything but `"richtext"` is a plain string, as in the original.
    fn from_value(v: Option<&Value>) -> Self {
        match v.and_then(Value::as_str) {
            Some("richtext") => EntryType::Richtext,
            _ => EntryType::String,
        }
    }
}

/// One allowlist line: a path pattern and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistEntry {
    pub path: String,
    pub kind: EntryType,
}

/// A concrete allowlisted string found in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryType,
    pub value: String,
}

/// An item handed to the model (or copied): the same shape as an entry.
pub type Item = Entry;

/// KV key of the cached allowlist.
pub fn allowlist_cache_key(widget_type: &str) -> String {
    format!("l10n:allowlist:{widget_type}")
}

/// Seconds the cached allowlist lives in KV.
pub const ALLOWLIST_CACHE_TTL_S: u64 = 3600;

const PROHIBITED: [&str; 3] = ["__proto__", "prototype", "constructor"];

/// Entries of a `paths` array: paths trimmed, type defaulted, empty paths dropped.
fn normalise_paths(paths: &[Value]) -> Vec<AllowlistEntry> {
    paths
        .iter()
        .filter_map(|entry| {
            let path = entry.get("path").and_then(Value::as_str).map(js_trim)?;
            if path.is_empty() {
                return None;
            }
            Some(AllowlistEntry {
                path: path.to_owned(),
                kind: EntryType::from_value(entry.get("type")),
            })
        })
        .collect()
}

/// Parses the body of a Tokyo `localization.json` (`{v:1, paths:[{path,type}]}`).
/// Anything else is `502 tokyo "Invalid localization.json"`.
pub fn parse_localization_file(body: &str) -> Result<Vec<AllowlistEntry>, L10nError> {
    let invalid = || L10nError::provider("tokyo", "Invalid localization.json");
    let json: Value = serde_json::from_str(body).map_err(|_| invalid())?;
    match (json.get("v").and_then(Value::as_f64), json.get("paths")) {
        (Some(1.0), Some(Value::Array(paths))) => Ok(normalise_paths(paths)),
        _ => Err(invalid()),
    }
}

/// Reads a KV cache value; `None` (a miss) unless it is `{v:1, paths:[...]}`.
pub fn parse_cached_allowlist(text: &str) -> Option<Vec<AllowlistEntry>> {
    let json: Value = serde_json::from_str(text).ok()?;
    match (json.get("v").and_then(Value::as_f64), json.get("paths")) {
        (Some(1.0), Some(Value::Array(paths))) => Some(normalise_paths(paths)),
        _ => None,
    }
}

/// The KV cache value for `entries`: `{"v":1,"paths":[{"path","type"}]}`.
pub fn cached_allowlist_value(entries: &[AllowlistEntry]) -> String {
    let paths: Vec<Value> = entries
        .iter()
        .map(|e| json!({"path": e.path, "type": e.kind.as_str()}))
        .collect();
    json!({"v": 1, "paths": paths}).to_string()
}

/// Every allowlisted string of `config`, empty ones included, in allowlist
/// order; when two patterns reach the same path the first one wins.
pub fn collect_entries(config: &Value, allowlist: &[AllowlistEntry]) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in allowlist {
        let path = js_trim(&entry.path);
        if path.is_empty() || path.split('.').any(|s| PROHIBITED.contains(&s)) {
            continue;
        }
        let segments: Vec<&str> = path
            .split('.')
            .map(js_trim)
            .filter(|s| !s.is_empty())
            .collect();
        if segments.is_empty() {
            continue;
        }
        let mut found = Vec::new();
        walk(config, &segments, String::new(), entry.kind, &mut found);
        for item in found {
            if !item.path.is_empty() && seen.insert(item.path.clone()) {
                out.push(item);
            }
        }
    }
    out
}

fn join(base: &str, next: &str) -> String {
    if base.is_empty() {
        next.to_owned()
    } else {
        format!("{base}.{next}")
    }
}

fn is_index(seg: &str) -> bool {
    !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())
}

fn walk(value: &Value, segments: &[&str], at: String, kind: EntryType, out: &mut Vec<Entry>) {
    let Some((head, tail)) = segments.split_first() else {
        if let Value::String(s) = value {
            out.push(Entry {
                path: at,
                kind,
                value: s.clone(),
            });
        }
        return;
    };
    if PROHIBITED.contains(head) {
        return;
    }
    match value {
        Value::Array(items) if *head == "*" => {
            for (i, item) in items.iter().enumerate() {
                walk(item, tail, join(&at, &i.to_string()), kind, out);
            }
        }
        _ if *head == "*" => {}
        Value::Array(items) if is_index(head) => {
            // Beyond the end (or too large to index) is `undefined`: nothing found.
            if let Some(item) = head.parse::<usize>().ok().and_then(|i| items.get(i)) {
                walk(item, tail, join(&at, head), kind, out);
            }
        }
        Value::Array(_) => {
            // Named property of an array (e.g. `length`): never a string.
        }
        Value::Object(map) => {
            if let Some(next) = map.get(*head) {
                walk(next, tail, join(&at, head), kind, out);
            }
        }
        _ => {}
    }
}

/// The snapshot `{path: value}` of every allowlisted string (empty strings included).
pub fn build_snapshot(config: &Value, allowlist: &[AllowlistEntry]) -> Map<String, Value> {
    snapshot_of(&collect_entries(config, allowlist))
}

/// The snapshot of already collected entries.
pub fn snapshot_of(entries: &[Entry]) -> Map<String, Value> {
    entries
        .iter()
        .map(|e| (e.path.clone(), Value::String(e.value.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(paths: &[(&str, EntryType)]) -> Vec<AllowlistEntry> {
        paths
            .iter()
            .map(|(p, k)| AllowlistEntry {
                path: (*p).into(),
                kind: *k,
            })
            .collect()
    }

    #[test]
    fn parses_tokyo_file() {
        let got = parse_localization_file(
            r#"{"v":1,"paths":[{"path":" title "},{"path":"body","type":"richtext"},{"path":""},{"type":"x"},"junk",null]}"#,
        );
        assert_eq!(
            got,
            Ok(list(&[
                ("title", EntryType::String),
                ("body", EntryType::Richtext)
            ]))
        );
        for bad in [
            "",
            "[]",
            r#"{"v":2,"paths":[]}"#,
            r#"{"v":1,"paths":{}}"#,
            "nope",
        ] {
            assert_eq!(
                parse_localization_file(bad).map_err(|e| e.message),
                Err("Invalid localization.json".into())
            );
        }
    }

    #[test]
    fn cache_round_trip() {
        let l = list(&[("a.*.b", EntryType::Richtext)]);
        let text = cached_allowlist_value(&l);
        assert_eq!(
            text,
            r#"{"v":1,"paths":[{"path":"a.*.b","type":"richtext"}]}"#
        );
        assert_eq!(parse_cached_allowlist(&text), Some(l));
        assert_eq!(parse_cached_allowlist("{\"v\":1}"), None);
        assert_eq!(allowlist_cache_key("faq"), "l10n:allowlist:faq");
    }

    #[test]
    fn snapshot_expands_stars_and_skips_prototype_paths() {
        let config = json!({
            "title": "Hello",
            "empty": "",
            "items": [{"q": "Q1", "a": "<b>A1</b>"}, {"q": "Q2"}, {"q": 3}],
            "nested": {"constructor": {"x": "no"}},
            "list": ["zero", "one"],
        });
        let allowlist = list(&[
            ("title", EntryType::String),
            ("empty", EntryType::String),
            ("items.*.q", EntryType::String),
            ("items.*.a", EntryType::Richtext),
            ("items.0.q", EntryType::Richtext),
            ("nested.constructor.x", EntryType::String),
            ("list.1", EntryType::String),
            ("list.7", EntryType::String),
            ("list.length", EntryType::String),
            ("title.*", EntryType::String),
            ("missing.deep", EntryType::String),
        ]);
        let entries = collect_entries(&config, &allowlist);
        let paths: Vec<(&str, EntryType)> =
            entries.iter().map(|e| (e.path.as_str(), e.kind)).collect();
        assert_eq!(
            paths,
            vec![
                ("title", EntryType::String),
                ("empty", EntryType::String),
                ("items.0.q", EntryType::String),
                ("items.1.q", EntryType::String),
                ("items.0.a", EntryType::Richtext),
                ("list.1", EntryType::String),
            ]
        );
        let snap = build_snapshot(&config, &allowlist);
        assert_eq!(snap.get("empty"), Some(&json!("")));
        assert_eq!(snap.get("items.0.a"), Some(&json!("<b>A1</b>")));
    }

    #[test]
    fn segments_are_trimmed_and_empty_ones_dropped() {
        let config = json!({"a": {"b": "x"}});
        let entries = collect_entries(&config, &list(&[(" a . b ", EntryType::String)]));
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].path, "a.b");
        let entries = collect_entries(&config, &list(&[("a..b", EntryType::String)]));
        assert_eq!(entries[0].path, "a.b");
    }
}
