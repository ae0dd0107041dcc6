//! The jobs end to end over the core's in-memory host: canned pages, a
//! canned model and Paris, the KV records they leave.

use std::rc::Rc;

use futures_executor::block_on;
use serde_json::{json, Value};
use sf_core::error::ConsumeError;
use sf_core::grants::mint_grant;
use sf_core::http::RouteCtx;
use sf_core::net::PublicOnly;
use sf_core::ports::{Fetch, FetchError, Host};
use sf_core::testkit::{Canned, FakeHost};
use sf_core::Isolate;

use crate::jobs::{consume, route, Readers};
use crate::record::Kind;
use crate::sources::Unconfigured;
use crate::{Page, PageError, PageReader};

const SECRET: &str = "unit-secret";
const CHAT: &str = "https://llm.test/v1/chat/completions";
const PARIS: &str = "https://paris.test";

/// Pages straight from the fake fetch (the real reader is the copilot's,
/// wired in the composition root).
struct FakePages(Rc<Isolate<FakeHost>>);

impl PageReader for FakePages {
    async fn read(&self, url: &str, _t: u64, max: usize) -> Result<Page, PageError> {
        let mut req = http::Request::get(url)
            .body(Vec::new())
            .map_err(|e| PageError::Failed(e.to_string()))?;
        req.extensions_mut().insert(PublicOnly);
        let res = self
            .0
            .host()
            .fetch()
            .fetch(req, std::time::Duration::from_secs(1))
            .await
            .map_err(|e| match e {
                FetchError::Blocked(r) => PageError::Blocked(r),
                other => PageError::Failed(format!("{other:?}")),
            })?;
        if !res.status().is_success() {
            return Err(PageError::Status(res.status().as_u16()));
        }
        let html: String = String::from_utf8_lossy(res.body())
            .chars()
            .take(max)
            .collect();
        let text = html.replace(['<', '>'], " ");
        Ok(Page {
            final_url: url.into(),
            html,
            text,
        })
    }
}

fn iso() -> Rc<Isolate<FakeHost>> {
    Rc::new(Isolate::new(
        FakeHost::new()
            .with_var("ENVIRONMENT", "dev")
            .with_var("AI_GRANT_HMAC_SECRET", SECRET)
            .with_var("DEEPSEEK_API_KEY", "k")
            .with_var("DEEPSEEK_BASE_URL", "https://llm.test")
            .with_var("PARIS_BASE_URL", PARIS)
            .with_var("PARIS_DEV_JWT", "paris-token"),
    ))
}

fn readers(iso: &Rc<Isolate<FakeHost>>) -> Readers<FakePages, Unconfigured> {
    Readers {
        pages: FakePages(Rc::clone(iso)),
        sources: Unconfigured,
    }
}

fn grant(agent: &str, sub: Value) -> String {
    mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": "j-1", "sub": sub, "exp": 4_102_444_800u64,
            "caps": [format!("agent:{agent}")],
            "budgets": {"maxTokens": 400, "timeoutMs": 20000, "maxRequests": 2}, "mode": "editor",
            "ai": {"profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false}
        }),
        SECRET,
    )
}

fn anon() -> Value {
    json!({"kind": "anon", "sessionId": "s1"})
}

fn model_says(iso: &Isolate<FakeHost>, content: &str) {
    iso.host().route(
        CHAT,
        Canned::json(&json!({"model": "deepseek-chat",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5}})),
    );
}

fn post(body: &Value) -> RouteCtx {
    RouteCtx {
        req: http::Request::new(body.to_string().into_bytes()),
        param: None,
        started_ms: 0,
    }
}

fn record(iso: &Isolate<FakeHost>, kind: &str, id: &str) -> Value {
    let key = format!("personalization:{kind}:{id}");
    let text = iso
        .host()
        .kv
        .map
        .borrow()
        .get(&key)
        .cloned()
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn call(iso: &Rc<Isolate<FakeHost>>, kind: Kind, body: &Value) -> (u16, Value) {
    match block_on(route(iso, kind, readers(iso), post(body))) {
        Ok(res) => (
            res.status().as_u16(),
            serde_json::from_slice(res.body()).unwrap_or_default(),
        ),
        Err(e) => (e.status, e.to_json()),
    }
}

const PAGE: &str = r#"<html><head><title>Acme Bakery | Bread in Lyon</title>
    <meta name="description" content="Acme is a family bakery in Lyon."></head><body>Fresh bread</body></html>"#;

#[test]
fn preview_without_v_kind_runs_after_the_answer_with_the_models_overrides() {
    let iso = iso();
    iso.host().route("https://acme.test/", Canned::html(PAGE));
    model_says(
        &iso,
        "heroTitle\tBread baked at dawn\nctaText: Order today\nbrandName\tAcme",
    );
    let body = json!({"command": "personalization.preview.enqueue", "payload": {
        "grant": grant("agent.personalization.preview.v1", anon()), "url": "acme.test", "jobId": "p1"}});
    assert_eq!(
        call(&iso, Kind::Preview, &body),
        (200, json!({"jobId": "p1"}))
    );
    let queued = record(&iso, "preview", "p1");
    assert_eq!(queued["status"], "queued");
    assert_eq!(
        iso.host()
            .kv
            .ttls
            .borrow()
            .get("personalization:preview:p1"),
        Some(&Some(1200))
    );
    block_on(iso.host().run_deferred());
    let done = record(&iso, "preview", "p1");
    assert_eq!(done["status"], "completed", "{done}");
    let r = &done["result"];
    assert_eq!(
        r["copyOverrides"],
        json!({"heroTitle": "Bread baked at dawn", "ctaText": "Order today"})
    );
    assert_eq!(
        (r["brandName"].clone(), r["businessType"].clone()),
        (json!("Acme"), json!("Bread in Lyon"))
    );
    assert_eq!(r["confidence"], 0.6);
    assert_eq!(done["usage"]["provider"], "deepseek");
    // The page went through the guard's marker; no grant in any record.
    assert!(iso
        .host()
        .fetch
        .seen
        .borrow()
        .iter()
        .any(|(u, p)| u == "https://acme.test/" && *p));
    assert!(!iso
        .host()
        .kv
        .map
        .borrow()
        .values()
        .any(|v| v.contains("v1.")));
}

#[test]
fn preview_falls_back_when_the_model_fails_and_is_idempotent() {
    let iso = iso();
    iso.host().route(CHAT, Canned::status(500));
    let body = json!({"v": 1, "kind": "sf.command", "command": "personalization.preview.enqueue", "payload": {
        "grant": grant("agent.personalization.preview.v1", anon()), "url": "https://nowhere.test/", "jobId": "p2"}});
    assert_eq!(call(&iso, Kind::Preview, &body).0, 200);
    block_on(iso.host().run_deferred());
    let done = record(&iso, "preview", "p2");
    assert_eq!(done["status"], "completed");
    let r = &done["result"];
    assert_eq!(r["confidence"], 0.35);
    assert_eq!(r["brandName"], "Nowhere");
    assert_eq!(r["copyOverrides"]["heroTitle"], "Nowhere");
    assert!(r["notes"].to_string().contains("Model skipped"), "{r}");
    assert!(done.get("usage").is_none());
    // Same id again: answered, not re-run.
    assert_eq!(
        call(&iso, Kind::Preview, &body),
        (200, json!({"jobId": "p2"}))
    );
    assert!(iso.host().deferred.borrow().is_empty());
}

#[test]
fn a_refused_url_fails_the_job_and_a_failed_job_runs_again() {
    let iso = iso();
    let body = json!({"command": "personalization.preview.enqueue", "payload": {
        "grant": grant("agent.personalization.preview.v1", anon()), "url": "http://127.0.0.1/", "jobId": "p3"}});
    call(&iso, Kind::Preview, &body);
    block_on(iso.host().run_deferred());
    let rec = record(&iso, "preview", "p3");
    assert_eq!(rec["status"], "failed");
    assert_eq!(
        rec["error"],
        json!({"message": "URL is not allowed (private_ip)."})
    );
    call(&iso, Kind::Preview, &body);
    assert_eq!(record(&iso, "preview", "p3")["status"], "queued");
}

#[test]
fn validation_errors_are_the_contracts() {
    let iso = iso();
    let preview = |payload: Value| {
        let (s, b) = call(
            &iso,
            Kind::Preview,
            &json!({"command": "personalization.preview.enqueue", "payload": payload}),
        );
        (s, b["error"]["message"].as_str().unwrap_or("").to_owned())
    };
    assert_eq!(preview(json!({})), (400, "Missing url".into()));
    assert_eq!(
        preview(json!({"url": "a.test", "agentId": "sdr.copilot"})),
        (400, "Unsupported agentId".into())
    );
    assert_eq!(
        preview(json!({"url": "a.test"})),
        (400, "Missing grant".into())
    );
    let other = grant("agent.personalization.onboarding.v1", anon());
    assert_eq!(
        preview(json!({"url": "a.test", "grant": other})),
        (
            403,
            "Capability denied: agent:agent.personalization.preview.v1".into()
        )
    );
    let (s, b) = call(&iso, Kind::Preview, &json!({"payload": {}}));
    assert_eq!(
        (s, b["error"]["message"].clone()),
        (400, json!("Expected sf.command envelope payload"))
    );
    let (s, b) = call(
        &iso,
        Kind::Onboarding,
        &json!({"command": "personalization.preview.enqueue", "payload": {}}),
    );
    assert_eq!(
        (s, b["error"]["message"].clone()),
        (400, json!("Unsupported command \"personalization.preview.enqueue\" (expected \"personalization.onboarding.enqueue\")"))
    );
    assert!(iso.host().kv.map.borrow().is_empty());
}

#[test]
fn onboarding_reads_pages_stores_the_profile_and_notes_missing_sources() {
    let iso = iso();
    iso.host().route("https://acme.test/", Canned::html(PAGE));
    iso.host()
        .route("https://acme.test/about", Canned::html("<p>Since 1920</p>"));
    model_says(&iso, "```json\n{\"businessProfile\": {\"name\": \"<b>Acme</b>\", \"services\": [\"bread\"]}, \"confidence\": 3, \"sourcesUsed\": [\"website\", \"gbp\"]}\n```");
    iso.host().route(
        &format!("{PARIS}/api/workspaces/ws-1/business-profile"),
        Canned::json(&json!({"ok": true})),
    );
    let payload = json!({"grant": grant("agent.personalization.onboarding.v1", anon()), "workspaceId": "ws-1",
        "url": "https://acme.test/", "websiteDepth": 2, "gbpPlaceId": "place-1", "jobId": "o1"});
    block_on(consume(
        &*iso,
        Kind::Onboarding,
        &readers(&iso),
        payload.as_object().unwrap(),
    ))
    .expect("ran");
    let rec = record(&iso, "onboarding", "o1");
    assert_eq!(rec["status"], "completed", "{rec}");
    assert_eq!(rec["persisted"], true);
    assert!(rec.get("persistError").is_none());
    let r = &rec["result"];
    assert_eq!(
        r["businessProfile"],
        json!({"name": "Acme", "services": ["bread"]})
    );
    assert_eq!(
        (r["confidence"].clone(), r["sourcesUsed"].clone()),
        (json!(1.0), json!(["website"]))
    );
    assert!(
        r["notes"]
            .to_string()
            .contains("Google Business Profile: not configured"),
        "{r}"
    );
    assert_eq!(
        iso.host()
            .kv
            .ttls
            .borrow()
            .get("personalization:onboarding:o1"),
        Some(&Some(1800))
    );
    let seen: Vec<String> = iso
        .host()
        .fetch
        .seen
        .borrow()
        .iter()
        .map(|(u, _)| u.clone())
        .collect();
    assert!(seen.contains(&"https://acme.test/about".to_owned()));
    assert!(seen
        .iter()
        .any(|u| u.ends_with("/api/workspaces/ws-1/business-profile")));
}

#[test]
fn onboarding_records_a_refused_profile_write_and_bad_model_json() {
    let iso = iso();
    model_says(&iso, "{\"businessProfile\": {\"name\": \"Acme\"}}");
    iso.host().route(
        &format!("{PARIS}/api/workspaces/ws-2/business-profile"),
        Canned {
            status: 401,
            content_type: "application/json".into(),
            location: None,
            body: b"{\"error\":\"AUTH_REQUIRED\"}".to_vec(),
        },
    );
    let payload = json!({"grant": grant("agent.personalization.onboarding.v1", anon()), "workspaceId": "ws-2",
        "url": "acme.test", "jobId": "o2"});
    block_on(consume(
        &*iso,
        Kind::Onboarding,
        &readers(&iso),
        payload.as_object().unwrap(),
    ))
    .expect("ran");
    let rec = record(&iso, "onboarding", "o2");
    assert_eq!(
        (rec["persisted"].clone(), rec["persistError"].clone()),
        (json!(false), json!("{\"error\":\"AUTH_REQUIRED\"}"))
    );

    model_says(&iso, "I cannot help with that");
    let payload = json!({"grant": grant("agent.personalization.onboarding.v1", anon()), "workspaceId": "ws-2",
        "url": "acme.test", "jobId": "o3"});
    block_on(consume(
        &*iso,
        Kind::Onboarding,
        &readers(&iso),
        payload.as_object().unwrap(),
    ))
    .expect("ran");
    let rec = record(&iso, "onboarding", "o3");
    assert_eq!(
        (rec["status"].clone(), rec["error"].clone()),
        (
            json!("failed"),
            json!({"message": "Model did not return valid JSON"})
        )
    );
}

#[test]
fn a_refused_queue_command_names_no_grant() {
    let iso = iso();
    let token = grant("agent.personalization.preview.v1", anon());
    let payload = json!({"grant": token, "workspaceId": "ws"});
    let e = block_on(consume(
        &*iso,
        Kind::Onboarding,
        &readers(&iso),
        payload.as_object().unwrap(),
    ));
    match e {
        Err(ConsumeError::Reject(m)) => {
            assert!(
                m.contains("Missing workspaceId or url") && !m.contains(&token),
                "{m}"
            )
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}
