//! The `caller` auth scheme: each caller of policy/approvals.yaml has its own
//! bearer token in the variable the policy names; the token tells which caller.

use sf_core::error::ApiError;
use sf_core::policy::{CallerRules, APPROVAL_CALLERS};
use sf_core::ports::{Host, Vars};
use sf_core::secret::{bearer_token, ct_eq};

/// The caller whose token the request carries. Every configured token is
/// compared in constant time (no early exit on a match), so timing reveals
/// neither the token nor which caller it belongs to.
pub fn caller<H: Host>(
    h: &H,
    req: &http::Request<Vec<u8>>,
) -> Result<&'static CallerRules, ApiError> {
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(token) = bearer_token(header) else {
        return Err(ApiError::denied(401, "Missing auth token"));
    };
    let token = token.trim().as_bytes();
    let mut found = None;
    let mut configured = false;
    for rules in APPROVAL_CALLERS.iter() {
        let expected = h
            .vars()
            .var(rules.token_var)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        if expected.is_empty() {
            continue;
        }
        configured = true;
        if ct_eq(token, expected.as_bytes()) && found.is_none() {
            found = Some(rules);
        }
    }
    if !configured {
        let first = APPROVAL_CALLERS
            .first()
            .map_or("SF_APPROVALS_AGENCY_TOKEN", |r| r.token_var);
        return Err(ApiError::missing_var(first));
    }
    found.ok_or_else(|| ApiError::denied(403, "Invalid auth token"))
}
