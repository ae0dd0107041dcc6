//! `sf deploy --env E [--dry-run]`: validate the environment (`sf env
//! validate`), build the bundle (`wrangler deploy --dry-run`, whose [build]
//! step is scripts/worker.sh bundle), hold it to its gzip budget, then (not
//! with --dry-run) apply the D1 migrations, deploy, probe `/healthz` and read
//! the deployed policy version from `/health`. Progress on a terminal, one
//! JSON object on stdout.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};
use sf_core::policy::{Environment, POLICY_VERSION};

use crate::env_cmd;
use crate::out::{self, Fail, Output};
use crate::secrets_cmd::{find_root, wrangler_env};
use crate::wrangler_run::Wrangler;

/// The bundle's gzip budget in KiB (scripts/worker.sh BUDGET_KIB; a test keeps them equal).
pub const BUDGET_KIB: u64 = 560;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sf deploy --env prod --dry-run      # validate, build, size check; no Cloudflare call\n  sf deploy --env prod                # + D1 migrations, deploy, /healthz probe\n\nExit codes: 0 deployed (or dry run passed), 1 environment problems or bundle over budget, 2 Cloudflare auth, 3 wrangler or the probe failed."
)]
pub struct DeployArgs {
    #[command(flatten)]
    pub common: out::Common,
    /// Build and check only: no migrations, no deploy (environment problems are reported, not fatal).
    #[arg(long)]
    pub dry_run: bool,
    /// The deployed URL to probe (default: the one wrangler reports).
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// KEY=VALUE file for the environment check (as `sf env validate --vars-file`).
    #[arg(long)]
    pub vars_file: Option<PathBuf>,
    /// The wrangler executable (default: <root>/node_modules/.bin/wrangler).
    #[arg(long, env = "SF_WRANGLER")]
    pub wrangler: Option<PathBuf>,
}

pub fn run(a: DeployArgs) -> i32 {
    out::finish(a.common.format, deploy(&a))
}

fn step(n: u32, total: u32, what: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("sf deploy: [{n}/{total}] {what}");
    }
}

fn gzip_bytes(p: &Path) -> Result<u64, Fail> {
    let o = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(p)
        .output()
        .map_err(|e| Fail::external("GZIP", format!("cannot run gzip: {e}"), "install gzip"))?;
    if !o.status.success() {
        return Err(Fail::validation(
            "BUNDLE_MISSING",
            format!("cannot read {}", p.display()),
            "the build did not write the bundle; run `bash scripts/worker.sh build` to see why",
        ));
    }
    Ok(o.stdout.len() as u64)
}

fn deploy(a: &DeployArgs) -> Result<Output, Fail> {
    let env = match a.common.env.as_deref() {
        Some(e) => crate::config::environment(Some(e), Environment::Local)?,
        None => {
            return Err(Fail::validation(
                "NO_ENV",
                "no environment given",
                "pass --env prod (or dev), or set SF_ENV",
            ))
        }
    };
    let root = find_root(a.root.as_deref())?;
    let total = if a.dry_run { 2 } else { 5 };
    step(1, total, &format!("validating environment {}", env.name()));
    let report = env_cmd::validate(
        &env_cmd::ValidateArgs {
            common: out::Common {
                format: a.common.format,
                env: Some(env.name().to_owned()),
                config: a.common.config.clone(),
            },
            root: Some(root.clone()),
            vars_file: a.vars_file.clone(),
        },
        |k| std::env::var(k).ok(),
    )?;
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| json!({"check": p.check, "item": p.item, "problem": p.problem, "fix": p.fix}))
        .collect();
    if !a.dry_run && !problems.is_empty() {
        return Err(Fail::validation(
            "ENV_INVALID",
            format!(
                "{} problem(s) in environment {}: {}",
                problems.len(),
                env.name(),
                report
                    .problems
                    .iter()
                    .map(|p| p.problem.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            format!(
                "run `sf env validate --env {}` and fix each problem (or try --dry-run)",
                env.name()
            ),
        ));
    }
    let mut w = Wrangler::find(&root, a.wrangler.as_deref())?;
    w.account = crate::config::load(a.common.config.as_deref(), env)?
        .str("accountId")
        .map(str::to_owned);
    let (env_args, worker) = wrangler_env(&root, env)?;
    let with_env = |base: &[&str]| -> Vec<String> {
        base.iter()
            .map(|s| (*s).to_owned())
            .chain(env_args.iter().cloned())
            .collect()
    };
    let run = |args: Vec<String>, what: &str| -> Result<crate::wrangler_run::Ran, Fail> {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = w.run(&refs, None)?;
        if r.ok {
            Ok(r)
        } else {
            Err(Wrangler::failed(what, &r))
        }
    };

    step(2, total, "building the bundle (wrangler deploy --dry-run)");
    let dist = root.join("dist").display().to_string();
    run(
        with_env(&["deploy", "--dry-run", "--outdir", &dist]),
        "deploy --dry-run",
    )?;
    let wasm = gzip_bytes(&root.join("build/index_bg.wasm"))?;
    let js = gzip_bytes(&root.join("build/index.js"))?;
    let kib = (wasm + js) / 1024;
    let bundle = json!({"wasmGzipKiB": wasm / 1024, "jsGzipKiB": js / 1024, "totalGzipKiB": kib, "budgetKiB": BUDGET_KIB});
    if wasm + js > BUDGET_KIB * 1024 {
        return Err(Fail::validation(
            "BUNDLE_TOO_BIG",
            format!("the bundle is {kib} KiB gzip, over its {BUDGET_KIB} KiB budget"),
            "shrink the Worker (README, Figures) before deploying",
        ));
    }
    let mut v = json!({
        "env": env.name(), "worker": worker, "dryRun": a.dry_run, "bundle": bundle,
        "policyVersion": POLICY_VERSION, "problems": problems,
    });
    if !a.dry_run {
        step(3, total, "applying D1 migrations (remote)");
        run(
            with_env(&["d1", "migrations", "apply", "SF_D1", "--remote"]),
            "d1 migrations apply",
        )?;
        step(4, total, "deploying");
        let r = run(with_env(&["deploy"]), "deploy")?;
        let deployed = r.events.iter().find(|e| e["type"] == "deploy");
        let url = a
            .url
            .clone()
            .or_else(|| {
                deployed
                    .and_then(|e| e["targets"][0].as_str())
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                Fail::external(
                    "NO_URL",
                    "wrangler reported no URL for the deployed Worker",
                    "pass --url https://<worker>.<subdomain>.workers.dev to probe it",
                )
            })?;
        let url = url.trim_end_matches('/').to_owned();
        step(5, total, &format!("probing {url}/healthz"));
        let (status, h) =
            crate::admin::get_json(&format!("{url}/healthz"), Duration::from_secs(30))?;
        if status != 200 || h["env"] != json!(env.name()) {
            return Err(Fail::external(
                "PROBE_FAILED",
                format!("{url}/healthz answered {status} {h}"),
                "look at the Worker's logs (`wrangler tail`)",
            ));
        }
        let (_, health) =
            crate::admin::get_json(&format!("{url}/health"), Duration::from_secs(30))?;
        v["url"] = json!(url);
        v["versionId"] = deployed
            .map(|e| e["version_id"].clone())
            .unwrap_or(Value::Null);
        v["deployedPolicyVersion"] = health["policyVersion"].clone();
        v["healthz"] = h;
    }
    let t = format!(
        "{} {} ({}): bundle {} KiB gzip of {} KiB{}{}\n",
        if a.dry_run { "dry run of" } else { "deployed" },
        out::cell(&v["worker"]),
        env.name(),
        kib,
        BUDGET_KIB,
        v.get("url")
            .map(|u| format!(", {} answers", out::cell(u)))
            .unwrap_or_default(),
        v.get("deployedPolicyVersion")
            .map(|p| format!(", policy {}", out::cell(p)))
            .unwrap_or_default(),
    ) + &if report.problems.is_empty() {
        String::new()
    } else {
        format!(
            "{} environment problem(s) (not fatal for a dry run): run `sf env validate --env {}`\n",
            report.problems.len(),
            env.name()
        )
    };
    Ok(Output::new(v, t))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_budget_is_worker_sh_budget() {
        let sh = include_str!("../../scripts/worker.sh");
        assert!(
            sh.contains(&format!("\nBUDGET_KIB={}\n", super::BUDGET_KIB)),
            "scripts/worker.sh BUDGET_KIB differs from sf deploy's"
        );
    }
}
