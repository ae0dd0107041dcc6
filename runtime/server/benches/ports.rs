//! Cost of the SQLite-backed ports when called inline on a worker thread
//! (what `NativeHost` does), next to the cost of one hop to Tokio's blocking
//! pool (what `spawn_blocking` would add to each call). Run:
//! `cargo bench -p sf-server --bench ports`.

use criterion::{criterion_group, criterion_main, Criterion};
use sf_core::ports::{Counter, Host, Kv, Queue, Reserve};
use sf_server::ephemeral::TempDir;
use sf_server::{NativeHost, NativeVars};

fn ports(c: &mut Criterion) {
    let dir = TempDir::new("bench-ports");
    let host = NativeHost::open(dir.path(), NativeVars::default()).expect("open host");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let far = sf_server::clock::system_now_ms() + 3_600_000;

    let mut i = 0u64;
    c.bench_function("counter_reserve_2_lanes", |b| {
        b.iter(|| {
            i += 1;
            let key = format!("ai-budget:{}", i % 1024);
            let lanes = [
                Reserve {
                    lane: "requests",
                    amount: 1,
                    ceiling: Some(i64::MAX / 2),
                },
                Reserve {
                    lane: "cost_micro_usd",
                    amount: 1_500,
                    ceiling: Some(i64::MAX / 2),
                },
            ];
            rt.block_on(host.counter().reserve(&key, &lanes, far))
                .expect("reserve")
        })
    });
    rt.block_on(host.kv().put("session:x", "{\"turns\":[]}", Some(86_400)))
        .expect("put");
    c.bench_function("kv_get_hit", |b| {
        b.iter(|| rt.block_on(host.kv().get("session:x")).expect("get"))
    });
    c.bench_function("kv_put_ttl", |b| {
        b.iter(|| {
            rt.block_on(
                host.kv()
                    .put("session:y", "{\"turns\":[1,2,3]}", Some(86_400)),
            )
            .expect("put")
        })
    });
    let event = serde_json::json!({"v":1,"requestId":"r","agentId":"sdr.copilot","result":{"message":"hi"}});
    let q = host.queue().expect("queue bound");
    c.bench_function("queue_send", |b| {
        b.iter(|| rt.block_on(q.send(&event)).expect("send"))
    });

    // 64 sends runnable at once (64 responses finished in one loop turn):
    // group commit writes them in one transaction.
    let local = tokio::task::LocalSet::new();
    let events: Vec<serde_json::Value> = (0..64).map(|_| event.clone()).collect();
    c.bench_function("queue_send_64_concurrent", |b| {
        b.iter(|| {
            local.block_on(&rt, async {
                let all = futures_util::future::join_all(events.iter().map(|e| q.send(e))).await;
                all.into_iter()
                    .collect::<Result<Vec<()>, _>>()
                    .expect("send")
            })
        })
    });

    let mt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    c.bench_function("spawn_blocking_empty_hop", |b| {
        b.iter(|| mt.block_on(async { tokio::task::spawn_blocking(|| 1u8).await.expect("join") }))
    });
}

criterion_group!(benches, ports);
criterion_main!(benches);
