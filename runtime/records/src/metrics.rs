//! `GET /admin/v1/metrics?agentId=&from=&to=` (admin scheme): the success
//! metrics of one agent per UTC day and prompt version, over
//! `copilot_events_v1` joined with `copilot_outcomes_v1` by requestId. Same
//! definitions as `sf report` (README, "The learning loop"); `avgScore` is
//! the mean of the scores the `score-interactions` job wrote (`null` when
//! none is scored yet). `from`/`to` default to the last 7 days.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use sf_core::error::ApiError;
use sf_core::http::{json_response, RouteCtx, RouteOut};
use sf_core::policy::Agent;
use sf_core::ports::{Clock, Host, Sql, SqlRow, SqlStatement, SqlValue};
use sf_core::time_fmt::utc_day;

/// Longest range one request may ask for.
pub const MAX_DAYS: i64 = 92;
/// Rows read at most per request.
const MAX_ROWS: i64 = 200_000;

const HAS: &str =
    "EXISTS (SELECT 1 FROM copilot_outcomes_v1 o WHERE o.requestId = e.requestId AND o.event IN";

#[derive(Debug, Default)]
struct Acc {
    n: u64,
    applied: u64,
    attempted: u64,
    undone: u64,
    decided: u64,
    converted: u64,
    latencies: Vec<i64>,
    score_sum: f64,
    scored: u64,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Nearest-rank percentile.
fn p95(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let rank = (0.95 * v.len() as f64).ceil() as usize;
    v.get(rank.clamp(1, v.len()) - 1).map(|x| *x as f64)
}

fn is_day(d: &str) -> bool {
    d.len() == 10
        && d.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

fn param<'a>(q: &'a str, k: &str) -> Option<&'a str> {
    q.split('&')
        .find_map(|kv| kv.split_once('=').filter(|(n, _)| *n == k).map(|(_, v)| v))
}

/// Days between two valid `YYYY-MM-DD` (civil-from-days).
fn day_number(d: &str) -> i64 {
    let n = |a: usize, b: usize| d.get(a..b).and_then(|s| s.parse::<i64>().ok()).unwrap_or(1);
    let (y, m, dd) = (n(0, 4), n(5, 7), n(8, 10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + dd - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn flag(r: &SqlRow, k: &str) -> bool {
    r.int(k).unwrap_or(0) != 0
}

pub async fn route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let q = cx.req.uri().query().unwrap_or("");
    let agent = param(q, "agentId")
        .and_then(Agent::from_name)
        .ok_or_else(|| ApiError::bad_request("`agentId` must name an agent of the policy"))?;
    let now = h.clock().now_ms() as i64;
    let to = param(q, "to").map_or_else(|| utc_day(now), str::to_owned);
    let from = param(q, "from").map_or_else(|| utc_day(now - 6 * 86_400_000), str::to_owned);
    if !is_day(&from) || !is_day(&to) {
        return Err(ApiError::bad_request(
            "`from` and `to` are UTC days, YYYY-MM-DD",
        ));
    }
    let span = day_number(&to) - day_number(&from);
    if !(0..MAX_DAYS).contains(&span) {
        return Err(ApiError::bad_request(format!(
            "`from` must not be after `to`, and the range is at most {MAX_DAYS} days"
        )));
    }
    let sql = format!(
        "SELECT day, COALESCE(promptVersion, '') AS pv, outcome, latencyMs, score, \
         {HAS} ('ux_undo')) AS undone, {HAS} ('ux_keep', 'ux_undo')) AS decided, \
         {HAS} ('signup_completed', 'upgrade_completed')) AS converted \
         FROM copilot_events_v1 e WHERE agentId = ? AND day >= ? AND day <= ? LIMIT {MAX_ROWS}"
    );
    let rows = h
        .sql()
        .query(SqlStatement::new(
            sql,
            vec![agent.name().into(), from.clone().into(), to.clone().into()],
        ))
        .await
        .map_err(|_| ApiError::provider(500, "sanfrancisco", "Failed to read metrics"))?;
    let mut by: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for r in &rows {
        let key = (
            r.text("day").unwrap_or_default().to_owned(),
            r.text("pv").unwrap_or_default().to_owned(),
        );
        let a = by.entry(key).or_default();
        a.n += 1;
        let outcome = r.text("outcome").unwrap_or_default();
        a.applied += u64::from(outcome == "ops_applied");
        a.attempted += u64::from(outcome == "ops_applied" || outcome == "invalid_ops");
        a.undone += u64::from(flag(r, "undone"));
        a.decided += u64::from(flag(r, "decided"));
        a.converted += u64::from(flag(r, "converted"));
        if let Some(l) = r.int("latencyMs") {
            a.latencies.push(l);
        }
        match r.get("score") {
            Some(SqlValue::Real(s)) => {
                a.score_sum += s;
                a.scored += 1;
            }
            Some(SqlValue::Integer(s)) => {
                a.score_sum += *s as f64;
                a.scored += 1;
            }
            _ => {}
        }
    }
    let days: Vec<Value> = by
        .into_iter()
        .map(|((day, pv), mut a)| {
            json!({
                "day": day,
                "promptVersion": if pv.is_empty() { Value::Null } else { Value::String(pv) },
                "interactions": a.n,
                "validOpsRate": ratio(a.applied, a.attempted),
                "undoRate": ratio(a.undone, a.decided),
                "p95LatencyMs": p95(&mut a.latencies),
                "conversionRate": ratio(a.converted, a.n),
                "avgScore": (a.scored > 0).then(|| a.score_sum / a.scored as f64),
            })
        })
        .collect();
    Ok(json_response(
        200,
        &json!({ "agentId": agent.name(), "from": from, "to": to, "days": days }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_days() {
        assert_eq!(
            param("agentId=sdr.copilot&from=2026-11-01", "from"),
            Some("2026-11-01")
        );
        assert_eq!(param("xagentId=a", "agentId"), None);
        assert_eq!(day_number("1970-01-02"), 1);
        assert_eq!(day_number("2026-12-01") - day_number("2026-11-01"), 30);
        assert_eq!(p95(&mut [3, 1, 2]), Some(3.0));
        assert!(is_day("2026-11-01") && !is_day("2026-1-01"));
    }
}
