//! Placeholders a translation must keep (CONTRACT 7.4 step 13): `{x}`,
//! `{{x}}` and `:name`, plus the spacing repair models often need
//! (`{{ name }}` back to `{{name}}`).

use crate::js::{is_js_space, is_word};

/// Byte ranges of `\{\{[^{}]+\}\}|\{[^{}]+\}` matches, left to right.
fn brace_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    let run_end = |from: usize| {
        let mut j = from;
        while j < b.len() && b[j] != b'{' && b[j] != b'}' {
            j += 1;
        }
        j
    };
    while i < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'{') {
            let j = run_end(i + 2);
            if j > i + 2 && b.get(j) == Some(&b'}') && b.get(j + 1) == Some(&b'}') {
                spans.push((i, j + 2));
                i = j + 2;
                continue;
            }
        }
        let j = run_end(i + 1);
        if j > i + 1 && b.get(j) == Some(&b'}') {
            spans.push((i, j + 1));
            i = j + 1;
            continue;
        }
        i += 1;
    }
    spans
}

/// The brace placeholders of `s`, in order, duplicates kept.
pub fn brace_placeholders(s: &str) -> Vec<&str> {
    brace_spans(s).into_iter().map(|(a, z)| &s[a..z]).collect()
}

/// `:name` tokens, each at the start or after a non-word character; the
/// character before is consumed by the match, so in `:a:b` only `:a` counts
/// (the original's global regex behaves the same way).
fn colon_placeholders(s: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|c| c.1);
    let mut out = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let starts_name = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        // Either `^:name` (only at 0) or `<non-word>:name`, tried in that order.
        let at_start = (k == 0 && at(0) == Some(':') && starts_name(at(1))).then_some(0);
        let after_other = (at(k).is_some_and(|c| !is_word(c))
            && at(k + 1) == Some(':')
            && starts_name(at(k + 2)))
        .then_some(k + 1);
        match at_start.or(after_other) {
            Some(ci) => {
                let mut end = ci + 2;
                while at(end).is_some_and(is_word) {
                    end += 1;
                }
                let from = chars[ci].0;
                let to = chars.get(end).map_or(s.len(), |c| c.0);
                out.push(&s[from..to]);
                k = end;
            }
            None => k += 1,
        }
    }
    out
}

/// Every placeholder of `s`: brace ones first, then colon ones.
pub fn placeholders(s: &str) -> Vec<&str> {
    let mut out = brace_placeholders(s);
    out.extend(colon_placeholders(s));
    out
}

/// Whether both texts hold the same multiset of placeholders.
pub fn same_placeholders(source: &str, translated: &str) -> bool {
    let mut a = placeholders(source);
    let mut b = placeholders(translated);
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// Replaces every `{` + spaces + `inner` + spaces + `}` (or the double-brace
/// form) in `text` by `token`, scanning left to right like a global regex.
pub(crate) fn replace_spaced(text: &str, inner: &str, double: bool, token: &str) -> String {
    let (open, close) = if double { ("{{", "}}") } else { ("{", "}") };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(len) = spaced_match(rest, open, inner, close) {
            out.push_str(token);
            i += len;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Length of `open \s* inner \s* close` at the start of `s`, if it is there.
fn spaced_match(s: &str, open: &str, inner: &str, close: &str) -> Option<usize> {
    let after_open = s.strip_prefix(open)?;
    let body = after_open.trim_start_matches(is_js_space);
    let after_inner = body.strip_prefix(inner)?;
    let tail = after_inner.trim_start_matches(is_js_space);
    let after_close = tail.strip_prefix(close)?;
    Some(s.len() - after_close.len())
}

/// Puts the source's brace placeholders back where the model only changed
/// their inner spacing (`{ name }` -> `{name}`).
pub fn normalize_brace_spacing(source: &str, translated: &str) -> String {
    let mut tokens: Vec<&str> = Vec::new();
    for t in brace_placeholders(source) {
        if !tokens.contains(&t) {
            tokens.push(t);
        }
    }
    let mut out = translated.to_owned();
    for token in tokens {
        let double = token.starts_with("{{") && token.ends_with("}}");
        let inner = if double {
            &token[2..token.len() - 2]
        } else {
            &token[1..token.len() - 1]
        };
        let inner = crate::js::js_trim(inner);
        if inner.is_empty() {
            continue;
        }
        out = replace_spaced(&out, inner, double, token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_brace_placeholders() {
        assert_eq!(
            brace_placeholders("Hi {name}, {{count}} {x"),
            vec!["{name}", "{{count}}"]
        );
        assert_eq!(brace_placeholders("{{x}"), vec!["{x}"]);
        assert_eq!(brace_placeholders("{x}}"), vec!["{x}"]);
        assert_eq!(brace_placeholders("{}{{}}"), Vec::<&str>::new());
        assert_eq!(brace_placeholders("{{a}}{b}"), vec!["{{a}}", "{b}"]);
    }

    #[test]
    fn finds_colon_placeholders() {
        assert_eq!(
            colon_placeholders(":name and :other_1"),
            vec![":name", ":other_1"]
        );
        assert_eq!(colon_placeholders("a:b"), Vec::<&str>::new());
        assert_eq!(colon_placeholders("::x"), vec![":x"]);
        assert_eq!(colon_placeholders(":a:b"), vec![":a"]);
        assert_eq!(colon_placeholders("é:x 12:30 :9"), vec![":x"]);
        assert_eq!(colon_placeholders("time: now"), Vec::<&str>::new());
    }

    #[test]
    fn parity_is_a_multiset_comparison() {
        assert!(same_placeholders("{a} {b} :c", ":c {b} {a}"));
        assert!(!same_placeholders("{a} {a}", "{a}"));
        assert!(!same_placeholders("{a}", "{A}"));
        assert!(same_placeholders("no tokens", "keine"));
    }

    #[test]
    fn spacing_is_repaired() {
        assert_eq!(
            normalize_brace_spacing("Hi {{name}} {n}", "Salut {{ name }} { n }"),
            "Salut {{name}} {n}"
        );
        assert_eq!(normalize_brace_spacing("{ a }", "{a}"), "{ a }");
        assert_eq!(normalize_brace_spacing("plain", "{ x }"), "{ x }");
    }
}
