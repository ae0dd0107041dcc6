//! `POST /v1/l10n/translate` (CONTRACT 2.10, 7.5): Prague system strings
//! through the OpenAI Responses API with a strict JSON schema. No grant.
//! The route checks concurrency, environment and Bearer before this.

use serde_json::{json, Value};

use crate::allowlist::{EntryType, Item};
use crate::error::{IoFailure, L10nError};
use crate::io::{Reply, TranslateIo, Usage};
use crate::js::js_len;
use crate::locale::normalize_locale;
use crate::prompt::{
    prague_system_prompt, prague_user_prompt, POLICY_VERSION, PRAGUE_PROMPT_VERSION,
};
use crate::safety::check_translation;

pub const MAX_ITEMS: usize = 250;
pub const MAX_CHARS: usize = 12_000;
pub const MAX_OUTPUT_TOKENS: u32 = 2000;
/// Deadline the implementation of [`TranslateIo::post_responses`] enforces.
pub const TIMEOUT_MS: u64 = 90_000;
pub const DEFAULT_MODEL: &str = "gpt-5.2";
pub const RESPONSES_URL: &str = "https://api.openai.com/v1/responses";

/// A validated translate job.
#[derive(Debug, Clone, PartialEq)]
pub struct PragueJob {
    pub chunk_key: String,
    pub block_kind: String,
    pub locale: String,
    pub base_fingerprint: String,
    pub base_updated_at: String,
    pub allowlist_version: f64,
    pub allowlist_hash: Option<Value>,
    pub items: Vec<Item>,
}

fn non_empty(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Validates the body (the job itself or `{job:{...}}`); anything off is
/// `400 "Invalid l10n translate job"`.
pub fn parse_translate_job(body: &Value) -> Result<PragueJob, L10nError> {
    let invalid = || L10nError::bad_request("Invalid l10n translate job");
    let job = match body.get("job") {
        Some(j) if j.is_object() && body.is_object() => j,
        _ => body,
    };
    if !job.is_object()
        || job.get("v").and_then(Value::as_f64) != Some(1.0)
        || job.get("surface").and_then(Value::as_str) != Some("prague")
        || job.get("kind").and_then(Value::as_str) != Some("system")
    {
        return Err(invalid());
    }
    let allowlist_version = job
        .get("allowlistVersion")
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite())
        .ok_or_else(invalid)?;
    let items = job
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?;
    let items = items
        .iter()
        .map(|it| {
            let path = non_empty(it, "path")?;
            let kind = match it.get("type").and_then(Value::as_str) {
                Some("string") => EntryType::String,
                Some("richtext") => EntryType::Richtext,
                _ => return None,
            };
            let value = it.get("value").and_then(Value::as_str)?.to_owned();
            Some(Item { path, kind, value })
        })
        .collect::<Option<Vec<Item>>>()
        .ok_or_else(invalid)?;
    Ok(PragueJob {
        chunk_key: non_empty(job, "chunkKey").ok_or_else(invalid)?,
        block_kind: non_empty(job, "blockKind").ok_or_else(invalid)?,
        locale: non_empty(job, "locale").ok_or_else(invalid)?,
        base_fingerprint: non_empty(job, "baseFingerprint").ok_or_else(invalid)?,
        base_updated_at: non_empty(job, "baseUpdatedAt").ok_or_else(invalid)?,
        allowlist_version,
        allowlist_hash: job.get("allowlistHash").cloned(),
        items,
    })
}

/// What to do with a valid job.
#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    /// No items: log and answer `{"v":1,"locale","items":[]}` without a model call.
    Empty { locale: String },
    /// Call the model with this Responses API body.
    Call { locale: String, body: Value },
}

/// Locale and size checks, then the request body (CONTRACT 2.10 order).
pub fn prepare(job: &PragueJob, model: Option<&str>) -> Result<Prepared, L10nError> {
    let locale =
        normalize_locale(&job.locale).ok_or_else(|| L10nError::bad_request("Invalid locale"))?;
    if job.items.len() > MAX_ITEMS {
        return Err(L10nError::bad_request(format!(
            "Too many items ({})",
            job.items.len()
        )));
    }
    if job.items.is_empty() {
        return Ok(Prepared::Empty { locale });
    }
    let chars: usize = job.items.iter().map(|i| js_len(&i.value)).sum();
    if chars > MAX_CHARS {
        return Err(L10nError::bad_request(format!(
            "Input too large ({chars} chars)"
        )));
    }
    let system = prague_system_prompt(&locale, &job.chunk_key, &job.block_kind);
    let user = prague_user_prompt(&job.items);
    Ok(Prepared::Call {
        body: responses_body(model.unwrap_or(DEFAULT_MODEL), &system, &user),
        locale,
    })
}

/// The Responses API request: two input messages and a strict
/// `json_schema` text format `{items:[{path,value}]}`.
pub fn responses_body(model: &str, system: &str, user: &str) -> Value {
    json!({
        "model": model,
        "input": [
            {"role": "system", "content": [{"type": "input_text", "text": system}]},
            {"role": "user", "content": [{"type": "input_text", "text": user}]},
        ],
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "text": {"format": {
            "type": "json_schema",
            "name": "translations",
            "strict": true,
            "schema": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {"path": {"type": "string"}, "value": {"type": "string"}},
                        "required": ["path", "value"],
                    },
                }},
                "required": ["items"],
            },
        }},
    })
}

fn openai(message: impl Into<String>) -> L10nError {
    L10nError::provider("openai", message)
}

/// `output_text`, else the concatenated `output[].content[type=output_text].text`.
fn output_text(data: &Value) -> Option<String> {
    if let Some(t) = data
        .get("output_text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_owned());
    }
    let output = data.get("output")?.as_array()?;
    Some(
        output
            .iter()
            .filter_map(|o| o.get("content").and_then(Value::as_array))
            .flatten()
            .filter(|c| c.get("type").and_then(Value::as_str) == Some("output_text"))
            .filter_map(|c| c.get("text").and_then(Value::as_str))
            .collect(),
    )
}

/// Checks the Responses API answer against the job: `(path, value)` in the
/// job's order, plus usage (latency filled in by the caller).
pub fn parse_responses_reply(
    reply: &Reply,
    job: &PragueJob,
    model: &str,
) -> Result<(Vec<(String, String)>, Usage), L10nError> {
    if !reply.ok() {
        let text = format!("Upstream error ({}) {}", reply.status, reply.body);
        return Err(openai(crate::js::js_trim(&text)));
    }
    // A 2xx that is not JSON escaped the original's handlers.
    let data: Value = serde_json::from_str(&reply.body).map_err(|_| L10nError::unhandled())?;
    let text = output_text(&data)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| openai("Empty model response"))?;
    let parsed: Value = serde_json::from_str(&text).map_err(|_| openai("Invalid JSON response"))?;
    let items = parsed
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| openai("Expected JSON items array"))?;
    if items.len() != job.items.len() {
        return Err(openai("Translation output size mismatch"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, (got, want)) in items.iter().zip(&job.items).enumerate() {
        let path = got.get("path").and_then(Value::as_str);
        let value = got.get("value").and_then(Value::as_str);
        let (Some(path), Some(value)) = (path, value) else {
            return Err(openai(format!("Unexpected path at index {i}")));
        };
        if path != want.path {
            return Err(openai(format!("Unexpected path at index {i}")));
        }
        check_translation(want, value, "openai")?;
        out.push((path.to_owned(), value.to_owned()));
    }
    let usage = Usage {
        provider: "openai".into(),
        model: data
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_owned(),
        prompt_tokens: data
            .pointer("/usage/input_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        completion_tokens: data
            .pointer("/usage/output_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        latency_ms: 0,
        cost_usd: None,
    };
    Ok((out, usage))
}

/// R2 key of a translate log: `l10n/prague/{chunkKey}/{locale}/{baseUpdatedAt}.{ms}.json`
/// (the job's locale as sent, as in the original).
pub fn translate_log_key(job: &PragueJob, now_ms: u64) -> String {
    format!(
        "l10n/prague/{}/{}/{}.{}.json",
        job.chunk_key, job.locale, job.base_updated_at, now_ms
    )
}

fn response(locale: &str, items: &[(String, String)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(p, v)| json!({"path": p, "value": v}))
        .collect();
    json!({"v": 1, "locale": locale, "items": items})
}

/// The whole route after auth: validate, call, check, log; the `200` body or the error.
pub async fn translate<T: TranslateIo>(io: &T, body: &Value) -> Result<Value, L10nError> {
    let started = io.now_ms();
    let job = parse_translate_job(body)?;
    let model = io.model().unwrap_or_else(|| DEFAULT_MODEL.to_owned());
    let (locale, request) = match prepare(&job, Some(&model))? {
        Prepared::Empty { locale } => {
            let log = json!({"status": "skipped", "reason": "no_translatables", "occurredAtMs": started,
                             "locale": locale, "chunkKey": job.chunk_key, "blockKind": job.block_kind});
            let _ = io
                .put_log(&translate_log_key(&job, io.now_ms()), &log.to_string())
                .await;
            return Ok(response(&locale, &[]));
        }
        Prepared::Call { locale, body } => (locale, body),
    };
    let reply = io
        .post_responses(&request.to_string())
        .await
        .map_err(|f| match f {
            IoFailure::Timeout => L10nError::budget("Execution timeout exceeded"),
            IoFailure::Config(m) => L10nError::internal(m),
            IoFailure::Network(_) => openai("Upstream request failed"),
        })?;
    let latency = io.now_ms().saturating_sub(started);
    let (items, mut usage) = parse_responses_reply(&reply, &job, &model)?;
    usage.latency_ms = latency;
    let log = json!({
        "status": "ok", "occurredAtMs": started, "locale": locale, "chunkKey": job.chunk_key,
        "blockKind": job.block_kind, "baseFingerprint": job.base_fingerprint,
        "baseUpdatedAt": job.base_updated_at, "allowlistVersion": job.allowlist_version,
        "allowlistHash": job.allowlist_hash.clone().unwrap_or(Value::Null),
        "promptVersion": PRAGUE_PROMPT_VERSION, "policyVersion": POLICY_VERSION, "usage": usage.to_json(),
    });
    let _ = io
        .put_log(&translate_log_key(&job, io.now_ms()), &log.to_string())
        .await;
    Ok(response(&locale, &items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(items: Value) -> Value {
        json!({"v": 1, "surface": "prague", "kind": "system", "chunkKey": "home", "blockKind": "hero",
               "locale": "FR_fr", "baseFingerprint": "fp", "baseUpdatedAt": "2026-01-01",
               "allowlistVersion": 3, "items": items})
    }

    fn err_msg(r: Result<impl std::fmt::Debug, L10nError>) -> String {
        r.err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn validates_jobs() {
        assert!(parse_translate_job(&job(json!([]))).is_ok());
        assert!(parse_translate_job(&json!({"job": job(json!([]))})).is_ok());
        for (k, v) in [
            ("v", json!(2)),
            ("surface", json!("x")),
            ("chunkKey", json!("")),
            ("allowlistVersion", json!("3")),
            ("items", json!({})),
            ("items", json!([{"path": "a", "type": "html", "value": ""}])),
            (
                "items",
                json!([{"path": "", "type": "string", "value": ""}]),
            ),
            ("items", json!([{"path": "a", "type": "string"}])),
        ] {
            let mut j = job(json!([]));
            j[k] = v;
            assert_eq!(
                err_msg(parse_translate_job(&j)),
                "Invalid l10n translate job",
                "{k}"
            );
        }
    }

    #[test]
    fn limits_and_empty() {
        let j = parse_translate_job(&job(json!([]))).expect("valid");
        assert_eq!(
            prepare(&j, None),
            Ok(Prepared::Empty {
                locale: "fr-fr".into()
            })
        );
        let mut bad = j.clone();
        bad.locale = "f".into();
        assert_eq!(err_msg(prepare(&bad, None)), "Invalid locale");
        let item = |v: &str| Item {
            path: "p".into(),
            kind: EntryType::String,
            value: v.into(),
        };
        let mut many = j.clone();
        many.items = vec![item("x"); 251];
        assert_eq!(err_msg(prepare(&many, None)), "Too many items (251)");
        let mut big = j.clone();
        big.items = vec![item(&"x".repeat(6001)); 2];
        assert_eq!(
            err_msg(prepare(&big, None)),
            "Input too large (12002 chars)"
        );
        big.items = vec![item("Hello")];
        let Ok(Prepared::Call { body, .. }) = prepare(&big, None) else {
            panic!("call")
        };
        assert_eq!(body["model"], "gpt-5.2");
        assert_eq!(body["text"]["format"]["type"], "json_schema");
        assert_eq!(body["max_output_tokens"], 2000);
    }

    #[test]
    fn parses_replies() {
        let j = parse_translate_job(&job(json!([
            {"path": "a", "type": "string", "value": "Hi {name}"},
            {"path": "b", "type": "richtext", "value": "<b>Bold</b>"}
        ])))
        .expect("valid");
        let reply = |inner: Value| {
            Reply {
            status: 200,
            body: json!({"model": "gpt-x", "output": [{"content": [{"type": "output_text", "text": inner.to_string()}]}],
                         "usage": {"input_tokens": 5, "output_tokens": 7}}).to_string(),
        }
        };
        let ok = parse_responses_reply(
            &reply(
                json!({"items": [{"path": "a", "value": "Salut {name}"}, {"path": "b", "value": "<b>Gras</b>"}]}),
            ),
            &j,
            "m",
        );
        let Ok((items, usage)) = ok else {
            panic!("{ok:?}")
        };
        assert_eq!(items[1], ("b".to_owned(), "<b>Gras</b>".to_owned()));
        assert_eq!(
            (
                usage.model.as_str(),
                usage.prompt_tokens,
                usage.completion_tokens
            ),
            ("gpt-x", 5, 7)
        );
        assert_eq!(
            err_msg(parse_responses_reply(&reply(json!({"items": []})), &j, "m")),
            "Translation output size mismatch"
        );
        assert_eq!(
            err_msg(parse_responses_reply(&reply(json!({"x": 1})), &j, "m")),
            "Expected JSON items array"
        );
        assert_eq!(
            err_msg(parse_responses_reply(
                &reply(json!({"items": [{"path": "b", "value": ""}, {"path": "a", "value": ""}]})),
                &j,
                "m"
            )),
            "Unexpected path at index 0"
        );
        assert_eq!(
            err_msg(parse_responses_reply(
                &reply(
                    json!({"items": [{"path": "a", "value": "Salut"}, {"path": "b", "value": "<b>x</b>"}]})
                ),
                &j,
                "m"
            )),
            "Placeholder mismatch at path: a"
        );
        assert_eq!(
            err_msg(parse_responses_reply(
                &reply(
                    json!({"items": [{"path": "a", "value": "{name}"}, {"path": "b", "value": "x"}]})
                ),
                &j,
                "m"
            )),
            "Richtext tag mismatch at path: b"
        );
        let text = |t: &str| Reply {
            status: 200,
            body: json!({"output_text": t}).to_string(),
        };
        assert_eq!(
            err_msg(parse_responses_reply(&text("nope"), &j, "m")),
            "Invalid JSON response"
        );
        assert_eq!(
            err_msg(parse_responses_reply(&text(""), &j, "m")),
            "Empty model response"
        );
        let up = Reply {
            status: 503,
            body: "busy".into(),
        };
        assert_eq!(
            err_msg(parse_responses_reply(&up, &j, "m")),
            "Upstream error (503) busy"
        );
        let junk = Reply {
            status: 200,
            body: "<html>".into(),
        };
        assert_eq!(
            parse_responses_reply(&junk, &j, "m")
                .err()
                .map(|e| e.status),
            Some(500)
        );
        assert_eq!(
            translate_log_key(&j, 9),
            "l10n/prague/home/FR_fr/2026-01-01.9.json"
        );
    }
}
