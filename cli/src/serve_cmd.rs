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
    let base = match sf_server::NativeVars::from_env(cfg.dev_vars_path.as_deref()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("sf serve: {e}");
            return 1;
        }
    };
    let rnd = sf_server::NativeRandom;
    let vars = match crate::dev_secrets::prepare(&base, &cfg.data_dir, &rnd) {
        Ok(Some(b)) => {
            announce(&b);
            b.vars
        }
        Ok(None) => base,
        Err(e) => {
            eprintln!("sf serve: {e}");
            return 1;
        }
    };
    let get = |n: &str| sf_core::ports::Vars::var(&vars, n);
    let refusals = prod_refusals(get);
    if !refusals.is_empty() {
        for r in &refusals {
            eprintln!("{r}");
        }
        eprintln!(
            "sf serve: not starting: {} required secret(s) missing in prod",
            refusals.len()
        );
        return 2;
    }
    for w in missing_settings(get) {
        eprintln!("{w}");
    }
    eprintln!(
        "sf: serving San Francisco (policy {}) on http://{} with data in {}",
        sf_core::policy::POLICY_VERSION,
        cfg.addr,
        cfg.data_dir.display()
    );
    let local = sf_core::ports::Vars::var(&vars, "ENVIRONMENT").as_deref() == Some("local");
    if local && cfg.addr.port() != 0 {
        for l in crate::dev_secrets::ready_lines(&format!("http://{}", cfg.addr), &vars, &rnd) {
            eprintln!("{l}");
        }
    }
    cfg.vars = Some(vars);
    match sf_server::serve(cfg) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sf serve: {e}");
            1
        }
    }
}

/// What the out-of-the-box start did, once: generated values are shown
/// only when generated (they stay in the data directory).
fn announce(b: &crate::dev_secrets::Bootstrap) {
    if b.env_defaulted {
        eprintln!("sf: ENVIRONMENT is not set: serving as `local` (set ENVIRONMENT=dev or prod to turn development secrets off)");
    }
    if !b.generated.is_empty() {
        eprintln!(
            "sf: generated development secrets into {} (mode 600; shown this once):",
            b.file.display()
        );
        for (n, v) in &b.generated {
            eprintln!("  {n}={v}");
        }
    }
    if !b.reused.is_empty() {
        eprintln!(
            "sf: using development {} from {}",
            b.reused.join(", "),
            b.file.display()
        );
    }
}

/// With `ENVIRONMENT=prod`, one line per secret policy/vars.yaml requires in
/// prod that is unset or blank: `sf serve` does not start then (a production
/// gateway without them would answer 500 on the routes that need them).
fn prod_refusals(get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    use sf_core::policy::{Environment, Var};
    let set = |v: Var| get(v.name()).is_some_and(|s| !s.trim().is_empty());
    let is_prod = get(Var::Environment.name())
        .is_some_and(|e| Environment::from_name(e.trim()) == Some(Environment::Prod));
    if !is_prod {
        return Vec::new();
    }
    Var::ALL
        .into_iter()
        .filter(|v| v.is_secret() && v.is_required_in(Environment::Prod) && !set(*v))
        .map(|v| {
            format!(
                "sf serve: error: secret {} is required in prod ({}) and is not set: {}; {}",
                v.name(),
                v.feature(),
                v.description(),
                where_to_set(v)
            )
        })
        .collect()
}

/// One warning per variable of policy/vars.yaml required in the configured
/// `ENVIRONMENT` that is unset or blank (with no usable `ENVIRONMENT`: that,
/// and the variables every environment requires).
fn missing_settings(get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    use sf_core::policy::{Environment, Var};
    let value = |v: Var| {
        get(v.name())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let mut out = Vec::new();
    let env_name = value(Var::Environment);
    let env = env_name.as_deref().and_then(Environment::from_name);
    let known = Environment::ALL.map(Environment::name).join(", ");
    let required: Vec<Var> = match env {
        Some(e) => Var::ALL
            .into_iter()
            .filter(|v| v.is_required_in(e))
            .collect(),
        None => {
            let why = match &env_name {
                None => "is not set".to_owned(),
                Some(n) => format!("is `{n}`, not one of {known}"),
            };
            out.push(format!(
                "sf: warning: {} {why}: routes gated by environment answer 404 and /healthz reports \"unknown\" ({}); {}",
                Var::Environment.name(),
                Var::Environment.description(),
                where_to_set(Var::Environment)
            ));
            Var::ALL
                .into_iter()
                .filter(|v| *v != Var::Environment)
                .filter(|v| Environment::ALL.iter().all(|e| v.is_required_in(*e)))
                .collect()
        }
    };
    let shown_env = env.map_or("every environment".to_owned(), |e| e.name().to_owned());
    for v in required {
        if value(v).is_none() {
            out.push(format!(
                "sf: warning: {} is not set but is required in {shown_env} ({}): {}; {}",
                v.name(),
                v.feature(),
                v.description(),
                where_to_set(v)
            ));
        }
    }
    out
}

fn where_to_set(v: sf_core::policy::Var) -> String {
    let cloud = if v.is_secret() {
        format!("on Cloudflare `wrangler secret put {}`", v.name())
    } else {
        "on Cloudflare `[vars]` in wrangler.toml".to_owned()
    };
    format!("set it in the environment or in .dev.vars (see .dev.vars.example), {cloud}")
}

#[cfg(test)]
mod tests {
    use super::{missing_settings, prod_refusals};
    use std::collections::HashMap;

    fn warnings(vars: &[(&str, &str)]) -> Vec<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        missing_settings(|n| m.get(n).cloned())
    }

    #[test]
    fn warns_for_every_required_variable_of_the_environment() {
        let w = warnings(&[("ENVIRONMENT", "local")]);
        assert!(
            w.iter()
                .any(|l| l
                    .contains("AI_GRANT_HMAC_SECRET is not set but is required in local (grants)")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|l| l.contains("wrangler secret put PARIS_DEV_JWT")),
            "{w:?}"
        );
        assert!(!w.iter().any(|l| l.contains("DEEPSEEK_API_KEY")), "{w:?}");
    }

    #[test]
    fn nothing_to_say_when_everything_is_set() {
        let all: Vec<(&str, &str)> = sf_core::policy::Var::ALL
            .iter()
            .filter(|v| v.is_required_in(sf_core::policy::Environment::Local))
            .map(|v| {
                (
                    v.name(),
                    if v.name() == "ENVIRONMENT" {
                        "local"
                    } else {
                        "x"
                    },
                )
            })
            .collect();
        assert_eq!(warnings(&all), Vec::<String>::new());
    }

    #[test]
    fn an_unknown_environment_is_named() {
        let w = warnings(&[("ENVIRONMENT", "staging"), ("AI_GRANT_HMAC_SECRET", " ")]);
        assert!(
            w[0].contains("ENVIRONMENT is `staging`, not one of local, dev, prod"),
            "{w:?}"
        );
        assert!(
            w.iter().any(|l| l
                .contains("AI_GRANT_HMAC_SECRET is not set but is required in every environment")),
            "{w:?}"
        );
    }

    #[test]
    fn prod_refuses_without_its_required_secrets_only() {
        let get = |vars: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let r = prod_refusals(get(&[("ENVIRONMENT", "prod"), ("PARIS_DEV_JWT", "x")]));
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].contains("secret AI_GRANT_HMAC_SECRET is required in prod (grants)"));
        assert!(r[0].contains("wrangler secret put AI_GRANT_HMAC_SECRET"));
        assert!(prod_refusals(get(&[("ENVIRONMENT", "dev")])).is_empty());
        assert!(prod_refusals(get(&[
            ("ENVIRONMENT", "prod"),
            ("PARIS_DEV_JWT", "x"),
            ("AI_GRANT_HMAC_SECRET", "y")
        ]))
        .is_empty());
    }
}
