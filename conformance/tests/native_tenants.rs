//! Tenants on the native host: OpenAI-compatible chat completions (whole and
//! streamed), `/v1/models`, the fallback to the fast model when the tier's
//! model fails, and 1,000 concurrent calls on one tenant's daily quota
//! overspending by exactly 0 (the SQLite-backed Counter reserves atomically).

use std::sync::Arc;

use serde_json::{json, Value};
use sf_conformance::approvals::ADMIN_TOKEN;
use sf_conformance::http::request;
use sf_conformance::mock::{MockUpstream, Script};
use sf_conformance::tenants::{call, create_tenant, unique_slug};

fn ok_script(content: &str) -> Script {
    Script {
        content: content.into(),
        status: 200,
        delay_ms: 0,
    }
}

fn server(deepseek: &MockUpstream, openai: &MockUpstream) -> sf_server::ephemeral::EphemeralServer {
    sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("DEEPSEEK_API_KEY", "k".to_owned()),
        ("DEEPSEEK_BASE_URL", deepseek.base_url()),
        ("OPENAI_API_KEY", "k".to_owned()),
        ("OPENAI_BASE_URL", openai.base_url()),
        ("SF_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("SF_CONCURRENCY_CAP", "2000".to_owned()),
    ])
    .expect("server starts")
}

fn chat(base: &str, key: &str, body: &Value) -> sf_conformance::http::Response {
    let auth = format!("Bearer {key}");
    request(
        base,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .expect("request")
}

#[test]
fn completions_streaming_models_keys_and_fallback() {
    let deepseek = MockUpstream::start(ok_script("fast answer")).expect("mock");
    let openai = MockUpstream::start(ok_script("premium answer")).expect("mock");
    let srv = server(&deepseek, &openai);
    let base = srv.base_url().to_owned();
    let (free_id, free) = create_tenant(&base, &unique_slug("free"), "free").expect("tenant");
    let (_, premium) = create_tenant(&base, &unique_slug("prem"), "premium").expect("tenant");

    let (s, v) = call(&base, "GET", "/v1/models", Some(&free), &Value::Null).unwrap();
    assert_eq!(
        (s, v["data"][0]["id"].clone()),
        (200, json!("deepseek-chat")),
        "{v}"
    );
    assert_eq!(
        v["data"].as_array().map(Vec::len),
        Some(1),
        "free: the fast model only"
    );
    let (_, v) = call(&base, "GET", "/v1/models", Some(&premium), &Value::Null).unwrap();
    assert_eq!(v["data"][0]["id"], "gpt-4o", "{v}");
    assert_eq!(
        call(&base, "GET", "/v1/models", Some("sk-sf-nope"), &Value::Null)
            .unwrap()
            .0,
        401
    );

    let msg = json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50, "temperature": 0.2});
    let r = chat(&base, &free, &msg);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], "fast answer");
    assert_eq!(v["usage"]["total_tokens"], 18);
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("199"));
    assert!(r.header("x-ratelimit-remaining-tokens").is_some());
    let sent = deepseek.last_body().expect("upstream saw the call");
    assert_eq!(
        (sent["model"].clone(), sent["max_tokens"].clone()),
        (json!("deepseek-chat"), json!(50))
    );

    // response_format is passed to an OpenAI-compatible provider as it is.
    let mut rf = msg.clone();
    rf["response_format"] = json!({"type": "json_object"});
    assert_eq!(chat(&base, &free, &rf).status, 200);
    assert_eq!(
        deepseek.last_body().expect("upstream saw the call")["response_format"],
        json!({"type": "json_object"})
    );
    rf["response_format"] = json!("json");
    assert_eq!(chat(&base, &free, &rf).status, 400);
    // Streamed: chunks, usage in the last chunk, then [DONE].
    let r = chat(
        &base,
        &premium,
        &json!({"messages": [{"role": "user", "content": "hi"}], "stream": true}),
    );
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/event-stream")));
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let chunks: Vec<Value> = body
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk JSON"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "premium answer");
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 18);

    // The tier's model fails: the fast model answers within the deadline.
    openai.reset(Script {
        content: String::new(),
        status: 500,
        delay_ms: 0,
    });
    let r = chat(&base, &premium, &msg);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["choices"][0]["message"]["content"], "fast answer");
    assert_eq!(r.header("x-sf-fallback"), Some("true"));
    // The tier's model is too slow: it gets two thirds of the deadline, then the fast one answers.
    openai.reset(Script {
        content: "late".into(),
        status: 200,
        delay_ms: 5_000,
    });
    let started = std::time::Instant::now();
    let auth = format!("Bearer {premium}");
    let r = request(
        &base,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("x-sf-timeout-ms", "1500"),
        ],
        msg.to_string().as_bytes(),
    )
    .expect("request");
    let took = started.elapsed();
    assert_eq!(
        r.status,
        200,
        "{} after {took:?}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["choices"][0]["message"]["content"], "fast answer");
    assert_eq!(r.header("x-sf-fallback"), Some("true"));
    assert!(
        took < std::time::Duration::from_millis(1500),
        "within the one deadline: {took:?}"
    );
    // Both fail: the error, and the quota given back.
    openai.reset(Script {
        content: String::new(),
        status: 500,
        delay_ms: 0,
    });
    deepseek.reset(Script {
        content: String::new(),
        status: 500,
        delay_ms: 0,
    });
    assert_eq!(chat(&base, &premium, &msg).status, 502);

    // Validation names the field; a free tenant cannot name the premium model.
    let r = chat(
        &base,
        &free,
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}),
    );
    assert!(
        r.status == 400 && String::from_utf8_lossy(&r.body).contains("`model`"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = chat(&base, &free, &json!({"messages": []}));
    assert!(r.status == 400 && String::from_utf8_lossy(&r.body).contains("`messages`"));

    // A revoked key is refused.
    let key_id = free
        .trim_start_matches("sk-sf-")
        .split('_')
        .next()
        .unwrap()
        .to_owned();
    let (s, _) = call(
        &base,
        "DELETE",
        &format!("/admin/v1/tenants/{free_id}/keys?keyId={key_id}"),
        Some(ADMIN_TOKEN),
        &Value::Null,
    )
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(chat(&base, &free, &msg).status, 401);

    // One usage row per answered call (written after the answer).
    let mut rows = 0;
    for _ in 0..50 {
        let (_, u) = call(
            &base,
            "GET",
            &format!("/admin/v1/tenants/{free_id}/usage"),
            Some(ADMIN_TOKEN),
            &Value::Null,
        )
        .unwrap();
        rows = u["totals"]["requests"].as_u64().unwrap_or(0);
        if rows == 2 {
            assert_eq!(u["byModel"][0]["model"], "deepseek-chat");
            assert_eq!(u["totals"]["tokensIn"], 22);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(rows, 2, "two answered calls of the free tenant");
    srv.shutdown().expect("graceful shutdown");
}

#[test]
fn a_thousand_concurrent_calls_overspend_the_quota_by_zero() {
    let deepseek = MockUpstream::start(ok_script("ok")).expect("mock");
    let openai = MockUpstream::start(ok_script("ok")).expect("mock");
    let srv = server(&deepseek, &openai);
    let base = Arc::new(srv.base_url().to_owned());
    let (id, key) = create_tenant(&base, &unique_slug("load"), "free").expect("tenant");
    let quota = sf_core::policy::Tier::Free.rules().requests_per_day as usize;
    let key = Arc::new(key);
    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..1000)
        .map(|_| {
            let (base, key) = (base.clone(), key.clone());
            std::thread::spawn(move || {
                let body =
                    json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5});
                let r = chat(&base, &key, &body);
                (r.status, r.header("retry-after").map(str::to_owned))
            })
        })
        .collect();
    let results: Vec<(u16, Option<String>)> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let elapsed = started.elapsed();
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let limited = results
        .iter()
        .filter(|(s, r)| *s == 429 && r.is_some())
        .count();
    eprintln!("1000 concurrent calls: {ok} answered, {limited} limited, in {elapsed:?}");
    assert_eq!(ok, quota, "exactly the quota is answered");
    assert_eq!(limited, 1000 - quota, "the rest are 429 with retry-after");
    assert_eq!(
        deepseek.calls(),
        quota,
        "only calls within the quota reach the model"
    );
    let mut rows = 0;
    for _ in 0..100 {
        let (_, u) = call(
            &base,
            "GET",
            &format!("/admin/v1/tenants/{id}/usage"),
            Some(ADMIN_TOKEN),
            &Value::Null,
        )
        .unwrap();
        rows = u["totals"]["requests"].as_u64().unwrap_or(0) as usize;
        if rows == quota {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(rows, quota, "one usage row per answered call");
    srv.shutdown().expect("graceful shutdown");
}
