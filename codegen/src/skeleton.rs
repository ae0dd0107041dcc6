//! What `include_policy!` emits next to the `compile_error!`s of a broken
//! policy: the same items as for a sound one, built from the policy as far as
//! it was checked and repaired so that it type-checks (every enum keeps the
//! names that were declared without error and gets a placeholder variant if
//! none was; every index points somewhere; every budget row is complete).
//! One YAML mistake then gives one error, not a cascade of "cannot find type
//! `Agent`" in the crate that includes the policy. When a file does not even
//! parse there are no names to keep: the skeleton has only placeholders.
//!
//! The values are placeholders (`POLICY_VERSION` is `pol-invalid`); the crate
//! does not build anyway, so nothing ever runs on them.

use std::collections::HashSet;

use proc_macro2::TokenStream;

use crate::model::*;

mod approvals;
mod tenancy;

/// The Rust name of a placeholder variant (and, in snake case, of a
/// placeholder method).
pub(super) const PLACEHOLDER: &str = "PolicyDidNotCompile";
const PLACEHOLDER_FN: &str = "policy_did_not_compile";

/// The generated items for a policy that failed to check (`None`: that did
/// not even parse).
pub fn skeleton(partial: Option<Policy>) -> TokenStream {
    let mut p = partial.unwrap_or_else(empty);
    repair(&mut p);
    crate::emit::emit(&p)
}

fn empty() -> Policy {
    let b = Budget {
        max_tokens: 1,
        timeout_ms: 1,
        max_requests: 1,
    };
    Policy {
        providers: Vec::new(),
        models: Vec::new(),
        profiles: Vec::new(),
        plans: Vec::new(),
        curated: Vec::new(),
        agents: Vec::new(),
        ceilings: b,
        mint_caps: b,
        environments: Vec::new(),
        stages: Vec::new(),
        minibob: Vec::new(),
        minibob_plan: 0,
        minibob_agent: 0,
        routes: Vec::new(),
        ops: Default::default(),
        lexicon: Lexicon::default(),
        vars: Vec::new(),
        approvals: Approvals::default(),
        learning: Learning::default(),
        tenancy: Tenancy::default(),
        version: String::new(),
    }
}

fn is_ident(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_ok()
}

/// Makes every identifier valid and unique within its kind (a clash would
/// be a new error of the skeleton's own making).
pub(super) fn fix_idents<'a>(idents: impl Iterator<Item = &'a mut String>, placeholder: &str) {
    let mut seen = HashSet::new();
    for (i, id) in idents.enumerate() {
        if !is_ident(id) || !seen.insert(id.clone()) {
            *id = format!("{placeholder}{i}");
            seen.insert(id.clone());
        }
    }
}

fn named(name: &str) -> Named {
    Named {
        name: format!("<{name}>"),
        ident: PLACEHOLDER.to_string(),
    }
}

/// `i` if it indexes `len` items, else 0 (callers make `len` at least 1).
fn clamp(i: usize, len: usize) -> usize {
    if i < len {
        i
    } else {
        0
    }
}

fn keep_valid(v: &mut Vec<usize>, len: usize) {
    v.retain(|&i| i < len);
}

fn repair(p: &mut Policy) {
    p.version = "pol-invalid".to_string();

    fix_idents(p.environments.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.stages.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.providers.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.models.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.profiles.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.plans.iter_mut().map(|n| &mut n.0.ident), PLACEHOLDER);
    fix_idents(p.agents.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.agents.iter_mut().map(|n| &mut n.method), PLACEHOLDER_FN);
    fix_idents(p.routes.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    fix_idents(p.routes.iter_mut().map(|n| &mut n.handler), PLACEHOLDER_FN);

    fix_idents(p.vars.iter_mut().map(|n| &mut n.ident), PLACEHOLDER);
    if p.vars.is_empty() {
        p.vars.push(VarDef {
            name: "<variable>".into(),
            ident: PLACEHOLDER.into(),
            secret: false,
            required_in: Vec::new(),
            feature: String::new(),
            description: String::new(),
            default: None,
            example: None,
        });
    }
    let (nv, ne) = (p.vars.len(), p.environments.len().max(1));
    for v in &mut p.vars {
        keep_valid(&mut v.required_in, ne);
    }
    for x in &mut p.providers {
        x.credential_sets.iter_mut().for_each(|s| keep_valid(s, nv));
    }

    // Every enum needs a variant (`#[repr(u8)]` rejects an empty one).
    if p.environments.is_empty() {
        p.environments.push(named("environment"));
    }
    if p.stages.is_empty() {
        p.stages.push(named("stage"));
    }
    if p.models.is_empty() {
        p.models.push(ModelDef {
            name: "<model>".into(),
            ident: PLACEHOLDER.into(),
            provider: 0,
            input_usd_per_1m: 0.0,
            output_usd_per_1m: 0.0,
        });
    }
    if p.providers.is_empty() {
        p.providers.push(ProviderDef {
            name: "<provider>".into(),
            ident: PLACEHOLDER.into(),
            protocol: Protocol::OpenaiChat,
            base_url: String::new(),
            base_url_var: None,
            credential_vars: Vec::new(),
            model_var: None,
            default_model: 0,
            grantable: false,
            environments: None,
            any_agent_in: Vec::new(),
            models: Vec::new(),
            credential_sets: Vec::new(),
            fallback_models: Vec::new(),
            ai_gateway_route: None,
        });
    }
    if p.profiles.is_empty() {
        p.profiles.push(ProfileDef {
            name: "<profile>".into(),
            ident: PLACEHOLDER.into(),
            default_provider: 0,
            models: Vec::new(),
        });
    }
    if p.plans.is_empty() {
        p.plans.push((named("plan"), 0));
    }
    if p.agents.is_empty() {
        p.agents.push(AgentDef {
            name: "<agent>".into(),
            ident: PLACEHOLDER.into(),
            method: PLACEHOLDER_FN.into(),
            aliases: Vec::new(),
            category: String::new(),
            task_class: String::new(),
            surface: Surface::Endpoint,
            providers: Vec::new(),
            default_provider: 0,
            allow_provider_choice: false,
            allow_model_choice: false,
            required_entitlements: Vec::new(),
            tool_caps: Vec::new(),
            budgets: Vec::new(),
        });
    }
    if p.routes.is_empty() {
        p.routes.push(RouteDef {
            name: "<route>".into(),
            ident: PLACEHOLDER.into(),
            handler: PLACEHOLDER_FN.into(),
            methods: vec![0],
            path: "/".into(),
            auth: Auth::None,
            environments: None,
            concurrency_capped: false,
        });
    }

    // Every index points somewhere.
    let (ne, np, nm, nprof) = (
        p.environments.len(),
        p.providers.len(),
        p.models.len(),
        p.profiles.len(),
    );
    for m in &mut p.models {
        m.provider = clamp(m.provider, np);
    }
    for x in &mut p.providers {
        x.default_model = clamp(x.default_model, nm);
        keep_valid(&mut x.models, nm);
        keep_valid(&mut x.fallback_models, nm);
        keep_valid(&mut x.any_agent_in, ne);
        if let Some(e) = &mut x.environments {
            keep_valid(e, ne);
        }
    }
    for x in &mut p.profiles {
        x.default_provider = clamp(x.default_provider, np);
        let mut seen = HashSet::new();
        x.models
            .retain(|m| m.provider < np && seen.insert(m.provider));
        for m in &mut x.models {
            m.default = clamp(m.default, nm);
            keep_valid(&mut m.allowed, nm);
        }
    }
    for (_, prof) in &mut p.plans {
        *prof = clamp(*prof, nprof);
    }
    let mut seen = HashSet::new();
    p.curated.retain(|(tc, _)| seen.insert(tc.clone()));
    for (_, prof) in &mut p.curated {
        *prof = clamp(*prof, nprof);
    }
    let filler = Budget {
        max_tokens: 1,
        timeout_ms: 1,
        max_requests: 1,
    };
    for a in &mut p.agents {
        keep_valid(&mut a.providers, np);
        a.default_provider = clamp(a.default_provider, np);
        a.budgets.resize(nprof, filler);
    }
    approvals::repair(p);
    let na = p.agents.len();
    p.learning.scoring.retain(|s| s.agent < na);
    p.learning.criteria.resize(CRITERIA.len(), 0.0);
    tenancy::repair(p);
    p.minibob.resize(p.stages.len(), None);
    p.minibob_plan = clamp(p.minibob_plan, p.plans.len());
    p.minibob_agent = clamp(p.minibob_agent, p.agents.len());
    crate::ops::repair(&mut p.ops, ne, p.agents.len());
    for r in &mut p.routes {
        keep_valid(&mut r.methods, METHODS.len());
        if r.methods.is_empty() {
            r.methods.push(0);
        }
        if let Some(e) = &mut r.environments {
            keep_valid(e, ne);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_skeleton_is_valid_rust() {
        let t = skeleton(None);
        let f = syn::parse2::<syn::File>(t);
        assert!(f.is_ok(), "{:?}", f.err());
    }
}
