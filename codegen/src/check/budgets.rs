//! budgets.yaml: ceilings, mint caps, Minibob overrides and the agent x
//! profile budget matrix.

use serde_saphyr::Location;

use super::agents::Agents;
use super::names::Names;
use super::profiles::Profiles;
use super::{Ck, Raw};
use crate::load;
use crate::model::*;
use crate::raw::{self, S};

/// The checked budgets other than the matrix (which goes into the agents).
pub(super) struct Budgets {
    pub(super) ceilings: Budget,
    pub(super) mint_caps: Budget,
    pub(super) minibob: Vec<Option<Budget>>,
    pub(super) minibob_plan: Option<usize>,
    pub(super) minibob_agent: Option<usize>,
}

pub(super) fn check(
    ck: &mut Ck,
    raw: &Raw,
    stages: &Names,
    pr: &Profiles,
    ag: &mut Agents,
) -> Budgets {
    let (profs, prof_defs, plans_ns, plans) = (&pr.profs, &pr.prof_defs, &pr.plans_ns, &pr.plans);
    let Agents {
        agent_ns,
        agent_defs,
    } = ag;
    let agent_ns: &Names = agent_ns;
    let braw = &raw.budgets;
    let ceilings = budget(ck, &braw.ceilings.value, None);
    let mint_caps = budget(ck, &braw.mint_caps.value, None);
    let mut minibob: Vec<Option<Budget>> = vec![None; stages.names.len()];
    let minibob_plan = plans_ns
        .resolve(ck, load::BUDGETS, &braw.minibob.plan)
        .and_then(|i| plans.iter().position(|(n, _)| n.name == plans_ns.names[i]));
    let minibob_agent = agent_ns
        .resolve(ck, load::BUDGETS, &braw.minibob.agent)
        .and_then(|i| agent_defs.iter().position(|a| a.name == agent_ns.names[i]));
    for (st, b) in &braw.minibob.stages.0 {
        let b = budget(ck, &b.value, Some((mint_caps, "mint cap")));
        if let Some(i) = stages.resolve(ck, load::BUDGETS, st) {
            // Rule: one Minibob override per stage.
            if minibob[i].is_some() {
                ck.err(
                    load::BUDGETS,
                    st.referenced,
                    format!("duplicate Minibob budget for stage `{}`", st.value),
                    Some("keep one".to_string()),
                );
            }
            minibob[i] = Some(b);
        }
    }
    let mut seen_agents = vec![false; agent_defs.len()];
    let mut first_entry_loc = Location::UNKNOWN;
    for (an, cells) in &braw.budgets.0 {
        if first_entry_loc == Location::UNKNOWN {
            first_entry_loc = an.referenced;
        }
        let Some(ai) = agent_ns.resolve(ck, load::BUDGETS, an) else {
            continue;
        };
        let Some(ai) = agent_defs.iter().position(|a| a.name == agent_ns.names[ai]) else {
            continue;
        };
        // Rule: one budget row per agent.
        if seen_agents[ai] {
            ck.err(
                load::BUDGETS,
                an.referenced,
                format!("duplicate budgets for agent `{}`", an.value),
                Some("merge the two entries".to_string()),
            );
            continue;
        }
        seen_agents[ai] = true;
        let mut row: Vec<Option<Budget>> = vec![None; prof_defs.len()];
        for (pn, b) in &cells.0 {
            let bv = budget(ck, &b.value, Some((ceilings, "ceiling")));
            let Some(pi) = profs.resolve(ck, load::BUDGETS, pn) else {
                continue;
            };
            let Some(pi) = prof_defs.iter().position(|p| p.name == profs.names[pi]) else {
                continue;
            };
            // Rule: one budget cell per agent and profile.
            if row[pi].is_some() {
                ck.err(
                    load::BUDGETS,
                    pn.referenced,
                    format!(
                        "duplicate budget cell `{}` for agent `{}`",
                        pn.value, an.value
                    ),
                    Some("keep one".to_string()),
                );
            }
            row[pi] = Some(bv);
        }
        for (pi, cell) in row.iter().enumerate() {
            // Rule: the budget matrix is complete for every profile (no cell left to a default).
            if cell.is_none() {
                ck.err(
                    load::BUDGETS,
                    an.referenced,
                    format!(
                        "missing budget cell: agent `{}` has no budget for profile `{}`",
                        an.value, prof_defs[pi].name
                    ),
                    Some(format!(
                        "add `{}: {{ maxTokens: …, timeoutMs: …, maxRequests: … }}` under `{}`",
                        prof_defs[pi].name, an.value
                    )),
                );
            }
        }
        agent_defs[ai].budgets = row
            .into_iter()
            .map(|c| {
                c.unwrap_or(Budget {
                    max_tokens: 1,
                    timeout_ms: 1,
                    max_requests: 1,
                })
            })
            .collect();
    }
    for (ai, seen) in seen_agents.iter().enumerate() {
        // Rule: every agent has a budget row.
        if !seen {
            let a = &agent_defs[ai];
            ck.err(
                load::BUDGETS,
                first_entry_loc,
                format!("missing budget cells: agent `{}` has no budgets", a.name),
                Some(format!(
                    "add `{}:` under `budgets:` with a cell for each profile",
                    a.name
                )),
            );
        }
    }
    Budgets {
        ceilings,
        mint_caps,
        minibob,
        minibob_plan,
        minibob_agent,
    }
}

fn budget_value(ck: &mut Ck, file: &str, field: &str, v: &S<i64>, cap: Option<(i64, &str)>) -> u32 {
    let n = v.value;
    // Rule: no zero or negative budget (a grant could never run).
    if n <= 0 {
        ck.err(
            file,
            v.referenced,
            format!("{field} must be a positive number, found {n}"),
            Some(format!("set {field} to at least 1")),
        );
        return 1;
    }
    if let Some((c, what)) = cap {
        // Rule: no budget above its ceiling, nor a Minibob override above the mint caps.
        if n > c {
            ck.err(
                file,
                v.referenced,
                format!("{field} {n} is above the {what} of {c}"),
                Some(format!(
                    "lower it to at most {c}, or raise the {what} in {}",
                    load::BUDGETS
                )),
            );
            return c.clamp(1, u32::MAX as i64) as u32;
        }
    }
    // Rule: no budget that does not fit the generated `u32`.
    if n > u32::MAX as i64 {
        ck.err(
            file,
            v.referenced,
            format!("{field} {n} is too large"),
            Some(format!("use at most {}", u32::MAX)),
        );
        return u32::MAX;
    }
    n as u32
}

fn budget(ck: &mut Ck, b: &raw::Budget, cap: Option<(Budget, &str)>) -> Budget {
    let f = load::BUDGETS;
    let c = |x: fn(&Budget) -> u32| cap.map(|(b, w)| (x(&b) as i64, w));
    Budget {
        max_tokens: budget_value(ck, f, "maxTokens", &b.max_tokens, c(|b| b.max_tokens)),
        timeout_ms: budget_value(ck, f, "timeoutMs", &b.timeout_ms, c(|b| b.timeout_ms)),
        max_requests: budget_value(ck, f, "maxRequests", &b.max_requests, c(|b| b.max_requests)),
    }
}
