//! Route + policy resolution on the generated code of the shipped policy
//! (budget: <= 200 ns per request for route match, agent lookup and budget cell).

use criterion::{black_box, criterion_group, criterion_main, Criterion};

mod policy {
    sf_codegen_macros::include_policy!("../..");
}

use policy::*;

fn bench(c: &mut Criterion) {
    c.bench_function("resolve POST /v1/execute", |b| {
        b.iter(|| resolve(black_box("POST"), black_box("/v1/execute")))
    });
    c.bench_function("resolve GET /v1/personalization/onboarding/{jobId}", |b| {
        b.iter(|| {
            resolve(
                black_box("GET"),
                black_box("/v1/personalization/onboarding/0b7c2f1e-4f55"),
            )
        })
    });
    c.bench_function("resolve miss", |b| {
        b.iter(|| resolve(black_box("GET"), black_box("/v1/nope/at/all")))
    });
    c.bench_function("route + agent + profile + budget", |b| {
        b.iter(|| {
            let r = resolve(black_box("POST"), black_box("/v1/execute"));
            let a = Agent::from_name(black_box("cs.widget.copilot.v1"));
            let p = Plan::from_name(black_box("tier2")).map(Plan::profile);
            match (r, a, p) {
                (Some(_), Some(a), Some(p)) => Some(a.budget(p)),
                _ => None,
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
