//! approvals.yaml: the rules `POST /api/approve` applies (issue 15).

use super::names::{pick, Names};
use super::providers::Catalogue;
use super::{Ck, Raw};
use crate::ident;
use crate::load;
use crate::model::*;
use crate::raw::S;

/// Longest a grey-zone model call may take, and longest a pending approval may wait.
const MAX_TIMEOUT_MS: i64 = 60_000;
const MAX_PENDING_TTL_MINUTES: i64 = 7 * 24 * 60;
const MAX_DURATION_MINUTES: i64 = 7 * 24 * 60;

pub(super) fn check(
    ck: &mut Ck,
    raw: &Raw,
    cat: &Catalogue,
    vars: &super::vars::Vars,
) -> Approvals {
    let f = load::APPROVALS;
    let a = &raw.approvals;
    let mut out = Approvals::default();

    // Rule: the grey-zone model is a declared provider and one of its models.
    let m = &a.model.value;
    out.provider = cat.provs.resolve(ck, f, &m.provider).unwrap_or(0);
    if let Some(p) = cat.provs.find(&m.provider.value) {
        match cat.models.find(&m.model.value) {
            Some(mi) if cat.model_defs.get(mi).is_some_and(|d| d.provider == p) => out.model = mi,
            _ => {
                let known: Vec<&str> = cat.prov_defs.get(p).map_or(Vec::new(), |d| {
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
            }
        }
    }
    out.timeout_ms = positive(ck, &m.timeout_ms, "timeoutMs", MAX_TIMEOUT_MS);
    out.pending_ttl_minutes = positive(
        ck,
        &a.pending_ttl_minutes,
        "pendingTtlMinutes",
        MAX_PENDING_TTL_MINUTES,
    );

    // Rule: each tolerance has exactly one decision bar in (0, 1], and every tolerance has one.
    let table: Vec<(&str, usize)> = TOLERANCES
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i))
        .collect();
    let mut seen = [false; 3];
    for (k, v) in &a.tolerances.value.0 {
        let Some(i) = pick(&table, ck, f, "risk tolerance", k) else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            ck.err(
                f,
                k.referenced,
                format!("duplicate risk tolerance `{}`", k.value),
                Some("give each tolerance one bar".into()),
            );
        }
        if !(v.value > 0.0 && v.value <= 1.0) {
            ck.err(
                f,
                v.referenced,
                format!("the `{}` bar must be in (0, 1]", k.value),
                Some(
                    "it is the highest risk score (0..1) the model may give and still approve"
                        .into(),
                ),
            );
        }
        out.bars[i] = v.value;
    }
    for (i, t) in TOLERANCES.iter().enumerate() {
        if !seen[i] {
            ck.err(
                f,
                a.tolerances.referenced,
                format!("risk tolerance `{t}` has no bar"),
                Some(format!("add `{t}: <0..1>` to `tolerances`")),
            );
        }
    }

    let mut ops = Names::new("operation", f);
    for o in &a.operations {
        let o = &o.value;
        if ops.declare(ck, &o.id, ident::pascal(&o.id.value)).is_some() {
            out.operations.push(OperationDef {
                name: o.id.value.clone(),
                ident: ident::pascal(&o.id.value).unwrap_or_default(),
                description: o.description.clone(),
            });
        }
    }

    // Rule: at least one caller (an empty list would refuse every agency with no hint why).
    if a.callers.value.is_empty() {
        ck.err(
            f,
            a.callers.referenced,
            "no callers: `callers` is empty".into(),
            Some("declare at least one caller with its token variable and budget".into()),
        );
    }
    let mut callers = Names::new("caller", f);
    let mon: Vec<(&str, usize)> = MONITORING
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i))
        .collect();
    for c in &a.callers.value {
        let c = &c.value;
        let declared = callers.declare(ck, &c.id, ident::pascal(&c.id.value));
        // Rule: a caller's token variable is declared in vars.yaml (else no caller could authenticate).
        let tv = &c.token_var.value;
        super::vars::resolve(ck, vars, f, &c.token_var);
        // Rule: budgets are positive, and the human threshold is within the daily budget.
        let budget = c.daily_budget_usd.value;
        if !(budget.is_finite() && budget > 0.0) {
            ck.err(
                f,
                c.daily_budget_usd.referenced,
                format!(
                    "dailyBudgetUsd of caller `{}` must be a positive number",
                    c.id.value
                ),
                Some("write the USD a caller may spend per UTC day, e.g. 50".into()),
            );
        }
        let th = c.cost_threshold_usd.value;
        if !(th.is_finite() && th >= 0.0) {
            ck.err(
                f,
                c.cost_threshold_usd.referenced,
                format!(
                    "costThresholdUsd of caller `{}` must be a number >= 0",
                    c.id.value
                ),
                Some("write the USD above which a human approves, e.g. 10".into()),
            );
        } else if th > budget {
            ck.err(f, c.cost_threshold_usd.referenced, format!("costThresholdUsd {th} of caller `{}` is above its dailyBudgetUsd {budget}", c.id.value), Some("a task above the daily budget is always denied, so a human would never see it: lower the threshold or raise the budget".into()));
        }
        let tolerance = pick(&table, ck, f, "risk tolerance", &c.risk_tolerance).unwrap_or(0);
        let resolve = |ck: &mut Ck, v: &[S<String>]| -> Vec<usize> {
            v.iter().filter_map(|o| ops.resolve(ck, f, o)).collect()
        };
        // Rule: blocked and human-only operations are declared operations.
        let blocked = resolve(ck, &c.blocked);
        let requires_human = resolve(ck, &c.requires_human);
        // Rule: no operation both blocked and human-only (the block would silently win).
        for o in &c.requires_human {
            if c.blocked.iter().any(|b| b.value == o.value) {
                ck.err(
                    f,
                    o.referenced,
                    format!(
                        "operation `{}` is both blocked and requiresHuman for caller `{}`",
                        o.value, c.id.value
                    ),
                    Some(
                        "keep it in one list: blocked is refused, requiresHuman goes to a human"
                            .into(),
                    ),
                );
            }
        }
        let max_duration_minutes = positive(
            ck,
            &c.limits.max_duration_minutes,
            "maxDurationMinutes",
            MAX_DURATION_MINUTES,
        );
        let monitoring = pick(&mon, ck, f, "monitoring level", &c.limits.monitoring).unwrap_or(0);
        if declared.is_some() {
            out.callers.push(CallerDef {
                name: c.id.value.clone(),
                ident: ident::pascal(&c.id.value).unwrap_or_default(),
                token_var: tv.clone(),
                daily_budget_usd: budget,
                cost_threshold_usd: th,
                tolerance,
                blocked,
                requires_human,
                max_duration_minutes,
                monitoring,
            });
        }
    }
    out
}

/// Rule: durations are positive and bounded (a zero timeout or TTL decides nothing).
fn positive(ck: &mut Ck, v: &S<i64>, field: &str, max: i64) -> u32 {
    if v.value <= 0 || v.value > max {
        ck.err(
            load::APPROVALS,
            v.referenced,
            format!("{field} must be between 1 and {max}, not {}", v.value),
            Some(format!("write a whole number of at most {max}")),
        );
        return 1;
    }
    v.value as u32
}
