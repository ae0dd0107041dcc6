//! JSON extraction from model text (CONTRACT 7.3.7): bare JSON, fenced JSON,
//! or the outermost `{…}` embedded in prose; otherwise a fail-soft message.
//! Unlike the original, text that looks like HTML, code or noise is never
//! shown to the user (15.8): only plain prose passes through.

use serde_json::{Map, Value};

use super::text::clip;

/// Longest model prose shown as the message when no JSON was found.
pub const FALLBACK_MAX_CHARS: usize = 1200;

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Object(Map<String, Value>),
    /// Valid JSON that is not an object (the caller answers 502).
    NotObject,
    /// No JSON at all: `message` is safe to show.
    Fallback {
        message: String,
    },
}

fn strip_fence(t: &str) -> Option<&str> {
    if !t.starts_with("```") {
        return None;
    }
    let body = t.split_once('\n').map_or("", |(_, rest)| rest);
    // `split_inclusive` keeps exact bytes, so the cut below is a char boundary
    // whatever the line endings.
    let mut lines: Vec<&str> = body.split_inclusive('\n').collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim().chars().all(|c| c == '`'))
    {
        lines.pop();
    }
    let end = lines.iter().map(|l| l.len()).sum::<usize>();
    Some(&body[..end])
}

pub fn parse_model_json(text: &str) -> Parsed {
    let t = text.trim();
    let candidate = strip_fence(t).unwrap_or(t);
    if let Ok(v) = serde_json::from_str::<Value>(candidate) {
        return match v {
            Value::Object(m) => Parsed::Object(m),
            _ => Parsed::NotObject,
        };
    }
    if let (Some(a), Some(b)) = (t.find('{'), t.rfind('}')) {
        if a < b {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&t[a..=b]) {
                return Parsed::Object(m);
            }
        }
    }
    Parsed::Fallback {
        message: safe_prose(t).unwrap_or_else(|| super::messages::MODEL_UNREADABLE.to_owned()),
    }
}

/// `Some(text)` when `t` reads like a sentence a person could use; `None`
/// for markup, code, broken JSON or noise.
pub fn safe_prose(t: &str) -> Option<String> {
    let t = t.trim();
    if t.is_empty() {
        return None;
    }
    let bytes = t.as_bytes();
    let markup = bytes
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'));
    let code = t.contains('{') || t.contains('[') || t.contains("```");
    let control = t
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r');
    let visible: Vec<char> = t.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = visible.iter().filter(|c| c.is_alphabetic()).count();
    if markup || code || control || letters * 2 < visible.len() {
        return None;
    }
    let t = dedupe_paragraphs(t);
    if repeats_a_sentence(&t) {
        return None;
    }
    let t = t.as_str();
    if t.chars().count() > FALLBACK_MAX_CHARS {
        Some(format!("{}\n\n[truncated]", clip(t, FALLBACK_MAX_CHARS)))
    } else {
        Some(t.to_owned())
    }
}

/// Drops paragraphs that repeat an earlier one: small models loop, and a
/// looping reply should read as one paragraph, not a wall of copies.
pub fn dedupe_paragraphs(t: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for p in t.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    seen.join("\n\n")
}

/// The same sentence three times or more is a loop, not an answer.
fn repeats_a_sentence(t: &str) -> bool {
    let sentences: Vec<&str> = t
        .split(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| s.len() > 12)
        .collect();
    sentences
        .iter()
        .any(|s| sentences.iter().filter(|o| *o == s).count() >= 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(p: Parsed) -> Value {
        match p {
            Parsed::Object(m) => Value::Object(m),
            other => panic!("expected an object, got {other:?}"),
        }
    }

    #[test]
    fn bare_fenced_and_embedded_json() {
        assert_eq!(
            obj(parse_model_json(r#" {"message":"ok"} "#)),
            json!({"message":"ok"})
        );
        assert_eq!(
            obj(parse_model_json("```json\n{\"message\":\"ok\"}\n```\n")),
            json!({"message":"ok"})
        );
        assert_eq!(obj(parse_model_json("```\n{\"a\":1}\n```")), json!({"a":1}));
        assert_eq!(
            obj(parse_model_json("```json\r\n{\"m\":\"éé\"}\r\n```\r\n")),
            json!({"m":"éé"})
        );
        assert_eq!(
            obj(parse_model_json(
                "Sure! {\"message\":\"x\",\"ops\":[]} hope it helps"
            )),
            json!({"message":"x","ops":[]})
        );
    }

    #[test]
    fn non_objects_are_reported() {
        assert_eq!(parse_model_json("[1,2]"), Parsed::NotObject);
        assert_eq!(parse_model_json("\"hello\""), Parsed::NotObject);
        assert_eq!(parse_model_json("42"), Parsed::NotObject);
    }

    #[test]
    fn prose_passes_but_markup_and_noise_do_not() {
        assert_eq!(
            parse_model_json("Sure, I changed it."),
            Parsed::Fallback {
                message: "Sure, I changed it.".into()
            }
        );
        let unreadable = Parsed::Fallback {
            message: crate::messages::MODEL_UNREADABLE.into(),
        };
        assert_eq!(
            parse_model_json("<html><body>502 Bad Gateway</body></html>"),
            unreadable
        );
        assert_eq!(parse_model_json("{\"message\": \"cut off"), unreadable);
        assert_eq!(parse_model_json("%%%% 1234 ### \u{0}"), unreadable);
        assert_eq!(parse_model_json("   "), unreadable);
        let looped = "It is a question about the product.\n\n".repeat(5);
        assert_eq!(
            parse_model_json(&looped),
            Parsed::Fallback {
                message: "It is a question about the product.".into()
            }
        );
        let looped = "It is a question about the product. ".repeat(4);
        assert_eq!(parse_model_json(&looped), unreadable);
        let long = "word ".repeat(400);
        match parse_model_json(&long) {
            Parsed::Fallback { message } => assert!(
                message.ends_with("\n\n[truncated]") && message.chars().count() == 1200 + 13
            ),
            other => panic!("{other:?}"),
        }
    }
}
