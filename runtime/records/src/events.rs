//! Interaction events (CONTRACT.md 10.2-10.4): produced once per successful
//! `/v1/execute`, consumed into an R2 raw log and a D1 index row.
//!
//! Differences from the original: the event carries `policyVersion`; the raw
//! log is filed under the day the event happened (not the day it was
//! processed); both writes are idempotent by request id and the first write
//! wins, so redelivery never duplicates or rewrites a record; messages that
//! are not well-formed events are rejected (dead-lettered) instead of being
//! written as events.

use std::rc::Rc;

use serde_json::{json, Value};

use sf_core::error::ConsumeError;
use sf_core::grants::Grant;
use sf_core::http::well_formed_request_id;
use sf_core::policy::{Agent, POLICY_VERSION};
use sf_core::ports::{Blob, Host, Queue, Sql, SqlStatement, SqlValue};
use sf_core::prompt_choice::PromptChoice;
use sf_core::time_fmt::utc_day;
use sf_core::Isolate;

/// What an execution answered: the response's `result` and `usage`, and
/// the prompt it ran (`None` for agents without one).
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    pub result: &'a Value,
    pub usage: &'a Value,
    pub prompt: Option<&'a PromptChoice>,
}

/// Builds the event for one successful execution.
pub fn interaction_event(
    grant: &Grant,
    agent: Agent,
    request_id: &str,
    occurred_at_ms: u64,
    input: Value,
    answered: Answered<'_>,
) -> Value {
    let Answered {
        result,
        usage,
        prompt,
    } = answered;
    let model_called = usage["provider"].as_str().is_some_and(|p| p != "local");
    let prompt = prompt.map(|p| p.event_fields(model_called)).unwrap_or_else(|| {
        json!({"promptVersion": agent.prompt().map(|p| p.version), "experimentId": null, "exampleIds": []})
    });
    json!({
        "v": 1,
        "requestId": request_id,
        "agentId": agent.name(),
        "occurredAtMs": occurred_at_ms,
        // Only these two parts of the grant: never the token or its signature.
        "subject": grant.sub_json(),
        "trace": grant.trace(),
        "ai": {
            "profile": grant.ai.as_ref().map(|a| Value::from(a.profile.clone())).unwrap_or(Value::Null),
            "taskClass": agent.task_class(),
        },
        "input": input,
        "result": result,
        "usage": usage,
        "policyVersion": POLICY_VERSION,
        // The prompt version actually run (policy/prompts.yaml's baseline or an
        // sf_prompts version; null for agents without a prompt), the
        // experiment that chose it and the few-shot examples shown.
        "promptVersion": prompt["promptVersion"],
        "experimentId": prompt["experimentId"],
        "exampleIds": prompt["exampleIds"],
    })
}

/// Sends the event after the response is on its way. Without a queue binding
/// (wrangler's `env.local`), or when the send fails, the event is filed
/// directly, still deferred: a queue outage costs latency in the background,
/// never the record and never the caller's response.
pub fn emit<H: Host>(iso: &Rc<Isolate<H>>, event: Value) {
    let iso2 = Rc::clone(iso);
    iso.host().defer(Box::pin(async move {
        let request_id = event["requestId"].as_str().unwrap_or_default().to_owned();
        let queued = match iso2.host().queue() {
            Some(q) => q.send(&event).await.map_err(|e| e.to_string()),
            None => Err("no queue bound".to_owned()),
        };
        if let Err(send_err) = queued {
            if let Err(e) = store_event(&iso2, &event).await {
                // Never the event body: it may hold user input.
                sf_core::sf_log!(
                    "events: event requestId={request_id} lost: enqueue failed ({send_err}) and direct filing failed ({e:?})"
                );
            }
        }
    }));
}

/// The R2 key of an event's raw log.
pub fn raw_log_key(
    environment: &str,
    agent_id: &str,
    occurred_at_ms: i64,
    request_id: &str,
) -> String {
    format!(
        "logs/{environment}/{agent_id}/{}/{request_id}.json",
        utc_day(occurred_at_ms)
    )
}

fn scope_of(path: &str) -> &'static str {
    if path.starts_with("stage.") {
        "stage"
    } else if path.starts_with("pod.") {
        "pod"
    } else {
        "content"
    }
}

/// True when the prompt holds something that looks like a URL or a bare
/// domain: the copilot's own candidate extraction (CONTRACT.md 9.1), so the
/// index and the copilot agree on what a URL is.
pub fn mentions_url(text: &str) -> bool {
    !sf_core::net::extract_candidates(text).is_empty()
}

/// The `copilot_events_v1` row of an event (CONTRACT.md 10.4).
pub fn index_row(event: &Value, runtime_env: &str) -> Vec<(&'static str, SqlValue)> {
    let s = |v: &Value| -> SqlValue {
        v.as_str()
            .map(|x| SqlValue::Text(x.to_owned()))
            .unwrap_or(SqlValue::Null)
    };
    let occurred = event["occurredAtMs"].as_f64().unwrap_or(0.0) as i64;
    let trace = &event["trace"];
    let input = &event["input"];
    let result = &event["result"];
    let meta = &result["meta"];
    let usage = &event["usage"];

    let mut outcome = s(&meta["outcome"]);
    let (mut ops_count, mut unique, mut scopes) = (SqlValue::Null, SqlValue::Null, SqlValue::Null);
    if let Some(ops) = result.get("ops").and_then(Value::as_array) {
        let paths: Vec<&str> = ops
            .iter()
            .filter_map(|o| o.get("path").and_then(Value::as_str))
            .filter(|p| !p.trim().is_empty())
            .collect();
        let mut distinct: Vec<&str> = Vec::new();
        let mut scope_list: Vec<&str> = Vec::new();
        for p in &paths {
            if !distinct.contains(p) {
                distinct.push(p);
            }
            let sc = scope_of(p);
            if !scope_list.contains(&sc) {
                scope_list.push(sc);
            }
        }
        ops_count = SqlValue::Integer(paths.len() as i64);
        unique = SqlValue::Integer(distinct.len() as i64);
        scopes = SqlValue::Text(json!(scope_list).to_string());
        if outcome == SqlValue::Null {
            outcome = SqlValue::Text(
                if paths.is_empty() {
                    "no_ops"
                } else {
                    "ops_applied"
                }
                .into(),
            );
        }
    } else if outcome == SqlValue::Null && result.is_object() {
        outcome = SqlValue::Text("no_ops".into());
    }
    let has_url = input
        .get("prompt")
        .and_then(Value::as_str)
        .map(|p| SqlValue::Integer(i64::from(mentions_url(p))))
        .unwrap_or(SqlValue::Null);
    let control_count = input
        .get("controls")
        .and_then(Value::as_array)
        .map(|c| SqlValue::Integer(c.len() as i64))
        .unwrap_or(SqlValue::Null);
    vec![
        ("requestId", s(&event["requestId"])),
        ("day", SqlValue::Text(utc_day(occurred))),
        ("occurredAtMs", SqlValue::Integer(occurred)),
        ("runtimeEnv", SqlValue::Text(runtime_env.to_owned())),
        ("envStage", s(&trace["envStage"])),
        ("sessionId", s(&trace["sessionId"])),
        ("instancePublicId", s(&trace["instancePublicId"])),
        ("agentId", s(&event["agentId"])),
        ("widgetType", s(&input["widgetType"])),
        ("intent", s(&meta["intent"])),
        ("outcome", outcome),
        ("hasUrl", has_url),
        ("controlCount", control_count),
        ("opsCount", ops_count),
        ("uniquePathsTouched", unique),
        ("scopesTouched", scopes),
        ("ctaAction", s(&result["cta"]["action"])),
        ("promptVersion", s(&meta["promptVersion"])),
        // The agent's own version wins; otherwise the gateway policy that
        // served the request (every event carries it).
        (
            "policyVersion",
            match s(&meta["policyVersion"]) {
                SqlValue::Null => s(&event["policyVersion"]),
                v => v,
            },
        ),
        ("dictionaryHash", s(&meta["dictionaryHash"])),
        ("aiProfile", s(&event["ai"]["profile"])),
        ("taskClass", s(&event["ai"]["taskClass"])),
        ("provider", s(&usage["provider"])),
        ("model", s(&usage["model"])),
        (
            "latencyMs",
            usage["latencyMs"]
                .as_f64()
                .map(|l| SqlValue::Integer(l as i64))
                .unwrap_or(SqlValue::Null),
        ),
        // migrations/0007_prompts.sql: the prompt actually run.
        ("promptUsed", s(&event["promptVersion"])),
        ("experimentId", s(&event["experimentId"])),
        (
            "exampleIds",
            match event["exampleIds"].as_array() {
                Some(ids) if !ids.is_empty() => {
                    SqlValue::Text(Value::Array(ids.clone()).to_string())
                }
                _ => SqlValue::Null,
            },
        ),
    ]
}

/// What a host may keep of a rejected queue message: the body with every
/// `grant` string (l10n jobs and personalization commands carry one) replaced
/// by `"[redacted]"`, at any depth. Dead-letter stores outlive the queue, and
/// grants must never be written to a log, object or row; a grant lives ten
/// minutes, so a replay could not have used it anyway.
pub fn redact_for_dead_letter(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k == "grant" && v.is_string() {
                        Value::String("[redacted]".into())
                    } else {
                        redact_for_dead_letter(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_for_dead_letter).collect()),
        other => other.clone(),
    }
}

/// 9999-12-31T23:59:59.999Z + 1 ms.
const MAX_OCCURRED_AT_MS: f64 = 253_402_300_800_000.0;

/// Checks that a queue message is an interaction event we can file.
pub fn validate_event(event: &Value) -> Result<(), String> {
    if event.get("v").and_then(Value::as_f64) != Some(1.0) {
        return Err("not an interaction event (v != 1)".into());
    }
    let id = event.get("requestId").and_then(Value::as_str).unwrap_or("");
    if !well_formed_request_id(id) {
        return Err("event requestId is missing or unsafe".into());
    }
    let agent = event.get("agentId").and_then(Value::as_str).unwrap_or("");
    if Agent::from_name(agent).map(Agent::name) != Some(agent) {
        return Err(format!(
            "event agentId {agent:?} is not a canonical agent id"
        ));
    }
    // The day of the R2 key comes from it: keep it a real calendar day.
    let occurred = event.get("occurredAtMs").and_then(Value::as_f64);
    if !occurred.is_some_and(|t| (0.0..MAX_OCCURRED_AT_MS).contains(&t)) {
        return Err("event occurredAtMs is not a time between 1970 and 9999".into());
    }
    Ok(())
}

/// Longest session id or locale copied into `sf_sessions`; longer values are
/// not identifiers we can trust as keys and are left out.
const MAX_SESSION_FIELD_LEN: usize = 256;

fn bounded_str(v: &Value) -> Option<&str> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= MAX_SESSION_FIELD_LEN)
}

/// The session an event belongs to, from grant-signed fields only (never
/// from `input`, which the caller controls): `trace.sessionId`, else the
/// anonymous subject's `sub.sessionId`.
pub fn session_id_of(event: &Value) -> Option<&str> {
    bounded_str(&event["trace"]["sessionId"])
        .or_else(|| bounded_str(&event["subject"]["sessionId"]))
}

/// `sub.kind` and the subject key (`sessionId`, `userId:workspaceId` or `serviceId`).
fn subject_of(event: &Value) -> (Option<&str>, Option<String>) {
    let sub = &event["subject"];
    let kind = bounded_str(&sub["kind"]);
    let id = match kind {
        Some("anon") => bounded_str(&sub["sessionId"]).map(str::to_owned),
        Some("user") => match (
            bounded_str(&sub["userId"]),
            bounded_str(&sub["workspaceId"]),
        ) {
            (Some(u), Some(w)) => Some(format!("{u}:{w}")),
            (Some(u), None) => Some(u.to_owned()),
            _ => None,
        },
        Some("service") => bounded_str(&sub["serviceId"]).map(str::to_owned),
        _ => None,
    };
    (kind, id)
}

/// The D1 writes of one event, applied as one batch (one transaction): the
/// `copilot_events_v1` index row, the `sf_sessions` row of its session and
/// its `sf_interactions` row. Every statement keeps the first version, so a
/// replayed batch changes nothing.
pub fn index_statements(event: &Value, runtime_env: &str, r2_key: &str) -> Vec<SqlStatement> {
    let row = index_row(event, runtime_env);
    let cols: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
    let mut stmts = vec![SqlStatement::new(
        format!(
            "INSERT OR IGNORE INTO copilot_events_v1 ({}) VALUES ({})",
            cols.join(", "),
            vec!["?"; cols.len()].join(", ")
        ),
        row.into_iter().map(|(_, v)| v).collect(),
    )];
    let request_id = event["requestId"].as_str().unwrap_or_default();
    let agent_id = event["agentId"].as_str().unwrap_or_default();
    let occurred = event["occurredAtMs"].as_f64().unwrap_or(0.0) as i64;
    let session = session_id_of(event);
    if let Some(session_id) = session {
        let (kind, subject_id) = subject_of(event);
        // Events can arrive out of order: the session starts at the earliest
        // interaction seen, whatever the delivery order (min is idempotent).
        stmts.push(SqlStatement::new(
            "INSERT INTO sf_sessions (id, agent_id, created_at_ms, subject_kind, subject_id, locale) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET created_at_ms = min(created_at_ms, excluded.created_at_ms)",
            vec![
                session_id.into(),
                agent_id.into(),
                SqlValue::Integer(occurred),
                kind.into(),
                subject_id.into(),
                bounded_str(&event["trace"]["locale"]).into(),
            ],
        ));
    }
    stmts.push(SqlStatement::new(
        "INSERT OR IGNORE INTO sf_interactions (id, session_id, agent_id, created_at_ms, r2_key, score) \
         VALUES (?, ?, ?, ?, ?, NULL)",
        vec![
            request_id.into(),
            session.into(),
            agent_id.into(),
            SqlValue::Integer(occurred),
            r2_key.into(),
        ],
    ));
    stmts
}

/// Files one event. Order and idempotency:
/// 1. an existing `copilot_events_v1` row for the request id means the event
///    is filed (first write wins): nothing else happens, not even an R2 write,
///    so a second event reusing an id (other agent, other day) leaves no
///    orphan object;
/// 2. the raw log: an existing object is kept and is what gets indexed (a
///    crash between the R2 write and the D1 batch resumes from the object);
/// 3. the D1 batch of [`index_statements`], derived from the stored object,
///    so the row never differs from its object.
///
/// Port failures answer `Retry` (the host redelivers with backoff); messages
/// that are not events, or an object that is not this event's, `Reject`.
pub async fn store_event<H: Host>(iso: &Isolate<H>, event: &Value) -> Result<(), ConsumeError> {
    validate_event(event).map_err(ConsumeError::Reject)?;
    let env = iso.environment_name().unwrap_or("unknown");
    let request_id = event["requestId"].as_str().unwrap_or_default();
    let agent_id = event["agentId"].as_str().unwrap_or_default();
    let occurred = event["occurredAtMs"].as_f64().unwrap_or(0.0) as i64;
    let host = iso.host();
    let retry = |what: &str, e: sf_core::ports::PortError| {
        ConsumeError::Retry(format!("event {request_id}: {what}: {e}"))
    };
    let filed = host
        .sql()
        .query(SqlStatement::new(
            "SELECT 1 AS filed FROM copilot_events_v1 WHERE requestId = ?",
            vec![request_id.into()],
        ))
        .await
        .map_err(|e| retry("reading copilot_events_v1", e))?;
    if !filed.is_empty() {
        return Ok(());
    }
    let key = raw_log_key(env, agent_id, occurred, request_id);
    let existing = host
        .blob()
        .get(&key)
        .await
        .map_err(|e| retry("reading the raw log", e))?;
    let stored: Value = match existing {
        Some(bytes) => {
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ConsumeError::Reject(format!(
                    "raw log {key} exists but is not JSON ({e}); inspect or delete it, then replay"
                ))
            })?;
            if validate_event(&v).is_err() || v["requestId"].as_str() != Some(request_id) {
                return Err(ConsumeError::Reject(format!(
                    "raw log {key} exists but is not this event; inspect or delete it, then replay"
                )));
            }
            v
        }
        None => {
            let body =
                serde_json::to_vec(event).map_err(|e| ConsumeError::Reject(e.to_string()))?;
            host.blob()
                .put(&key, body, "application/json")
                .await
                .map_err(|e| retry("writing the raw log", e))?;
            event.clone()
        }
    };
    host.sql()
        .batch(index_statements(&stored, env, &key))
        .await
        .map_err(|e| retry("writing the D1 index", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_what_cannot_be_filed() {
        let ok = json!({"v":1,"requestId":"r-1","agentId":"debug.grantProbe","occurredAtMs":1_700_000_000_000u64});
        assert_eq!(validate_event(&ok), Ok(()));
        for (field, bad, why) in [
            ("v", json!(2), "not an interaction event (v != 1)"),
            (
                "requestId",
                json!(""),
                "event requestId is missing or unsafe",
            ),
            (
                "requestId",
                json!("a/../b"),
                "event requestId is missing or unsafe",
            ),
            (
                "agentId",
                json!("debug.grantprobe "),
                "event agentId \"debug.grantprobe \" is not a canonical agent id",
            ),
            (
                "occurredAtMs",
                json!(-1),
                "event occurredAtMs is not a time between 1970 and 9999",
            ),
            (
                "occurredAtMs",
                json!(1e300),
                "event occurredAtMs is not a time between 1970 and 9999",
            ),
            (
                "occurredAtMs",
                json!("1"),
                "event occurredAtMs is not a time between 1970 and 9999",
            ),
        ] {
            let mut ev = ok.clone();
            ev[field] = bad;
            assert_eq!(validate_event(&ev), Err(why.to_owned()), "{field}");
        }
    }

    #[test]
    fn statements_fill_sessions_and_interactions_from_grant_fields_only() {
        let ev = json!({"v":1,"requestId":"r-1","agentId":"sdr.copilot","occurredAtMs":5,
            "subject":{"kind":"user","userId":"u","workspaceId":"w"},
            "trace":{"sessionId":"s-9","locale":"fr"},
            "input":{"sessionId":"client-chosen"}});
        let stmts = index_statements(&ev, "dev", "logs/dev/sdr.copilot/1970-01-01/r-1.json");
        assert_eq!(stmts.len(), 3);
        assert!(stmts[0]
            .sql
            .starts_with("INSERT OR IGNORE INTO copilot_events_v1"));
        assert_eq!(
            stmts[1].params,
            vec![
                SqlValue::Text("s-9".into()),
                SqlValue::Text("sdr.copilot".into()),
                SqlValue::Integer(5),
                SqlValue::Text("user".into()),
                SqlValue::Text("u:w".into()),
                SqlValue::Text("fr".into()),
            ]
        );
        assert_eq!(stmts[2].params[1], SqlValue::Text("s-9".into()));
        // No session in the grant: no session row, a NULL session id.
        let bare = json!({"v":1,"requestId":"r-2","agentId":"debug.grantProbe","occurredAtMs":5,"input":{"sessionId":"x"}});
        let stmts = index_statements(&bare, "dev", "k");
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[1].params[1], SqlValue::Null);
    }

    #[test]
    fn dead_letters_lose_their_grants() {
        let job = json!({"v":2,"grant":"v1.abc.sig","publicId":"p",
            "payload":{"grant":"v1.def.sig","list":[{"grant":"v1.g.s"}]},"grantless":{"grant":7}});
        assert_eq!(
            redact_for_dead_letter(&job),
            json!({"v":2,"grant":"[redacted]","publicId":"p",
                "payload":{"grant":"[redacted]","list":[{"grant":"[redacted]"}]},"grantless":{"grant":7}})
        );
    }

    #[test]
    fn url_detection() {
        assert!(mentions_url("use https://x.io please"));
        assert!(mentions_url("see example.com/about"));
        assert!(!mentions_url("make the title friendlier."));
        assert!(!mentions_url("mail me at a@b.com"));
        assert!(!mentions_url("version 1.2"));
    }

    #[test]
    fn index_row_derives_columns() {
        let ev = json!({
            "v":1,"requestId":"r1","agentId":"cs.widget.copilot.v1","occurredAtMs":1_700_000_000_000u64,
            "trace":{"sessionId":"s","envStage":"local"},
            "ai":{"profile":"paid_standard","taskClass":"copilot.widget.editor"},
            "input":{"prompt":"hi","widgetType":"faq","controls":[{},{}]},
            "result":{"message":"ok","ops":[{"op":"set","path":"stage.background","value":"red"},
                {"op":"set","path":"title","value":"x"},{"op":"set","path":"title","value":"y"}],
                "cta":{"action":"signup"},"meta":{"intent":"edit","promptVersion":"p","policyVersion":"q","dictionaryHash":"h"}},
            "usage":{"provider":"deepseek","model":"deepseek-chat","latencyMs":12}
        });
        let row: std::collections::HashMap<_, _> = index_row(&ev, "dev").into_iter().collect();
        assert_eq!(row["day"], SqlValue::Text("2023-11-14".into()));
        assert_eq!(row["opsCount"], SqlValue::Integer(3));
        assert_eq!(row["uniquePathsTouched"], SqlValue::Integer(2));
        assert_eq!(
            row["scopesTouched"],
            SqlValue::Text(r#"["stage","content"]"#.into())
        );
        assert_eq!(row["outcome"], SqlValue::Text("ops_applied".into()));
        assert_eq!(row["controlCount"], SqlValue::Integer(2));
        assert_eq!(row["hasUrl"], SqlValue::Integer(0));
        assert_eq!(row["ctaAction"], SqlValue::Text("signup".into()));
        assert_eq!(row["latencyMs"], SqlValue::Integer(12));
    }
}
