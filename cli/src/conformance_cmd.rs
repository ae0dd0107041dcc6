//! `sf conformance`: the black-box suite against a running gateway.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use sf_conformance::mock::{MockUpstream, Script};
use sf_conformance::HostKind;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HostKindArg {
    /// The contract only: any host (`sf serve`, the Worker).
    Any,
    /// The contract plus the Worker's own checks (cron, port self-test, queue -> D1,
    /// dead letters); the Worker must carry the `selftest` feature (scripts/worker.sh e2e).
    Worker,
    /// Only the checks of a Worker started without KV, D1 and the Durable Object.
    WorkerDegraded,
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Gateway under test, e.g. http://127.0.0.1:3002 (loopback only).
    #[arg(long)]
    pub base_url: String,
    /// The gateway's AI_GRANT_HMAC_SECRET.
    #[arg(long, env = "AI_GRANT_HMAC_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The gateway's PARIS_DEV_JWT.
    #[arg(long, env = "PARIS_DEV_JWT", hide_env_values = true)]
    pub bearer: String,
    /// Port of the scripted upstream the gateway's DEEPSEEK_BASE_URL points at.
    #[arg(long, default_value_t = 18_411)]
    pub mock_port: u16,
    /// Which host runs the gateway: adds (or, for worker-degraded, selects) host-specific cases.
    #[arg(
        long,
        value_enum,
        default_value = "any",
        env = "SF_CONFORMANCE_HOST_KIND"
    )]
    pub host_kind: HostKindArg,
    /// The host's log file, checked for panics after the cases ran.
    #[arg(long, env = "SF_CONFORMANCE_HOST_LOG")]
    pub host_log: Option<PathBuf>,
}

pub fn run(a: ConformanceArgs) -> i32 {
    let host = a
        .base_url
        .strip_prefix("http://")
        .and_then(|h| h.split(':').next())
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        eprintln!(
            "error: the suite only targets loopback addresses, got {}",
            a.base_url
        );
        return 2;
    }
    let script = Script {
        content: String::new(),
        status: 200,
        delay_ms: 0,
    };
    let mock = match MockUpstream::start_on(a.mock_port, script) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", a.mock_port);
            return 2;
        }
    };
    let cfg = sf_conformance::Config {
        base_url: a.base_url,
        secret: a.secret,
        bearer: a.bearer,
        mock: &mock,
        host: match a.host_kind {
            HostKindArg::Any => HostKind::Any,
            HostKindArg::Worker => HostKind::Worker,
            HostKindArg::WorkerDegraded => HostKind::WorkerDegraded,
        },
        host_log: a.host_log,
    };
    let report = sf_conformance::run(&cfg);
    for name in &report.passed {
        println!("ok   {name}");
    }
    for (name, why) in &report.failed {
        println!("FAIL {name}: {why}");
    }
    println!("{}", report.summary());
    i32::from(!report.failed.is_empty())
}
