//! The approvals part of a skeleton: a placeholder caller and operation when
//! none was declared, valid identifiers, and indices that point somewhere.

use super::{fix_idents, PLACEHOLDER};
use crate::model::*;

pub(super) fn repair(p: &mut Policy) {
    let a = &mut p.approvals;
    fix_idents(a.operations.iter_mut().map(|o| &mut o.ident), PLACEHOLDER);
    fix_idents(a.callers.iter_mut().map(|c| &mut c.ident), PLACEHOLDER);
    if a.operations.is_empty() {
        a.operations.push(OperationDef {
            name: "<operation>".into(),
            ident: PLACEHOLDER.into(),
            description: String::new(),
        });
    }
    if a.callers.is_empty() {
        a.callers.push(CallerDef {
            name: "<caller>".into(),
            ident: PLACEHOLDER.into(),
            token_var: String::new(),
            daily_budget_usd: 1.0,
            cost_threshold_usd: 0.0,
            tolerance: 0,
            blocked: Vec::new(),
            requires_human: Vec::new(),
            max_duration_minutes: 1,
            monitoring: 0,
        });
    }
    let nops = a.operations.len();
    for c in &mut a.callers {
        c.blocked.retain(|&i| i < nops);
        c.requires_human.retain(|&i| i < nops);
        c.tolerance = c.tolerance.min(TOLERANCES.len() - 1);
        c.monitoring = c.monitoring.min(MONITORING.len() - 1);
    }
    if a.provider >= p.providers.len() {
        a.provider = 0;
    }
    if a.model >= p.models.len() {
        a.model = 0;
    }
}
