//! The prompt one execution runs. Executions never query the database for
//! it: each prompted agent has one KV document, `learning:prompt:{agentId}`,
//! rewritten by [`refresh`] whenever its active version or running
//! experiment changes (admin calls, the decide job, which also rewrites every
//! document hourly so a lost write heals). No document means the policy's
//! baseline. The example bank (`learning:bank:{agentId}`, written by the
//! `update-example-banks` job) supplies the few-shot examples.

use serde_json::{json, Value};

use sf_core::error::ApiError;
use sf_core::policy::Agent;
use sf_core::ports::{Host, Kv};
use sf_core::prompt_choice::{FewShot, PromptChoice};

use crate::{experiments, prompts};

/// At most this many few-shot examples per execution...
pub const MAX_EXAMPLES: usize = 3;
/// ...and at most this many characters of them (about 1,500 tokens).
pub const MAX_EXAMPLE_CHARS: usize = 6_000;

pub fn doc_key(agent: Agent) -> String {
    format!("learning:prompt:{}", agent.name())
}

pub fn bank_key(agent: Agent) -> String {
    format!("learning:bank:{}", agent.name())
}

/// The stored text of `version` (null for the baseline, which executions
/// take from the policy).
fn text_of(versions: &[prompts::Version], version: &str) -> Value {
    match versions.iter().find(|v| v.version == version) {
        Some(v) if !v.is_baseline() => Value::String(v.text.clone()),
        _ => Value::Null,
    }
}

/// Rewrites the choice document of `agent` from the database.
pub async fn refresh<H: Host>(h: &H, agent: Agent) -> Result<Value, ApiError> {
    let versions = prompts::list(h, agent).await?;
    let active = versions.iter().find(|v| v.status == "active");
    let running = experiments::running(h, agent).await?;
    let key = doc_key(agent);
    let stored_active = active.filter(|v| !v.is_baseline());
    if stored_active.is_none() && running.is_none() {
        h.kv()
            .delete(&key)
            .await
            .map_err(prompts::db_error("clear the prompt choice"))?;
        return Ok(Value::Null);
    }
    let experiment = match &running {
        Some(e) => {
            let mut arms = Vec::with_capacity(e.arms.len());
            for v in &e.arms {
                arms.push(json!({"version": v, "text": text_of(&versions, v)}));
            }
            json!({"id": e.id, "arms": arms})
        }
        None => Value::Null,
    };
    let doc = json!({
        "v": 1,
        "active": stored_active.map(|v| json!({"version": v.version, "text": v.text})),
        "experiment": experiment,
    });
    h.kv()
        .put(&key, &doc.to_string(), None)
        .await
        .map_err(prompts::db_error("store the prompt choice"))?;
    Ok(doc)
}

/// Rewrites every prompted agent's document.
pub async fn refresh_all<H: Host>(h: &H) -> Result<usize, ApiError> {
    let mut n = 0;
    for a in Agent::ALL.iter().filter(|a| a.prompt().is_some()) {
        refresh(h, *a).await?;
        n += 1;
    }
    Ok(n)
}

fn pick(doc: &Value, session_id: &str) -> Option<(String, Option<String>, Option<String>)> {
    let arm_of = |v: &Value| {
        Some((
            v.get("version")?.as_str()?.to_owned(),
            v.get("text").and_then(Value::as_str).map(str::to_owned),
        ))
    };
    if let Some(e) = doc.get("experiment").filter(|e| e.is_object()) {
        let id = e.get("id")?.as_str()?;
        let arms = e.get("arms")?.as_array()?;
        let split = crate::stats::Experiment {
            id: id.to_owned(),
            arms: arms
                .iter()
                .filter_map(|a| a.get("version").and_then(Value::as_str).map(str::to_owned))
                .collect(),
        };
        let i = split.assign(session_id)?;
        let (v, t) = arm_of(arms.get(i)?)?;
        return Some((v, t, Some(id.to_owned())));
    }
    let (v, t) = arm_of(doc.get("active")?)?;
    Some((v, t, None))
}

fn examples(bank: &Value, widget_type: Option<&str>) -> Vec<FewShot> {
    let mut out = Vec::new();
    let mut chars = 0;
    for e in bank
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if out.len() >= MAX_EXAMPLES {
            break;
        }
        let wt = e.get("widgetType").and_then(Value::as_str);
        if let (Some(want), Some(have)) = (widget_type, wt) {
            if want != have {
                continue;
            }
        }
        let (Some(id), Some(input), Some(output)) = (
            e.get("requestId").and_then(Value::as_str),
            e.get("input").and_then(Value::as_str),
            e.get("output").and_then(Value::as_str),
        ) else {
            continue;
        };
        let size = input.len() + output.len();
        if chars + size > MAX_EXAMPLE_CHARS {
            continue;
        }
        chars += size;
        out.push(FewShot {
            request_id: id.to_owned(),
            widget_type: wt.map(str::to_owned),
            input: input.to_owned(),
            output: output.to_owned(),
        });
    }
    out
}

/// The prompt `agent` runs for `session_id`: the running experiment's arm,
/// else the active version, else the policy's baseline; plus the bank's
/// examples of the same widget type. A KV failure runs the baseline (the
/// answer matters more than the experiment) and is logged.
pub async fn choose<H: Host>(
    h: &H,
    agent: Agent,
    session_id: &str,
    widget_type: Option<&str>,
) -> PromptChoice {
    let Some(base) = agent.prompt() else {
        return PromptChoice::default();
    };
    let (doc_key, bank_key) = (doc_key(agent), bank_key(agent));
    let (doc, bank) = futures_util::join!(h.kv().get(&doc_key), h.kv().get(&bank_key));
    let parse = |r: Result<Option<String>, sf_core::ports::PortError>, what: &str| match r {
        Ok(Some(s)) => serde_json::from_str::<Value>(&s).ok(),
        Ok(None) => None,
        Err(e) => {
            sf_core::sf_log!(
                "learning: reading the {what} of {} failed ({e}); running the baseline",
                agent.name()
            );
            None
        }
    };
    let mut choice = PromptChoice::baseline(base.version);
    if let Some((version, text, experiment_id)) =
        parse(doc, "prompt choice").and_then(|d| pick(&d, session_id))
    {
        choice.version = version;
        choice.text = text;
        choice.experiment_id = experiment_id;
    }
    if let Some(b) = parse(bank, "example bank") {
        choice.examples = examples(&b, widget_type);
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_beats_active_and_is_sticky() {
        let doc = json!({"v":1,"active":{"version":"a2","text":"T2"},
            "experiment":{"id":"e1","arms":[{"version":"a2","text":"T2"},{"version":"base","text":null}]}});
        let mut seen = std::collections::HashSet::new();
        for i in 0..50 {
            let s = format!("s{i}");
            let p = pick(&doc, &s);
            assert_eq!(p, pick(&doc, &s));
            let (v, t, e) = p.unwrap_or_default();
            assert_eq!(e.as_deref(), Some("e1"));
            assert_eq!(t.is_some(), v == "a2");
            seen.insert(v);
        }
        assert_eq!(seen.len(), 2);
        let doc = json!({"v":1,"active":{"version":"a2","text":"T2"},"experiment":null});
        assert_eq!(
            pick(&doc, "s"),
            Some(("a2".into(), Some("T2".into()), None))
        );
    }

    #[test]
    fn examples_keep_widget_type_and_budget() {
        let big = "x".repeat(MAX_EXAMPLE_CHARS);
        let bank = json!({"examples":[
            {"requestId":"r1","widgetType":"faq","input":"a","output":"b"},
            {"requestId":"r2","widgetType":"logo","input":"a","output":"b"},
            {"requestId":"r3","widgetType":"faq","input":big,"output":"b"},
            {"requestId":"r4","input":"c","output":"d"},
            {"requestId":"r5","widgetType":"faq","input":"e","output":"f"},
            {"requestId":"r6","widgetType":"faq","input":"g","output":"h"}]});
        let ids: Vec<String> = examples(&bank, Some("faq"))
            .into_iter()
            .map(|e| e.request_id)
            .collect();
        assert_eq!(ids, ["r1", "r4", "r5"]);
    }
}
