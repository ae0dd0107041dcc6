//! The prompt texts `policy/prompts.yaml` references: read next to the policy
//! files so they are hashed, embedded in `SOURCES` and tracked for rebuilds
//! like them. A reference that is unsafe or names no file is not read here;
//! `check::prompts` reports it at its place in prompts.yaml.

use std::path::PathBuf;

use serde::Deserialize;

use crate::load::{Source, Sources, FILES, PROMPTS};

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
