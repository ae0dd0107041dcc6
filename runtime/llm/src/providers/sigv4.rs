//! AWS Signature Version 4 (header form), enough for Bedrock Converse.
//!
//! Checked against AWS's published SigV4 test suite (fixtures/providers/sigv4/).
//! The canonical URI follows the rule for every service except S3: each path
//! segment of the *wire* path (already percent-encoded once) is URI-encoded
//! again. A Bedrock model id such as `amazon.nova-lite-v1:0` travels as
//! `amazon.nova-lite-v1%3A0` and is signed as `amazon.nova-lite-v1%253A0`;
//! the original signed the once-encoded path, which AWS rejects
//! (CONTRACT.md section 15, item 15).

use sha2::{Digest, Sha256};

use sf_core::secret::hmac_sha256;

/// Long-term or temporary AWS credentials.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// STS session token; sent and signed as `x-amz-security-token`.
    pub session_token: Option<&'a str>,
}

/// Everything a signature is made of, kept for tests and debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Lowercase hex.
    pub signature: String,
    pub signed_headers: String,
    /// The `Authorization` header value.
    pub authorization: String,
    /// The `x-amz-date` value used.
    pub amz_date: String,
}

/// `YYYYMMDD'T'HHMMSS'Z'` for an epoch-milliseconds instant.
pub fn amz_date(now_ms: u64) -> String {
    let secs = now_ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = sf_core::time_fmt::civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// RFC 3986 percent-encoding of everything but the unreserved set
/// `A-Z a-z 0-9 - _ . ~`, with uppercase hex (SigV4's `UriEncode`).
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789ABCDEF"[(b & 15) as usize]));
        }
    }
    out
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hexval = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Canonical URI of a non-S3 service: every segment of the wire path encoded
/// once more (so `%` becomes `%25`). An empty path is `/`.
pub fn canonical_uri(wire_path: &str) -> String {
    if wire_path.is_empty() {
        return "/".into();
    }
    wire_path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// Canonical query string: parameters decoded, re-encoded with [`uri_encode`],
/// sorted by name then value, `name=value` joined with `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let enc = |x: &str| uri_encode(&String::from_utf8_lossy(&percent_decode(x)));
            (enc(k), enc(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lowercase name; value trimmed with inner runs of spaces collapsed.
fn canonical_header_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Signs `req` in place: sets `x-amz-date`, `x-amz-security-token` (when the
/// credentials carry one) and `authorization`. Every header already on the
/// request is signed, plus `host` taken from the URI authority (HTTP clients
/// send exactly that). The payload hash is SHA-256 of the body.
pub fn sign_request(
    req: &mut http::Request<Vec<u8>>,
    creds: &Credentials<'_>,
    region: &str,
    service: &str,
    now_ms: u64,
) -> Result<Signed, String> {
    let date = amz_date(now_ms);
    // Re-signing must not sign the previous signature.
    req.headers_mut().remove(http::header::AUTHORIZATION);
    let set = |req: &mut http::Request<Vec<u8>>, name: &'static str, value: &str| {
        http::HeaderValue::from_str(value)
            .map(|v| {
                req.headers_mut().insert(name, v);
            })
            .map_err(|_| format!("{name} is not a valid header value"))
    };
    set(req, "x-amz-date", &date)?;
    if let Some(tok) = creds.session_token {
        set(req, "x-amz-security-token", tok)?;
    }

    // Collect (lowercase name, value) pairs, merging repeated names with `,`.
    let mut headers: Vec<(String, String)> = Vec::new();
    if !req.headers().contains_key(http::header::HOST) {
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or("the request URI has no host")?;
        headers.push(("host".into(), host));
    }
    for (name, value) in req.headers() {
        let value = value
            .to_str()
            .map_err(|_| format!("header {name} is not visible ASCII"))?;
        let value = canonical_header_value(value);
        match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => headers.push((name.as_str().to_owned(), value)),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));

    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method().as_str(),
        canonical_uri(req.uri().path()),
        canonical_query(req.uri().query().unwrap_or("")),
        canonical_headers,
        signed_headers,
        sha256_hex(req.body()),
    );
    let day = &date[..8];
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac_sha256(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        day.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    set(req, "authorization", &authorization)?;
    Ok(Signed {
        canonical_request,
        string_to_sign,
        signature,
        signed_headers,
        authorization,
        amz_date: date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_formats_utc() {
        // 2015-08-30T12:36:00Z, the test suite's instant.
        assert_eq!(amz_date(1_440_938_160_000), "20150830T123600Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400_000), "20000229T000000Z");
        assert_eq!(amz_date(4_102_444_799_999), "20991231T235959Z");
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b:c/~_.-"), "a%20b%3Ac%2F~_.-");
        assert_eq!(uri_encode("é"), "%C3%A9");
        assert_eq!(
            canonical_uri("/model/amazon.nova-lite-v1%3A0/converse"),
            "/model/amazon.nova-lite-v1%253A0/converse"
        );
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1"),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("b=%7e&a=x y&a"), "a=&a=x%20y&b=~");
    }
}
