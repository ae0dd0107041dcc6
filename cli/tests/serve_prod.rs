//! `sf serve` with `ENVIRONMENT=prod` refuses to start when a secret
//! policy/vars.yaml requires in prod is missing: exit code 2, and stderr names
//! each variable and where to set it. With the secrets set, it starts.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn serve(dir: &std::path::Path, vars: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sf"));
    c.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--quiet",
        "--threads",
        "1",
    ])
    .arg("--data-dir")
    .arg(dir.join("data"))
    .arg("--dev-vars")
    .arg(dir.join("absent.dev.vars"))
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sf-serve-prod-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn prod_without_its_secrets_does_not_start() {
    let dir = temp_dir("refuse");
    let out = serve(&dir, &[("ENVIRONMENT", "prod"), ("PARIS_DEV_JWT", "x")])
        .output()
        .expect("sf runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("secret AI_GRANT_HMAC_SECRET is required in prod (grants) and is not set"),
        "{err}"
    );
    assert!(
        err.contains("`wrangler secret put AI_GRANT_HMAC_SECRET`"),
        "{err}"
    );
    assert!(err.contains("in .dev.vars"), "{err}");
    assert!(
        !err.contains("PARIS_DEV_JWT is required"),
        "set, so not named: {err}"
    );
    assert!(!err.contains("serving San Francisco"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn prod_with_its_secrets_starts() {
    let dir = temp_dir("start");
    let mut child = serve(
        &dir,
        &[
            ("ENVIRONMENT", "prod"),
            ("PARIS_DEV_JWT", "x"),
            ("AI_GRANT_HMAC_SECRET", "y"),
        ],
    )
    .stderr(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .expect("sf starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut serving = false;
    while started.elapsed() < Duration::from_secs(30) {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => {
                serving |= l.contains("serving San Francisco");
                seen.push(l);
                if serving {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(s)) = child.try_wait() {
                    panic!("sf serve exited with {s}: {seen:?}");
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(serving, "{seen:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
