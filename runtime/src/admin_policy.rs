//! `GET /admin/v1/policy` (admin scheme): the policy compiled into this
//! build, read-only, for the admin UI's policy page. The body is what
//! `sf policy explain --format json` prints (the generated `EXPLAIN_JSON`:
//! `policyVersion`, agents with their budgets per profile, profiles, plans,
//! routes, variables, tenancy — the routing rubric of tiers and model classes)
//! plus `learning`: the scored agents' weights and the success criteria of
//! policy/learning.yaml with their bars.

use serde_json::{json, Map, Value};

use sf_core::error::ApiError;
use sf_core::http::{json_response, RouteOut};
use sf_core::policy::{
    Criterion, CONTINUED_WITHIN_MINUTES, EXPLAIN_JSON, POLICY_VERSION, RESCORE_DAYS, SCORING,
};

/// The learning loop's part of the policy.
pub fn learning_json() -> Value {
    let criteria: Vec<Value> = Criterion::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.name(),
                "bound": if c.is_min() { "min" } else { "max" },
                "threshold": c.threshold(),
            })
        })
        .collect();
    let scoring: Vec<Value> = SCORING
        .iter()
        .map(|s| {
            let weights: Map<String, Value> = s
                .weights
                .iter()
                .map(|(sig, w)| (sig.name().to_owned(), json!(w)))
                .collect();
            json!({ "agentId": s.agent.name(), "weights": weights })
        })
        .collect();
    json!({
        "continuedWithinMinutes": CONTINUED_WITHIN_MINUTES,
        "rescoreDays": RESCORE_DAYS,
        "criteria": criteria,
        "scoring": scoring,
    })
}

pub fn route() -> RouteOut {
    let mut v: Value = serde_json::from_str(EXPLAIN_JSON).map_err(|_| ApiError::unhandled())?;
    let Some(m) = v.as_object_mut() else {
        return Err(ApiError::unhandled());
    };
    m.insert("policyVersion".into(), json!(POLICY_VERSION));
    m.insert("learning".into(), learning_json());
    Ok(json_response(200, &v))
}
