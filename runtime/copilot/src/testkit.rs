//! Test doubles for the copilot: the in-memory host of `sf_core::testkit`
//! with Tokyo's allowlist, a scripted model, and an independent `apply_ops`
//! that mirrors how Bob applies ops (CONTRACT 6.3) for the property test.

use std::cell::RefCell;
use std::collections::VecDeque;

use serde_json::{Map, Value};

use super::{CopilotCtx, CopilotModel, CopilotOutput, ModelCall, ModelReply, Role};
use sf_core::error::ApiError;

pub use sf_core::testkit::{Canned, FakeHost};

pub const TOKYO: &str = "https://tokyo.test";

/// The in-memory host with Tokyo's base URL set.
pub fn host() -> FakeHost {
    FakeHost::new().with_var(sf_core::policy::Var::TokyoBaseUrl.name(), TOKYO)
}

pub trait FaqAllowlist {
    /// The FAQ allowlist as Tokyo serves it.
    fn with_faq_allowlist(self) -> Self;
}

impl FaqAllowlist for FakeHost {
    fn with_faq_allowlist(self) -> Self {
        self.route(
            &format!("{TOKYO}/widgets/faq/sdr.allowlist.json"),
            Canned::json(&serde_json::json!({"v":1,"paths":[
                {"path":"title","type":"string"},
                {"path":"header.title","type":"string"},
                {"path":"sections.*.title","type":"string"},
                {"path":"sections.*.faqs.*.question","type":"string","role":"question"},
                {"path":"sections.*.faqs.*.answer","type":"richtext","role":"answer"}
            ]})),
        );
        self
    }
}

/// Replies with scripted texts in order; with none left it fails the test
/// through an error the caller can see (a deterministic case must not call it).
#[derive(Default)]
pub struct StubModel {
    pub replies: RefCell<VecDeque<Result<String, ApiError>>>,
    pub calls: RefCell<Vec<ModelCall>>,
}

impl StubModel {
    pub fn with(replies: &[&str]) -> Self {
        let m = StubModel::default();
        for r in replies {
            m.replies.borrow_mut().push_back(Ok((*r).to_owned()));
        }
        m
    }
}

pub const NO_REPLY: &str = "stub model: no scripted reply left";

impl CopilotModel for StubModel {
    async fn complete(&self, req: ModelCall) -> Result<ModelReply, ApiError> {
        self.calls.borrow_mut().push(req);
        let next = self.replies.borrow_mut().pop_front();
        let text = next.unwrap_or_else(|| Err(ApiError::provider(599, "stub", NO_REPLY)))?;
        Ok(ModelReply {
            text,
            provider: "deepseek".into(),
            model: "stub-model".into(),
            prompt_tokens: 11,
            completion_tokens: 7,
        })
    }
}

/// Runs one turn with a standard grant (maxRequests 2, 45 s).
pub fn run_turn(
    host: &FakeHost,
    model: &StubModel,
    role: Role,
    subject: &str,
    input: &Value,
) -> Result<CopilotOutput, ApiError> {
    run_turn_with(host, model, role, subject, 2.0, input)
}

pub fn run_turn_with(
    host: &FakeHost,
    model: &StubModel,
    role: Role,
    subject: &str,
    max_requests: f64,
    input: &Value,
) -> Result<CopilotOutput, ApiError> {
    let cx = CopilotCtx {
        host,
        model,
        role,
        grant_subject_key: subject,
        grant_max_requests_raw: max_requests,
        grant_timeout_ms: 45_000,
        environment: "dev",
        started_ms: host.clock.now.get(),
        prompt: &sf_core::prompt_choice::PromptChoice::default(),
    };
    futures_executor::block_on(super::run(&cx, input))
}

// ---------------------------------------------------------------- Bob's application

fn is_index(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn control_regex_match(control: &str, path: &str) -> bool {
    let a: Vec<&str> = control.split('.').collect();
    let b: Vec<&str> = path.split('.').collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(c, p)| {
            if c.len() > 4 && c.starts_with("__") && c.ends_with("__") {
                is_index(p)
            } else {
                c == p
            }
        })
}

/// Mirror of Bob's `applyWidgetOps` (CONTRACT 6.3): sequential, fail-fast,
/// atomic. Written independently of `ops.rs` so the property test compares
/// two readings of the contract. `setAt` creates missing object keys.
pub fn apply_ops(
    config: &Map<String, Value>,
    controls: &[Value],
    ops: &[Value],
) -> Result<Map<String, Value>, String> {
    if ops.is_empty() {
        return Err("ops must be a non-empty array".into());
    }
    let mut work = Value::Object(config.clone());
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("op must be a string")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .filter(|p| !p.trim().is_empty())
            .ok_or("path must be a string")?;
        if path
            .split('.')
            .any(|s| ["__proto__", "prototype", "constructor"].contains(&s))
        {
            return Err("Path contains a prohibited segment".into());
        }
        let mut best: Option<(&Value, u32)> = None;
        for c in controls {
            let Some(cp) = c.get("path").and_then(Value::as_str) else {
                continue;
            };
            if !control_regex_match(cp, path) {
                continue;
            }
            let score = if c
                .get("options")
                .and_then(Value::as_array)
                .is_some_and(|o| !o.is_empty())
            {
                100
            } else {
                0
            } + if c.get("type").and_then(Value::as_str) == Some("field") {
                0
            } else {
                10
            } + u32::from(c.get("label").and_then(Value::as_str).is_some());
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((c, score));
            }
        }
        let control = best
            .map(|(c, _)| c)
            .ok_or("Path is not allowlisted by compiled controls")?;
        let ckind = control
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("control kind missing")?;
        let segs: Vec<&str> = path.split('.').collect();
        match kind {
            "set" => {
                let v = op.get("value").ok_or("value missing")?;
                let coerced = coerce(ckind, control, v)?;
                set_at(&mut work, &segs, coerced)?;
            }
            "insert" | "remove" | "move" => {
                if ckind != "array" {
                    return Err("not an array control".into());
                }
                let arr = get_mut(&mut work, &segs)
                    .and_then(Value::as_array_mut)
                    .ok_or("target is not an array")?;
                let int = |k: &str| {
                    op.get(k)
                        .and_then(Value::as_f64)
                        .filter(|n| n.fract() == 0.0 && *n >= 0.0)
                        .map(|n| n as usize)
                };
                match kind {
                    "insert" => {
                        let i = int("index")
                            .filter(|i| *i <= arr.len())
                            .ok_or("insert index out of range")?;
                        arr.insert(i, op.get("value").cloned().ok_or("value missing")?);
                    }
                    "remove" => {
                        let i = int("index")
                            .filter(|i| *i < arr.len())
                            .ok_or("remove index out of range")?;
                        arr.remove(i);
                    }
                    _ => {
                        let f = int("from")
                            .filter(|i| *i < arr.len())
                            .ok_or("from out of range")?;
                        let t = int("to")
                            .filter(|i| *i < arr.len())
                            .ok_or("to out of range")?;
                        let x = arr.remove(f);
                        arr.insert(t, x);
                    }
                }
            }
            _ => return Err(format!("unknown op {kind}")),
        }
    }
    match work {
        Value::Object(m) => Ok(m),
        _ => Err("config is no longer an object".into()),
    }
}

fn coerce(kind: &str, control: &Value, v: &Value) -> Result<Value, String> {
    match kind {
        "boolean" => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Number(n) if n.as_f64() == Some(1.0) => Ok(Value::Bool(true)),
            Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Value::Bool(false)),
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
                _ => Err("not a boolean".into()),
            },
            _ => Err("not a boolean".into()),
        },
        "number" => {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => {
                    let t = s.trim();
                    let end = t
                        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                        .unwrap_or(t.len());
                    t[..end].parse::<f64>().ok()
                }
                _ => None,
            };
            n.filter(|x| x.is_finite())
                .map(Value::from)
                .ok_or_else(|| "not a number".into())
        }
        "enum" => {
            let s = v
                .as_str()
                .map(str::trim)
                .ok_or("enum value must be a string")?;
            let in_enum = control
                .get("enumValues")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(s)));
            let in_opts = control
                .get("options")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|o| o.get("value").and_then(Value::as_str) == Some(s))
                });
            if in_enum || in_opts {
                Ok(Value::String(s.to_owned()))
            } else {
                Err("not an allowed value".into())
            }
        }
        "json" => match v {
            Value::Object(_) => Ok(v.clone()),
            Value::String(s) => serde_json::from_str(s).map_err(|_| "not json".into()),
            _ => Err("not json".into()),
        },
        "array" => match v {
            Value::Array(_) => Ok(v.clone()),
            Value::String(s) => serde_json::from_str::<Value>(s)
                .ok()
                .filter(Value::is_array)
                .ok_or_else(|| "not an array".into()),
            _ => Err("not an array".into()),
        },
        "object" => v
            .is_object()
            .then(|| v.clone())
            .ok_or_else(|| "not an object".into()),
        "color" => v
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| "not a color".into()),
        _ => v
            .as_str()
            .map(|s| Value::String(s.to_owned()))
            .ok_or_else(|| "not a string".into()),
    }
}

fn get_mut<'a>(root: &'a mut Value, segs: &[&str]) -> Option<&'a mut Value> {
    let mut cur = root;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get_mut(*s)?,
            Value::Array(a) if is_index(s) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn set_at(root: &mut Value, segs: &[&str], v: Value) -> Result<(), String> {
    let Some((last, init)) = segs.split_last() else {
        return Err("empty path".into());
    };
    let mut cur = root;
    for (i, s) in init.iter().enumerate() {
        let next_is_index = is_index(segs[i + 1]);
        cur = match cur {
            Value::Object(m) => m.entry((*s).to_owned()).or_insert_with(|| {
                if next_is_index {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                }
            }),
            Value::Array(a) if is_index(s) => {
                let idx: usize = s.parse().map_err(|_| "bad index")?;
                a.get_mut(idx).ok_or("index out of range")?
            }
            _ => return Err("cannot descend".into()),
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert((*last).to_owned(), v);
            Ok(())
        }
        Value::Array(a) if is_index(last) => {
            let idx: usize = last.parse().map_err(|_| "bad index")?;
            if idx < a.len() {
                a[idx] = v;
            } else if idx == a.len() {
                a.push(v);
            } else {
                return Err("index out of range".into());
            }
            Ok(())
        }
        _ => Err("cannot set".into()),
    }
}
