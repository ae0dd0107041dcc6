//! The checked operations policy: jobs and their schedule, queues and the
//! kinds of message they carry, prompt texts. Part of [`crate::model::Policy`]
//! (`ops`); indices point into these lists.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default)]
pub struct Ops {
    pub jobs: Vec<JobDef>,
    /// (cron expression, job index), policy order.
    pub schedule: Vec<(String, usize)>,
    pub queues: Vec<QueueDef>,
    pub kinds: Vec<KindDef>,
    pub prompts: Vec<PromptDef>,
}

#[derive(Debug, Clone)]
pub struct JobDef {
    pub name: String,
    pub ident: String,
    pub method: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct QueueDef {
    pub name: String,
    pub ident: String,
    /// (environment index, queue name).
    pub names: Vec<(usize, String)>,
    pub dead_letter: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    Event,
    Command,
    L10nJob,
}

impl Envelope {
    pub const ALL: [(&'static str, Envelope); 3] = [
        ("event", Envelope::Event),
        ("command", Envelope::Command),
        ("l10n-job", Envelope::L10nJob),
    ];
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, e)| *e == self)
            .map(|(n, _)| *n)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone)]
pub struct KindDef {
    pub name: String,
    pub ident: String,
    pub method: String,
    pub queue: usize,
    pub envelope: Envelope,
    /// The `sf.command` name, for `Envelope::Command` kinds.
    pub command: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct PromptDef {
    pub agent: usize,
    pub version: String,
    /// Path relative to the policy root.
    pub file: String,
    pub text: String,
}

impl Ops {
    /// The part of the canonical policy hashed into `POLICY_VERSION`.
    pub fn canonical_json(
        &self,
        env_name: impl Fn(usize) -> String,
        agent_name: impl Fn(usize) -> String,
    ) -> Value {
        json!({
            "jobs": self.jobs.iter().map(|j| json!({"id": j.name, "description": j.description})).collect::<Vec<_>>(),
            "schedule": self.schedule.iter().map(|(c, j)| json!([c, self.jobs.get(*j).map(|j| j.name.as_str())])).collect::<Vec<_>>(),
            "queues": self.queues.iter().map(|q| json!({
                "id": q.name,
                "names": q.names.iter().map(|(e, n)| json!([env_name(*e), n])).collect::<Vec<_>>(),
                "deadLetter": q.dead_letter,
            })).collect::<Vec<_>>(),
            "kinds": self.kinds.iter().map(|k| json!({
                "id": k.name,
                "queue": self.queues.get(k.queue).map(|q| q.name.as_str()),
                "envelope": k.envelope.name(),
                "command": k.command,
            })).collect::<Vec<_>>(),
            "prompts": self.prompts.iter().map(|p| {
                let digest = Sha256::digest(p.text.as_bytes());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                json!({"agent": agent_name(p.agent), "version": p.version, "file": p.file, "sha256": hex})
            }).collect::<Vec<_>>(),
        })
    }
}

/// Makes the operations part of a broken policy emit type-correct items
/// (see [`crate::skeleton`]): valid, unique identifiers, indices that point
/// somewhere. `n_envs` and `n_agents` are the repaired list lengths.
pub fn repair(o: &mut Ops, n_envs: usize, n_agents: usize) {
    fn fix<'a>(idents: impl Iterator<Item = &'a mut String>, placeholder: &str) {
        let mut seen = std::collections::HashSet::new();
        for (i, id) in idents.enumerate() {
            if syn::parse_str::<syn::Ident>(id).is_err() || !seen.insert(id.clone()) {
                *id = format!("{placeholder}{i}");
                seen.insert(id.clone());
            }
        }
    }
    fix(
        o.jobs.iter_mut().map(|j| &mut j.ident),
        "PolicyDidNotCompile",
    );
    fix(
        o.jobs.iter_mut().map(|j| &mut j.method),
        "policy_did_not_compile",
    );
    fix(
        o.queues.iter_mut().map(|q| &mut q.ident),
        "PolicyDidNotCompile",
    );
    fix(
        o.kinds.iter_mut().map(|k| &mut k.ident),
        "PolicyDidNotCompile",
    );
    fix(
        o.kinds.iter_mut().map(|k| &mut k.method),
        "policy_did_not_compile",
    );
    let n_jobs = o.jobs.len();
    o.schedule.retain(|(_, j)| *j < n_jobs);
    for q in &mut o.queues {
        q.names.retain(|(e, _)| *e < n_envs);
    }
    let n_queues = o.queues.len();
    o.kinds.retain(|k| k.queue < n_queues);
    let mut seen = std::collections::HashSet::new();
    for k in &mut o.kinds {
        if k.envelope == Envelope::Command
            && !k.command.as_ref().is_some_and(|c| seen.insert(c.clone()))
        {
            k.command = Some(format!("<command {}>", seen.len()));
            seen.insert(k.command.clone().unwrap_or_default());
        }
    }
    let mut agents = std::collections::HashSet::new();
    o.prompts
        .retain(|p| p.agent < n_agents && agents.insert(p.agent));
}
