//! `sf report` and `sf jobs` on a native data directory seeded with
//! interaction and outcome rows: exact rates, the policy's bars, exit codes.

use std::process::Command;

use serde_json::{json, Value};
use sf_server::ephemeral::TempDir;

fn sf(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sf"))
        .args(args)
        .env("ENVIRONMENT", "local")
        .output()
        .expect("run sf")
}

const SDR: &str = "sdr.widget.copilot.v1";
const CS: &str = "cs.widget.copilot.v1";

/// (requestId, day, agent, session, outcome, latencyMs), then (requestId, event).
fn seed(dir: &TempDir) {
    let mut conn = sf_server::db::open(dir.path()).unwrap();
    sf_server::db::ensure_schema(&mut conn).unwrap();
    let mut rows: Vec<(String, &str, &str, &str, &str, i64)> = Vec::new();
    // SDR widget, 2026-11-20: 10 interactions, 9 edits valid + 1 invalid,
    // latencies 1000..10000 (p95 nearest rank = 10000).
    for i in 0..10 {
        let outcome = if i == 9 { "invalid_ops" } else { "ops_applied" };
        rows.push((
            format!("s{i}"),
            "2026-11-20",
            SDR,
            "sess",
            outcome,
            1000 * (i + 1),
        ));
    }
    // CS widget, 2026-11-21: 4 edits, all valid, fast.
    for i in 0..4 {
        rows.push((format!("c{i}"), "2026-11-21", CS, "cs", "ops_applied", 500));
    }
    // Outside the range.
    rows.push(("old".into(), "2026-11-01", SDR, "x", "invalid_ops", 90_000));
    for (id, day, agent, session, outcome, lat) in &rows {
        conn.execute(
            "INSERT INTO copilot_events_v1 (requestId, day, occurredAtMs, sessionId, agentId, outcome, latencyMs) \
             VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)",
            // INTEGER affinity stores the text as a number.
            [id.as_str(), day, session, agent, outcome, lat.to_string().as_str()],
        )
        .unwrap();
    }
    let outcomes = [
        ("s0", "ux_keep"),
        ("s1", "ux_keep"),
        ("s2", "ux_keep"),
        ("s3", "ux_undo"),
        ("s0", "signup_completed"),
        ("s1", "upgrade_completed"),
        ("c0", "ux_keep"),
        ("c1", "ux_undo"),
        ("c2", "ux_undo"),
        ("c3", "signup_completed"),
        ("nobody", "ux_undo"),
    ];
    for (id, ev) in outcomes {
        conn.execute(
            "INSERT INTO copilot_outcomes_v1 (requestId, event, day, occurredAtMs, sessionId) VALUES (?1, ?2, '2026-11-21', 0, 's')",
            [id, ev],
        )
        .unwrap();
    }
}

fn crit(name: &str, value: Value, threshold: f64, pass: bool) -> Value {
    json!({"name": name, "value": value, "threshold": threshold, "pass": pass})
}

#[test]
fn report_gives_exact_rates_against_the_policy_bars() {
    let dir = TempDir::new("report");
    seed(&dir);
    let d = dir.path().to_str().unwrap();
    let out = sf(&[
        "report",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-21",
        "--data-dir",
        d,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r,
        json!({
            "from": "2026-11-20",
            "to": "2026-11-21",
            "agents": [
                {
                    "agentId": CS, "interactions": 4, "validOpsRate": 1.0, "undoRate": 2.0 / 3.0,
                    "p95LatencyMs": 500.0, "conversionRate": 0.25,
                    "criteria": [
                        crit("validOpsRate", json!(1.0), 0.8, true),
                        crit("undoRate", json!(2.0 / 3.0), 0.25, false),
                        crit("p95LatencyMs", json!(500.0), 8000.0, true),
                        crit("conversionRate", json!(0.25), 0.05, true),
                    ]
                },
                {
                    "agentId": SDR, "interactions": 10, "validOpsRate": 0.9, "undoRate": 0.25,
                    "p95LatencyMs": 10000.0, "conversionRate": 0.2,
                    "criteria": [
                        crit("validOpsRate", json!(0.9), 0.8, true),
                        crit("undoRate", json!(0.25), 0.25, true),
                        crit("p95LatencyMs", json!(10000.0), 8000.0, false),
                        crit("conversionRate", json!(0.2), 0.05, true),
                    ]
                }
            ]
        })
    );
    // The CS widget alone still fails on undo; the table marks the failing criterion.
    let out = sf(&[
        "report",
        "--from",
        "2026-11-21",
        "--to",
        "2026-11-21",
        "--agent",
        CS,
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = sf(&[
        "report",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-20",
        "--agent",
        SDR,
        "--format",
        "table",
        "--data-dir",
        d,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("p95LatencyMs") && text.contains("NO"),
        "{text}"
    );
    // Bad input.
    let out = sf(&[
        "report",
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-21",
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is after"));
}

#[test]
fn a_passing_report_exits_zero() {
    let dir = TempDir::new("report-pass");
    let mut conn = sf_server::db::open(dir.path()).unwrap();
    sf_server::db::ensure_schema(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO copilot_events_v1 (requestId, day, occurredAtMs, agentId, outcome, latencyMs) VALUES ('a', '2026-11-20', 0, 'sdr.copilot', 'ops_applied', 900);
         INSERT INTO copilot_outcomes_v1 (requestId, event, day, occurredAtMs, sessionId) VALUES ('a', 'ux_keep', '2026-11-20', 0, 's'), ('a', 'signup_completed', '2026-11-20', 0, 's');",
    )
    .unwrap();
    let out = sf(&[
        "report",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-20",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn jobs_list_and_run_score_interactions() {
    let out = sf(&["jobs", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("score-interactions") && text.contains("0 * * * *"),
        "{text}"
    );
    assert!(
        text.contains("retention") && text.contains("0 2 * * *"),
        "{text}"
    );

    let dir = TempDir::new("jobs-run");
    let mut conn = sf_server::db::open(dir.path()).unwrap();
    sf_server::db::ensure_schema(&mut conn).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    conn.execute(
        "INSERT INTO copilot_events_v1 (requestId, day, occurredAtMs, sessionId, agentId, outcome) VALUES ('a', '2026-11-20', ?1, 's', 'sdr.widget.copilot.v1', 'ops_applied')",
        [(now - 60_000).to_string()],
    )
    .unwrap();
    drop(conn);
    let d = dir.path().to_str().unwrap();
    let out = sf(&["jobs", "run", "score-interactions", "--data-dir", d]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("scored 1 interaction(s)"));
    let conn = sf_server::db::open(dir.path()).unwrap();
    let score: f64 = conn
        .query_row(
            "SELECT score FROM copilot_events_v1 WHERE requestId = 'a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(score, 0.2);
    let out = sf(&["jobs", "run", "nope", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown job"));
}
