//! `sf conformance`: the black-box suite against a running gateway.

use clap::Args;
use sf_conformance::mock::{MockUpstream, Script};

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
