//! `sf serve`: the gateway on the embedded default (SQLite + files), no
//! Cloudflare account needed.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; put a proxy in front to expose it).
    #[arg(long, default_value = "127.0.0.1:3002")]
    pub addr: SocketAddr,
    /// Where the SQLite database and blobs live.
    #[arg(long, default_value = ".sf")]
    pub data_dir: PathBuf,
    /// Worker threads, one single-threaded runtime each (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// wrangler-style KEY=VALUE file read before the environment (the environment wins).
    #[arg(long, default_value = ".dev.vars")]
    pub dev_vars: PathBuf,
    /// Do not log one line per request.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: ServeArgs) -> i32 {
    let mut cfg = sf_server::ServeConfig {
        addr: args.addr,
        data_dir: args.data_dir,
        dev_vars_path: Some(args.dev_vars),
        log_requests: !args.quiet,
        scheduled_jobs: sf_core::policy::SCHEDULE
            .iter()
            .map(|e| (e.cron.to_owned(), e.job.name().to_owned()))
            .collect(),
        ..sf_server::ServeConfig::default()
    };
    if let Some(t) = args.threads {
        cfg.threads = t.max(1);
    }
    warn_missing_settings(cfg.dev_vars_path.as_deref());
    eprintln!(
        "sf: serving San Francisco (policy {}) on http://{} with data in {}",
        sf_core::policy::POLICY_VERSION,
        cfg.addr,
        cfg.data_dir.display()
    );
    match sf_server::serve(cfg) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sf serve: {e}");
            1
        }
    }
}

/// A newcomer's first request should not be a surprise 500: say up front
/// which settings are missing and where to put them.
fn warn_missing_settings(dev_vars: Option<&std::path::Path>) {
    let Ok(vars) = sf_server::NativeVars::from_env(dev_vars) else {
        return;
    };
    for (name, why) in [
        (
            "ENVIRONMENT",
            "routes gated by environment answer 404 and /healthz reports \"unknown\"",
        ),
        (
            "AI_GRANT_HMAC_SECRET",
            "/v1/execute and /v1/outcome answer 500 until it is set",
        ),
        (
            "PARIS_DEV_JWT",
            "the internal (bearer) routes answer 500 until it is set",
        ),
    ] {
        let set = sf_core::ports::Vars::var(&vars, name).is_some_and(|v| !v.trim().is_empty());
        if !set {
            eprintln!(
                "sf: warning: {name} is not set: {why} (set it in the environment or in .dev.vars; see .dev.vars.example)"
            );
        }
    }
}
