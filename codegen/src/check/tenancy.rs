//! tenancy.yaml: tiers, the routing rubric and quotas (issue 13).

use super::names::{pick, Names};
use super::providers::Catalogue;
use super::{Ck, Raw};
use crate::ident;
use crate::load;
use crate::model::*;
use crate::raw::{TenancyModel, S};

/// Longest one completion (the fallback included) may take.
const MAX_TIMEOUT_MS: i64 = 120_000;
/// Largest daily quota (keeps worst-case reservations far from `i64::MAX`).
const MAX_QUOTA: i64 = 1_000_000_000_000;

/// Rule: a class is a declared provider and one of that provider's models.
fn class_model(ck: &mut Ck, cat: &Catalogue, m: &TenancyModel) -> (usize, usize) {
    let f = load::TENANCY;
    let p = cat.provs.resolve(ck, f, &m.provider).unwrap_or(0);
    let Some(pi) = cat.provs.find(&m.provider.value) else {
        return (p, 0);
    };
    match cat.models.find(&m.model.value) {
        Some(mi) if cat.model_defs.get(mi).is_some_and(|d| d.provider == pi) => (p, mi),
        _ => {
            let known: Vec<&str> = cat.prov_defs.get(pi).map_or(Vec::new(), |d| {
                d.models
                    .iter()
                    .filter_map(|&i| cat.model_defs.get(i).map(|m| m.name.as_str()))
                    .collect()
            });
            ck.err(
                f,
                m.model.referenced,
                format!(
                    "unknown model `{}` for provider `{}`",
                    m.model.value, m.provider.value
                ),
                Some(crate::diag::unknown_help(&m.model.value, "model", &known)),
            );
            (p, 0)
        }
    }
}

/// Rule: a quota or timeout is a whole number from 1 to its maximum.
fn bounded(ck: &mut Ck, v: &S<i64>, field: &str, max: i64) -> u64 {
    if v.value <= 0 || v.value > max {
        ck.err(
            load::TENANCY,
            v.referenced,
            format!("{field} must be between 1 and {max}, not {}", v.value),
            Some(format!("write a whole number of at most {max}")),
        );
        return 1;
    }
    v.value as u64
}

/// A tier's `modes`: the indices (in [`RULES`]) of the rules in `monitor`.
fn modes(ck: &mut Ck, m: &crate::raw::TierModes) -> Vec<usize> {
    let modes: Vec<(&'static str, bool)> = vec![("enforce", false), ("monitor", true)];
    let mut out = Vec::new();
    for (i, v) in [&m.quota, &m.workload, &m.model].into_iter().enumerate() {
        // Rule: a mode is `enforce` or `monitor`.
        if let Some(v) = v {
            if pick(&modes, ck, load::TENANCY, "mode", v) == Some(true) {
                out.push(i);
            }
        }
    }
    out
}

pub(super) fn check(ck: &mut Ck, raw: &Raw, cat: &Catalogue) -> Tenancy {
    let f = load::TENANCY;
    let t = &raw.tenancy;
    let mut out = Tenancy::default();
    let c = &t.classes.value;
    out.classes = [
        class_model(ck, cat, &c.high.value),
        class_model(ck, cat, &c.fast.value),
    ];
    out.timeout_ms = bounded(ck, &t.timeout_ms, "timeoutMs", MAX_TIMEOUT_MS) as u32;

    // Rule: at least one workload, each declared once.
    if t.workloads.value.is_empty() {
        ck.err(
            f,
            t.workloads.referenced,
            "no workloads: `workloads` is empty".into(),
            Some("declare at least one workload, e.g. `workloads: [chat]`".into()),
        );
    }
    let mut workloads = Names::new("workload", f);
    for w in &t.workloads.value {
        if workloads.declare(ck, w, ident::pascal(&w.value)).is_some() {
            out.workloads
                .push((w.value.clone(), ident::pascal(&w.value).unwrap_or_default()));
        }
    }

    let classes: Vec<(&'static str, usize)> =
        CLASSES.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut tiers = Names::new("tier", f);
    for tier in &t.tiers.value {
        let tier = &tier.value;
        let declared = tiers.declare(ck, &tier.id, ident::pascal(&tier.id.value));
        let class = pick(&classes, ck, f, "model class", &tier.class).unwrap_or(0);
        // Rule: the rubric's tiers map to their class (premium -> high, free -> fast).
        if let Some((_, want)) = RUBRIC.iter().find(|(n, _)| *n == tier.id.value) {
            if class != *want && CLASSES.contains(&tier.class.value.as_str()) {
                ck.err(f, tier.class.referenced,
                    format!("tier `{}` must use class `{}`, not `{}`", tier.id.value, CLASSES[*want], tier.class.value),
                    Some("the routing rubric maps premium to the high-quality model and free to the fast one".into()));
            }
        }
        // Rule: a tier's workloads are declared workloads (and it has at least one).
        if tier.workloads.is_empty() {
            ck.err(
                f,
                tier.id.referenced,
                format!("tier `{}` has no workloads", tier.id.value),
                Some("list the workloads it may run, e.g. `workloads: [chat]`".into()),
            );
        }
        let wl: Vec<usize> = tier
            .workloads
            .iter()
            .filter_map(|w| workloads.resolve(ck, f, w))
            .collect();
        let requests_per_day = bounded(ck, &tier.requests_per_day, "requestsPerDay", MAX_QUOTA);
        let tokens_per_day = bounded(ck, &tier.tokens_per_day, "tokensPerDay", MAX_QUOTA);
        let monitor = tier
            .modes
            .as_ref()
            .map_or(Vec::new(), |m| modes(ck, &m.value));
        if declared.is_some() {
            out.tiers.push(TierDef {
                name: tier.id.value.clone(),
                ident: ident::pascal(&tier.id.value).unwrap_or_default(),
                class,
                workloads: wl,
                requests_per_day,
                tokens_per_day,
                monitor,
            });
        }
    }
    // Rule: the default tier is a declared tier.
    out.default_tier = tiers.resolve(ck, f, &t.default_tier).unwrap_or(0);
    // Rule: the rubric's tiers (premium, free) are declared.
    for (name, want) in RUBRIC {
        if tiers.find(name).is_none() {
            ck.err(f, t.tiers.referenced, format!("missing tier `{name}`"),
                Some(format!("the routing rubric needs it: add `- {{ id: {name}, class: {}, workloads: [...], requestsPerDay: N, tokensPerDay: N }}`", CLASSES[want])));
        }
    }
    out
}
