//! Latency of `Counter::reserve` when every worker thread reserves at once
//! (the budget check on each `/v1/execute`), with the host's busy handler
//! and with SQLite's default one (`busy_timeout`). Prints p50/p99/max per
//! variant. Run: `cargo bench -p sf-server --bench counter_contention`.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use sf_core::ports::{Counter, Host, Reserve};
use sf_server::ephemeral::TempDir;
use sf_server::{NativeHost, NativeVars};

const THREADS: usize = 2;
const OPS: usize = 5_000;

fn run(default_busy: bool, background_checkpoint: bool, shared: bool) -> Vec<Duration> {
    let dir = TempDir::new("bench-contention");
    drop(NativeHost::open(dir.path(), NativeVars::default()).expect("open"));
    let barrier = Arc::new(Barrier::new(THREADS));
    let shared_conn = shared.then(|| {
        sf_server::SharedConnection::open(dir.path(), background_checkpoint).expect("open shared")
    });
    let far = sf_server::clock::system_now_ms() + 3_600_000;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let path = dir.path().to_path_buf();
            let barrier = barrier.clone();
            let shared_conn = shared_conn.clone();
            std::thread::spawn(move || {
                let opts = sf_server::HostOptions {
                    no_autocheckpoint: background_checkpoint,
                    connection: shared_conn,
                    ..sf_server::HostOptions::default()
                };
                let host = NativeHost::open_with(&path, NativeVars::default(), opts).expect("open");
                if default_busy {
                    host.with_connection(|c| c.busy_timeout(Duration::from_secs(5)))
                        .expect("busy_timeout");
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let mut lat = Vec::with_capacity(OPS);
                barrier.wait();
                for i in 0..OPS {
                    let key = format!("ai-budget:{}:{}", t, i % 64);
                    let lanes = [
                        Reserve {
                            lane: "requests",
                            amount: 1,
                            ceiling: Some(i64::MAX / 2),
                        },
                        Reserve {
                            lane: "cost",
                            amount: 1_500,
                            ceiling: Some(i64::MAX / 2),
                        },
                    ];
                    let start = Instant::now();
                    rt.block_on(host.counter().reserve(&key, &lanes, far))
                        .expect("reserve");
                    lat.push(start.elapsed());
                }
                lat
            })
        })
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let dir_path = dir.path().to_path_buf();
    std::thread::scope(|scope| {
        if background_checkpoint {
            scope.spawn(|| {
                sf_server::db::run_checkpointer(&dir_path, Duration::from_millis(200), &stop)
            });
        }
        let out = collect(handles);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        out
    })
}

fn collect(handles: Vec<std::thread::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    all.sort();
    all
}

fn pct(v: &[Duration], p: f64) -> f64 {
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    for (name, default_busy, bg, shared) in [
        (
            "one shared connection, background checkpoints (the server's setup)",
            false,
            true,
            true,
        ),
        (
            "connection per thread, host busy handler, background checkpoints",
            false,
            true,
            false,
        ),
        (
            "connection per thread, host busy handler, inline autocheckpoint",
            false,
            false,
            false,
        ),
        (
            "connection per thread, sqlite busy_timeout, inline autocheckpoint",
            true,
            false,
            false,
        ),
    ] {
        let lat = run(default_busy, bg, shared);
        println!(
            "counter_reserve {THREADS} threads x {OPS}, {name}: p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 0.999),
            pct(&lat, 1.0)
        );
    }
}
