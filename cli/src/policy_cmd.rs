//! `sf policy check` and `sf policy explain`: the policy compiler without
//! cargo. Both read the YAML under the root (default: the nearest directory
//! upwards holding `agents.yaml` and `policy/`), so they show what the next
//! build will compile, with the same diagnostics. Where there is no such
//! directory, `explain` explains the policy compiled into this binary: the
//! generated `SOURCES` run through the same checker, and says so.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::compiled_policy::{POLICY_VERSION, SOURCES};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check the policy; prints every error (file:line:col, fix) and exits 1 on any.
    Check(CheckArgs),
    /// Print the resolved policy: agents, budgets, profiles, plans, routes (or the generated Rust).
    Explain(ExplainArgs),
    /// JSON Schemas of the policy files, for editors (from the loader's raw structs).
    Schema(crate::policy_schema::SchemaArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directory holding agents.yaml and policy/ (default: found upwards from here).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Table,
    /// The Rust items `include_policy!` generates, formatted.
    Rust,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Directory holding agents.yaml and policy/ (default: found upwards from
    /// here; if there is none, the policy compiled into this binary).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

/// Where the explained policy came from.
enum Origin {
    Files(PathBuf),
    /// The `SOURCES` compiled into this binary.
    Compiled,
}

pub fn run(cmd: PolicyCommand) -> i32 {
    match cmd {
        PolicyCommand::Check(a) => check(a.root),
        PolicyCommand::Explain(a) => explain(a.root, a.format),
        PolicyCommand::Schema(a) => crate::policy_schema::run(a),
    }
}

fn find_root(given: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(r) = given {
        return Ok(r);
    }
    let start =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let mut dir: Option<&Path> = Some(&start);
    while let Some(d) = dir {
        if d.join("agents.yaml").is_file() && d.join("policy").is_dir() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err("no policy found: run inside the repository or pass --root DIR (the directory with agents.yaml and policy/)".into())
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn compile(root: Option<PathBuf>) -> Result<sf_codegen::Generated, i32> {
    let root = match find_root(root) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(2);
        }
    };
    sf_codegen::compile(&root).map_err(|d| {
        eprint!("{}", d.render(color()));
        1
    })
}

/// The policy under `root` (or found upwards), else the compiled-in one.
fn compile_or_compiled(root: Option<PathBuf>) -> Result<(sf_codegen::Generated, Origin), i32> {
    let explicit = root.is_some();
    match find_root(root) {
        Ok(r) => compile(Some(r.clone())).map(|g| (g, Origin::Files(r))),
        Err(e) if explicit => {
            eprintln!("error: {e}");
            Err(2)
        }
        Err(_) => match sf_codegen::compile_sources(SOURCES) {
            Ok(g) => {
                if g.policy.version != POLICY_VERSION {
                    // Same checker, same text: only a stale build could differ.
                    eprintln!(
                        "warning: the embedded sources compile to {}, but this binary was built with {POLICY_VERSION}",
                        g.policy.version
                    );
                }
                Ok((g, Origin::Compiled))
            }
            Err(d) => {
                eprintln!("error: the policy compiled into this binary does not check:");
                eprint!("{}", d.render(color()));
                Err(1)
            }
        },
    }
}

fn check(root: Option<PathBuf>) -> i32 {
    let t = Instant::now();
    match compile(root) {
        Ok(g) => {
            let p = &g.policy;
            println!(
                "policy ok: {} ({} agents, {} profiles, {} providers, {} models, {} routes) in {} ms",
                p.version,
                p.agents.len(),
                p.profiles.len(),
                p.providers.len(),
                p.models.len(),
                p.routes.len(),
                t.elapsed().as_millis()
            );
            0
        }
        Err(code) => code,
    }
}

fn explain(root: Option<PathBuf>, format: Format) -> i32 {
    let (g, origin) = match compile_or_compiled(root) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let v = g.policy.explain_json();
    match format {
        Format::Json => match serde_json::to_string_pretty(&with_origin(v, &origin)) {
            Ok(s) => out(&(s + "\n")),
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        },
        Format::Table => out(&table(&v, &origin)),
        Format::Rust => out(&g.source()),
    }
    0
}

/// `"source": "files"` and `"root"`, or `"source": "compiled"`, first.
fn with_origin(v: Value, origin: &Origin) -> Value {
    let mut m = serde_json::Map::new();
    match origin {
        Origin::Files(root) => {
            m.insert("source".into(), json!("files"));
            m.insert("root".into(), json!(root.display().to_string()));
        }
        Origin::Compiled => {
            m.insert("source".into(), json!("compiled"));
            m.insert("root".into(), Value::Null);
        }
    }
    if let Value::Object(rest) = v {
        m.extend(rest);
    }
    Value::Object(m)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn out(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|_| o.flush());
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(a) => a.iter().map(s).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Left-aligned columns, widths from the content.
fn grid(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < w.len() {
                w[i] = w[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ");
        out.truncate(out.trim_end().len());
        out + "\n"
    };
    let mut out = line(head.iter().map(|h| h.to_string()).collect());
    out += &line(w.iter().map(|n| "-".repeat(*n)).collect());
    for r in rows {
        out += &line(r.clone());
    }
    out
}

fn table(v: &Value, origin: &Origin) -> String {
    let version = s(&v["policyVersion"]);
    let mut out = match origin {
        Origin::Files(root) => format!("policy {version} (from the files under {})\n\n", root.display()),
        Origin::Compiled => format!(
            "policy {version} (compiled into this binary: no agents.yaml and policy/ found here or above)\n\n"
        ),
    };
    let empty = Vec::new();
    let profiles: Vec<String> = v["profiles"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut head = vec!["agent", "surface", "task class", "providers", "default"];
    head.extend(profiles.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = v["agents"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|a| {
            let mut r = vec![
                s(&a["id"]),
                s(&a["surface"]),
                s(&a["taskClass"]),
                s(&a["providers"]),
                s(&a["defaultProvider"]),
            ];
            for p in &profiles {
                let b = &a["budgets"][p];
                r.push(format!(
                    "{}/{}/{}",
                    s(&b["maxTokens"]),
                    s(&b["timeoutMs"]),
                    s(&b["maxRequests"])
                ));
            }
            r
        })
        .collect();
    out += "agents (budgets: maxTokens/timeoutMs/maxRequests)\n";
    out += &grid(&head, &rows);

    let mut rows = Vec::new();
    if let Some(m) = v["profiles"].as_object() {
        for (name, p) in m {
            if let Some(models) = p["models"].as_object() {
                for (prov, pm) in models {
                    let default = if s(&p["defaultProvider"]) == *prov {
                        "*"
                    } else {
                        ""
                    };
                    rows.push(vec![
                        name.clone(),
                        format!("{prov}{default}"),
                        s(&pm["defaultModel"]),
                        s(&pm["allowed"]),
                    ]);
                }
            }
        }
    }
    out += "\nprofiles (* = default provider)\n";
    out += &grid(&["profile", "provider", "default model", "allowed"], &rows);

    let rows: Vec<Vec<String>> = v["plans"]
        .as_object()
        .map(|m| m.iter().map(|(k, p)| vec![k.clone(), s(p)]).collect())
        .unwrap_or_default();
    out += "\nplans\n";
    out += &grid(&["plan", "profile"], &rows);

    let rows: Vec<Vec<String>> = v["routes"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|r| {
            vec![
                s(&r["method"]),
                s(&r["path"]),
                s(&r["auth"]),
                if r["environments"].is_null() {
                    "all".into()
                } else {
                    s(&r["environments"])
                },
                if r["concurrencyCapped"] == Value::Bool(true) {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]
        })
        .collect();
    out += "\nroutes\n";
    out += &grid(&["method", "path", "auth", "environments", "capped"], &rows);

    let rows: Vec<Vec<String>> = v["variables"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|r| {
            let req = r["requiredIn"].as_array().map_or(String::new(), |a| {
                a.iter().map(s).collect::<Vec<_>>().join(", ")
            });
            vec![
                s(&r["name"]),
                if r["secret"] == Value::Bool(true) {
                    "yes".into()
                } else {
                    "no".into()
                },
                if req.is_empty() { "-".into() } else { req },
                s(&r["feature"]),
                if r["default"].is_null() {
                    String::new()
                } else {
                    s(&r["default"])
                },
            ]
        })
        .collect();
    out += "\nvariables\n";
    out += &grid(
        &["name", "secret", "required in", "feature", "default"],
        &rows,
    );
    out + &tenancy_table(&v["tenancy"])
}

/// The tiers of policy/tenancy.yaml: class, model, workloads, quotas.
fn tenancy_table(t: &Value) -> String {
    let empty = Vec::new();
    let rows: Vec<Vec<String>> = t["tiers"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|r| {
            let m = &t["classes"][r["class"].as_str().unwrap_or("")];
            vec![
                s(&r["id"]),
                s(&r["class"]),
                format!("{}/{}", s(&m["provider"]), s(&m["model"])),
                s(&r["workloads"]),
                s(&r["requestsPerDay"]),
                s(&r["tokensPerDay"]),
                monitored(&r["modes"]),
            ]
        })
        .collect();
    let fast = &t["classes"]["fast"];
    let gateway: Vec<String> = t["aiGateway"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|g| format!("{} -> {}", s(&g["provider"]), s(&g["route"])))
        .collect();
    format!(
        "\ntenancy (fallback: fast {}/{} on error or timeout, one deadline {} ms, default tier {}; monitor = shadow mode)\n{}\nAI Gateway routes (when CF_AI_GATEWAY_ACCOUNT_ID and CF_AI_GATEWAY_GATEWAY_ID are set): {}\n",
        s(&fast["provider"]),
        s(&fast["model"]),
        s(&t["timeoutMs"]),
        s(&t["defaultTier"]),
        grid(
            &[
                "tier",
                "class",
                "model",
                "workloads",
                "requests/day",
                "tokens/day",
                "monitor"
            ],
            &rows
        ),
        if gateway.is_empty() {
            "none".to_owned()
        } else {
            gateway.join(", ")
        }
    )
}

/// The rules a tier only monitors, or `-`.
fn monitored(modes: &Value) -> String {
    let m: Vec<&str> = modes
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.as_str() == Some("monitor"))
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default();
    if m.is_empty() {
        "-".into()
    } else {
        m.join(",")
    }
}
