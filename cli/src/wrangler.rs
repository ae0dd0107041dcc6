//! wrangler.toml as the operations commands read it: per policy environment
//! (the section whose `[vars] ENVIRONMENT` names it: top level = dev,
//! `[env.local]`, `[env.prod]`), the Worker name, vars, bindings and crons.
//! wrangler does not inherit bindings into environments, so each section is
//! read on its own.

use std::path::Path;

use toml::{Table, Value};

use crate::out::Fail;

/// The bindings the Worker's code opens (runtime/worker/src/host.rs; a
/// test checks these names against that file): `(binding, kind, required)`.
pub const BINDINGS: [(&str, Kind, bool); 5] = [
    ("SF_KV", Kind::Kv, true),
    ("SF_D1", Kind::D1, true),
    ("SF_R2", Kind::R2, true),
    ("SF_BUDGET_COUNTER", Kind::DurableObject, true),
    // Without it the gateway skips event emission (the local environment).
    ("SF_EVENTS", Kind::QueueProducer, false),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Kv,
    D1,
    R2,
    DurableObject,
    QueueProducer,
}

impl Kind {
    /// The array of tables wrangler.toml declares it in.
    pub fn section(self) -> &'static str {
        match self {
            Kind::Kv => "kv_namespaces",
            Kind::D1 => "d1_databases",
            Kind::R2 => "r2_buckets",
            Kind::DurableObject => "durable_objects.bindings",
            Kind::QueueProducer => "queues.producers",
        }
    }
}

/// One environment's section.
#[derive(Debug, Clone)]
pub struct EnvSection {
    /// `""` for the top level, else the `[env.<key>]` key.
    pub key: String,
    pub table: Table,
}

impl EnvSection {
    pub fn label(&self) -> String {
        if self.key.is_empty() {
            "the top level of wrangler.toml".into()
        } else {
            format!("[env.{}] of wrangler.toml", self.key)
        }
    }

    /// `[[env.X.section]]`'s header as it is written.
    pub fn header(&self, section: &str) -> String {
        if self.key.is_empty() {
            format!("[[{section}]]")
        } else {
            format!("[[env.{}.{section}]]", self.key)
        }
    }

    pub fn name(&self) -> Option<&str> {
        self.table.get("name").and_then(Value::as_str)
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.table.get("vars")?.get(name)?.as_str()
    }

    pub fn vars(&self) -> Vec<String> {
        self.table
            .get("vars")
            .and_then(Value::as_table)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn array(&self, dotted: &str) -> Vec<&Table> {
        let mut v: Option<&Value> = None;
        for (i, part) in dotted.split('.').enumerate() {
            v = if i == 0 {
                self.table.get(part)
            } else {
                v.and_then(|x| x.get(part))
            };
        }
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_table).collect())
            .unwrap_or_default()
    }

    /// The entry declaring binding `name` of `kind`.
    pub fn binding(&self, name: &str, kind: Kind) -> Option<&Table> {
        let key = if kind == Kind::DurableObject {
            "name"
        } else {
            "binding"
        };
        self.array(kind.section())
            .into_iter()
            .find(|t| t.get(key).and_then(Value::as_str) == Some(name))
    }

    pub fn crons(&self) -> Option<Vec<String>> {
        let a = self.table.get("triggers")?.get("crons")?.as_array()?;
        Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        )
    }
}

/// The parsed file.
pub struct Wrangler {
    pub top: Table,
}

impl Wrangler {
    pub fn read(path: &Path) -> Result<Self, Fail> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Fail::validation(
                "WRANGLER_TOML",
                format!("cannot read {}: {e}", path.display()),
                "run from the repository (or pass --root) so wrangler.toml is found",
            )
        })?;
        Self::parse(&text).map_err(|m| {
            Fail::validation(
                "WRANGLER_TOML",
                format!("{}: {m}", path.display()),
                "fix the TOML syntax",
            )
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let top: Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        Ok(Self { top })
    }

    /// Every section: the top level first, then `[env.*]`.
    pub fn sections(&self) -> Vec<EnvSection> {
        let mut out = vec![EnvSection {
            key: String::new(),
            table: self.top.clone(),
        }];
        if let Some(envs) = self.top.get("env").and_then(Value::as_table) {
            for (k, v) in envs {
                if let Some(t) = v.as_table() {
                    out.push(EnvSection {
                        key: k.clone(),
                        table: t.clone(),
                    });
                }
            }
        }
        out
    }

    /// The section whose `ENVIRONMENT` var is `env` (else `[env.<env>]`).
    pub fn section_for(&self, env: &str) -> Option<EnvSection> {
        let all = self.sections();
        all.iter()
            .find(|s| s.var("ENVIRONMENT") == Some(env))
            .or_else(|| all.iter().find(|s| s.key == env))
            .cloned()
    }
}

/// wrangler's own placeholder ids (a run of zeros): fine for `wrangler dev
/// --local` and `deploy --dry-run`, not for a real deploy.
pub fn is_placeholder_id(id: &str) -> bool {
    // A random 32-hex-digit id with at most four non-zero digits does not happen.
    let digits: Vec<char> = id.chars().filter(|c| *c != '-').collect();
    digits.len() >= 32 && digits.iter().filter(|c| **c != '0').count() <= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bindings_are_the_ones_the_worker_opens() {
        let host = include_str!("../../runtime/worker/src/host.rs");
        for (name, _, _) in BINDINGS {
            assert!(
                host.contains(&format!("_BINDING: &str = \"{name}\";")),
                "runtime/worker/src/host.rs no longer declares {name}: update cli/src/wrangler.rs BINDINGS"
            );
        }
        assert_eq!(
            host.matches("_BINDING: &str = ").count(),
            BINDINGS.len(),
            "a binding in host.rs is missing from BINDINGS"
        );
    }

    #[test]
    fn the_shipped_file_has_a_section_per_environment() {
        let w =
            Wrangler::parse(include_str!("../../wrangler.toml")).unwrap_or_else(|e| panic!("{e}"));
        for env in ["local", "dev", "prod"] {
            let s = w
                .section_for(env)
                .unwrap_or_else(|| panic!("no section for {env}"));
            assert_eq!(s.var("ENVIRONMENT"), Some(env));
            assert!(s.binding("SF_KV", Kind::Kv).is_some(), "{env}");
            assert!(
                s.binding("SF_BUDGET_COUNTER", Kind::DurableObject)
                    .is_some(),
                "{env}"
            );
        }
        assert!(is_placeholder_id("00000000000000000000000000000001"));
        assert!(is_placeholder_id("00000000-0000-4000-8000-000000000003"));
        assert!(!is_placeholder_id("3f2c9a1b7d4e4f0a9b8c7d6e5f4a3b2c"));
    }
}
