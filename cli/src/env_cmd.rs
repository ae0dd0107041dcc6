//! `sf env validate [--env E]`: whether an environment is ready, without
//! network: every variable and secret policy/vars.yaml requires there is set
//! (names only, never values), wrangler.toml declares the bindings the Worker
//! opens and the crons of policy/jobs.yaml, the routing rubric's models are in
//! the catalogue and their providers have credentials, and `.sf.json` is
//! valid and agrees with wrangler.toml. Exit 1 with every problem and its fix.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use sf_core::policy::{Environment, ModelClass, Var, SCHEDULE};

use crate::config::{self, Config};
use crate::out::{self, Fail, Output};
use crate::wrangler::{self, Kind, Wrangler};

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Check an environment's variables, secrets, bindings, crons, rubric and .sf.json (no network).
    #[command(
        after_help = "Examples:\n  sf env validate                          # local: environment + .dev.vars\n  sf env validate --env prod --vars-file .dev.vars.prod\n  SF_ENV=dev sf env validate --format table\n\nExit codes: 0 ready, 1 problems (each with a fix)."
    )]
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub common: out::Common,
    /// Directory holding wrangler.toml and the policy (default: found upwards from here).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// KEY=VALUE file of the values to check (default: `.dev.vars.<env>`, else `.dev.vars`, under the root).
    /// The process environment is read too and wins.
    #[arg(long)]
    pub vars_file: Option<PathBuf>,
}

pub fn run(cmd: EnvCommand) -> i32 {
    let EnvCommand::Validate(a) = cmd;
    let format = a.common.format;
    match validate(&a, |k| std::env::var(k).ok()) {
        Ok(report) => {
            let problems = report.problems.len();
            let env = report.env;
            let o = report.output();
            if problems == 0 {
                out::finish(format, Ok(o))
            } else {
                out::finish_with(
                    format,
                    Some(o),
                    Fail::validation(
                        "ENV_INVALID",
                        format!("{problems} problem(s) in environment {}", env.name()),
                        "fix each problem as its `fix` says, then run `sf env validate` again",
                    ),
                )
            }
        }
        Err(f) => out::finish(format, Err(f)),
    }
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub check: &'static str,
    pub item: String,
    pub problem: String,
    pub fix: String,
}

impl Problem {
    fn json(&self) -> Value {
        json!({"check": self.check, "item": self.item, "problem": self.problem, "fix": self.fix})
    }
}

pub struct Report {
    pub env: Environment,
    pub root: PathBuf,
    pub config: Option<PathBuf>,
    pub vars_file: Option<PathBuf>,
    /// `(variable, where it is set)` for every variable checked.
    pub vars: Vec<(String, bool, Option<&'static str>)>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub checks: Vec<(&'static str, usize)>,
}

impl Report {
    fn output(&self) -> Output {
        let rel = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let json = json!({
            "ok": self.problems.is_empty(),
            "env": self.env.name(),
            "root": self.root.display().to_string(),
            "config": rel(&self.config),
            "varsFile": rel(&self.vars_file),
            "checks": self.checks.iter().map(|(c, n)| json!({
                "check": c, "checked": n,
                "problems": self.problems.iter().filter(|p| p.check == *c).count(),
            })).collect::<Vec<_>>(),
            "variables": self.vars.iter().map(|(n, req, src)| json!({"name": n, "required": req, "setIn": src})).collect::<Vec<_>>(),
            "problems": self.problems.iter().map(Problem::json).collect::<Vec<_>>(),
            "warnings": self.warnings.iter().map(Problem::json).collect::<Vec<_>>(),
        });
        let status = if self.problems.is_empty() {
            out::paint("ready", "1;32")
        } else {
            out::paint(&format!("{} problem(s)", self.problems.len()), "1;31")
        };
        let mut t = format!("environment {}: {status}\n", self.env.name());
        let rows: Vec<Vec<String>> = self
            .checks
            .iter()
            .map(|(c, n)| {
                let bad = self.problems.iter().filter(|p| p.check == *c).count();
                vec![
                    (*c).to_owned(),
                    n.to_string(),
                    if bad == 0 {
                        "ok".into()
                    } else {
                        bad.to_string()
                    },
                ]
            })
            .collect();
        t += &out::grid(&["check", "checked", "problems"], &rows);
        for (title, list) in [("problems", &self.problems), ("warnings", &self.warnings)] {
            if list.is_empty() {
                continue;
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.check.to_owned(),
                        p.item.clone(),
                        p.problem.clone(),
                        p.fix.clone(),
                    ]
                })
                .collect();
            t += &format!("\n{title}\n");
            t += &out::grid(&["check", "item", "problem", "fix"], &rows);
        }
        Output::new(json, t)
    }
}

fn find_root(given: Option<&Path>) -> Result<PathBuf, Fail> {
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
    let mut dir: Option<&Path> = Some(&start);
    while let Some(d) = dir {
        if d.join("wrangler.toml").is_file() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(Fail::validation(
        "NO_ROOT",
        "no wrangler.toml here or above",
        "run inside the repository or pass --root DIR (the directory with wrangler.toml)",
    ))
}

/// Runs every check; `get` reads the process environment.
pub fn validate(a: &ValidateArgs, get: impl Fn(&str) -> Option<String>) -> Result<Report, Fail> {
    let env = config::environment(a.common.env.as_deref(), Environment::Local)?;
    let root = find_root(a.root.as_deref())?;
    let w = Wrangler::read(&root.join("wrangler.toml"))?;
    let mut r = Report {
        env,
        root: root.clone(),
        config: None,
        vars_file: None,
        vars: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        checks: Vec::new(),
    };

    // .sf.json
    let cfg = match config::load(a.common.config.as_deref(), env) {
        Ok(c) => c,
        Err(f) => {
            let mut list = vec![f.clone()];
            if let Some(Value::Array(d)) = f.details.as_deref() {
                list = d
                    .iter()
                    .map(|e| {
                        Fail::validation(
                            "CONFIG_INVALID",
                            out::cell(&e["error"]["message"]),
                            out::cell(&e["error"]["hint"]),
                        )
                    })
                    .collect();
            }
            for f in list {
                r.problems.push(Problem {
                    check: "config",
                    item: config::FILE_NAME.into(),
                    problem: f.message,
                    fix: f.hint,
                });
            }
            Config::default()
        }
    };
    r.config = cfg.path.clone();
    r.checks.push(("config", cfg.values.len()));

    let Some(section) = w.section_for(env.name()) else {
        r.problems.push(Problem {
            check: "bindings",
            item: "wrangler.toml".into(),
            problem: format!(
                "no section has `ENVIRONMENT = \"{}\"` in its [vars]",
                env.name()
            ),
            fix: format!(
                "add [env.{0}] with [env.{0}.vars] ENVIRONMENT = \"{0}\" and its bindings",
                env.name()
            ),
        });
        return Ok(r);
    };

    // Values: the process environment over the vars file; wrangler [vars] for plain variables.
    let file = a.vars_file.clone().or_else(|| {
        [format!(".dev.vars.{}", env.name()), ".dev.vars".to_owned()]
            .into_iter()
            .map(|n| root.join(n))
            .find(|p| p.is_file())
    });
    let mut from_file: HashMap<String, String> = HashMap::new();
    if let Some(p) = &file {
        match std::fs::read_to_string(p) {
            Ok(t) => from_file.extend(sf_server::vars::parse_dev_vars(&t)),
            Err(e) => {
                return Err(Fail::validation(
                    "VARS_FILE",
                    format!("cannot read {}: {e}", p.display()),
                    "fix --vars-file (KEY=VALUE lines, as .dev.vars)",
                ))
            }
        }
    }
    r.vars_file = file;
    let set = |v: Var| -> Option<&'static str> {
        let nonblank = |s: Option<String>| s.is_some_and(|s| !s.trim().is_empty());
        if nonblank(get(v.name())) {
            Some("environment")
        } else if nonblank(from_file.get(v.name()).cloned()) {
            Some("vars file")
        } else if !v.is_secret() && section.var(v.name()).is_some_and(|s| !s.trim().is_empty()) {
            Some("wrangler.toml")
        } else {
            None
        }
    };
    check_vars(&mut r, &section, env, &set);
    check_bindings(&mut r, &section, env, &cfg);
    check_crons(&mut r, &section);
    check_rubric(&mut r, env, &set);
    Ok(r)
}

fn where_to_set(v: Var, env: Environment, section: &wrangler::EnvSection) -> String {
    let flag = if section.key.is_empty() {
        String::new()
    } else {
        format!(" --env {}", section.key)
    };
    match (v.is_secret(), env) {
        (true, Environment::Local) => format!(
            "set {} in the environment or .dev.vars (see .dev.vars.example)",
            v.name()
        ),
        (true, _) => format!(
            "put it on Cloudflare: `wrangler secret put {}{flag}`",
            v.name()
        ),
        (false, Environment::Local) => format!("set {} in the environment or .dev.vars", v.name()),
        (false, _) => format!(
            "add {} = \"...\" under {}'s vars",
            v.name(),
            section.label()
        ),
    }
}

fn check_vars(
    r: &mut Report,
    section: &wrangler::EnvSection,
    env: Environment,
    set: &impl Fn(Var) -> Option<&'static str>,
) {
    for v in Var::ALL {
        let required = v.is_required_in(env);
        let src = set(v);
        if required || src.is_some() {
            r.vars.push((v.name().to_owned(), required, src));
        }
        if required && src.is_none() {
            r.problems.push(Problem {
                check: "variables",
                item: v.name().into(),
                problem: format!(
                    "{} {} is required in {} ({}) and not set",
                    if v.is_secret() { "secret" } else { "variable" },
                    v.name(),
                    env.name(),
                    v.feature()
                ),
                fix: where_to_set(v, env, section),
            });
        }
        if v.is_secret() && section.var(v.name()).is_some() {
            r.problems.push(Problem {
                check: "variables",
                item: v.name().into(),
                problem: format!(
                    "secret {} is written in plain text in {}'s vars",
                    v.name(),
                    section.label()
                ),
                fix: format!(
                    "remove it from wrangler.toml, rotate it, and set it with {}",
                    where_to_set(v, env, section)
                ),
            });
        }
    }
    if let Some(e) = section.var("ENVIRONMENT").filter(|e| *e != env.name()) {
        r.problems.push(Problem {
            check: "variables",
            item: "ENVIRONMENT".into(),
            problem: format!("{} sets ENVIRONMENT = \"{e}\"", section.label()),
            fix: format!("set ENVIRONMENT = \"{}\" there", env.name()),
        });
    }
    for name in section.vars() {
        if Var::ALL.iter().all(|v| v.name() != name) {
            r.warnings.push(Problem {
                check: "variables",
                item: name.clone(),
                problem: format!("{} sets `{name}`, which policy/vars.yaml does not declare (the gateway never reads it)", section.label()),
                fix: "declare it in policy/vars.yaml or remove it".into(),
            });
        }
    }
    // The variables that matter here: required, or set.
    r.checks.push(("variables", r.vars.len()));
}

fn check_bindings(r: &mut Report, section: &wrangler::EnvSection, env: Environment, cfg: &Config) {
    let deployed = env != Environment::Local;
    for (name, kind, required) in wrangler::BINDINGS {
        let Some(b) = section.binding(name, kind) else {
            if required {
                r.problems.push(Problem {
                    check: "bindings",
                    item: name.into(),
                    problem: format!("{} declares no {} binding `{name}` (the Worker opens it)", section.label(), kind.section()),
                    fix: format!("add {} with binding = \"{name}\" (wrangler does not inherit bindings into environments)", section.header(kind.section())),
                });
            }
            continue;
        };
        let (id_key, cfg_key) = match kind {
            Kind::Kv => ("id", Some("kvNamespaceId")),
            Kind::D1 => ("database_id", Some("d1DatabaseId")),
            Kind::R2 => ("bucket_name", Some("r2BucketName")),
            Kind::DurableObject => ("class_name", None),
            Kind::QueueProducer => ("queue", None),
        };
        let id = b.get(id_key).and_then(toml::Value::as_str).unwrap_or("");
        if kind == Kind::DurableObject && id != "BudgetCounter" {
            r.problems.push(Problem {
                check: "bindings",
                item: name.into(),
                problem: format!(
                    "`{name}` has class_name \"{id}\"; the Worker exports BudgetCounter"
                ),
                fix: "set class_name = \"BudgetCounter\"".into(),
            });
        }
        if deployed && matches!(kind, Kind::Kv | Kind::D1) && wrangler::is_placeholder_id(id) {
            r.problems.push(Problem {
                check: "bindings",
                item: name.into(),
                problem: format!(
                    "`{name}` in {} has the placeholder {id_key} {id}",
                    section.label()
                ),
                fix: format!(
                    "create it (`wrangler {}`) and put its id in wrangler.toml{}",
                    if kind == Kind::Kv {
                        "kv namespace create SF_KV"
                    } else {
                        "d1 create <name>"
                    },
                    cfg_key
                        .map(|k| format!(" and `{k}` in .sf.json"))
                        .unwrap_or_default()
                ),
            });
        }
        if let Some(want) = cfg_key.and_then(|k| cfg.str(k).map(|v| (k, v))) {
            if want.1 != id {
                r.problems.push(Problem {
                    check: "bindings",
                    item: name.into(),
                    problem: format!(
                        "`{}` in .sf.json is {} but wrangler.toml's `{name}` {id_key} is {id}",
                        want.0, want.1
                    ),
                    fix: "make them the same (wrangler.toml is what deploys)".into(),
                });
            }
        }
    }
    if let (Some(want), Some(have)) = (cfg.str("workerName"), section.name()) {
        if want != have {
            r.problems.push(Problem {
                check: "bindings",
                item: "name".into(),
                problem: format!(
                    "`workerName` in .sf.json is {want} but {} names the Worker {have}",
                    section.label()
                ),
                fix: "make them the same".into(),
            });
        }
    }
    r.checks.push(("bindings", wrangler::BINDINGS.len()));
}

fn check_crons(r: &mut Report, section: &wrangler::EnvSection) {
    let policy: BTreeSet<String> = SCHEDULE.iter().map(|e| e.cron.to_owned()).collect();
    let have: BTreeSet<String> = section.crons().unwrap_or_default().into_iter().collect();
    let list = |s: &BTreeSet<String>| {
        s.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for c in policy.difference(&have) {
        r.problems.push(Problem {
            check: "crons",
            item: c.clone(),
            problem: format!(
                "policy/jobs.yaml schedules \"{c}\" but {} has no such trigger",
                section.label()
            ),
            fix: format!("set crons = [{}] in its [triggers]", list(&policy)),
        });
    }
    for c in have.difference(&policy) {
        r.problems.push(Problem {
            check: "crons",
            item: c.clone(),
            problem: format!(
                "{} triggers \"{c}\", which policy/jobs.yaml does not schedule (nothing would run)",
                section.label()
            ),
            fix: format!(
                "set crons = [{}], or schedule a job on it in policy/jobs.yaml",
                list(&policy)
            ),
        });
    }
    r.checks.push(("crons", policy.len()));
}

/// The rubric's class models are in the catalogue (the build checks it too;
/// this catches a stale binary) and their providers have credentials here:
/// a problem where tenants are served (dev, prod), a warning locally.
fn check_rubric(r: &mut Report, env: Environment, set: &impl Fn(Var) -> Option<&'static str>) {
    for class in ModelClass::ALL {
        let cm = class.model();
        let name = format!("{}/{}", cm.provider.name(), cm.model.name());
        if crate::catalogue::find(&name).is_none() {
            r.problems.push(Problem {
                check: "routing",
                item: class.name().into(),
                problem: format!(
                    "class `{}` routes to {name}, which the catalogue does not have",
                    class.name()
                ),
                fix: "rebuild sf, or pick a model of policy/providers.yaml in policy/tenancy.yaml"
                    .into(),
            });
        }
        let sets = cm.provider.credential_sets();
        let usable = sets.is_empty() || sets.iter().any(|s| s.iter().all(|v| set(*v).is_some()));
        if !usable {
            let first = sets
                .first()
                .map(|s| s.iter().map(|v| v.name()).collect::<Vec<_>>().join(" + "))
                .unwrap_or_default();
            let p = Problem {
                check: "routing",
                item: class.name().into(),
                problem: format!(
                    "class `{}` routes to {name} but {} has no credentials in {} (its tiers answer 502)",
                    class.name(),
                    cm.provider.name(),
                    env.name()
                ),
                fix: format!("set {first}"),
            };
            if env == Environment::Local {
                r.warnings.push(p);
            } else {
                r.problems.push(p);
            }
        }
    }
    r.checks.push(("routing", ModelClass::ALL.len()));
}
