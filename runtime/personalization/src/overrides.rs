//! Copy overrides from the model's answer, and the deterministic ones used
//! when the model gives none (CONTRACT 7.6).

use serde_json::{Map, Value};

use crate::head::Derived;
use crate::{collapse, cut_chars};

/// Longest override value kept.
pub const MAX_OVERRIDE_CHARS: usize = 400;

/// Fences, non-breaking spaces and curly quotes removed, so JSON and
/// `key: value` lines parse.
fn tidy(raw: &str) -> String {
    raw.replace("```json", "")
        .replace("```JSON", "")
        .replace("```", "")
        .replace(['\u{a0}', '\u{202f}'], " ")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace(['\u{2018}', '\u{2019}'], "'")
}

/// The first balanced `{...}` (braces inside strings ignored).
fn first_object(s: &str) -> Option<&str> {
    let start = s.find('{')?;
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, c) in s[start..].char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `,}` and `,]` (with white space between) become `}` and `]`.
fn drop_trailing_commas(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Parses a JSON object out of model text: fences, trailing commas and text
/// around the first balanced object tolerated.
pub fn parse_object(raw: &str) -> Option<Map<String, Value>> {
    let text = tidy(raw);
    let obj = first_object(&text)?;
    serde_json::from_str::<Value>(obj)
        .or_else(|_| serde_json::from_str::<Value>(&drop_trailing_commas(obj)))
        .ok()?
        .as_object()
        .cloned()
}

/// A value the page may show: one line, not blank, no links, at most
/// [`MAX_OVERRIDE_CHARS`] characters.
fn clean_value(v: &str) -> Option<String> {
    let v = collapse(v.trim().trim_matches('"'));
    let lower = v.to_ascii_lowercase();
    if v.is_empty()
        || lower.contains("http://")
        || lower.contains("https://")
        || lower.contains("www.")
    {
        return None;
    }
    Some(cut_chars(&v, MAX_OVERRIDE_CHARS))
}

fn clean_key(k: &str) -> &str {
    k.trim()
        .trim_start_matches(['-', '*', '•'])
        .trim()
        .trim_matches(['"', '\'', '`'])
}

/// The overrides in the model's answer, only for `allowed` keys, in the
/// order of `allowed`.
pub fn parse_overrides(raw: &str, allowed: &[String]) -> Map<String, Value> {
    let mut found: Vec<(String, String)> = Vec::new();
    if let Some(obj) = parse_object(raw) {
        let inner = obj
            .get("copyOverrides")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or(obj);
        for (k, v) in inner {
            if let Some(s) = v.as_str() {
                found.push((k, s.to_owned()));
            }
        }
    } else {
        for line in tidy(raw).lines() {
            let split = line
                .split_once('\t')
                .or_else(|| line.split_once(':'))
                .or_else(|| line.split_once('='));
            if let Some((k, v)) = split {
                found.push((clean_key(k).to_owned(), v.to_owned()));
            }
        }
    }
    let mut out = Map::new();
    for key in allowed {
        let value = found
            .iter()
            .filter(|(k, _)| clean_key(k) == key)
            .find_map(|(_, v)| clean_value(v));
        if let Some(v) = value {
            out.insert(key.clone(), Value::String(v));
        }
    }
    out
}

/// Overrides written from the signals alone, for the keys we know how to
/// fill; unknown keys are left to the template's own copy.
pub fn fallback(derived: &Derived, allowed: &[String], faq: bool) -> Map<String, Value> {
    let brand = derived.brand_name.as_deref();
    let kind = derived.business_type.as_deref();
    let mut out = Map::new();
    for key in allowed {
        let lower = key.to_ascii_lowercase();
        let value = match lower.as_str() {
            "herotitle" | "title" | "headline" => Some(match (brand, faq) {
                (Some(b), true) => format!("Questions about {b}"),
                (Some(b), false) => b.to_owned(),
                (None, true) => "Frequently asked questions".to_owned(),
                (None, false) => "Welcome".to_owned(),
            }),
            "herosubtitle" | "subtitle" | "subheadline" => derived
                .description
                .as_deref()
                .map(|d| cut_chars(d, 160))
                .or_else(|| kind.map(|k| format!("{k}, made simple")))
                .or_else(|| brand.map(|b| format!("Everything you need to know about {b}"))),
            "sectiontitle" => Some(match (brand, faq) {
                (Some(b), true) => format!("What people ask {b}"),
                (Some(b), false) => format!("Why choose {b}"),
                (None, true) => "Common questions".to_owned(),
                (None, false) => "Why choose us".to_owned(),
            }),
            "ctatext" | "cta" | "buttontext" => Some(if faq {
                "Ask a question".to_owned()
            } else {
                "Get in touch".to_owned()
            }),
            _ => None,
        };
        if let Some(v) = value.and_then(|v| clean_value(&v)) {
            out.insert(key.clone(), Value::String(v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        ["heroTitle", "heroSubtitle", "sectionTitle", "ctaText"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn json_answers_nested_flat_fenced_and_sloppy() {
        let nested = "```json\n{\"copyOverrides\": {\"heroTitle\": \"Bread  daily\", \"other\": \"x\",}}\n```";
        let o = parse_overrides(nested, &allowed());
        assert_eq!(o.get("heroTitle"), Some(&Value::from("Bread daily")));
        assert_eq!(o.len(), 1);
        let flat = "Sure! {\u{201c}ctaText\u{201d}: \u{201c}Order now\u{201d}} hope it helps";
        assert_eq!(
            parse_overrides(flat, &allowed()).get("ctaText"),
            Some(&Value::from("Order now"))
        );
    }

    #[test]
    fn line_answers_and_refused_values() {
        let raw = "heroTitle\tFresh bread\n- ctaText: Visit https://x.io\nsectionTitle = Our ovens\nheroSubtitle:   \n";
        let o = parse_overrides(raw, &allowed());
        assert_eq!(o.get("heroTitle"), Some(&Value::from("Fresh bread")));
        assert_eq!(o.get("sectionTitle"), Some(&Value::from("Our ovens")));
        assert!(o.get("ctaText").is_none(), "links are refused");
        assert!(o.get("heroSubtitle").is_none(), "blank values are refused");
        let long = format!("heroTitle\t{}", "a".repeat(500));
        assert_eq!(
            parse_overrides(&long, &allowed())["heroTitle"]
                .as_str()
                .map(|s| s.chars().count()),
            Some(MAX_OVERRIDE_CHARS)
        );
    }

    #[test]
    fn fallback_fills_known_keys() {
        let d = Derived {
            brand_name: Some("Acme".into()),
            business_type: Some("bakery".into()),
            description: None,
        };
        let mut keys = allowed();
        keys.push("unknownKey".into());
        let o = fallback(&d, &keys, false);
        assert_eq!(o["heroTitle"], "Acme");
        assert_eq!(o["heroSubtitle"], "bakery, made simple");
        assert_eq!(o["sectionTitle"], "Why choose Acme");
        assert!(o.get("unknownKey").is_none());
        assert_eq!(
            fallback(&d, &keys, true)["heroTitle"],
            "Questions about Acme"
        );
    }
}
