//! `sf serve` out of the box, by running the binary: with no settings it
//! serves as `local`, generates the development secrets into its data
//! directory (mode 600, shown once), prints a `curl` line whose grant works,
//! reuses the secrets on the next start, and does none of it for `dev`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Scratch;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

struct Served {
    child: Child,
    /// stderr up to and including "listening".
    log: Vec<String>,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &std::path::Path, env: &[(&str, &str)]) -> Served {
    let port = free_port();
    let mut c = Command::new(env!("CARGO_BIN_EXE_sf"));
    c.args(["serve", "--quiet", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .args(["--dev-vars", "/dev/null", "--threads", "1"])
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sf serve: {e}"));
    let (tx, rx) = mpsc::channel();
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
    }
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !log.iter().any(|l: &String| l.contains("listening on")) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => log.push(l),
            Err(_) => panic!("sf serve did not start: {log:#?}"),
        }
    }
    Served {
        child,
        log,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn value_of(log: &[String], name: &str) -> Option<String> {
    log.iter().find_map(|l| {
        l.trim()
            .strip_prefix(&format!("{name}="))
            .map(str::to_owned)
    })
}

#[test]
fn no_settings_at_all_gives_a_working_local_gateway() {
    let dir = Scratch::new("serve-oob");
    let data = dir.path().join("data");
    let s = serve(&data, &[]);
    let log = s.log.join("\n");
    assert!(
        log.contains("ENVIRONMENT is not set: serving as `local`"),
        "{log}"
    );
    assert!(log.contains("generated development secrets into"), "{log}");
    assert!(
        !log.contains("warning"),
        "nothing required is missing: {log}"
    );
    let admin = value_of(&s.log, "SF_ADMIN_TOKEN").unwrap_or_else(|| panic!("{log}"));
    let file = data.join("dev-secrets.env");
    let stored = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        stored.contains(&format!("SF_ADMIN_TOKEN={admin}")),
        "{stored}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
    }

    // The printed curl line works as printed.
    let curl = s
        .log
        .iter()
        .find(|l| l.contains("/v1/execute"))
        .unwrap_or_else(|| panic!("{log}"));
    let body = curl
        .split("-d '")
        .nth(1)
        .and_then(|b| b.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{curl}"));
    let body: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let (status, v) = sf_conformance::http::json_call(&s.base, "POST", "/v1/execute", None, &body)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["result"],
        serde_json::json!({"ok": true, "echo": "hello"})
    );
    let (status, v) = sf_conformance::http::json_call(
        &s.base,
        "GET",
        "/admin/v1/tenants",
        Some(&admin),
        &serde_json::Value::Null,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((status, v), (200, serde_json::json!({"tenants": []})));
    drop(s);

    // Next start: the same secrets, not shown again.
    let s = serve(&data, &[]);
    let log = s.log.join("\n");
    assert!(!log.contains(&admin), "printed twice: {log}");
    assert!(
        log.contains("using development AI_GRANT_HMAC_SECRET, PARIS_DEV_JWT, SF_ADMIN_TOKEN from"),
        "{log}"
    );
    let (status, _) = sf_conformance::http::json_call(
        &s.base,
        "GET",
        "/admin/v1/tenants",
        Some(&admin),
        &serde_json::Value::Null,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200);
}

#[test]
fn dev_and_prod_get_no_generated_secrets() {
    let dir = Scratch::new("serve-dev");
    let data = dir.path().join("data");
    let s = serve(&data, &[("ENVIRONMENT", "dev")]);
    let log = s.log.join("\n");
    assert!(!data.join("dev-secrets.env").exists(), "{log}");
    assert!(!log.contains("curl"), "{log}");
    assert!(
        log.contains("AI_GRANT_HMAC_SECRET is not set but is required in dev"),
        "{log}"
    );
    let (status, v) = sf_conformance::http::json_call(
        &s.base,
        "GET",
        "/admin/v1/tenants",
        Some("x"),
        &serde_json::Value::Null,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 500, "no admin token, so no admin API: {v}");
    drop(s);
    // prod refuses to start without its secrets (cli/tests/serve_prod.rs), and generates none.
    let r = common::sf(
        dir.path(),
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap_or(""),
            "--dev-vars",
            "/dev/null",
        ],
        &[("ENVIRONMENT", "prod")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!data.join("dev-secrets.env").exists());
}
