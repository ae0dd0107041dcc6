//! The learning loop's review queue, example banks, conversion marks and
//! session cleanup on the native host (issue 11): events filed the way the
//! consumer files them (raw log in the blob store, index rows in SQLite),
//! outcomes through the signed `/v1/outcome` route, the admin routes through
//! `Gateway::handle`, exact bodies and rows.

mod events_common;

use events_common::*;
use serde_json::{json, Value};
use sf_core::grants::outcome_signature;
use sf_core::policy::{Agent, Job};
use sf_core::ports::{Blob, Host, Kv, Sql, SqlStatement, SqlValue};
use sf_records::{banks, conversion, events, outcome};
use sf_runtime::Gateway;
use sf_server::ephemeral::TempDir;
use sf_server::{HostOptions, NativeClock, NativeHost};

// 2026-11-22 02:00:00 UTC.
const NOW: i64 = 1_795_312_800_000;
const MIN: i64 = 60_000;
const SDR: &str = "sdr.widget.copilot.v1";

fn gateway(dir: &TempDir, clock: &NativeClock) -> std::rc::Rc<Gateway<NativeHost>> {
    Gateway::new(
        NativeHost::open_with(
            dir.path(),
            native_vars().with("SF_ADMIN_TOKEN", "adm"),
            HostOptions {
                clock: clock.clone(),
                ..HostOptions::default()
            },
        )
        .unwrap(),
    )
}

/// An interaction event of a widget copilot as `/v1/execute` emits it.
fn event(id: &str, session: &str, at: i64, widget: &str, prompt: &str) -> Value {
    json!({
        "v": 1, "requestId": id, "agentId": SDR, "occurredAtMs": at,
        "subject": {"kind": "anon", "sessionId": session},
        "trace": {"sessionId": session, "envStage": "local"},
        "ai": {"profile": "free_low", "taskClass": "copilot.widget.editor"},
        "input": {"sessionId": session, "prompt": prompt, "widgetType": widget, "controls": [], "currentConfig": {}},
        "result": {"message": format!("done: {}", prompt.chars().take(10).collect::<String>()), "ops": [{"op": "set", "path": "title", "value": "x"}],
                   "meta": {"intent": "edit", "promptVersion": "pv1"}},
        "usage": {"provider": "deepseek", "model": "deepseek-chat", "latencyMs": 900},
    })
}

async fn file(gw: &Gateway<NativeHost>, ev: &Value) {
    events::store_event(gw.isolate(), ev).await.unwrap();
}

fn req(method: &str, path: &str, body: &[u8]) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", "Bearer adm")
        .header("content-type", "application/json")
        .body(body.to_vec())
        .unwrap()
}

async fn call(
    gw: &std::rc::Rc<Gateway<NativeHost>>,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let res = gw.handle(req(method, path, &bytes)).await;
    let v = serde_json::from_slice(res.body()).unwrap_or(Value::Null);
    (res.status().as_u16(), v)
}

async fn signed_outcome(
    gw: &std::rc::Rc<Gateway<NativeHost>>,
    id: &str,
    session: &str,
    ev: &str,
    at: i64,
) -> u16 {
    let body = json!({"v":1,"kind":"sf.command","command":"ai.outcome.attach",
        "payload":{"requestId": id, "sessionId": session, "event": ev, "occurredAtMs": at}})
    .to_string();
    let sig = outcome_signature(SECRET, body.as_bytes());
    let r = http::Request::builder()
        .method("POST")
        .uri("/v1/outcome")
        .header("x-paris-signature", sig)
        .body(body.into_bytes())
        .unwrap();
    let res = gw.handle(r).await;
    assert_eq!(res.body(), br#"{"ok":true}"#);
    res.status().as_u16()
}

async fn query(h: &NativeHost, sql: &str) -> Vec<Vec<SqlValue>> {
    let rows = h.sql().query(SqlStatement::new(sql, vec![])).await.unwrap();
    rows.iter()
        .map(|r| r.columns.iter().map(|(_, v)| v.clone()).collect())
        .collect()
}

#[test]
fn feedback_events_are_accepted_and_outcomes_of_unknown_ids_wait_for_their_interaction() {
    let dir = TempDir::new("review-fb");
    let clock = NativeClock::manual(NOW as u64);
    runtime().block_on(async {
        let gw = gateway(&dir, &clock);
        assert!(outcome::EVENTS.contains(&"feedback_helpful"));
        // The outcome comes first: kept as it is.
        assert_eq!(signed_outcome(&gw, "late-1", "s-fb", "feedback_helpful", NOW - MIN).await, 200);
        assert_eq!(signed_outcome(&gw, "late-1", "s-fb", "feedback_not_helpful", NOW - MIN).await, 200);
        assert_eq!(
            query(gw.host(), "SELECT requestId, event FROM copilot_outcomes_v1 ORDER BY event").await,
            vec![
                vec!["late-1".into(), "feedback_helpful".into()],
                vec!["late-1".into(), "feedback_not_helpful".into()]
            ]
        );
        // The interaction arrives later and is joined by requestId.
        file(&gw, &event("late-1", "s-fb", NOW - 2 * MIN, "faq", "hi")).await;
        let (s, v) = call(&gw, "GET", "/admin/v1/review?status=all", Value::Null).await;
        assert_eq!(s, 200);
        assert_eq!(v["items"][0]["outcomes"], json!(["feedback_helpful", "feedback_not_helpful"]));
        // An unknown event is still the contract's 400.
        let body = br#"{"command":"ai.outcome.attach","payload":{"requestId":"r","sessionId":"s","event":"feedback_meh","occurredAtMs":1}}"#;
        let r = http::Request::builder()
            .method("POST")
            .uri("/v1/outcome")
            .header("x-paris-signature", outcome_signature(SECRET, body))
            .body(body.to_vec())
            .unwrap();
        assert_eq!(gw.handle(r).await.status(), 400);
    });
}

#[test]
fn review_queue_lists_newest_first_labels_and_pages() {
    let dir = TempDir::new("review-q");
    let clock = NativeClock::manual(NOW as u64);
    runtime().block_on(async {
        let gw = gateway(&dir, &clock);
        let h = gw.host();
        for (i, id) in ["r-a", "r-b", "r-c"].iter().enumerate() {
            file(&gw, &event(id, "s-1", NOW - (10 - i as i64) * MIN, "faq", id)).await;
        }
        signed_outcome(&gw, "r-b", "s-1", "ux_keep", NOW - 5 * MIN).await;
        gw.run_job(Job::ScoreInteractions).await.unwrap();
        // r-c's raw log is gone (retention): the row stays, without payload.
        let key = events::raw_log_key("local", SDR, NOW - 8 * MIN, "r-c");
        h.blob().delete(&key).await.unwrap();

        let (s, v) = call(&gw, "GET", "/admin/v1/review", Value::Null).await;
        assert_eq!(s, 200);
        assert_eq!(v["total"], 3);
        assert_eq!(v["nextCursor"], Value::Null);
        let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["requestId"].as_str().unwrap()).collect();
        assert_eq!(ids, ["r-c", "r-b", "r-a"]);
        assert_eq!(
            v["items"][1],
            json!({
                "requestId": "r-b", "agentId": SDR, "sessionId": "s-1", "occurredAtMs": NOW - 9 * MIN,
                "widgetType": "faq", "promptVersion": "pv1",
                "input": {"sessionId": "s-1", "prompt": "r-b", "widgetType": "faq", "controls": [], "currentConfig": {}},
                "output": {"message": "done: r-b", "ops": [{"op": "set", "path": "title", "value": "x"}],
                           "meta": {"intent": "edit", "promptVersion": "pv1"}},
                "ops": [{"op": "set", "path": "title", "value": "x"}],
                "outcomes": ["ux_keep"], "score": 0.4, "label": null, "note": null,
            })
        );
        assert_eq!(
            (&v["items"][0]["input"], &v["items"][0]["output"], &v["items"][0]["ops"]),
            (&Value::Null, &Value::Null, &Value::Null)
        );

        // Labels: the last one wins; unknown ids are 404, bad bodies 400.
        let (s, v) = call(&gw, "POST", "/admin/v1/review/r-a", json!({"label": "bad"})).await;
        assert_eq!((s, &v["label"]), (200, &json!("bad")));
        let (s, v) = call(&gw, "POST", "/admin/v1/review/r-a", json!({"label": "golden", "note": "clear edit"})).await;
        assert_eq!(s, 200);
        assert_eq!(v, json!({"requestId": "r-a", "label": "golden", "note": "clear edit", "labeledAtMs": NOW}));
        let (s, v) = call(&gw, "POST", "/admin/v1/review/nope", json!({"label": "good"})).await;
        assert_eq!(s, 404);
        assert_eq!(v, json!({"error": {"code": "BAD_REQUEST", "message": "No interaction with requestId \"nope\""}}));
        let (s, v) = call(&gw, "POST", "/admin/v1/review/r-b", json!({"label": "fine"})).await;
        assert_eq!(s, 400);
        assert_eq!(v["error"]["issues"], json!([{"path": "label", "message": "Expected one of good, bad, golden"}]));
        assert_eq!(
            query(h, "SELECT request_id, agent_id, label, note FROM sf_reviews").await,
            vec![vec!["r-a".into(), SDR.into(), "golden".into(), "clear edit".into()]]
        );

        // Filters and pages.
        let (_, v) = call(&gw, "GET", "/admin/v1/review?status=golden", Value::Null).await;
        assert_eq!((v["total"].as_i64(), v["items"][0]["note"].as_str()), (Some(1), Some("clear edit")));
        let (_, v) = call(&gw, "GET", "/admin/v1/review", Value::Null).await;
        assert_eq!(v["total"], 2, "unreviewed");
        let (_, p1) = call(&gw, "GET", "/admin/v1/review?status=all&agentId=sdr.widget.copilot.v1&limit=2", Value::Null).await;
        assert_eq!(p1["items"].as_array().map(Vec::len), Some(2));
        let cursor = p1["nextCursor"].as_str().expect("a next page");
        let (_, p2) = call(&gw, "GET", &format!("/admin/v1/review?status=all&limit=2&cursor={cursor}"), Value::Null).await;
        assert_eq!((p2["items"][0]["requestId"].as_str(), &p2["nextCursor"], p2["total"].as_i64()), (Some("r-a"), &Value::Null, Some(3)));
        let (_, v) = call(&gw, "GET", "/admin/v1/review?agentId=cs.widget.copilot.v1&status=all", Value::Null).await;
        assert_eq!((v["total"].as_i64(), v["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
        for bad in ["/admin/v1/review?status=new", "/admin/v1/review?limit=500", "/admin/v1/review?agentId=x", "/admin/v1/review?cursor=zz"] {
            assert_eq!(call(&gw, "GET", bad, Value::Null).await.0, 400, "{bad}");
        }
        let unauth = http::Request::builder().uri("/admin/v1/review").body(Vec::new()).unwrap();
        assert_eq!(gw.handle(unauth).await.status(), 401);
    });
}

#[test]
fn example_banks_take_golden_and_the_best_per_widget_type_within_the_token_budget() {
    let dir = TempDir::new("review-bank");
    let clock = NativeClock::manual(NOW as u64);
    runtime().block_on(async {
        let gw = gateway(&dir, &clock);
        let h = gw.host();
        let bank = Agent::SdrWidgetCopilotV1.example_bank().unwrap();
        assert_eq!((bank.k, bank.token_budget), (3, 1500));
        // faq: f1..f5 convert (score 0.8: valid + converted + continued by the next);
        // hero: h1 converts (0.6 without a later interaction), h2 only valid (0.2).
        let long = |c: char| c.to_string().repeat(2400);
        for (i, id) in ["f1", "f2", "f3", "f4", "f5"].iter().enumerate() {
            file(&gw, &event(id, &format!("s-{id}"), NOW - (60 - i as i64) * MIN, "faq", &long('a'))).await;
            file(&gw, &event(&format!("{id}-next"), &format!("s-{id}"), NOW - (59 - i as i64) * MIN, "faq", "again")).await;
            signed_outcome(&gw, id, "other", "signup_completed", NOW - 30 * MIN).await;
        }
        file(&gw, &event("h1", "s-h1", NOW - 40 * MIN, "hero", "short")).await;
        signed_outcome(&gw, "h1", "other", "signup_completed", NOW - 30 * MIN).await;
        file(&gw, &event("h2", "s-h2", NOW - 39 * MIN, "hero", "low")).await;
        gw.run_job(Job::ScoreInteractions).await.unwrap();
        // Reviewers: h2 is golden despite its score, f1 is bad.
        call(&gw, "POST", "/admin/v1/review/h2", json!({"label": "golden"})).await;
        call(&gw, "POST", "/admin/v1/review/f1", json!({"label": "bad"})).await;

        let (s, v) = call(&gw, "POST", "/admin/v1/jobs/update-example-banks/run", Value::Null).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!((&v["job"], &v["ok"]), (&json!("update-example-banks"), &json!(true)));
        let sdr = v["report"]["agents"].as_array().unwrap().iter().find(|a| a["agentId"] == SDR).unwrap().clone();
        // Newest first among equal scores: f5, f4, f3 (f1 is bad, f2 below the top 3).
        assert_eq!(sdr["golden"], json!(["h2"]));
        assert_eq!(sdr["top"], json!(["f5", "f4", "f3", "h1"]));
        assert_eq!(
            query(h, "SELECT id, r2_key, score, tags_json FROM sf_examples WHERE agent_id = 'sdr.widget.copilot.v1' ORDER BY id").await,
            vec![
                vec!["f3".into(), "examples/sdr.widget.copilot.v1/f3.json".into(), SqlValue::Real(0.8), r#"["top","widgetType:faq"]"#.into()],
                vec!["f4".into(), "examples/sdr.widget.copilot.v1/f4.json".into(), SqlValue::Real(0.8), r#"["top","widgetType:faq"]"#.into()],
                vec!["f5".into(), "examples/sdr.widget.copilot.v1/f5.json".into(), SqlValue::Real(0.8), r#"["top","widgetType:faq"]"#.into()],
                vec!["h1".into(), "examples/sdr.widget.copilot.v1/h1.json".into(), SqlValue::Real(0.6), r#"["top","widgetType:hero"]"#.into()],
                vec!["h2".into(), "examples/sdr.widget.copilot.v1/h2.json".into(), SqlValue::Real(0.2), r#"["golden","widgetType:hero"]"#.into()],
            ]
        );
        // The KV document: golden, then each type's best, then the next ranks while they fit.
        // f* cost (2000 (the cut input) + 76) / 4 = 519 tokens: h2, f5, h1, f4 fit in 1500; f3 does not.
        let doc: Value = serde_json::from_str(&h.kv().get("learning:bank:sdr.widget.copilot.v1").await.unwrap().unwrap()).unwrap();
        let ids: Vec<&str> = doc["examples"].as_array().unwrap().iter().map(|e| e["requestId"].as_str().unwrap()).collect();
        assert_eq!(ids, ["h2", "f5", "h1", "f4"]);
        assert_eq!(sdr["bank"], json!(ids));
        assert_eq!((doc["agentId"].as_str(), doc["builtAtMs"].as_i64()), (Some(SDR), Some(NOW)));
        assert_eq!(
            doc["examples"][0],
            json!({"requestId": "h2", "widgetType": "hero", "input": "low",
                   "output": r#"{"message":"done: low","ops":[{"op":"set","path":"title","value":"x"}]}"#,
                   "score": 0.2, "golden": true})
        );
        let used: u64 = doc["examples"].as_array().unwrap().iter()
            .map(|e| banks::tokens(e["input"].as_str().unwrap(), e["output"].as_str().unwrap())).sum();
        assert!(used <= 1500 && used == sdr["tokens"].as_u64().unwrap(), "{used}");
        // The agents without interactions get an empty bank.
        let cs: Value = serde_json::from_str(&h.kv().get("learning:bank:cs.widget.copilot.v1").await.unwrap().unwrap()).unwrap();
        assert_eq!(cs["examples"], json!([]));

        // Examples outlive their raw logs; an example that leaves the bank loses its copy.
        let key = events::raw_log_key("local", SDR, NOW - 58 * MIN, "f3");
        h.blob().delete(&key).await.unwrap();
        call(&gw, "POST", "/admin/v1/review/f5", json!({"label": "bad"})).await;
        let (_, v) = call(&gw, "POST", "/admin/v1/jobs/update-example-banks/run", Value::Null).await;
        let sdr = v["report"]["agents"].as_array().unwrap().iter().find(|a| a["agentId"] == SDR).unwrap().clone();
        assert_eq!(sdr["top"], json!(["f4", "f3", "f2", "h1"]));
        assert!(h.blob().get("examples/sdr.widget.copilot.v1/f5.json").await.unwrap().is_none());
        assert!(h.blob().get("examples/sdr.widget.copilot.v1/f3.json").await.unwrap().is_some());
    });
}

#[test]
fn a_conversion_marks_the_session_and_rescores_it() {
    let dir = TempDir::new("review-conv");
    let clock = NativeClock::manual(NOW as u64);
    runtime().block_on(async {
        let gw = gateway(&dir, &clock);
        let h = gw.host();
        // Three interactions of one session, more than 30 min apart (not continued).
        for (i, id) in ["c1", "c2", "c3"].iter().enumerate() {
            file(&gw, &event(id, "s-conv", NOW - (200 - 40 * i as i64) * MIN, "faq", id)).await;
        }
        gw.run_job(Job::ScoreInteractions).await.unwrap();
        // The user signs up after c2 (the outcome names c2), then pays.
        let signup = outcome::Outcome {
            request_id: "c2".into(), session_id: "s-conv".into(), event: "signup_completed".into(),
            occurred_at_ms: (NOW - 150 * MIN) as f64, time_to_decision_ms: None, account_id_hash: None, workspace_id_hash: None,
        };
        outcome::persist(h.sql(), &signup).await.unwrap();
        let r = conversion::on_outcome(h, &signup).await.unwrap().unwrap();
        assert_eq!((r.marked, r.rescored), (2, 3));
        let marks = "SELECT requestId, convertedAtMs, paidAtMs, score FROM copilot_events_v1 ORDER BY requestId";
        assert_eq!(
            query(h, marks).await,
            vec![
                vec!["c1".into(), SqlValue::Integer(NOW - 150 * MIN), SqlValue::Null, SqlValue::Real(0.6)],
                vec!["c2".into(), SqlValue::Integer(NOW - 150 * MIN), SqlValue::Null, SqlValue::Real(0.6)],
                vec!["c3".into(), SqlValue::Null, SqlValue::Null, SqlValue::Real(0.2)],
            ]
        );
        let paid = outcome::Outcome { event: "upgrade_completed".into(), request_id: "c3".into(), occurred_at_ms: (NOW - 100 * MIN) as f64, ..signup.clone() };
        outcome::persist(h.sql(), &paid).await.unwrap();
        assert!(conversion::on_outcome(h, &paid).await.unwrap().is_some());
        let scores = query(h, "SELECT score, paidAtMs FROM copilot_events_v1 ORDER BY requestId").await;
        assert_eq!(
            scores,
            vec![
                vec![SqlValue::Real(0.8), SqlValue::Integer(NOW - 100 * MIN)],
                vec![SqlValue::Real(0.8), SqlValue::Integer(NOW - 100 * MIN)],
                vec![SqlValue::Real(0.8), SqlValue::Integer(NOW - 100 * MIN)],
            ]
        );
        // Replays and the jobs' sweeps change nothing.
        assert_eq!(conversion::on_outcome(h, &signup).await.unwrap().unwrap().marked, 0);
        for job in ["on-user-converted", "on-user-paid"] {
            let (s, v) = call(&gw, "POST", &format!("/admin/v1/jobs/{job}/run"), Value::Null).await;
            assert_eq!((s, &v["report"]["marked"], &v["report"]["rescored"]), (200, &json!(0), &json!(3)), "{v}");
        }
        assert_eq!(query(h, "SELECT score, paidAtMs FROM copilot_events_v1 ORDER BY requestId").await, scores);
        // An interaction filed after its session converted is marked by the hourly sweep.
        file(&gw, &event("c0", "s-conv", NOW - 300 * MIN, "faq", "c0")).await;
        gw.run_job(Job::ScoreInteractions).await.unwrap();
        assert_eq!(query(h, "SELECT score FROM copilot_events_v1 WHERE requestId = 'c0'").await, vec![vec![SqlValue::Real(0.8)]]);
    });
}

#[test]
fn jobs_run_on_the_admin_route_and_cleanup_removes_expired_sessions() {
    let dir = TempDir::new("review-jobs");
    let clock = NativeClock::manual(NOW as u64);
    runtime().block_on(async {
        let gw = gateway(&dir, &clock);
        let h = gw.host();
        let day = 86_400_000;
        file(&gw, &event("old-1", "s-old", NOW - 100 * day, "faq", "x")).await;
        file(&gw, &event("old-2", "s-old", NOW - 99 * day, "faq", "x")).await;
        file(&gw, &event("old-ex", "s-ex", NOW - 100 * day, "faq", "x")).await;
        file(&gw, &event("kept-old", "s-live", NOW - 100 * day, "faq", "x")).await;
        file(&gw, &event("kept-new", "s-live", NOW - day, "faq", "x")).await;
        h.sql().execute(SqlStatement::new("INSERT INTO sf_examples (id, agent_id, r2_key) VALUES ('old-ex', ?, 'k')", vec![SDR.into()])).await.unwrap();
        for (id, at) in [("never-came", NOW - 95 * day), ("old-1", NOW - 95 * day), ("still-waiting", NOW - day)] {
            h.sql().execute(SqlStatement::new(
                "INSERT INTO copilot_outcomes_v1 (requestId, event, day, occurredAtMs, sessionId) VALUES (?, 'ux_keep', 'd', ?, 's')",
                vec![id.into(), SqlValue::Integer(at)],
            )).await.unwrap();
        }
        let (s, v) = call(&gw, "POST", "/admin/v1/jobs/cleanup-old-sessions/run", Value::Null).await;
        assert_eq!(s, 200);
        assert_eq!(
            v,
            json!({"job": "cleanup-old-sessions", "ok": true, "report": {
                "cutoffMs": NOW - 90 * day, "interactions": 2, "sessions": 1, "orphanOutcomes": 1, "capped": false,
                "summary": "deleted 2 interaction row(s), 1 session(s) and 1 unjoined outcome(s) older than 2026-08-24"}})
        );
        assert_eq!(
            query(h, "SELECT id FROM sf_interactions ORDER BY id").await,
            vec![vec!["kept-new".into()], vec!["kept-old".into()], vec!["old-ex".into()]]
        );
        assert_eq!(query(h, "SELECT id FROM sf_sessions ORDER BY id").await, vec![vec!["s-ex".into()], vec!["s-live".into()]]);
        assert_eq!(query(h, "SELECT count(*) FROM copilot_events_v1").await, vec![vec![SqlValue::Integer(5)]]);
        assert_eq!(query(h, "SELECT requestId FROM copilot_outcomes_v1 ORDER BY requestId").await,
            vec![vec!["old-1".into()], vec!["still-waiting".into()]]);

        let (s, v) = call(&gw, "POST", "/admin/v1/jobs/score-interactions/run", Value::Null).await;
        assert_eq!((s, &v["job"], &v["ok"], v["report"]["agents"].as_u64()), (200, &json!("score-interactions"), &json!(true), Some(3)));
        let (s, v) = call(&gw, "POST", "/admin/v1/jobs/reindex/run", Value::Null).await;
        assert_eq!(s, 404);
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with("Unknown job \"reindex\": `sf jobs list`"), "{msg}");
        let bad = http::Request::builder().method("POST").uri("/admin/v1/jobs/retention/run").body(Vec::new()).unwrap();
        assert_eq!(gw.handle(bad).await.status(), 401);
    });
}
