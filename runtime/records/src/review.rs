//! The review queue (issue 11, admin scheme): reviewers read interactions
//! newest first with what the user asked, what the agent answered and what
//! happened next, and label them `good`, `bad` or `golden` (`sf_reviews`,
//! migration 0006). `golden` puts an interaction in its agent's example bank,
//! `bad` keeps it out ([`crate::banks`]).
//!
//! - `GET /admin/v1/review?agentId=&status=unreviewed|good|bad|golden|all&limit=&cursor=`
//!   → `{"items":[{"requestId","agentId","sessionId","occurredAtMs","widgetType",
//!   "promptVersion","input","output","ops","outcomes":[event,...],"score","label","note"}],
//!   "nextCursor":null|"...","total":N}`. `agentId` is optional (all agents),
//!   `status` defaults to `unreviewed`, `limit` to 20 (1 to 50). `input` is the
//!   raw log's `input`, `output` its `result` and `ops` the result's `ops`,
//!   each `null` once the raw log is gone (retention) or when it has none.
//!   `total` counts every item of the filter; `nextCursor` is opaque.
//! - `POST /admin/v1/review/{requestId}` with `{"label":"good"|"bad"|"golden","note"?}`
//!   → `{"requestId","label","note","labeledAtMs"}`; the last label wins. An id
//!   with no interaction row is a 404, a wrong body a 400 with `issues`.

use serde_json::{json, Value};

use sf_core::b64;
use sf_core::error::{ApiError, ErrorCode, Issue};
use sf_core::http::{decode_param, json_response, parse_json_body, RouteCtx, RouteOut};
use sf_core::policy::Agent;
use sf_core::ports::{Blob, Clock, Host, Sql, SqlRow, SqlStatement, SqlValue};

use crate::events::raw_log_key;

pub const LABELS: [&str; 3] = ["good", "bad", "golden"];
const STATUSES: [&str; 5] = ["unreviewed", "good", "bad", "golden", "all"];
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 50;
pub const MAX_NOTE_CHARS: usize = 2000;

fn failed(what: &str) -> ApiError {
    ApiError::provider(500, "sanfrancisco", format!("Failed to {what}"))
}

/// A query parameter, percent-decoded (`+` is a space); a value that does
/// not decode is kept as sent, so that its validation names it.
pub fn query_param(q: &str, k: &str) -> Option<String> {
    q.split('&').find_map(|kv| {
        let (n, v) = kv.split_once('=').unwrap_or((kv, ""));
        (n == k).then(|| decode_param(&v.replace('+', " ")).unwrap_or_else(|| v.to_owned()))
    })
}

/// The cursor after an item: opaque to clients.
fn cursor_of(at_ms: i64, request_id: &str) -> String {
    b64::encode_url(format!("{at_ms}:{request_id}").as_bytes())
}

fn parse_cursor(c: &str) -> Option<(i64, String)> {
    let bytes = b64::decode_forgiving(c)?;
    let text = String::from_utf8(bytes).ok()?;
    let (ms, id) = text.split_once(':')?;
    if id.is_empty() {
        return None;
    }
    Some((ms.parse().ok()?, id.to_owned()))
}

/// The filter of a list request.
#[derive(Debug, Clone, PartialEq)]
struct Query {
    agent: Option<Agent>,
    status: &'static str,
    limit: i64,
    after: Option<(i64, String)>,
}

fn bad_query(path: &str, message: &str) -> ApiError {
    ApiError::bad_request("Invalid query").with_issues(vec![Issue::new(path, message)])
}

fn parse_query(q: &str) -> Result<Query, ApiError> {
    let agent = match query_param(q, "agentId").filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => Some(
            Agent::from_name(&a)
                .ok_or_else(|| bad_query("agentId", "Expected an agent id of the policy"))?,
        ),
    };
    let status = match query_param(q, "status").filter(|s| !s.is_empty()) {
        None => "unreviewed",
        Some(s) => STATUSES.iter().copied().find(|x| *x == s).ok_or_else(|| {
            bad_query(
                "status",
                "Expected one of unreviewed, good, bad, golden, all",
            )
        })?,
    };
    let limit = match query_param(q, "limit").filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad_query(
                    "limit",
                    &format!("Expected a whole number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let after = match query_param(q, "cursor").filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => Some(
            parse_cursor(&c)
                .ok_or_else(|| bad_query("cursor", "Expected a nextCursor of an earlier answer"))?,
        ),
    };
    Ok(Query {
        agent,
        status,
        limit,
        after,
    })
}

/// The WHERE clause of a query (with or without its cursor) and its parameters.
fn where_clause(q: &Query, with_cursor: bool) -> (String, Vec<SqlValue>) {
    let mut conds: Vec<&str> = Vec::new();
    let mut params = Vec::new();
    if let Some(a) = q.agent {
        conds.push("e.agentId = ?");
        params.push(a.name().into());
    }
    match q.status {
        "all" => {}
        "unreviewed" => conds.push("r.label IS NULL"),
        label => {
            conds.push("r.label = ?");
            params.push(label.into());
        }
    }
    if let (true, Some((ms, id))) = (with_cursor, &q.after) {
        conds.push("(e.occurredAtMs < ? OR (e.occurredAtMs = ? AND e.requestId < ?))");
        params.extend([
            SqlValue::Integer(*ms),
            SqlValue::Integer(*ms),
            id.clone().into(),
        ]);
    }
    let w = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (w, params)
}

const FROM: &str = "FROM copilot_events_v1 e LEFT JOIN sf_reviews r ON r.request_id = e.requestId";

fn number(r: &SqlRow, k: &str) -> Value {
    match r.get(k) {
        Some(SqlValue::Integer(n)) => json!(n),
        Some(SqlValue::Real(x)) => json!(x),
        _ => Value::Null,
    }
}

fn text(r: &SqlRow, k: &str) -> Value {
    r.text(k)
        .map_or(Value::Null, |s| Value::String(s.to_owned()))
}

/// The blob key of an interaction's raw log: the one its `sf_interactions`
/// row names, else the key the events consumer files it under.
pub fn raw_key(r: &SqlRow, env: &str) -> String {
    r.text("r2Key").map(str::to_owned).unwrap_or_else(|| {
        raw_log_key(
            r.text("runtimeEnv").unwrap_or(env),
            r.text("agentId").unwrap_or_default(),
            r.int("occurredAtMs").unwrap_or(0),
            r.text("requestId").unwrap_or_default(),
        )
    })
}

/// The raw event of `request_id` at `key`, when it is still there and is that event.
pub async fn raw_event<H: Host>(h: &H, key: &str, request_id: &str) -> Option<Value> {
    let bytes = h.blob().get(key).await.ok().flatten()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    (v["requestId"].as_str() == Some(request_id)).then_some(v)
}

pub async fn list_route<H: Host>(h: &H, env: &str, cx: RouteCtx) -> RouteOut {
    let q = parse_query(cx.req.uri().query().unwrap_or(""))?;
    let (w, params) = where_clause(&q, true);
    let rows = h
        .sql()
        .query(SqlStatement::new(
            format!(
                "SELECT e.requestId, e.agentId, e.sessionId, e.occurredAtMs, e.widgetType, e.promptVersion, \
                 e.score, e.runtimeEnv, r.label, r.note, \
                 (SELECT i.r2_key FROM sf_interactions i WHERE i.id = e.requestId) AS r2Key \
                 {FROM}{w} ORDER BY e.occurredAtMs DESC, e.requestId DESC LIMIT {}",
                q.limit + 1
            ),
            params,
        ))
        .await
        .map_err(|_| failed("read the review queue"))?;
    let (tw, tparams) = where_clause(&q, false);
    let total = h
        .sql()
        .query(SqlStatement::new(
            format!("SELECT count(*) AS n {FROM}{tw}"),
            tparams,
        ))
        .await
        .map_err(|_| failed("count the review queue"))?
        .first()
        .and_then(|r| r.int("n"))
        .unwrap_or(0);
    let page = &rows[..rows.len().min(q.limit as usize)];
    let next = (rows.len() as i64 > q.limit)
        .then(|| page.last())
        .flatten()
        .map(|r| {
            cursor_of(
                r.int("occurredAtMs").unwrap_or(0),
                r.text("requestId").unwrap_or_default(),
            )
        });
    let outcomes = outcomes_of(h, page).await?;
    let mut items = Vec::with_capacity(page.len());
    for r in page {
        let id = r.text("requestId").unwrap_or_default();
        let raw = raw_event(h, &raw_key(r, env), id).await;
        let output = raw.as_ref().map_or(Value::Null, |v| v["result"].clone());
        let ops = match &output["ops"] {
            Value::Array(a) => Value::Array(a.clone()),
            _ => Value::Null,
        };
        items.push(json!({
            "requestId": id,
            "agentId": text(r, "agentId"),
            "sessionId": text(r, "sessionId"),
            "occurredAtMs": number(r, "occurredAtMs"),
            "widgetType": text(r, "widgetType"),
            "promptVersion": text(r, "promptVersion"),
            "input": raw.as_ref().map_or(Value::Null, |v| v["input"].clone()),
            "output": output,
            "ops": ops,
            "outcomes": outcomes.iter().filter(|(r, _)| r == id).map(|(_, e)| e.clone()).collect::<Vec<_>>(),
            "score": number(r, "score"),
            "label": text(r, "label"),
            "note": text(r, "note"),
        }));
    }
    Ok(json_response(
        200,
        &json!({ "items": items, "nextCursor": next, "total": total }),
    ))
}

/// (requestId, event) of the page's outcomes, oldest first.
async fn outcomes_of<H: Host>(h: &H, page: &[SqlRow]) -> Result<Vec<(String, String)>, ApiError> {
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<SqlValue> = page
        .iter()
        .map(|r| r.text("requestId").unwrap_or_default().into())
        .collect();
    let rows = h
        .sql()
        .query(SqlStatement::new(
            format!(
                "SELECT requestId, event FROM copilot_outcomes_v1 WHERE requestId IN ({}) \
                 ORDER BY occurredAtMs, event",
                vec!["?"; ids.len()].join(", ")
            ),
            ids,
        ))
        .await
        .map_err(|_| failed("read the outcomes"))?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.text("requestId").unwrap_or_default().to_owned(),
                r.text("event").unwrap_or_default().trim().to_owned(),
            )
        })
        .collect())
}

/// A validated label request.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub label: &'static str,
    pub note: Option<String>,
}

pub fn validate_label(body: &Value) -> Result<Label, ApiError> {
    let invalid = |issues| ApiError::bad_request("Invalid request").with_issues(issues);
    let Some(o) = body.as_object() else {
        return Err(invalid(vec![Issue::new("", "Expected { label, note? }")]));
    };
    let mut issues = Vec::new();
    let label = o
        .get("label")
        .and_then(Value::as_str)
        .and_then(|l| LABELS.iter().copied().find(|x| *x == l));
    if label.is_none() {
        issues.push(Issue::new("label", "Expected one of good, bad, golden"));
    }
    let note = match o.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_NOTE_CHARS => {
            Some(s.clone()).filter(|s| !s.trim().is_empty())
        }
        Some(_) => {
            issues.push(Issue::new(
                "note",
                format!("Expected a string of at most {MAX_NOTE_CHARS} characters"),
            ));
            None
        }
    };
    match label {
        Some(label) if issues.is_empty() => Ok(Label { label, note }),
        _ => Err(invalid(issues)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        404,
        ErrorCode::BadRequest,
        format!("No interaction with requestId {id:?}"),
    )
}

pub async fn label_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let raw_id = cx.param.as_deref().unwrap_or("");
    let id = decode_param(raw_id).ok_or_else(|| not_found(raw_id))?;
    let body = parse_json_body(cx.req.body())?;
    let l = validate_label(&body)?;
    let agent = h
        .sql()
        .query(SqlStatement::new(
            "SELECT agentId FROM copilot_events_v1 WHERE requestId = ?",
            vec![id.clone().into()],
        ))
        .await
        .map_err(|_| failed("read the interaction"))?
        .first()
        .and_then(|r| r.text("agentId").map(str::to_owned))
        .ok_or_else(|| not_found(&id))?;
    let now = h.clock().now_ms() as i64;
    h.sql()
        .execute(SqlStatement::new(
            "INSERT INTO sf_reviews (request_id, agent_id, label, note, labeled_at_ms) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(request_id) DO UPDATE SET label = excluded.label, note = excluded.note, \
             labeled_at_ms = excluded.labeled_at_ms",
            vec![
                id.clone().into(),
                agent.into(),
                l.label.into(),
                l.note.clone().into(),
                SqlValue::Integer(now),
            ],
        ))
        .await
        .map_err(|_| failed("save the label"))?;
    Ok(json_response(
        200,
        &json!({ "requestId": id, "label": l.label, "note": l.note, "labeledAtMs": now }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = parse_query("agentId=sdr.copilot&status=golden&limit=5").unwrap();
        assert_eq!(
            (q.agent, q.status, q.limit),
            (Some(Agent::SdrCopilot), "golden", 5)
        );
        let q = parse_query("").unwrap();
        assert_eq!(
            (q.agent, q.status, q.limit, q.after),
            (None, "unreviewed", 20, None)
        );
        let c = cursor_of(1_700_000_000_000, "req-1");
        assert_eq!(
            parse_query(&format!("cursor={c}")).unwrap().after,
            Some((1_700_000_000_000, "req-1".to_owned()))
        );
        for (bad, path) in [
            ("agentId=nope", "agentId"),
            ("status=new", "status"),
            ("limit=0", "limit"),
            ("limit=51", "limit"),
            ("cursor=%%%", "cursor"),
            ("cursor=bm8tY29sb24", "cursor"),
        ] {
            let e = parse_query(bad).unwrap_err();
            assert_eq!((e.status, e.issues[0].path.as_str()), (400, path), "{bad}");
        }
        let (w, p) = where_clause(&parse_query("status=all").unwrap(), true);
        assert_eq!((w.as_str(), p.len()), ("", 0));
        assert_eq!(query_param("note=a+b%21", "note").as_deref(), Some("a b!"));
    }

    #[test]
    fn labels() {
        assert_eq!(
            validate_label(&json!({"label":"golden","note":"clear"})).unwrap(),
            Label {
                label: "golden",
                note: Some("clear".into())
            }
        );
        assert_eq!(validate_label(&json!({"label":"bad"})).unwrap().note, None);
        let e = validate_label(&json!({"label":"great","note":5})).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            e.to_json(),
            json!({"error":{"code":"BAD_REQUEST","message":"Invalid request","issues":[
                {"path":"label","message":"Expected one of good, bad, golden"},
                {"path":"note","message":"Expected a string of at most 2000 characters"}]}})
        );
        assert_eq!(
            validate_label(&json!([1])).unwrap_err().issues[0].message,
            "Expected { label, note? }"
        );
    }
}
