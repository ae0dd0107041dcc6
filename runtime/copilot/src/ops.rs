//! Ops validation that agrees with how Bob applies ops (CONTRACT 6.3).
//!
//! The original matched control paths by prefix and ignored `__TOKEN__`
//! segments (15.12), so it rejected ops Bob would apply and accepted ops Bob
//! would refuse. Here every op is checked the way Bob will apply it: control
//! paths are compiled so token segments match array indices, values are
//! checked by control kind, array ops are checked against the array they will
//! touch, and the ops are *simulated in sequence* on a working copy of the
//! config, because each op sees the config the previous ops produced.

use serde_json::{Map, Value};

use super::input::Control;

/// One rejected op, as shown in the "Details" list and sent to the repair call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpIssue {
    pub path: String,
    pub message: String,
}

impl OpIssue {
    fn new(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// Segments Bob refuses anywhere in a path: writing them would reach the
/// prototype chain of the config objects in the browser.
pub const PROHIBITED_SEGMENTS: [&str; 3] = ["__proto__", "prototype", "constructor"];

/// The shape filter of CONTRACT 6.1 (`isWidgetOp`): ops of another shape are
/// dropped silently; kept ops are forwarded unchanged.
pub fn is_widget_op(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    let non_empty = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !non_empty("op") || !non_empty("path") {
        return false;
    }
    let num = |k: &str| o.get(k).is_some_and(Value::is_number);
    match o.get("op").and_then(Value::as_str) {
        Some("set") => o.contains_key("value"),
        Some("insert") => num("index") && o.contains_key("value"),
        Some("remove") => num("index"),
        Some("move") => num("from") && num("to"),
        _ => false,
    }
}

/// `parsed.ops` filtered with [`is_widget_op`]; anything but an array gives none.
pub fn widget_ops(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter(|o| is_widget_op(o)).cloned().collect())
        .unwrap_or_default()
}

pub fn op_path(op: &Value) -> &str {
    op.get("path").and_then(Value::as_str).unwrap_or("")
}

/// A control path is a token segment like `__INDEX__` where Bob's compiled
/// regex accepts any array index.
fn is_token(seg: &str) -> bool {
    seg.len() > 4 && seg.starts_with("__") && seg.ends_with("__")
}

fn is_index(seg: &str) -> bool {
    !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `path` matches the control path `pattern` the way Bob's anchored
/// regex does: same number of segments, literal segments equal, token
/// segments matched by `\d+`.
pub fn control_path_matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('.');
    let mut q = path.split('.');
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) => {
                let ok = if is_token(a) { is_index(b) } else { a == b };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Bob's best control for a path: +100 with options, +10 unless `type` is
/// `field`, +1 when labelled; the first of equal scores wins.
pub fn find_control<'a>(controls: &'a [Control], path: &str) -> Option<&'a Control> {
    let mut best: Option<(&Control, u32)> = None;
    for c in controls
        .iter()
        .filter(|c| control_path_matches(&c.path, path))
    {
        let score = c
            .options
            .as_ref()
            .map_or(0, |o| if o.is_empty() { 0 } else { 100 })
            + if c.type_.as_deref() == Some("field") {
                0
            } else {
                10
            }
            + u32::from(c.label.is_some());
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

pub fn has_prohibited_segment(path: &str) -> bool {
    path.split('.').any(|s| PROHIBITED_SEGMENTS.contains(&s))
}

/// Parses a number the way Bob coerces number controls: JSON numbers, numeric
/// strings and CSS-like lengths ("12px").
fn coerce_number(v: &Value) -> Option<f64> {
    if let Some(n) = v.as_f64() {
        return n.is_finite().then_some(n);
    }
    let s = v.as_str()?.trim();
    let unit_start = s
        .char_indices()
        .find(|(_, c)| c.is_ascii_alphabetic() || *c == '%')
        .map_or(s.len(), |(i, _)| i);
    let (num, unit) = s.split_at(unit_start);
    let unit_ok = matches!(unit, "" | "px" | "em" | "rem" | "%" | "vh" | "vw");
    let digits = num.strip_prefix('-').unwrap_or(num);
    let shape_ok = !digits.is_empty()
        && digits.split('.').count() <= 2
        && digits
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !unit_ok || !shape_ok {
        return None;
    }
    num.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Checks a `set` value against the control kind (CONTRACT 6.3 step 4 plus
/// the range check of 7.3.9). Returns the problem in words.
pub fn check_set_value(c: &Control, value: &Value) -> Result<(), String> {
    let Some(kind) = c.kind.as_deref() else {
        return Err("Control kind is unknown".into());
    };
    match kind {
        "boolean" => {
            let ok = match value {
                Value::Bool(_) => true,
                Value::Number(n) => n.as_f64().is_some_and(|x| x == 0.0 || x == 1.0),
                Value::String(s) => matches!(
                    s.trim().to_ascii_lowercase().as_str(),
                    "true" | "false" | "1" | "0" | "yes" | "no" | "on" | "off"
                ),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err("Value must be a boolean".into())
            }
        }
        "number" => {
            let n = coerce_number(value).ok_or("Value must be a number")?;
            if let Some(min) = c.min.filter(|m| n < *m) {
                return Err(format!("Value must be >= {min}"));
            }
            if let Some(max) = c.max.filter(|m| n > *m) {
                return Err(format!("Value must be <= {max}"));
            }
            Ok(())
        }
        "enum" => {
            let s = value
                .as_str()
                .map(str::trim)
                .ok_or("Value must be one of the allowed options")?;
            let in_enum = c
                .enum_values
                .as_ref()
                .is_some_and(|e| e.iter().any(|x| x == s));
            let in_opts = c
                .options
                .as_ref()
                .is_some_and(|o| o.iter().any(|(_, v)| v == s));
            if in_enum || in_opts {
                Ok(())
            } else {
                Err("Value must be one of the allowed options".into())
            }
        }
        "json" => match value {
            Value::Object(_) => Ok(()),
            Value::String(s) if serde_json::from_str::<Value>(s).is_ok() => Ok(()),
            _ => Err("Value must be JSON".into()),
        },
        "array" => match value {
            Value::Array(_) => Ok(()),
            Value::String(s) if serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_array()) => {
                Ok(())
            }
            _ => Err("Value must be an array".into()),
        },
        "object" => {
            if value.is_object() {
                Ok(())
            } else {
                Err("Value must be an object".into())
            }
        }
        "color" => match value {
            Value::String(s) if !s.trim().is_empty() => Ok(()),
            _ => Err("Value must be a color string".into()),
        },
        _ => {
            let Some(s) = value.as_str() else {
                return Err("Value must be a string".into());
            };
            // Bob does not check options for other kinds; refusing an unknown
            // option here is stricter and spares the user a broken select.
            if let Some(opts) = c.options.as_ref().filter(|o| !o.is_empty()) {
                if !opts.iter().any(|(_, v)| v == s.trim()) {
                    return Err("Value must be one of the allowed options".into());
                }
            }
            Ok(())
        }
    }
}

fn as_index(v: Option<&Value>) -> Option<usize> {
    let n = v?.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64).then_some(n as usize)
}

/// The array at `path` in `root`, if the path leads to one.
fn array_at_mut<'a>(root: &'a mut Value, path: &str) -> Option<&'a mut Vec<Value>> {
    let mut cur = root;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get_mut(seg)?,
            Value::Array(a) if is_index(seg) => a.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    cur.as_array_mut()
}

/// Writes `value` at `path`, creating missing object keys on the way. Refuses
/// anything Bob might apply differently: walking through a primitive, array
/// indices out of range, non-numeric segments on arrays.
fn set_at(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        cur = match cur {
            Value::Object(m) => {
                if last {
                    m.insert((*seg).to_owned(), value);
                    return Ok(());
                }
                if !m.contains_key(*seg) {
                    if is_index(segs[i + 1]) {
                        return Err("Path points into a missing list".into());
                    }
                    m.insert((*seg).to_owned(), Value::Object(Map::new()));
                }
                m.get_mut(*seg).ok_or("Path is not reachable")?
            }
            Value::Array(a) => {
                let idx = seg
                    .parse::<usize>()
                    .ok()
                    .filter(|_| is_index(seg))
                    .ok_or("Path uses a name where a list index is needed")?;
                let slot = a.get_mut(idx).ok_or("List index is out of range")?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            _ => return Err("Path goes through a value that is not an object".into()),
        };
    }
    Err("Path is empty".into())
}

/// Validates and simulates one op on `work`. On error `work` is unchanged.
fn apply_one(work: &mut Value, controls: &[Control], op: &Value) -> Result<(), String> {
    let path = op_path(op);
    if path.trim().is_empty() {
        return Err("Path is missing".into());
    }
    if has_prohibited_segment(path) {
        return Err("Path contains a prohibited segment".into());
    }
    let control = find_control(controls, path).ok_or("Unknown path (not in editable controls)")?;
    let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
    if kind != "set" && control.kind.as_deref() != Some("array") {
        return Err("Target must be an array control".into());
    }
    match kind {
        "set" => {
            let value = op.get("value").ok_or("Value is missing")?;
            check_set_value(control, value)?;
            set_at(work, path, value.clone())
        }
        "insert" => {
            let value = op.get("value").ok_or("Value is missing")?;
            if let Some(id_path) = &control.item_id_path {
                let id_ok = value
                    .get(id_path)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty());
                if !id_ok {
                    return Err(format!("Inserted item needs a non-empty {id_path}"));
                }
            }
            let arr =
                array_at_mut(work, path).ok_or("Target is not a list in the current config")?;
            let idx = as_index(op.get("index"))
                .filter(|i| *i <= arr.len())
                .ok_or_else(|| format!("Index must be an integer from 0 to {}", arr.len()))?;
            arr.insert(idx, value.clone());
            Ok(())
        }
        "remove" => {
            let arr =
                array_at_mut(work, path).ok_or("Target is not a list in the current config")?;
            let idx = as_index(op.get("index"))
                .filter(|i| *i < arr.len())
                .ok_or_else(|| index_range_msg(arr.len()))?;
            arr.remove(idx);
            Ok(())
        }
        "move" => {
            let arr =
                array_at_mut(work, path).ok_or("Target is not a list in the current config")?;
            let len = arr.len();
            let from = as_index(op.get("from")).filter(|i| *i < len);
            let to = as_index(op.get("to")).filter(|i| *i < len);
            let (Some(from), Some(to)) = (from, to) else {
                return Err(index_range_msg(len));
            };
            let item = arr.remove(from);
            arr.insert(to, item);
            Ok(())
        }
        _ => Err("Unknown op".into()),
    }
}

fn index_range_msg(len: usize) -> String {
    if len == 0 {
        "The list is empty".into()
    } else {
        format!("Index must be an integer from 0 to {}", len - 1)
    }
}

/// Validates `ops` in order against `controls` and `config`, as Bob would
/// apply them. Every failing op is reported (a failing op is skipped so the
/// rest can still be checked); any issue means the whole batch is refused,
/// because Bob applies ops atomically.
pub fn validate_ops(
    ops: &[Value],
    controls: &[Control],
    config: &Map<String, Value>,
) -> Result<(), Vec<OpIssue>> {
    let mut work = Value::Object(config.clone());
    let mut issues = Vec::new();
    for op in ops {
        if !is_widget_op(op) {
            issues.push(OpIssue::new(op_path(op), "Not a valid op"));
            continue;
        }
        if let Err(msg) = apply_one(&mut work, controls, op) {
            issues.push(OpIssue::new(op_path(op), msg));
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues)
    }
}

/// One entry of a widget's `sdr.allowlist.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub path: String,
    /// `richtext` or `string`.
    pub type_: String,
    pub role: Option<String>,
}

/// `a[0].b` → `a.0.b` (the original accepted bracket paths for the allowlist).
pub fn normalize_op_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.trim().chars() {
        match c {
            '[' => out.push('.'),
            ']' => {}
            c => out.push(c),
        }
    }
    out.trim_start_matches('.').to_owned()
}

/// Allowlist patterns use `*` for "any array index".
pub fn path_matches_allowlist(path: &str, pattern: &str) -> bool {
    let a: Vec<&str> = path.split('.').collect();
    let b: Vec<&str> = pattern.split('.').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, p)| if *p == "*" { is_index(x) } else { x == p })
}

/// The SDR rule (CONTRACT 7.3.8 step 5): copy edits only — `set` with a
/// string value on an allowlisted path.
pub fn validate_sdr_ops(ops: &[Value], allowlist: &[AllowEntry]) -> Result<(), Vec<OpIssue>> {
    let mut issues = Vec::new();
    for op in ops {
        let path = op_path(op);
        if op.get("op").and_then(Value::as_str) != Some("set") {
            issues.push(OpIssue::new(path, "Only text changes are allowed here"));
        } else if !op.get("value").is_some_and(Value::is_string) {
            issues.push(OpIssue::new(path, "Value must be text"));
        } else {
            let norm = normalize_op_path(path);
            if !allowlist
                .iter()
                .any(|e| path_matches_allowlist(&norm, &e.path))
            {
                issues.push(OpIssue::new(path, "Path is not an editable copy field"));
            }
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctl(path: &str, kind: &str) -> Control {
        Control {
            path: path.into(),
            kind: Some(kind.into()),
            ..Control::default()
        }
    }

    fn config() -> Map<String, Value> {
        json!({
            "title": "FAQ",
            "sections": [{"title":"A","faqs":[{"id":"q1","question":"Q1"},{"id":"q2","question":"Q2"}]}],
            "pod": {"radius": 4}
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn check(ops: Value, controls: &[Control]) -> Result<(), Vec<OpIssue>> {
        validate_ops(
            ops.as_array().map(Vec::as_slice).unwrap_or(&[]),
            controls,
            &config(),
        )
    }

    #[test]
    fn token_segments_match_indices_only() {
        assert!(control_path_matches(
            "sections.__S__.faqs.__I__.question",
            "sections.0.faqs.12.question"
        ));
        assert!(!control_path_matches(
            "sections.__S__.faqs.__I__.question",
            "sections.x.faqs.1.question"
        ));
        assert!(!control_path_matches(
            "sections.__S__.faqs.__I__.question",
            "sections.0.faqs.1"
        ));
        assert!(!control_path_matches("sections", "sections.0.title"));
        assert!(!control_path_matches("a.b", "a[0].b"));
    }

    #[test]
    fn best_control_prefers_options_then_non_field_then_label() {
        let mut a = ctl("x.__I__", "string");
        a.type_ = Some("field".into());
        let mut b = ctl("x.__J__", "string");
        b.label = Some("B".into());
        let mut c = ctl("x.__K__", "enum");
        c.options = Some(vec![("One".into(), "1".into())]);
        let controls = [a.clone(), b.clone(), c.clone()];
        assert_eq!(find_control(&controls, "x.3"), Some(&c));
        assert_eq!(find_control(&controls[..2], "x.3"), Some(&b));
        assert_eq!(find_control(&controls[..1], "x.3"), Some(&a));
    }

    #[test]
    fn prohibited_segments_are_refused_before_lookup() {
        let controls = [
            ctl("__proto__.polluted", "string"),
            ctl("a.constructor", "string"),
        ];
        for p in ["__proto__.polluted", "a.constructor", "a.prototype.b"] {
            let err = check(json!([{"op":"set","path":p,"value":"x"}]), &controls).unwrap_err();
            assert_eq!(err[0].message, "Path contains a prohibited segment", "{p}");
        }
    }

    #[test]
    fn kind_aware_values() {
        let mut n = ctl("pod.radius", "number");
        n.min = Some(0.0);
        n.max = Some(24.0);
        let mut e = ctl("mode", "enum");
        e.enum_values = Some(vec!["a".into(), "b".into()]);
        let controls = [
            ctl("flag", "boolean"),
            n,
            e,
            ctl("title", "text"),
            ctl("bg", "color"),
            Control {
                path: "k".into(),
                ..Control::default()
            },
        ];
        let ok = [
            json!({"op":"set","path":"flag","value":"On"}),
            json!({"op":"set","path":"flag","value":false}),
            json!({"op":"set","path":"pod.radius","value":"12px"}),
            json!({"op":"set","path":"pod.radius","value":24}),
            json!({"op":"set","path":"mode","value":" b "}),
            json!({"op":"set","path":"title","value":"Hi"}),
        ];
        for op in ok {
            assert_eq!(check(json!([op]), &controls), Ok(()), "{op}");
        }
        let bad = [
            (
                json!({"op":"set","path":"flag","value":"maybe"}),
                "Value must be a boolean",
            ),
            (
                json!({"op":"set","path":"pod.radius","value":25}),
                "Value must be <= 24",
            ),
            (
                json!({"op":"set","path":"pod.radius","value":"-1"}),
                "Value must be >= 0",
            ),
            (
                json!({"op":"set","path":"pod.radius","value":"wide"}),
                "Value must be a number",
            ),
            (
                json!({"op":"set","path":"mode","value":"c"}),
                "Value must be one of the allowed options",
            ),
            (
                json!({"op":"set","path":"title","value":5}),
                "Value must be a string",
            ),
            (
                json!({"op":"set","path":"bg","value":" "}),
                "Value must be a color string",
            ),
            (
                json!({"op":"set","path":"k","value":"x"}),
                "Control kind is unknown",
            ),
            (
                json!({"op":"set","path":"nope","value":"x"}),
                "Unknown path (not in editable controls)",
            ),
        ];
        for (op, msg) in bad {
            let err = check(json!([op]), &controls).unwrap_err();
            assert_eq!(err[0].message, msg, "{op}");
        }
    }

    #[test]
    fn array_ops_follow_splice_rules_in_sequence() {
        let mut faqs = ctl("sections.__S__.faqs", "array");
        faqs.item_id_path = Some("id".into());
        let controls = [faqs];
        let ok = json!([
            {"op":"insert","path":"sections.0.faqs","index":2,"value":{"id":"q3","question":"Q3"}},
            {"op":"move","path":"sections.0.faqs","from":2,"to":0},
            {"op":"remove","path":"sections.0.faqs","index":2}
        ]);
        assert_eq!(check(ok, &controls), Ok(()));
        // The second remove sees the list the first one left behind.
        let seq = json!([
            {"op":"remove","path":"sections.0.faqs","index":1},
            {"op":"remove","path":"sections.0.faqs","index":1}
        ]);
        assert_eq!(
            check(seq, &controls).unwrap_err()[0].message,
            "Index must be an integer from 0 to 0"
        );
        let bad = [
            (
                json!({"op":"insert","path":"sections.0.faqs","index":3,"value":{"id":"x"}}),
                "Index must be an integer from 0 to 2",
            ),
            (
                json!({"op":"insert","path":"sections.0.faqs","index":1.5,"value":{"id":"x"}}),
                "Index must be an integer from 0 to 2",
            ),
            (
                json!({"op":"insert","path":"sections.0.faqs","index":0,"value":{"question":"x"}}),
                "Inserted item needs a non-empty id",
            ),
            (
                json!({"op":"move","path":"sections.0.faqs","from":0,"to":2}),
                "Index must be an integer from 0 to 1",
            ),
            (
                json!({"op":"remove","path":"sections.1.faqs","index":0}),
                "Target is not a list in the current config",
            ),
        ];
        for (op, msg) in bad {
            assert_eq!(
                check(json!([op]), &controls).unwrap_err()[0].message,
                msg,
                "{op}"
            );
        }
        let set_on_scalar = [ctl("title", "text")];
        let err = check(
            json!([{"op":"remove","path":"title","index":0}]),
            &set_on_scalar,
        )
        .unwrap_err();
        assert_eq!(err[0].message, "Target must be an array control");
    }

    #[test]
    fn set_refuses_walking_through_primitives_and_missing_lists() {
        let controls = [
            ctl("title.x", "text"),
            ctl("sections.__S__.title", "text"),
            ctl("new.deep.key", "text"),
        ];
        assert!(check(
            json!([{"op":"set","path":"title.x","value":"a"}]),
            &controls
        )
        .is_err());
        assert!(check(
            json!([{"op":"set","path":"sections.3.title","value":"a"}]),
            &controls
        )
        .is_err());
        assert_eq!(
            check(
                json!([{"op":"set","path":"sections.0.title","value":"a"}]),
                &controls
            ),
            Ok(())
        );
        assert_eq!(
            check(
                json!([{"op":"set","path":"new.deep.key","value":"a"}]),
                &controls
            ),
            Ok(())
        );
    }

    #[test]
    fn widget_op_shape_filter() {
        assert!(is_widget_op(&json!({"op":"set","path":"a","value":null})));
        assert!(!is_widget_op(&json!({"op":"set","path":"a"})));
        assert!(!is_widget_op(
            &json!({"op":"insert","path":"a","index":"1","value":1})
        ));
        assert!(!is_widget_op(&json!({"op":"delete","path":"a"})));
        assert!(is_widget_op(
            &json!({"op":"move","path":"a","from":0,"to":1,"extra":true})
        ));
        assert_eq!(
            widget_ops(Some(&json!([1, {"op":"remove","path":"a","index":0}]))).len(),
            1
        );
    }

    #[test]
    fn sdr_allowlist_rules() {
        let allow = [AllowEntry {
            path: "sections.*.faqs.*.question".into(),
            type_: "string".into(),
            role: None,
        }];
        assert_eq!(
            validate_sdr_ops(
                &[json!({"op":"set","path":"sections.0.faqs.1.question","value":"Q"})],
                &allow
            ),
            Ok(())
        );
        assert_eq!(
            validate_sdr_ops(
                &[json!({"op":"set","path":"sections[0].faqs[1].question","value":"Q"})],
                &allow
            ),
            Ok(())
        );
        assert!(validate_sdr_ops(
            &[json!({"op":"set","path":"sections.0.faqs.1.question","value":5})],
            &allow
        )
        .is_err());
        assert!(validate_sdr_ops(
            &[json!({"op":"remove","path":"sections.0.faqs","index":0})],
            &allow
        )
        .is_err());
        assert!(validate_sdr_ops(
            &[json!({"op":"set","path":"sections.0.faqs.x.question","value":"Q"})],
            &allow
        )
        .is_err());
    }
}
