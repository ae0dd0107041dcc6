//! Prompt versions and experiments (issue 11): the admin API refuses what
//! would not run, and the whole loop works on the host: a draft version, an
//! experiment against the policy's baseline, executes split by session,
//! outcomes for one arm only, the decide job, and the winner active and run.
//! Needs [`ADMIN_TOKEN`] in `SF_ADMIN_TOKEN`, `DEEPSEEK_BASE_URL` at the mock
//! and `POST /admin/v1/jobs/{job}/run`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use sf_core::grants::{mint_grant, outcome_signature};

use crate::approvals::ADMIN_TOKEN;
use crate::assert::{ensure, CaseResult};
use crate::http::{json_call, request};
use crate::mock::{MockUpstream, Script};

pub type PromptsCase<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

const AGENT: &str = "sdr.copilot";
const MARKER: &str = "CONFORMANCE-ARM-B";
const SESSIONS: usize = 80;

fn admin(base: &str, method: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
    json_call(base, method, path, Some(ADMIN_TOKEN), body)
}

fn want(got: &(u16, Value), status: u16, what: &str) -> CaseResult {
    ensure(got.0 == status, || {
        format!("{what}: want {status}, got {} {}", got.0, got.1)
    })
}

/// What the mock model answers every `sdr.copilot` execution.
const VISITOR_REPLY: &str = r#"{"message":"It is free to start.","next":"continue"}"#;

/// Every chat completion on the mock answers `content` from now on.
fn answer_with(mock: &MockUpstream, content: &str) {
    mock.reset(Script {
        content: content.into(),
        status: 200,
        delay_ms: 0,
    });
}

fn nonce() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn baseline(base: &str) -> Result<String, String> {
    let got = admin(
        base,
        "GET",
        &format!("/admin/v1/prompts/{AGENT}"),
        &Value::Null,
    )?;
    want(&got, 200, "list versions")?;
    got.1["versions"][0]["version"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no baseline version in {}", got.1))
}

fn versions(base: &str) -> CaseResult {
    let path = format!("/admin/v1/prompts/{AGENT}");
    let got = json_call(base, "GET", &path, None, &Value::Null)?;
    want(&got, 401, "no token")?;
    let (s, v) = admin(base, "GET", &path, &Value::Null)?;
    let first = &v["versions"][0];
    ensure(
        s == 200
            && v["agentId"] == AGENT
            && first["source"] == "policy"
            && first["text"].as_str().is_some_and(|t| !t.is_empty()),
        || format!("list: {s} {v}"),
    )?;
    let got = admin(base, "POST", &path, &json!({"text": "Hello {{visitor}}"}))?;
    want(&got, 400, "an unknown placeholder")?;
    ensure(
        got.1["error"]["issues"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown placeholder `{{visitor}}`")),
        || format!("the refusal names the placeholder: {}", got.1),
    )?;
    want(
        &admin(base, "POST", &path, &json!({"text": "x", "colour": 1}))?,
        400,
        "an unknown field",
    )?;
    want(
        &admin(base, "GET", "/admin/v1/prompts/no.such.agent", &Value::Null)?,
        404,
        "an unknown agent",
    )?;
    let name = format!("conf-draft-{}", nonce());
    let got = admin(
        base,
        "POST",
        &path,
        &json!({"version": name, "text": "Be brief. {{examples}}", "note": "n"}),
    )?;
    want(&got, 201, "a draft")?;
    ensure(
        got.1["status"] == "draft"
            && got.1["version"] == name.as_str()
            && got.1["source"] == "admin",
        || format!("draft: {}", got.1),
    )?;
    want(
        &admin(
            base,
            "POST",
            &path,
            &json!({"version": name, "text": "again"}),
        )?,
        409,
        "a taken version name",
    )?;
    want(
        &admin(
            base,
            "POST",
            &format!("{path}/no-such-version/activate"),
            &Value::Null,
        )?,
        404,
        "activating an unknown version",
    )?;
    let got = admin(
        base,
        "POST",
        &format!("{path}/{name}/activate"),
        &Value::Null,
    )?;
    want(&got, 200, "activate")?;
    let (_, v) = admin(base, "GET", &path, &Value::Null)?;
    ensure(v["active"] == name.as_str(), || {
        format!("active after activate: {v}")
    })?;
    // Back to the baseline for the other cases.
    let base_v = v["versions"][0]["version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    want(
        &admin(
            base,
            "POST",
            &format!("{path}/{base_v}/activate"),
            &Value::Null,
        )?,
        200,
        "re-activate the baseline",
    )?;
    let (_, v) = admin(base, "GET", &path, &Value::Null)?;
    ensure(v["active"] == base_v.as_str(), || {
        format!("baseline active again: {v}")
    })
}

fn execute(base: &str, secret: &str, session: &str, jti: &str) -> Result<(String, Value), String> {
    let grant = mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": jti,
            "sub": {"kind": "anon", "sessionId": session},
            "exp": 4_102_444_800u64,
            "caps": [format!("agent:{AGENT}")],
            "budgets": {"maxTokens": 200, "timeoutMs": 10000, "maxRequests": 1},
            "mode": "editor",
            "ai": {
                "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false
            },
            "trace": {"sessionId": session, "envStage": "local"}
        }),
        secret,
    );
    let body = json!({"grant": grant, "agentId": AGENT, "input": {"sessionId": session, "message": "What does it cost?"}});
    let res = request(
        base,
        "POST",
        "/v1/execute",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )?;
    let v = res.json();
    if res.status != 200 {
        return Err(format!("execute {session}: {} {v}", res.status));
    }
    Ok((v["requestId"].as_str().unwrap_or_default().to_owned(), v))
}

fn system_prompt_sent(mock: &MockUpstream) -> String {
    mock.last_body()
        .and_then(|b| b["messages"][0]["content"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn outcome(base: &str, secret: &str, request_id: &str, session: &str, event: &str) -> CaseResult {
    let body = json!({"command": "ai.outcome.attach", "payload": {
        "requestId": request_id, "sessionId": session, "event": event, "occurredAtMs": 1_700_000_000_000u64}})
    .to_string();
    let sig = outcome_signature(secret, body.as_bytes());
    let res = request(
        base,
        "POST",
        "/v1/outcome",
        &[
            ("content-type", "application/json"),
            ("x-paris-signature", &sig),
        ],
        body.as_bytes(),
    )?;
    ensure(res.status == 200, || {
        format!(
            "outcome: {} {}",
            res.status,
            String::from_utf8_lossy(&res.body)
        )
    })
}

fn experiment_loop(base: &str, secret: &str, mock: &MockUpstream) -> CaseResult {
    let run = nonce();
    let base_v = baseline(base)?;
    let arm_b = format!("conf-b-{run}");
    let path = format!("/admin/v1/prompts/{AGENT}");
    let text = format!("{MARKER}: answer the visitor in one short sentence as JSON {{\"message\": string, \"next\": \"continue\"}}.");
    want(
        &admin(
            base,
            "POST",
            &path,
            &json!({"version": arm_b, "text": text}),
        )?,
        201,
        "arm B's draft",
    )?;
    // What an experiment refuses.
    for (body, what) in [
        (json!({"agentId": AGENT, "arms": [base_v]}), "one arm"),
        (
            json!({"agentId": AGENT, "arms": [base_v, "no-such-version"]}),
            "an unknown version",
        ),
        (
            json!({"agentId": AGENT, "arms": [base_v, base_v]}),
            "a version twice",
        ),
        (
            json!({"agentId": AGENT, "arms": [base_v, arm_b], "metric": "signal:nope"}),
            "an unknown metric",
        ),
        (
            json!({"agentId": "debug.grantProbe", "arms": [base_v, arm_b]}),
            "an agent without prompts",
        ),
    ] {
        want(
            &admin(base, "POST", "/admin/v1/experiments", &body)?,
            400,
            what,
        )?;
    }
    let spec = json!({"agentId": AGENT, "arms": [base_v, arm_b], "metric": "signal:clicked",
                      "minPerArm": 10, "alpha": 0.05, "tunedForPerArm": 10});
    let (s, e) = admin(base, "POST", "/admin/v1/experiments", &spec)?;
    ensure(
        s == 201 && e["status"] == "running" && e["arms"].as_array().map(Vec::len) == Some(2),
        || format!("create: {s} {e}"),
    )?;
    let id = e["id"].as_str().unwrap_or_default().to_owned();
    want(
        &admin(base, "POST", "/admin/v1/experiments", &spec)?,
        409,
        "a second running experiment",
    )?;

    // Sessions split between the arms; only arm B's visitors click.
    answer_with(mock, VISITOR_REPLY);
    let mut on_b = 0;
    for i in 0..SESSIONS {
        let session = format!("conf-exp-{run}-{i}");
        let (request_id, _) = execute(base, secret, &session, &format!("j-exp-{run}-{i}"))?;
        if system_prompt_sent(mock).starts_with(MARKER) {
            on_b += 1;
            outcome(base, secret, &request_id, &session, "cta_clicked")?;
        }
    }
    ensure(on_b > 0 && on_b < SESSIONS, || {
        format!("{on_b} of {SESSIONS} sessions on arm B: the split is not a split")
    })?;
    // Events are filed off the request path: wait until every one counts.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, e) = admin(
            base,
            "GET",
            &format!("/admin/v1/experiments/{id}"),
            &Value::Null,
        )?;
        let samples: u64 = e["arms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["samples"].as_u64())
            .sum();
        if samples == SESSIONS as u64 {
            let b = e["arms"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["version"] == arm_b.as_str()))
                .cloned();
            ensure(
                b.as_ref().and_then(|b| b["successes"].as_u64()) == Some(on_b as u64),
                || format!("arm B successes, want {on_b}: {e}"),
            )?;
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "after 60 s the arms count {samples} of {SESSIONS} interactions: {e}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let got = admin(
        base,
        "POST",
        "/admin/v1/jobs/decide-experiments/run",
        &Value::Null,
    )?;
    want(&got, 200, "run decide-experiments")?;
    let (_, e) = admin(
        base,
        "GET",
        &format!("/admin/v1/experiments/{id}"),
        &Value::Null,
    )?;
    ensure(
        e["status"] == "decided"
            && e["decision"]["winner"] == arm_b.as_str()
            && e["decision"]["evidence"]["arms"].is_array(),
        || format!("decision: {e}"),
    )?;
    let (_, v) = admin(base, "GET", &path, &Value::Null)?;
    ensure(v["active"] == arm_b.as_str(), || {
        format!("the winner is active: {v}")
    })?;
    // Every session now runs the winner.
    execute(
        base,
        secret,
        &format!("conf-exp-{run}-after"),
        &format!("j-exp-{run}-after"),
    )?;
    ensure(system_prompt_sent(mock).starts_with(MARKER), || {
        "a new session does not run the winner".to_string()
    })?;
    want(
        &admin(
            base,
            "POST",
            &format!("{path}/{base_v}/activate"),
            &Value::Null,
        )?,
        200,
        "re-activate the baseline",
    )
}

fn analyze(base: &str, secret: &str, mock: &MockUpstream) -> CaseResult {
    let run = nonce();
    answer_with(mock, VISITOR_REPLY);
    for i in 0..5 {
        let session = format!("conf-an-{run}-{i}");
        let (request_id, _) = execute(base, secret, &session, &format!("j-an-{run}-{i}"))?;
        outcome(base, secret, &request_id, &session, "ux_undo")?;
    }
    let candidate = "IMPROVED-CANDIDATE: answer in one sentence. {{examples}} Reply as JSON {\"message\": string, \"next\": \"continue\"}.";
    answer_with(
        mock,
        &json!({"prompt": candidate, "rationale": "visitors undid long answers"}).to_string(),
    );
    // Events are filed off the request path: run the job until it sees the
    // five failures (below the policy's minimum a run only reports a skip).
    let deadline = Instant::now() + Duration::from_secs(60);
    let v = loop {
        let (s, v) = admin(
            base,
            "POST",
            "/admin/v1/jobs/analyze-and-improve/run",
            &Value::Null,
        )?;
        ensure(s == 200, || format!("run analyze-and-improve: {s} {v}"))?;
        let drafted = v["report"]["agents"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["agentId"] == AGENT && x["draft"].is_string())
        });
        if drafted {
            break v;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "after 60 s the job has not drafted for {AGENT}: {v}"
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let (_, list) = admin(
        base,
        "GET",
        &format!("/admin/v1/prompts/{AGENT}"),
        &Value::Null,
    )?;
    let draft = list["versions"]
        .as_array()
        .and_then(|vs| {
            vs.iter()
                .rev()
                .find(|x| x["source"] == "analyze" && x["text"] == candidate)
        })
        .cloned()
        .ok_or_else(|| format!("no analyze draft with the candidate text: {list} (job: {v})"))?;
    ensure(
        draft["status"] == "draft" && list["active"] != draft["version"],
        || format!("the candidate must stay a draft: {draft}"),
    )?;
    ensure(
        draft["note"]
            .as_str()
            .is_some_and(|n| n.contains("\"undone\"") && n.contains("visitors undid")),
        || format!("the note keeps the evidence: {draft}"),
    )?;
    // It is under test against the active version; stop every test the run started.
    let (_, ex) = admin(base, "GET", "/admin/v1/experiments", &Value::Null)?;
    let mut tested = false;
    for e in ex["experiments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["status"] == "running")
    {
        let arms: Vec<&str> = e["arms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["version"].as_str())
            .collect();
        tested |= e["agentId"] == AGENT
            && arms.contains(&draft["version"].as_str().unwrap_or_default())
            && e["metric"] == "score";
        let id = e["id"].as_str().unwrap_or_default();
        want(
            &admin(
                base,
                "POST",
                &format!("/admin/v1/experiments/{id}/stop"),
                &Value::Null,
            )?,
            200,
            "stop",
        )?;
    }
    ensure(tested, || {
        format!("no running score experiment of the draft: {ex}")
    })
}

pub fn cases<'a>(base: &'a str, secret: &'a str, mock: &'a MockUpstream) -> Vec<PromptsCase<'a>> {
    vec![
        (
            "prompt versions: list, refuse, draft, activate",
            Box::new(move || versions(base)),
        ),
        (
            "experiment: the better prompt wins and becomes active",
            Box::new(move || experiment_loop(base, secret, mock)),
        ),
        (
            "analyze-and-improve drafts a candidate from the failures and tests it",
            Box::new(move || analyze(base, secret, mock)),
        ),
    ]
}
