//! The tenancy part of a skeleton: a placeholder tier and workload when none
//! was declared, valid identifiers, and indices that point somewhere.

use super::{fix_idents, PLACEHOLDER};
use crate::model::*;

pub(super) fn repair(p: &mut Policy) {
    let t = &mut p.tenancy;
    fix_idents(t.tiers.iter_mut().map(|x| &mut x.ident), PLACEHOLDER);
    fix_idents(t.workloads.iter_mut().map(|x| &mut x.1), PLACEHOLDER);
    if t.workloads.is_empty() {
        t.workloads.push(("<workload>".into(), PLACEHOLDER.into()));
    }
    if t.tiers.is_empty() {
        t.tiers.push(TierDef {
            name: "<tier>".into(),
            ident: PLACEHOLDER.into(),
            class: 0,
            workloads: Vec::new(),
            requests_per_day: 1,
            tokens_per_day: 1,
            monitor: Vec::new(),
        });
    }
    if t.default_tier >= t.tiers.len() {
        t.default_tier = 0;
    }
    let nw = t.workloads.len();
    for tier in &mut t.tiers {
        tier.workloads.retain(|&i| i < nw);
        tier.class = tier.class.min(CLASSES.len() - 1);
    }
    for c in &mut t.classes {
        if c.0 >= p.providers.len() {
            c.0 = 0;
        }
        if c.1 >= p.models.len() {
            c.1 = 0;
        }
    }
}
