//! `sf events stats | tail | dlq` against a data directory a running server
//! filled.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sf_conformance::http::request;
use sf_core::grants::mint_grant;
use sf_server::ephemeral::EphemeralServer;
use sf_server::{QueueStore, EVENTS_QUEUE};

const SECRET: &str = "events-cli-secret";
// 2026-11-20 12:00:00 UTC.
const DAY_MS: u64 = 1_795_176_000_000;

fn sf(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sf"))
        .args(args)
        .output()
        .expect("run sf")
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn rows(srv: &EphemeralServer) -> i64 {
    sf_server::db::open(srv.data_dir())
        .unwrap()
        .query_row("SELECT count(*) FROM copilot_events_v1", [], |r| r.get(0))
        .unwrap()
}

fn event(id: &str, agent: &str, intent: Option<&str>, ops: usize) -> Value {
    let ops: Vec<Value> = (0..ops)
        .map(|i| json!({"op": "set", "path": format!("title{i}"), "value": "x"}))
        .collect();
    let mut meta = json!({});
    if let Some(i) = intent {
        meta["intent"] = json!(i);
    }
    json!({
        "v": 1, "requestId": id, "agentId": agent, "occurredAtMs": DAY_MS,
        "subject": {"kind": "anon", "sessionId": "s"}, "trace": {"sessionId": "s"},
        "ai": {"profile": "free_low", "taskClass": "x"},
        "input": {"prompt": "hi"}, "result": {"message": "m", "ops": ops, "meta": meta},
        "usage": {"provider": "deepseek", "model": "deepseek-chat", "latencyMs": 5},
        "policyVersion": "pol-test"
    })
}

fn probe(srv: &EphemeralServer, i: u32) {
    let token = mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": format!("j{i}"), "sub": {"kind": "anon", "sessionId": "p"},
            "exp": 4_102_444_800u64, "caps": ["agent:debug.grantProbe"],
            "budgets": {"maxTokens": 10, "timeoutMs": 1000, "maxRequests": 1}, "mode": "editor"
        }),
        SECRET,
    );
    let body = json!({"grant": token, "agentId": "debug.grantProbe", "input": {}});
    let res = request(
        srv.base_url(),
        "POST",
        "/v1/execute",
        &[],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(res.status, 200);
}

#[test]
fn stats_tail_and_dlq_on_a_live_data_dir() {
    let srv = EphemeralServer::start([("ENVIRONMENT", "local"), ("AI_GRANT_HMAC_SECRET", SECRET)])
        .unwrap();
    let dir = srv.data_dir().to_str().unwrap().to_owned();

    // tail from the start, running while records arrive.
    let mut tail = Command::new(env!("CARGO_BIN_EXE_sf"))
        .args([
            "events",
            "tail",
            "--data-dir",
            &dir,
            "--interval-ms",
            "20",
            "--from-start",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = tail.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });

    let store = QueueStore::open(srv.data_dir()).unwrap();
    for e in [
        event("a1", "cs.widget.copilot.v1", Some("edit"), 2),
        event("a2", "cs.widget.copilot.v1", Some("edit"), 0),
        event("a3", "sdr.widget.copilot.v1", Some("explain"), 0),
        event("a4", "sdr.widget.copilot.v1", None, 1),
    ] {
        store.send(EVENTS_QUEUE, &e).unwrap();
    }
    for i in 0..3 {
        probe(&srv, i);
    }
    wait_for("7 rows", || rows(&srv) == 7);

    let out = sf(&[
        "events",
        "stats",
        "--day",
        "2026-11-20",
        "--json",
        "--data-dir",
        &dir,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["total"], 4);
    assert_eq!(
        s["byAgent"],
        json!({"cs.widget.copilot.v1": 2, "sdr.widget.copilot.v1": 2})
    );
    assert_eq!(s["byIntent"], json!({"(none)": 1, "edit": 2, "explain": 1}));
    assert_eq!(s["byOutcome"], json!({"no_ops": 2, "ops_applied": 2}));
    assert_eq!(s["rows"].as_array().unwrap().len(), 4);

    let today = sf_core::time_fmt::utc_day(sf_server::clock::system_now_ms() as i64);
    let out = sf(&["events", "stats", "--day", &today, "--data-dir", &dir]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{today}: 3 interaction(s)\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("  {:<32} 3\n", "debug.grantProbe")),
        "{text}"
    );
    assert!(text.contains(&format!("  {:<32} 3\n", "no_ops")), "{text}");

    let bad = sf(&["events", "stats", "--day", "20-11-2026", "--data-dir", &dir]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected YYYY-MM-DD"));
    let missing = sf(&[
        "events",
        "stats",
        "--day",
        "2026-11-20",
        "--data-dir",
        "/nonexistent/sf",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no database at"));

    // Seven lines from tail, one per record, in filing order.
    let mut lines = Vec::new();
    while lines.len() < 7 {
        lines.push(
            rx.recv_timeout(Duration::from_secs(10))
                .expect("a tail line"),
        );
    }
    assert!(
        lines.iter().any(|l| l.contains(" a1 cs.widget.copilot.v1 intent=edit outcome=ops_applied ops=2 deepseek/deepseek-chat 5ms")),
        "{lines:#?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("debug.grantProbe"))
            .count(),
        3
    );
    // A record filed later shows up too.
    store
        .send(
            EVENTS_QUEUE,
            &event("a5", "cs.widget.copilot.v1", Some("edit"), 0),
        )
        .unwrap();
    let next = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the new line");
    assert!(
        next.starts_with(&format!("2026-11-20 {DAY_MS} a5 ")),
        "{next}"
    );
    tail.kill().unwrap();
    let _ = tail.wait();

    // Dead letters: list, replay one by id, unknown ids fail.
    store
        .send(EVENTS_QUEUE, &json!({"nonsense": true}))
        .unwrap();
    wait_for("a dead letter", || {
        store.dead_letters(10).unwrap().len() == 1
    });
    let out = sf(&["events", "dlq", "list", "--json", "--data-dir", &dir]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["body"], json!({"nonsense": true}));
    assert_eq!(list[0]["lastError"], "not an interaction event (v != 1)");
    let id = list[0]["id"].as_i64().unwrap().to_string();
    let out = sf(&["events", "dlq", "list", "--data-dir", &dir]);
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with(&format!("{id} queue={EVENTS_QUEUE} attempts=1 ")));
    let out = sf(&["events", "dlq", "replay", "--id", &id, "--data-dir", &dir]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "replayed 1 message(s)\n"
    );
    assert_eq!(out.status.code(), Some(0));
    let out = sf(&[
        "events",
        "dlq",
        "replay",
        "--id",
        "999999",
        "--data-dir",
        &dir,
    ]);
    assert_eq!(out.status.code(), Some(1));
    // The replayed message is rejected again and lands back in the store.
    wait_for("the replayed message to return", || {
        store.pending().unwrap() == 0 && store.dead_letters(10).unwrap().len() == 1
    });
    srv.shutdown().unwrap();
}
