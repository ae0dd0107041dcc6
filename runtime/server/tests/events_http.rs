//! Interaction records through the real server (`EphemeralServer`: hyper, worker
//! threads, the durable queue consumer): secrets never stored, commands and
//! unknown shapes, the dead-letter store, and N >= 1000 executes.

mod events_common;

use std::time::{Duration, Instant};

use events_common::*;
use serde_json::{json, Value};
use sf_core::grants::outcome_signature;
use sf_server::ephemeral::EphemeralServer;
use sf_server::{QueueStore, EVENTS_QUEUE};

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn rows(srv: &EphemeralServer, table: &str) -> i64 {
    count(&sf_server::db::open(srv.data_dir()).unwrap(), table)
}

/// Every file under `dir`, recursively (database, WAL, blobs, temp files).
fn all_files(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            all_files(&e.path(), out);
        } else if let Ok(b) = std::fs::read(e.path()) {
            out.push((e.path(), b));
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn grants_and_secrets_are_never_stored() {
    let srv = EphemeralServer::start(vars()).unwrap();
    let (token, body) = probe_body(42);
    let (status, res) = post(srv.addr(), "/v1/execute", body.to_string().as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&res));
    wait_for("the event row", Duration::from_secs(10), || {
        rows(&srv, "copilot_events_v1") == 1
    });
    // The R2 object and the row exist and are the ones we scan.
    let objects = blobs(srv.data_dir());
    assert_eq!(objects.len(), 1);
    let object = String::from_utf8(objects[0].1.clone()).unwrap();
    let conn = sf_server::db::open(srv.data_dir()).unwrap();
    let row: String = conn
        .query_row(
            "SELECT json_array(requestId, day, occurredAtMs, runtimeEnv, envStage, sessionId, agentId, outcome, aiProfile, taskClass, provider, model) FROM copilot_events_v1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (_, signature) = token.rsplit_once('.').unwrap();
    let payload_b64 = token.split('.').nth(1).unwrap();
    for needle in [token.as_str(), signature, payload_b64, SECRET] {
        assert!(!object.contains(needle), "R2 object holds {needle:?}");
        assert!(!row.contains(needle), "index row holds {needle:?}");
    }
    assert!(object.contains("\"req-00042\"") && row.contains("req-00042"));

    // Nothing anywhere in the data directory either: database, WAL, blobs.
    let mut files = Vec::new();
    all_files(srv.data_dir(), &mut files);
    assert!(files.len() >= 2, "database and blob expected: {files:?}");
    for (path, bytes) in &files {
        for needle in [token.as_str(), signature, SECRET] {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{} holds {needle:?}",
                path.display()
            );
        }
    }
    srv.shutdown().unwrap();
}

#[test]
fn commands_are_applied_and_unknown_shapes_dead_lettered() {
    let srv = EphemeralServer::start_with(vars(), |c| {
        c.queue.base_backoff_ms = 5;
        c.queue.max_backoff_ms = 20;
    })
    .unwrap();
    let store = QueueStore::open(srv.data_dir()).unwrap();
    let outcome = json!({"requestId": "req-1", "sessionId": "s-1", "event": "ux_keep", "occurredAtMs": 1_795_312_800_000u64});
    // Both envelope shapes of ai.outcome.attach are applied.
    store
        .send(
            EVENTS_QUEUE,
            &json!({"v": 1, "kind": "sf.command", "command": "ai.outcome.attach", "payload": outcome}),
        )
        .unwrap();
    let mut undo = outcome.clone();
    undo["event"] = json!("ux_undo");
    store
        .send(
            EVENTS_QUEUE,
            &json!({"command": "ai.outcome.attach", "payload": undo}),
        )
        .unwrap();
    let bad = [
        json!({"hello": "world"}),
        json!({"v": 1, "kind": "sf.command", "command": "nope", "payload": {}}),
        json!({"v": 1, "kind": "sf.command", "command": "ai.outcome.attach", "payload": {"event": "ux_keep"}}),
        json!({"v": 1, "kind": "sf.command", "command": "personalization.preview.enqueue", "payload": {}}),
        json!({"v": 1, "requestId": "../../etc/passwd", "agentId": "debug.grantProbe", "occurredAtMs": 1}),
        json!({"v": 1, "requestId": "ok-id", "agentId": "debug.grantprobe.alias", "occurredAtMs": 1}),
        json!({"v": 2, "publicId": "wgt_1", "grant": "v1.x.y", "widgetType": "faq", "locale": "de"}),
    ];
    for b in &bad {
        store.send(EVENTS_QUEUE, b).unwrap();
    }
    wait_for("dead letters", Duration::from_secs(10), || {
        store.dead_letters(100).unwrap().len() == bad.len()
    });
    wait_for("outcome rows", Duration::from_secs(10), || {
        rows(&srv, "copilot_outcomes_v1") == 2
    });
    assert_eq!(
        rows(&srv, "copilot_events_v1"),
        0,
        "nothing filed as an event"
    );
    assert_eq!(blobs(srv.data_dir()).len(), 0, "no raw log written");
    let dead = store.dead_letters(100).unwrap();
    for (d, b) in dead.iter().zip(&bad) {
        // The host stores dead letters with grants redacted.
        assert_eq!(
            serde_json::from_str::<Value>(&d.body).unwrap(),
            sf_records::events::redact_for_dead_letter(b)
        );
        assert_eq!(d.attempts, 1, "rejected on the first delivery");
        assert!(d.last_error.is_some());
    }
    assert_eq!(
        dead[0].last_error.as_deref(),
        Some("not an interaction event (v != 1)")
    );
    assert_eq!(
        dead[1].last_error.as_deref(),
        Some("Expected sf.command envelope payload")
    );

    // Replaying one puts it back; it fails the same way and returns.
    let mut store = store;
    assert_eq!(store.replay(Some(&[dead[0].id])).unwrap(), 1);
    wait_for(
        "the replayed message to settle",
        Duration::from_secs(10),
        || store.pending().unwrap() == 0 && store.dead_letters(100).unwrap().len() == bad.len(),
    );
    srv.shutdown().unwrap();
}

#[test]
fn outcome_over_http_and_queue_agree() {
    // The HTTP route and the queue command write the same row shape.
    let srv = EphemeralServer::start(vars()).unwrap();
    let body = json!({"command": "ai.outcome.attach", "payload": {"requestId": "req-h", "sessionId": "s", "event": "cta_clicked", "occurredAtMs": 1_795_312_800_000u64}}).to_string();
    let sig = outcome_signature(SECRET, body.as_bytes());
    let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "POST /v1/outcome HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-paris-signature: {sig}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    let conn = sf_server::db::open(srv.data_dir()).unwrap();
    let day: String = conn
        .query_row(
            "SELECT day FROM copilot_outcomes_v1 WHERE requestId = 'req-h'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(day, "2026-11-22");
    srv.shutdown().unwrap();
}

#[test]
fn thousand_executes_file_exactly_thousand_records() {
    const N: usize = 1000;
    const CLIENTS: usize = 4;
    let srv = EphemeralServer::start(vars()).unwrap();
    let addr = srv.addr();
    let bodies: Vec<Vec<u8>> = (0..N)
        .map(|i| probe_body(i).1.to_string().into_bytes())
        .collect();
    let bodies = std::sync::Arc::new(bodies);
    let t0 = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                for i in (c..N).step_by(CLIENTS) {
                    let (status, body) = post(addr, "/v1/execute", &bodies[i]);
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    let v: Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(v["requestId"], format!("req-{i:05}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let executes = t0.elapsed();
    wait_for("all rows", Duration::from_secs(120), || {
        rows(&srv, "copilot_events_v1") == N as i64
    });
    let filed = t0.elapsed();
    eprintln!(
        "{N} executes over HTTP ({CLIENTS} clients): {executes:?}; all {N} records filed after {filed:?}"
    );
    wait_for("an empty queue", Duration::from_secs(10), || {
        rows(&srv, "queue_messages") == 0
    });
    assert_eq!(rows(&srv, "queue_dead"), 0);
    assert_filed_exactly(srv.data_dir(), N);
    srv.shutdown().unwrap();
}

#[test]
fn a_crashed_consumers_claims_are_delivered_after_restart() {
    // A consumer (another process) claimed 16 messages and died without
    // acknowledging or releasing them. A server started on the same data
    // directory delivers them once their lease ends, and the rest at once.
    let dir = sf_server::ephemeral::TempDir::new("ev-crash");
    let store = QueueStore::open(dir.path()).unwrap();
    for i in 0..20 {
        let ev = json!({
            "v": 1, "requestId": format!("crash-{i}"), "agentId": "debug.grantProbe",
            "occurredAtMs": 1_795_312_800_000u64 + i, "subject": {"kind": "anon", "sessionId": "s"},
            "trace": {"sessionId": "s"}, "ai": {"profile": null, "taskClass": "debug"},
            "input": {}, "result": {"ok": true}, "usage": {"provider": "sanfrancisco"}
        });
        store.send(EVENTS_QUEUE, &ev).unwrap();
    }
    {
        let mut conn = sf_server::db::open(dir.path()).unwrap();
        let claimed =
            sf_server::queue::claim(&mut conn, sf_server::clock::system_now_ms(), 3_000, 16)
                .unwrap();
        assert_eq!(claimed.len(), 16);
    }
    let data_dir = dir.path().to_path_buf();
    let srv = EphemeralServer::start_with(vars(), |c| c.data_dir = data_dir).unwrap();
    wait_for("the unclaimed messages", Duration::from_secs(10), || {
        count(
            &sf_server::db::open(dir.path()).unwrap(),
            "copilot_events_v1",
        ) >= 4
    });
    assert!(
        count(
            &sf_server::db::open(dir.path()).unwrap(),
            "copilot_events_v1"
        ) < 20,
        "claimed messages wait for their lease"
    );
    wait_for("the claimed messages", Duration::from_secs(15), || {
        count(
            &sf_server::db::open(dir.path()).unwrap(),
            "copilot_events_v1",
        ) == 20
    });
    wait_for("an empty queue", Duration::from_secs(10), || {
        store.pending().unwrap() == 0
    });
    assert_eq!(store.dead_letters(10).unwrap().len(), 0);
    srv.shutdown().unwrap();
    assert_filed_exactly(dir.path(), 20);
}
