//! The admin UI's login (`/admin/v1/session`) and the `admin` auth scheme:
//! either `Authorization: Bearer <SF_ADMIN_TOKEN>` (scripts, curl) or the
//! session cookie a login sets (the browser; no token in URLs or storage).
//!
//! The session is stateless, so both hosts (and every isolate) accept it:
//! `v1.<expiresAtMs>.<nonce>.<mac>`, the MAC an HMAC-SHA256 under a key
//! derived from the admin token (rotating the token logs every session out).
//! State-changing calls with the cookie also need `x-sf-csrf`: a value derived
//! from the session, returned by the login and kept in a second,
//! script-readable cookie (the double-submit pattern with a signed value).

use serde_json::{json, Value};

use sf_core::b64;
use sf_core::error::ApiError;
use sf_core::http::{json_response, parse_json_body, RouteCtx, RouteOut};
use sf_core::policy::Var;
use sf_core::ports::{Clock, Host, Random, Vars};
use sf_core::secret::{bearer_token, ct_eq, hmac_sha256_parts};

/// The admin token's variable (`dispatch::ADMIN_TOKEN_VAR` names the same).
const ADMIN_TOKEN_VAR: &str = Var::SfAdminToken.name();

/// The HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "sf_admin";
/// The script-readable cookie carrying the CSRF value.
pub const CSRF_COOKIE: &str = "sf_admin_csrf";
/// The header state-changing cookie calls must carry.
pub const CSRF_HEADER: &str = "x-sf-csrf";
/// How long a session lasts.
pub const SESSION_TTL_MS: u64 = 12 * 60 * 60 * 1000;
/// Where the cookies are sent (the UI and the admin API).
const COOKIE_PATH: &str = "/admin";

fn admin_token<H: Host>(h: &H) -> Result<String, ApiError> {
    let t = h
        .vars()
        .var(ADMIN_TOKEN_VAR)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if t.is_empty() {
        return Err(ApiError::missing_var(ADMIN_TOKEN_VAR));
    }
    Ok(t)
}

fn session_key(token: &str) -> [u8; 32] {
    hmac_sha256_parts(token.as_bytes(), &[b"sf-admin-session-key.v1"])
}

fn mac(key: &[u8; 32], what: &[u8], body: &str) -> String {
    b64::encode_url(&hmac_sha256_parts(key, &[what, body.as_bytes()]))
}

/// A new session value expiring at `exp_ms`.
fn mint(key: &[u8; 32], exp_ms: u64, nonce: &str) -> String {
    let body = format!("v1.{exp_ms}.{nonce}");
    let sig = mac(key, b"session.", &body);
    format!("{body}.{sig}")
}

/// The CSRF value that belongs to a session value.
fn csrf_of(key: &[u8; 32], session: &str) -> String {
    mac(key, b"csrf.", session)
}

/// The expiry of a valid, unexpired session value.
fn verify(key: &[u8; 32], session: &str, now_ms: u64) -> Option<u64> {
    let (body, sig) = session.rsplit_once('.')?;
    let mut parts = body.split('.');
    let (Some("v1"), Some(exp), Some(nonce), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if nonce.is_empty() || !ct_eq(sig.as_bytes(), mac(key, b"session.", body).as_bytes()) {
        return None;
    }
    let exp: u64 = exp.parse().ok()?;
    (now_ms < exp && exp <= now_ms.saturating_add(SESSION_TTL_MS)).then_some(exp)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(req: &'a http::Request<Vec<u8>>, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v.trim())
        })
}

/// Whether the caller reached us over HTTPS (the Worker sees the full URL; a
/// native host behind a TLS proxy learns it from `x-forwarded-proto`).
fn is_https(req: &http::Request<Vec<u8>>) -> bool {
    req.uri().scheme_str() == Some("https")
        || req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn set_cookie(name: &str, value: &str, max_age_s: u64, http_only: bool, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path={COOKIE_PATH}; Max-Age={max_age_s}; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

fn with_cookies(mut res: http::Response<Vec<u8>>, cookies: &[String]) -> http::Response<Vec<u8>> {
    for c in cookies {
        if let Ok(v) = http::HeaderValue::from_str(c) {
            res.headers_mut().append(http::header::SET_COOKIE, v);
        }
    }
    res
}

/// How an admin call authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAuth {
    Bearer,
    /// A session cookie expiring at this time (epoch ms).
    Session(u64),
}

/// The `admin` scheme. A bearer header wins when present (401 missing,
/// 403 wrong, as CONTRACT.md 2.0); else the session cookie (401 when absent,
/// expired or forged); a state-changing call with the cookie also needs the
/// session's `x-sf-csrf` header (403 otherwise).
pub fn check_admin<H: Host>(h: &H, req: &http::Request<Vec<u8>>) -> Result<AdminAuth, ApiError> {
    let expected = admin_token(h)?;
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if header.is_some() || cookie(req, SESSION_COOKIE).is_none() {
        let Some(token) = bearer_token(header) else {
            return Err(ApiError::denied(401, "Missing auth token"));
        };
        if !ct_eq(token.trim().as_bytes(), expected.as_bytes()) {
            return Err(ApiError::denied(403, "Invalid auth token"));
        }
        return Ok(AdminAuth::Bearer);
    }
    let key = session_key(&expected);
    let session = cookie(req, SESSION_COOKIE).unwrap_or_default();
    let Some(exp) = verify(&key, session, h.clock().now_ms()) else {
        return Err(ApiError::denied(
            401,
            "Admin session expired or invalid: log in again at /admin/",
        ));
    };
    let safe = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    if !safe {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !ct_eq(sent.trim().as_bytes(), csrf_of(&key, session).as_bytes()) {
            return Err(ApiError::denied(
                403,
                format!("Missing or wrong `{CSRF_HEADER}` header: send the `csrf` value the login returned (cookie `{CSRF_COOKIE}`)"),
            ));
        }
    }
    Ok(AdminAuth::Session(exp))
}

/// `GET|POST|DELETE /admin/v1/session`.
pub async fn route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    match *cx.req.method() {
        http::Method::POST => login(h, cx),
        http::Method::DELETE => {
            let secure = is_https(&cx.req);
            Ok(with_cookies(
                json_response(200, &json!({"ok": true})),
                &[
                    set_cookie(SESSION_COOKIE, "", 0, true, secure),
                    set_cookie(CSRF_COOKIE, "", 0, false, secure),
                ],
            ))
        }
        _ => {
            let auth = check_admin(h, &cx.req)?;
            let body = match auth {
                AdminAuth::Bearer => json!({"via": "bearer", "expiresAtMs": null}),
                AdminAuth::Session(exp) => json!({"via": "session", "expiresAtMs": exp}),
            };
            Ok(json_response(200, &body))
        }
    }
}

/// `POST /admin/v1/session` `{"token"}` → 200 `{"expiresAtMs","csrf"}` and
/// the two cookies; 400 without a token, 403 for a wrong one.
fn login<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let expected = admin_token(h)?;
    let body = parse_json_body(cx.req.body())?;
    let Some(token) = body.get("token").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "Missing `token`: send {\"token\": \"<SF_ADMIN_TOKEN>\"}",
        ));
    };
    if !ct_eq(token.trim().as_bytes(), expected.as_bytes()) {
        return Err(ApiError::denied(403, "Invalid admin token"));
    }
    let now = h.clock().now_ms();
    let exp = now.saturating_add(SESSION_TTL_MS);
    let mut nonce = [0u8; 16];
    h.random().fill(&mut nonce);
    let key = session_key(&expected);
    let session = mint(&key, exp, &b64::encode_url(&nonce));
    let csrf = csrf_of(&key, &session);
    let secure = is_https(&cx.req);
    let max_age = SESSION_TTL_MS / 1000;
    Ok(with_cookies(
        json_response(200, &json!({"expiresAtMs": exp, "csrf": csrf})),
        &[
            set_cookie(SESSION_COOKIE, &session, max_age, true, secure),
            set_cookie(CSRF_COOKIE, &csrf, max_age, false, secure),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_verifies_until_it_expires_and_not_when_altered() {
        let key = session_key("tok");
        let s = mint(&key, 5_000, "n1");
        assert_eq!(verify(&key, &s, 4_999), Some(5_000));
        assert_eq!(verify(&key, &s, 5_000), None);
        assert_eq!(verify(&session_key("other"), &s, 1), None);
        assert_eq!(verify(&key, &s.replace("v1.5000", "v1.9000"), 1), None);
        // An expiry further away than one session lifetime was not minted here.
        let far = mint(&key, SESSION_TTL_MS + 10, "n1");
        assert_eq!(verify(&key, &far, 1), None);
        assert_ne!(csrf_of(&key, &s), csrf_of(&key, &mint(&key, 5_000, "n2")));
    }
}
