//! Time `sf_codegen::compile` on the shipped policy (budget: <= 100 ms; it is
//! what `sf policy check` and every build of sf-runtime run).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    c.bench_function("compile shipped policy", |b| {
        b.iter(|| match sf_codegen::compile(&root) {
            Ok(g) => g.policy.version.len(),
            Err(d) => panic!("{d}"),
        })
    });
    c.bench_function("compile + prettyplease", |b| {
        b.iter(|| match sf_codegen::compile(&root) {
            Ok(g) => g.source().len(),
            Err(d) => panic!("{d}"),
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
