//! The crate layout's rules (docs/ARCHITECTURE.md), checked on the resolved
//! dependency graph so a stray `Cargo.toml` line fails here, not in review:
//! - the core is free of Tokio, hyper, SQLite and `worker` (it must build for
//!   both hosts) and of every other crate of ours but the policy macro;
//! - features depend on the core (and the model layer where they call models),
//!   never on the composition root or on each other;
//! - hosts reach features only through the composition root.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Features and the crates of ours each may depend on directly.
const FEATURES: &[(&str, &[&str])] = &[
    ("sf-llm", &["sf-core"]),
    ("sf-copilot", &["sf-core"]),
    ("sf-records", &["sf-core"]),
    ("sf-l10n", &["sf-core", "sf-llm"]),
    ("sf-personalization", &["sf-core", "sf-llm"]),
    ("sf-approvals", &["sf-core", "sf-llm"]),
    ("sf-learning", &["sf-core", "sf-llm"]),
];
const HOSTS: &[&str] = &["sf-server", "sf-worker"];
const FORBIDDEN_IN_CORE: &[&str] = &["tokio", "hyper", "rusqlite", "libsqlite3-sys", "worker"];

struct Graph {
    /// Package name -> names of its normal (non-dev, non-build) dependencies.
    normal: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let mut normal = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().into_iter().flatten() {
        let Some(name) = node["id"].as_str().and_then(|id| names.get(id)) else {
            continue;
        };
        let deps: BTreeSet<String> = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| names.get(d["pkg"].as_str()?).map(|n| (*n).to_owned()))
            .collect();
        normal
            .entry((*name).to_owned())
            .or_insert_with(BTreeSet::new)
            .extend(deps);
    }
    Graph { normal }
}

impl Graph {
    fn direct(&self, pkg: &str) -> &BTreeSet<String> {
        self.normal
            .get(pkg)
            .unwrap_or_else(|| panic!("{pkg} is not in the workspace"))
    }

    fn closure(&self, pkg: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![pkg.to_owned()];
        while let Some(p) = todo.pop() {
            for d in self.normal.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }
}

fn ours(deps: &BTreeSet<String>) -> BTreeSet<&str> {
    deps.iter()
        .map(String::as_str)
        .filter(|d| d.starts_with("sf-"))
        .collect()
}

#[test]
fn core_is_host_free_and_depends_on_nothing_of_ours_but_the_macro() {
    let g = graph();
    let closure = g.closure("sf-core");
    for bad in FORBIDDEN_IN_CORE {
        assert!(
            !closure.contains(*bad),
            "sf-core reaches {bad}: the core must build for both hosts; move the code that needs it into a host"
        );
    }
    let direct: BTreeSet<&str> = ours(g.direct("sf-core"));
    assert_eq!(
        direct,
        BTreeSet::from(["sf-codegen-macros"]),
        "sf-core may depend on the policy macro only"
    );
}

#[test]
fn features_depend_on_the_core_only() {
    let g = graph();
    for (feature, allowed) in FEATURES {
        let direct = ours(g.direct(feature));
        let extra: Vec<_> = direct.iter().filter(|d| !allowed.contains(d)).collect();
        assert!(
            extra.is_empty(),
            "{feature} depends on {extra:?}; features may use {allowed:?} only (never the composition root or another feature)"
        );
    }
}

#[test]
fn hosts_reach_features_only_through_the_root() {
    let g = graph();
    for host in HOSTS {
        let direct = ours(g.direct(host));
        for (feature, _) in FEATURES {
            assert!(
                !direct.contains(feature),
                "{host} depends on {feature} directly; go through sf-runtime (the composition root)"
            );
        }
    }
}
