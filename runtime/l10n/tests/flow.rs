//! The l10n.instance.v1 job flow, /v1/l10n/plan and /v1/l10n/translate over
//! in-memory fakes of the io traits.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use futures_executor::block_on;
use serde_json::{json, Value};
use sf_l10n::allowlist::{build_snapshot, parse_localization_file};
use sf_l10n::error::{IoFailure, L10nError};
use sf_l10n::flow::run_job;
use sf_l10n::io::{L10nIo, L10nSource, ModelCall, ModelReply, Reply, TranslateIo, Usage};
use sf_l10n::job::{parse_job, L10nJob};
use sf_l10n::plan::{parse_plan_request, plan};
use sf_l10n::report::JobStatus;
use sf_l10n::translate::translate;

const GRANT: &str = "v1.eyJzZWNyZXQiOnRydWV9.c2lnbmF0dXJl";

type Responder = Box<dyn Fn(&ModelCall, usize) -> Result<ModelReply, L10nError>>;

struct Fake {
    instance: Result<Reply, IoFailure>,
    localization: Reply,
    overlay: Reply,
    put_reply: Reply,
    respond: Responder,
    kv: RefCell<HashMap<String, String>>,
    tokyo_gets: Cell<usize>,
    calls: RefCell<Vec<ModelCall>>,
    reports: RefCell<Vec<Value>>,
    logs: RefCell<Vec<(String, Value)>>,
    puts: RefCell<Vec<Value>>,
    clock: Cell<u64>,
}

fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        body: body.into(),
    }
}

fn usage() -> Usage {
    Usage {
        provider: "deepseek".into(),
        model: "deepseek-chat".into(),
        prompt_tokens: 10,
        completion_tokens: 5,
        latency_ms: 7,
        cost_usd: None,
    }
}

/// The items a call asked for: the JSON after the prompt's blank line.
fn asked(call: &ModelCall) -> Vec<Value> {
    let json = call.user.split_once("\n\n").map(|x| x.1).unwrap_or("[]");
    serde_json::from_str::<Vec<Value>>(json).unwrap_or_default()
}

/// A model that prefixes every value with `FR:` (placeholders survive).
fn echo(call: &ModelCall, _n: usize) -> Result<ModelReply, L10nError> {
    let out: Vec<Value> = asked(call)
        .iter()
        .map(|i| json!({"path": i["path"], "value": format!("FR:{}", i["value"].as_str().unwrap_or(""))}))
        .collect();
    Ok(ModelReply {
        content: Value::Array(out).to_string(),
        usage: usage(),
    })
}

fn config() -> Value {
    json!({
        "title": "Frequently asked questions",
        "cta": {"href": "https://example.com", "label": "Contact us"},
        "intro": "Read our <a href=\"/terms\">terms</a> first.",
        "items": [{"q": "What is it?", "a": "A <b>widget</b>."}, {"q": "Price?", "a": "42"}],
    })
}

const LOCALIZATION: &str = r#"{"v":1,"paths":[{"path":"title"},{"path":"cta.label"},{"path":"cta.href"},{"path":"intro","type":"richtext"},{"path":"items.*.q"},{"path":"items.*.a","type":"richtext"}]}"#;

fn fingerprint_of(config: &Value) -> String {
    let allowlist = parse_localization_file(LOCALIZATION).unwrap_or_default();
    sf_l10n::base_fingerprint(&Value::Object(build_snapshot(config, &allowlist)))
}

impl Fake {
    fn new(respond: Responder) -> Self {
        Fake {
            instance: Ok(reply(
                200,
                json!({"publicId": "wgt_1", "widgetType": "faq", "config": config(), "updatedAt": "2026-02-01T00:00:00.000Z"})
                    .to_string(),
            )),
            localization: reply(200, LOCALIZATION),
            overlay: reply(404, "{}"),
            put_reply: reply(200, "{}"),
            respond,
            kv: RefCell::default(),
            tokyo_gets: Cell::new(0),
            calls: RefCell::default(),
            reports: RefCell::default(),
            logs: RefCell::default(),
            puts: RefCell::default(),
            clock: Cell::new(1_772_150_400_000),
        }
    }

    fn statuses(&self) -> Vec<String> {
        self.reports
            .borrow()
            .iter()
            .map(|r| r["status"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// Everything the job wrote, as text: must never hold the grant.
    fn written(&self) -> String {
        let mut all = String::new();
        for (k, v) in self.logs.borrow().iter() {
            all.push_str(k);
            all.push_str(&v.to_string());
        }
        for r in self.reports.borrow().iter() {
            all.push_str(&r.to_string());
        }
        for p in self.puts.borrow().iter() {
            all.push_str(&p.to_string());
        }
        all
    }
}

impl L10nSource for Fake {
    async fn get_instance(&self, ws: &str, pid: &str) -> Result<Reply, IoFailure> {
        assert_eq!((ws, pid), ("ws_1", "wgt_1"));
        self.instance.clone()
    }
    async fn get_localization(&self, widget_type: &str) -> Result<Reply, IoFailure> {
        assert_eq!(widget_type, "faq");
        self.tokyo_gets.set(self.tokyo_gets.get() + 1);
        Ok(self.localization.clone())
    }
    async fn kv_get(&self, key: &str) -> Result<Option<String>, IoFailure> {
        Ok(self.kv.borrow().get(key).cloned())
    }
    async fn kv_put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), IoFailure> {
        assert_eq!(ttl_s, 3600);
        self.kv
            .borrow_mut()
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

impl L10nIo for Fake {
    async fn get_overlay(&self, _ws: &str, _pid: &str, locale: &str) -> Result<Reply, IoFailure> {
        assert_eq!(locale, "fr-fr");
        Ok(self.overlay.clone())
    }
    async fn put_overlay(
        &self,
        _ws: &str,
        _pid: &str,
        _locale: &str,
        body: &str,
    ) -> Result<Reply, IoFailure> {
        self.puts
            .borrow_mut()
            .push(serde_json::from_str(body).unwrap_or(Value::Null));
        Ok(self.put_reply.clone())
    }
    async fn call_model(&self, call: &ModelCall) -> Result<ModelReply, L10nError> {
        let n = self.calls.borrow().len();
        self.calls.borrow_mut().push(call.clone());
        (self.respond)(call, n)
    }
    async fn post_report(&self, body: &str) -> Result<(), IoFailure> {
        self.reports
            .borrow_mut()
            .push(serde_json::from_str(body).unwrap_or(Value::Null));
        Ok(())
    }
    async fn put_log(&self, key: &str, body: &str) -> Result<(), IoFailure> {
        self.logs.borrow_mut().push((
            key.to_owned(),
            serde_json::from_str(body).unwrap_or(Value::Null),
        ));
        Ok(())
    }
    fn now_ms(&self) -> u64 {
        self.clock.set(self.clock.get() + 1);
        self.clock.get()
    }
}

fn job_with(extra: Value) -> L10nJob {
    let mut j = json!({"v": 2, "agentId": "l10n.instance.v1", "grant": GRANT, "publicId": "wgt_1",
        "widgetType": "faq", "locale": "FR_fr", "baseFingerprint": fingerprint_of(&config()),
        "baseUpdatedAt": null, "kind": "curated", "workspaceId": "ws_1", "envStage": "local"});
    if let (Value::Object(m), Value::Object(e)) = (&mut j, extra) {
        m.extend(e);
    }
    parse_job(&j).expect("valid job")
}

#[test]
fn translates_merges_and_reports_once() {
    let mut fake = Fake::new(Box::new(echo));
    fake.overlay = reply(
        200,
        json!({"baseFingerprint": "old", "ops": [
            {"op": "set", "path": "title", "value": "ancien"},
            {"op": "set", "path": "removed.path", "value": "x"}]})
        .to_string(),
    );
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(out.status, JobStatus::Succeeded, "{out:?}");
    assert_eq!(fake.statuses(), vec!["running", "succeeded"]);
    let puts = fake.puts.borrow();
    assert_eq!(puts.len(), 1);
    let ops: Vec<(String, String)> = puts[0]["ops"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["path"].as_str().unwrap_or("").into(),
                o["value"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let expect = |p: &str, v: &str| (p.to_owned(), v.to_owned());
    assert_eq!(
        ops,
        vec![
            expect("title", "FR:Frequently asked questions"),
            expect("cta.href", "https://example.com"),
            expect("items.1.a", "42"),
            expect("cta.label", "FR:Contact us"),
            expect("intro", "FR:Read our <a href=\"/terms\">terms</a> first."),
            expect("items.0.q", "FR:What is it?"),
            expect("items.1.q", "FR:Price?"),
            expect("items.0.a", "FR:A <b>widget</b>."),
        ]
    );
    assert_eq!(puts[0]["source"], "agent");
    assert_eq!(puts[0]["baseUpdatedAt"], "2026-02-01T00:00:00.000Z");
    // Richtext went to the model masked.
    let calls = fake.calls.borrow();
    assert_eq!(calls.len(), 1);
    assert!(calls[0]
        .user
        .contains("{{__CK_L10N_TAG_0__}}terms{{__CK_L10N_TAG_1__}}"));
    assert!(calls[0].counts_against_grant);
    assert_eq!((calls[0].max_tokens, calls[0].timeout_ms), (900, 35_000));
    let logs = fake.logs.borrow();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].1["status"], "ok");
    assert_eq!(logs[0].1["opsCount"], 8);
    assert_eq!(logs[0].1["promptVersion"], "l10n.instance.v1@2026-02-13.2");
    assert!(logs[0]
        .0
        .starts_with(&format!("l10n/wgt_1/FR_fr/{}.", fingerprint_of(&config()))));
    assert!(!fake.written().contains(GRANT));
    assert!(fake.written().contains("[redacted]"));
    let report = &fake.reports.borrow()[1];
    assert_eq!(report["layerKey"], "fr-fr");
    assert_eq!(report["error"], Value::Null);
}

#[test]
fn many_batches_count_once_against_the_grant() {
    let mut cfg = json!({"items": []});
    for i in 0..170 {
        if let Some(items) = cfg["items"].as_array_mut() {
            items.push(json!({"q": format!("Question number {i}")}));
        }
    }
    let mut fake = Fake::new(Box::new(echo));
    fake.instance = Ok(reply(
        200,
        json!({"widgetType": "faq", "config": cfg}).to_string(),
    ));
    let fp = fingerprint_of(&cfg);
    let out = block_on(run_job(&fake, &job_with(json!({"baseFingerprint": fp}))));
    assert_eq!(out.status, JobStatus::Succeeded, "{out:?}");
    let flags: Vec<bool> = fake
        .calls
        .borrow()
        .iter()
        .map(|c| c.counts_against_grant)
        .collect();
    assert_eq!(flags, vec![true, false, false]);
    assert_eq!(out.ops_count, Some(170));
    assert_eq!(out.usage.map(|u| u.prompt_tokens), Some(30));
}

#[test]
fn paris_failure_is_reported_failed_once() {
    let mut fake = Fake::new(Box::new(echo));
    fake.instance = Ok(reply(500, "boom"));
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(out.status, JobStatus::Failed);
    assert_eq!(
        out.reason.as_deref(),
        Some("Failed to load instance (500) boom")
    );
    assert_eq!(fake.statuses(), vec!["failed"]);
    assert_eq!(
        fake.reports.borrow()[0]["error"],
        "Failed to load instance (500) boom"
    );
    assert_eq!(fake.logs.borrow().len(), 1);
    assert_eq!(fake.logs.borrow()[0].1["status"], "failed");
    assert!(fake.calls.borrow().is_empty());
    assert!(fake.puts.borrow().is_empty());
    assert!(!fake.written().contains(GRANT));
}

#[test]
fn network_failure_keeps_its_message() {
    let mut fake = Fake::new(Box::new(echo));
    fake.instance = Err(IoFailure::Network("connection refused".into()));
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(
        (out.status, out.reason.as_deref()),
        (JobStatus::Failed, Some("connection refused"))
    );
}

#[test]
fn broken_model_json_fails_without_writing_the_overlay() {
    let fake = Fake::new(Box::new(|_, _| {
        Ok(ModelReply {
            content: "Sure! here you go: [{\"path\": \"title\", ".into(),
            usage: usage(),
        })
    }));
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(out.status, JobStatus::Failed);
    assert_eq!(out.reason.as_deref(), Some("Invalid JSON response"));
    assert_eq!(fake.statuses(), vec!["running", "failed"]);
    assert_eq!(fake.logs.borrow().len(), 1);
    assert_eq!(fake.logs.borrow()[0].1["reason"], "Invalid JSON response");
    assert!(fake.puts.borrow().is_empty());
}

#[test]
fn model_budget_error_is_the_reason() {
    let fake = Fake::new(Box::new(|_, _| {
        Err(L10nError::budget("Grant request budget exceeded"))
    }));
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(out.reason.as_deref(), Some("Grant request budget exceeded"));
    assert_eq!(fake.statuses(), vec!["running", "failed"]);
}

#[test]
fn richtext_failing_safety_falls_back_to_segments() {
    // First call: swap the tag placeholders of `items.0.a` (passes the
    // placeholder multiset check, fails the tag sequence after unmasking).
    let fake = Fake::new(Box::new(|call, n| {
        if n > 0 {
            return echo(call, n);
        }
        let out: Vec<Value> = asked(call)
            .iter()
            .map(|i| {
                let v = i["value"].as_str().unwrap_or("");
                let v = if i["path"] == "items.0.a" {
                    "{{__CK_L10N_TAG_1__}}Un widget{{__CK_L10N_TAG_0__}}.".to_owned()
                } else {
                    format!("FR:{v}")
                };
                json!({"path": i["path"], "value": v})
            })
            .collect();
        Ok(ModelReply {
            content: Value::Array(out).to_string(),
            usage: usage(),
        })
    }));
    let out = block_on(run_job(
        &fake,
        &job_with(json!({"changedPaths": ["items.*.a"]})),
    ));
    assert_eq!(out.status, JobStatus::Succeeded, "{out:?}");
    assert_eq!(out.richtext_fallback_paths, vec!["items.0.a".to_owned()]);
    let calls = fake.calls.borrow();
    assert_eq!(calls.len(), 2);
    assert!(!calls[1].counts_against_grant);
    assert!(calls[1].user.contains("items.0.a::__segment__:0"));
    let puts = fake.puts.borrow();
    let ops = puts[0]["ops"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1]["path"], "items.0.a");
    // The trailing "." has no letter: copied, not sent.
    assert_eq!(ops[1]["value"], "FR:A <b>FR:widget</b>.");
    assert_eq!(
        fake.logs.borrow()[0].1["richtextFallbackPaths"],
        json!(["items.0.a"])
    );
}

#[test]
fn stale_and_invalid_locale_are_superseded_without_work() {
    let fake = Fake::new(Box::new(echo));
    let out = block_on(run_job(
        &fake,
        &job_with(json!({"baseFingerprint": "not-current"})),
    ));
    assert_eq!(
        (out.status, out.reason.as_deref()),
        (JobStatus::Superseded, Some("stale_instance"))
    );
    assert_eq!(fake.statuses(), vec!["superseded"]);
    assert_eq!(
        fake.reports.borrow()[0]["baseFingerprint"],
        fingerprint_of(&config())
    );
    assert!(fake.calls.borrow().is_empty() && fake.puts.borrow().is_empty());

    let fake = Fake::new(Box::new(echo));
    let out = block_on(run_job(&fake, &job_with(json!({"locale": "not a locale"}))));
    assert_eq!(out.reason.as_deref(), Some("invalid_locale"));
    assert_eq!(fake.reports.borrow()[0]["layerKey"], "not a locale");
}

#[test]
fn missing_workspace_is_superseded() {
    let fake = Fake::new(Box::new(echo));
    let out = block_on(run_job(&fake, &job_with(json!({"workspaceId": null}))));
    assert_eq!((out.status, out.reported), (JobStatus::Superseded, true));
    assert_eq!(fake.reports.borrow()[0]["error"], "missing_workspace");
    assert_eq!(fake.logs.borrow().len(), 1);

    let fake = Fake::new(Box::new(echo));
    let v1 = parse_job(
        &json!({"v": 1, "agentId": "l10n.instance.v1", "grant": GRANT, "publicId": "wgt_1",
        "widgetType": "faq", "locale": "fr", "baseUpdatedAt": "2026-01-01", "kind": "user"}),
    )
    .expect("v1 job");
    let out = block_on(run_job(&fake, &v1));
    assert!(!out.reported);
    assert!(fake.reports.borrow().is_empty());
    assert!(fake.logs.borrow()[0]
        .0
        .starts_with("l10n/wgt_1/fr/2026-01-01."));
}

#[test]
fn already_localized_and_fingerprint_mismatch_on_write() {
    let mut fake = Fake::new(Box::new(echo));
    fake.overlay = reply(
        200,
        json!({"baseFingerprint": fingerprint_of(&config()), "ops": []}).to_string(),
    );
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(
        (out.status, out.reason.as_deref()),
        (JobStatus::Succeeded, Some("already_localized"))
    );
    assert!(fake.calls.borrow().is_empty());

    let mut fake = Fake::new(Box::new(echo));
    fake.put_reply = reply(409, r#"{"error":{"code":"FINGERPRINT_MISMATCH"}}"#);
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(
        (out.status, out.reason.as_deref()),
        (JobStatus::Superseded, Some("stale_instance"))
    );
    assert_eq!(fake.statuses(), vec!["running", "superseded"]);

    let mut fake = Fake::new(Box::new(echo));
    fake.put_reply = reply(500, r#"{"error":{"code":"DB"}}"#);
    let out = block_on(run_job(&fake, &job_with(json!({}))));
    assert_eq!(out.reason.as_deref(), Some("Overlay write failed (500)"));
}

#[test]
fn oversized_job_is_refused_before_any_model_call() {
    let mut cfg = json!({"items": []});
    for i in 0..801 {
        if let Some(items) = cfg["items"].as_array_mut() {
            items.push(json!({"q": format!("Q{i}")}));
        }
    }
    let mut fake = Fake::new(Box::new(echo));
    fake.instance = Ok(reply(200, json!({"config": cfg}).to_string()));
    let out = block_on(run_job(
        &fake,
        &job_with(json!({"baseFingerprint": fingerprint_of(&cfg)})),
    ));
    assert_eq!(
        out.reason.as_deref(),
        Some("Too many translatable items (801)")
    );
    assert!(fake.calls.borrow().is_empty());
    assert_eq!(fake.statuses(), vec!["running", "failed"]);
}

#[test]
fn plan_fetches_instance_and_caches_the_allowlist() {
    let fake = Fake::new(Box::new(echo));
    let req = parse_plan_request(
        &json!({"widgetType": "faq", "publicId": "wgt_1", "workspaceId": "ws_1"}),
    )
    .expect("valid request");
    let first = block_on(plan(&fake, &req)).expect("plan");
    assert_eq!(first["baseFingerprint"], fingerprint_of(&config()));
    assert_eq!(first["baseUpdatedAt"], "2026-02-01T00:00:00.000Z");
    assert_eq!(first["snapshot"]["items.1.a"], "42");
    let second = block_on(plan(&fake, &req)).expect("plan");
    assert_eq!(first, second);
    assert_eq!(fake.tokyo_gets.get(), 1);
    let with_config =
        parse_plan_request(&json!({"widgetType": "faq", "config": config()})).expect("valid");
    let third = block_on(plan(&fake, &with_config)).expect("plan");
    assert_eq!(third["baseFingerprint"], first["baseFingerprint"]);
    assert_eq!(third["baseUpdatedAt"], Value::Null);
}

struct FakeOpenAi {
    reply: Result<Reply, IoFailure>,
    logs: RefCell<Vec<String>>,
}

impl TranslateIo for FakeOpenAi {
    async fn post_responses(&self, _body: &str) -> Result<Reply, IoFailure> {
        self.reply.clone()
    }
    fn model(&self) -> Option<String> {
        None
    }
    async fn put_log(&self, key: &str, _body: &str) -> Result<(), IoFailure> {
        self.logs.borrow_mut().push(key.to_owned());
        Ok(())
    }
    fn now_ms(&self) -> u64 {
        1000
    }
}

#[test]
fn translate_route_flow() {
    let job = json!({"job": {"v": 1, "surface": "prague", "kind": "system", "chunkKey": "home",
        "blockKind": "hero", "locale": "de", "baseFingerprint": "fp", "baseUpdatedAt": "u",
        "allowlistVersion": 1, "items": [{"path": "h", "type": "string", "value": "Hello"}]}});
    let ok = FakeOpenAi {
        reply: Ok(reply(
            200,
            json!({"output_text": "{\"items\":[{\"path\":\"h\",\"value\":\"Hallo\"}]}"})
                .to_string(),
        )),
        logs: RefCell::default(),
    };
    assert_eq!(
        block_on(translate(&ok, &job)).ok(),
        Some(json!({"v": 1, "locale": "de", "items": [{"path": "h", "value": "Hallo"}]}))
    );
    assert_eq!(
        ok.logs.borrow().as_slice(),
        ["l10n/prague/home/de/u.1000.json"]
    );
    let slow = FakeOpenAi {
        reply: Err(IoFailure::Timeout),
        logs: RefCell::default(),
    };
    let err = block_on(translate(&slow, &job)).err();
    assert_eq!(
        err.map(|e| (e.status, e.message)),
        Some((429, "Execution timeout exceeded".into()))
    );
    let nokey = FakeOpenAi {
        reply: Err(IoFailure::Config("Missing OPENAI_API_KEY".into())),
        logs: RefCell::default(),
    };
    let err = block_on(translate(&nokey, &job)).err();
    assert_eq!(
        err.map(|e| e.to_body()),
        Some(
            json!({"error": {"code": "PROVIDER_ERROR", "provider": "sanfrancisco", "message": "Missing OPENAI_API_KEY"}})
        )
    );
    assert!(slow.logs.borrow().is_empty());
}
