//! JSON Schemas of the policy files (feature `schema`), generated from the
//! raw structs [`crate::load::parse`] deserializes, so an editor's completion
//! and underlining agree with the loader: same keys, same `deny_unknown_fields`,
//! same optional fields. The cross-file rules (a model must exist, a tier's
//! class must be declared...) are the checker's and stay out of the schemas.

use schemars::{JsonSchema, Schema};

use crate::load;
use crate::raw;
use crate::raw_ops;

fn one<T: JsonSchema>(rel: &str) -> Schema {
    let mut s = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let name = rel.rsplit('/').next().unwrap_or(rel);
    s.insert(
        "$id".into(),
        format!("https://sanfrancisco.local/schemas/{}", schema_file(rel)).into(),
    );
    s.insert(
        "title".into(),
        format!("San Francisco policy: {name}").into(),
    );
    s
}

/// The schema's file name for a policy file: `policy/tenancy.yaml` ->
/// `tenancy.schema.json`, `agents.yaml` -> `agents.schema.json`.
pub fn schema_file(rel: &str) -> String {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    let stem = base.strip_suffix(".yaml").unwrap_or(base);
    format!("{stem}.schema.json")
}

/// `(policy file, its schema)` for every file of [`load::FILES`], in that order.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    load::FILES
        .iter()
        .map(|&rel| {
            let s = match rel {
                load::AGENTS => one::<raw::AgentsFile>(rel),
                load::PROVIDERS => one::<raw::ProvidersFile>(rel),
                load::PROFILES => one::<raw::ProfilesFile>(rel),
                load::BUDGETS => one::<raw::BudgetsFile>(rel),
                load::ENVIRONMENTS => one::<raw::EnvironmentsFile>(rel),
                load::ENDPOINTS => one::<raw::EndpointsFile>(rel),
                load::LEXICON => one::<raw::LexiconFile>(rel),
                load::VARS => one::<raw::VarsFile>(rel),
                load::JOBS => one::<raw_ops::JobsFile>(rel),
                load::QUEUES => one::<raw_ops::QueuesFile>(rel),
                load::PROMPTS => one::<raw_ops::PromptsFile>(rel),
                load::APPROVALS => one::<raw::ApprovalsFile>(rel),
                load::LEARNING => one::<raw::LearningFile>(rel),
                load::TENANCY => one::<raw::TenancyFile>(rel),
                // A new policy file without a schema: an open schema rather
                // than a wrong one (the unit test below names it).
                _ => schemars::json_schema!({}),
            };
            (rel, s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_policy_file_has_a_closed_schema() {
        for (rel, s) in super::schemas() {
            assert!(
                s.get("properties").is_some(),
                "{rel} has no schema: add its raw struct to codegen/src/schema.rs"
            );
        }
    }
}
