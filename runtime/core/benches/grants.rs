//! Grant verification cost (budget: <= 5 us per token, DESIGN.md).
//!
//! `cargo bench -p sf-runtime --bench grants`
//!
//! * `verify_grant/contract_token`: the observed vector of CONTRACT.md 3.1
//!   (no `ai` capsule, 380-byte token).
//! * `verify_grant/widget_grant`: a Paris-shaped widget-copilot grant with an
//!   `ai` capsule, models and trace, as Bob sends them (about 700 bytes).
//! * `verify_grant/bad_signature`: rejection cost (MAC only, no parsing).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
use sf_core::grants::{mint_grant, verify_grant, GrantNames};

const CONTRACT_TOKEN: &str = "v1.eyJ2IjoxLCJpc3MiOiJwYXJpcyIsImp0aSI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMCIsInN1YiI6eyJraW5kIjoiYW5vbiIsInNlc3Npb25JZCI6InMifSwiZXhwIjo0MTAyNDQ0ODAwLCJjYXBzIjpbImFnZW50OmRlYnVnLmdyYW50UHJvYmUiXSwiYnVkZ2V0cyI6eyJtYXhUb2tlbnMiOjIwMCwidGltZW91dE1zIjoxMDAwMCwibWF4UmVxdWVzdHMiOjF9LCJtb2RlIjoiZWRpdG9yIn0._WEBVsiQgQM2rY7WvlfhmmD5uO9Jo-kaI9nIVtwfl6A";
const SECRET: &[u8] = b"test-secret";
const NOW_MS: u64 = 1_795_000_000_000;

fn widget_grant() -> String {
    let payload = json!({
        "v": 1, "iss": "paris", "jti": "3b241101-e2bb-4255-8caf-4136c566a962",
        "sub": {"kind": "anon", "sessionId": "6f1c2a7e-4b7d-4f0e-9a51-2d3c4b5a6e7f"},
        "exp": 4102444800u64,
        "caps": ["agent:sdr.widget.copilot.v1"],
        "budgets": {"maxTokens": 420, "timeoutMs": 12000, "maxRequests": 2},
        "mode": "ops",
        "ai": {
            "profile": "free_low", "allowedProviders": ["deepseek", "amazon"], "defaultProvider": "deepseek",
            "models": {
                "deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]},
                "amazon": {"defaultModel": "nova-2-lite-v1", "allowed": ["nova-2-lite-v1"]}
            },
            "allowProviderChoice": true, "allowModelChoice": false,
            "selectedProvider": "amazon", "selectedModel": "nova-2-lite-v1"
        },
        "trace": {"sessionId": "6f1c2a7e-4b7d-4f0e-9a51-2d3c4b5a6e7f", "instancePublicId": "wgt_faq_8f2k1", "envStage": "cloud-dev"}
    });
    mint_grant(&payload, "test-secret")
}

fn bench(c: &mut Criterion) {
    let names = GrantNames::CONTRACT;
    assert!(verify_grant(CONTRACT_TOKEN, SECRET, NOW_MS, &names).is_ok());
    c.bench_function("verify_grant/contract_token", |b| {
        b.iter(|| verify_grant(black_box(CONTRACT_TOKEN), SECRET, NOW_MS, &names))
    });

    let widget = widget_grant();
    assert!(verify_grant(&widget, SECRET, NOW_MS, &names).is_ok());
    c.bench_function("verify_grant/widget_grant", |b| {
        b.iter(|| verify_grant(black_box(&widget), SECRET, NOW_MS, &names))
    });

    // Flip a character in the middle of the signature (the last one also
    // carries bits that base64 decoding discards).
    let bad = CONTRACT_TOKEN.replace("Jo-kaI9", "Jo-kaI8");
    assert!(verify_grant(&bad, SECRET, NOW_MS, &names).is_err());
    c.bench_function("verify_grant/bad_signature", |b| {
        b.iter(|| verify_grant(black_box(&bad), SECRET, NOW_MS, &names))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
