//! `sf grant mint`: a grant exactly as Paris would mint it, from the compiled policy.

use clap::{Args, Subcommand};
use sf_core::mint::{mint_payload, MintRequest};
use sf_core::policy::{Plan, Stage};

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Mint a grant (prints the token; `--json` prints the payload too).
    Mint(MintArgs),
}

#[derive(Debug, Args)]
pub struct MintArgs {
    /// Agent id or alias (`widget.copilot.v1` is routed by plan like Paris does).
    #[arg(long)]
    pub agent: String,
    /// Plan: minibob, free, tier1, tier2, tier3.
    #[arg(long, default_value = "free")]
    pub plan: String,
    /// Exposure stage: local, cloud-dev, uat, limited-ga, ga.
    #[arg(long, default_value = "local")]
    pub stage: String,
    #[arg(long)]
    pub session_id: Option<String>,
    #[arg(long)]
    pub instance_public_id: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub max_tokens: Option<f64>,
    #[arg(long)]
    pub timeout_ms: Option<f64>,
    #[arg(long)]
    pub max_requests: Option<f64>,
    #[arg(long)]
    pub max_cost_usd: Option<f64>,
    /// Mint with mode `ops` (default `editor`).
    #[arg(long)]
    pub ops: bool,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 600)]
    pub ttl: u64,
    /// Secret to sign with (default: $AI_GRANT_HMAC_SECRET).
    #[arg(long, env = "AI_GRANT_HMAC_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Print `{"grant", "payload"}` as JSON instead of the bare token.
    #[arg(long)]
    pub json: bool,
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter().map(|x| name(*x)).collect::<Vec<_>>().join(", ")
}

pub fn run(cmd: GrantCommand) -> i32 {
    let GrantCommand::Mint(a) = cmd;
    let Some(plan) = Plan::from_name(&a.plan) else {
        eprintln!(
            "error: unknown plan `{}`\nhelp: use one of {}",
            a.plan,
            names(&Plan::ALL, Plan::name)
        );
        return 2;
    };
    let Some(stage) = Stage::from_name(&a.stage) else {
        eprintln!(
            "error: unknown stage `{}`\nhelp: use one of {}",
            a.stage,
            names(&Stage::ALL, Stage::name)
        );
        return 2;
    };
    let Some(secret) = a.secret.filter(|s| !s.trim().is_empty()) else {
        eprintln!("error: no signing secret\nhelp: set AI_GRANT_HMAC_SECRET or pass --secret");
        return 2;
    };
    let mut req = MintRequest::new(a.agent, plan);
    req.stage = stage;
    req.session_id = a.session_id.clone();
    req.instance_public_id = a.instance_public_id;
    req.provider = a.provider;
    req.model = a.model;
    req.max_tokens = a.max_tokens;
    req.timeout_ms = a.timeout_ms;
    req.max_requests = a.max_requests;
    req.max_cost_usd = a.max_cost_usd;
    req.mode_ops = a.ops;
    req.ttl_s = a.ttl;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let rnd = sf_server::NativeRandom;
    let jti = sf_core::ports::Random::uuid_v4(&rnd);
    let session = a
        .session_id
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| sf_core::ports::Random::uuid_v4(&rnd));
    match mint_payload(&req, now_s, &jti, &session) {
        Ok(payload) => {
            let token = sf_core::grants::mint_grant(&payload, &secret);
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "grant": token, "payload": payload })
                );
            } else {
                println!("{token}");
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
