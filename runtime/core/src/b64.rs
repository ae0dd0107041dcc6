//! Base64 as the original speaks it (CONTRACT.md section 3.1).
//!
//! Encoding is base64url without padding (Paris' `b64url`). Decoding mirrors
//! the original's `fromB64Url` exactly: map `-`→`+` and `_`→`/`, right-pad
//! with `=` to a multiple of four, then WHATWG "forgiving-base64 decode"
//! (what `atob` runs). So both alphabets, padded or not, decode, ASCII white
//! space is ignored, and bad lengths or characters fail.

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Sextet value of each byte after the `-`/`_` mapping; 0xFF = not base64.
const DECODE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[STD[i] as usize] = i as u8;
        i += 1;
    }
    // The original maps these before decoding; folding the mapping into the
    // table avoids copying the input.
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// WHATWG "ASCII whitespace": TAB, LF, FF, CR, SPACE.
fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// base64url without padding.
pub fn encode_url(bytes: &[u8]) -> String {
    encode_with(bytes, URL, false)
}

/// Standard alphabet with `=` padding (used by tests and by callers that need
/// the RFC 4648 section 4 form).
pub fn encode_std_padded(bytes: &[u8]) -> String {
    encode_with(bytes, STD, true)
}

fn encode_with(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(alphabet[((n >> shift) & 63) as usize] as char);
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let b1 = rest.get(1).copied().unwrap_or(0);
        let n = (u32::from(rest[0]) << 16) | (u32::from(b1) << 8);
        out.push(alphabet[((n >> 18) & 63) as usize] as char);
        out.push(alphabet[((n >> 12) & 63) as usize] as char);
        if rest.len() == 2 {
            out.push(alphabet[((n >> 6) & 63) as usize] as char);
        }
        if pad {
            out.push('=');
            if rest.len() == 1 {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes like the original's `fromB64Url` (see the module docs).
/// `None` is the case where `atob` throws.
pub fn decode_forgiving(input: &str) -> Option<Vec<u8>> {
    let raw = input.as_bytes();
    // Step 0 (the original): right-pad with `=` to a multiple of four, counted
    // on the string *before* white space is removed. The padding is kept as a
    // count rather than appended.
    let pad = (4 - raw.len() % 4) % 4;
    if raw.iter().any(|b| is_ascii_ws(*b)) {
        // Forgiving-base64 step 1: drop ASCII white space (rare: copy only then).
        let data: Vec<u8> = raw.iter().copied().filter(|b| !is_ascii_ws(*b)).collect();
        decode_core(&data, pad)
    } else {
        decode_core(raw, pad)
    }
}

/// Forgiving-base64 steps 2-5 over `data` followed by `pad` logical `=`.
fn decode_core(mut data: &[u8], mut pad: usize) -> Option<Vec<u8>> {
    // Step 2: if the length is a multiple of four, drop one or two trailing `=`.
    if (data.len() + pad).is_multiple_of(4) {
        for _ in 0..2 {
            if pad > 0 {
                pad -= 1;
            } else if let [rest @ .., b'='] = data {
                data = rest;
            }
        }
    }
    // Step 3: a remainder of one is never valid. Step 4: any byte outside the
    // alphabet fails, which includes a `=` still left over.
    if (data.len() + pad) % 4 == 1 || pad > 0 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let (a, b, c2, d) = (
            DECODE[c[0] as usize],
            DECODE[c[1] as usize],
            DECODE[c[2] as usize],
            DECODE[c[3] as usize],
        );
        // Valid sextets are < 64; 0xFF marks a bad byte.
        if (a | b | c2 | d) & 0x80 != 0 {
            return None;
        }
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c2) << 6) | u32::from(d);
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut n = 0u32;
        for (i, &ch) in rest.iter().enumerate() {
            let v = DECODE[ch as usize];
            if v & 0x80 != 0 {
                return None;
            }
            n |= u32::from(v) << (18 - 6 * i);
        }
        // Two characters carry one byte, three carry two; the leftover bits
        // are discarded, non-zero or not, as WHATWG says.
        out.push((n >> 16) as u8);
        if rest.len() == 3 {
            out.push((n >> 8) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_rfc4648_vectors() {
        let cases: [(&[u8], &str, &str); 7] = [
            (b"", "", ""),
            (b"f", "Zg", "Zg=="),
            (b"fo", "Zm8", "Zm8="),
            (b"foo", "Zm9v", "Zm9v"),
            (b"foob", "Zm9vYg", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy", "Zm9vYmFy"),
        ];
        for (raw, url, std) in cases {
            assert_eq!(encode_url(raw), url);
            assert_eq!(encode_std_padded(raw), std);
            assert_eq!(decode_forgiving(url).as_deref(), Some(raw));
            assert_eq!(decode_forgiving(std).as_deref(), Some(raw));
        }
    }

    #[test]
    fn both_alphabets_decode() {
        let bytes = [0xfbu8, 0xff, 0xbf];
        assert_eq!(encode_url(&bytes), "-_-_");
        assert_eq!(encode_std_padded(&bytes), "+/+/");
        assert_eq!(decode_forgiving("-_-_").as_deref(), Some(&bytes[..]));
        assert_eq!(decode_forgiving("+/+/").as_deref(), Some(&bytes[..]));
        // Mixed alphabets are fine too: the mapping is per character.
        assert_eq!(decode_forgiving("-/+_").as_deref(), Some(&bytes[..]));
    }

    #[test]
    fn whitespace_is_ignored_like_atob() {
        // Padding is counted before white space is removed: length 8 needs none.
        assert_eq!(
            decode_forgiving("Zm9v\nYmF").as_deref(),
            Some(&b"fooba"[..])
        );
        // Length 9 gets three `=`, and "Zm9vYmFy===" has a stray `=`: atob throws.
        assert_eq!(decode_forgiving("Zm9v\nYmFy"), None);
        assert_eq!(decode_forgiving(" Zm 9v  ").as_deref(), Some(&b"foo"[..]));
        // Length 7 gets one `=` that survives as a stray character.
        assert_eq!(decode_forgiving(" Zm 9v "), None);
        // "ab c" needs no padding (length 4), white space removed → "abc".
        assert_eq!(decode_forgiving("Zm 8").as_deref(), Some(&b"fo"[..]));
        // Length 5 gets three `=`; after removing the space "Zm9v===" keeps a
        // stray `=` (length 7 is not a multiple of four), so atob throws.
        assert_eq!(decode_forgiving("Zm9v "), None);
    }

    #[test]
    fn bad_lengths_and_characters_fail() {
        assert_eq!(decode_forgiving("Z"), None); // pads to "Z===" → "Z=" → bad char
        assert_eq!(decode_forgiving("Zm9vY"), None); // remainder one
        assert_eq!(decode_forgiving("@@@"), None);
        assert_eq!(decode_forgiving("Zm9v!"), None);
        assert_eq!(decode_forgiving("Zg==="), None);
        assert_eq!(decode_forgiving("Z=g="), None);
        assert_eq!(decode_forgiving("Zm9v\u{e9}"), None);
        assert_eq!(decode_forgiving("").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn non_zero_trailing_bits_are_discarded() {
        // "Zh" is not the canonical encoding of "f" ("Zg"); atob accepts it.
        assert_eq!(decode_forgiving("Zh").as_deref(), Some(&b"f"[..]));
        assert_eq!(decode_forgiving("Zh==").as_deref(), Some(&b"f"[..]));
    }

    /// Differential check against Node's own `atob` (fixtures/grants/gen_atob_vectors.js):
    /// 362 inputs mixing both alphabets, padding, white space and junk.
    #[test]
    fn matches_node_atob_on_recorded_vectors() {
        let path = format!(
            "{}/../../fixtures/grants/atob_vectors.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"));
        let cases = v["cases"].as_array().cloned().unwrap_or_default();
        assert!(cases.len() > 300);
        let (mut ok, mut err) = (0, 0);
        for c in &cases {
            let input = c["input"].as_str().unwrap_or_default();
            let got = decode_forgiving(input)
                .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>());
            let want = c["hex"].as_str().map(str::to_owned);
            assert_eq!(got, want, "input {input:?}");
            if want.is_some() {
                ok += 1;
            } else {
                err += 1;
            }
        }
        assert!(
            ok > 50 && err > 50,
            "both outcomes covered: {ok} ok, {err} errors"
        );
    }
}
