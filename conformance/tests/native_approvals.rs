//! Approvals on the native host: 200 concurrent approvals against one daily
//! budget spend at most the budget (the SQLite-backed Counter reserves
//! atomically across the server's threads), and every decision is audited.

use std::sync::Arc;

use serde_json::json;
use sf_conformance::approvals::{ADMIN_TOKEN, AGENCY_TOKEN};
use sf_conformance::http::request;
use sf_conformance::mock::{MockUpstream, Script};

#[test]
fn two_hundred_concurrent_approvals_spend_at_most_the_daily_budget() {
    let mock = MockUpstream::start(Script {
        content: r#"{"approve":true,"risk":0.1,"reason":"ok"}"#.into(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock upstream");
    let server = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("DEEPSEEK_API_KEY", "k".to_owned()),
        ("DEEPSEEK_BASE_URL", mock.base_url()),
        ("SF_APPROVALS_AGENCY_TOKEN", AGENCY_TOKEN.to_owned()),
        ("SF_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("SF_CONCURRENCY_CAP", "256".to_owned()),
    ])
    .expect("server starts");
    let base = Arc::new(server.base_url().to_owned());
    let auth = format!("Bearer {AGENCY_TOKEN}");
    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let (base, auth) = (base.clone(), auth.clone());
            std::thread::spawn(move || {
                let body = json!({"taskId": format!("par-{i}"), "type": "research", "description": "d",
                                  "estimatedCost": 0.75, "agentType": "Researcher"});
                let res = request(&base, "POST", "/api/approve",
                    &[("authorization", auth.as_str()), ("content-type", "application/json")],
                    body.to_string().as_bytes());
                res.map(|r| (r.status, r.json()["status"].as_str().unwrap_or("").to_owned()))
            })
        })
        .collect();
    let results: Vec<(u16, String)> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("request"))
        .collect();
    let elapsed = started.elapsed();
    assert!(results.iter().all(|(s, _)| *s == 200), "{results:?}");
    let approved = results.iter().filter(|(_, s)| s == "approved").count();
    // $50 / $0.75: 66 fit, whatever the interleaving.
    assert_eq!(approved, 66, "{results:?}");
    assert_eq!(
        mock.calls(),
        66,
        "only tasks within the budget reach the model"
    );
    let st = request(
        &base,
        "GET",
        "/api/status",
        &[("authorization", auth.as_str())],
        b"",
    )
    .expect("status");
    let st = st.json();
    assert!(st["spentUsd"].as_f64().is_some_and(|s| s <= 50.0), "{st}");
    assert_eq!(
        (
            st["counts"]["approved"].as_i64(),
            st["counts"]["denied"].as_i64()
        ),
        (Some(66), Some(134))
    );
    eprintln!(
        "200 concurrent approvals in {elapsed:?}: 66 approved, spent {}",
        st["spentUsd"]
    );
    server.shutdown().expect("graceful shutdown");
}
