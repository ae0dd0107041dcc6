//! Secret handling primitives: constant-time comparison, HMAC-SHA256 and the
//! `Authorization: Bearer` parser of CONTRACT.md section 2.0.
//!
//! Every comparison of attacker-supplied bytes against a secret (grant MACs,
//! outcome signatures, the internal bearer token) goes through [`ct_eq`], so
//! the time taken reveals at most the length of the expected value.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Compares two byte strings in time that depends only on their lengths.
///
/// A length mismatch returns early: lengths of MACs and signatures are public
/// (fixed by the algorithm), and hiding the length of a bearer token would
/// need padding to a maximum size that the contract does not define.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u8;
    for (x, y) in a.iter().zip(b) {
        acc |= x ^ y;
    }
    // `black_box` keeps the optimiser from turning the accumulation into an
    // early-exit loop.
    std::hint::black_box(acc) == 0
}

/// HMAC-SHA256 of `msg` under `key` (any key length, RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    hmac_sha256_parts(key, &[msg])
}

/// HMAC-SHA256 over the concatenation of `parts`, without building the
/// concatenated message (used for `"v1." + payloadB64` and `"outcome.v1." + body`).
pub fn hmac_sha256_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of every length; `new_from_slice` only fails for
    // fixed-key MACs, so this branch is unreachable for HMAC-SHA256.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0u8; 32];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// `String.prototype.trim` of JavaScript: Unicode white space, line
/// terminators and U+FEFF. Rust's `str::trim` misses U+FEFF, which matters
/// when a secret or header was copied with a byte-order mark.
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Parses an `Authorization` header exactly like the original (CONTRACT.md 2.0 step 2):
/// trim, split on a single space, scheme `bearer` in any case, non-empty
/// second word. Words after the token are ignored (`Bearer tok extra` passes);
/// two spaces make the token empty, hence `None`.
///
/// The caller still trims the returned token before comparing (step 3).
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let header = js_trim(header?);
    let mut words = header.split(' ');
    let scheme = words.next()?;
    let token = words.next()?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return None;
    }
    Some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn ct_eq_compares_bytes_and_lengths() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"\x00", b"\x80"));
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2 (key "Jefe").
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_sha256_parts(b"Jefe", &[b"what do ya ", b"want for nothing?"]),
            mac
        );
    }

    #[test]
    fn hmac_accepts_keys_longer_than_the_block() {
        // RFC 4231 test case 6: 131-byte key, hashed first.
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn bearer_parsing_follows_the_contract() {
        assert_eq!(bearer_token(Some("Bearer tok")), Some("tok"));
        assert_eq!(bearer_token(Some("bEaReR tok")), Some("tok"));
        assert_eq!(bearer_token(Some("  Bearer tok  ")), Some("tok"));
        // Trailing words are ignored (observed `bearerTrailing`).
        assert_eq!(bearer_token(Some("Bearer tok extra")), Some("tok"));
        // Two spaces: the token is the empty word between them (observed `bearerExtraSpaces`).
        assert_eq!(bearer_token(Some("Bearer  tok")), None);
        assert_eq!(bearer_token(Some("Bearer")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(Some("Basic tok")), None);
        assert_eq!(bearer_token(Some("")), None);
        assert_eq!(bearer_token(None), None);
        // A tab is not the separator.
        assert_eq!(bearer_token(Some("Bearer\ttok")), None);
    }

    #[test]
    fn js_trim_strips_bom_and_unicode_spaces() {
        assert_eq!(js_trim("\u{feff} s \u{a0}\n"), "s");
        assert_eq!(js_trim("s"), "s");
    }
}
