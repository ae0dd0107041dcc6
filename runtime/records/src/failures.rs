//! The failed interactions of an agent, clustered by how they failed (the
//! evidence of the `analyze-and-improve` job): the copilot's ops did not
//! validate (`invalid_ops`), the user undid the edit (`ux_undo`), or the
//! agent asked for clarification again in the same session within the
//! continuation window (a clarification loop). Each cluster carries its
//! count and a few examples read back from the raw logs (request and answer,
//! clipped). Executions that failed outright (model errors, timeouts) answer
//! an error and leave no interaction record, so they are not clustered here.

use serde_json::Value;

use sf_core::error::{ApiError, ErrorCode};
use sf_core::policy::{self, Agent, Signal};
use sf_core::ports::{Blob, Host, Sql, SqlStatement, SqlValue};

use crate::score::condition;

const T: &str = "copilot_events_v1";
/// Characters kept of an example's request and answer.
const CLIP: usize = 400;

/// One way of failing, with its count and examples (newest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub kind: &'static str,
    pub description: &'static str,
    pub count: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub request_id: String,
    /// The user's request (`input.prompt` or `input.message`), clipped.
    pub request: String,
    /// The agent's answer (`result.message`), clipped.
    pub answer: String,
}

fn kinds() -> Vec<(&'static str, &'static str, String)> {
    let window_ms = i64::from(policy::CONTINUED_WITHIN_MINUTES) * 60_000;
    vec![
        ("invalid_ops", "the edits did not validate against the widget's controls", format!("{T}.outcome = 'invalid_ops'")),
        ("undone", "the user undid the edit", format!("NOT ({})", condition(Signal::NotUndone))),
        (
            "clarification_loop",
            "the agent asked for clarification again in the same session",
            format!(
                "{T}.intent = 'clarify' AND EXISTS (SELECT 1 FROM {T} p WHERE p.sessionId = {T}.sessionId \
                 AND p.requestId <> {T}.requestId AND p.intent = 'clarify' \
                 AND p.occurredAtMs < {T}.occurredAtMs AND p.occurredAtMs >= {T}.occurredAtMs - {window_ms})"
            ),
        ),
    ]
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(CLIP).collect();
    if s.chars().count() > CLIP {
        out.push('…');
    }
    out
}

fn db(e: sf_core::ports::PortError) -> ApiError {
    sf_core::sf_log!("records: reading failures failed: {e}");
    ApiError::new(
        503,
        ErrorCode::ProviderError,
        "The database could not read the failed interactions; retry shortly",
    )
}

/// The clusters of `agent`'s interactions since `since_ms`, with at most
/// `per_cluster` examples each; clusters without failures are left out.
pub async fn clusters<H: Host>(
    h: &H,
    agent: Agent,
    since_ms: i64,
    per_cluster: usize,
) -> Result<Vec<Cluster>, ApiError> {
    let mut out = Vec::new();
    for (kind, description, cond) in kinds() {
        let where_ = format!("{T}.agentId = ? AND {T}.occurredAtMs >= ? AND {cond}");
        let params = || vec![SqlValue::from(agent.name()), SqlValue::Integer(since_ms)];
        let n = h
            .sql()
            .query(SqlStatement::new(
                format!("SELECT COUNT(*) AS n FROM {T} WHERE {where_}"),
                params(),
            ))
            .await
            .map_err(db)?;
        let count = n.first().map_or(0, |r| r.count("n"));
        if count == 0 {
            continue;
        }
        let rows = h
            .sql()
            .query(SqlStatement::new(
                format!(
                    "SELECT {T}.requestId AS requestId, i.r2_key AS r2Key FROM {T} \
                     LEFT JOIN sf_interactions i ON i.id = {T}.requestId \
                     WHERE {where_} ORDER BY {T}.occurredAtMs DESC LIMIT {per_cluster}"
                ),
                params(),
            ))
            .await
            .map_err(db)?;
        let mut examples = Vec::new();
        for r in &rows {
            let Some(id) = r.text("requestId") else {
                continue;
            };
            // A raw log past retention (or unreadable) leaves the example out.
            let raw = match r.text("r2Key") {
                Some(key) => h.blob().get(key).await.ok().flatten(),
                None => None,
            };
            let Some(ev) = raw.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
                continue;
            };
            let input = &ev["input"];
            let request = input["prompt"]
                .as_str()
                .or(input["message"].as_str())
                .unwrap_or_default();
            let answer = ev["result"]["message"].as_str().unwrap_or_default();
            examples.push(Example {
                request_id: id.to_owned(),
                request: clip(request),
                answer: clip(answer),
            });
        }
        out.push(Cluster {
            kind,
            description,
            count,
            examples,
        });
    }
    Ok(out)
}
