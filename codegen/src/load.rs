//! Finding and parsing the policy files. A root is a directory holding
//! `agents.yaml` and `policy/*.yaml`. A root may also hold a file named
//! `EXTENDS` whose content is a path (relative to that root) to another root:
//! files missing from the first are then read from the second. Test fixtures
//! use this to hold only the one file they break.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_saphyr::Location;

use crate::diag::{Diagnostic, Diagnostics};

pub const AGENTS: &str = "agents.yaml";
pub const PROVIDERS: &str = "policy/providers.yaml";
pub const PROFILES: &str = "policy/profiles.yaml";
pub const BUDGETS: &str = "policy/budgets.yaml";
pub const ENVIRONMENTS: &str = "policy/environments.yaml";
pub const ENDPOINTS: &str = "policy/endpoints.yaml";
pub const LEXICON: &str = "policy/lexicon.yaml";
pub const VARS: &str = "policy/vars.yaml";
pub const JOBS: &str = "policy/jobs.yaml";
pub const QUEUES: &str = "policy/queues.yaml";
pub const PROMPTS: &str = "policy/prompts.yaml";
pub const APPROVALS: &str = "policy/approvals.yaml";
pub const LEARNING: &str = "policy/learning.yaml";
pub const TENANCY: &str = "policy/tenancy.yaml";

pub const FILES: [&str; 14] = [
    AGENTS,
    PROVIDERS,
    PROFILES,
    BUDGETS,
    ENVIRONMENTS,
    ENDPOINTS,
    LEXICON,
    VARS,
    JOBS,
    QUEUES,
    PROMPTS,
    APPROVALS,
    LEARNING,
    TENANCY,
];

/// Policy files are small; anything bigger is a mistake or an attack.
const MAX_FILE_BYTES: u64 = 1 << 20;
const MAX_EXTENDS_HOPS: usize = 4;

#[derive(Debug, Clone)]
pub struct Source {
    /// One of [`FILES`], or a file one of them references (a prompt text).
    pub rel: String,
    pub abs: PathBuf,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Sources {
    pub files: Vec<Source>,
}

impl Sources {
    pub fn text(&self, rel: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|s| s.rel == rel)
            .map(|s| s.text.as_str())
    }

    pub fn line(&self, rel: &str, line: u64) -> Option<String> {
        if line == 0 {
            return None;
        }
        self.text(rel)?
            .lines()
            .nth((line - 1) as usize)
            .map(str::to_string)
    }

    /// A diagnostic at `loc` in `rel`, with the excerpt filled in.
    pub fn diag(
        &self,
        rel: &str,
        loc: Location,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            message,
            file: rel.to_string(),
            line: loc.line(),
            col: loc.column(),
            excerpt: self.line(rel, loc.line()),
            help,
        }
    }
}

/// Reads every policy file, following `EXTENDS`. Missing or unreadable files
/// are reported together.
pub fn read_sources(root: &Path) -> Result<Sources, Diagnostics> {
    let mut roots = vec![root.to_path_buf()];
    let mut errs = Vec::new();
    for _ in 0..MAX_EXTENDS_HOPS {
        let Some(last) = roots.last() else { break };
        let ext = last.join("EXTENDS");
        if !ext.is_file() {
            break;
        }
        match std::fs::read_to_string(&ext) {
            Ok(s) => {
                let next = last.join(s.trim());
                roots.push(next);
            }
            Err(e) => {
                errs.push(file_diag(
                    "EXTENDS",
                    format!("cannot read `EXTENDS`: {e}"),
                    None,
                ));
                break;
            }
        }
    }
    let mut out = Sources::default();
    for rel in FILES {
        let Some(abs) = roots.iter().map(|r| r.join(rel)).find(|p| p.is_file()) else {
            errs.push(file_diag(
                rel,
                format!("policy file `{rel}` not found under `{}`", root.display()),
                Some(format!(
                    "create `{rel}` or pass the directory that contains it as the policy root"
                )),
            ));
            continue;
        };
        match std::fs::metadata(&abs) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                errs.push(file_diag(
                    rel,
                    format!(
                        "policy file `{rel}` is {} bytes; the limit is {MAX_FILE_BYTES}",
                        m.len()
                    ),
                    Some("policy files are small hand-written YAML; split or trim it".into()),
                ));
                continue;
            }
            _ => {}
        }
        match std::fs::read_to_string(&abs) {
            Ok(text) => out.files.push(Source {
                rel: rel.to_string(),
                abs: abs.canonicalize().unwrap_or(abs),
                text,
            }),
            Err(e) => errs.push(file_diag(rel, format!("cannot read `{rel}`: {e}"), None)),
        }
    }
    read_referenced(&roots, &mut out);
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errs))
    }
}

/// The policy files given as `(relative path, text)` pairs instead of read
/// from disk (e.g. the copy a binary carries in its generated `SOURCES`).
/// Paths are those of [`FILES`]; others are ignored, and `abs` is the
/// relative path. Missing or oversized files are reported as on disk.
pub fn memory_sources(files: &[(&str, &str)]) -> Result<Sources, Diagnostics> {
    let mut out = Sources::default();
    let mut errs = Vec::new();
    for rel in FILES {
        let Some((_, text)) = files.iter().find(|(r, _)| *r == rel) else {
            errs.push(file_diag(
                rel,
                format!("policy file `{rel}` is missing from the embedded sources"),
                Some("the binary was built from an incomplete policy; rebuild it".into()),
            ));
            continue;
        };
        if text.len() as u64 > MAX_FILE_BYTES {
            errs.push(file_diag(
                rel,
                format!(
                    "policy file `{rel}` is {} bytes; the limit is {MAX_FILE_BYTES}",
                    text.len()
                ),
                Some("policy files are small hand-written YAML; split or trim it".into()),
            ));
            continue;
        }
        out.files.push(Source {
            rel: rel.to_string(),
            abs: PathBuf::from(rel),
            text: (*text).to_string(),
        });
    }
    take_referenced(files, &mut out);
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errs))
    }
}

fn file_diag(rel: &str, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic {
        message,
        file: rel.to_string(),
        line: 0,
        col: 0,
        excerpt: None,
        help,
    }
}

/// Limits that stop a YAML bomb long before it costs memory or time: policy
/// files are shallow, have few nodes, and never need more than a handful of aliases.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 24,
            max_nodes: 100_000,
            max_events: 400_000,
            max_aliases: 200,
            max_anchors: 200,
            max_total_scalar_bytes: 1 << 20,
            max_documents: 1,
            flow_nesting_limit: 16,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
            max_replay_stack_depth: 8,
            max_alias_expansions_per_anchor: 100,
        },
    }
}

/// Parses one file into its raw structure, turning a serde-saphyr error into a
/// positioned diagnostic.
pub fn parse<T: DeserializeOwned>(sources: &Sources, rel: &'static str) -> Result<T, Diagnostic> {
    let text = sources.text(rel).unwrap_or("");
    // First walk the whole document without a schema, so resource limits
    // (alias replay, depth) are hit before any type error could hide them.
    serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(text, options())
        .map_err(|e| yaml_diag(sources, rel, &e))?;
    serde_saphyr::from_str_with_options::<T>(text, options())
        .map_err(|e| yaml_diag(sources, rel, &e))
}

fn yaml_diag(sources: &Sources, rel: &str, e: &serde_saphyr::Error) -> Diagnostic {
    let inner = e.without_snippet();
    let loc = inner.location().unwrap_or(Location::UNKNOWN);
    let raw = inner.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    });
    let msg = strip_location_suffix(raw.lines().next().unwrap_or("invalid YAML").trim());
    let (message, help) = explain_yaml_error(msg, rel);
    let mut d = sources.diag(rel, loc, message, help);
    if loc.line() == 0 {
        // Some budget breaches carry no place; the file name still tells where.
        d.line = 0;
    }
    d
}

/// serde-saphyr appends " at line N column M" to plain messages; the location
/// is printed separately, so drop it.
fn strip_location_suffix(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Adds a `help:` to the errors people actually make.
fn explain_yaml_error(msg: String, rel: &str) -> (String, Option<String>) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let wrong = rest.split('`').next().unwrap_or("");
        let expected: Vec<String> = rest
            .split_once("expected ")
            .map(|(_, e)| {
                e.trim_start_matches("one of ")
                    .replace(" or ", ", ")
                    .split(',')
                    .map(|f| f.trim().trim_matches('`').to_string())
                    .filter(|f| !f.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let help = match crate::diag::did_you_mean(wrong, expected.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if expected.is_empty() => "remove this field".to_string(),
            None => format!(
                "remove it; the fields allowed here are {}",
                expected
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return (format!("unknown field `{wrong}` in {rel}"), Some(help));
    }
    if msg.starts_with("missing field") {
        return (
            msg,
            Some("add the field; see the comments at the top of the file".into()),
        );
    }
    let lower = msg.to_lowercase();
    if ["budget", "depth", "alias", "recursion", "nesting", "limit"]
        .iter()
        .any(|w| lower.contains(w))
    {
        // Keep only the limit's name; the counters mean nothing to an editor.
        let what = msg.split(':').next().unwrap_or(&msg).trim().to_string();
        return (
            format!(
                "YAML rejected: {what} (a policy file may not nest deeply or expand many aliases)"
            ),
            Some("write the values out instead of nesting or aliasing them".into()),
        );
    }
    if lower.starts_with("invalid type")
        || lower.starts_with("invalid value")
        || lower.contains("expected")
    {
        return (
            format!("{msg} in {rel}"),
            Some("see the comments at the top of the file for the expected shape".into()),
        );
    }
    (
        format!("invalid YAML: {msg}"),
        Some("the YAML is malformed here or just before: look for an unclosed `[` or `{`, a missing quote, or wrong indentation".into()),
    )
}

// ---------------------------------------------------------------- prompt files
//
// The prompt texts `policy/prompts.yaml` references: read next to the policy
// files so they are hashed, embedded in `SOURCES` and tracked for rebuilds
// like them. A reference that is unsafe or names no file is not read here;
// `check::prompts` reports it at its place in prompts.yaml.

/// Prompt files are a few KiB of instructions.
pub const MAX_PROMPT_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
struct Lenient {
    #[serde(default)]
    prompts: Vec<LenientPrompt>,
}

#[derive(Deserialize)]
struct LenientPrompt {
    #[serde(default)]
    file: String,
}

/// The path relative to the policy root of a `file:` value (relative to
/// `policy/`), or `None` when it could leave the policy directory.
pub fn rel_of(file: &str) -> Option<String> {
    let ok = !file.is_empty()
        && !file.starts_with('/')
        && !file.contains('\\')
        && !file.contains(':')
        && file
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    ok.then(|| format!("policy/{file}"))
}

/// The files prompts.yaml references (best effort: a broken prompts.yaml is
/// reported by the real parse).
fn referenced(sources: &Sources) -> Vec<String> {
    let Some(text) = sources.text(PROMPTS) else {
        return Vec::new();
    };
    let parsed: Result<Lenient, _> = serde_saphyr::from_str(text);
    let mut out: Vec<String> = parsed
        .map(|l| l.prompts.iter().filter_map(|p| rel_of(&p.file)).collect())
        .unwrap_or_default();
    out.retain(|r| !FILES.contains(&r.as_str()));
    out.sort();
    out.dedup();
    out
}

/// Reads every referenced prompt file that exists under one of `roots`
/// (the policy root and its `EXTENDS` chain).
pub fn read_referenced(roots: &[PathBuf], out: &mut Sources) {
    for rel in referenced(out) {
        let Some(abs) = roots.iter().map(|r| r.join(&rel)).find(|p| p.is_file()) else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(&abs) {
            out.files.push(Source {
                rel,
                abs: abs.canonicalize().unwrap_or(abs),
                text,
            });
        }
    }
}

/// Takes the referenced prompt files from `(relative path, text)` pairs.
pub fn take_referenced(files: &[(&str, &str)], out: &mut Sources) {
    for rel in referenced(out) {
        if let Some((_, text)) = files.iter().find(|(r, _)| *r == rel) {
            out.files.push(Source {
                abs: PathBuf::from(&rel),
                rel,
                text: (*text).to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rel_of;

    #[test]
    fn prompt_paths_stay_under_policy() {
        assert_eq!(
            rel_of("prompts/a.md").as_deref(),
            Some("policy/prompts/a.md")
        );
        for bad in [
            "",
            "/etc/passwd",
            "../agents.yaml",
            "prompts/../../x",
            "a//b",
            "c:\\x",
            "./a",
        ] {
            assert_eq!(rel_of(bad), None, "{bad}");
        }
    }
}
