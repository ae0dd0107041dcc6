//! Configuration and secrets: the process environment over an optional
//! `.dev.vars` file (wrangler's `KEY=VALUE` format). The environment wins, as
//! `wrangler dev` lets shell variables override the file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sf_core::ports::Vars;

/// A snapshot taken at startup: like a Worker's bindings, values do not change
/// while the server runs, and lookups are a hash-map read.
#[derive(Debug, Clone, Default)]
pub struct NativeVars {
    map: Arc<HashMap<String, String>>,
}

impl NativeVars {
    /// Exactly these variables, nothing from the process (tests, tools).
    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self { map: Arc::new(map) }
    }

    /// `.dev.vars` at `dev_vars_path` (if given and present) overlaid by the
    /// process environment. A missing file is not an error: it is optional in
    /// wrangler too. An unreadable one is, naming the path.
    pub fn from_env(dev_vars_path: Option<&Path>) -> Result<Self, String> {
        let mut map = HashMap::new();
        if let Some(path) = dev_vars_path {
            match std::fs::read_to_string(path) {
                Ok(text) => map.extend(parse_dev_vars(&text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            }
        }
        // Non-UTF-8 variables cannot be secrets the core reads; skip them.
        for (k, v) in std::env::vars_os() {
            if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                map.insert(k, v);
            }
        }
        Ok(Self { map: Arc::new(map) })
    }

    /// A copy with `name` set (tests and tools that tweak one setting).
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut map = (*self.map).clone();
        map.insert(name.to_owned(), value.to_owned());
        Self { map: Arc::new(map) }
    }
}

impl Vars for NativeVars {
    fn var(&self, name: &str) -> Option<String> {
        self.map.get(name).cloned()
    }
}

/// Parses the dotenv dialect wrangler reads from `.dev.vars`:
/// `KEY=VALUE` lines, `#` comments, blank lines, an optional `export ` prefix,
/// single-quoted values taken literally, double-quoted values with `\n`, `\t`,
/// `\"` and `\\` escapes (and spanning lines until the closing quote), and
/// unquoted values trimmed with a trailing ` #comment` removed.
pub fn parse_dev_vars(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(raw) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, rest)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            continue;
        }
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('"') {
            // Collect until an unescaped closing quote, possibly over lines.
            let mut acc = String::new();
            let mut current = body.to_owned();
            loop {
                if let Some(end) = closing_quote(&current) {
                    acc.push_str(&current[..end]);
                    break;
                }
                acc.push_str(&current);
                match lines.next() {
                    Some(next) => {
                        acc.push('\n');
                        current = next.to_owned();
                    }
                    None => break,
                }
            }
            unescape_double(&acc)
        } else if let Some(body) = rest.strip_prefix('\'') {
            match body.find('\'') {
                Some(end) => body[..end].to_owned(),
                None => body.to_owned(),
            }
        } else {
            let v = match rest.find(" #") {
                Some(i) => &rest[..i],
                None => rest,
            };
            v.trim().to_owned()
        };
        out.push((key.to_owned(), value));
    }
    out
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars_dialect() {
        let text = "# comment\n\nA=1\nexport B = two words \nC=\"x\\ny\" \nD='lit\\n'\nE=val # note\nF=\"multi\nline\"\nnot a line\nG=a=b\n";
        let got = parse_dev_vars(text);
        let want: Vec<(String, String)> = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "x\ny"),
            ("D", "lit\\n"),
            ("E", "val"),
            ("F", "multi\nline"),
            ("G", "a=b"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn environment_overrides_file() {
        let dir = crate::ephemeral::TempDir::new("vars");
        let path = dir.path().join(".dev.vars");
        let key = "SF_SERVER_TEST_VAR_OVERRIDE";
        std::fs::write(
            &path,
            format!("{key}=from-file\nSF_SERVER_TEST_ONLY_FILE=file\n"),
        )
        .unwrap();
        // Only this test touches these names.
        std::env::set_var(key, "from-env");
        let vars = NativeVars::from_env(Some(&path)).unwrap();
        std::env::remove_var(key);
        assert_eq!(vars.var(key).as_deref(), Some("from-env"));
        assert_eq!(
            vars.var("SF_SERVER_TEST_ONLY_FILE").as_deref(),
            Some("file")
        );
        let missing = NativeVars::from_env(Some(&dir.path().join("absent"))).unwrap();
        assert_eq!(missing.var("SF_SERVER_TEST_ONLY_FILE"), None);
    }
}
