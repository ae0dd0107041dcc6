//! A page's head meta (title, description, Open Graph, JSON-LD name) and the
//! brand signals derived from it (CONTRACT 7.6). Not an HTML parser: a scan
//! good enough for the tags sites put in their head.

use serde_json::{json, Map, Value};

use crate::{collapse, cut_chars};

/// The head fields the agents use; each trimmed, non-empty when present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub og_title: Option<String>,
    pub og_description: Option<String>,
    pub og_site_name: Option<String>,
    pub jsonld_name: Option<String>,
}

impl HeadMeta {
    /// Whether the head says anything a model can use.
    pub fn is_useful(&self) -> bool {
        self.title.is_some()
            || self.description.is_some()
            || self.og_title.is_some()
            || self.og_description.is_some()
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("title", &self.title),
            ("description", &self.description),
            ("ogTitle", &self.og_title),
            ("ogDescription", &self.og_description),
            ("ogSiteName", &self.og_site_name),
            ("jsonLdName", &self.jsonld_name),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }
}

/// Longest head value kept.
const MAX_META_CHARS: usize = 300;

fn clean(s: &str) -> Option<String> {
    let s = cut_chars(&collapse(&decode_entities(s)), MAX_META_CHARS);
    (!s.is_empty()).then_some(s)
}

/// The few entities head values use.
pub fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `name="value"`, `name='value'` or `name=value` attributes of one tag's inside.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && !b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b':') {
            i += 1;
        }
        let name = tag[start..i].to_ascii_lowercase();
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let value = match b.get(i) {
            Some(q @ (b'"' | b'\'')) => {
                let end = tag[i + 1..]
                    .find(*q as char)
                    .map_or(tag.len(), |e| i + 1 + e);
                let v = &tag[i + 1..end];
                i = end + 1;
                v
            }
            Some(_) => {
                let end = tag[i..]
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .map_or(tag.len(), |e| i + e);
                let v = &tag[i..end];
                i = end;
                v
            }
            None => "",
        };
        out.push((name, value.to_owned()));
    }
    out
}

/// `name` of the first JSON-LD object (or `@graph` item) that has one.
fn jsonld_name(v: &Value) -> Option<String> {
    match v {
        Value::Array(items) => items.iter().find_map(jsonld_name),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .and_then(clean)
            .or_else(|| o.get("@graph").and_then(jsonld_name)),
        _ => None,
    }
}

/// Reads the head fields of an HTML document (the whole text is scanned, as
/// sites sometimes put meta tags in the body).
pub fn extract_head(html: &str) -> HeadMeta {
    let lower = html.to_ascii_lowercase();
    let mut meta = HeadMeta::default();
    if let Some(s) = lower.find("<title") {
        if let Some(open_end) = lower[s..].find('>').map(|e| s + e + 1) {
            let end = lower[open_end..]
                .find("</title")
                .map_or(lower.len(), |e| open_end + e);
            meta.title = clean(&html[open_end..end]);
        }
    }
    let mut at = 0;
    while let Some(p) = lower[at..].find("<meta") {
        let s = at + p;
        let e = lower[s..].find('>').map_or(lower.len(), |e| s + e);
        let attrs = attributes(&html[s + 5..e]);
        at = e.max(s + 5);
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let key = get("property")
            .or_else(|| get("name"))
            .unwrap_or("")
            .to_ascii_lowercase();
        let Some(content) = get("content").and_then(clean) else {
            continue;
        };
        let slot = match key.as_str() {
            "description" => &mut meta.description,
            "og:title" => &mut meta.og_title,
            "og:description" => &mut meta.og_description,
            "og:site_name" => &mut meta.og_site_name,
            _ => continue,
        };
        slot.get_or_insert(content);
    }
    let mut at = 0;
    while meta.jsonld_name.is_none() {
        let Some(p) = lower[at..].find("application/ld+json") else {
            break;
        };
        let s = at + p;
        let Some(open_end) = lower[s..].find('>').map(|e| s + e + 1) else {
            break;
        };
        let end = lower[open_end..]
            .find("</script")
            .map_or(lower.len(), |e| open_end + e);
        if let Ok(v) = serde_json::from_str::<Value>(html[open_end..end].trim()) {
            meta.jsonld_name = jsonld_name(&v);
        }
        at = end;
    }
    meta
}

/// What the agents guess about the business from a URL and its head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    pub brand_name: Option<String>,
    pub business_type: Option<String>,
    pub description: Option<String>,
}

impl Derived {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("brandNameGuess", &self.brand_name),
            ("businessTypeGuess", &self.business_type),
            ("descriptionGuess", &self.description),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }
}

fn title_parts(title: &str) -> Vec<String> {
    title
        .split(['|', '–', '—', '·', ':'])
        .flat_map(|p| p.split(" - "))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `example` from `www.example.co.uk`, capitalised.
fn host_brand(host: &str) -> Option<String> {
    let host = host.trim_start_matches("www.");
    let label = host.split('.').next().filter(|l| !l.is_empty())?;
    if label.starts_with('[') || label.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut c = label.chars();
    let first = c.next()?;
    Some(first.to_uppercase().chain(c).collect())
}

/// `bakery in Lyon` from "Acme is a bakery in Lyon. We …".
fn type_from_description(d: &str) -> Option<String> {
    let lower = d.to_lowercase();
    let (pos, len) = [" is a ", " is an ", " is the "]
        .iter()
        .find_map(|m| lower.find(m).map(|p| (p, m.len())))?;
    let rest = d.get(pos + len..)?;
    let phrase: String = rest
        .split(['.', ',', ';', '!', '?', '\n'])
        .next()
        .unwrap_or("")
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ");
    (!phrase.is_empty()).then_some(phrase)
}

/// Brand from JSON-LD name, `og:site_name`, the title's first part, then the
/// host name; type from the title's second part or "X is a …" in the
/// description (CONTRACT 7.6).
pub fn derive(host: &str, head: Option<&HeadMeta>) -> Derived {
    let title = head.and_then(|h| h.title.as_deref().or(h.og_title.as_deref()));
    let parts = title.map(title_parts).unwrap_or_default();
    let description = head.and_then(|h| h.description.clone().or(h.og_description.clone()));
    let brand_name = head
        .and_then(|h| h.jsonld_name.clone().or(h.og_site_name.clone()))
        .or_else(|| parts.first().cloned())
        .or_else(|| host_brand(host));
    let business_type = parts
        .get(1)
        .cloned()
        .or_else(|| description.as_deref().and_then(type_from_description));
    Derived {
        brand_name,
        business_type,
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTML: &str = r#"<html><head><title>Acme Bakery | Fresh bread in Lyon</title>
        <meta name="description" content="Acme is a family bakery in Lyon. Since 1920.">
        <meta property='og:site_name' content='Acme &amp; Sons'>
        <script type="application/ld+json">{"@graph":[{"@type":"Organization","name":"Acme SARL"}]}</script>
        </head><body>Hi</body></html>"#;

    #[test]
    fn reads_the_head() {
        let h = extract_head(HTML);
        assert_eq!(
            h.title.as_deref(),
            Some("Acme Bakery | Fresh bread in Lyon")
        );
        assert_eq!(
            h.description.as_deref(),
            Some("Acme is a family bakery in Lyon. Since 1920.")
        );
        assert_eq!(h.og_site_name.as_deref(), Some("Acme & Sons"));
        assert_eq!(h.jsonld_name.as_deref(), Some("Acme SARL"));
        assert!(h.is_useful());
        assert!(!extract_head("<p>nothing</p>").is_useful());
    }

    #[test]
    fn derives_signals_in_the_contract_order() {
        let h = extract_head(HTML);
        let d = derive("www.acme.fr", Some(&h));
        assert_eq!(d.brand_name.as_deref(), Some("Acme SARL"));
        assert_eq!(d.business_type.as_deref(), Some("Fresh bread in Lyon"));
        let only_desc = HeadMeta {
            description: Some("Rocket Co is an aerospace startup, based in Ohio".into()),
            ..HeadMeta::default()
        };
        let d = derive("rocket.example", Some(&only_desc));
        assert_eq!(d.brand_name.as_deref(), Some("Rocket"));
        assert_eq!(d.business_type.as_deref(), Some("aerospace startup"));
        assert_eq!(derive("127.0.0.1", None).brand_name, None);
    }
}
