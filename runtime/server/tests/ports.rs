//! Each native port against the real SQLite file / filesystem.

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use sf_core::ports::{
    Blob, Clock, Counter, Kv, Queue, Random, Reserve, Sql, SqlStatement, SqlValue, Vars,
};
use sf_server::ephemeral::TempDir;
use sf_server::{HostOptions, NativeClock, NativeHost, NativeVars};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn host_with_clock(dir: &TempDir, clock: NativeClock) -> NativeHost {
    let opts = HostOptions {
        clock,
        ..HostOptions::default()
    };
    NativeHost::open_with(dir.path(), NativeVars::default(), opts).unwrap()
}

const T0: u64 = 1_795_304_940_000;

#[test]
fn kv_ttl_expiry_and_list() {
    let dir = TempDir::new("kv");
    let clock = NativeClock::manual(T0);
    let host = host_with_clock(&dir, clock.clone());
    let kv = sf_core::ports::Host::kv(&host);
    rt().block_on(async {
        kv.put("s:a", "1", Some(10)).await.unwrap();
        kv.put("s:b", "2", None).await.unwrap();
        kv.put("s*x", "3", Some(100)).await.unwrap();
        kv.put("t:a", "4", None).await.unwrap();
        assert_eq!(kv.get("s:a").await.unwrap().as_deref(), Some("1"));
        assert_eq!(kv.list("s:", 10).await.unwrap(), vec!["s:a", "s:b"]);
        // GLOB metacharacters in the prefix are literal.
        assert_eq!(kv.list("s*", 10).await.unwrap(), vec!["s*x"]);
        assert_eq!(kv.list("", 2).await.unwrap(), vec!["s*x", "s:a"]);

        clock.advance(9_999);
        assert_eq!(kv.get("s:a").await.unwrap().as_deref(), Some("1"));
        clock.advance(1);
        // Exactly at the expiry the key is gone, for get and for list.
        assert_eq!(kv.get("s:a").await.unwrap(), None);
        assert_eq!(kv.list("s:", 10).await.unwrap(), vec!["s:b"]);

        // Overwrite replaces value and TTL.
        kv.put("s:b", "2b", Some(1)).await.unwrap();
        assert_eq!(kv.get("s:b").await.unwrap().as_deref(), Some("2b"));
        clock.advance(1_000);
        assert_eq!(kv.get("s:b").await.unwrap(), None);
        kv.delete("t:a").await.unwrap();
        assert_eq!(kv.get("t:a").await.unwrap(), None);
        clock.advance(100_000);
        // s*x expired but was never read: the purge reclaims it.
        assert_eq!(host.purge_expired().unwrap(), 1);
        assert_eq!(kv.list("", 10).await.unwrap(), Vec::<String>::new());
    });
}

#[test]
fn sql_d1_semantics() {
    let dir = TempDir::new("sql");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let sql = sf_core::ports::Host::sql(&host);
    rt().block_on(async {
        sql.execute(SqlStatement::new(
            "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, r REAL, s TEXT)",
            vec![],
        ))
        .await
        .unwrap();
        let n = sql
            .execute(SqlStatement::new(
                "INSERT INTO t VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
                vec![
                    "a".into(),
                    1i64.into(),
                    0.5f64.into(),
                    SqlValue::Null,
                    "b".into(),
                    2i64.into(),
                    SqlValue::Null,
                    "x".into(),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(n, 2);
        let rows = sql
            .query(SqlStatement::new(
                "SELECT id, n, r, s FROM t WHERE n >= ? ORDER BY id",
                vec![1i64.into()],
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("id"), Some("a"));
        assert_eq!(rows[0].get("r"), Some(&SqlValue::Real(0.5)));
        assert_eq!(rows[0].get("s"), Some(&SqlValue::Null));
        assert_eq!(rows[1].int("n"), Some(2));
        assert_eq!(rows[1].text("s"), Some("x"));
        // RETURNING statements run through execute too.
        let n = sql
            .execute(SqlStatement::new(
                "UPDATE t SET n = n + 1 RETURNING id",
                vec![],
            ))
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            sql.execute(SqlStatement::new("SELECT 1", vec![]))
                .await
                .unwrap(),
            0
        );
        // Two statements in one text are refused, like D1's prepare.
        assert!(sql
            .execute(SqlStatement::new("SELECT 1; SELECT 2", vec![]))
            .await
            .is_err());

        // A failing batch leaves nothing behind.
        let err = sql
            .batch(vec![
                SqlStatement::new(
                    "INSERT INTO t (id, n) VALUES (?, ?)",
                    vec!["c".into(), 3i64.into()],
                ),
                SqlStatement::new(
                    "INSERT INTO t (id, n) VALUES (?, ?)",
                    vec!["a".into(), 9i64.into()],
                ),
            ])
            .await
            .unwrap_err();
        assert_eq!(err.port, "sql");
        assert!(err.message.contains("UNIQUE"), "{}", err.message);
        let count = sql
            .query(SqlStatement::new("SELECT count(*) AS c FROM t", vec![]))
            .await
            .unwrap();
        assert_eq!(count[0].int("c"), Some(2));
        sql.batch(vec![
            SqlStatement::new(
                "INSERT INTO t (id, n) VALUES (?, ?)",
                vec!["c".into(), 3i64.into()],
            ),
            SqlStatement::new("DELETE FROM t WHERE id = ?", vec!["a".into()]),
        ])
        .await
        .unwrap();
        let ids = sql
            .query(SqlStatement::new("SELECT id FROM t ORDER BY id", vec![]))
            .await
            .unwrap();
        let ids: Vec<&str> = ids.iter().filter_map(|r| r.text("id")).collect();
        assert_eq!(ids, vec!["b", "c"]);
    });
}

#[test]
fn counter_reserve_is_atomic_across_threads() {
    let dir = TempDir::new("counter");
    // Create the schema once so the threads race only on reservations.
    drop(NativeHost::open(dir.path(), NativeVars::default()).unwrap());
    let barrier = Arc::new(Barrier::new(8));
    let path = dir.path().to_path_buf();
    let expires = sf_server::clock::system_now_ms() + 60_000;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            let path = path.clone();
            std::thread::spawn(move || {
                let host = NativeHost::open(&path, NativeVars::default()).unwrap();
                let counter = sf_core::ports::Host::counter(&host);
                barrier.wait();
                let rt = rt();
                let mut won = 0;
                for _ in 0..100 {
                    let lanes = [
                        Reserve {
                            lane: "requests",
                            amount: 1,
                            ceiling: Some(50),
                        },
                        Reserve {
                            lane: "cost",
                            amount: 7,
                            ceiling: None,
                        },
                    ];
                    if rt
                        .block_on(counter.reserve("grant:k", &lanes, expires))
                        .unwrap()
                    {
                        won += 1;
                    }
                }
                won
            })
        })
        .collect();
    let total: i32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, 50);
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let counter = sf_core::ports::Host::counter(&host);
    rt().block_on(async {
        assert_eq!(counter.read("grant:k", "requests").await.unwrap(), 50);
        // Refused reservations added nothing to the uncapped lane either.
        assert_eq!(counter.read("grant:k", "cost").await.unwrap(), 350);
    });
}

#[test]
fn counter_all_or_nothing_adjust_and_expiry() {
    let dir = TempDir::new("counter2");
    let clock = NativeClock::manual(T0);
    let host = host_with_clock(&dir, clock.clone());
    let c = sf_core::ports::Host::counter(&host);
    rt().block_on(async {
        let exp = T0 + 5_000;
        let lanes = |req, cost| {
            [
                Reserve {
                    lane: "req",
                    amount: req,
                    ceiling: Some(2),
                },
                Reserve {
                    lane: "cost",
                    amount: cost,
                    ceiling: Some(1_000),
                },
            ]
        };
        assert!(c.reserve("k", &lanes(1, 600), exp).await.unwrap());
        // The second lane would pass its ceiling: the first lane is not touched.
        assert!(!c.reserve("k", &lanes(1, 600), exp).await.unwrap());
        assert_eq!(c.read("k", "req").await.unwrap(), 1);
        assert_eq!(c.read("k", "cost").await.unwrap(), 600);
        // Settle the worst case down to the real cost, then it fits.
        c.adjust("k", "cost", -500).await.unwrap();
        assert_eq!(c.read("k", "cost").await.unwrap(), 100);
        assert!(c.reserve("k", &lanes(1, 600), exp).await.unwrap());
        assert!(!c.reserve("k", &lanes(1, 1), exp).await.unwrap());
        // The same lane twice in one call counts twice.
        let twice = [
            Reserve {
                lane: "x",
                amount: 1,
                ceiling: Some(1),
            },
            Reserve {
                lane: "x",
                amount: 1,
                ceiling: Some(1),
            },
        ];
        assert!(!c.reserve("k2", &twice, exp).await.unwrap());
        assert_eq!(c.read("k2", "x").await.unwrap(), 0);

        clock.advance(5_000);
        // Expired: reads zero, and the next reservation starts from zero.
        assert_eq!(c.read("k", "req").await.unwrap(), 0);
        assert!(c.reserve("k", &lanes(2, 1_000), T0 + 10_000).await.unwrap());
        assert_eq!(c.read("k", "req").await.unwrap(), 2);
        assert_eq!(c.read("k", "cost").await.unwrap(), 1_000);
        assert_eq!(c.read("absent", "req").await.unwrap(), 0);
    });
}

#[test]
fn blob_atomic_put_list_delete_and_key_refusal() {
    let dir = TempDir::new("blob");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let blob = sf_core::ports::Host::blob(&host);
    rt().block_on(async {
        let key = "logs/dev/sdr.copilot/2026-11-21/req-1.json";
        blob.put(key, b"{\"a\":1}".to_vec(), "application/json")
            .await
            .unwrap();
        blob.put(
            "logs/dev/sdr.copilot/2026-11-22/req-2.json",
            b"2".to_vec(),
            "application/json",
        )
        .await
        .unwrap();
        blob.put("logs/prod/x.json", b"3".to_vec(), "application/json")
            .await
            .unwrap();
        let on_disk = dir.path().join("blob").join(key);
        assert_eq!(std::fs::read(&on_disk).unwrap(), b"{\"a\":1}");
        assert_eq!(
            blob.get(key).await.unwrap().as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
        // Overwrite replaces the whole object.
        blob.put(key, b"new".to_vec(), "application/json")
            .await
            .unwrap();
        assert_eq!(blob.get(key).await.unwrap().as_deref(), Some(&b"new"[..]));
        // No temporary file survives a completed write.
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );

        assert_eq!(
            blob.list("logs/dev/", 10).await.unwrap(),
            vec![key, "logs/dev/sdr.copilot/2026-11-22/req-2.json"]
        );
        assert_eq!(blob.list("logs/", 1).await.unwrap(), vec![key]);
        assert_eq!(
            blob.list("logs/dev/sdr.copilot/2026-11-2", 10)
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            blob.list("nothing/", 10).await.unwrap(),
            Vec::<String>::new()
        );
        // A directory is not an object.
        assert_eq!(blob.get("logs/dev").await.unwrap(), None);

        for bad in [
            "../escape",
            "/etc/passwd",
            "a/../../b",
            "a//b",
            "a/./b",
            "",
            "a/",
            "a\\b",
            "a\0b",
        ] {
            let err = blob
                .put(bad, b"x".to_vec(), "text/plain")
                .await
                .unwrap_err();
            assert_eq!(err.port, "blob", "{bad:?}");
            assert!(
                err.message.starts_with("refused key"),
                "{bad:?}: {}",
                err.message
            );
            assert!(blob.get(bad).await.is_err(), "{bad:?}");
            assert!(blob.delete(bad).await.is_err(), "{bad:?}");
        }
        assert!(!dir.path().join("escape").exists());

        blob.delete(key).await.unwrap();
        blob.delete(key).await.unwrap();
        assert_eq!(blob.get(key).await.unwrap(), None);
        // Emptied directories are tidied away.
        assert!(!dir
            .path()
            .join("blob/logs/dev/sdr.copilot/2026-11-21")
            .exists());
        assert!(dir
            .path()
            .join("blob/logs/dev/sdr.copilot/2026-11-22")
            .exists());
    });
}

#[test]
fn blob_interrupted_write_leaves_old_object() {
    // A crash between writing the temporary file and the rename is simulated
    // by a leftover temporary file: the object keeps its old bytes and
    // listing ignores the leftover.
    let dir = TempDir::new("blob2");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let blob = sf_core::ports::Host::blob(&host);
    rt().block_on(async {
        blob.put("a/b.json", b"old".to_vec(), "application/json")
            .await
            .unwrap();
        std::fs::write(dir.path().join("tmp").join("999-0.part"), b"ne").unwrap();
        assert_eq!(
            blob.get("a/b.json").await.unwrap().as_deref(),
            Some(&b"old"[..])
        );
        assert_eq!(blob.list("", 10).await.unwrap(), vec!["a/b.json"]);
    });
}

#[test]
fn queue_port_writes_durable_rows() {
    let dir = TempDir::new("queue-port");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let q = sf_core::ports::Host::queue(&host).unwrap();
    rt().block_on(async {
        q.send(&serde_json::json!({"v":1,"requestId":"r1"}))
            .await
            .unwrap();
    });
    drop(host);
    let store = sf_server::QueueStore::open(dir.path()).unwrap();
    assert_eq!(store.pending().unwrap(), 1);
    let no_queue = NativeHost::open_with(
        dir.path(),
        NativeVars::default(),
        HostOptions {
            no_queue: true,
            ..HostOptions::default()
        },
    )
    .unwrap();
    assert!(sf_core::ports::Host::queue(&no_queue).is_none());
}

#[test]
fn clock_random_vars_defer() {
    let dir = TempDir::new("misc");
    let mut vars = HashMap::new();
    vars.insert("ENVIRONMENT".to_owned(), "local".to_owned());
    let host = NativeHost::open(dir.path(), NativeVars::from_map(vars)).unwrap();
    use sf_core::ports::Host;
    let now = host.clock().now_ms();
    let sys = sf_server::clock::system_now_ms();
    assert!(sys >= now && sys - now < 5_000);
    let a = host.random().uuid_v4();
    let b = host.random().uuid_v4();
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4");
    assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    assert_eq!(host.vars().var("ENVIRONMENT").as_deref(), Some("local"));
    assert_eq!(host.vars().var("PATH"), None);

    let hit = std::rc::Rc::new(std::cell::Cell::new(0));
    let h2 = hit.clone();
    host.defer(Box::pin(async move { h2.set(h2.get() + 1) }));
    assert_eq!(host.deferred_pending(), 1);
    rt().block_on(async {
        let t = std::time::Instant::now();
        host.clock().sleep(20).await;
        assert!(t.elapsed() >= std::time::Duration::from_millis(20));
        host.run_deferred().await;
    });
    assert_eq!(hit.get(), 1);
    assert_eq!(host.deferred_pending(), 0);
}

#[test]
fn concurrent_queue_sends_are_each_committed() {
    let dir = TempDir::new("queue-group");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let q = sf_core::ports::Host::queue(&host).unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt(), async {
        let msgs: Vec<serde_json::Value> = (0..50).map(|i| serde_json::json!({ "n": i })).collect();
        let sends = msgs.iter().map(|m| q.send(m));
        let results = futures_util::future::join_all(sends).await;
        assert!(results.iter().all(|r| r.is_ok()));
        // A later send on its own still works.
        q.send(&serde_json::json!({ "n": 50 })).await.unwrap();
    });
    let bodies: Vec<String> = host
        .with_connection(|c| {
            let mut st = c.prepare("SELECT body FROM queue_messages ORDER BY id")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect()
        })
        .unwrap();
    let want: Vec<String> = (0..=50).map(|i| format!("{{\"n\":{i}}}")).collect();
    assert_eq!(bodies, want);
}

#[test]
fn counter_reserve_is_atomic_on_a_shared_connection() {
    let dir = TempDir::new("counter-shared");
    let shared = sf_server::SharedConnection::open(dir.path(), true).unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let expires = sf_server::clock::system_now_ms() + 60_000;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            let path = dir.path().to_path_buf();
            let shared = shared.clone();
            std::thread::spawn(move || {
                let opts = HostOptions {
                    connection: Some(shared),
                    ..HostOptions::default()
                };
                let host = NativeHost::open_with(&path, NativeVars::default(), opts).unwrap();
                let counter = sf_core::ports::Host::counter(&host);
                let rt = rt();
                barrier.wait();
                (0..100)
                    .filter(|_| {
                        let lanes = [Reserve {
                            lane: "requests",
                            amount: 1,
                            ceiling: Some(50),
                        }];
                        rt.block_on(counter.reserve("grant:s", &lanes, expires))
                            .unwrap()
                    })
                    .count()
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, 50);
}
