//! Stage 2: every cross-file rule. Each check pushes a diagnostic and carries
//! on, so one run reports every mistake; the checked [`Policy`] is built only
//! when nothing was reported.

use std::collections::HashMap;

use serde_saphyr::Location;
use sha2::{Digest, Sha256};

use crate::diag::{unknown_help, Diagnostic, Diagnostics};
use crate::ident;
use crate::load::{self, Sources};
use crate::model::*;
use crate::raw::{self, S};

pub struct Raw {
    pub agents: raw::AgentsFile,
    pub providers: raw::ProvidersFile,
    pub profiles: raw::ProfilesFile,
    pub budgets: raw::BudgetsFile,
    pub environments: raw::EnvironmentsFile,
    pub endpoints: raw::EndpointsFile,
    pub lexicon: raw::LexiconFile,
}

/// Parses all files, reporting every file that does not parse.
pub fn parse_all(src: &Sources) -> Result<Raw, Diagnostics> {
    let mut errs = Vec::new();
    macro_rules! p {
        ($f:expr) => {
            match load::parse(src, $f) {
                Ok(v) => Some(v),
                Err(d) => {
                    errs.push(d);
                    None
                }
            }
        };
    }
    let agents = p!(load::AGENTS);
    let providers = p!(load::PROVIDERS);
    let profiles = p!(load::PROFILES);
    let budgets = p!(load::BUDGETS);
    let environments = p!(load::ENVIRONMENTS);
    let endpoints = p!(load::ENDPOINTS);
    let lexicon = p!(load::LEXICON);
    match (
        agents,
        providers,
        profiles,
        budgets,
        environments,
        endpoints,
        lexicon,
    ) {
        (
            Some(agents),
            Some(providers),
            Some(profiles),
            Some(budgets),
            Some(environments),
            Some(endpoints),
            Some(lexicon),
        ) if errs.is_empty() => Ok(Raw {
            agents,
            providers,
            profiles,
            budgets,
            environments,
            endpoints,
            lexicon,
        }),
        _ => Err(Diagnostics(errs)),
    }
}

struct Ck<'a> {
    src: &'a Sources,
    errs: Vec<Diagnostic>,
}

impl<'a> Ck<'a> {
    fn err(&mut self, file: &str, loc: Location, msg: String, help: impl Into<Option<String>>) {
        let d = self.src.diag(file, loc, msg, help.into());
        self.errs.push(d);
    }
}

/// A namespace of declared names: detects duplicates and Rust-identifier
/// collisions, and resolves references with did-you-mean help.
struct Names {
    kind: &'static str,
    file: &'static str,
    names: Vec<String>,
    locs: Vec<Location>,
    idents: HashMap<String, usize>,
}

impl Names {
    fn new(kind: &'static str, file: &'static str) -> Self {
        Names {
            kind,
            file,
            names: Vec::new(),
            locs: Vec::new(),
            idents: HashMap::new(),
        }
    }

    /// Declares `name`; returns its index, or `None` (after reporting) when it
    /// is a duplicate or collides with another name's Rust identifier.
    fn declare(&mut self, ck: &mut Ck, name: &S<String>, ident: Option<String>) -> Option<usize> {
        let n = name.value.as_str();
        let loc = name.referenced;
        if n.trim().is_empty() {
            ck.err(
                self.file,
                loc,
                format!("empty {} name", self.kind),
                Some("give it a name".to_string()),
            );
            return None;
        }
        if let Some(i) = self.names.iter().position(|x| x == n) {
            let first = self.locs[i];
            ck.err(
                self.file,
                loc,
                format!("duplicate {} `{n}`", self.kind),
                Some(format!(
                    "`{n}` is already declared at {}:{}:{}; remove or rename one of them",
                    self.file,
                    first.line(),
                    first.column()
                )),
            );
            return None;
        }
        let Some(ident) = ident else {
            ck.err(
                self.file,
                loc,
                format!("{} name `{n}` does not make a Rust identifier", self.kind),
                Some(
                    "use letters and digits, separated by `.`, `-` or `_`, and not a Rust keyword"
                        .to_string(),
                ),
            );
            return None;
        };
        if let Some(&i) = self.idents.get(&ident) {
            let other = self.names[i].clone();
            let first = self.locs[i];
            ck.err(
                self.file,
                loc,
                format!("{} names `{other}` and `{n}` both become the Rust name `{ident}`", self.kind),
                Some(format!(
                    "rename one of them so they differ in more than punctuation or case (`{other}` is at {}:{}:{})",
                    self.file,
                    first.line(),
                    first.column()
                )),
            );
            return None;
        }
        self.idents.insert(ident, self.names.len());
        self.names.push(n.to_string());
        self.locs.push(loc);
        Some(self.names.len() - 1)
    }

    fn find(&self, n: &str) -> Option<usize> {
        self.names.iter().position(|x| x == n)
    }

    /// Resolves a reference in `file`, reporting an unknown name.
    fn resolve(&self, ck: &mut Ck, file: &str, r: &S<String>) -> Option<usize> {
        let found = self.find(&r.value);
        if found.is_none() {
            let known: Vec<&str> = self.names.iter().map(String::as_str).collect();
            ck.err(
                file,
                r.referenced,
                format!("unknown {} `{}`", self.kind, r.value),
                Some(format!(
                    "{} (declared in {})",
                    unknown_help(&r.value, self.kind, &known),
                    self.file
                )),
            );
        }
        found
    }
}

fn pick<T: Copy>(
    table: &[(&'static str, T)],
    ck: &mut Ck,
    file: &str,
    kind: &str,
    v: &S<String>,
) -> Option<T> {
    if let Some((_, t)) = table.iter().find(|(n, _)| *n == v.value) {
        return Some(*t);
    }
    let known: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    let help = match crate::diag::did_you_mean(&v.value, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "use one of: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    ck.err(
        file,
        v.referenced,
        format!("unknown {kind} `{}`", v.value),
        Some(help),
    );
    None
}

fn budget_value(ck: &mut Ck, file: &str, field: &str, v: &S<i64>, cap: Option<(i64, &str)>) -> u32 {
    let n = v.value;
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

fn env_list(ck: &mut Ck, envs: &Names, file: &str, list: &S<Vec<S<String>>>) -> Vec<usize> {
    if list.value.is_empty() {
        ck.err(
            file,
            list.referenced,
            "empty environment list".to_string(),
            Some(
                "list at least one environment, or remove the key to allow every environment"
                    .to_string(),
            ),
        );
    }
    list.value
        .iter()
        .filter_map(|e| envs.resolve(ck, file, e))
        .collect()
}

pub fn check(src: &Sources, raw: &Raw) -> Result<Policy, Diagnostics> {
    let mut ck = Ck {
        src,
        errs: Vec::new(),
    };
    let ck = &mut ck;

    // Environments and stages.
    let mut envs = Names::new("environment", load::ENVIRONMENTS);
    for e in &raw.environments.environments {
        envs.declare(ck, e, ident::pascal(&e.value));
    }
    let mut stages = Names::new("stage", load::ENVIRONMENTS);
    for s in &raw.environments.stages {
        stages.declare(ck, s, ident::pascal(&s.value));
    }

    // Providers and their model catalogue.
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
                    None => {
                        ck.err(
                            load::PROVIDERS,
                            m.id.referenced,
                            format!("model `{}` has no {field}", m.id.value),
                            Some(format!("add `{field}: <USD per 1M tokens>` (0 for a free model); cost budgets need a price for every model")),
                        );
                        0.0
                    }
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
            .map(|l| env_list(ck, &envs, load::PROVIDERS, l));
        let any_agent_in: Vec<usize> = p
            .any_agent_in
            .iter()
            .filter_map(|e| envs.resolve(ck, load::PROVIDERS, e))
            .collect();
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
        for v in p
            .credential_vars
            .iter()
            .chain(&p.base_url_var)
            .chain(&p.model_var)
        {
            if v.value.is_empty()
                || !v
                    .value
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                ck.err(
                    load::PROVIDERS,
                    v.referenced,
                    format!("`{}` is not an environment variable name", v.value),
                    Some("use UPPER_SNAKE_CASE, e.g. DEEPSEEK_API_KEY".to_string()),
                );
            }
        }
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

    // Profiles.
    let mut profs = Names::new("profile", load::PROFILES);
    let mut prof_defs: Vec<ProfileDef> = Vec::new();
    for (name, p) in &raw.profiles.profiles.0 {
        let declared = profs.declare(ck, name, ident::pascal(&name.value));
        let p = &p.value;
        let mut pms = Vec::new();
        let mut seen: Vec<usize> = Vec::new();
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
        if let (Some(_), Some(p)) = (d, profs.resolve(ck, load::PROFILES, prof)) {
            curated.push((tc.value.clone(), p));
        }
    }

    // Agents.
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
            if v.value.trim().is_empty() {
                ck.err(
                    load::AGENTS,
                    v.referenced,
                    format!("empty {f} for agent `{}`", a.id.value),
                    Some(format!("set {f}")),
                );
            }
        }
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

    // Budgets.
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

    // Routes.
    let mut routes_ns = Names::new("route", load::ENDPOINTS);
    let mut handler_ns = Names::new("route handler", load::ENDPOINTS);
    let mut route_defs: Vec<RouteDef> = Vec::new();
    let mut route_locs: Vec<Location> = Vec::new();
    for r in &raw.endpoints.routes {
        let r = &r.value;
        let d = routes_ns.declare(ck, &r.id, ident::pascal(&r.id.value));
        let h = d.and_then(|_| handler_ns.declare(ck, &r.id, ident::snake(&r.id.value)));
        let auth = pick(&Auth::ALL, ck, load::ENDPOINTS, "auth scheme", &r.auth);
        let mtable: Vec<(&str, usize)> = METHODS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let mut methods = Vec::new();
        for m in &r.methods.value {
            if let Some(i) = pick(&mtable, ck, load::ENDPOINTS, "HTTP method", m) {
                if methods.contains(&i) {
                    ck.err(
                        load::ENDPOINTS,
                        m.referenced,
                        format!("method `{}` listed twice", m.value),
                        Some("remove one".to_string()),
                    );
                }
                methods.push(i);
            }
        }
        if r.methods.value.is_empty() {
            ck.err(
                load::ENDPOINTS,
                r.methods.referenced,
                format!("route `{}` has no methods", r.id.value),
                Some("list at least one, e.g. [POST]".to_string()),
            );
        }
        let path_ok = check_path(ck, &r.path);
        let environments = r
            .environments
            .as_ref()
            .map(|l| env_list(ck, &envs, load::ENDPOINTS, l));
        if let (Some(_), Some(_), Some(auth), true) = (d, h, auth, path_ok) {
            route_defs.push(RouteDef {
                name: r.id.value.clone(),
                ident: ident::pascal(&r.id.value).unwrap_or_default(),
                handler: ident::snake(&r.id.value).unwrap_or_default(),
                methods,
                path: r.path.value.clone(),
                auth,
                environments,
                concurrency_capped: r.concurrency_capped,
            });
            route_locs.push(r.path.referenced);
        }
    }
    for i in 0..route_defs.len() {
        for j in 0..i {
            let (a, b) = (&route_defs[i], &route_defs[j]);
            let shared: Vec<&str> = a
                .methods
                .iter()
                .filter(|m| b.methods.contains(m))
                .map(|&m| METHODS[m])
                .collect();
            if shared.is_empty() || !paths_overlap(&a.path, &b.path) {
                continue;
            }
            let what = if a.path == b.path {
                "duplicates"
            } else {
                "overlaps"
            };
            ck.err(
                load::ENDPOINTS,
                route_locs[i],
                format!("route `{}` ({} {}) {what} route `{}` ({})", a.name, shared.join("|"), a.path, b.name, b.path),
                Some(format!(
                    "a request must match exactly one route; change the path or methods (`{}` is at {}:{}:{})",
                    b.name,
                    load::ENDPOINTS,
                    route_locs[j].line(),
                    route_locs[j].column()
                )),
            );
        }
    }
    let mut jobs = Vec::new();
    for j in &raw.endpoints.scheduled_jobs {
        let j = &j.value;
        if j.cron.value.split_whitespace().count() != 5 {
            ck.err(
                load::ENDPOINTS,
                j.cron.referenced,
                format!("`{}` is not a 5-field cron expression", j.cron.value),
                Some("write e.g. \"*/5 * * * *\"".to_string()),
            );
        }
        jobs.push((j.cron.value.clone(), j.job.value.clone()));
    }

    let lexicon = check_lexicon(ck, &raw.lexicon);

    if !ck.errs.is_empty() {
        let mut errs = std::mem::take(&mut ck.errs);
        errs.sort_by(|a, b| {
            let fa = load::FILES.iter().position(|f| *f == a.file);
            let fb = load::FILES.iter().position(|f| *f == b.file);
            (fa, a.line, a.col).cmp(&(fb, b.line, b.col))
        });
        errs.dedup();
        return Err(Diagnostics(errs));
    }

    let mut policy = Policy {
        providers: prov_defs,
        models: model_defs,
        profiles: prof_defs,
        plans,
        curated,
        agents: agent_defs,
        ceilings,
        mint_caps,
        environments: named(&envs.names),
        stages: named(&stages.names),
        minibob,
        minibob_plan: minibob_plan.unwrap_or(0),
        minibob_agent: minibob_agent.unwrap_or(0),
        routes: route_defs,
        jobs,
        lexicon,
        version: String::new(),
    };
    let canon = policy.canonical_json().to_string();
    let digest = Sha256::digest(canon.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    policy.version = format!("pol-{hex}");
    Ok(policy)
}

/// Paths are literal segments plus at most one `{name}` segment.
fn check_path(ck: &mut Ck, p: &S<String>) -> bool {
    let path = &p.value;
    let bad = |ck: &mut Ck, why: &str| {
        ck.err(load::ENDPOINTS, p.referenced, format!("invalid route path `{path}`: {why}"), Some("write e.g. `/v1/jobs/{jobId}`: starts with `/`, at most one `{param}` filling a whole segment".to_string()));
        false
    };
    if !path.starts_with('/') {
        return bad(ck, "it must start with `/`");
    }
    let mut params = 0;
    for seg in path.split('/').skip(1) {
        if seg.contains('{') || seg.contains('}') {
            let inner = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            match inner {
                Some(n)
                    if !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    params += 1
                }
                _ => return bad(ck, "a parameter must be a whole segment like `{jobId}`"),
            }
        }
        if seg.contains('?') || seg.contains('#') {
            return bad(ck, "query strings and fragments are not part of a route");
        }
    }
    if params > 1 {
        return bad(ck, "only one parameter per path is supported");
    }
    true
}

/// Whether some concrete path matches both patterns (`{x}` matches any one
/// non-empty segment).
pub fn paths_overlap(a: &str, b: &str) -> bool {
    let sa: Vec<&str> = a.split('/').collect();
    let sb: Vec<&str> = b.split('/').collect();
    sa.len() == sb.len()
        && sa.iter().zip(&sb).all(|(x, y)| {
            x == y || (x.starts_with('{') && !y.is_empty()) || (y.starts_with('{') && !x.is_empty())
        })
}

fn check_lexicon(ck: &mut Ck, l: &raw::LexiconFile) -> Lexicon {
    let f = load::LEXICON;
    if l.version.value != 1 {
        ck.err(
            f,
            l.version.referenced,
            format!("unsupported lexicon version {}", l.version.value),
            Some("this generator reads `version: 1`".to_string()),
        );
    }
    let mut scopes = Names::new("scope", f);
    for s in &l.scopes {
        scopes.declare(ck, &s.value.id, Some(s.value.id.value.clone()));
    }
    let mut concepts = Names::new("concept", f);
    for c in &l.concepts {
        concepts.declare(ck, &c.value.id, Some(c.value.id.value.clone()));
        for s in c.value.ambiguous_scopes.iter().flatten() {
            scopes.resolve(ck, f, s);
        }
    }
    let mut intents = Names::new("intent", f);
    for i in &l.intents {
        intents.declare(ck, &i.value.id, Some(i.value.id.value.clone()));
    }
    for c in &l.clarifications {
        concepts.resolve(ck, f, &c.value.concept_id);
        for s in c.value.when_scopes_present.iter().flatten() {
            scopes.resolve(ck, f, s);
        }
    }
    let strs = |v: &Option<Vec<S<String>>>| {
        v.as_ref()
            .map(|v| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>())
    };
    let mut lex = Lexicon {
        scopes: l
            .scopes
            .iter()
            .map(|s| LexScope {
                id: s.value.id.value.clone(),
                label: s.value.label.clone(),
                description: s.value.description.clone(),
                synonyms: s.value.synonyms.clone(),
            })
            .collect(),
        concepts: l
            .concepts
            .iter()
            .map(|c| LexConcept {
                id: c.value.id.value.clone(),
                label: c.value.label.clone(),
                synonyms: c.value.synonyms.clone(),
                ambiguous_scopes: strs(&c.value.ambiguous_scopes),
                targets: c.value.targets.clone(),
            })
            .collect(),
        intents: l
            .intents
            .iter()
            .map(|i| LexIntent {
                id: i.value.id.value.clone(),
                label: i.value.label.clone(),
                synonyms: i.value.synonyms.clone(),
                font_candidates: i.value.font_candidates.clone(),
            })
            .collect(),
        clarifications: l
            .clarifications
            .iter()
            .map(|c| LexClarification {
                concept_id: c.value.concept_id.value.clone(),
                when_scopes_present: strs(&c.value.when_scopes_present),
                question: c.value.question.clone(),
            })
            .collect(),
        json: String::new(),
        hash: String::new(),
    };
    lex.json = lexicon_json(&lex, l.version.value);
    lex.hash = fnv1a_utf16(&lex.json);
    lex
}

/// The dictionary as the original serialised it: compact, this key order,
/// optional keys only when present.
fn lexicon_json(l: &Lexicon, version: i64) -> String {
    use serde_json::{json, Map, Value};
    let concepts: Vec<Value> = l
        .concepts
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("id".into(), json!(c.id));
            m.insert("label".into(), json!(c.label));
            m.insert("synonyms".into(), json!(c.synonyms));
            if let Some(s) = &c.ambiguous_scopes {
                m.insert("ambiguousScopes".into(), json!(s));
            }
            if let Some(t) = &c.targets {
                m.insert("targets".into(), json!(t));
            }
            Value::Object(m)
        })
        .collect();
    let clar: Vec<Value> = l
        .clarifications
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("conceptId".into(), json!(c.concept_id));
            if let Some(s) = &c.when_scopes_present {
                m.insert("whenScopesPresent".into(), json!(s));
            }
            m.insert("question".into(), json!(c.question));
            Value::Object(m)
        })
        .collect();
    json!({
        "version": version,
        "scopes": l.scopes.iter().map(|s| json!({"id": s.id, "label": s.label, "description": s.description, "synonyms": s.synonyms})).collect::<Vec<_>>(),
        "concepts": concepts,
        "intents": l.intents.iter().map(|i| json!({"id": i.id, "label": i.label, "synonyms": i.synonyms, "fontCandidates": i.font_candidates})).collect::<Vec<_>>(),
        "clarifications": clar,
    })
    .to_string()
}

/// FNV-1a/32 over UTF-16 code units, as `Math.imul` computes it in the original.
pub fn fnv1a_utf16(s: &str) -> String {
    let mut h: u32 = 2_166_136_261;
    for u in s.encode_utf16() {
        h ^= u as u32;
        h = h.wrapping_mul(16_777_619);
    }
    format!("{h:08x}")
}

/// Names with their Rust identifiers (already checked to convert).
fn named(names: &[String]) -> Vec<Named> {
    names
        .iter()
        .map(|n| Named {
            name: n.clone(),
            ident: ident::pascal(n).unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_of_route_patterns() {
        assert!(paths_overlap("/a/{id}", "/a/b"));
        assert!(paths_overlap("/a/b", "/a/b"));
        assert!(!paths_overlap("/a/b", "/a/b/c"));
        assert!(!paths_overlap("/v1/l10n", "/v1/l10n/plan"));
        assert!(!paths_overlap("/a/{id}", "/b/{id}"));
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(fnv1a_utf16(""), "811c9dc5");
        assert_eq!(fnv1a_utf16("a"), "e40c292c");
        assert_eq!(fnv1a_utf16("foobar"), "bf9cf968");
    }
}
