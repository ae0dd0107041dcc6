//! Migration runner and the durable queue's retry / dead-letter / replay rules.

use sf_server::db;
use sf_server::ephemeral::TempDir;
use sf_server::queue::{self, Disposition, QueueConfig};
use sf_server::{NativeHost, NativeVars, QueueStore};

#[test]
fn embedded_migrations_apply_once_and_are_recorded() {
    let dir = TempDir::new("mig");
    let names: Vec<&str> = db::MIGRATIONS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.first(), Some(&"0001_init.sql"));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "migrations must be embedded in name order");

    drop(NativeHost::open(dir.path(), NativeVars::default()).unwrap());
    // A second open (another thread, another boot) applies nothing more.
    drop(NativeHost::open(dir.path(), NativeVars::default()).unwrap());
    let mut conn = db::open(dir.path()).unwrap();
    assert_eq!(db::applied_migrations(&conn).unwrap(), names);
    assert_eq!(db::ensure_schema(&mut conn).unwrap(), Vec::<String>::new());
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM d1_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, names.len() as i64);
    let applied_at: String = conn
        .query_row(
            "SELECT applied_at FROM d1_migrations WHERE name = '0001_init.sql'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        applied_at.len(),
        "2026-11-21 23:49:00".len(),
        "{applied_at}"
    );
    // The contract tables exist with their indexes.
    for (kind, name) in [
        ("table", "copilot_events_v1"),
        ("table", "copilot_outcomes_v1"),
        ("index", "idx_copilot_events_v1_day_agent"),
        ("index", "idx_copilot_events_v1_day_intent_outcome"),
        ("index", "idx_copilot_outcomes_v1_request"),
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = ?1 AND name = ?2",
                [kind, name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{kind} {name}");
    }
}

#[test]
fn failing_migration_rolls_back_and_is_retried() {
    let dir = TempDir::new("mig2");
    let mut conn = db::open(dir.path()).unwrap();
    let good = ("0001_a.sql", "CREATE TABLE a (x INTEGER);");
    let bad = (
        "0002_b.sql",
        "CREATE TABLE b (x INTEGER); CREATE TABLE a (y INTEGER);",
    );
    let err = db::apply_migrations(&mut conn, &[good, bad]).unwrap_err();
    assert!(
        err.contains("0002_b.sql") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(db::applied_migrations(&conn).unwrap(), vec!["0001_a.sql"]);
    // Nothing of the failed file survived (table b was rolled back).
    let b: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(b, 0);
    let fixed = ("0002_b.sql", "CREATE TABLE b (x INTEGER);");
    assert_eq!(
        db::apply_migrations(&mut conn, &[good, fixed]).unwrap(),
        vec!["0002_b.sql"]
    );
    assert_eq!(
        db::apply_migrations(&mut conn, &[good, fixed]).unwrap(),
        Vec::<String>::new()
    );
}

fn cfg() -> QueueConfig {
    QueueConfig {
        max_attempts: 3,
        base_backoff_ms: 1_000,
        max_backoff_ms: 3_000,
        lease_ms: 60_000,
        batch_size: 10,
        idle_poll_ms: 100,
    }
}

#[test]
fn backoff_doubles_and_caps() {
    let c = QueueConfig::default();
    let got: Vec<u64> = (1..=9).map(|a| c.backoff_ms(a)).collect();
    assert_eq!(
        got,
        vec![1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]
    );
}

#[test]
fn retry_backoff_dead_letter_and_replay() {
    let dir = TempDir::new("queue");
    drop(QueueStore::open(dir.path()).unwrap());
    let mut c = db::open(dir.path()).unwrap();
    let cfg = cfg();
    let t = 1_000_000u64;
    let a = queue::enqueue(&c, "events", r#"{"n":"a"}"#, t).unwrap();
    let b = queue::enqueue(&c, "events", r#"{"n":"b"}"#, t).unwrap();
    let d = queue::enqueue(&c, "events", r#"{"n":"d"}"#, t).unwrap();

    let got = queue::claim(&mut c, t, cfg.lease_ms, 10).unwrap();
    assert_eq!(
        got.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
        vec![(a, 1), (b, 1), (d, 1)]
    );
    // Claimed messages are hidden from other consumers for the lease.
    assert!(queue::claim(&mut c, t + 59_999, cfg.lease_ms, 10)
        .unwrap()
        .is_empty());

    // Per-message ack: a succeeds, b asks for a retry, d is rejected.
    queue::ack(&c, a).unwrap();
    assert_eq!(
        queue::fail(&mut c, b, "R2 put failed", false, t, &cfg).unwrap(),
        Disposition::RetryAt(t + 1_000)
    );
    assert_eq!(
        queue::fail(&mut c, d, "unknown message shape", true, t, &cfg).unwrap(),
        Disposition::Dead
    );

    // b is invisible until its backoff ends; only b comes back.
    assert!(queue::claim(&mut c, t + 999, cfg.lease_ms, 10)
        .unwrap()
        .is_empty());
    let got = queue::claim(&mut c, t + 1_000, cfg.lease_ms, 10).unwrap();
    assert_eq!(
        got.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
        vec![(b, 2)]
    );
    assert_eq!(
        queue::fail(&mut c, b, "again", false, t + 1_000, &cfg).unwrap(),
        Disposition::RetryAt(t + 1_000 + 2_000)
    );
    let got = queue::claim(&mut c, t + 3_000, cfg.lease_ms, 10).unwrap();
    assert_eq!(got[0].attempts, 3);
    // Third failure with max_attempts 3: dead.
    assert_eq!(
        queue::fail(&mut c, b, "still failing", false, t + 3_000, &cfg).unwrap(),
        Disposition::Dead
    );
    assert!(queue::claim(&mut c, t + 1_000_000, cfg.lease_ms, 10)
        .unwrap()
        .is_empty());

    let mut store = QueueStore::open(dir.path()).unwrap();
    let dead = store.dead_letters(10).unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!(
        (dead[0].id, dead[0].attempts, dead[0].last_error.as_deref()),
        (b, 3, Some("still failing"))
    );
    assert_eq!(dead[0].body, r#"{"n":"b"}"#);
    assert_eq!(dead[0].failed_at_ms, (t + 3_000) as i64);
    assert_eq!(
        (dead[1].id, dead[1].attempts, dead[1].last_error.as_deref()),
        (d, 1, Some("unknown message shape"))
    );
    assert_eq!(store.pending().unwrap(), 0);

    // Replay one by id, then the rest; ids and bodies are kept, attempts reset.
    assert_eq!(store.replay(Some(&[d, 424242])).unwrap(), 1);
    assert_eq!(store.dead_letters(10).unwrap().len(), 1);
    assert_eq!(store.replay(None).unwrap(), 1);
    assert!(store.dead_letters(10).unwrap().is_empty());
    let now = sf_server::clock::system_now_ms();
    let got = queue::claim(&mut c, now, cfg.lease_ms, 10).unwrap();
    let mut ids: Vec<(i64, u32, String)> = got
        .into_iter()
        .map(|m| (m.id, m.attempts, m.body))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            (b, 1, r#"{"n":"b"}"#.to_owned()),
            (d, 1, r#"{"n":"d"}"#.to_owned())
        ]
    );
}

#[test]
fn crashed_consumer_lease_expires_and_release_returns_uncounted() {
    let dir = TempDir::new("queue2");
    drop(QueueStore::open(dir.path()).unwrap());
    let mut c = db::open(dir.path()).unwrap();
    let t = 5_000u64;
    let id = queue::enqueue(&c, "q", "{}", t).unwrap();
    assert_eq!(queue::claim(&mut c, t, 1_000, 1).unwrap()[0].attempts, 1);
    // The consumer "crashed": after the lease the message is delivered again.
    let again = queue::claim(&mut c, t + 1_000, 1_000, 1).unwrap();
    assert_eq!((again[0].id, again[0].attempts), (id, 2));
    // Shutdown hands it back without counting the attempt.
    queue::release(&c, id, t + 1_500).unwrap();
    assert_eq!(
        queue::claim(&mut c, t + 1_500, 1_000, 1).unwrap()[0].attempts,
        2
    );
}

#[test]
fn server_consumer_dead_letters_undecodable_messages() {
    let srv =
        sf_server::ephemeral::EphemeralServer::start_with([("ENVIRONMENT", "local")], |cfg| {
            cfg.queue.idle_poll_ms = 20;
        })
        .unwrap();
    let c = db::open(srv.data_dir()).unwrap();
    let id = queue::enqueue(
        &c,
        "sanfrancisco-events",
        "not json",
        sf_server::clock::system_now_ms(),
    )
    .unwrap();
    let store = QueueStore::open(srv.data_dir()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let dead = loop {
        let dead = store.dead_letters(10).unwrap();
        if !dead.is_empty() || std::time::Instant::now() > deadline {
            break dead;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
    assert_eq!(dead[0].attempts, 1);
    assert!(dead[0]
        .last_error
        .as_deref()
        .unwrap_or("")
        .starts_with("message is not JSON"));
    assert_eq!(store.pending().unwrap(), 0);
    srv.shutdown().unwrap();
}

#[test]
fn dead_letters_do_not_keep_grants() {
    let dir = TempDir::new("queue3");
    drop(QueueStore::open(dir.path()).unwrap());
    let mut c = db::open(dir.path()).unwrap();
    let body = r#"{"kind":"l10n","job":{"grant":"v1.payload.sig","locale":"fr"}}"#;
    let id = queue::enqueue(&c, "l10n", body, 10).unwrap();
    queue::claim(&mut c, 10, 1_000, 1).unwrap();
    assert_eq!(
        queue::fail(&mut c, id, "bad grant", true, 10, &cfg()).unwrap(),
        Disposition::Dead
    );
    let dead = QueueStore::open(dir.path())
        .unwrap()
        .dead_letters(10)
        .unwrap();
    assert_eq!(
        dead[0].body,
        r#"{"kind":"l10n","job":{"grant":"[redacted]","locale":"fr"}}"#
    );
}

#[test]
fn ack_many_deletes_exactly_the_given_messages_and_empty_claims_take_no_lock() {
    let dir = TempDir::new("queue4");
    drop(QueueStore::open(dir.path()).unwrap());
    let mut c = db::open(dir.path()).unwrap();
    let ids: Vec<i64> = (0..4)
        .map(|i| queue::enqueue(&c, "q", &format!("{{\"i\":{i}}}"), 0).unwrap())
        .collect();
    queue::ack_many(&mut c, &[ids[0], ids[2]]).unwrap();
    queue::ack_many(&mut c, &[]).unwrap();
    let left: Vec<i64> = queue::claim(&mut c, 0, 1_000, 10)
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, vec![ids[1], ids[3]]);
    // Nothing visible: claim returns at once even while another connection
    // holds the write lock.
    let mut other = db::open(dir.path()).unwrap();
    let tx = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let t = std::time::Instant::now();
    assert!(queue::claim(&mut c, 0, 1_000, 10).unwrap().is_empty());
    assert!(t.elapsed() < std::time::Duration::from_millis(500));
    drop(tx);
}
