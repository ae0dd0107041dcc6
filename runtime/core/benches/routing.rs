//! Route + policy resolution on the hot path of every request (budget:
//! <= 200 ns): match the route, resolve the agent id (with trimming and
//! aliases), look up its surface and budget cell, resolve a model's price.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sf_core::policy::{self, Agent, Model, Profile};

fn routing(c: &mut Criterion) {
    c.bench_function("resolve POST /v1/execute", |b| {
        b.iter(|| policy::resolve(black_box("POST"), black_box("/v1/execute")))
    });
    c.bench_function("resolve GET /v1/personalization/preview/{jobId}", |b| {
        b.iter(|| {
            policy::resolve(
                black_box("GET"),
                black_box("/v1/personalization/preview/job-123"),
            )
        })
    });
    c.bench_function("route + policy resolution (execute)", |b| {
        b.iter(|| {
            let (route, _) = policy::resolve(black_box("POST"), black_box("/v1/execute"))?;
            let spec = route.spec();
            let agent = Agent::from_name(black_box(" cs.widget.copilot.v1 "))?;
            let profile = Profile::from_name(black_box("paid_standard"))?;
            let budget = agent.budget(profile);
            let price = Model::from_name(black_box("gpt-5-mini"))?.price();
            Some((
                spec.concurrency_capped,
                agent.surface(),
                budget.max_tokens,
                price.input_usd_per_1m,
            ))
        })
    });
}

criterion_group!(benches, routing);
criterion_main!(benches);
