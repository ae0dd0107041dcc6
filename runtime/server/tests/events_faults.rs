//! Interaction records under faults, in process: the gateway over a host whose
//! Blob/Sql/Queue ports fail on demand, driven by the native durable queue's
//! own claim/ack/fail functions (the same ones `sf serve`'s consumer uses).

mod events_common;

use std::rc::Rc;
use std::time::Instant;

use events_common::*;
use serde_json::{json, Value};
use sf_runtime::{ConsumeError, Gateway};
use sf_server::clock::system_now_ms;
use sf_server::ephemeral::TempDir;
use sf_server::queue::{self, QueueConfig};
use sf_server::EVENTS_QUEUE;

fn cfg() -> QueueConfig {
    QueueConfig {
        max_attempts: 5,
        base_backoff_ms: 1,
        max_backoff_ms: 8,
        lease_ms: 60_000,
        batch_size: 16,
        idle_poll_ms: 5,
    }
}

/// Delivers until the queue is empty, acknowledging per message. `offset_ms`
/// shifts the consumer's clock (lets a test step past a crashed lease).
async fn drain(
    gw: &Rc<Gateway<FaultyHost>>,
    conn: &mut rusqlite::Connection,
    cfg: &QueueConfig,
    offset_ms: u64,
) -> u64 {
    let mut deliveries = 0;
    loop {
        let now = system_now_ms() + offset_ms;
        let batch = queue::claim(conn, now, cfg.lease_ms, cfg.batch_size).unwrap();
        if batch.is_empty() {
            match queue::next_visible_at(conn).unwrap() {
                None => return deliveries,
                Some(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    continue;
                }
            }
        }
        for d in batch {
            deliveries += 1;
            let body: Value = serde_json::from_str(&d.body).unwrap();
            let res = gw.consume(&d.queue, body).await;
            let now = system_now_ms() + offset_ms;
            match res {
                Ok(()) => queue::ack(conn, d.id).unwrap(),
                Err(ConsumeError::Retry(w)) => {
                    queue::fail(conn, d.id, &w, false, now, cfg).unwrap();
                }
                Err(ConsumeError::Reject(w)) => {
                    queue::fail(conn, d.id, &w, true, now, cfg).unwrap();
                }
            }
        }
    }
}

#[test]
fn faults_and_redelivery_keep_exactly_n_records() {
    const N: usize = 1000;
    let dir = TempDir::new("ev-faults");
    let faults = Rc::new(Faults::default());
    let rt = runtime();
    rt.block_on(async {
        let gw = Gateway::new(FaultyHost::open(dir.path(), faults.clone()));
        let t0 = Instant::now();
        for i in 0..N {
            let (_, body) = probe_body(i);
            let res = gw.handle(execute_request(&body)).await;
            assert_eq!(res.status(), 200);
            let v: Value = serde_json::from_slice(res.body()).unwrap();
            assert_eq!(v["requestId"], format!("req-{i:05}"));
        }
        gw.host().inner.run_deferred().await;
        eprintln!("{N} in-process executes + enqueue: {:?}", t0.elapsed());

        let mut conn = sf_server::db::open(dir.path()).unwrap();
        assert_eq!(count(&conn, "queue_messages"), N as i64);
        // R2 put fails twice then succeeds; D1 insert fails once.
        for i in 0..N {
            let id = format!("req-{i:05}");
            if i % 7 == 0 {
                faults.put_failures.borrow_mut().insert(id.clone(), 2);
            }
            if i % 11 == 0 {
                faults.batch_failures.borrow_mut().insert(id);
            }
        }
        // The same message delivered twice: a copy of every 13th message.
        let bodies: Vec<String> = {
            let mut stmt = conn
                .prepare("SELECT body FROM queue_messages ORDER BY id")
                .unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        for b in bodies.iter().step_by(13) {
            queue::enqueue(&conn, EVENTS_QUEUE, b, system_now_ms()).unwrap();
        }

        // The consumer crashes mid-batch: it claims 16, files 10 without
        // acknowledging any, and dies (no release, no ack).
        let cfg = cfg();
        let claimed = queue::claim(&mut conn, system_now_ms(), cfg.lease_ms, 16).unwrap();
        assert_eq!(claimed.len(), 16);
        for d in &claimed[..10] {
            let _ = gw.consume(&d.queue, serde_json::from_str(&d.body).unwrap()).await;
        }
        drop(gw);
        drop(conn);

        // Restart on the same data directory.
        let gw = Gateway::new(FaultyHost::open(dir.path(), faults.clone()));
        let mut conn = sf_server::db::open(dir.path()).unwrap();
        let hidden: i64 = conn
            .query_row(
                "SELECT count(*) FROM queue_messages WHERE visible_at_ms > ?1",
                [system_now_ms() as i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hidden, 16, "claimed messages stay hidden until their lease ends");
        // Past the lease they are delivered again.
        let deliveries = drain(&gw, &mut conn, &cfg, cfg.lease_ms + 1).await;
        assert!(deliveries >= (N + bodies.len().div_ceil(13)) as u64);

        assert_eq!(count(&conn, "queue_messages"), 0);
        assert_eq!(count(&conn, "queue_dead"), 0);
        let expect_failed_puts = 2 * N.div_ceil(7) as u64;
        assert_eq!(faults.failed_puts.get(), expect_failed_puts);
        assert_eq!(faults.failed_batches.get(), N.div_ceil(11) as u64);
        assert!(faults.batch_failures.borrow().is_empty());
        // Each object was written exactly once: redeliveries and duplicates
        // never rewrote one.
        assert_eq!(faults.puts.get(), N as u64 + expect_failed_puts);

        // Sessions: 7 distinct, from the grant's trace, earliest event first.
        assert_eq!(count(&conn, "sf_sessions"), 7);
        let (kind, subject, locale, agent, created): (String, String, String, String, i64) = conn
            .query_row(
                "SELECT subject_kind, subject_id, locale, agent_id, created_at_ms FROM sf_sessions WHERE id = 's-3'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            (kind.as_str(), subject.as_str(), locale.as_str(), agent.as_str()),
            ("anon", "s-3", "de-ch", "debug.grantProbe")
        );
        let first: i64 = conn
            .query_row(
                "SELECT min(created_at_ms) FROM sf_interactions WHERE session_id = 's-3'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(created, first);
        let orphans: i64 = conn
            .query_row(
                "SELECT count(*) FROM sf_interactions i LEFT JOIN copilot_events_v1 e ON e.requestId = i.id WHERE e.requestId IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
    });
    assert_filed_exactly(dir.path(), N);
}

#[test]
fn a_crash_between_r2_and_d1_resumes_from_the_object() {
    let dir = TempDir::new("ev-resume");
    let faults = Rc::new(Faults::default());
    runtime().block_on(async {
        let gw = Gateway::new(FaultyHost::open(dir.path(), faults.clone()));
        let (_, body) = probe_body(1);
        assert_eq!(gw.handle(execute_request(&body)).await.status(), 200);
        gw.host().inner.run_deferred().await;
        let mut conn = sf_server::db::open(dir.path()).unwrap();
        let d = queue::claim(&mut conn, system_now_ms(), 60_000, 1)
            .unwrap()
            .remove(0);
        let event: Value = serde_json::from_str(&d.body).unwrap();
        faults
            .batch_failures
            .borrow_mut()
            .insert("req-00001".into());
        assert!(matches!(
            gw.consume(EVENTS_QUEUE, event.clone()).await,
            Err(ConsumeError::Retry(_))
        ));
        assert_eq!(faults.puts.get(), 1);
        // A different event under the same request id arrives first after
        // the failure: the stored object wins, the row is derived from it.
        let mut other = event.clone();
        other["input"] = json!({"ping": "impostor"});
        gw.consume(EVENTS_QUEUE, other).await.unwrap();
        gw.consume(EVENTS_QUEUE, event).await.unwrap();
        assert_eq!(faults.puts.get(), 1);
        queue::ack(&conn, d.id).unwrap();
    });
    assert_filed_exactly(dir.path(), 1);
    let (_, bytes) = &blobs(dir.path())[0];
    let stored: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(stored["input"], json!({"ping": "p1"}));
}

#[test]
fn logging_failures_never_change_the_response() {
    let dir = TempDir::new("ev-nolog");
    let faults = Rc::new(Faults::default());
    runtime().block_on(async {
        let gw = Gateway::new(FaultyHost::open(dir.path(), faults.clone()));
        let strip = |res: &http::Response<Vec<u8>>| {
            let mut v: Value = serde_json::from_slice(res.body()).unwrap();
            // The only field that may differ between two runs.
            v["usage"]["latencyMs"] = json!(0);
            (
                res.status(),
                res.headers().get("content-type").cloned(),
                res.headers().get("cache-control").cloned(),
                v,
            )
        };
        let (_, body) = probe_body(5);
        let healthy = gw.handle(execute_request(&body)).await;
        gw.host().inner.run_deferred().await;

        // Queue down: the response is the same and is produced before any
        // logging runs; the event is then filed directly.
        faults.queue_down.set(true);
        let res = gw.handle(execute_request(&body)).await;
        assert_eq!(gw.host().inner.deferred_pending(), 1, "logging is deferred");
        assert_eq!(strip(&res), strip(&healthy));

        // Queue and storage down: same response again, nothing filed, no panic.
        faults.storage_down.set(true);
        let res = gw.handle(execute_request(&body)).await;
        assert_eq!(strip(&res), strip(&healthy));
        gw.host().inner.run_deferred().await;
        faults.storage_down.set(false);
        faults.queue_down.set(false);

        // The queued healthy event and the direct filing collide on the id:
        // first write wins, one record.
        let mut conn = sf_server::db::open(dir.path()).unwrap();
        let cfg = cfg();
        drain(&gw, &mut conn, &cfg, 0).await;
    });
    assert_filed_exactly(dir.path(), 1);
}

#[test]
fn queue_down_still_files_the_event() {
    let dir = TempDir::new("ev-direct");
    let faults = Rc::new(Faults::default());
    faults.queue_down.set(true);
    runtime().block_on(async {
        let gw = Gateway::new(FaultyHost::open(dir.path(), faults.clone()));
        for i in 0..3 {
            let (_, body) = probe_body(i);
            assert_eq!(gw.handle(execute_request(&body)).await.status(), 200);
        }
        gw.host().inner.run_deferred().await;
        let conn = sf_server::db::open(dir.path()).unwrap();
        assert_eq!(count(&conn, "queue_messages"), 0);
    });
    assert_filed_exactly(dir.path(), 3);
}
