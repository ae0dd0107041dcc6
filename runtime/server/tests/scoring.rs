//! The `score-interactions` job (policy/learning.yaml) on the native host:
//! seeded interaction and outcome rows, exact scores, and re-scoring when
//! an outcome arrives late.

mod events_common;

use events_common::*;
use sf_core::policy::{Job, SCHEDULE};
use sf_core::ports::{Host, Sql, SqlStatement, SqlValue};
use sf_runtime::Gateway;
use sf_server::ephemeral::TempDir;
use sf_server::{HostOptions, NativeClock, NativeHost};

// 2026-11-22 02:00:00 UTC.
const NOW: i64 = 1_795_312_800_000;
const MIN: i64 = 60_000;

fn host(dir: &TempDir, clock: &NativeClock) -> NativeHost {
    NativeHost::open_with(
        dir.path(),
        native_vars(),
        HostOptions {
            clock: clock.clone(),
            ..HostOptions::default()
        },
    )
    .unwrap()
}

async fn exec(h: &NativeHost, sql: &str, args: Vec<SqlValue>) {
    h.sql().execute(SqlStatement::new(sql, args)).await.unwrap();
}

async fn interaction(h: &NativeHost, id: &str, agent: &str, session: &str, at: i64, outcome: &str) {
    exec(
        h,
        "INSERT INTO copilot_events_v1 (requestId, day, occurredAtMs, sessionId, agentId, outcome) VALUES (?, '2026-11-21', ?, ?, ?, ?)",
        vec![id.into(), SqlValue::Integer(at), session.into(), agent.into(), outcome.into()],
    )
    .await;
}

async fn outcome(h: &NativeHost, id: &str, event: &str) {
    exec(
        h,
        "INSERT INTO copilot_outcomes_v1 (requestId, event, day, occurredAtMs, sessionId) VALUES (?, ?, '2026-11-21', ?, 's')",
        vec![id.into(), event.into(), SqlValue::Integer(NOW - MIN)],
    )
    .await;
}

async fn scores(h: &NativeHost) -> Vec<(String, Option<f64>)> {
    let rows = h
        .sql()
        .query(SqlStatement::new(
            "SELECT requestId, score FROM copilot_events_v1 ORDER BY requestId",
            vec![],
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let s = match r.get("score") {
                Some(SqlValue::Real(x)) => Some(*x),
                Some(SqlValue::Integer(x)) => Some(*x as f64),
                _ => None,
            };
            (r.text("requestId").unwrap_or_default().to_owned(), s)
        })
        .collect()
}

#[test]
fn the_job_is_scheduled_hourly() {
    let e = SCHEDULE
        .iter()
        .find(|e| e.job == Job::ScoreInteractions)
        .expect("scheduled");
    assert_eq!(e.cron, "0 * * * *");
}

#[test]
fn interactions_are_scored_by_their_agent_formula_and_rescored_late() {
    let dir = TempDir::new("score");
    let clock = NativeClock::manual(NOW as u64);
    let sdr = "sdr.widget.copilot.v1";
    runtime().block_on(async {
        let gw = Gateway::new(host(&dir, &clock));
        let h = gw.host();
        let t = NOW - 3 * 60 * MIN;
        // a: valid ops, continued by b 10 min later, converted and paid: 1.0.
        interaction(h, "a", sdr, "s1", t, "ops_applied").await;
        interaction(h, "b", sdr, "s1", t + 10 * MIN, "ops_applied").await;
        outcome(h, "a", "upgrade_completed").await;
        // c: valid ops, next interaction 31 min later (abandoned): 0.2.
        interaction(h, "c", sdr, "s2", t, "ops_applied").await;
        interaction(h, "d", sdr, "s2", t + 31 * MIN, "no_ops").await;
        // e: no ops but kept (continued): 0.2; an outcome for an unknown id waits.
        interaction(h, "e", sdr, "s3", t, "no_ops").await;
        outcome(h, "e", "ux_keep").await;
        outcome(h, "z", "signup_completed").await;
        // cs.widget: valid, kept, not undone, no later interaction: 0.3+0.3+0.2+0.2.
        interaction(h, "f", "cs.widget.copilot.v1", "s4", t, "ops_applied").await;
        outcome(h, "f", "ux_keep").await;
        // cs.widget: valid but undone: 0.3.
        interaction(h, "g", "cs.widget.copilot.v1", "s5", t, "ops_applied").await;
        outcome(h, "g", "ux_undo").await;
        // An agent the policy does not score, and a row past the rescore window.
        interaction(h, "h", "debug.grantProbe", "s6", t, "ops_applied").await;
        interaction(h, "i", sdr, "s7", NOW - 8 * 86_400_000, "ops_applied").await;

        exec(
            h,
            "INSERT INTO sf_interactions (id, agent_id, created_at_ms, r2_key) VALUES ('a', ?, ?, 'k')",
            vec![sdr.into(), SqlValue::Integer(t)],
        )
        .await;
        let done = gw.run_job(Job::ScoreInteractions).await.unwrap();
        assert!(
            done.starts_with("scored 7 interaction(s) of 3 agent(s)"),
            "{done}"
        );
        let want = |z: Option<f64>| {
            vec![
                ("a", Some(1.0)),
                ("b", Some(0.2)),
                ("c", Some(0.2)),
                ("d", Some(0.0)),
                ("e", Some(0.2)),
                ("f", Some(1.0)),
                ("g", Some(0.3)),
                ("h", None),
                ("i", None),
                ("z", z),
            ]
            .into_iter()
            .filter(|(id, _)| *id != "z" || z.is_some())
            .map(|(id, s)| (id.to_owned(), s))
            .collect::<Vec<_>>()
        };
        assert_eq!(scores(h).await, want(None));
        let w = h
            .sql()
            .query(SqlStatement::new("SELECT score FROM sf_interactions", vec![]))
            .await
            .unwrap();
        assert_eq!(w[0].get("score"), Some(&SqlValue::Real(1.0)));

        // The interaction of the early outcome arrives, and c converts late.
        interaction(h, "z", sdr, "s8", t + 60 * MIN, "ops_applied").await;
        outcome(h, "c", "signup_completed").await;
        gw.run_job(Job::ScoreInteractions).await.unwrap();
        let mut w = want(Some(0.6));
        w[2].1 = Some(0.6);
        assert_eq!(scores(h).await, w);
    });
}

fn get(path: &str, token: Option<&str>) -> http::Request<Vec<u8>> {
    let mut b = http::Request::builder().method("GET").uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Vec::new()).unwrap()
}

#[test]
fn admin_metrics_per_day_and_prompt_version() {
    let dir = TempDir::new("metrics");
    let clock = NativeClock::manual(NOW as u64);
    let sdr = "sdr.widget.copilot.v1";
    runtime().block_on(async {
        let h = NativeHost::open_with(
            dir.path(),
            native_vars().with("SF_ADMIN_TOKEN", "adm"),
            HostOptions {
                clock: clock.clone(),
                ..HostOptions::default()
            },
        )
        .unwrap();
        let gw = Gateway::new(h);
        let h = gw.host();
        let t = NOW - 3 * 60 * MIN;
        for (id, pv, outcome, lat) in [
            ("a", "v1", "ops_applied", 1000),
            ("b", "v1", "invalid_ops", 3000),
            ("c", "v2", "ops_applied", 2000),
        ] {
            exec(
                h,
                "INSERT INTO copilot_events_v1 (requestId, day, occurredAtMs, sessionId, agentId, outcome, promptVersion, latencyMs) \
                 VALUES (?, '2026-11-21', ?, ?, ?, ?, ?, ?)",
                vec![id.into(), SqlValue::Integer(t), id.into(), sdr.into(), outcome.into(), pv.into(), SqlValue::Integer(lat)],
            )
            .await;
        }
        outcome(h, "a", "ux_keep").await;
        outcome(h, "b", "ux_undo").await;
        outcome(h, "c", "signup_completed").await;
        gw.run_job(Job::ScoreInteractions).await.unwrap();

        let q = "/admin/v1/metrics?agentId=sdr.widget.copilot.v1&from=2026-11-20&to=2026-11-22";
        assert_eq!(gw.handle(get(q, None)).await.status(), 401);
        assert_eq!(gw.handle(get(q, Some("nope"))).await.status(), 403);
        let res = gw.handle(get(q, Some("adm"))).await;
        assert_eq!(res.status(), 200);
        let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "agentId": sdr, "from": "2026-11-20", "to": "2026-11-22",
                "days": [
                    {"day": "2026-11-21", "promptVersion": "v1", "interactions": 2, "validOpsRate": 0.5,
                     "undoRate": 0.5, "p95LatencyMs": 3000.0, "conversionRate": 0.0, "avgScore": 0.2},
                    {"day": "2026-11-21", "promptVersion": "v2", "interactions": 1, "validOpsRate": 1.0,
                     "undoRate": null, "p95LatencyMs": 2000.0, "conversionRate": 1.0, "avgScore": 0.6},
                ]
            })
        );
        for bad in [
            "/admin/v1/metrics?agentId=nobody",
            "/admin/v1/metrics?agentId=sdr.copilot&from=2026-11-22&to=2026-11-21",
            "/admin/v1/metrics?agentId=sdr.copilot&from=2026-1-1",
        ] {
            assert_eq!(gw.handle(get(bad, Some("adm"))).await.status(), 400, "{bad}");
        }
    });
}
