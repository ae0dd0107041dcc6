//! providers.yaml: providers and their model catalogues (with prices).

use super::environments::env_list;
use super::names::{pick, Names};
use super::vars::{self, Vars};
use super::{Ck, Raw};
use crate::diag::unknown_help;
use crate::ident;
use crate::load;
use crate::model::*;
use crate::raw::S;

/// The declared providers and models.
pub(super) struct Catalogue {
    pub(super) provs: Names,
    pub(super) models: Names,
    pub(super) prov_defs: Vec<ProviderDef>,
    pub(super) model_defs: Vec<ModelDef>,
}

pub(super) fn check(ck: &mut Ck, raw: &Raw, envs: &Names, vs: &Vars) -> Catalogue {
    let mut provs = Names::new("provider", load::PROVIDERS);
    let mut models = Names::new("model", load::PROVIDERS);
    let mut model_defs: Vec<ModelDef> = Vec::new();
    let mut prov_defs: Vec<ProviderDef> = Vec::new();
    for p in &raw.providers.providers {
        let p = &p.value;
        let pident = match &p.rust_name {
            Some(r) => {
                let ok = r.value.starts_with(|c: char| c.is_ascii_uppercase())
                    && r.value.chars().all(|c| c.is_ascii_alphanumeric());
                // Rule: a `rustName` override is an UpperCamelCase Rust type name.
                if !ok {
                    ck.err(
                        load::PROVIDERS,
                        r.referenced,
                        format!("`{}` is not a Rust type-style name", r.value),
                        Some("use UpperCamelCase letters and digits, e.g. `WorkersAi`".to_string()),
                    );
                }
                Some(r.value.clone())
            }
            None => ident::pascal(&p.id.value),
        };
        let declared = provs.declare(ck, &p.id, pident.clone());
        let protocol = pick(&Protocol::ALL, ck, load::PROVIDERS, "protocol", &p.protocol);
        // Rule: no provider without models (nothing could be called on it).
        if p.models.value.is_empty() {
            ck.err(
                load::PROVIDERS,
                p.models.referenced,
                format!("provider `{}` has no models", p.id.value),
                Some("declare at least one model with its prices".to_string()),
            );
        }
        let pidx = prov_defs.len();
        let mut mine = Vec::new();
        for m in &p.models.value {
            let m = &m.value;
            let Some(_) = models.declare(ck, &m.id, ident::pascal(&m.id.value)) else {
                continue;
            };
            let mut price = |v: &Option<S<f64>>, field: &str| -> f64 {
                match v {
                    // Rule: every model has both prices (cost budgets cannot be enforced on an unpriced model).
                    None => {
                        ck.err(
                            load::PROVIDERS,
                            m.id.referenced,
                            format!("model `{}` has no {field}", m.id.value),
                            Some(format!("add `{field}: <USD per 1M tokens>` (0 for a free model); cost budgets need a price for every model")),
                        );
                        0.0
                    }
                    // Rule: no negative or non-finite price.
                    Some(s) if !s.value.is_finite() || s.value < 0.0 => {
                        ck.err(
                            load::PROVIDERS,
                            s.referenced,
                            format!("{field} of model `{}` must be a number >= 0", m.id.value),
                            Some("write the USD price per 1M tokens, e.g. 2.5".to_string()),
                        );
                        0.0
                    }
                    Some(s) => s.value,
                }
            };
            let input = price(&m.input_usd_per_1m, "inputUsdPer1m");
            let output = price(&m.output_usd_per_1m, "outputUsdPer1m");
            mine.push(model_defs.len());
            model_defs.push(ModelDef {
                name: m.id.value.clone(),
                ident: ident::pascal(&m.id.value).unwrap_or_default(),
                provider: pidx,
                input_usd_per_1m: input,
                output_usd_per_1m: output,
            });
        }
        // Rule: a provider's default model is in its own catalogue.
        let default_model = match mine
            .iter()
            .find(|&&i| model_defs[i].name == p.default_model.value)
        {
            Some(&i) => Some(i),
            None => {
                let known: Vec<&str> = mine.iter().map(|&i| model_defs[i].name.as_str()).collect();
                ck.err(
                    load::PROVIDERS,
                    p.default_model.referenced,
                    format!(
                        "default model `{}` is not among the models of provider `{}`",
                        p.default_model.value, p.id.value
                    ),
                    Some(unknown_help(&p.default_model.value, "model", &known)),
                );
                None
            }
        };
        let environments = p
            .environments
            .as_ref()
            .map(|l| env_list(ck, envs, load::PROVIDERS, l));
        let any_agent_in: Vec<usize> = p
            .any_agent_in
            .iter()
            .filter_map(|e| envs.resolve(ck, load::PROVIDERS, e))
            .collect();
        // Rule: a provider serves any agent only where it is available at all.
        if let Some(allowed) = &environments {
            for (e, i) in p.any_agent_in.iter().zip(&any_agent_in) {
                if !allowed.contains(i) {
                    ck.err(
                        load::PROVIDERS,
                        e.referenced,
                        format!(
                            "provider `{}` serves any agent in `{}` but is not available there",
                            p.id.value, e.value
                        ),
                        Some(format!("add `{}` to its environments", e.value)),
                    );
                }
            }
        }
        // Every variable named here is declared in vars.yaml (see vars::resolve).
        for v in p
            .credential_vars
            .iter()
            .chain(&p.base_url_var)
            .chain(&p.model_var)
        {
            vars::resolve(ck, vs, load::PROVIDERS, v);
        }
        let credential_sets = credential_sets(ck, vs, p);
        let fallback_models = fallback_models(ck, p, &mine, &model_defs);
        if declared.is_some() {
            prov_defs.push(ProviderDef {
                name: p.id.value.clone(),
                ident: pident.unwrap_or_default(),
                protocol: protocol.unwrap_or(Protocol::OpenaiChat),
                base_url: p
                    .base_url
                    .as_ref()
                    .map(|s| s.value.clone())
                    .unwrap_or_default(),
                base_url_var: p.base_url_var.as_ref().map(|s| s.value.clone()),
                credential_vars: p.credential_vars.iter().map(|s| s.value.clone()).collect(),
                model_var: p.model_var.as_ref().map(|s| s.value.clone()),
                default_model: default_model.unwrap_or(0),
                grantable: p.grantable,
                environments,
                any_agent_in,
                models: mine,
                credential_sets,
                fallback_models,
                ai_gateway_route: None,
            });
        } else {
            // Keep indices aligned with `provs` only for declared providers;
            // models of an undeclared provider point at a placeholder.
            for &m in &mine {
                model_defs[m].provider = usize::MAX;
            }
        }
    }
    // A provider that failed to declare leaves `pidx` gaps; re-point models.
    for (i, p) in prov_defs.iter().enumerate() {
        for &m in &p.models {
            model_defs[m].provider = i;
        }
    }
    Catalogue {
        provs,
        models,
        prov_defs,
        model_defs,
    }
}

/// `credentials` (alternative complete sets), or one set of every credential variable.
fn credential_sets(ck: &mut Ck, vs: &Vars, p: &crate::raw::Provider) -> Vec<Vec<usize>> {
    let Some(sets) = &p.credentials else {
        let one: Vec<usize> = p
            .credential_vars
            .iter()
            .filter_map(|v| vs.names.find(&v.value))
            .collect();
        return vec![one];
    };
    // Rule: `credentials` lists at least one set (none would make the provider never callable).
    if sets.value.is_empty() {
        ck.err(
            load::PROVIDERS,
            sets.referenced,
            format!("provider `{}` has an empty `credentials` list", p.id.value),
            Some("list the alternative credential sets, or remove `credentials` to require every one of `credentialVars`".to_string()),
        );
    }
    let mut out = Vec::new();
    for set in &sets.value {
        // Rule: no empty credential set (it would make the provider always callable, hiding the others).
        if set.value.is_empty() {
            ck.err(
                load::PROVIDERS,
                set.referenced,
                format!("empty credential set in provider `{}`", p.id.value),
                Some("name the variables of this alternative, or remove it".to_string()),
            );
        }
        let mut one = Vec::new();
        for v in &set.value {
            let Some(i) = vars::resolve(ck, vs, load::PROVIDERS, v) else {
                continue;
            };
            // Rule: a credential set uses the provider's own credential variables (one list of its secrets).
            if !p.credential_vars.iter().any(|c| c.value == v.value) {
                ck.err(
                    load::PROVIDERS,
                    v.referenced,
                    format!(
                        "`{}` is in a credential set of provider `{}` but not in its `credentialVars`",
                        v.value, p.id.value
                    ),
                    Some(format!("add `{}` to `credentialVars`", v.value)),
                );
            }
            one.push(i);
        }
        out.push(one);
    }
    out
}

/// `fallbackModels`, resolved in the provider's own catalogue.
fn fallback_models(
    ck: &mut Ck,
    p: &crate::raw::Provider,
    mine: &[usize],
    model_defs: &[ModelDef],
) -> Vec<usize> {
    let mut out = Vec::new();
    for m in &p.fallback_models {
        // Rule: a fallback model is one of the provider's own models (another provider's model would be sent to the wrong API).
        let Some(&i) = mine.iter().find(|&&i| model_defs[i].name == m.value) else {
            let known: Vec<&str> = mine.iter().map(|&i| model_defs[i].name.as_str()).collect();
            ck.err(
                load::PROVIDERS,
                m.referenced,
                format!(
                    "fallback model `{}` is not among the models of provider `{}`",
                    m.value, p.id.value
                ),
                Some(unknown_help(&m.value, "model", &known)),
            );
            continue;
        };
        // Rule: no fallback model listed twice (the second try would be the same call).
        if out.contains(&i) {
            ck.err(
                load::PROVIDERS,
                m.referenced,
                format!("fallback model `{}` is listed twice", m.value),
                Some("remove the second one".to_string()),
            );
            continue;
        }
        out.push(i);
    }
    out
}
