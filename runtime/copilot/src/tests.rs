//! Engine-level tests: the golden set runner (fixtures/copilot/*.jsonl), the
//! CONTRACT 12 widget scenarios, session binding, and the property test that
//! every op the engine returns applies under Bob's rules.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::eval::{
    agent_id, build_input, check_response, fixture_name, parse_cases, roles_for, Case, Tally,
};
use super::testkit::*;
use super::Role;
use sf_core::error::ApiError;

fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/copilot")
}

fn widget(name: &str) -> Value {
    let path = fixtures_dir().join(format!("widgets/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn input(prompt: &str, session: &str, fixture: &str, widget_type: &str) -> Value {
    let w = widget(fixture);
    json!({"prompt": prompt, "widgetType": widget_type, "sessionId": session,
           "currentConfig": w["currentConfig"], "controls": w["controls"]})
}

fn load_cases(file: &str) -> Vec<Case> {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_cases(file, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one case in process with the stubs its spec asks for; returns the
/// HTTP status and `/v1/execute`-shaped body, plus test-only problems.
fn run_case(case: &Case, role: Role, host: &FakeHost, session: &str) -> (u16, Value, Vec<String>) {
    let spec = &case.spec;
    for (url, page) in spec["pages"].as_object().into_iter().flatten() {
        match page {
            Value::String(h) => host.route(url, Canned::html(h)),
            Value::Number(n) => host.route(url, Canned::status(n.as_u64().unwrap_or(500) as u16)),
            other => host.route(
                url,
                Canned::redirect(other["redirect"].as_str().unwrap_or("")),
            ),
        }
    }
    for (url, reason) in spec["blockedFetch"].as_object().into_iter().flatten() {
        host.fetch
            .blocked
            .borrow_mut()
            .insert(url.clone(), reason.as_str().unwrap_or("").to_owned());
    }
    let replies: Vec<&str> = spec["modelReplies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let model = StubModel::with(&replies);
    let max_requests = spec["maxRequests"].as_f64().unwrap_or(2.0);
    let inp = build_input(case, &widget(fixture_name(case)), session);
    let (status, body) = match run_turn_with(host, &model, role, "eval-subject", max_requests, &inp)
    {
        Ok(out) => (
            200,
            json!({"agentId": agent_id(role), "result": out.result, "usage": out.usage}),
        ),
        Err(e) => (e.status, e.to_json()),
    };
    let mut extra = Vec::new();
    if status == 200 && body["result"]["meta"]["dictionaryHash"] != sf_core::policy::DICTIONARY_HASH
    {
        extra.push("meta.dictionaryHash differs from the compiled lexicon".to_owned());
    }
    if let Some(n) = spec["expectModelCalls"].as_u64() {
        let calls = model.calls.borrow().len() as u64;
        if calls != n {
            extra.push(format!("model calls {calls} != {n}"));
        }
    }
    (status, body, extra)
}

/// Runs every case of `file` under its roles; cases sharing a `session`
/// share a host and a session id, in file order (multi-turn flows).
fn run_golden(file: &str) -> Tally {
    let mut hosts: HashMap<String, FakeHost> = HashMap::new();
    let mut tally = Tally::default();
    for case in load_cases(file) {
        for role in roles_for(&case) {
            let session = case.spec["session"].as_str().map_or_else(
                || format!("eval_{file}_{}_{}", case.line, role.name()),
                str::to_owned,
            );
            let host = hosts
                .entry(format!("{session}/{}", role.name()))
                .or_insert_with(|| host().with_faq_allowlist());
            let (status, body, mut problems) = run_case(&case, role, host, &session);
            problems.splice(0..0, check_response(&case, status, &body));
            tally.record(
                &format!("{file}:{} {} [{}]", case.line, case.name, role.name()),
                &body,
                problems,
            );
        }
    }
    tally
}

#[test]
fn golden_set_passes_with_contract_role_split() {
    let tally = run_golden("prompts.jsonl");
    println!("golden set:\n{}", tally.render());
    assert_eq!(tally.total, 36, "33 cases, 3 of them under both roles");
    assert!(
        tally.failures.is_empty(),
        "golden failures:\n{}",
        tally.render()
    );
    assert_eq!(tally.passed(), 36, "{}", tally.render());
}

#[test]
fn extra_cases_pass() {
    let cases = load_cases("extra.jsonl");
    assert!(
        cases.len() >= 40,
        "issue 6 asks for at least 40 more cases, found {}",
        cases.len()
    );
    let tally = run_golden("extra.jsonl");
    println!("extra cases:\n{}", tally.render());
    assert!(
        tally.failures.is_empty(),
        "extra failures:\n{}",
        tally.render()
    );
}

// ------------------------------------------------------------------ CONTRACT 12 scenarios

fn cs(
    host: &FakeHost,
    model: &StubModel,
    prompt: &str,
    session: &str,
) -> Result<super::CopilotOutput, ApiError> {
    run_turn(
        host,
        model,
        Role::Cs,
        "user:1",
        &input(prompt, session, "faq-bob", "faq"),
    )
}

fn ok(r: Result<super::CopilotOutput, ApiError>) -> super::CopilotOutput {
    r.unwrap_or_else(|e| panic!("unexpected error {e}"))
}

#[test]
fn scenario_set_title_keeps_ops_cta_and_usage() {
    let host = host();
    host.clock.step.set(3);
    let model = StubModel::with(&[
        r#"{"message":"Title updated.","ops":[{"op":"set","path":"title","value":"Hello FAQ"}],"cta":{"text":"Upgrade","action":"upgrade"}}"#,
    ]);
    let out = ok(cs(&host, &model, "Change the title to Hello FAQ", "s1"));
    let meta = crate::meta::meta(
        Role::Cs,
        super::meta::Intent::Edit,
        super::meta::Outcome::OpsApplied,
        None,
    );
    assert_eq!(
        out.result,
        json!({"message":"Title updated.","ops":[{"op":"set","path":"title","value":"Hello FAQ"}],
               "cta":{"text":"Upgrade","action":"upgrade"},"meta": meta})
    );
    assert_eq!(out.usage["provider"], "deepseek");
    assert_eq!(out.usage["model"], "stub-model");
    assert_eq!(
        (
            out.usage["promptTokens"].as_u64(),
            out.usage["completionTokens"].as_u64()
        ),
        (Some(11), Some(7))
    );
    assert!(out.usage["latencyMs"].as_u64().is_some_and(|l| l > 0));
    let calls = model.calls.borrow();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].temperature, 0.2);
    assert!(calls[0].messages[1].1.contains("EDITABLE_CONTROLS:"));
    let session: Value =
        serde_json::from_str(&host.kv.map.borrow()["copilot:cs:session:s1"]).unwrap_or_default();
    assert_eq!(session["successfulEdits"], 1);
    assert_eq!(
        session["turns"],
        json!([{"role":"user","content":"Change the title to Hello FAQ"},{"role":"assistant","content":"Title updated."}])
    );
    assert_eq!(host.kv.ttls.borrow()["copilot:cs:session:s1"], Some(86_400));
}

#[test]
fn scenario_fenced_json() {
    let host = host();
    let model = StubModel::with(&["```json\n{\"message\":\"ok\",\"ops\":[{\"op\":\"set\",\"path\":\"behavior.multiOpen\",\"value\":\"true\"}]}\n```"]);
    let out = ok(cs(&host, &model, "Turn on multi-open", "s1"));
    assert_eq!(
        out.result["ops"],
        json!([{"op":"set","path":"behavior.multiOpen","value":"true"}])
    );
    assert_eq!(out.result["meta"]["outcome"], "ops_applied");
}

#[test]
fn scenario_two_scopes_then_pick_then_apply_all() {
    let host = host();
    let two = r##"{"message":"Done","ops":[{"op":"set","path":"stage.background","value":"#000"},{"op":"set","path":"pod.background","value":"#fff"}]}"##;
    let model = StubModel::with(&[two, two]);
    let out = ok(cs(
        &host,
        &model,
        "Make the stage black and the pod white",
        "s1",
    ));
    assert_eq!(out.result.get("ops"), None);
    assert_eq!(
        (
            out.result["meta"]["intent"].as_str(),
            out.result["meta"]["outcome"].as_str()
        ),
        (Some("clarify"), Some("no_ops"))
    );
    assert!(out.result["message"]
        .as_str()
        .unwrap_or("")
        .contains("stage, pod"));
    let pick = ok(cs(&host, &model, "stage", "s1"));
    assert_eq!(pick.result["message"], "Ok — applying to stage only.");
    assert_eq!(
        pick.result["ops"],
        json!([{"op":"set","path":"stage.background","value":"#000"}])
    );
    assert_eq!(pick.result["meta"]["outcome"], "ops_applied");
    assert_eq!(
        pick.usage,
        json!({"provider":"local","model":"policy_scope_pick","promptTokens":0,"completionTokens":0,"latencyMs":0})
    );
    // A second round, confirmed for the whole widget.
    ok(cs(
        &host,
        &model,
        "Make the stage black and the pod white",
        "s1",
    ));
    let all = ok(cs(&host, &model, "Apply across widget", "s1"));
    assert_eq!(
        all.result["message"],
        "Ok — applying across the whole widget."
    );
    assert_eq!(all.result["ops"].as_array().map(Vec::len), Some(2));
    assert_eq!(all.usage["model"], "policy_confirm_all");
    assert_eq!(model.calls.borrow().len(), 2);
}

#[test]
fn pending_ops_are_revalidated_before_replay() {
    let host = host();
    let two = r##"{"message":"Done","ops":[{"op":"set","path":"stage.background","value":"#000"},{"op":"set","path":"pod.radius","value":12}]}"##;
    let model = StubModel::with(&[two]);
    ok(cs(&host, &model, "Darker stage, rounder pod", "s1"));
    // The widget changed: pod.radius is no longer an editable control.
    let mut inp = input("apply across widget", "s1", "faq-bob", "faq");
    if let Some(a) = inp["controls"].as_array_mut() {
        a.retain(|c| c["path"] != "pod.radius");
    }
    let out = ok(run_turn(&host, &model, Role::Cs, "user:1", &inp));
    assert_eq!(
        out.result["ops"],
        json!([{"op":"set","path":"stage.background","value":"#000"}])
    );
    // Nothing valid left at all: no ops, an explanation.
    ok(cs(
        &host,
        &StubModel::with(&[two]),
        "Darker stage, rounder pod",
        "s2",
    ));
    let mut inp = input("apply across widget", "s2", "faq-bob", "faq");
    inp["controls"] = json!([]);
    let out = ok(run_turn(&host, &model, Role::Cs, "user:1", &inp));
    assert_eq!(out.result.get("ops"), None);
    assert_eq!(out.result["meta"]["outcome"], "no_ops");
}

#[test]
fn scenario_repair_then_invalid_ops() {
    let host = host();
    let bad = r#"{"message":"ok","ops":[{"op":"set","path":"nope.path","value":"x"}]}"#;
    let model = StubModel::with(&[bad, bad]);
    let out = ok(cs(&host, &model, "Change the nope", "s1"));
    let calls = model.calls.borrow();
    assert_eq!(calls.len(), 2, "one repair call");
    assert_eq!(calls[1].temperature, 0.0);
    assert_eq!(calls[1].max_tokens, Some(160));
    assert_eq!(calls[1].messages.len(), 2, "no history in repair");
    assert!(calls[1].messages[1]
        .1
        .contains("nope.path: Unknown path (not in editable controls)"));
    assert!(calls[1]
        .timeout_ms
        .is_some_and(|t| (1000..=4000).contains(&t)));
    // Unlike the original (CONTRACT 15.11) CS reports invalid_ops honestly.
    assert_eq!(out.result["meta"]["outcome"], "invalid_ops");
    assert_eq!(out.result["meta"]["intent"], "clarify");
    assert!(out.result["message"]
        .as_str()
        .unwrap_or("")
        .contains("Details:\n- nope.path: Unknown path"));
    assert_eq!(out.result.get("ops"), None);
    assert_eq!(
        (
            out.usage["promptTokens"].as_u64(),
            out.usage["completionTokens"].as_u64()
        ),
        (Some(22), Some(14))
    );
}

#[test]
fn repair_is_skipped_without_budget_or_time() {
    let host = host();
    let bad = r#"{"message":"ok","ops":[{"op":"set","path":"nope","value":"x"}]}"#;
    let model = StubModel::with(&[bad, bad]);
    ok(run_turn_with(
        &host,
        &model,
        Role::Cs,
        "u",
        1.0,
        &input("x y", "s", "faq-bob", "faq"),
    ));
    assert_eq!(model.calls.borrow().len(), 1, "maxRequests 1: no repair");
    let model = StubModel::with(&[bad, bad]);
    host.clock.step.set(30_000);
    ok(run_turn(
        &host,
        &model,
        Role::Cs,
        "u",
        &input("x y", "s2", "faq-bob", "faq"),
    ));
    assert_eq!(
        model.calls.borrow().len(),
        1,
        "less than 4 s left: no repair"
    );
}

#[test]
fn scenario_plain_text_and_garbage() {
    let host = host();
    let model = StubModel::with(&["Sure, I changed it."]);
    let out = ok(run_turn_with(
        &host,
        &model,
        Role::Cs,
        "u",
        1.0,
        &input("Make it nicer", "s1", "faq-bob", "faq"),
    ));
    assert_eq!(out.result["message"], "Sure, I changed it.");
    assert_eq!(
        (
            out.result["meta"]["intent"].as_str(),
            out.result["meta"]["outcome"].as_str()
        ),
        (Some("clarify"), Some("no_ops"))
    );
    let model = StubModel::with(&["<html><body><h1>502 Bad Gateway</h1></body></html>"]);
    let out = ok(run_turn_with(
        &host,
        &model,
        Role::Cs,
        "u",
        1.0,
        &input("Make it nicer", "s2", "faq-bob", "faq"),
    ));
    assert_eq!(out.result["message"], super::messages::MODEL_UNREADABLE);
    let model = StubModel::with(&[r#"{"message":"<div>Done <b>now</b></div>"}"#]);
    let out = ok(run_turn_with(
        &host,
        &model,
        Role::Cs,
        "u",
        1.0,
        &input("Make it nicer", "s3", "faq-bob", "faq"),
    ));
    assert_eq!(out.result["message"], "Done now");
}

#[test]
fn scenario_link_filter() {
    let host = host();
    let model = StubModel::with(&[
        r#"{"message":"stub model reply","ops":[{"op":"set","path":"cta.url","value":"https://evil.example"}]}"#,
    ]);
    let out = ok(cs(&host, &model, "Make the button friendlier", "s1"));
    assert_eq!(out.result.get("ops"), None);
    // Honest meta (the original said edit/ops_applied here, CONTRACT 15.11).
    assert_eq!(out.result["meta"]["outcome"], "no_ops");
    let model = StubModel::with(&[
        r#"{"message":"ok","ops":[{"op":"set","path":"cta.url","value":"https://example.com/help"}]}"#,
    ]);
    let out = ok(cs(
        &host,
        &model,
        "Set the button link to our support page",
        "s2",
    ));
    assert_eq!(out.result["ops"][0]["path"], "cta.url");
}

#[test]
fn scenario_control_dump_is_replaced() {
    let host = host();
    let model = StubModel::with(&[
        r#"{"message":"Please provide the editable controls list so I can help."}"#,
    ]);
    let out = ok(cs(&host, &model, "Make it pop", "s1"));
    assert_eq!(out.result["message"], super::messages::CONTROL_DUMP);
    assert_eq!(out.result["meta"]["outcome"], "no_ops");
}

#[test]
fn scenario_non_object_and_missing_message_are_502() {
    let host = host();
    let err = cs(&host, &StubModel::with(&["[1,2,3]"]), "Make it pop", "s1").unwrap_err();
    assert_eq!(
        err.to_json(),
        json!({"error":{"code":"PROVIDER_ERROR","provider":"deepseek","message":"Model output must be an object"}})
    );
    assert_eq!(err.status, 502);
    let err = cs(
        &host,
        &StubModel::with(&[r#"{"ops":[]}"#]),
        "Make it pop",
        "s1",
    )
    .unwrap_err();
    assert_eq!(
        err.to_json(),
        json!({"error":{"code":"PROVIDER_ERROR","provider":"deepseek","message":"Model output missing message"}})
    );
    assert!(
        !host.kv.map.borrow().contains_key("copilot:cs:session:s1"),
        "no session write on errors"
    );
}

#[test]
fn scenario_sdr_url_consent_flow() {
    let host = host().with_faq_allowlist();
    host.route(
        "https://example.com/faq",
        Canned::html("<html><title>Acme FAQ</title><body><p>We ship rockets.</p></body></html>"),
    );
    let reply = r#"{"message":"Drafted.","ops":[{"op":"set","path":"sections.0.faqs.0.answer","value":"We ship rockets."}]}"#;
    let model = StubModel::with(&[reply]);
    let sdr = |p: &str| {
        ok(run_turn(
            &host,
            &model,
            Role::Sdr,
            "anon:1",
            &input(p, "s1", "faq-bob", "faq"),
        ))
    };
    let first = sdr("Update my FAQs based on https://example.com/faq");
    assert_eq!(first.usage["model"], "consent_request");
    assert_eq!(
        (
            first.result["meta"]["language"].as_str(),
            first.result["meta"]["languageConfidence"].as_f64()
        ),
        (Some("en"), Some(0.5))
    );
    assert!(
        host.fetch.seen.borrow().is_empty(),
        "nothing is read before consent"
    );
    let maybe = sdr("hmm");
    assert_eq!(
        (
            maybe.result["message"].as_str(),
            maybe.usage["model"].as_str()
        ),
        (Some("Yes or No?"), Some("consent_ambiguous"))
    );
    let yes = sdr("yes");
    assert_eq!(
        yes.result["ops"],
        json!([{"op":"set","path":"sections.0.faqs.0.answer","value":"We ship rockets."}])
    );
    assert_eq!(yes.result["meta"]["promptRole"], "sdr");
    let seen = host.fetch.seen.borrow();
    assert_eq!(
        seen[0],
        ("https://example.com/faq".to_owned(), true),
        "page fetch carries PublicOnly"
    );
    assert_eq!(
        seen[1],
        (format!("{TOKYO}/widgets/faq/sdr.allowlist.json"), false)
    );
    let calls = model.calls.borrow();
    let user = &calls[0]
        .messages
        .last()
        .map(|m| m.1.clone())
        .unwrap_or_default();
    assert!(
        user.contains("User request: Update my FAQs based on https://example.com/faq"),
        "{user}"
    );
    assert!(
        user.contains("SOURCE_PAGE_URL: https://example.com/faq\nSOURCE_PAGE_TITLE: Acme FAQ\n")
    );
    assert!(user.contains("<<<UNTRUSTED_PAGE_TEXT\nWe ship rockets.\nUNTRUSTED_PAGE_TEXT>>>"));
    assert!(user.contains("- sections.0.faqs.0.question (question): What is Clickeen?"));
    let session: Value =
        serde_json::from_str(&host.kv.map.borrow()["copilot:sdr:session:s1"]).unwrap_or_default();
    assert_eq!(session["source"]["title"], "Acme FAQ");
    assert_eq!(session.get("pendingConsent"), None);
}

#[test]
fn scenario_sdr_gates_and_language() {
    let host = host().with_faq_allowlist();
    let model = StubModel::default();
    let out = ok(run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input("Rewrite the heading", "s1", "countdown", "countdown"),
    ));
    assert_eq!(out.usage["model"], "sdr_widget_type_gate");
    assert_eq!(
        out.result["cta"],
        json!({"text":"Create a free account","action":"signup"})
    );
    let out = ok(run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input("reply in italian", "s2", "faq", "faq"),
    ));
    assert_eq!(out.usage["model"], "sdr_language_intent");
    assert_eq!(
        (
            out.result["meta"]["language"].as_str(),
            out.result["meta"]["languageConfidence"].as_f64()
        ),
        (Some("it"), Some(0.99))
    );
    assert!(out.result["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("Certo"));
    assert!(model.calls.borrow().is_empty());
}

#[test]
fn sdr_ops_must_be_allowlisted_copy() {
    let host = host().with_faq_allowlist();
    let bad = r##"{"message":"ok","ops":[{"op":"set","path":"stage.background","value":"#000"}]}"##;
    let model = StubModel::with(&[bad, bad]);
    let out = ok(run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input(
            "Rewrite existing FAQs to be friendlier",
            "s1",
            "faq-bob",
            "faq",
        ),
    ));
    assert_eq!(out.result["meta"]["outcome"], "invalid_ops");
    assert!(out.result["message"]
        .as_str()
        .unwrap_or("")
        .contains("stage.background: Path is not an editable copy field"));
}

#[test]
fn sdr_without_allowlist_or_tokyo() {
    let host = host();
    let model = StubModel::default();
    let out = ok(run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input("Rewrite existing FAQs", "s1", "faq-bob", "faq"),
    ));
    assert_eq!(
        out.usage["model"], "missing_allowlist",
        "dev falls back to localization.json, absent here"
    );
    host.vars.0.borrow_mut().remove("TOKYO_BASE_URL");
    let err = run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input("Rewrite existing FAQs", "s2", "faq-bob", "faq"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_json(),
        json!({"error":{"code":"PROVIDER_ERROR","provider":"tokyo","message":"Missing TOKYO_BASE_URL"}})
    );
    host.vars
        .0
        .borrow_mut()
        .insert("TOKYO_BASE_URL".into(), TOKYO.into());
    host.route(
        &format!("{TOKYO}/widgets/faq/sdr.allowlist.json"),
        Canned::json(&json!({"v":2})),
    );
    let err = run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input("Rewrite existing FAQs", "s3", "faq-bob", "faq"),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (502, "Invalid sdr.allowlist.json")
    );
}

#[test]
fn sessions_are_bound_to_the_grant_subject() {
    let host = host();
    let two = r##"{"message":"Done","ops":[{"op":"set","path":"stage.background","value":"#000"},{"op":"set","path":"pod.background","value":"#fff"}]}"##;
    let model = StubModel::with(&[two, r#"{"message":"hi"}"#]);
    ok(run_turn(
        &host,
        &model,
        Role::Cs,
        "user:alice",
        &input("Dark stage and light pod", "shared", "faq-bob", "faq"),
    ));
    let alice_record = host.kv.map.borrow()["copilot:cs:session:shared"].clone();
    // Mallory knows the session id and tries to replay Alice's pending ops.
    let out = ok(run_turn(
        &host,
        &model,
        Role::Cs,
        "user:mallory",
        &input("apply across widget", "shared", "faq-bob", "faq"),
    ));
    assert_eq!(
        out.result.get("ops"),
        None,
        "another subject's pending ops are not visible"
    );
    assert_eq!(
        host.kv.map.borrow()["copilot:cs:session:shared"],
        alice_record,
        "and are not overwritten"
    );
    let alt: Vec<String> = host
        .kv
        .map
        .borrow()
        .keys()
        .filter(|k| k.starts_with("copilot:cs:session:shared:"))
        .cloned()
        .collect();
    assert_eq!(alt.len(), 1, "mallory's own session lives beside it");
    let mallory: Value = serde_json::from_str(&host.kv.map.borrow()[&alt[0]]).unwrap_or_default();
    assert_eq!(mallory["turns"][0]["content"], "apply across widget");
    // Alice still gets her decision.
    let out = ok(run_turn(
        &host,
        &model,
        Role::Cs,
        "user:alice",
        &input("apply across widget", "shared", "faq-bob", "faq"),
    ));
    assert_eq!(out.result["ops"].as_array().map(Vec::len), Some(2));
}

#[test]
fn corrupt_own_session_is_500() {
    let host = host();
    let owner = super::session::owner_tag("u");
    host.kv.map.borrow_mut().insert(
        "copilot:cs:session:s".into(),
        json!({"subjectKey": owner, "turns": 5}).to_string(),
    );
    let err = run_turn(
        &host,
        &StubModel::default(),
        Role::Cs,
        "u",
        &input("What can you do?", "s", "faq", "faq"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_json(),
        json!({"error":{"code":"PROVIDER_ERROR","provider":"sanfrancisco","message":"Session store is corrupted"}})
    );
}

#[test]
fn invalid_input_lists_every_issue() {
    let host = host();
    let err = run_turn(
        &host,
        &StubModel::default(),
        Role::Sdr,
        "u",
        &json!({"prompt":""}),
    )
    .unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(err.issues.len(), 5);
}

#[test]
fn redirects_are_rechecked_and_capped() {
    let host = host();
    host.route(
        "https://a.example/",
        Canned::redirect("http://127.0.0.1/admin"),
    );
    let r = futures_executor::block_on(super::page::fetch_page(
        &host.fetch,
        &host.clock,
        "https://a.example/",
        5000,
    ));
    assert_eq!(r, Err(super::page::PageError::Blocked("private_ip".into())));
    for i in 0..5 {
        host.route(
            &format!("https://r{i}.example/"),
            Canned::redirect(&format!("https://r{}.example/", i + 1)),
        );
    }
    host.route("https://r5.example/", Canned::html("<p>end</p>"));
    let r = futures_executor::block_on(super::page::fetch_page(
        &host.fetch,
        &host.clock,
        "https://r2.example/",
        5000,
    ));
    assert_eq!(r.map(|p| p.text), Ok("end".into()), "three hops are fine");
    let r = futures_executor::block_on(super::page::fetch_page(
        &host.fetch,
        &host.clock,
        "https://r1.example/",
        5000,
    ));
    assert_eq!(
        r,
        Err(super::page::PageError::Failed("too many redirects".into()))
    );
    let mut big = Canned::html(&"x".repeat(800_000));
    big.content_type = "text/plain".into();
    host.route("https://big.example/", big);
    let r = futures_executor::block_on(super::page::fetch_page(
        &host.fetch,
        &host.clock,
        "https://big.example/",
        5000,
    ));
    assert_eq!(
        r.map(|p| (p.text.len(), p.truncated)),
        Ok((super::page::MAX_PAGE_BYTES, true))
    );
    let mut pdf = Canned::html("%PDF");
    pdf.content_type = "application/pdf".into();
    host.route("https://pdf.example/", pdf);
    let r = futures_executor::block_on(super::page::fetch_page(
        &host.fetch,
        &host.clock,
        "https://pdf.example/",
        5000,
    ));
    assert!(matches!(r, Err(super::page::PageError::Failed(m)) if m.contains("application/pdf")));
}

// ------------------------------------------------------------------ property test

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn fixture() -> (Map<String, Value>, Value) {
        let w = widget("faq-bob");
        (
            w["currentConfig"].as_object().cloned().unwrap_or_default(),
            w["controls"].clone(),
        )
    }

    const PATHS: [&str; 22] = [
        "title",
        "behavior.multiOpen",
        "behavior.expand",
        "stage.background",
        "stage.padding",
        "pod.radius",
        "cta.label",
        "sections",
        "sections.0.title",
        "sections.0.faqs",
        "sections.0.faqs.0.question",
        "sections.0.faqs.1.answer",
        "sections.0.faqs.2.question",
        "sections.1.faqs",
        "sections.1.title",
        "__proto__.polluted",
        "sections.0.constructor",
        "nope.path",
        "sections[0].title",
        "title.inner",
        "behavior",
        "pod.radius.x",
    ];

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            (-10i64..120).prop_map(Value::from),
            Just(json!(1.5)),
            Just(json!(null)),
            Just(json!("true")),
            Just(json!("off")),
            Just(json!("12px")),
            Just(json!("wide")),
            Just(json!("all")),
            Just(json!("weekly")),
            Just(json!("")),
            Just(json!("#123456")),
            Just(json!("Hello")),
            Just(json!([])),
            Just(json!({"id":"q9","question":"New?","answer":"Yes."})),
            Just(json!({"question":"no id"})),
        ]
    }

    fn index() -> impl Strategy<Value = Value> {
        prop_oneof![
            (-1i64..4).prop_map(Value::from),
            Just(json!(0.5)),
            Just(json!("1"))
        ]
    }

    fn op() -> impl Strategy<Value = Value> {
        let path = (0..PATHS.len()).prop_map(|i| PATHS[i]);
        prop_oneof![
            (path.clone(), value()).prop_map(|(p, v)| json!({"op":"set","path":p,"value":v})),
            (path.clone(), index(), value())
                .prop_map(|(p, i, v)| json!({"op":"insert","path":p,"index":i,"value":v})),
            (path.clone(), index()).prop_map(|(p, i)| json!({"op":"remove","path":p,"index":i})),
            (path, index(), index())
                .prop_map(|(p, f, t)| json!({"op":"move","path":p,"from":f,"to":t})),
            Just(json!({"op":"delete","path":"title"})),
            Just(json!("not an op")),
        ]
    }

    /// Ops a reasonable model would propose: mostly valid, sometimes not in
    /// sequence (a second remove, a move past the end), so the property is
    /// exercised on lists the engine accepts, not only on rejected ones.
    fn plausible_op() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[A-Za-z ?]{1,20}".prop_map(|t| json!({"op":"set","path":"title","value":t})),
            any::<bool>().prop_map(|b| json!({"op":"set","path":"behavior.multiOpen","value":b})),
            (0i64..60).prop_map(|n| json!({"op":"set","path":"pod.radius","value":n})),
            (0usize..3).prop_map(|i| json!({"op":"set","path":"behavior.expand","value":(["none", "first", "all"])[i]})),
            Just(json!({"op":"set","path":"stage.background","value":"#222222"})),
            ((0usize..3), "[a-z ]{1,30}").prop_map(|(i, t)| json!({"op":"set","path":format!("sections.0.faqs.{i}.answer"),"value":t})),
            (0i64..4).prop_map(|i| json!({"op":"insert","path":"sections.0.faqs","index":i,"value":{"id":format!("n{i}"),"question":"New?","answer":"Yes."}})),
            (0i64..3).prop_map(|i| json!({"op":"remove","path":"sections.0.faqs","index":i})),
            ((0i64..3), (0i64..3)).prop_map(|(f, t)| json!({"op":"move","path":"sections.0.faqs","from":f,"to":t})),
        ]
    }

    fn op_list() -> impl Strategy<Value = Vec<Value>> {
        prop_oneof![
            proptest::collection::vec(op(), 0..6),
            proptest::collection::vec(plausible_op(), 1..5),
        ]
    }

    /// Whatever the model proposes, every op list the engine returns applies
    /// cleanly, under Bob's rules (the independent `apply_ops` in testkit),
    /// to the config it was computed for. Also checks the property is not
    /// vacuous: a fair share of runs must return ops.
    #[test]
    fn returned_ops_apply_under_bobs_rules() {
        use proptest::test_runner::{Config, TestRunner};
        let (config, controls) = fixture();
        let bob_controls = controls.as_array().cloned().unwrap_or_default();
        let mut runner = TestRunner::new(Config {
            cases: 1000,
            failure_persistence: None,
            ..Config::default()
        });
        let returned_count = std::cell::Cell::new(0u32);
        let result = runner.run(&(op_list(), any::<bool>()), |(ops, sdr)| {
            let reply = json!({"message":"ok","ops":ops}).to_string();
            let model = StubModel::with(&[&reply]);
            let host = host().with_faq_allowlist();
            let role = if sdr { Role::Sdr } else { Role::Cs };
            let prompt = if sdr { "Rewrite existing FAQs" } else { "Please adjust the link and the widget" };
            let inp = json!({"prompt":prompt,"widgetType":"faq","sessionId":"p","currentConfig":config,"controls":controls});
            let out = run_turn_with(&host, &model, role, "u", 1.0, &inp)
                .map_err(|e| TestCaseError::fail(format!("engine error {e}")))?;
            let mut outputs = vec![out.result];
            // A held decision replayed with "apply across widget" must hold too.
            let key = format!("copilot:{}:session:p", role.name());
            let pending = host.kv.map.borrow().get(&key).is_some_and(|r| r.contains("\"pendingPolicy\""));
            if pending {
                let confirm = json!({"prompt":"apply across widget","widgetType":"faq","sessionId":"p","currentConfig":config,"controls":controls});
                let out = run_turn_with(&host, &StubModel::default(), role, "u", 1.0, &confirm)
                    .map_err(|e| TestCaseError::fail(format!("engine error on confirm {e}")))?;
                outputs.push(out.result);
            }
            for result in outputs {
                let Some(returned) = result.get("ops").and_then(Value::as_array) else { continue };
                returned_count.set(returned_count.get() + 1);
                prop_assert!(!returned.is_empty());
                let applied = apply_ops(&config, &bob_controls, returned);
                prop_assert!(applied.is_ok(), "ops {returned:?} rejected by Bob: {applied:?}");
                prop_assert_eq!(&result["meta"]["outcome"], "ops_applied");
                if sdr {
                    prop_assert!(returned.iter().all(|o| o["op"] == "set" && o["value"].is_string()));
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        println!(
            "property: {} of 1000 runs returned ops",
            returned_count.get()
        );
        assert!(
            returned_count.get() >= 100,
            "only {} runs returned ops",
            returned_count.get()
        );
    }
}

// ------------------------------------------------------------------ live model (opt-in)

/// Runs scripted edit prompts through the engine against a real
/// OpenAI-compatible server (e.g. SmolLM2 under llama.cpp, see
/// ../shared/notes/local-llm.md). Opt-in: `SF_LIVE_LLM=http://127.0.0.1:PORT
/// cargo test -p sf-runtime --lib copilot::tests::live -- --ignored --nocapture`.
/// Whatever the model says, every answer must be contract-valid and every
/// returned op must apply under Bob's rules; it prints the valid-ops rate
/// and latencies.
mod live {
    use super::*;
    use crate::{CopilotModel, ModelCall, ModelReply};
    use std::io::{Read, Write};

    struct HttpModel {
        addr: String,
    }

    impl HttpModel {
        fn post(&self, body: &str) -> Result<String, String> {
            let mut s = std::net::TcpStream::connect(&self.addr).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(std::time::Duration::from_secs(300)))
                .map_err(|e| e.to_string())?;
            // HTTP/1.0 so the body is not chunked and ends at EOF.
            let req = format!(
                "POST /v1/chat/completions HTTP/1.0\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                self.addr,
                body.len()
            );
            s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
            let mut out = String::new();
            s.read_to_string(&mut out).map_err(|e| e.to_string())?;
            out.split_once("\r\n\r\n")
                .map(|(_, b)| b.to_owned())
                .ok_or_else(|| "no body".to_owned())
        }
    }

    impl CopilotModel for HttpModel {
        async fn complete(&self, req: ModelCall) -> Result<ModelReply, ApiError> {
            let messages: Vec<Value> = req
                .messages
                .iter()
                .map(|(r, c)| json!({"role": r.name(), "content": c}))
                .collect();
            let body = json!({"model":"local","messages":messages,"temperature":req.temperature,
                              "max_tokens": req.max_tokens.unwrap_or(160)});
            let text = self
                .post(&body.to_string())
                .map_err(|e| ApiError::provider(502, "local", e))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|_| ApiError::provider(502, "local", "bad JSON from server"))?;
            Ok(ModelReply {
                text: v["choices"][0]["message"]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                provider: "local".into(),
                model: v["model"].as_str().unwrap_or("local").to_owned(),
                prompt_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
                completion_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
            })
        }
    }

    const PROMPTS: [&str; 10] = [
        "Change the title to Questions and answers",
        "Turn on multi-open",
        "Set the pod radius to 16",
        "Make the stage padding 32",
        "Set the expand mode to first",
        "Rename the button label to Talk to us",
        "Make the first answer shorter",
        "Change the section title to General",
        "Turn off multi-open",
        "Change the title to FAQ",
    ];

    #[test]
    #[ignore = "needs a local OpenAI-compatible model server (SF_LIVE_LLM)"]
    fn live_local_model_edits() {
        let Ok(url) = std::env::var("SF_LIVE_LLM") else {
            println!("SF_LIVE_LLM not set; skipped");
            return;
        };
        let model = HttpModel {
            addr: url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
        };
        let w = widget("faq-bob");
        let config = w["currentConfig"].as_object().cloned().unwrap_or_default();
        let bob_controls = w["controls"].as_array().cloned().unwrap_or_default();
        let (mut with_ops, mut errors) = (0, 0);
        let mut latencies = Vec::new();
        for (i, prompt) in PROMPTS.iter().enumerate() {
            let host = host();
            let cx = crate::CopilotCtx {
                host: &host,
                model: &model,
                role: Role::Cs,
                grant_subject_key: "live",
                grant_max_requests_raw: 2.0,
                grant_timeout_ms: 45_000,
                environment: "local",
                started_ms: host.clock.now.get(),
                prompt: &sf_core::prompt_choice::PromptChoice::default(),
            };
            let inp = input(prompt, &format!("live{i}"), "faq-bob", "faq");
            let t0 = std::time::Instant::now();
            let out = futures_executor::block_on(crate::run(&cx, &inp));
            let ms = t0.elapsed().as_millis();
            latencies.push(ms);
            match out {
                Ok(o) => {
                    let case = Case {
                        line: i + 1,
                        name: (*prompt).into(),
                        spec: json!({"prompt": prompt}),
                    };
                    let body = json!({"result": o.result, "usage": o.usage});
                    let problems = check_response(&case, 200, &body);
                    assert!(problems.is_empty(), "{prompt}: {problems:?}");
                    if let Some(ops) = body["result"]["ops"].as_array() {
                        let applied = apply_ops(&config, &bob_controls, ops);
                        assert!(applied.is_ok(), "{prompt}: {ops:?} {applied:?}");
                        with_ops += 1;
                    }
                    println!(
                        "{ms:>6} ms  {prompt:<45} -> {} {}",
                        body["result"]["meta"]["outcome"], body["result"]["message"]
                    );
                }
                Err(e) => {
                    // Only the contract's model-output errors may surface.
                    assert_eq!(e.status, 502, "{prompt}: {e}");
                    errors += 1;
                    println!("{ms:>6} ms  {prompt:<45} -> {e}");
                }
            }
        }
        latencies.sort_unstable();
        println!(
            "valid ops: {with_ops}/{} responses; contract 502s: {errors}; latency p50 {} ms, max {} ms",
            PROMPTS.len(),
            latencies[latencies.len() / 2],
            latencies[latencies.len() - 1]
        );
    }
}

#[test]
fn dev_falls_back_to_the_localization_allowlist_without_branding() {
    let host = host();
    host.route(
        &format!("{TOKYO}/widgets/faq/localization.json"),
        Canned::json(&json!({"v":1,"paths":[
            {"path":"sections.*.faqs.*.answer","type":"richtext"},
            {"path":"branding.poweredBy","type":"string"}
        ]})),
    );
    let ok_reply = r#"{"message":"ok","ops":[{"op":"set","path":"sections.0.faqs.0.answer","value":"Short."}]}"#;
    let model = StubModel::with(&[ok_reply]);
    let out = ok(run_turn(
        &host,
        &model,
        Role::Sdr,
        "a",
        &input("Rewrite existing FAQs shorter", "s1", "faq-bob", "faq"),
    ));
    assert_eq!(out.result["meta"]["outcome"], "ops_applied");
    let calls = model.calls.borrow();
    let user = calls[0]
        .messages
        .last()
        .map(|m| m.1.clone())
        .unwrap_or_default();
    assert!(
        user.contains("- sections.0.faqs.0.answer: Embeddable widgets"),
        "{user}"
    );
    assert!(!user.contains("branding"), "{user}");
    // Production never falls back.
    let cx = super::CopilotCtx {
        host: &host,
        model: &model,
        role: Role::Sdr,
        grant_subject_key: "a",
        grant_max_requests_raw: 2.0,
        grant_timeout_ms: 45_000,
        environment: "prod",
        started_ms: 0,
        prompt: &sf_core::prompt_choice::PromptChoice::default(),
    };
    let out = futures_executor::block_on(super::run(
        &cx,
        &input("Rewrite existing FAQs shorter", "s2", "faq-bob", "faq"),
    ));
    assert_eq!(
        out.map(|o| o.usage["model"].clone()),
        Ok(json!("missing_allowlist"))
    );
}

#[test]
fn history_is_sent_and_kept_to_ten_messages() {
    let host = host();
    let replies: Vec<String> = (0..7)
        .map(|i| format!(r#"{{"message":"reply {i}"}}"#))
        .collect();
    let refs: Vec<&str> = replies.iter().map(String::as_str).collect();
    let model = StubModel::with(&refs);
    for i in 0..7 {
        ok(cs(&host, &model, &format!("make it nicer {i}"), "h"));
    }
    let calls = model.calls.borrow();
    // Call 7 sees the last 10 stored messages (5 exchanges) between system and user.
    assert_eq!(calls[6].messages.len(), 12);
    assert_eq!(calls[6].messages[1].1, "make it nicer 1");
    assert_eq!(calls[6].messages[10].1, "reply 5");
    let session: Value =
        serde_json::from_str(&host.kv.map.borrow()["copilot:cs:session:h"]).unwrap_or_default();
    assert_eq!(session["turns"].as_array().map(Vec::len), Some(10));
}
