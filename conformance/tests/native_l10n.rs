//! An l10n job end to end on the native host (CONTRACT 2.9, 7.4): `POST
//! /v1/l10n` on a local gateway, Paris, Tokyo and the model on the mock
//! upstream; the overlay is written once, Paris gets `running` then
//! `succeeded`, and nothing the gateway wrote holds the grant.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sf_conformance::http::request;
use sf_conformance::mock::{MockUpstream, Script};
use sf_core::grants::mint_grant;

const SECRET: &str = "l10n-test-secret";
const BEARER: &str = "l10n-bearer";
const INSTANCE: &str = "/api/workspaces/ws-1/instance/wgt_1?subject=workspace";
const OVERLAY: &str = "/api/workspaces/ws-1/instances/wgt_1/layers/locale/fr?subject=workspace";
const REPORT: &str = "/api/l10n/jobs/report";

fn grant(max_requests: u32) -> String {
    mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": "00000000-0000-4000-8000-0000000000aa",
            "sub": {"kind": "service", "serviceId": "paris.l10n"},
            "exp": 4_102_444_800u64,
            "caps": ["agent:l10n.instance.v1"],
            "budgets": {"maxTokens": 900, "timeoutMs": 30000, "maxRequests": max_requests},
            "mode": "ops",
            "ai": {
                "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false
            },
            "trace": {"sessionId": "s-1", "instancePublicId": "wgt_1"}
        }),
        SECRET,
    )
}

fn wait_for(mock: &MockUpstream, what: impl Fn(&[sf_conformance::mock::Seen]) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if what(&mock.seen()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn an_instance_job_translates_writes_the_overlay_and_reports() {
    let translated = json!([
        {"path": "title", "value": "Questions fréquentes"},
        {"path": "sections.0.title", "value": "Facturation"},
        {"path": "sections.0.faqs.0.question", "value": "Puis-je payer à l'année ?"}
    ]);
    let mock = MockUpstream::start(Script {
        content: translated.to_string(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock upstream");
    let config = json!({"title": "Frequently asked", "sections": [
        {"title": "Billing", "faqs": [{"question": "Can I pay yearly?"}]}
    ]});
    mock.route(
        "GET",
        "/widgets/faq/localization.json",
        200,
        &json!({"v": 1, "paths": [
            {"path": "title", "type": "string"},
            {"path": "sections.*.title", "type": "string"},
            {"path": "sections.*.faqs.*.question", "type": "string"}
        ]})
        .to_string(),
    );
    mock.route(
        "GET",
        INSTANCE,
        200,
        &json!({"widgetType": "faq", "config": config, "updatedAt": "2026-11-30T10:00:00.000Z"})
            .to_string(),
    );
    mock.route("GET", OVERLAY, 404, r#"{"error":"not found"}"#);
    mock.route("PUT", OVERLAY, 200, r#"{"ok":true}"#);
    mock.route("POST", REPORT, 200, r#"{"ok":true}"#);

    let server = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "local".to_owned()),
        ("AI_GRANT_HMAC_SECRET", SECRET.to_owned()),
        ("PARIS_DEV_JWT", BEARER.to_owned()),
        ("DEEPSEEK_API_KEY", "k".to_owned()),
        ("DEEPSEEK_BASE_URL", mock.base_url()),
        ("TOKYO_BASE_URL", mock.base_url()),
        ("PARIS_BASE_URL", mock.base_url()),
    ])
    .expect("server");
    let token = grant(1);
    let job = json!({
        "v": 1, "agentId": "l10n.instance.v1", "grant": token, "publicId": "wgt_1",
        "widgetType": "faq", "locale": "fr", "baseUpdatedAt": "2026-11-30T10:00:00.000Z",
        "kind": "curated", "workspaceId": "ws-1"
    });
    let auth = format!("Bearer {BEARER}");
    let res = request(
        server.base_url(),
        "POST",
        "/v1/l10n",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        json!({"jobs": [job]}).to_string().as_bytes(),
    )
    .expect("dispatch");
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json(), json!({"ok": true, "queued": 1}));

    let reports = |seen: &[sf_conformance::mock::Seen]| -> Vec<Value> {
        seen.iter()
            .filter(|s| s.path == REPORT)
            .map(|s| serde_json::from_str(&s.body).unwrap_or_default())
            .collect()
    };
    assert!(
        wait_for(&mock, |seen| reports(seen).len() >= 2),
        "reports: {:?}",
        reports(&mock.seen())
    );
    let seen = mock.seen();
    let statuses: Vec<Value> = reports(&seen).iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("running"), json!("succeeded")]);
    let puts: Vec<_> = seen.iter().filter(|s| s.method == "PUT").collect();
    assert_eq!(puts.len(), 1, "the overlay is written once");
    let put: Value = serde_json::from_str(&puts[0].body).expect("PUT body is JSON");
    assert_eq!(put["source"], "agent");
    assert_eq!(put["widgetType"], "faq");
    let ops: Vec<(String, String)> = put["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .map(|o| {
            (
                o["path"].as_str().unwrap_or_default().to_owned(),
                o["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        ops.contains(&("sections.0.title".into(), "Facturation".into())),
        "{ops:?}"
    );
    assert_eq!(mock.calls(), 1, "one model call for one batch");
    for s in &seen {
        assert!(
            !s.body.contains(&token),
            "{} {} carried the grant",
            s.method,
            s.path
        );
    }
    // The job log in the blob store: written, without the grant.
    let blobs = walk(server.data_dir());
    let logs: Vec<_> = blobs.iter().filter(|(p, _)| p.contains("l10n")).collect();
    assert!(
        !logs.is_empty(),
        "no l10n log among {:?}",
        blobs.iter().map(|b| &b.0).collect::<Vec<_>>()
    );
    for (path, text) in &logs {
        assert!(!text.contains(&token), "{path} holds the grant");
    }
    server.shutdown().expect("shutdown");
}

#[test]
fn a_job_with_a_bad_grant_is_refused_before_it_runs() {
    let mock = MockUpstream::start(Script {
        content: String::new(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock upstream");
    let server = sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "local".to_owned()),
        ("AI_GRANT_HMAC_SECRET", SECRET.to_owned()),
        ("PARIS_DEV_JWT", BEARER.to_owned()),
        ("PARIS_BASE_URL", mock.base_url()),
    ])
    .expect("server");
    let job = json!({
        "v": 1, "agentId": "l10n.instance.v1", "grant": "v1.bad.sig", "publicId": "wgt_1",
        "widgetType": "faq", "locale": "fr", "baseUpdatedAt": "x", "kind": "curated"
    });
    let auth = format!("Bearer {BEARER}");
    let res = request(
        server.base_url(),
        "POST",
        "/v1/l10n",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        job.to_string().as_bytes(),
    )
    .expect("dispatch");
    assert_eq!(res.status, 401, "{}", String::from_utf8_lossy(&res.body));
    let res = request(
        server.base_url(),
        "POST",
        "/v1/l10n",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        b"[]",
    )
    .expect("dispatch");
    assert_eq!(res.json()["error"]["message"], "No jobs provided");
    std::thread::sleep(Duration::from_millis(200));
    assert!(mock.seen().is_empty(), "nothing reached Paris");
    server.shutdown().expect("shutdown");
}

/// Starts a local gateway whose Paris, Tokyo and model are `mock`.
fn local_gateway(mock: &MockUpstream) -> sf_server::ephemeral::EphemeralServer {
    sf_server::ephemeral::EphemeralServer::start([
        ("ENVIRONMENT", "local".to_owned()),
        ("AI_GRANT_HMAC_SECRET", SECRET.to_owned()),
        ("PARIS_DEV_JWT", BEARER.to_owned()),
        ("DEEPSEEK_API_KEY", "k".to_owned()),
        ("DEEPSEEK_BASE_URL", mock.base_url()),
        ("TOKYO_BASE_URL", mock.base_url()),
        ("PARIS_BASE_URL", mock.base_url()),
    ])
    .expect("server")
}

fn dispatch(server: &sf_server::ephemeral::EphemeralServer, job: &Value) {
    let auth = format!("Bearer {BEARER}");
    let res = request(
        server.base_url(),
        "POST",
        "/v1/l10n",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        job.to_string().as_bytes(),
    )
    .expect("dispatch");
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
}

fn job_for(token: &str, widget: &str) -> Value {
    json!({
        "v": 1, "agentId": "l10n.instance.v1", "grant": token, "publicId": "wgt_1",
        "widgetType": widget, "locale": "fr", "baseUpdatedAt": "2026-11-30T10:00:00.000Z",
        "kind": "curated", "workspaceId": "ws-1"
    })
}

fn report_statuses(mock: &MockUpstream) -> Vec<(String, Value)> {
    mock.seen()
        .iter()
        .filter(|s| s.path == REPORT)
        .map(|s| {
            let r: Value = serde_json::from_str(&s.body).unwrap_or_default();
            (
                r["status"].as_str().unwrap_or_default().to_owned(),
                r["error"].clone(),
            )
        })
        .collect()
}

/// Faults on each call: Paris failing the instance read, and a model answering
/// broken JSON. Each job reports `failed` with the reason; no overlay is written.
#[test]
fn faults_end_in_failed_with_a_reason_and_write_nothing() {
    // Paris answers 500 on the instance.
    let mock = MockUpstream::start(Script {
        content: "[]".into(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock");
    mock.route("GET", INSTANCE, 500, r#"{"error":"db down"}"#);
    mock.route("POST", REPORT, 200, r#"{"ok":true}"#);
    let server = local_gateway(&mock);
    // A v2 job: it carries the fingerprint Paris' report needs when the
    // instance itself cannot be read.
    let mut job = job_for(&grant(1), "faq");
    job["v"] = json!(2);
    job["baseFingerprint"] = json!("fp-known-to-paris");
    dispatch(&server, &job);
    assert!(wait_for(&mock, |seen| seen
        .iter()
        .any(|s| s.path == REPORT)));
    std::thread::sleep(Duration::from_millis(200));
    let reports = report_statuses(&mock);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, "failed");
    assert!(
        reports[0]
            .1
            .as_str()
            .is_some_and(|e| e.contains("Failed to load instance (500)")),
        "{reports:?}"
    );
    assert!(mock.seen().iter().all(|s| s.method != "PUT"));
    assert_eq!(mock.calls(), 0, "no model call");
    server.shutdown().expect("shutdown");

    // The model answers text that is not JSON.
    let mock = MockUpstream::start(Script {
        content: "Sure! Here are your translations: title = Questions".into(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock");
    mock.route(
        "GET",
        "/widgets/faq/localization.json",
        200,
        &json!({"v": 1, "paths": [{"path": "title", "type": "string"}]}).to_string(),
    );
    mock.route(
        "GET",
        INSTANCE,
        200,
        &json!({"widgetType": "faq", "config": {"title": "Frequently asked"}}).to_string(),
    );
    mock.route("GET", OVERLAY, 404, "{}");
    mock.route("PUT", OVERLAY, 200, "{}");
    mock.route("POST", REPORT, 200, r#"{"ok":true}"#);
    let server = local_gateway(&mock);
    dispatch(&server, &job_for(&grant(1), "faq"));
    assert!(wait_for(&mock, |_| report_statuses(&mock).len() >= 2));
    let reports = report_statuses(&mock);
    assert_eq!(
        reports.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["running", "failed"],
        "{reports:?}"
    );
    assert!(
        mock.seen().iter().all(|s| s.method != "PUT"),
        "no overlay written"
    );
    server.shutdown().expect("shutdown");
}

/// CONTRACT 15.10: Paris mints `maxRequests: 1`; a job of three batches
/// still succeeds here (the original failed it with 429 on the second batch).
#[test]
fn a_multi_batch_job_is_one_request_against_its_grant() {
    let n = 170; // batches of at most 80 items: 3 model calls
    let paths: Vec<String> = (0..n).map(|i| format!("items.{i}.label")).collect();
    let reply: Vec<Value> = paths
        .iter()
        .map(|p| json!({"path": p, "value": "Étiquette"}))
        .collect();
    // One scripted answer for every call: each batch checks its own path set,
    // so the mock answers with the paths of the batch it is given.
    let mock = MockUpstream::start(Script {
        content: String::new(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock");
    mock.echo_batches(true);
    let config = json!({"items": (0..n).map(|i| json!({"label": format!("Label {i}")})).collect::<Vec<_>>()});
    mock.route(
        "GET",
        "/widgets/list/localization.json",
        200,
        &json!({"v": 1, "paths": [{"path": "items.*.label", "type": "string"}]}).to_string(),
    );
    mock.route(
        "GET",
        INSTANCE,
        200,
        &json!({"widgetType": "list", "config": config}).to_string(),
    );
    mock.route("GET", OVERLAY, 404, "{}");
    mock.route("PUT", OVERLAY, 200, "{}");
    mock.route("POST", REPORT, 200, r#"{"ok":true}"#);
    let server = local_gateway(&mock);
    dispatch(&server, &job_for(&grant(1), "list"));
    assert!(wait_for(&mock, |_| report_statuses(&mock).len() >= 2));
    let reports = report_statuses(&mock);
    assert_eq!(
        reports.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["running", "succeeded"],
        "{reports:?}"
    );
    assert_eq!(mock.calls(), 3, "three batches");
    let put = mock
        .seen()
        .into_iter()
        .find(|s| s.method == "PUT")
        .expect("overlay written");
    let put: Value = serde_json::from_str(&put.body).expect("JSON");
    assert_eq!(put["ops"].as_array().map(Vec::len), Some(reply.len()));
    server.shutdown().expect("shutdown");
}

fn walk(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), text));
            }
        }
    }
    out
}
