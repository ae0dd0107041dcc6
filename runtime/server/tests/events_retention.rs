//! The retention job through `Gateway::scheduled` with the policy's cron, on
//! the native host with a manual clock.

mod events_common;

use std::collections::HashMap;

use events_common::*;
use sf_core::policy::{Job, SCHEDULE};
use sf_core::ports::{Blob, Host, Kv, Sql, SqlStatement};
use sf_runtime::Gateway;
use sf_server::ephemeral::TempDir;
use sf_server::{HostOptions, NativeClock, NativeHost, NativeVars};

// 2026-11-22 02:00:00 UTC.
const NOW: u64 = 1_795_312_800_000;

fn host(dir: &TempDir, clock: &NativeClock, extra: &[(&str, &str)]) -> NativeHost {
    let mut map: HashMap<String, String> = vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (k, v) in extra {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    NativeHost::open_with(
        dir.path(),
        NativeVars::from_map(map),
        HostOptions {
            clock: clock.clone(),
            ..HostOptions::default()
        },
    )
    .unwrap()
}

const KEYS: [&str; 8] = [
    "logs/local/debug.grantProbe/2026-09-01/a.json",
    "logs/local/debug.grantProbe/2026-10-22/b.json", // 31 days before NOW: deleted
    "logs/local/debug.grantProbe/2026-10-23/c.json", // 30 days before NOW: kept
    "logs/local/debug.grantProbe/2026-11-22/d.json",
    "logs/local/sdr.copilot/2026-01-01/e.json",
    "logs/dev/debug.grantProbe/2026-01-01/f.json", // another environment: untouched
    "l10n/wgt/de/x.1.json",                        // not a raw log: untouched
    "logs/local/unknown.agent/2026-01-01/g.json",  // not an agent of the policy
];

async fn seed(h: &NativeHost) {
    for k in KEYS {
        h.blob()
            .put(k, b"{}".to_vec(), "application/json")
            .await
            .unwrap();
    }
    h.sql()
        .execute(SqlStatement::new(
            "INSERT INTO copilot_events_v1 (requestId, day, occurredAtMs, agentId) VALUES ('a', '2026-09-01', 1, 'debug.grantProbe')",
            vec![],
        ))
        .await
        .unwrap();
}

async fn remaining(h: &NativeHost) -> Vec<String> {
    let mut all = h.blob().list("", 100).await.unwrap();
    all.sort();
    all
}

fn retention_cron() -> &'static str {
    SCHEDULE
        .iter()
        .find(|e| e.job == Job::Retention)
        .map(|e| e.cron)
        .expect("policy/jobs.yaml schedules the retention job")
}

#[test]
fn policy_schedules_retention_daily_at_two() {
    assert_eq!(retention_cron(), "0 2 * * *");
    // The native scheduler accepts it (what `sf serve` passes).
    sf_server::scheduler::parse_jobs(&[(retention_cron().to_owned(), "retention".to_owned())])
        .unwrap();
}

#[test]
fn old_raw_logs_are_deleted_rows_and_other_objects_kept() {
    let dir = TempDir::new("ret");
    let clock = NativeClock::manual(NOW);
    runtime().block_on(async {
        let gw = Gateway::new(host(&dir, &clock, &[]));
        seed(gw.host()).await;
        // A session written 25 h ago has expired; the native purge reclaims it.
        gw.host()
            .kv()
            .put("copilot:sdr:session:s1", "{}", Some(86_400))
            .await
            .unwrap();
        clock.advance(25 * 3_600_000);
        assert_eq!(gw.host().purge_expired().unwrap(), 1);
        assert_eq!(
            gw.host().kv().get("copilot:sdr:session:s1").await.unwrap(),
            None
        );

        let report = sf_records::retention::run(gw.isolate()).await.unwrap();
        assert_eq!(report.cutoff_day, "2026-10-24");
        // NOW + 25 h is 2026-11-23 03:00: the 30-day cutoff is 2026-10-24.
        assert_eq!(report.deleted, 4);
        assert!(!report.capped);
        assert_eq!(
            remaining(gw.host()).await,
            vec![
                "l10n/wgt/de/x.1.json",
                "logs/dev/debug.grantProbe/2026-01-01/f.json",
                "logs/local/debug.grantProbe/2026-11-22/d.json",
                "logs/local/unknown.agent/2026-01-01/g.json",
            ]
        );
        let rows = gw
            .host()
            .sql()
            .query(SqlStatement::new(
                "SELECT requestId FROM copilot_events_v1",
                vec![],
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "D1 rows are kept");
    });
}

#[test]
fn scheduled_cron_runs_retention_with_the_configured_period() {
    let dir = TempDir::new("ret2");
    let clock = NativeClock::manual(NOW);
    runtime().block_on(async {
        let gw = Gateway::new(host(&dir, &clock, &[("SF_RAW_LOG_RETENTION_DAYS", "30")]));
        seed(gw.host()).await;
        gw.scheduled(retention_cron()).await;
        // Cutoff 2026-10-23: a, b (debug.grantProbe) and e (sdr.copilot) go.
        let left = remaining(gw.host()).await;
        assert!(
            !left.iter().any(|k| k.ends_with("/a.json")
                || k.ends_with("/b.json")
                || k.ends_with("/e.json")),
            "{left:?}"
        );
        assert!(left.iter().any(|k| k.ends_with("/c.json")), "{left:?}");
        assert_eq!(left.len(), 5);
    });
}

#[test]
fn a_bad_period_deletes_nothing_and_the_cap_bounds_a_run() {
    let dir = TempDir::new("ret3");
    let clock = NativeClock::manual(NOW);
    runtime().block_on(async {
        let gw = Gateway::new(host(&dir, &clock, &[("SF_RAW_LOG_RETENTION_DAYS", "0")]));
        seed(gw.host()).await;
        let err = sf_records::retention::run(gw.isolate()).await.unwrap_err();
        assert!(err.contains("SF_RAW_LOG_RETENTION_DAYS"), "{err}");
        gw.scheduled(retention_cron()).await;
        assert_eq!(remaining(gw.host()).await.len(), KEYS.len());

        let gw = Gateway::new(host(
            &dir,
            &clock,
            &[
                ("SF_RAW_LOG_RETENTION_DAYS", "1"),
                ("SF_RETENTION_MAX_DELETES", "2"),
            ],
        ));
        let r = sf_records::retention::run(gw.isolate()).await.unwrap();
        assert_eq!((r.deleted, r.capped), (2, true));
        let r = sf_records::retention::run(gw.isolate()).await.unwrap();
        // 2026-10-23 and sdr.copilot's 2026-01-01 remain older than 2026-11-21.
        assert_eq!((r.deleted, r.capped), (2, false));
        assert_eq!(remaining(gw.host()).await.len(), KEYS.len() - 4);
    });
}
