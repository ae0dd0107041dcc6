//! Stage 2: every cross-file rule. Each check pushes a diagnostic and carries
//! on, so one run reports every mistake; the checked [`Policy`] is built only
//! when nothing was reported.
//!
//! One file per rule group, run in this order (later groups resolve names the
//! earlier ones declared): [`environments`], [`vars`], [`providers`], [`profiles`],
//! [`agents`], [`budgets`], [`routes`], [`lexicon`], [`jobs`], [`queues`],
//! [`prompts`]; [`names`] holds the rules every namespace shares.

mod agents;
mod approvals;
mod budgets;
mod environments;
mod gateway;
mod jobs;
mod learning;
mod lexicon;
mod names;
mod profiles;
mod prompts;
mod providers;
mod queues;
mod routes;
mod tenancy;
mod vars;

pub use jobs::check_cron;
pub use lexicon::fnv1a_utf16;
pub use routes::paths_overlap;

use serde_saphyr::Location;
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Diagnostics};
use crate::ident;
use crate::load::{self, Sources};
use crate::model::*;
use crate::raw;

pub struct Raw {
    pub agents: raw::AgentsFile,
    pub providers: raw::ProvidersFile,
    pub profiles: raw::ProfilesFile,
    pub budgets: raw::BudgetsFile,
    pub environments: raw::EnvironmentsFile,
    pub endpoints: raw::EndpointsFile,
    pub lexicon: raw::LexiconFile,
    pub vars: raw::VarsFile,
    pub ops: RawOps,
    pub approvals: raw::ApprovalsFile,
    pub learning: raw::LearningFile,
    pub tenancy: raw::TenancyFile,
}

/// jobs.yaml, queues.yaml, prompts.yaml.
pub struct RawOps {
    pub jobs: crate::raw_ops::JobsFile,
    pub queues: crate::raw_ops::QueuesFile,
    pub prompts: crate::raw_ops::PromptsFile,
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
    let vars = p!(load::VARS);
    let ops = match (p!(load::JOBS), p!(load::QUEUES), p!(load::PROMPTS)) {
        (Some(jobs), Some(queues), Some(prompts)) => Some(RawOps {
            jobs,
            queues,
            prompts,
        }),
        _ => None,
    };
    let approvals = p!(load::APPROVALS);
    let learning = p!(load::LEARNING);
    let tenancy = p!(load::TENANCY);
    match (
        agents,
        providers,
        profiles,
        budgets,
        environments,
        endpoints,
        lexicon,
        vars,
        ops,
        approvals,
        learning,
        tenancy,
    ) {
        (
            Some(agents),
            Some(providers),
            Some(profiles),
            Some(budgets),
            Some(environments),
            Some(endpoints),
            Some(lexicon),
            Some(vars),
            Some(ops),
            Some(approvals),
            Some(learning),
            Some(tenancy),
        ) if errs.is_empty() => Ok(Raw {
            agents,
            providers,
            profiles,
            budgets,
            environments,
            endpoints,
            lexicon,
            vars,
            ops,
            approvals,
            learning,
            tenancy,
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

/// Runs every rule: the checked policy, or every diagnostic.
pub fn check(src: &Sources, raw: &Raw) -> Result<Policy, Diagnostics> {
    let (policy, errs) = check_partial(src, raw);
    if errs.is_empty() {
        Ok(policy)
    } else {
        Err(Diagnostics(errs))
    }
}

/// Runs every rule and returns the policy as far as it could be built (only
/// names declared without error; indices of a broken policy may point
/// nowhere, and its version is a placeholder) with every diagnostic, sorted by
/// file and place. The policy is sound only when there are no diagnostics.
pub fn check_partial(src: &Sources, raw: &Raw) -> (Policy, Vec<Diagnostic>) {
    let mut ck = Ck {
        src,
        errs: Vec::new(),
    };
    let ck = &mut ck;

    let (envs, stages) = environments::check(ck, raw);
    let vars = vars::check(ck, raw, &envs);
    let mut cat = providers::check(ck, raw, &envs, &vars);
    gateway::check(ck, raw, &mut cat);
    let pr = profiles::check(ck, raw, &cat);
    let mut ag = agents::check(ck, raw, &cat, &pr);
    let bu = budgets::check(ck, raw, &stages, &pr, &mut ag);
    let route_defs = routes::check(ck, raw, &envs);
    let lexicon = lexicon::check(ck, &raw.lexicon);
    let (jobs, schedule) = jobs::check(ck, &raw.ops.jobs, &vars);
    let (queues, kinds) = queues::check(ck, &raw.ops.queues, &envs);
    let prompts = prompts::check(ck, &raw.ops.prompts, &ag);
    let ops = crate::ops::Ops {
        jobs,
        schedule,
        queues,
        kinds,
        prompts,
    };
    let approvals = approvals::check(ck, raw, &cat, &vars);
    let learning = learning::check(ck, &raw.learning, &ag);
    let tenancy = tenancy::check(ck, raw, &cat);

    let mut errs = std::mem::take(&mut ck.errs);
    errs.sort_by(|a, b| {
        let fa = load::FILES.iter().position(|f| *f == a.file);
        let fb = load::FILES.iter().position(|f| *f == b.file);
        (fa, a.line, a.col).cmp(&(fb, b.line, b.col))
    });
    errs.dedup();

    let mut policy = Policy {
        providers: cat.prov_defs,
        models: cat.model_defs,
        profiles: pr.prof_defs,
        plans: pr.plans,
        curated: pr.curated,
        agents: ag.agent_defs,
        ceilings: bu.ceilings,
        mint_caps: bu.mint_caps,
        environments: named(&envs.names),
        stages: named(&stages.names),
        minibob: bu.minibob,
        minibob_plan: bu.minibob_plan.unwrap_or(0),
        minibob_agent: bu.minibob_agent.unwrap_or(0),
        routes: route_defs,
        ops,
        lexicon,
        vars: vars.defs,
        approvals,
        learning,
        tenancy,
        version: String::new(),
    };
    if !errs.is_empty() {
        // Not hashed: the canonical form assumes every index is sound.
        policy.version = "pol-invalid".to_string();
        return (policy, errs);
    }
    let canon = policy.canonical_json().to_string();
    let digest = Sha256::digest(canon.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    policy.version = format!("pol-{hex}");
    (policy, errs)
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
