//! `sf secrets sync --env E [--from FILE|-]`: the secrets of a KEY=VALUE
//! file to the environment's Worker with `wrangler secret bulk`. Only names
//! policy/vars.yaml declares as secrets are sent; a plain variable or an
//! undeclared name is refused (exit 1) before wrangler runs. Names are
//! printed, values never.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use sf_core::policy::{Environment, Var};

use crate::config;
use crate::out::{self, Fail, Output};
use crate::wrangler::Wrangler as Toml;
use crate::wrangler_run::Wrangler;

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Send the secrets of a file to the environment's Worker (wrangler secret bulk).
    #[command(
        after_help = "Examples:\n  sf secrets sync --env prod                      # reads .dev.vars.prod\n  sf secrets sync --env dev --from secrets.env --dry-run\n  vault read ... | sf secrets sync --env prod --from -\n\nExit codes: 0 synced, 1 the file names a non-secret or undeclared variable, 2 Cloudflare auth, 3 wrangler failed."
    )]
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub common: out::Common,
    /// KEY=VALUE file (`-` = stdin; default `.dev.vars.<env>` under the root).
    #[arg(long)]
    pub from: Option<String>,
    /// Check and list what would be sent; do not run wrangler.
    #[arg(long)]
    pub dry_run: bool,
    /// Directory holding wrangler.toml (default: found upwards from here).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// The wrangler executable (default: <root>/node_modules/.bin/wrangler).
    #[arg(long, env = "SF_WRANGLER")]
    pub wrangler: Option<PathBuf>,
}

pub fn run(cmd: SecretsCommand) -> i32 {
    let SecretsCommand::Sync(a) = cmd;
    out::finish(a.common.format, sync(&a))
}

pub fn find_root(given: Option<&Path>) -> Result<PathBuf, Fail> {
    if let Some(r) = given {
        return Ok(r.to_path_buf());
    }
    let start = std::env::current_dir().map_err(|e| {
        Fail::validation(
            "NO_ROOT",
            format!("cannot read the current directory: {e}"),
            "pass --root DIR",
        )
    })?;
    start
        .ancestors()
        .find(|d| d.join("wrangler.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Fail::validation(
                "NO_ROOT",
                "no wrangler.toml here or above",
                "run inside the repository or pass --root DIR",
            )
        })
}

/// `--env` for wrangler: the `[env.<key>]` of the policy environment (none for the top level).
pub fn wrangler_env(root: &Path, env: Environment) -> Result<(Vec<String>, Option<String>), Fail> {
    let t = Toml::read(&root.join("wrangler.toml"))?;
    let s = t.section_for(env.name()).ok_or_else(|| {
        Fail::validation(
            "NO_WRANGLER_ENV",
            format!(
                "wrangler.toml has no section with ENVIRONMENT = \"{}\"",
                env.name()
            ),
            "run `sf env validate --env` for the fix",
        )
    })?;
    let args = if s.key.is_empty() {
        Vec::new()
    } else {
        vec!["--env".to_owned(), s.key.clone()]
    };
    Ok((args, s.name().map(str::to_owned)))
}

fn sync(a: &SyncArgs) -> Result<Output, Fail> {
    let env = match a.common.env.as_deref() {
        Some(e) => config::environment(Some(e), Environment::Local)?,
        None => {
            return Err(Fail::validation(
                "NO_ENV",
                "no environment given",
                "pass --env prod (or dev, local), or set SF_ENV",
            ))
        }
    };
    let root = find_root(a.root.as_deref())?;
    let (text, source) = match a.from.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                Fail::validation(
                    "SECRETS_FILE",
                    format!("cannot read stdin: {e}"),
                    "pipe KEY=VALUE lines",
                )
            })?;
            (s, "stdin".to_owned())
        }
        given => {
            let p = given
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join(format!(".dev.vars.{}", env.name())));
            let s = std::fs::read_to_string(&p).map_err(|e| {
                Fail::validation(
                    "SECRETS_FILE",
                    format!("cannot read {}: {e}", p.display()),
                    format!("write the secrets as KEY=VALUE lines into .dev.vars.{} (git-ignored), or pass --from FILE", env.name()),
                )
            })?;
            (s, p.display().to_string())
        }
    };
    let mut secrets = Map::new();
    let mut refused = Vec::new();
    for (k, v) in sf_server::vars::parse_dev_vars(&text) {
        match Var::ALL.iter().find(|x| x.name() == k) {
            Some(x) if x.is_secret() && !v.trim().is_empty() => {
                secrets.insert(k, Value::String(v));
            }
            Some(x) if x.is_secret() => refused.push(format!("{k} is empty")),
            Some(_) => refused.push(format!(
                "{k} is not a secret: put it under the environment's [vars] in wrangler.toml"
            )),
            None => refused.push(format!("{k} is not declared in policy/vars.yaml")),
        }
    }
    if !refused.is_empty() {
        return Err(Fail::validation(
            "NOT_SYNCED",
            format!("{source}: {}", refused.join("; ")),
            "remove those lines (or declare the variable in policy/vars.yaml with `secret: true`); nothing was sent",
        ));
    }
    if secrets.is_empty() {
        return Err(Fail::validation(
            "NOTHING_TO_SYNC",
            format!("{source} holds no secrets"),
            "add KEY=VALUE lines for the secrets of policy/vars.yaml",
        ));
    }
    let names: Vec<String> = secrets.keys().cloned().collect();
    let missing: Vec<&str> = Var::ALL
        .iter()
        .filter(|v| v.is_secret() && v.is_required_in(env) && !secrets.contains_key(v.name()))
        .map(|v| v.name())
        .collect();
    let (env_args, worker) = wrangler_env(&root, env)?;
    if !a.dry_run {
        let mut w = Wrangler::find(&root, a.wrangler.as_deref())?;
        w.account = config::load(a.common.config.as_deref(), env)?
            .str("accountId")
            .map(str::to_owned);
        let file = std::env::temp_dir().join(format!("sf-secrets-{}.json", std::process::id()));
        write_private(&file, &Value::Object(secrets).to_string())?;
        let file_s = file.display().to_string();
        let mut args = vec!["secret", "bulk", file_s.as_str()];
        args.extend(env_args.iter().map(String::as_str));
        let r = w.run(&args, None);
        let _ = std::fs::remove_file(&file);
        let r = r?;
        if !r.ok {
            return Err(Wrangler::failed("secret bulk", &r));
        }
    }
    let v = json!({
        "env": env.name(), "worker": worker, "from": source, "dryRun": a.dry_run,
        "synced": names, "requiredNotInFile": missing,
    });
    let mut t = format!(
        "{} {} secret(s) to {} ({}):\n",
        if a.dry_run { "would send" } else { "sent" },
        names.len(),
        worker.as_deref().unwrap_or("?"),
        env.name()
    );
    for n in &names {
        t += &format!("  {n}\n");
    }
    if !missing.is_empty() {
        t += &format!(
            "required in {} but not in the file (kept as they are on Cloudflare): {}\n",
            env.name(),
            missing.join(", ")
        );
    }
    Ok(Output::new(v, t))
}

fn write_private(path: &Path, text: &str) -> Result<(), Fail> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            Fail::external(
                "TEMP_FILE",
                format!("cannot write {}: {e}", path.display()),
                "check the temp directory",
            )
        })
}
