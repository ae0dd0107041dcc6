//! The few JavaScript string semantics the wire depends on.
//!
//! Limits and error messages count "characters" the way the original did:
//! `String.prototype.length`, i.e. UTF-16 code units, so an emoji is 2.
//! `trim()` and the regex class `\s` use ECMAScript's whitespace set, which is
//! not Rust's `char::is_whitespace` (ECMAScript adds U+FEFF and leaves out U+0085).

/// ECMAScript `WhiteSpace` + `LineTerminator` (what `\s` and `trim()` match).
pub fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// `s.trim()` in JavaScript.
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// `s.length` in JavaScript (UTF-16 code units).
pub fn js_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Regex `\w` without the `u` flag: `[A-Za-z0-9_]`.
pub fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Compares two strings by UTF-16 code units, as `Array.prototype.sort()`
/// does by default. Differs from Rust's byte order only when one side has a
/// character above U+FFFF and the other one in U+E000..=U+FFFF.
pub fn cmp_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_utf16_units() {
        assert_eq!(js_len("abc"), 3);
        assert_eq!(js_len("é"), 1);
        assert_eq!(js_len("😀"), 2);
    }

    #[test]
    fn trim_uses_ecmascript_whitespace() {
        assert_eq!(js_trim("\u{FEFF} x \u{3000}"), "x");
        // NEL is whitespace for Rust but not for ECMAScript.
        assert_eq!(js_trim("\u{85}x"), "\u{85}x");
    }

    #[test]
    fn utf16_order_differs_from_byte_order_above_bmp() {
        let astral = "\u{1F600}";
        let high_bmp = "\u{FF01}";
        assert_eq!(astral.cmp(high_bmp), std::cmp::Ordering::Greater);
        assert_eq!(cmp_utf16(astral, high_bmp), std::cmp::Ordering::Less);
    }
}
