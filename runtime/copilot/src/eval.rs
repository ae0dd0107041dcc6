//! The golden-set format and its checks (CONTRACT 11), shared by the
//! in-process test runner and `sf eval` (against a base URL or in process):
//! parse the JSONL, decide the agent per case, build the `/v1/execute`
//! input, check one response, and tally pass rate and histograms.
//!
//! Beyond the original fields, cases may carry (our extension, ignored by
//! the original runner): `role` (`sdr`|`cs`|`both`), `fixture` (widget file
//! name), `session` (cases with the same value share a session, in order),
//! `modelReplies`, `pages`, `blockedFetch`, `maxRequests` (stub set-up for
//! in-process runs), `expectedRoute` (`usage.model`), `expectedLanguage`,
//! `expectOpsEqual`, `expectCtaAction`, `expectTextExcludes`,
//! `expectStatus` + `expectErrorMessage` (error answers).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Role;

/// One case and where it came from (1-based line number).
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub line: usize,
    pub name: String,
    pub spec: Value,
}

/// Cases of a JSONL golden file: lines trimmed, blank and `#` lines skipped.
/// Errors name the line and what is wrong with it.
pub fn parse_cases(file_name: &str, text: &str) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let spec: Value = serde_json::from_str(line)
            .map_err(|e| format!("{file_name}:{}: not JSON ({e})", i + 1))?;
        if !spec.is_object() {
            return Err(format!(
                "{file_name}:{}: a case must be a JSON object",
                i + 1
            ));
        }
        if spec["prompt"].as_str().is_none_or(|p| p.trim().is_empty()) {
            return Err(format!(
                "{file_name}:{}: `prompt` must be a non-empty string",
                i + 1
            ));
        }
        let name = spec["name"]
            .as_str()
            .map_or_else(|| format!("case_{}", out.len() + 1), str::to_owned);
        out.push(Case {
            line: i + 1,
            name,
            spec,
        });
    }
    Ok(out)
}

/// The agents a case runs against: `role`, else `expectedPromptRole`, else
/// CONTRACT 11 "Recommended use for the port" (explain and clarify cases and
/// the devstudio cases against CS, URL cases against SDR, Cloudflare cases
/// against both).
pub fn roles_for(case: &Case) -> Vec<Role> {
    match case.spec["role"]
        .as_str()
        .or(case.spec["expectedPromptRole"].as_str())
    {
        Some("sdr") => return vec![Role::Sdr],
        Some("cs") => return vec![Role::Cs],
        Some("both") => return vec![Role::Cs, Role::Sdr],
        _ => {}
    }
    if case.name.starts_with("detect cloudflare") {
        vec![Role::Cs, Role::Sdr]
    } else if case.name.starts_with("url ") || case.name.starts_with("multiple url") {
        vec![Role::Sdr]
    } else {
        vec![Role::Cs]
    }
}

pub fn agent_id(role: Role) -> &'static str {
    match role {
        Role::Sdr => "sdr.widget.copilot.v1",
        Role::Cs => "cs.widget.copilot.v1",
    }
}

/// The widget fixture file a case uses (`widgets/{name}.json`).
pub fn fixture_name(case: &Case) -> &str {
    case.spec["fixture"]
        .as_str()
        .or(case.spec["widgetType"].as_str())
        .unwrap_or("faq")
}

/// The `/v1/execute` `input` for a case, given its fixture `{currentConfig, controls}`.
pub fn build_input(case: &Case, fixture: &Value, session_id: &str) -> Value {
    json!({
        "prompt": case.spec["prompt"],
        "widgetType": case.spec["widgetType"].as_str().unwrap_or("faq"),
        "sessionId": session_id,
        "currentConfig": fixture["currentConfig"],
        "controls": fixture["controls"],
    })
}

/// Checks one answer. `body` is the `/v1/execute` body: `{result, usage, …}`
/// on success, `{error}` otherwise. Returns what did not hold (empty = pass).
pub fn check_response(case: &Case, status: u16, body: &Value) -> Vec<String> {
    let spec = &case.spec;
    let mut problems = Vec::new();
    if let Some(want) = spec["expectStatus"].as_u64() {
        if u64::from(status) != want {
            problems.push(format!("HTTP {status}, want {want}"));
        }
        if let Some(m) = spec["expectErrorMessage"].as_str() {
            if body["error"]["message"] != m {
                problems.push(format!(
                    "error message {}, want {m:?}",
                    body["error"]["message"]
                ));
            }
        }
        return problems;
    }
    if !(200..300).contains(&status) {
        problems.push(format!("HTTP {status}: {}", body["error"]["message"]));
        return problems;
    }
    let r = &body["result"];
    if !r.is_object() {
        return vec!["result is not an object".into()];
    }
    let message = r["message"].as_str().unwrap_or("");
    if message.trim().is_empty() {
        problems.push("blank message".into());
    }
    let meta = &r["meta"];
    if !meta.is_object() {
        problems.push("meta is not an object".into());
    }
    for k in [
        "promptVersion",
        "promptProfileVersion",
        "promptRole",
        "policyVersion",
        "dictionaryHash",
    ] {
        if meta[k].as_str().is_none_or(|s| s.trim().is_empty()) {
            problems.push(format!("meta.{k} is blank"));
        }
    }
    let mut eq = |field: &str, got: &Value| {
        if let Some(want) = spec.get(field).filter(|v| !v.is_null()) {
            if got != want {
                problems.push(format!("{field}: got {got}, want {want}"));
            }
        }
    };
    eq("expectedIntent", &meta["intent"]);
    eq("expectedOutcome", &meta["outcome"]);
    eq("expectedPromptRole", &meta["promptRole"]);
    eq("expectedRoute", &body["usage"]["model"]);
    eq("expectedLanguage", &meta["language"]);
    eq("expectOpsEqual", &r["ops"]);
    eq("expectCtaAction", &r["cta"]["action"]);
    if let Some(want) = spec["expectOps"].as_bool() {
        let has = r["ops"].as_array().is_some_and(|a| !a.is_empty());
        if has != want {
            problems.push(format!("ops present = {has}, want {want}"));
        }
    }
    let lower = message.to_lowercase();
    if let Some(sub) = spec["expectTextIncludes"].as_str() {
        if !lower.contains(&sub.to_lowercase()) {
            problems.push(format!("message {message:?} lacks {sub:?}"));
        }
    }
    if let Some(sub) = spec["expectTextExcludes"].as_str() {
        if lower.contains(&sub.to_lowercase()) {
            problems.push(format!("message {message:?} contains {sub:?}"));
        }
    }
    problems
}

/// Pass rate and histograms over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub total: usize,
    pub failures: Vec<String>,
    pub with_ops: usize,
    pub intents: BTreeMap<String, usize>,
    pub outcomes: BTreeMap<String, usize>,
}

impl Tally {
    /// Records one checked answer; `label` names the case in failure lines.
    pub fn record(&mut self, label: &str, body: &Value, problems: Vec<String>) {
        self.total += 1;
        let meta = &body["result"]["meta"];
        let intent = meta["intent"].as_str().unwrap_or("(error)").to_owned();
        let outcome = meta["outcome"].as_str().unwrap_or("(error)").to_owned();
        *self.intents.entry(intent).or_default() += 1;
        *self.outcomes.entry(outcome).or_default() += 1;
        if body["result"]["ops"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            self.with_ops += 1;
        }
        if !problems.is_empty() {
            self.failures
                .push(format!("{label}: {}", problems.join("; ")));
        }
    }

    pub fn passed(&self) -> usize {
        self.total - self.failures.len()
    }

    /// The summary `sf eval` prints.
    pub fn render(&self) -> String {
        let pct = if self.total == 0 {
            0.0
        } else {
            100.0 * self.passed() as f64 / self.total as f64
        };
        let hist = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut s = format!(
            "pass {}/{} ({pct:.1}%), responses with ops: {}\nintents: {}\noutcomes: {}\n",
            self.passed(),
            self.total,
            self.with_ops,
            hist(&self.intents),
            hist(&self.outcomes)
        );
        for f in &self.failures {
            s.push_str(&format!("FAIL {f}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_skips_comments_and_names_bad_lines() {
        let cases = parse_cases(
            "x.jsonl",
            "# c\n\n {\"prompt\":\"hi\"} \n{\"name\":\"n\",\"prompt\":\"p\"}\n",
        )
        .unwrap_or_default();
        assert_eq!(
            cases
                .iter()
                .map(|c| (c.line, c.name.as_str()))
                .collect::<Vec<_>>(),
            vec![(3, "case_1"), (4, "n")]
        );
        assert_eq!(
            parse_cases("x.jsonl", "{\"name\":1}").unwrap_err(),
            "x.jsonl:1: `prompt` must be a non-empty string"
        );
        assert!(parse_cases("x.jsonl", "\n[1]")
            .unwrap_err()
            .starts_with("x.jsonl:2: "));
    }

    #[test]
    fn checks_and_tally() {
        let case = Case {
            line: 1,
            name: "n".into(),
            spec: json!({"prompt":"p","expectedIntent":"explain","expectOps":false,"expectTextIncludes":"Hello"}),
        };
        let meta = json!({"intent":"explain","outcome":"no_ops","promptVersion":"a","promptProfileVersion":"b","promptRole":"cs","policyVersion":"c","dictionaryHash":"d"});
        let good =
            json!({"result":{"message":"hello there","meta":meta},"usage":{"model":"cs_router"}});
        assert!(check_response(&case, 200, &good).is_empty());
        let bad = json!({"result":{"message":"bye","ops":[{"op":"set"}],"meta":meta}});
        assert_eq!(
            check_response(&case, 200, &bad),
            vec![
                "ops present = true, want false".to_owned(),
                "message \"bye\" lacks \"Hello\"".to_owned()
            ]
        );
        assert_eq!(
            check_response(&case, 502, &json!({"error":{"message":"x"}})),
            vec!["HTTP 502: \"x\"".to_owned()]
        );
        let mut t = Tally::default();
        t.record("a", &good, Vec::new());
        t.record("b", &bad, vec!["nope".into()]);
        assert_eq!(t.render(), "pass 1/2 (50.0%), responses with ops: 1\nintents: explain=2\noutcomes: no_ops=2\nFAIL b: nope\n");
    }
}
