//! The composition root over the in-memory host (`sf_core::testkit`): dispatch,
//! auth, the agent glue and the event hand-off, without a real host.

use serde_json::{json, Value};
use sf_core::grants::mint_grant;
use sf_core::mint::{mint_payload, MintRequest};
use sf_core::policy::Plan;
use sf_core::testkit::{FakeHost, START_MS};
use sf_runtime::Gateway;

const SECRET: &str = "in-memory-test-secret";

fn gateway() -> std::rc::Rc<Gateway<FakeHost>> {
    Gateway::new(
        FakeHost::new()
            .with_queue()
            .with_var("ENVIRONMENT", "local")
            .with_var("AI_GRANT_HMAC_SECRET", SECRET)
            .with_var("PARIS_DEV_JWT", "paris-token"),
    )
}

fn request(method: &str, path: &str, body: &Value) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("JSON"))
        .expect("request")
}

fn answer(res: http::Response<Vec<u8>>) -> (u16, Value) {
    let status = res.status().as_u16();
    let body = serde_json::from_slice(res.body()).unwrap_or(Value::Null);
    (status, body)
}

fn grant(agent: &str) -> String {
    let payload = mint_payload(
        &MintRequest::new(agent, Plan::Free),
        START_MS / 1000,
        "00000000-0000-4000-8000-000000000001",
        "session-1",
    )
    .expect("mintable");
    mint_grant(&payload, SECRET)
}

#[test]
fn healthz_names_the_environment() {
    let gw = gateway();
    let (status, body) = answer(futures_executor::block_on(gw.handle(request(
        "GET",
        "/healthz",
        &Value::Null,
    ))));
    assert_eq!(status, 200);
    assert_eq!(body["env"], "local");
    assert_eq!(body["ts"], START_MS);
}

#[test]
fn execute_answers_and_queues_exactly_one_event() {
    let gw = gateway();
    let body = json!({
        "grant": grant("debug.grantProbe"),
        "agentId": "debug.grantProbe",
        "input": {"ping": "hi"},
        "trace": {"requestId": "req-mem-1"},
    });
    let (status, out) = answer(futures_executor::block_on(gw.handle(request(
        "POST",
        "/v1/execute",
        &body,
    ))));
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["requestId"], "req-mem-1");
    assert_eq!(out["agentId"], "debug.grantProbe");
    let host = gw.host();
    assert!(
        host.queue.as_ref().expect("bound").0.borrow().is_empty(),
        "the event leaves after the response"
    );
    futures_executor::block_on(host.run_deferred());
    let sent = host.queue.as_ref().expect("bound").0.borrow().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["requestId"], "req-mem-1");
    assert_eq!(sent[0]["agentId"], "debug.grantProbe");
    assert!(
        !sent[0]
            .to_string()
            .contains(body["grant"].as_str().unwrap_or("?")),
        "the event never carries the grant"
    );
}

#[test]
fn bearer_routes_refuse_a_wrong_token() {
    let gw = gateway();
    let mut req = request("GET", "/v1/personalization/preview/job-1", &Value::Null);
    req.headers_mut().insert(
        "authorization",
        http::HeaderValue::from_static("Bearer nope"),
    );
    let (status, body) = answer(futures_executor::block_on(gw.handle(req)));
    assert_eq!(status, 403);
    assert_eq!(body["error"]["message"], "Invalid auth token");
}
