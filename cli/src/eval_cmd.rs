//! `sf eval`: runs a copilot golden set (CONTRACT.md section 11 JSONL) against
//! a gateway, minting its own grants, and prints the pass rate and the
//! intent/outcome histograms. Exit 1 on any failure.
//!
//! Without `--base-url` it starts its own gateway in process (native host on
//! a temporary data dir, no provider configured), so the deterministic routes
//! of the golden set can be checked with nothing else running.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;
use sf_conformance::http::request;
use sf_copilot::eval::{self, Tally};
use sf_copilot::Role;
use sf_core::mint::{mint_payload, MintRequest};
use sf_core::policy::{Plan, Stage};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Golden set files (JSONL); default: the shipped golden set and our extra cases.
    #[arg(default_values_t = [String::from("fixtures/copilot/prompts.jsonl")])]
    pub files: Vec<String>,
    /// Gateway to evaluate (loopback); default: an in-process gateway.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Widget fixtures `{currentConfig, controls}`, one `<name>.json` each.
    #[arg(long, default_value = "fixtures/copilot/widgets")]
    pub widgets: PathBuf,
    /// The gateway's AI_GRANT_HMAC_SECRET (in-process: any value).
    #[arg(long, env = "AI_GRANT_HMAC_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Print each case's result.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Cases that script a model reply or a web page need the in-process stubs
/// of the unit-test runner; against a real gateway they are skipped.
fn needs_stubs(spec: &Value) -> bool {
    ["modelReplies", "pages", "blockedFetch"]
        .iter()
        .any(|k| spec.get(*k).is_some())
}

fn mint(
    role: Role,
    session: &str,
    secret: &str,
    max_requests: Option<f64>,
) -> Result<String, String> {
    let plan = match role {
        Role::Sdr => Plan::Free,
        Role::Cs => Plan::Tier1,
    };
    let mut req = MintRequest::new(eval::agent_id(role), plan);
    req.stage = Stage::Local;
    req.max_requests = max_requests;
    let jti = format!("eval-{session}");
    let payload = mint_payload(&req, unix_now(), &jti, session)?;
    Ok(sf_core::grants::mint_grant(&payload, secret))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn run(a: EvalArgs) -> i32 {
    let secret = a
        .secret
        .clone()
        .unwrap_or_else(|| "sf-eval-in-process".to_owned());
    // In process: our own gateway on an ephemeral loopback port.
    let local = if a.base_url.is_none() {
        match sf_server::ephemeral::EphemeralServer::start([
            ("ENVIRONMENT", "local".to_owned()),
            ("AI_GRANT_HMAC_SECRET", secret.clone()),
        ]) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: could not start an in-process gateway: {e}");
                return 2;
            }
        }
    } else {
        None
    };
    let base = match (&a.base_url, &local) {
        (Some(u), _) => u.trim_end_matches('/').to_owned(),
        (None, Some(s)) => s.base_url().to_owned(),
        (None, None) => return 2,
    };

    let mut tally = Tally::default();
    let mut skipped = 0usize;
    let mut fixtures: HashMap<String, Value> = HashMap::new();
    let run_id = unix_now();
    for file in &a.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read {file}: {e}");
                return 2;
            }
        };
        let cases = match eval::parse_cases(file, &text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        // A multi-turn session is only meaningful whole: when one of its
        // turns needs stubs, skip them all.
        let stubbed_sessions: Vec<&str> = cases
            .iter()
            .filter(|c| needs_stubs(&c.spec))
            .filter_map(|c| c.spec["session"].as_str())
            .collect();
        for case in &cases {
            let in_stubbed_session = case.spec["session"]
                .as_str()
                .is_some_and(|s| stubbed_sessions.contains(&s));
            if needs_stubs(&case.spec) || in_stubbed_session {
                skipped += 1;
                continue;
            }
            let name = eval::fixture_name(case).to_owned();
            if !fixtures.contains_key(&name) {
                let path = a.widgets.join(format!("{name}.json"));
                let parsed = std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()));
                match parsed {
                    Ok(v) => fixtures.insert(name.clone(), v),
                    Err(e) => {
                        eprintln!("error: widget fixture {}: {e}", path.display());
                        return 2;
                    }
                };
            }
            let fixture = &fixtures[&name];
            for role in eval::roles_for(case) {
                let session = match case.spec["session"].as_str() {
                    Some(s) => format!("eval-{run_id}-{s}-{}", role.name()),
                    None => format!("eval-{run_id}-{}-{}", case.line, role.name()),
                };
                let grant = match mint(role, &session, &secret, case.spec["maxRequests"].as_f64()) {
                    Ok(g) => g,
                    Err(e) => {
                        eprintln!("error: minting a grant: {e}");
                        return 2;
                    }
                };
                let body = serde_json::json!({
                    "grant": grant,
                    "agentId": eval::agent_id(role),
                    "input": eval::build_input(case, fixture, &session),
                    "trace": {"client": "sf-eval"},
                });
                let label = format!("{file}:{} {} [{}]", case.line, case.name, role.name());
                let (status, answer) = match request(
                    &base,
                    "POST",
                    "/v1/execute",
                    &[("content-type", "application/json")],
                    body.to_string().as_bytes(),
                ) {
                    Ok(res) => (res.status, res.json()),
                    Err(e) => (0, serde_json::json!({ "error": { "message": e } })),
                };
                let problems = eval::check_response(case, status, &answer);
                if a.verbose {
                    let verdict = if problems.is_empty() { "ok  " } else { "FAIL" };
                    println!("{verdict} {label}");
                }
                tally.record(&label, &answer, problems);
            }
        }
    }
    println!("{}", tally.render());
    if skipped > 0 {
        println!("skipped {skipped} case(s) that script a model reply or a page (run them with cargo test)");
    }
    println!(
        "eval: {} passed, {} failed",
        tally.passed(),
        tally.failures.len()
    );
    if let Some(s) = local {
        let _ = s.shutdown();
    }
    i32::from(!tally.failures.is_empty() || tally.total == 0)
}
