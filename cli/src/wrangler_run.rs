//! Running wrangler from `node_modules` (scripts/setup-worker-tools.sh puts
//! it there) with the offline settings scripts/worker.sh uses, and reading
//! its ND-JSON output file (`WRANGLER_OUTPUT_FILE_PATH`). `--wrangler` or
//! `SF_WRANGLER` names another executable (the tests' stub).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::out::Fail;

pub struct Wrangler {
    pub exe: PathBuf,
    pub root: PathBuf,
    /// `accountId` of .sf.json, passed as CLOUDFLARE_ACCOUNT_ID unless that is set.
    pub account: Option<String>,
}

/// One wrangler run: its exit status, the output file's events, its stderr.
pub struct Ran {
    pub ok: bool,
    pub events: Vec<Value>,
    pub stderr: String,
    pub stdout: String,
}

impl Wrangler {
    pub fn find(root: &Path, given: Option<&Path>) -> Result<Self, Fail> {
        let exe = given
            .map(Path::to_path_buf)
            .unwrap_or_else(|| root.join("node_modules/.bin/wrangler"));
        if !exe.is_file() {
            return Err(Fail::external(
                "NO_WRANGLER",
                format!("wrangler not found at {}", exe.display()),
                "run `bash scripts/setup-worker-tools.sh` (installs it into node_modules), or pass --wrangler PATH / SF_WRANGLER",
            ));
        }
        Ok(Self {
            exe,
            root: root.to_path_buf(),
            account: None,
        })
    }

    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Ran, Fail> {
        let out_file = std::env::temp_dir().join(format!(
            "sf-wrangler-{}-{}.ndjson",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.root.join("node_modules/.bin")];
        paths.extend(std::env::split_paths(&path));
        let mut c = Command::new(&self.exe);
        c.args(args)
            .current_dir(&self.root)
            .env("PATH", std::env::join_paths(paths).unwrap_or(path))
            .env("WRANGLER_OUTPUT_FILE_PATH", &out_file)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("CI", "true");
        if let (Some(a), None) = (&self.account, std::env::var_os("CLOUDFLARE_ACCOUNT_ID")) {
            c.env("CLOUDFLARE_ACCOUNT_ID", a);
        }
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c.spawn().map_err(|e| {
            Fail::external(
                "WRANGLER_FAILED",
                format!("cannot run {}: {e}", self.exe.display()),
                "check that wrangler is installed (`bash scripts/setup-worker-tools.sh`)",
            )
        })?;
        if let (Some(input), Some(mut w)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            let _ = w.write_all(input);
        }
        let o = child
            .wait_with_output()
            .map_err(|e| Fail::external("WRANGLER_FAILED", format!("wrangler: {e}"), "retry"))?;
        let events = std::fs::read_to_string(&out_file)
            .map(|t| {
                t.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect()
            })
            .unwrap_or_default();
        let _ = std::fs::remove_file(&out_file);
        Ok(Ran {
            ok: o.status.success(),
            events,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        })
    }

    /// A failed run as a failure: auth (2) when wrangler says so, else external (3).
    pub fn failed(step: &str, r: &Ran) -> Fail {
        let text = format!("{}\n{}", r.stderr, r.stdout);
        let last = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .find(|l| l.contains("ERROR") || l.contains("✘"))
            .or_else(|| text.lines().map(str::trim).rfind(|l| !l.is_empty()))
            .unwrap_or("no output")
            .to_owned();
        let auth = [
            "Authentication",
            "not logged in",
            "CLOUDFLARE_API_TOKEN",
            "code: 10000",
            "Unauthorized",
        ]
        .iter()
        .any(|w| text.contains(w));
        if auth {
            Fail::auth(
                "CLOUDFLARE_AUTH",
                format!("wrangler {step}: {last}"),
                "set CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID), or run `wrangler login`",
            )
        } else {
            Fail::external(
                "WRANGLER_FAILED",
                format!("wrangler {step}: {last}"),
                "read wrangler's message above; rerun with the same flags once fixed",
            )
        }
    }
}
