//! `POST /v1/chat/completions` over the in-memory host: the tenant key is
//! looked up, the quota reserved and settled on the Counter, the answer in
//! OpenAI's shape with the rate-limit headers, one usage row deferred; over
//! the quota, 429 with `retry-after` and no model call.

use std::rc::Rc;

use futures_executor::block_on;
use serde_json::{json, Value};

use sf_core::http::RouteCtx;
use sf_core::isolate::Isolate;
use sf_core::policy::Tier;
use sf_core::ports::{Counter, Host, SqlRow, SqlValue};
use sf_core::testkit::{Canned, FakeHost, START_MS};
use sf_tenants::{chat, keys, quota};

const CHAT: &str = "https://llm.test/v1/chat/completions";

fn key_row(hash: &str) -> SqlRow {
    let t = |v: &str| SqlValue::Text(v.into());
    let cols = vec![
        ("key_hash", t(hash)),
        ("revoked_at", SqlValue::Null),
        ("expires_at", SqlValue::Null),
        ("id", t("t1")),
        ("slug", t("acme")),
        ("platform", t("web")),
        ("tier", t("free")),
        ("created_at", SqlValue::Integer(1)),
        ("updated_at", SqlValue::Integer(1)),
    ];
    SqlRow {
        columns: cols.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
    }
}

fn ctx(key: &str, body: &Value) -> RouteCtx {
    let req = http::Request::builder()
        .method("POST")
        .uri("/v1/chat/completions")
        .header("authorization", format!("Bearer {key}"))
        .body(body.to_string().into_bytes())
        .unwrap();
    RouteCtx {
        req,
        param: None,
        started_ms: START_MS,
    }
}

#[test]
fn a_call_reserves_settles_answers_and_defers_one_usage_row() {
    let iso = Rc::new(Isolate::new(
        FakeHost::new()
            .with_var("ENVIRONMENT", "dev")
            .with_var("DEEPSEEK_API_KEY", "k")
            .with_var("DEEPSEEK_BASE_URL", "https://llm.test"),
    ));
    let h = iso.host();
    h.route(CHAT, Canned::json(&json!({
        "model": "deepseek-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi there"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})));
    let k = keys::generate(h.random());
    let body = json!({"model": "auto", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 100});

    h.sql.answer(vec![key_row(&k.hash)]);
    let res = block_on(chat::completions_route(&iso, ctx(&k.api_key, &body))).expect("answered");
    assert_eq!(res.status(), 200);
    let rules = Tier::Free.rules();
    let hdr = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        hdr("x-ratelimit-remaining-requests"),
        Some((rules.requests_per_day - 1).to_string())
    );
    assert_eq!(
        hdr("x-ratelimit-remaining-tokens"),
        Some((rules.tokens_per_day - 12).to_string())
    );
    let v: Value = serde_json::from_slice(res.body()).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "hi there");
    assert_eq!(v["usage"]["total_tokens"], 12);
    let qk = quota::key("t1", START_MS);
    assert_eq!(
        block_on(h.counter().read(&qk, quota::LANE_TOKENS)).unwrap(),
        12,
        "settled to the real tokens"
    );

    let before = h.sql.statements.borrow().len();
    block_on(h.run_deferred());
    let stmts = h.sql.statements.borrow();
    let rows: Vec<_> = stmts[before..]
        .iter()
        .filter(|s| s.sql.starts_with("INSERT INTO usage"))
        .collect();
    assert_eq!(rows.len(), 1, "one usage row per call");
    assert_eq!(rows[0].params[1], SqlValue::Text("deepseek-chat".into()));
    assert_eq!(rows[0].params[2], SqlValue::Integer(9));
    drop(stmts);

    // Spend the day's requests: the next call is a 429 and reaches no model.
    let used = i64::try_from(rules.requests_per_day).unwrap();
    block_on(h.counter().adjust(&qk, quota::LANE_REQUESTS, used)).unwrap();
    let calls = h.fetch.seen.borrow().len();
    h.sql.answer(vec![key_row(&k.hash)]);
    let res = block_on(chat::completions_route(&iso, ctx(&k.api_key, &body))).expect("an answer");
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(
        h.fetch.seen.borrow().len(),
        calls,
        "no model call over the quota"
    );

    // A wrong key: 401, and nothing reserved.
    h.sql.answer(vec![key_row(&keys::hash_secret("other"))]);
    let e = block_on(chat::completions_route(&iso, ctx(&k.api_key, &body))).unwrap_err();
    assert_eq!(e.status, 401);
}
