//! Richtext (HTML-bearing) values: finding tags, masking them as
//! `{{__CK_L10N_TAG_i__}}` before a model call and putting them back after,
//! splitting a value into text segments for the per-segment fallback, and
//! reading the `<a>` links whose parity the safety checks enforce.

use crate::allowlist::EntryType;
use crate::allowlist::Item;
use crate::js::{is_js_space, is_word, js_trim};
use crate::literal::is_copied_literal;
use crate::placeholders::replace_spaced;

/// Byte ranges of HTML tags: `<`, optional `/`, an ASCII letter, then
/// `[A-Za-z0-9-]*`, then either `>` or a whitespace character, anything but
/// `<`/`>`, and `>`. (`<br/>` is not a tag by this rule; `<br />` is.)
pub fn tag_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match tag_at(s, i) {
            Some(end) => {
                spans.push((i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    spans
}

fn tag_at(s: &str, start: usize) -> Option<usize> {
    let b = s.as_bytes();
    if b.get(start) != Some(&b'<') {
        return None;
    }
    let mut j = start + 1;
    if b.get(j) == Some(&b'/') {
        j += 1;
    }
    if !b.get(j)?.is_ascii_alphabetic() {
        return None;
    }
    j += 1;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
    {
        j += 1;
    }
    if b.get(j) == Some(&b'>') {
        return Some(j + 1);
    }
    let c = s[j..].chars().next()?;
    if !is_js_space(c) {
        return None;
    }
    let attrs = &s[j + c.len_utf8()..];
    let stop = attrs.find(['<', '>'])?;
    (attrs.as_bytes()[stop] == b'>').then(|| s.len() - attrs.len() + stop + 1)
}

/// The tags of `s`, each reduced to `<name>`, `</name>` or `<name/>`
/// (lower case, attributes dropped): the sequence tag parity compares.
pub fn tag_tokens(s: &str) -> Vec<String> {
    tag_spans(s)
        .into_iter()
        .map(|(a, z)| {
            let tag = s[a..z].to_lowercase();
            let closing = tag.starts_with("</");
            let name: String = tag
                .trim_start_matches('<')
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if closing {
                format!("</{name}>")
            } else if tag.ends_with("/>") {
                format!("<{name}/>")
            } else {
                format!("<{name}>")
            }
        })
        .collect()
}

/// A richtext value with its tags replaced by numbered placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskPlan {
    pub masked: String,
    /// `(placeholder, original tag)` in order.
    pub tags: Vec<(String, String)>,
}

/// Masks the tags of a richtext value; `None` when it has none.
pub fn mask_tags(value: &str) -> Option<MaskPlan> {
    let spans = tag_spans(value);
    if spans.is_empty() {
        return None;
    }
    let mut masked = String::with_capacity(value.len());
    let mut tags = Vec::with_capacity(spans.len());
    let mut last = 0;
    for (i, (a, z)) in spans.into_iter().enumerate() {
        let placeholder = format!("{{{{__CK_L10N_TAG_{i}__}}}}");
        masked.push_str(&value[last..a]);
        masked.push_str(&placeholder);
        tags.push((placeholder, value[a..z].to_owned()));
        last = z;
    }
    masked.push_str(&value[last..]);
    Some(MaskPlan { masked, tags })
}

/// Repairs placeholder spacing the model may have added, then puts the tags back.
pub fn unmask_tags(translated: &str, plan: &MaskPlan) -> String {
    let mut out = translated.to_owned();
    for (placeholder, _) in &plan.tags {
        let inner = &placeholder[2..placeholder.len() - 2];
        out = replace_spaced(&out, inner, true, placeholder);
    }
    for (placeholder, tag) in &plan.tags {
        out = out.replace(placeholder.as_str(), tag);
    }
    out
}

/// One piece of a richtext value split at its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Tag(String),
    /// Text; `segment` names the item sent to the model, `None` if copied as is.
    Text {
        value: String,
        segment: Option<String>,
    },
}

/// A richtext value as tags and text segments (the fallback when the masked
/// translation fails the safety checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentPlan {
    pub parts: Vec<Part>,
    /// The translatable segments, paths `{path}::__segment__:{i}`, type string.
    pub segments: Vec<Item>,
}

/// Splits `value` (at `path`) into tags and text; text that is blank or a
/// copied literal keeps its source.
pub fn segment_plan(path: &str, value: &str) -> SegmentPlan {
    let mut plan = SegmentPlan {
        parts: Vec::new(),
        segments: Vec::new(),
    };
    let push_text = |text: &str, plan: &mut SegmentPlan| {
        let segment = (!js_trim(text).is_empty() && !is_copied_literal(text))
            .then(|| format!("{path}::__segment__:{}", plan.segments.len()));
        if let Some(seg) = &segment {
            plan.segments.push(Item {
                path: seg.clone(),
                kind: EntryType::String,
                value: text.to_owned(),
            });
        }
        plan.parts.push(Part::Text {
            value: text.to_owned(),
            segment,
        });
    };
    let mut last = 0;
    for (a, z) in tag_spans(value) {
        if a > last {
            push_text(&value[last..a], &mut plan);
        }
        plan.parts.push(Part::Tag(value[a..z].to_owned()));
        last = z;
    }
    if last < value.len() || plan.parts.is_empty() {
        push_text(&value[last..], &mut plan);
    }
    plan
}

/// Reassembles a value from its plan and the translated segments; `Err`
/// names the first segment the translations lack.
pub fn rebuild_from_segments(
    plan: &SegmentPlan,
    translated: &std::collections::HashMap<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    for part in &plan.parts {
        match part {
            Part::Tag(t) => out.push_str(t),
            Part::Text {
                value,
                segment: None,
            } => out.push_str(value),
            Part::Text {
                segment: Some(seg), ..
            } => match translated.get(seg) {
                Some(v) => out.push_str(v),
                None => return Err(seg.clone()),
            },
        }
    }
    Ok(out)
}

/// What link parity compares for each `<a ...>...</a>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub href: Option<String>,
    pub has_visible_text: bool,
}

/// The `<a>` elements of `s` (case-insensitive, first `</a>` closes).
pub fn anchors(s: &str) -> Vec<Anchor> {
    let lower = s.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = lower[i..].find("<a") {
        let start = i + off;
        let after = start + 2;
        // `\b` after the `a`: end of text or a non-word character.
        let boundary = lower[after..].chars().next().is_none_or(|c| !is_word(c));
        let open_end = if boundary {
            lower[after..].find('>')
        } else {
            None
        };
        let close = open_end.and_then(|o| {
            let inner_start = after + o + 1;
            lower[inner_start..]
                .find("</a>")
                .map(|c| (after + o, inner_start, inner_start + c))
        });
        match close {
            Some((attrs_end, inner_start, inner_end)) => {
                out.push(Anchor {
                    href: href_of(&s[after..attrs_end]),
                    has_visible_text: !visible_text(&s[inner_start..inner_end]).is_empty(),
                });
                i = inner_end + 4;
            }
            None => i = start + 1,
        }
        if i >= b.len() {
            break;
        }
    }
    out
}

/// The first `href = "..." | '...' | bare` of an attribute string, trimmed; `None` if empty.
fn href_of(attrs: &str) -> Option<String> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(off) = lower[from..].find("href") {
        let at = from + off;
        from = at + 1;
        if lower[..at].chars().next_back().is_some_and(is_word) {
            continue;
        }
        let rest = attrs[at + 4..].trim_start_matches(is_js_space);
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start_matches(is_js_space);
        let value = if let Some(q) = rest.strip_prefix('"') {
            q.find('"').map(|e| &q[..e])
        } else if let Some(q) = rest.strip_prefix('\'') {
            q.find('\'').map(|e| &q[..e])
        } else {
            let end = rest
                .find(|c: char| is_js_space(c) || "\"'=<>`".contains(c))
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        };
        if let Some(v) = value {
            let v = js_trim(v);
            return (!v.is_empty()).then(|| v.to_owned());
        }
    }
    None
}

/// `innerHTML` without tags, `&nbsp;` as a space, trimmed.
fn visible_text(inner: &str) -> String {
    let mut text = String::new();
    let mut last = 0;
    for (a, z) in tag_spans(inner) {
        text.push_str(&inner[last..a]);
        last = z;
    }
    text.push_str(&inner[last..]);
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(pos) = rest.to_ascii_lowercase().find("&nbsp;") {
        out.push_str(&rest[..pos]);
        out.push(' ');
        rest = &rest[pos + 6..];
    }
    out.push_str(rest);
    js_trim(&out).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn finds_tags() {
        let s = "<p class=\"x\">Hi <b>you</b><br/><br /> a < b <1> </p>";
        let tags: Vec<&str> = tag_spans(s).into_iter().map(|(a, z)| &s[a..z]).collect();
        assert_eq!(
            tags,
            vec!["<p class=\"x\">", "<b>", "</b>", "<br />", "</p>"]
        );
        assert_eq!(tag_tokens(s), vec!["<p>", "<b>", "</b>", "<br/>", "</p>"]);
        assert_eq!(tag_tokens("<A HREF='x'>"), vec!["<a>"]);
        assert_eq!(tag_spans("<p x<y>"), vec![(4, 7)]);
    }

    #[test]
    fn masks_and_unmasks() {
        let plan = mask_tags("Hello <b>world</b>!").expect("has tags");
        assert_eq!(
            plan.masked,
            "Hello {{__CK_L10N_TAG_0__}}world{{__CK_L10N_TAG_1__}}!"
        );
        let back = unmask_tags(
            "Bonjour {{ __CK_L10N_TAG_0__ }}monde{{__CK_L10N_TAG_1__}} !",
            &plan,
        );
        assert_eq!(back, "Bonjour <b>monde</b> !");
        assert_eq!(mask_tags("no tags"), None);
    }

    #[test]
    fn segments_and_rebuild() {
        let plan = segment_plan("body", "<p>Hello <a href=\"https://x.y\">there</a> 42</p>");
        let segs: Vec<(&str, &str)> = plan
            .segments
            .iter()
            .map(|s| (s.path.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            segs,
            vec![
                ("body::__segment__:0", "Hello "),
                ("body::__segment__:1", "there")
            ]
        );
        let mut tr = HashMap::new();
        tr.insert("body::__segment__:0".to_owned(), "Bonjour ".to_owned());
        assert_eq!(
            rebuild_from_segments(&plan, &tr),
            Err("body::__segment__:1".into())
        );
        tr.insert("body::__segment__:1".to_owned(), "toi".to_owned());
        assert_eq!(
            rebuild_from_segments(&plan, &tr),
            Ok("<p>Bonjour <a href=\"https://x.y\">toi</a> 42</p>".into())
        );
        let plain = segment_plan("t", "Just text");
        assert_eq!(plain.segments.len(), 1);
        assert_eq!(plain.segments[0].path, "t::__segment__:0");
    }

    #[test]
    fn reads_anchors() {
        let a = anchors(
            "<A HREF = 'https://a'>Go</a> <abbr>x</abbr> <a href=/b><img src=x></a><a>&nbsp;</A>",
        );
        assert_eq!(
            a,
            vec![
                Anchor {
                    href: Some("https://a".into()),
                    has_visible_text: true
                },
                Anchor {
                    href: Some("/b".into()),
                    has_visible_text: false
                },
                Anchor {
                    href: None,
                    has_visible_text: false
                },
            ]
        );
        assert!(anchors("<a href='x'>open").is_empty());
        assert_eq!(href_of(" xhref=\"no\" href=\"yes\""), Some("yes".into()));
        // `-` is a word boundary, as for the original's `\bhref`.
        assert_eq!(href_of(" data-href=\"no\" href=\"yes\""), Some("no".into()));
        assert_eq!(href_of(" href=\"  \""), None);
    }
}
