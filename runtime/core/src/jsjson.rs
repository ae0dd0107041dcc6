//! JSON the way JavaScript writes it, for bytes that must match what Paris
//! (Node) produces: `JSON.stringify` key order and number formatting, and
//! `String(v)` for template literals.

use serde_json::Value;

/// `String(v)` for the JSON values a template literal can meet.
pub(crate) fn js_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(js_number).unwrap_or_default(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Array(a) => a.iter().map(js_to_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// `Number.prototype.toString()` for the values grants carry: integers print
/// without a fraction, others with the shortest round-trip digits (Rust's
/// `Display` agrees with JS there). Exponent notation (|x| >= 1e21 or
/// < 1e-6) is not reproduced; no grant field reaches those magnitudes.
pub fn js_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e21 {
        format!("{}", x as i128)
    } else {
        format!("{x}")
    }
}

/// A JSON number from an f64, written as an integer when it is one (so the
/// re-serialised payload stays as JavaScript would print it).
pub(crate) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

/// `JSON.stringify` of a JSON value: compact, keys in the map's order, numbers
/// as JavaScript prints them (`1`, not `1.0`).
pub fn js_stringify(v: &Value) -> String {
    let mut out = String::new();
    write_js(v, &mut out);
    out
}

fn write_js(v: &Value, out: &mut String) {
    match v {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&js_number(f)),
            _ => out.push_str("null"),
        },
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // serde_json escapes strings exactly like JSON.stringify for
                // valid Unicode: `"` `\` and the C0 controls (short forms
                // \b \f \n \r \t, else \u00xx lowercase).
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_js(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}
