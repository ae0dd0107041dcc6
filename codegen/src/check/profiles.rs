//! profiles.yaml: pricing profiles, the plan -> profile map, curated task classes.

use serde_saphyr::Location;

use super::names::Names;
use super::providers::Catalogue;
use super::{Ck, Raw};
use crate::ident;
use crate::load;
use crate::model::*;
use crate::raw::S;

/// The declared profiles, plans and curated task classes.
pub(super) struct Profiles {
    pub(super) profs: Names,
    pub(super) prof_defs: Vec<ProfileDef>,
    pub(super) plans_ns: Names,
    pub(super) plans: Vec<(Named, usize)>,
    pub(super) curated: Vec<(String, usize)>,
}

pub(super) fn check(ck: &mut Ck, raw: &Raw, cat: &Catalogue) -> Profiles {
    let (provs, models, prov_defs, model_defs) =
        (&cat.provs, &cat.models, &cat.prov_defs, &cat.model_defs);
    let mut profs = Names::new("profile", load::PROFILES);
    let mut prof_defs: Vec<ProfileDef> = Vec::new();
    for (name, p) in &raw.profiles.profiles.0 {
        let declared = profs.declare(ck, name, ident::pascal(&name.value));
        let p = &p.value;
        let mut pms = Vec::new();
        let mut seen: Vec<usize> = Vec::new();
        // Rule: no profile without providers (nothing could be called under it).
        if p.models.0.is_empty() {
            ck.err(
                load::PROFILES,
                name.referenced,
                format!("profile `{}` has no providers", name.value),
                Some(
                    "add `models:` with at least one provider and its default and allowed models"
                        .to_string(),
                ),
            );
        }
        for (pname, pm) in &p.models.0 {
            let Some(pi) = provs.resolve(ck, load::PROFILES, pname) else {
                continue;
            };
            // Rule: a provider appears once per profile (two entries would disagree on models).
            if seen.contains(&pi) {
                ck.err(
                    load::PROFILES,
                    pname.referenced,
                    format!(
                        "provider `{}` listed twice in profile `{}`",
                        pname.value, name.value
                    ),
                    Some("merge the two entries".to_string()),
                );
                continue;
            }
            seen.push(pi);
            let pm = &pm.value;
            let mut model_ref = |m: &S<String>| -> Option<usize> {
                let i = models.resolve(ck, load::PROFILES, m)?;
                // Rule: a profile lists a model under the provider that serves it.
                if model_defs[i].provider != pi {
                    let owner = prov_defs
                        .get(model_defs[i].provider)
                        .map(|p| p.name.as_str())
                        .unwrap_or("?");
                    ck.err(
                        load::PROFILES,
                        m.referenced,
                        format!(
                            "model `{}` belongs to provider `{owner}`, not `{}`",
                            m.value, pname.value
                        ),
                        Some(format!(
                            "list it under `{owner}:` or pick a model of `{}`",
                            pname.value
                        )),
                    );
                    return None;
                }
                Some(i)
            };
            let default = model_ref(&pm.default);
            let allowed: Vec<usize> = pm.allowed.value.iter().filter_map(&mut model_ref).collect();
            // Rule: no empty allowed-model list (the provider could never be used).
            if pm.allowed.value.is_empty() {
                ck.err(
                    load::PROFILES,
                    pm.allowed.referenced,
                    format!(
                        "empty allowed model list for `{}` in profile `{}`",
                        pname.value, name.value
                    ),
                    Some(format!(
                        "list at least the default model, e.g. `allowed: [{}]`",
                        pm.default.value
                    )),
                );
            } else if let Some(d) = default {
                // Rule: the default model is one of the allowed models.
                if !allowed.contains(&d) && allowed.len() == pm.allowed.value.len() {
                    ck.err(
                        load::PROFILES,
                        pm.default.referenced,
                        format!(
                            "default model `{}` is not in the allowed list of `{}` in profile `{}`",
                            pm.default.value, pname.value, name.value
                        ),
                        Some(format!(
                            "add `{}` to `allowed`, or choose the default from it",
                            pm.default.value
                        )),
                    );
                }
            }
            if let Some(d) = default {
                pms.push(ProfileModelsDef {
                    provider: pi,
                    default: d,
                    allowed,
                });
            }
        }
        let dp = provs.resolve(ck, load::PROFILES, &p.default_provider);
        if let Some(dp) = dp {
            // Rule: a profile's default provider has models in that profile.
            if !seen.contains(&dp) && !p.models.0.is_empty() {
                let listed: Vec<&str> = seen.iter().map(|&i| provs.names[i].as_str()).collect();
                ck.err(
                    load::PROFILES,
                    p.default_provider.referenced,
                    format!(
                        "default provider `{}` has no models in profile `{}`",
                        p.default_provider.value, name.value
                    ),
                    Some(format!(
                        "pick one of its providers ({}) or add models for `{}`",
                        listed.join(", "),
                        p.default_provider.value
                    )),
                );
            }
        }
        if declared.is_some() {
            prof_defs.push(ProfileDef {
                name: name.value.clone(),
                ident: ident::pascal(&name.value).unwrap_or_default(),
                default_provider: dp.unwrap_or(0),
                models: pms,
            });
        }
    }
    let mut plans_ns = Names::new("plan", load::PROFILES);
    let mut plans = Vec::new();
    for (plan, prof) in &raw.profiles.plans.0 {
        let d = plans_ns.declare(ck, plan, ident::pascal(&plan.value));
        let p = profs.resolve(ck, load::PROFILES, prof);
        // Rule: every plan maps to a declared profile.
        if let (Some(_), Some(p)) = (d, p) {
            plans.push((
                Named {
                    name: plan.value.clone(),
                    ident: ident::pascal(&plan.value).unwrap_or_default(),
                },
                p,
            ));
        }
    }
    // Rule: at least one plan (no grant could get a profile).
    if raw.profiles.plans.0.is_empty() {
        ck.err(
            load::PROFILES,
            Location::UNKNOWN,
            "no plans declared".to_string(),
            Some("map each Paris plan to a profile under `plans:`".to_string()),
        );
    }
    let mut curated = Vec::new();
    let mut curated_ns = Names::new("curated task class", load::PROFILES);
    for (tc, prof) in &raw.profiles.curated.0 {
        let d = curated_ns.declare(ck, tc, Some(tc.value.clone()));
        // Rule: a curated task class maps to a declared profile.
        if let (Some(_), Some(p)) = (d, profs.resolve(ck, load::PROFILES, prof)) {
            curated.push((tc.value.clone(), p));
        }
    }
    Profiles {
        profs,
        prof_defs,
        plans_ns,
        plans,
        curated,
    }
}
