//! Stage 1 for the operations files: policy/jobs.yaml, policy/queues.yaml
//! and policy/prompts.yaml, as written (see [`crate::raw`]).

use serde::Deserialize;

use crate::raw::{Entries, S};

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct JobsFile {
    pub jobs: Vec<S<Job>>,
    #[serde(default)]
    pub schedule: Vec<S<Scheduled>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub id: S<String>,
    pub description: S<String>,
    /// Variables the job reads (each declared in vars.yaml).
    #[serde(default)]
    pub vars: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scheduled {
    pub cron: S<String>,
    pub job: S<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QueuesFile {
    pub queues: Vec<S<Queue>>,
    pub kinds: Vec<S<Kind>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Queue {
    pub id: S<String>,
    /// Environment name -> queue name.
    pub names: Entries<S<String>>,
    #[serde(default)]
    pub dead_letter: bool,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Kind {
    pub id: S<String>,
    pub queue: S<String>,
    pub envelope: S<String>,
    #[serde(default)]
    pub command: Option<S<String>>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PromptsFile {
    pub prompts: Vec<S<Prompt>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub agent: S<String>,
    pub version: S<String>,
    pub file: S<String>,
}
