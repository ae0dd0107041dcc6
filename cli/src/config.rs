//! `.sf.json`: the operations config (CLI Spec v1, "Config file"), found
//! upwards from the current directory or named by `--config`/`SF_CONFIG`,
//! and the environment from `--env`/`SF_ENV`. The file holds ids and names,
//! never secrets: a key or value that looks like a credential is refused with
//! exit 1, naming the key and where the value belongs instead.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sf_core::policy::Environment;

use crate::out::Fail;

pub const FILE_NAME: &str = ".sf.json";

/// Every key `.sf.json` may hold, with what it is.
pub const KEYS: [(&str, &str); 17] = [
    ("accountId", "Cloudflare account id (32 hex digits)"),
    ("zoneId", "Cloudflare zone id (32 hex digits)"),
    ("projectName", "project name"),
    (
        "workerName",
        "Worker name (wrangler.toml `name` of the environment)",
    ),
    ("assetsDir", "directory of static assets"),
    ("aiGatewayId", "Cloudflare AI Gateway id"),
    (
        "aiGatewayAccountId",
        "account id of the AI Gateway (32 hex digits)",
    ),
    ("r2BucketName", "R2 bucket of the logs"),
    ("kvNamespaceId", "KV namespace id (32 hex digits)"),
    ("d1DatabaseId", "D1 database id (a UUID)"),
    (
        "defaultPlatform",
        "platform of tenants created without --platform",
    ),
    (
        "accessTeamDomain",
        "Cloudflare Access team domain (admin only)",
    ),
    ("accessAud", "Cloudflare Access audience tag (admin only)"),
    (
        "modelTierMap",
        "tier -> model, checked against policy/tenancy.yaml and the catalogue",
    ),
    (
        "baseUrl",
        "the gateway's base URL for the admin commands (tenant, routing)",
    ),
    (
        "environments",
        "per-environment overrides: {\"prod\": {\"workerName\": ...}}",
    ),
    ("$schema", "editor schema reference (ignored)"),
];

/// The config as read, already checked (see [`check`]).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from (`None`: no file, defaults only).
    pub path: Option<PathBuf>,
    /// Top-level keys overlaid by `environments.<env>`.
    pub values: Map<String, Value>,
}

impl Config {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }
}

/// `production`/`development` are the charter's names for prod/dev.
pub fn environment(given: Option<&str>, default: Environment) -> Result<Environment, Fail> {
    let Some(name) = given.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    let canonical = match name {
        "production" => "prod",
        "development" => "dev",
        n => n,
    };
    Environment::from_name(canonical).ok_or_else(|| {
        Fail::validation(
            "UNKNOWN_ENV",
            format!("unknown environment `{name}`"),
            format!(
                "pass --env (or set SF_ENV) to one of {} (policy/environments.yaml)",
                Environment::ALL.map(Environment::name).join(", ")
            ),
        )
    })
}

/// The nearest `.sf.json` from `start` upwards.
pub fn find_upwards(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let p = d.join(FILE_NAME);
        if p.is_file() {
            return Some(p);
        }
        dir = d.parent();
    }
    None
}

/// Reads the config: `explicit` (from `--config`/`SF_CONFIG`, which must
/// exist), else the nearest `.sf.json` upwards, else none (defaults).
pub fn load(explicit: Option<&Path>, env: Environment) -> Result<Config, Fail> {
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                return Err(Fail::validation(
                    "CONFIG_NOT_FOUND",
                    format!("config file {} does not exist", p.display()),
                    "fix --config / SF_CONFIG, or unset it to use the .sf.json found upwards from here",
                ));
            }
            Some(p.to_path_buf())
        }
        None => std::env::current_dir().ok().and_then(|d| find_upwards(&d)),
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Fail::validation(
            "CONFIG_UNREADABLE",
            format!("cannot read {}: {e}", path.display()),
            "check the file's permissions",
        )
    })?;
    let values = parse(&text, env).map_err(|f| Fail {
        message: format!("{}: {}", path.display(), f.message),
        ..f
    })?;
    Ok(Config {
        path: Some(path),
        values,
    })
}

/// Parses and checks the text of a `.sf.json`, overlaying `environments.<env>`.
pub fn parse(text: &str, env: Environment) -> Result<Map<String, Value>, Fail> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        Fail::validation(
            "CONFIG_INVALID",
            format!(
                "not valid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
            "fix the JSON syntax (a trailing comma or a missing quote is the usual cause)",
        )
    })?;
    let Value::Object(top) = v else {
        return Err(Fail::validation(
            "CONFIG_INVALID",
            "the config is not a JSON object",
            "write an object: {\"workerName\": \"sanfrancisco\", ...}",
        ));
    };
    let problems = check(&top);
    if let Some(first) = problems.first() {
        let f = first.clone();
        return Err(if problems.len() > 1 {
            Fail {
                message: format!("{} (and {} more)", f.message, problems.len() - 1),
                details: Some(Box::new(Value::Array(
                    problems.iter().map(Fail::to_json).collect(),
                ))),
                ..f
            }
        } else {
            f
        });
    }
    let mut values = top.clone();
    values.remove("environments");
    if let Some(Value::Object(over)) = top.get("environments").and_then(|e| e.get(env.name())) {
        for (k, v) in over {
            values.insert(k.clone(), v.clone());
        }
    }
    Ok(values)
}

/// Every problem of a config object (top level and each environment), the
/// secret-looking ones first.
pub fn check(top: &Map<String, Value>) -> Vec<Fail> {
    let mut out = Vec::new();
    check_object(top, "", &mut out);
    if let Some(envs) = top.get("environments") {
        match envs {
            Value::Object(m) => {
                for (name, over) in m {
                    let at = format!("environments.{name}");
                    if Environment::from_name(name).is_none() {
                        out.push(Fail::validation(
                            "CONFIG_INVALID",
                            format!("`{at}`: unknown environment"),
                            format!(
                                "use one of {} as the key",
                                Environment::ALL.map(Environment::name).join(", ")
                            ),
                        ));
                    }
                    match over {
                        Value::Object(o) => {
                            if o.contains_key("environments") {
                                out.push(Fail::validation(
                                    "CONFIG_INVALID",
                                    format!("`{at}.environments`: environments do not nest"),
                                    "move the keys up into the environment's object",
                                ));
                            }
                            check_object(o, &format!("{at}."), &mut out);
                        }
                        _ => out.push(Fail::validation(
                            "CONFIG_INVALID",
                            format!("`{at}` must be an object"),
                            "write the overrides as {\"workerName\": \"...\"}",
                        )),
                    }
                }
            }
            _ => out.push(Fail::validation(
                "CONFIG_INVALID",
                "`environments` must be an object",
                "write {\"prod\": {\"workerName\": \"...\"}}",
            )),
        }
    }
    out.sort_by_key(|f| f.code != "SECRET_IN_CONFIG");
    out
}

fn check_object(m: &Map<String, Value>, prefix: &str, out: &mut Vec<Fail>) {
    for (k, v) in m {
        let at = format!("{prefix}{k}");
        if let Some(f) = secret_key(&at, k).or_else(|| secret_value(&at, v)) {
            out.push(f);
            continue;
        }
        if k == "environments" {
            continue;
        }
        if !KEYS.iter().any(|(name, _)| name == k) {
            let near = KEYS.iter().map(|(n, _)| *n).find(|n| {
                n.eq_ignore_ascii_case(k) || n.to_lowercase().contains(&k.to_lowercase())
            });
            let hint = match near {
                Some(n) => format!("did you mean `{n}`? (the keys are camelCase)"),
                None => format!(
                    "remove it; the keys are {}",
                    KEYS.iter()
                        .map(|(n, _)| *n)
                        .filter(|n| *n != "$schema")
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(Fail::validation(
                "CONFIG_INVALID",
                format!("`{at}`: unknown key"),
                hint,
            ));
            continue;
        }
        if let Some(f) = check_value(&at, k, v) {
            out.push(f);
        }
    }
}

/// Key names that can only hold a credential.
fn secret_key(at: &str, key: &str) -> Option<Fail> {
    let k = key.to_ascii_lowercase();
    let words = [
        "secret",
        "token",
        "password",
        "apikey",
        "api_key",
        "privatekey",
        "credential",
    ];
    words.iter().any(|w| k.contains(w)).then(|| {
        Fail::validation(
            "SECRET_IN_CONFIG",
            format!("`{at}` looks like a secret; .sf.json holds no secrets"),
            format!(
                "remove `{at}` from .sf.json; put the value in the environment or .dev.vars for `sf serve`, or on Cloudflare with `wrangler secret put`"
            ),
        )
    })
}

/// Values shaped like credentials: tenant keys, OpenAI-style keys, grants,
/// JWTs, bearer headers, PEM blocks, and long random strings that are not one
/// of the id formats the config expects.
pub fn looks_like_secret(s: &str) -> bool {
    let s = s.trim();
    let prefixes = [
        "sk-",
        "sk_",
        "Bearer ",
        "bearer ",
        "eyJ",
        "-----BEGIN",
        "ghp_",
        "xox",
        "AKIA",
    ];
    if prefixes.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    if s.starts_with("v1.") && s.matches('.').count() >= 2 && s.len() > 40 {
        return true;
    }
    // Long, no spaces or URL/path punctuation, with letters of both cases
    // and digits: random material, not a name or a hex/UUID id.
    let long = s.len() >= 32;
    let plain = !s.contains([' ', '/', ':', '@', '.']);
    let upper = s.chars().any(|c| c.is_ascii_uppercase());
    let lower = s.chars().any(|c| c.is_ascii_lowercase());
    let digit = s.chars().any(|c| c.is_ascii_digit());
    long && plain && upper && lower && digit
}

fn secret_value(at: &str, v: &Value) -> Option<Fail> {
    let found = match v {
        Value::String(s) => looks_like_secret(s),
        Value::Object(m) if !at.ends_with("environments") => m
            .values()
            .any(|x| x.as_str().is_some_and(looks_like_secret)),
        _ => false,
    };
    found.then(|| {
        Fail::validation(
            "SECRET_IN_CONFIG",
            format!("the value of `{at}` looks like a secret (a key, token or grant); .sf.json holds no secrets"),
            format!(
                "remove the value of `{at}` and rotate it if the file was shared; secrets go in the environment or .dev.vars, or on Cloudflare with `wrangler secret put`"
            ),
        )
    })
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn check_value(at: &str, key: &str, v: &Value) -> Option<Fail> {
    let bad = |hint: String| {
        Some(Fail::validation(
            "CONFIG_INVALID",
            format!("`{at}`: invalid value {v}"),
            hint,
        ))
    };
    match key {
        "$schema" => None,
        "modelTierMap" => {
            let Value::Object(m) = v else {
                return bad("write {\"free\": \"<model>\", \"premium\": \"<model>\"}".into());
            };
            m.iter()
                .find_map(|(tier, model)| model_tier(&format!("{at}.{tier}"), tier, model))
        }
        _ => {
            let Some(s) = v.as_str().filter(|s| !s.trim().is_empty()) else {
                return bad("a non-empty string".into());
            };
            match key {
                "accountId" | "zoneId" | "aiGatewayAccountId" | "kvNamespaceId" if !is_hex32(s) => {
                    bad("32 hex digits, as the Cloudflare dashboard or `wrangler whoami` / `wrangler kv namespace list` print".into())
                }
                "d1DatabaseId" if !is_uuid(s) => {
                    bad("a UUID, as `wrangler d1 list` prints".into())
                }
                "baseUrl" if !(s.starts_with("http://") || s.starts_with("https://")) => {
                    bad("an http:// or https:// URL, e.g. http://127.0.0.1:3002".into())
                }
                _ => None,
            }
        }
    }
}

/// A `modelTierMap` entry: the tier exists in policy/tenancy.yaml and the
/// model is in the catalogue (policy/providers.yaml), as `provider/model` or
/// a bare model id one provider has.
fn model_tier(at: &str, tier: &str, model: &Value) -> Option<Fail> {
    let tiers = sf_core::policy::Tier::ALL.map(sf_core::policy::Tier::name);
    if !tiers.contains(&tier) {
        return Some(Fail::validation(
            "CONFIG_INVALID",
            format!("`{at}`: no tier `{tier}` in policy/tenancy.yaml"),
            format!("use one of {}", tiers.join(", ")),
        ));
    }
    let Some(m) = model.as_str() else {
        return Some(Fail::validation(
            "CONFIG_INVALID",
            format!("`{at}` must be a model id string"),
            "e.g. \"openai/gpt-4o\"",
        ));
    };
    if crate::catalogue::find(m).is_none() {
        return Some(Fail::validation(
            "CONFIG_INVALID",
            format!("`{at}`: model `{m}` is not in the catalogue"),
            format!(
                "use one of the models of policy/providers.yaml, as provider/model: {}",
                crate::catalogue::all().join(", ")
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value) -> Vec<Fail> {
        match v {
            Value::Object(m) => check(&m),
            _ => Vec::new(),
        }
    }

    #[test]
    fn the_charter_example_is_valid() {
        let p = problems(json!({
            "accountId": "0123456789abcdef0123456789abcdef",
            "projectName": "streamkinetics",
            "workerName": "streamkinetics-backend",
            "aiGatewayId": "streamkinetics-gateway",
            "r2BucketName": "openclaw-backups",
            "kvNamespaceId": "0123456789abcdef0123456789abcdef",
            "d1DatabaseId": "00000000-0000-4000-8000-000000000001",
            "defaultPlatform": "streamkinetics.com",
        }));
        assert_eq!(p, Vec::new());
    }

    #[test]
    fn a_secret_key_or_value_is_refused_by_name() {
        let p = problems(json!({"apiToken": "x"}));
        assert_eq!(p[0].code, "SECRET_IN_CONFIG");
        assert!(p[0].message.contains("`apiToken`"), "{p:?}");
        let p = problems(
            json!({"environments": {"prod": {"accessAud": "sk-live-abcdefghijklmnopqrstuvwxyz"}}}),
        );
        assert_eq!(p[0].code, "SECRET_IN_CONFIG");
        assert!(
            p[0].message.contains("`environments.prod.accessAud`"),
            "{p:?}"
        );
        assert!(p[0].hint.contains("wrangler secret put"), "{p:?}");
        assert!(looks_like_secret("Zk3q9XhT2mLp8vRw4nBc7yDf1gHj6sKa"));
        assert!(!looks_like_secret("0123456789abcdef0123456789abcdef"));
        assert!(!looks_like_secret("streamkinetics-backend"));
    }

    #[test]
    fn unknown_keys_and_bad_ids_name_the_fix() {
        let p = problems(json!({"workername": "x", "d1DatabaseId": "abc"}));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter()
                .any(|f| f.hint.contains("did you mean `workerName`")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|f| f.message.contains("`d1DatabaseId`") && f.hint.contains("UUID")),
            "{p:?}"
        );
    }

    #[test]
    fn environment_overrides_apply() {
        let m = parse(
            r#"{"workerName": "a", "environments": {"prod": {"workerName": "b"}}}"#,
            Environment::Prod,
        );
        assert_eq!(
            m.ok().and_then(|m| m.get("workerName").cloned()),
            Some(json!("b"))
        );
        assert!(environment(Some("production"), Environment::Local)
            .is_ok_and(|e| e == Environment::Prod));
        assert_eq!(
            environment(Some("staging"), Environment::Local)
                .err()
                .map(|f| f.exit),
            Some(1)
        );
    }
}
