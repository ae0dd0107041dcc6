//! agents.yaml: the agent registry (ids, aliases, surfaces, providers).

use std::collections::HashMap;

use serde_saphyr::Location;

use super::names::{pick, Names};
use super::profiles::Profiles;
use super::providers::Catalogue;
use super::{Ck, Raw};
use crate::ident;
use crate::load;
use crate::model::*;
use crate::raw;

/// The declared agents.
pub(super) struct Agents {
    pub(super) agent_ns: Names,
    pub(super) agent_defs: Vec<AgentDef>,
}

pub(super) fn check(ck: &mut Ck, raw: &Raw, cat: &Catalogue, pr: &Profiles) -> Agents {
    let (provs, prov_defs) = (&cat.provs, &cat.prov_defs);
    let (plans, curated, prof_defs) = (&pr.plans, &pr.curated, &pr.prof_defs);
    let mut agent_ns = Names::new("agent", load::AGENTS);
    let mut all_names: HashMap<String, (String, Location)> = HashMap::new();
    let mut method_ns = Names::new("agent", load::AGENTS);
    let mut agent_defs = Vec::new();
    let mut agent_locs: Vec<&raw::Agent> = Vec::new();
    for a in &raw.agents.agents {
        let a = &a.value;
        let declared = agent_ns.declare(ck, &a.id, ident::pascal(&a.id.value));
        let method_ok = declared.is_some()
            && method_ns
                .declare(ck, &a.id, ident::snake(&a.id.value))
                .is_some();
        if declared.is_some() {
            all_names.insert(a.id.value.clone(), (a.id.value.clone(), a.id.referenced));
        }
        let mut aliases = Vec::new();
        for al in &a.aliases {
            // Rule: an alias names one agent only (not another id or alias).
            if let Some((owner, loc)) = all_names.get(al.value.trim()) {
                let what = if *owner == al.value.trim() {
                    "agent id".to_string()
                } else {
                    format!("alias of `{owner}`")
                };
                ck.err(
                    load::AGENTS,
                    al.referenced,
                    format!("alias `{}` collides with the {what}", al.value),
                    Some(format!("an id or alias may name only one agent (the other is at {}:{}:{}); remove or rename this alias", load::AGENTS, loc.line(), loc.column())),
                );
                continue;
            }
            // Rule: no empty alias or one with spaces (lookups trim, so it could never match).
            if al.value.trim().is_empty() || al.value.trim() != al.value {
                ck.err(
                    load::AGENTS,
                    al.referenced,
                    format!("alias `{}` is empty or has surrounding spaces", al.value),
                    Some("lookups trim their input, so write the alias without spaces".to_string()),
                );
                continue;
            }
            all_names.insert(al.value.clone(), (a.id.value.clone(), al.referenced));
            aliases.push(al.value.clone());
        }
        // An id declared after an alias of the same spelling.
        // Rule: no agent id spelled like an earlier agent's alias.
        for (prev_alias_owner, loc) in agent_defs
            .iter()
            .flat_map(|d: &AgentDef| d.aliases.iter().map(move |x| (x, d)))
            .filter(|(x, _)| **x == a.id.value)
            .map(|(_, d)| (d.name.clone(), a.id.referenced))
            .collect::<Vec<_>>()
        {
            ck.err(
                load::AGENTS,
                loc,
                format!(
                    "agent id `{}` collides with an alias of `{prev_alias_owner}`",
                    a.id.value
                ),
                Some("rename the agent or drop that alias".to_string()),
            );
        }
        let surface = pick(&Surface::ALL, ck, load::AGENTS, "surface", &a.surface);
        for (f, v) in [("category", &a.category), ("taskClass", &a.task_class)] {
            // Rule: no empty category or task class (events and D1 rows need them).
            if v.value.trim().is_empty() {
                ck.err(
                    load::AGENTS,
                    v.referenced,
                    format!("empty {f} for agent `{}`", a.id.value),
                    Some(format!("set {f}")),
                );
            }
        }
        // Rule: no agent without providers.
        if a.providers.value.is_empty() {
            ck.err(
                load::AGENTS,
                a.providers.referenced,
                format!("agent `{}` supports no providers", a.id.value),
                Some("list at least one provider from policy/providers.yaml".to_string()),
            );
        }
        let providers: Vec<usize> = a
            .providers
            .value
            .iter()
            .filter_map(|p| provs.resolve(ck, load::AGENTS, p))
            .collect();
        let dp = provs.resolve(ck, load::AGENTS, &a.default_provider);
        if let Some(d) = dp {
            // Rule: an agent's default provider is among its providers.
            if !providers.contains(&d) && providers.len() == a.providers.value.len() {
                ck.err(
                    load::AGENTS,
                    a.default_provider.referenced,
                    format!(
                        "default provider `{}` is not among the providers of agent `{}`",
                        a.default_provider.value, a.id.value
                    ),
                    Some(format!(
                        "add `{}` to `providers`, or choose the default from them",
                        a.default_provider.value
                    )),
                );
            }
        }
        if declared.is_some() && method_ok {
            agent_defs.push(AgentDef {
                name: a.id.value.clone(),
                ident: ident::pascal(&a.id.value).unwrap_or_default(),
                method: ident::snake(&a.id.value).unwrap_or_default(),
                aliases,
                category: a.category.value.clone(),
                task_class: a.task_class.value.clone(),
                surface: surface.unwrap_or(Surface::Endpoint),
                providers,
                default_provider: dp.unwrap_or(0),
                allow_provider_choice: a.allow_provider_choice,
                allow_model_choice: a.allow_model_choice,
                required_entitlements: a
                    .required_entitlements
                    .iter()
                    .map(|s| s.value.clone())
                    .collect(),
                tool_caps: a.tool_caps.iter().map(|s| s.value.clone()).collect(),
                budgets: Vec::new(),
            });
            agent_locs.push(a);
        }
    }

    // Every agent must be left with a provider under every profile it can be
    // granted: its curated profile if its task class has one, else every
    // profile a plan maps to.
    let mut plan_profiles: Vec<usize> = plans.iter().map(|(_, p)| *p).collect();
    plan_profiles.sort_unstable();
    plan_profiles.dedup();
    for (a, ra) in agent_defs.iter().zip(&agent_locs) {
        if a.providers.len() != ra.providers.value.len() {
            continue; // an unknown provider was already reported
        }
        let reachable: Vec<usize> = match curated.iter().find(|(t, _)| *t == a.task_class) {
            Some((_, p)) => vec![*p],
            None => plan_profiles.clone(),
        };
        for p in reachable {
            let Some(pd) = prof_defs.get(p) else { continue };
            let usable = a
                .providers
                .iter()
                .any(|ap| pd.models.iter().any(|m| m.provider == *ap));
            // Rule: an agent has a usable provider under every profile it can be granted.
            if !usable {
                let offered: Vec<&str> = pd
                    .models
                    .iter()
                    .map(|m| prov_defs[m.provider].name.as_str())
                    .collect();
                ck.err(
                    load::AGENTS,
                    ra.providers.referenced,
                    format!("agent `{}` has no usable provider under profile `{}`", a.name, pd.name),
                    Some(format!(
                        "profile `{}` offers {}; add one of them to the agent's providers, or give the profile models for one of the agent's providers",
                        pd.name,
                        offered.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        }
    }
    Agents {
        agent_ns,
        agent_defs,
    }
}
