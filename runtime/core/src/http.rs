//! The HTTP helpers every route handler uses: the JSON answer with the headers
//! every route carries, the error answer, body parsing the way the original
//! does it, request ids, and path captures.

use serde_json::Value;

use crate::error::ApiError;

/// Largest request body the gateway accepts. Bob's widget payloads are tens of KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest caller-supplied request id kept; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The client's address, set by the native server as a request extension
/// (on Cloudflare the `cf-connecting-ip` header carries it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

/// What a route handler receives.
pub struct RouteCtx {
    pub req: http::Request<Vec<u8>>,
    /// The `{jobId}`-style path capture, raw (not percent-decoded).
    pub param: Option<String>,
    /// Request start, epoch ms.
    pub started_ms: u64,
}

/// A route handler's answer.
pub type RouteOut = Result<http::Response<Vec<u8>>, ApiError>;

/// A JSON response with the headers every route carries.
pub fn json_response(status: u16, body: &Value) -> http::Response<Vec<u8>> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = http::Response::new(bytes);
    *res.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

/// The contract's error envelope for `err`.
pub fn error_response(err: &ApiError) -> http::Response<Vec<u8>> {
    json_response(err.status, &err.to_json())
}

/// Parses a JSON body the way the original does: empty → `null`; anything
/// unparsable (including invalid UTF-8) → `400 "Invalid JSON body"`.
pub fn parse_json_body(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("Invalid JSON body"))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|_| ApiError::bad_request("Invalid JSON body"))
}

/// A caller's `trace.requestId` is echoed only when it is safe to use as a
/// primary key and an object name; anything else gets a server-generated id
/// (the original used any string verbatim, even `""`).
pub fn well_formed_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// JavaScript's `encodeURIComponent`: keeps `A-Z a-z 0-9 - _ . ! ~ * ' ( )`
/// and percent-encodes every other byte of the UTF-8 text. Paths the gateway
/// builds for Paris, Tokyo and the providers go through it, as the original's did.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The raw (not percent-decoded) value of query parameter `name`, the
/// first if repeated.
pub fn query_param<'a>(cx: &'a RouteCtx, name: &str) -> Option<&'a str> {
    cx.req
        .uri()
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// Percent-decodes a path capture; a malformed escape is `None` (callers
/// answer "not found"; the original threw and answered 500).
pub fn decode_param(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let s = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(s, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(well_formed_request_id("req-1:a_b.c"));
        assert!(!well_formed_request_id(""));
        assert!(!well_formed_request_id("a b"));
        assert!(!well_formed_request_id(&"x".repeat(129)));
    }

    #[test]
    fn uri_components_encode_as_javascript_does() {
        assert_eq!(
            encode_uri_component("a:b/c d@é!*"),
            "a%3Ab%2Fc%20d%40%C3%A9!*"
        );
    }

    #[test]
    fn params_decode_or_refuse() {
        assert_eq!(decode_param("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(decode_param("a%2"), None);
        assert_eq!(decode_param("%ff"), None);
    }

    #[test]
    fn bodies() {
        assert_eq!(parse_json_body(b"  ").ok(), Some(Value::Null));
        assert_eq!(parse_json_body(b"{").unwrap_err().status, 400);
        assert_eq!(parse_json_body(&[0xff]).unwrap_err().status, 400);
    }
}
