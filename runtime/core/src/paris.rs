//! Paris' signatures: grant tokens minted as Paris' `mintGrant` does
//! (CONTRACT.md 4.1) and the `x-paris-signature` on outcome bodies (2.3).

use serde_json::Value;

use crate::b64;
use crate::jsjson::js_stringify;
use crate::secret::{ct_eq, hmac_sha256_parts, js_trim};

/// Mints a token exactly like Paris' `mintGrant` (CONTRACT.md 4.1):
/// `JSON.stringify(payload)` in the given key order → b64url → HMAC-SHA256
/// keyed with the trimmed secret over `"v1." + payloadB64`.
pub fn mint_grant(payload: &Value, secret: &str) -> String {
    let payload_b64 = b64::encode_url(js_stringify(payload).as_bytes());
    let mac = hmac_sha256_parts(
        js_trim(secret).as_bytes(),
        &[b"v1.", payload_b64.as_bytes()],
    );
    format!("v1.{payload_b64}.{}", b64::encode_url(&mac))
}

/// The `x-paris-signature` for an outcome body (CONTRACT.md 2.3 step 3):
/// b64url(HMAC-SHA256(secret.trim(), "outcome.v1." + rawBody)).
pub fn outcome_signature(secret: &str, body: &[u8]) -> String {
    let mac = hmac_sha256_parts(js_trim(secret).as_bytes(), &[b"outcome.v1.", body]);
    b64::encode_url(&mac)
}

/// Constant-time check of an `x-paris-signature` header value (already
/// trimmed by the caller, as step 1 does) against the raw body bytes. Like the
/// original this is a string comparison: padded or standard-alphabet forms
/// are not accepted here.
/// A blank secret never verifies (the route answers 500 before calling this).
pub fn verify_outcome_signature(secret: &str, body: &[u8], signature: &str) -> bool {
    if js_trim(secret).is_empty() {
        return false;
    }
    ct_eq(
        outcome_signature(secret, body).as_bytes(),
        signature.as_bytes(),
    )
}
