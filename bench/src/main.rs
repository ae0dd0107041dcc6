//! Bounded loopback load benchmark (127.0.0.1 only, a fixed request count and
//! a time bound). Measures what the gateway adds on top of its upstream:
//!
//! 1. `direct`: POST chat completions straight to a mock OpenAI-compatible
//!    upstream (in this process);
//! 2. `gateway`: POST /v1/execute (`sdr.copilot`, a real grant, sessions, budget
//!    counter, event queue) to an `sf serve` child process whose DeepSeek base
//!    URL is that mock.
//!
//! Both phases use the same number of keep-alive connections. Prints latency
//! percentiles, throughput, the added p50/p99 and the server's peak RSS.
//!
//! `loadbench --sf target/release/sf [--requests 20000] [--connections 64] [--max-seconds 60]`

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::json;
use sf_server::ephemeral::{MockOptions, MockUpstream, TempDir};
use tokio::net::TcpStream;

struct Args {
    sf: String,
    requests: usize,
    connections: usize,
    max_seconds: u64,
    warmup: usize,
    /// Per-isolate in-flight cap given to the server (`SF_CONCURRENCY_CAP`).
    cap: u32,
    /// `sdr.copilot` (a provider call) or `debug.grantProbe` (the gateway alone).
    agent: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        sf: "target/release/sf".into(),
        requests: 20_000,
        connections: 64,
        max_seconds: 60,
        warmup: 2_000,
        cap: 8,
        agent: "sdr.copilot".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--sf" => a.sf = val()?,
            "--requests" => a.requests = val()?.parse().map_err(|e| format!("--requests: {e}"))?,
            "--connections" => {
                a.connections = val()?.parse().map_err(|e| format!("--connections: {e}"))?
            }
            "--max-seconds" => {
                a.max_seconds = val()?.parse().map_err(|e| format!("--max-seconds: {e}"))?
            }
            "--warmup" => a.warmup = val()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--cap" => a.cap = val()?.parse().map_err(|e| format!("--cap: {e}"))?,
            "--agent" => a.agent = val()?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

struct Phase {
    latencies_us: Vec<u64>,
    errors: usize,
    elapsed: Duration,
}

impl Phase {
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
    fn rps(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Sends `total` POSTs over `conns` keep-alive connections; stops early at `deadline`.
async fn run_phase(
    addr: std::net::SocketAddr,
    path: &'static str,
    body: Bytes,
    total: usize,
    conns: usize,
    deadline: Instant,
) -> Phase {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (next, body) = (next.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let Ok(stream) = TcpStream::connect(addr).await else {
                return (lat, total);
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(stream)).await else {
                return (lat, total);
            };
            tokio::spawn(conn);
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total
                && Instant::now() < deadline
            {
                let req = hyper::Request::post(path)
                    .header("host", "127.0.0.1")
                    .header("content-type", "application/json")
                    .body(Full::new(body.clone()))
                    .expect("static request parts are valid");
                let t0 = Instant::now();
                match sender.send_request(req).await {
                    Ok(res) => {
                        let ok = res.status().is_success();
                        let _ = res.into_body().collect().await;
                        if ok {
                            lat.push(t0.elapsed().as_micros() as u64);
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut latencies_us = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            latencies_us.extend(l);
            errors += e;
        }
    }
    latencies_us.sort_unstable();
    Phase {
        latencies_us,
        errors,
        elapsed: started.elapsed(),
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn report(name: &str, p: &Phase) {
    println!(
        "{name:>8}: {} ok, {} errors in {:.2}s = {:.0} req/s; latency ms p50 {:.3} p90 {:.3} p99 {:.3} max {:.3}",
        p.latencies_us.len(), p.errors, p.elapsed.as_secs_f64(), p.rps(), p.pct(0.5), p.pct(0.9), p.pct(0.99), p.pct(1.0)
    );
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadbench: {e}");
            std::process::exit(2);
        }
    };
    let mock = match MockUpstream::start(MockOptions {
        content: r#"{"message":"Hi!","next":"continue"}"#.into(),
        ..MockOptions::default()
    }) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("loadbench: mock upstream: {e}");
            std::process::exit(1);
        }
    };
    let data = TempDir::new("loadbench");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(39_021);
    let gw_addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let secret = "bench-secret";
    let child = Command::new(&args.sf)
        .args([
            "serve",
            "--quiet",
            "--addr",
            &gw_addr.to_string(),
            "--data-dir",
        ])
        .arg(data.path())
        .env("ENVIRONMENT", "dev")
        .env("AI_GRANT_HMAC_SECRET", secret)
        .env("PARIS_DEV_JWT", "bench")
        .env("DEEPSEEK_API_KEY", "bench")
        .env("DEEPSEEK_BASE_URL", mock.base_url())
        .env("SF_CONCURRENCY_CAP", args.cap.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let server = match child {
        Ok(c) => Server(c),
        Err(e) => {
            eprintln!(
                "loadbench: cannot start {}: {e} (build it with `cargo build --release -p sf-cli`)",
                args.sf
            );
            std::process::exit(1);
        }
    };
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(gw_addr).is_ok()
    });
    if !up {
        eprintln!("loadbench: sf serve did not start on {gw_addr}");
        std::process::exit(1);
    }

    // One grant for the whole run: a budget large enough for every request,
    // so every call goes through the counter, the session store and the queue.
    let payload = json!({
        "v": 1, "iss": "paris", "jti": "loadbench",
        "sub": {"kind": "anon", "sessionId": "bench"}, "exp": 4_102_444_800u64,
        "caps": [format!("agent:{}", args.agent)],
        "budgets": {"maxTokens": 200, "timeoutMs": 10_000, "maxRequests": 100_000_000},
        "mode": "editor",
        "ai": {"profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek"}
    });
    let grant = sf_core::grants::mint_grant(&payload, secret);
    let exec_body = Bytes::from(
        json!({"grant": grant, "agentId": args.agent, "input": {"sessionId": "bench", "message": "hello"}})
            .to_string(),
    );
    let direct_body = Bytes::from(json!({"model": "deepseek-chat", "messages": [{"role": "user", "content": "hello"}], "temperature": 0.2, "max_tokens": 200}).to_string());

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadbench: runtime: {e}");
            std::process::exit(1);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let (direct, gateway) = rt.block_on(async {
        let _ = run_phase(
            mock.addr(),
            "/v1/chat/completions",
            direct_body.clone(),
            args.warmup,
            args.connections,
            deadline,
        )
        .await;
        let direct = run_phase(
            mock.addr(),
            "/v1/chat/completions",
            direct_body,
            args.requests,
            args.connections,
            deadline,
        )
        .await;
        let _ = run_phase(
            gw_addr,
            "/v1/execute",
            exec_body.clone(),
            args.warmup,
            args.connections,
            deadline,
        )
        .await;
        let gateway = run_phase(
            gw_addr,
            "/v1/execute",
            exec_body,
            args.requests,
            args.connections,
            deadline,
        )
        .await;
        (direct, gateway)
    });
    println!(
        "loadbench: {} requests per phase, {} connections, agent {}, SF_CONCURRENCY_CAP={}, 127.0.0.1 only",
        args.requests, args.connections, args.agent, args.cap
    );
    report("direct", &direct);
    report("gateway", &gateway);
    println!(
        "   added: p50 {:.3} ms, p99 {:.3} ms; gateway throughput {:.0} req/s",
        gateway.pct(0.5) - direct.pct(0.5),
        gateway.pct(0.99) - direct.pct(0.99),
        gateway.rps()
    );
    match peak_rss_kib(server.0.id()) {
        Some(kib) => println!("  sf RSS: peak {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  sf RSS: unavailable"),
    }
    drop(server);
    let incomplete = direct.latencies_us.len() + direct.errors < args.requests
        || gateway.latencies_us.len() + gateway.errors < args.requests;
    if incomplete {
        println!(
            "loadbench: stopped by the {} s time bound",
            args.max_seconds
        );
    }
    std::process::exit(i32::from(gateway.errors > 0 || direct.errors > 0));
}
