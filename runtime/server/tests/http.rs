//! The server over real sockets: status, headers and exact bodies, body cap,
//! keep-alive, graceful shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sf_server::ephemeral::EphemeralServer;

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Reads one HTTP/1.1 response (Content-Length framed) from `s`.
fn read_response(s: &mut TcpStream) -> Response {
    read_response_to(s, false)
}

/// `head_request`: the answer to HEAD carries a length but no body.
fn read_response_to(s: &mut TcpStream, head_request: bool) -> Response {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).unwrap();
        assert_eq!(
            n,
            1,
            "connection closed before the response head ended: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let len = if head_request { 0 } else { len };
    let mut r = Response {
        status,
        headers,
        body: vec![0; len],
    };
    s.read_exact(&mut r.body).unwrap();
    r
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn send(addr: SocketAddr, raw: &str) -> Response {
    let mut s = connect(addr);
    s.write_all(raw.as_bytes()).unwrap();
    read_response(&mut s)
}

fn server() -> EphemeralServer {
    EphemeralServer::start([("ENVIRONMENT", "local")]).unwrap()
}

const NOT_FOUND: &str = r#"{"error":{"code":"BAD_REQUEST","message":"Not found"}}"#;
const TOO_LARGE: &str = r#"{"error":{"code":"BAD_REQUEST","message":"Request body too large"}}"#;

#[test]
fn healthz_is_json_no_store() {
    let srv = server();
    let before = sf_server::clock::system_now_ms();
    let r = send(
        srv.addr(),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["service"], "sanfrancisco");
    assert_eq!(v["env"], "local");
    let ts = v["ts"].as_u64().unwrap();
    assert!(ts >= before && ts <= sf_server::clock::system_now_ms());

    let mut c = connect(srv.addr());
    c.write_all(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let head = read_response_to(&mut c, true);
    assert_eq!(head.status, 200);
    let mut rest = Vec::new();
    assert_eq!(
        c.read_to_end(&mut rest).unwrap(),
        0,
        "HEAD must not carry a body"
    );
    assert_eq!(head.header("cache-control"), Some("no-store"));
}

#[test]
fn unknown_path_is_contract_404() {
    let srv = server();
    for raw in [
        "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        "GET /healthz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let r = send(srv.addr(), raw);
        assert_eq!(r.status, 404, "{raw}");
        assert_eq!(r.body_str(), NOT_FOUND);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let srv = server();
    let mut s = connect(srv.addr());
    for _ in 0..5 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut s).status, 200);
        s.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_response(&mut s);
        assert_eq!((r.status, r.body_str()), (404, NOT_FOUND));
    }
}

#[test]
fn oversized_bodies_get_413() {
    let srv = EphemeralServer::start_with([("ENVIRONMENT", "local")], |c| c.max_body_bytes = 1_000)
        .unwrap();
    // Declared too large: refused, the body read and thrown away.
    let raw = format!(
        "POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1001\r\n\r\n{}",
        "a".repeat(1001)
    );
    let r = send(srv.addr(), &raw);
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body_str(), TOO_LARGE);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Chunked (no declared length): refused once the cap is passed.
    let chunk = "a".repeat(600);
    let raw = format!(
        "POST /v1/execute HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    let r = send(srv.addr(), &raw);
    assert_eq!((r.status, r.body_str()), (413, TOO_LARGE));
    // At the cap exactly: passed to the core (which has no such route).
    let body = "a".repeat(1_000);
    let raw = format!("POST /v1/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{body}");
    let r = send(srv.addr(), &raw);
    assert_eq!((r.status, r.body_str()), (404, NOT_FOUND));
}

/// A client that writes its whole body before reading (Node's `fetch`, Python's
/// urllib) reads the 413 instead of a reset: the server reads the rest of the
/// body (up to a bound) before it answers and closes.
#[test]
fn a_12_mb_body_gets_a_readable_413() {
    let srv = server();
    let body = vec![b'a'; 12 * 1024 * 1024];
    let mut s = connect(srv.addr());
    let head = format!(
        "POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body)
        .expect("the whole body is accepted, no reset while sending");
    let r = read_response(&mut s);
    assert_eq!((r.status, r.body_str()), (413, TOO_LARGE));
    // Chunked, with no length declared: the same.
    let mut s = connect(srv.addr());
    s.write_all(b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    for piece in body.chunks(1 << 20) {
        s.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .unwrap();
        s.write_all(piece).expect("no reset while sending chunks");
        s.write_all(b"\r\n").unwrap();
    }
    s.write_all(b"0\r\n\r\n").unwrap();
    let r = read_response(&mut s);
    assert_eq!((r.status, r.body_str()), (413, TOO_LARGE));
}

/// A client that asks `Expect: 100-continue` gets the 413 at once and never
/// sends the body.
#[test]
fn expect_continue_gets_413_without_sending_the_body() {
    let srv = server();
    let mut s = connect(srv.addr());
    s.write_all(
        b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s);
    assert_eq!((r.status, r.body_str()), (413, TOO_LARGE));
}

#[test]
fn graceful_shutdown_finishes_in_flight_request() {
    let srv = server();
    let addr = srv.addr();
    let mut s = connect(addr);
    // Head and half the body: the request is in flight in the server.
    s.write_all(b"POST /v1/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    srv.trigger_shutdown();
    // New connections are no longer accepted (polling: a loaded machine may
    // take a moment to run the workers)...
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "listener still open 5 s after shutdown"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...but the request in flight completes with its full answer.
    s.write_all(b"56789").unwrap();
    let r = read_response(&mut s);
    assert_eq!((r.status, r.body_str()), (404, NOT_FOUND));
    // Then the connection is closed rather than kept alive.
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
    srv.shutdown().unwrap();
}

#[test]
fn shutdown_closes_idle_keep_alive_connections_promptly() {
    let srv = server();
    let mut s = connect(srv.addr());
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s).status, 200);
    let t = std::time::Instant::now();
    srv.shutdown().unwrap();
    // Well under the 10 s shutdown_timeout: idle connections are not waited for.
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?}",
        t.elapsed()
    );
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap_or(0), 0);
}

#[test]
fn second_server_on_a_busy_port_fails_with_bind_error() {
    let srv = server();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = sf_server::start(sf_server::ServeConfig {
        addr,
        data_dir: srv.data_dir().to_path_buf(),
        threads: 1,
        vars: Some(sf_server::NativeVars::default()),
        ..sf_server::ServeConfig::default()
    })
    .err()
    .expect("bind must fail");
    let msg = err.to_string();
    assert!(
        msg.contains(&addr.to_string()) && msg.contains("--addr"),
        "{msg}"
    );
}

#[test]
fn second_sf_serve_on_the_same_port_is_refused() {
    let a = server();
    let err = sf_server::start(sf_server::ServeConfig {
        addr: a.addr(),
        data_dir: a.data_dir().to_path_buf(),
        threads: 2,
        vars: Some(sf_server::NativeVars::default()),
        ..sf_server::ServeConfig::default()
    })
    .err()
    .expect("the port is served already");
    assert!(matches!(err, sf_server::ServerError::Bind { .. }), "{err}");
    // The first server is unaffected.
    let r = send(
        a.addr(),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn scheduler_claims_each_cron_slot_once() {
    // One minute boundary, approached on a manual clock.
    let boundary: u64 = 1_795_305_000_000; // 2026-11-21 23:50:00 UTC
    let clock = sf_server::NativeClock::manual(boundary - 500);
    let srv = EphemeralServer::start_with([("ENVIRONMENT", "local")], |c| {
        c.clock = clock.clone();
        c.scheduled_jobs = vec![
            ("* * * * *".into(), "tick".into()),
            ("0 2 * * *".into(), "retention".into()),
            ("* * * * *".into(), "tick-again".into()),
        ];
    })
    .unwrap();
    let conn = sf_server::db::open(srv.data_dir()).unwrap();
    let runs = |conn: &rusqlite::Connection| -> Vec<(String, i64)> {
        let mut st = conn
            .prepare("SELECT cron, slot_ms FROM scheduler_runs ORDER BY slot_ms")
            .unwrap();
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(|r| r.unwrap()).collect()
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(runs(&conn), vec![]);
    clock.advance(500);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while runs(&conn).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // The duplicate expression fires once; the daily one is hours away.
    assert_eq!(runs(&conn), vec![("* * * * *".to_owned(), boundary as i64)]);
    srv.shutdown().unwrap();
}

#[test]
fn bad_cron_is_a_setup_error_naming_the_job() {
    let err = EphemeralServer::start_with([("ENVIRONMENT", "local")], |c| {
        c.scheduled_jobs = vec![("0 25 * * *".into(), "retention".into())];
    })
    .err()
    .expect("invalid cron");
    let msg = err.to_string();
    assert!(msg.contains("retention") && msg.contains("hour"), "{msg}");
}

#[test]
fn slow_body_times_out_with_408() {
    let srv = EphemeralServer::start_with([("ENVIRONMENT", "local")], |c| {
        c.body_timeout = Duration::from_millis(200)
    })
    .unwrap();
    let mut s = connect(srv.addr());
    s.write_all(b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        .unwrap();
    let r = read_response(&mut s);
    assert_eq!(r.status, 408);
    assert_eq!(
        r.body_str(),
        r#"{"error":{"code":"BAD_REQUEST","message":"Request body timeout"}}"#
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn serve_config_defaults() {
    let c = sf_server::ServeConfig::default();
    assert_eq!(c.addr, "127.0.0.1:3002".parse::<SocketAddr>().unwrap());
    assert_eq!(c.data_dir, std::path::PathBuf::from(".sf"));
    assert_eq!(
        c.threads,
        std::thread::available_parallelism().unwrap().get()
    );
    assert_eq!(
        c.dev_vars_path.as_deref(),
        Some(std::path::Path::new(".dev.vars"))
    );
    assert_eq!(c.max_body_bytes, 1024 * 1024);
    assert!(c.log_requests && c.consume_queue && c.scheduled_jobs.is_empty());
}
