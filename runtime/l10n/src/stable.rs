//! `stableStringify` and the base fingerprint (CONTRACT 2.8).
//!
//! Paris compares fingerprints computed by the original with ours, so this
//! output must be byte-identical to the original helper: object keys sorted
//! recursively (by UTF-16 code units, as JavaScript's default `sort()` does),
//! arrays in order, and every scalar rendered exactly as `JSON.stringify`
//! renders it — numbers included (`1e+21`, `1.5e-7`, `-0` as `0`, integers
//! above 2^53 rounded to the nearest double).

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use crate::js::cmp_utf16;

/// Canonical JSON text of `value`: sorted keys, no whitespace, JavaScript
/// number and string formatting.
pub fn stable_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// `sha256_hex(stable_stringify(snapshot))`: the `baseFingerprint` of a
/// snapshot (or of any JSON value).
pub fn base_fingerprint(snapshot: &Value) -> String {
    sha256_hex(stable_stringify(snapshot).as_bytes())
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&js_number(n)),
        Value::String(s) => write_js_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| cmp_utf16(a.0, b.0));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_js_string(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

/// `JSON.stringify(value)` (keys in their stored order, no whitespace), for
/// text the original built with it, such as model prompts.
pub fn js_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_plain(&mut out, value, None, 0);
    out
}

/// `JSON.stringify(value, null, 2)`.
pub fn js_stringify_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_plain(&mut out, value, Some(2), 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(step) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', step * depth));
    }
}

fn write_plain(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_plain(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_js_string(out, key);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_plain(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
        other => write_value(out, other),
    }
}

/// `JSON.stringify(s)` for a string: the two mandatory escapes, the five
/// short control escapes, `\u00XX` (lower-case hex) for the other controls,
/// everything else (U+2028, U+2029, DEL, non-ASCII) verbatim.
pub fn write_js_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let v = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[v >> 4]));
                out.push(char::from(HEX[v & 0x0f]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// JavaScript `Number.prototype.toString()` of a JSON number, which is what
/// `JSON.stringify` emits. JavaScript has only doubles, so every number is
/// first taken as the nearest `f64`.
pub fn js_number(n: &Number) -> String {
    let x = match (n.as_u64(), n.as_i64(), n.as_f64()) {
        (Some(u), _, _) => u as f64,
        (None, Some(i), _) => i as f64,
        (None, None, Some(f)) => f,
        // Unreachable without serde_json's arbitrary_precision; JavaScript
        // would have had a double, and a non-finite one stringifies to null.
        (None, None, None) => return "null".to_owned(),
    };
    js_f64(x)
}

/// `Number.prototype.toString()` for a double (ECMA-262 Number::toString,
/// radix 10): the shortest round-tripping digits laid out in fixed notation
/// for exponents in [-7, 21), otherwise as `d.ddde±x`.
pub fn js_f64(x: f64) -> String {
    if x.is_nan() || x.is_infinite() {
        return "null".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned(); // also -0
    }
    // Rust's `{:e}` prints the shortest digits that round-trip, e.g. "1.5e-7".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i64 = exp.parse().unwrap_or(0);
    let k = digits.len() as i64;
    let n = exp + 1; // position of the decimal point relative to the digits
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let e = n - 1;
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.abs().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(text: &str) -> String {
        let v: Value = serde_json::from_str(text).expect("test literal");
        stable_stringify(&v)
    }

    #[test]
    fn numbers_follow_javascript() {
        assert_eq!(num("0"), "0");
        assert_eq!(num("-0"), "0");
        assert_eq!(num("-0.0"), "0");
        assert_eq!(num("1.0"), "1");
        assert_eq!(num("100"), "100");
        assert_eq!(num("0.1"), "0.1");
        assert_eq!(num("-1.5"), "-1.5");
        assert_eq!(num("1e21"), "1e+21");
        assert_eq!(num("1e20"), "100000000000000000000");
        assert_eq!(num("123456789012345678901234"), "1.2345678901234569e+23");
        assert_eq!(num("0.000001"), "0.000001");
        assert_eq!(num("0.0000001"), "1e-7");
        assert_eq!(num("1.5e-7"), "1.5e-7");
        assert_eq!(num("12345678901234567890"), "12345678901234567000");
        assert_eq!(num("9007199254740993"), "9007199254740992");
        assert_eq!(num("-9223372036854775808"), "-9223372036854776000");
        assert_eq!(num("5e-324"), "5e-324");
        assert_eq!(num("1.7976931348623157e308"), "1.7976931348623157e+308");
        assert_eq!(num("0.30000000000000004"), "0.30000000000000004");
        assert_eq!(num("123.456"), "123.456");
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let v = json!("a\"b\\c\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}\u{2028}é😀/");
        assert_eq!(
            stable_stringify(&v),
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\u{7F}\u{2028}é😀/\""
        );
    }

    #[test]
    fn keys_sorted_recursively_arrays_kept() {
        let v = json!({"b": 1, "a": [{"z": true, "y": null}], "A": "x"});
        assert_eq!(
            stable_stringify(&v),
            r#"{"A":"x","a":[{"y":null,"z":true}],"b":1}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16_units() {
        let v = json!({"\u{FF01}": 1, "\u{1F600}": 2});
        assert_eq!(stable_stringify(&v), "{\"\u{1F600}\":2,\"\u{FF01}\":1}");
    }

    #[test]
    fn plain_stringify_keeps_order_and_pretty_indents() {
        let v = json!([{"path": "a", "type": "string", "value": "x\ny"}, [], {}]);
        assert_eq!(
            js_stringify(&v),
            r#"[{"path":"a","type":"string","value":"x\ny"},[],{}]"#
        );
        assert_eq!(
            js_stringify_pretty(&v),
            "[\n  {\n    \"path\": \"a\",\n    \"type\": \"string\",\n    \"value\": \"x\\ny\"\n  },\n  [],\n  {}\n]"
        );
    }

    #[test]
    fn fingerprint_of_empty_snapshot() {
        // sha256("{}")
        assert_eq!(
            base_fingerprint(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
