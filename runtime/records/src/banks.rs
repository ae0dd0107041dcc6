//! The `update-example-banks` job (policy/jobs.yaml, daily 03:00): per agent
//! of policy/learning.yaml `exampleBanks`, the interactions the copilot's
//! prompt may show as few-shot examples.
//!
//! Selection, per agent and widget type: every interaction a reviewer labelled
//! `golden` (at most [`MAX_GOLDEN_PER_GROUP`]), plus the `k` best by score with
//! `score >= minScore`; never one labelled `bad`; only interactions whose raw
//! payload is still in blob storage. The payload of a chosen example is copied
//! to `examples/{agentId}/{requestId}.json`, outside the raw logs the
//! retention job deletes, so an example outlives its log; `sf_examples` holds
//! one row per chosen example pointing at that key (`tags_json`: `golden` or
//! `top`, and `widgetType:<type>`). Each run replaces the agent's rows and
//! deletes the copies of examples that left the bank.
//!
//! The job also writes, per agent, the KV document the prompt reads (no TTL):
//! `learning:bank:{agentId}` = `{"agentId","builtAtMs","examples":[{"requestId",
//! "widgetType","input","output","score","golden"}]}` where `input` is the
//! user's text (`input.prompt`, else `input.message`, else the input as
//! compact JSON) and `output` the agent's result without `meta`, as compact
//! JSON. Examples come golden first, then the widget types' best in turn
//! (every type's first, then every type's second, ...), and the document keeps
//! those that fit: the examples together stay within the bank's `tokenBudget`,
//! a token being estimated as 4 characters of `input` + `output`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use sf_core::policy::{self, ExampleBank};
use sf_core::ports::{Blob, Clock, Host, Kv, Sql, SqlRow, SqlStatement, SqlValue};
use sf_core::Isolate;

use crate::review::{raw_event, raw_key};

/// Golden examples kept per agent and widget type at most.
pub const MAX_GOLDEN_PER_GROUP: usize = 20;
/// Candidates read per agent, best first.
const MAX_CANDIDATES: i64 = 2_000;
/// Blob reads per agent and run at most (Workers cap a run's subrequests).
pub const MAX_PAYLOAD_READS: usize = 200;
/// The user's text of an example is cut to this many characters.
pub const MAX_INPUT_CHARS: usize = 2_000;

/// The KV key of an agent's bank.
pub fn kv_key(agent_id: &str) -> String {
    format!("learning:bank:{agent_id}")
}

/// The blob key of an example's payload copy.
pub fn example_key(agent_id: &str, request_id: &str) -> String {
    format!("examples/{agent_id}/{request_id}.json")
}

/// Tokens of a rendered example: characters / 4, rounded up.
pub fn tokens(input: &str, output: &str) -> u64 {
    (input.chars().count() + output.chars().count()).div_ceil(4) as u64
}

/// The user's text of a raw event's input.
pub fn compact_input(input: &Value) -> String {
    let text = ["prompt", "message"]
        .iter()
        .find_map(|k| input[*k].as_str().map(str::trim).filter(|s| !s.is_empty()))
        .map_or_else(|| input.to_string(), str::to_owned);
    text.chars().take(MAX_INPUT_CHARS).collect()
}

/// The agent's answer of a raw event's result: compact JSON without `meta`.
pub fn compact_output(result: &Value) -> String {
    match result {
        Value::Object(o) => {
            let mut o = o.clone();
            o.remove("meta");
            Value::Object(o).to_string()
        }
        other => other.to_string(),
    }
}

/// One chosen example.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub request_id: String,
    pub widget_type: Option<String>,
    pub score: Option<f64>,
    pub golden: bool,
    /// Its rank among the chosen of its widget type (golden and top ones apart).
    pub rank: usize,
    pub input: String,
    pub output: String,
}

impl Example {
    pub fn tokens(&self) -> u64 {
        tokens(&self.input, &self.output)
    }
}

/// What one agent's run did.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentBank {
    pub agent_id: &'static str,
    /// Chosen, in `sf_examples` order (golden first, then by score).
    pub selected: Vec<Example>,
    /// The request ids of the KV document, in its order.
    pub bank: Vec<String>,
    pub tokens: u64,
    pub token_budget: u32,
    /// Candidates skipped because their payload is gone.
    pub missing_payloads: u64,
    /// The payload read cap stopped the selection early.
    pub capped: bool,
}

impl AgentBank {
    pub fn to_json(&self) -> Value {
        let ids = |golden: bool| -> Vec<&str> {
            self.selected
                .iter()
                .filter(|e| e.golden == golden)
                .map(|e| e.request_id.as_str())
                .collect()
        };
        json!({
            "agentId": self.agent_id,
            "kvKey": kv_key(self.agent_id),
            "golden": ids(true),
            "top": ids(false),
            "bank": self.bank,
            "tokens": self.tokens,
            "tokenBudget": self.token_budget,
            "missingPayloads": self.missing_payloads,
            "capped": self.capped,
        })
    }
}

fn score_of(r: &SqlRow) -> Option<f64> {
    match r.get("score") {
        Some(SqlValue::Real(x)) => Some(*x),
        Some(SqlValue::Integer(n)) => Some(*n as f64),
        _ => None,
    }
}

/// The KV order: golden first, then rank by rank across widget types (best
/// score first within a rank), keeping what fits in `budget` tokens.
pub fn fit(selected: &[Example], budget: u64) -> Vec<&Example> {
    let mut order: Vec<&Example> = selected.iter().collect();
    order.sort_by(|a, b| {
        b.golden.cmp(&a.golden).then(a.rank.cmp(&b.rank)).then(
            b.score
                .unwrap_or(0.0)
                .partial_cmp(&a.score.unwrap_or(0.0))
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    let mut used = 0u64;
    order
        .into_iter()
        .filter(|e| {
            let t = e.tokens();
            let fits = used + t <= budget;
            if fits {
                used += t;
            }
            fits
        })
        .collect()
}

/// Builds one agent's bank.
pub async fn build<H: Host>(iso: &Isolate<H>, b: &ExampleBank) -> Result<AgentBank, String> {
    let h = iso.host();
    let env = iso.environment_name().unwrap_or("unknown");
    let agent_id = b.agent.name();
    let fail = |what: &str, e: sf_core::ports::PortError| format!("{agent_id}: {what}: {e}");
    let rows = h
        .sql()
        .query(SqlStatement::new(
            format!(
                "SELECT e.requestId, e.agentId, e.occurredAtMs, e.runtimeEnv, e.widgetType, e.score, \
                 CASE WHEN r.label = 'golden' THEN 1 ELSE 0 END AS golden, \
                 (SELECT i.r2_key FROM sf_interactions i WHERE i.id = e.requestId) AS r2Key \
                 FROM copilot_events_v1 e LEFT JOIN sf_reviews r ON r.request_id = e.requestId \
                 WHERE e.agentId = ? AND (r.label IS NULL OR r.label <> 'bad') \
                 AND (r.label = 'golden' OR e.score >= ?) \
                 ORDER BY golden DESC, e.score DESC, e.occurredAtMs DESC, e.requestId DESC LIMIT {MAX_CANDIDATES}"
            ),
            vec![agent_id.into(), SqlValue::Real(b.min_score)],
        ))
        .await
        .map_err(|e| fail("reading candidates", e))?;
    let previous: Vec<String> = h
        .sql()
        .query(SqlStatement::new(
            "SELECT id FROM sf_examples WHERE agent_id = ?",
            vec![agent_id.into()],
        ))
        .await
        .map_err(|e| fail("reading sf_examples", e))?
        .iter()
        .filter_map(|r| r.text("id").map(str::to_owned))
        .collect();
    // (golden, top) chosen so far per widget type.
    let mut groups: BTreeMap<Option<String>, (usize, usize)> = BTreeMap::new();
    let mut selected: Vec<Example> = Vec::new();
    let (mut reads, mut missing, mut capped) = (0usize, 0u64, false);
    for r in &rows {
        let id = r.text("requestId").unwrap_or_default();
        let wt = r.text("widgetType").map(str::to_owned);
        let golden = r.int("golden") == Some(1);
        let g = groups.entry(wt.clone()).or_default();
        let room = if golden {
            g.0 < MAX_GOLDEN_PER_GROUP
        } else {
            g.1 < b.k as usize
        };
        if !room {
            continue;
        }
        if reads >= MAX_PAYLOAD_READS {
            capped = true;
            break;
        }
        // The copy first (it outlives the raw log), then the raw log.
        let copy = example_key(agent_id, id);
        reads += 1;
        let mut raw = raw_event(h, &copy, id).await;
        if raw.is_none() {
            reads += 1;
            raw = raw_event(h, &raw_key(r, env), id).await;
            if let Some(v) = &raw {
                let body = serde_json::to_vec(v).map_err(|e| format!("{agent_id}: {e}"))?;
                h.blob()
                    .put(&copy, body, "application/json")
                    .await
                    .map_err(|e| fail("copying an example payload", e))?;
            }
        }
        let Some(raw) = raw else {
            missing += 1;
            continue;
        };
        let rank = if golden { g.0 } else { g.1 };
        if golden {
            g.0 += 1;
        } else {
            g.1 += 1;
        }
        selected.push(Example {
            request_id: id.to_owned(),
            widget_type: wt,
            score: score_of(r),
            golden,
            rank,
            input: compact_input(&raw["input"]),
            output: compact_output(&raw["result"]),
        });
    }
    let mut stmts = vec![SqlStatement::new(
        "DELETE FROM sf_examples WHERE agent_id = ?",
        vec![agent_id.into()],
    )];
    for e in &selected {
        let mut tags = vec![if e.golden { "golden" } else { "top" }.to_owned()];
        if let Some(w) = &e.widget_type {
            tags.push(format!("widgetType:{w}"));
        }
        stmts.push(SqlStatement::new(
            "INSERT OR REPLACE INTO sf_examples (id, agent_id, r2_key, score, tags_json) VALUES (?, ?, ?, ?, ?)",
            vec![
                e.request_id.clone().into(),
                agent_id.into(),
                example_key(agent_id, &e.request_id).into(),
                e.score.into(),
                json!(tags).to_string().into(),
            ],
        ));
    }
    h.sql()
        .batch(stmts)
        .await
        .map_err(|e| fail("writing sf_examples", e))?;
    for old in previous
        .iter()
        .filter(|p| !selected.iter().any(|e| &e.request_id == *p))
    {
        h.blob()
            .delete(&example_key(agent_id, old))
            .await
            .map_err(|e| fail("deleting a stale example payload", e))?;
    }
    let kept = fit(&selected, u64::from(b.token_budget));
    let tokens: u64 = kept.iter().map(|e| e.tokens()).sum();
    let doc = json!({
        "agentId": agent_id,
        "builtAtMs": h.clock().now_ms(),
        "examples": kept.iter().map(|e| json!({
            "requestId": e.request_id,
            "widgetType": e.widget_type,
            "input": e.input,
            "output": e.output,
            "score": e.score,
            "golden": e.golden,
        })).collect::<Vec<_>>(),
    });
    h.kv()
        .put(&kv_key(agent_id), &doc.to_string(), None)
        .await
        .map_err(|e| fail("writing the KV bank", e))?;
    Ok(AgentBank {
        agent_id,
        bank: kept.iter().map(|e| e.request_id.clone()).collect(),
        selected,
        tokens,
        token_budget: b.token_budget,
        missing_payloads: missing,
        capped,
    })
}

/// Runs the job once: every bank of the policy.
pub async fn run<H: Host>(iso: &Isolate<H>) -> Result<Vec<AgentBank>, String> {
    let mut out = Vec::new();
    for b in &policy::EXAMPLE_BANKS {
        out.push(
            build(iso, b)
                .await
                .map_err(|e| format!("update-example-banks: {e}"))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sf_core::policy::Agent;

    fn ex(id: &str, golden: bool, rank: usize, score: f64, chars: usize) -> Example {
        Example {
            request_id: id.into(),
            widget_type: None,
            score: Some(score),
            golden,
            rank,
            input: "x".repeat(chars),
            output: String::new(),
        }
    }

    #[test]
    fn texts_and_tokens() {
        assert_eq!(
            compact_input(&json!({"prompt":"  Make it blue ","controls":[]})),
            "Make it blue"
        );
        assert_eq!(
            compact_input(&json!({"sessionId":"s","message":"hi"})),
            "hi"
        );
        assert_eq!(compact_input(&json!({"q":1})), r#"{"q":1}"#);
        assert_eq!(
            compact_input(&json!({"prompt": "é".repeat(3000)}))
                .chars()
                .count(),
            MAX_INPUT_CHARS
        );
        assert_eq!(
            compact_output(&json!({"message":"ok","ops":[],"meta":{"intent":"edit"}})),
            r#"{"message":"ok","ops":[]}"#
        );
        assert_eq!(tokens("abcd", "e"), 2);
        assert_eq!(tokens("", ""), 0);
        assert_eq!(kv_key("sdr.copilot"), "learning:bank:sdr.copilot");
    }

    #[test]
    fn the_bank_fits_its_budget_golden_first_then_rank_by_rank() {
        let sel = vec![
            ex("top-a0", false, 0, 0.9, 40),
            ex("top-a1", false, 1, 0.8, 40),
            ex("top-b0", false, 0, 0.7, 40),
            ex("gold", true, 0, 0.1, 40),
            ex("huge", false, 2, 0.95, 400),
        ];
        let ids = |v: Vec<&Example>| v.iter().map(|e| e.request_id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(fit(&sel, 1000)),
            ["gold", "top-a0", "top-b0", "top-a1", "huge"]
        );
        // 10 tokens each: three fit in 35, the big one never does.
        assert_eq!(ids(fit(&sel, 35)), ["gold", "top-a0", "top-b0"]);
        assert!(fit(&sel, 5).is_empty());
    }

    #[test]
    fn the_shipped_banks() {
        let b = Agent::SdrWidgetCopilotV1.example_bank().expect("a bank");
        assert!(b.k >= 1 && b.token_budget > 0);
        assert!(Agent::DebugGrantProbe.example_bank().is_none());
    }
}
