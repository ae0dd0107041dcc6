//! The learning loop's admin metrics (issue 11): `GET /admin/v1/metrics`
//! is on the admin scheme, validates its query and answers the documented
//! shape. The target must set [`crate::approvals::ADMIN_TOKEN`] in
//! `SF_ADMIN_TOKEN` (the suite's hosts do).

use serde_json::Value;

use crate::approvals::{CaseResult, ADMIN_TOKEN};
use crate::http::request;

pub type LearningCase<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

fn get(base: &str, path: &str, token: Option<&str>) -> Result<(u16, Value), String> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let res = request(base, "GET", path, &headers, &[])?;
    Ok((res.status, res.json()))
}

fn metrics(base: &str) -> CaseResult {
    let q = "/admin/v1/metrics?agentId=sdr.widget.copilot.v1&from=2026-11-01&to=2026-11-07";
    let (s, _) = get(base, q, None)?;
    if s != 401 {
        return Err(format!("no token: want 401, got {s}"));
    }
    let (s, _) = get(base, q, Some("not-the-admin-token"))?;
    if s != 403 {
        return Err(format!("a wrong token: want 403, got {s}"));
    }
    let (s, v) = get(base, q, Some(ADMIN_TOKEN))?;
    let shape = v["agentId"] == "sdr.widget.copilot.v1"
        && v["from"] == "2026-11-01"
        && v["to"] == "2026-11-07"
        && v["days"].as_array().is_some_and(|d| {
            d.iter().all(|r| {
                [
                    "day",
                    "promptVersion",
                    "interactions",
                    "validOpsRate",
                    "undoRate",
                    "p95LatencyMs",
                    "conversionRate",
                    "avgScore",
                ]
                .iter()
                .all(|k| r.get(k).is_some())
            })
        });
    if s != 200 || !shape {
        return Err(format!(
            "admin: want 200 with the metrics shape, got {s} {v}"
        ));
    }
    for bad in [
        "/admin/v1/metrics?agentId=no.such.agent",
        "/admin/v1/metrics?agentId=sdr.copilot&from=2026-11-08&to=2026-11-07",
        "/admin/v1/metrics?agentId=sdr.copilot&from=yesterday",
    ] {
        let (s, _) = get(base, bad, Some(ADMIN_TOKEN))?;
        if s != 400 {
            return Err(format!("{bad}: want 400, got {s}"));
        }
    }
    Ok(())
}

pub fn cases(base: &str) -> Vec<LearningCase<'_>> {
    vec![(
        "learning metrics on the admin scheme",
        Box::new(move || metrics(base)),
    )]
}
