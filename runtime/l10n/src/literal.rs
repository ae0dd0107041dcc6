//! Values not worth sending to a model (CONTRACT 7.4 step 10): copied as they are.

use crate::js::{is_js_space, js_trim};

/// Blank, a bare URL, an e-mail address, or text with no ASCII letter at all
/// (numbers, prices, symbols — and, as in the original, text written only in
/// non-Latin scripts, which is therefore copied rather than translated).
pub fn is_copied_literal(value: &str) -> bool {
    let t = js_trim(value);
    t.is_empty() || is_url(t) || is_email(t) || !t.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `^https?:\/\/\S+$` (case-insensitive).
fn is_url(t: &str) -> bool {
    let b = t.as_bytes();
    let has = |p: &[u8]| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p);
    // The prefixes are ASCII, so the cut after them is a char boundary.
    let rest = if has(b"https://") {
        &t[8..]
    } else if has(b"http://") {
        &t[7..]
    } else {
        return false;
    };
    !rest.is_empty() && !rest.chars().any(is_js_space)
}

/// `^[^\s@]+@[^\s@]+\.[^\s@]+$`.
fn is_email(t: &str) -> bool {
    if t.chars().any(is_js_space) {
        return false;
    }
    let Some((local, domain)) = t.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    // Some '.' with at least one character on each side.
    domain
        .char_indices()
        .any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied() {
        for v in [
            "",
            "  ",
            "https://example.com/x?y=1",
            "HTTP://A",
            "http://é.fr",
            "info@example.com",
            "a@b.c",
            "42",
            "$19.99",
            "—",
            "こんにちは",
        ] {
            assert!(is_copied_literal(v), "{v:?}");
        }
    }

    #[test]
    fn translated() {
        for v in [
            "Hello",
            "https://",
            "see https://example.com",
            "a@b",
            "a@.b",
            "a@b.",
            "@b.c",
            "a@@b.c",
            "x 1",
            "Ünïcode and ascii",
        ] {
            assert!(!is_copied_literal(v), "{v:?}");
        }
    }
}
