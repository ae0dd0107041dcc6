//! `Job`, the schedule table, `JobRunners` and `dispatch_job` (policy/jobs.yaml).

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{id, name_enum};
use crate::model::*;

pub(super) fn emit(p: &Policy) -> TokenStream {
    let jobs = &p.ops.jobs;
    let job_enum = name_enum(
        "Job",
        "A job of policy/jobs.yaml.",
        &jobs
            .iter()
            .map(|j| (j.name.clone(), j.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let vars: Vec<Ident> = jobs.iter().map(|j| id(&j.ident)).collect();
    let methods: Vec<Ident> = jobs.iter().map(|j| id(&j.method)).collect();
    let method_names: Vec<&str> = jobs.iter().map(|j| j.method.as_str()).collect();
    let descs: Vec<&str> = jobs.iter().map(|j| j.description.as_str()).collect();
    let n = p.ops.schedule.len();
    let entries = p.ops.schedule.iter().map(|(c, j)| {
        let v = id(&jobs[*j].ident);
        quote!(ScheduleEntry { cron: #c, job: Job::#v })
    });
    let unused = if jobs.is_empty() {
        quote!(let _ = (r, cx);)
    } else {
        quote!()
    };
    quote! {
    #job_enum

    impl Job {
        /// What the job does.
        pub const fn description(self) -> &'static str {
            match self { #( Job::#vars => #descs, )* }
        }
        /// Name of its [`JobRunners`] method.
        pub const fn runner(self) -> &'static str {
            match self { #( Job::#vars => #method_names, )* }
        }
    }

    /// When a job runs: the host's cron trigger `cron` fires it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ScheduleEntry {
        /// 5-field cron expression, fields separated by one space.
        pub cron: &'static str,
        pub job: Job,
    }

    /// The schedule, in policy order; wrangler.toml's `crons` list these expressions.
    pub static SCHEDULE: [ScheduleEntry; #n] = [ #( #entries, )* ];

    /// The jobs scheduled on `cron` (compared field by field, so spacing does not matter).
    pub fn jobs_on(cron: &str) -> impl Iterator<Item = Job> + '_ {
        SCHEDULE
            .iter()
            .filter(move |e| e.cron.split_whitespace().eq(cron.split_whitespace()))
            .map(|e| e.job)
    }

    /// One method per job of the policy: a declared job without code does not compile.
    #[allow(async_fn_in_trait)]
    pub trait JobRunners {
        type Ctx;
        type Out;
        #( #[doc = #descs] async fn #methods(&self, cx: Self::Ctx) -> Self::Out; )*
    }

    /// Runs `job` with its runner.
    pub async fn dispatch_job<R: JobRunners>(r: &R, job: Job, cx: R::Ctx) -> R::Out {
        #unused
        match job { #( Job::#vars => r.#methods(cx).await, )* }
    }
    }
}
