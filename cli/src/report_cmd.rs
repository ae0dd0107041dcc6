//! `sf report`: the success report of seed 004 section 11 over the
//! interactions `sf serve` indexed (`copilot_events_v1` joined with
//! `copilot_outcomes_v1` by requestId, natively in `.sf/sf.sqlite3`), judged
//! against the bars of policy/learning.yaml. Exit 1 when a criterion fails.
//!
//! - validOpsRate: `ops_applied` / (`ops_applied` + `invalid_ops`), the edits
//!   whose ops validated;
//! - undoRate: interactions with a `ux_undo` / those with `ux_keep` or `ux_undo`;
//! - p95LatencyMs: nearest-rank 95th percentile of `latencyMs`;
//! - conversionRate: interactions with `signup_completed` or
//!   `upgrade_completed` / all interactions.
//!
//! A rate with nothing to divide by is `null` and its criterion fails (no
//! evidence is not a pass).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use sf_core::policy::Criterion;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First UTC day (YYYY-MM-DD, inclusive; default: 6 days before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// Last UTC day (YYYY-MM-DD, inclusive; default: today).
    #[arg(long)]
    pub to: Option<String>,
    /// Only this agent id.
    #[arg(long)]
    pub agent: Option<String>,
    /// `json` (the default) or `table` (for people).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// The data directory of `sf serve`.
    #[arg(long, default_value = ".sf")]
    pub data_dir: PathBuf,
}

/// The counts of one agent over the range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub interactions: u64,
    pub ops_applied: u64,
    pub ops_attempted: u64,
    pub undone: u64,
    pub decided: u64,
    pub converted: u64,
    /// Sorted ascending.
    pub latencies: Vec<i64>,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len()) - 1)
        .map(|v| *v as f64)
}

/// The report object of one agent.
pub fn agent_report(agent: &str, c: &Counts) -> Value {
    let values = [
        (
            Criterion::ValidOpsRate,
            ratio(c.ops_applied, c.ops_attempted),
        ),
        (Criterion::UndoRate, ratio(c.undone, c.decided)),
        (Criterion::P95LatencyMs, percentile(&c.latencies, 95.0)),
        (
            Criterion::ConversionRate,
            ratio(c.converted, c.interactions),
        ),
    ];
    let criteria: Vec<Value> = values
        .iter()
        .map(|(k, v)| {
            json!({
                "name": k.name(),
                "value": v,
                "threshold": k.threshold(),
                "pass": v.is_some_and(|v| k.passes(v)),
            })
        })
        .collect();
    json!({
        "agentId": agent,
        "interactions": c.interactions,
        "validOpsRate": values[0].1,
        "undoRate": values[1].1,
        "p95LatencyMs": values[2].1,
        "conversionRate": values[3].1,
        "criteria": criteria,
    })
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

fn today_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The range, validated, with its defaults.
fn range(a: &ReportArgs) -> Result<(String, String), String> {
    let to = match &a.to {
        Some(d) => d.clone(),
        None => sf_core::time_fmt::utc_day(today_ms()),
    };
    let from = match &a.from {
        Some(d) => d.clone(),
        None => {
            let base = if is_day(&to) { day_ms(&to) } else { today_ms() };
            sf_core::time_fmt::utc_day(base - 6 * 86_400_000)
        }
    };
    for (flag, d) in [("--from", &from), ("--to", &to)] {
        if !is_day(d) {
            return Err(format!("{flag} {d:?}: expected YYYY-MM-DD (UTC)"));
        }
    }
    if from > to {
        return Err(format!("--from {from} is after --to {to}"));
    }
    Ok((from, to))
}

/// Milliseconds of a valid `YYYY-MM-DD` at 00:00 UTC (civil-from-days).
fn day_ms(d: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| d.get(r).and_then(|s| s.parse::<i64>().ok()).unwrap_or(1);
    let (y, m, dd) = (n(0..4), n(5..7), n(8..10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

const HAS: &str =
    "EXISTS (SELECT 1 FROM copilot_outcomes_v1 o WHERE o.requestId = e.requestId AND o.event IN";

fn query(a: &ReportArgs, from: &str, to: &str) -> Result<Vec<(String, Counts)>, String> {
    let path = sf_server::db::db_path(&a.data_dir);
    if !path.is_file() {
        return Err(format!(
            "no database at {} (start `sf serve --data-dir {}` first, or pass --data-dir)",
            path.display(),
            a.data_dir.display()
        ));
    }
    let mut conn = sf_server::db::open(&a.data_dir)?;
    sf_server::db::ensure_schema(&mut conn)?;
    let read = |e: String| format!("reading copilot_events_v1: {e}");
    let agent = a.agent.clone().unwrap_or_default();
    let sql = format!(
        "SELECT agentId, COUNT(*), \
         SUM(CASE WHEN outcome = 'ops_applied' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN outcome IN ('ops_applied', 'invalid_ops') THEN 1 ELSE 0 END), \
         SUM(CASE WHEN {HAS} ('ux_undo')) THEN 1 ELSE 0 END), \
         SUM(CASE WHEN {HAS} ('ux_keep', 'ux_undo')) THEN 1 ELSE 0 END), \
         SUM(CASE WHEN {HAS} ('signup_completed', 'upgrade_completed')) THEN 1 ELSE 0 END) \
         FROM copilot_events_v1 e WHERE day >= ?1 AND day <= ?2 AND (?3 = '' OR agentId = ?3) \
         GROUP BY agentId ORDER BY agentId"
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| read(e.to_string()))?;
    let mut out: Vec<(String, Counts)> = stmt
        .query_map([from, to, agent.as_str()], |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok((
                r.get::<_, String>(0)?,
                Counts {
                    interactions: n(1)?,
                    ops_applied: n(2)?,
                    ops_attempted: n(3)?,
                    undone: n(4)?,
                    decided: n(5)?,
                    converted: n(6)?,
                    latencies: Vec::new(),
                },
            ))
        })
        .map_err(|e| read(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| read(e.to_string()))?;
    let mut lat = conn
        .prepare(
            "SELECT latencyMs FROM copilot_events_v1 WHERE day >= ?1 AND day <= ?2 AND agentId = ?3 \
             AND latencyMs IS NOT NULL ORDER BY latencyMs",
        )
        .map_err(|e| read(e.to_string()))?;
    for (agent, c) in &mut out {
        c.latencies = lat
            .query_map([from, to, agent.as_str()], |r| r.get::<_, i64>(0))
            .map_err(|e| read(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| read(e.to_string()))?;
    }
    Ok(out)
}

/// The report, and whether every criterion of every agent passed.
pub fn report(a: &ReportArgs) -> Result<(Value, bool), String> {
    let (from, to) = range(a)?;
    let agents: Vec<Value> = query(a, &from, &to)?
        .iter()
        .map(|(agent, c)| agent_report(agent, c))
        .collect();
    let pass = agents.iter().all(|a| {
        a["criteria"]
            .as_array()
            .is_some_and(|cs| cs.iter().all(|c| c["pass"] == true))
    });
    Ok((json!({ "from": from, "to": to, "agents": agents }), pass))
}

fn table(r: &Value) -> String {
    let mut out = format!(
        "{} .. {}\n",
        r["from"].as_str().unwrap_or(""),
        r["to"].as_str().unwrap_or("")
    );
    out.push_str(&format!(
        "{:<34} {:>6}  {:<15} {:>10} {:>10}  pass\n",
        "agent", "n", "criterion", "value", "bar"
    ));
    for a in r["agents"].as_array().map_or(&[][..], Vec::as_slice) {
        for c in a["criteria"].as_array().map_or(&[][..], Vec::as_slice) {
            let v = c["value"]
                .as_f64()
                .map_or("-".to_string(), |v| format!("{v:.3}"));
            out.push_str(&format!(
                "{:<34} {:>6}  {:<15} {:>10} {:>10}  {}\n",
                a["agentId"].as_str().unwrap_or(""),
                a["interactions"],
                c["name"].as_str().unwrap_or(""),
                v,
                c["threshold"],
                if c["pass"] == true { "yes" } else { "NO" }
            ));
        }
    }
    out.push_str(&format!(
        "{} agent(s)",
        r["agents"].as_array().map_or(0, Vec::len)
    ));
    out
}

pub fn run(a: ReportArgs) -> i32 {
    match report(&a) {
        Ok((r, pass)) => {
            match a.format {
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default())
                }
                Format::Table => println!("{}", table(&r)),
            }
            i32::from(!pass)
        }
        Err(e) => {
            eprintln!("sf report: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_p95_and_day_arithmetic() {
        let v: Vec<i64> = (1..=20).map(|i| i * 100).collect();
        assert_eq!(percentile(&v, 95.0), Some(1900.0));
        assert_eq!(percentile(&[7], 95.0), Some(7.0));
        assert_eq!(percentile(&[], 95.0), None);
        assert_eq!(day_ms("1970-01-02"), 86_400_000);
        assert_eq!(
            sf_core::time_fmt::utc_day(day_ms("2026-11-22")),
            "2026-11-22"
        );
    }
}
