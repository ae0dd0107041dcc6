//! Stage 1: the YAML files as written, with a source location on every value
//! that a later check may need to point at. `deny_unknown_fields` everywhere so
//! a misspelt key is an error, not a silently ignored setting.
//! Every struct also derives `schemars::JsonSchema` under the feature
//! `schema` (`sf policy schema`, docs/schemas): give a new one the same
//! `#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]` line.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

/// A value with where it was written: serde-saphyr's `Spanned`, as a local
/// type so the editor schemas (`sf policy schema`, feature `schema`) can
/// describe it as the bare value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct S<T> {
    pub value: T,
    pub referenced: Location,
    pub defined: Location,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for S<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<T>::deserialize(d)?;
        Ok(S {
            value: s.value,
            referenced: s.referenced,
            defined: s.defined,
        })
    }
}

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema> schemars::JsonSchema for S<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(g)
    }
}

mod approvals;
pub use approvals::*;
mod learning;
pub use learning::*;
mod tenancy;
pub use tenancy::*;

/// A YAML mapping kept in source order, keys with their locations. Duplicate
/// keys are left in so the checker can report them with both places.
#[derive(Debug, Clone)]
pub struct Entries<V>(pub Vec<(S<String>, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<S<String>>()? {
                    let v = m.next_value::<V>()?;
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    pub agents: Vec<S<Agent>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Agent {
    pub id: S<String>,
    #[serde(default)]
    pub aliases: Vec<S<String>>,
    pub category: S<String>,
    pub task_class: S<String>,
    pub surface: S<String>,
    pub providers: S<Vec<S<String>>>,
    pub default_provider: S<String>,
    #[serde(default)]
    pub allow_provider_choice: bool,
    #[serde(default)]
    pub allow_model_choice: bool,
    #[serde(default)]
    pub required_entitlements: Vec<S<String>>,
    #[serde(default)]
    pub tool_caps: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersFile {
    pub providers: Vec<S<Provider>>,
    /// Providers called through Cloudflare AI Gateway, with their routes.
    #[serde(default)]
    pub ai_gateway: Vec<S<AiGatewayRoute>>,
}

/// One `aiGateway` entry: a provider and the gateway's route for it.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AiGatewayRoute {
    pub provider: S<String>,
    pub route: S<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provider {
    pub id: S<String>,
    /// Overrides the Rust variant name derived from `id`.
    #[serde(default)]
    pub rust_name: Option<S<String>>,
    pub protocol: S<String>,
    #[serde(default)]
    pub base_url: Option<S<String>>,
    #[serde(default)]
    pub base_url_var: Option<S<String>>,
    #[serde(default)]
    pub credential_vars: Vec<S<String>>,
    #[serde(default)]
    pub model_var: Option<S<String>>,
    pub default_model: S<String>,
    /// Alternative complete credential sets (policy/vars.yaml names).
    #[serde(default)]
    pub credentials: Option<S<Vec<CredentialSet>>>,
    /// Models tried after the primary one, from this provider's catalogue.
    #[serde(default)]
    pub fallback_models: Vec<S<String>>,
    #[serde(default)]
    pub grantable: bool,
    #[serde(default)]
    pub environments: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub any_agent_in: Vec<S<String>>,
    pub models: S<Vec<S<Model>>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Model {
    pub id: S<String>,
    #[serde(default, rename = "inputUsdPer1m")]
    pub input_usd_per_1m: Option<S<f64>>,
    #[serde(default, rename = "outputUsdPer1m")]
    pub output_usd_per_1m: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfilesFile {
    pub profiles: Entries<S<Profile>>,
    pub plans: Entries<S<String>>,
    #[serde(default)]
    pub curated: Entries<S<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    pub default_provider: S<String>,
    pub models: Entries<S<ProfileModels>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileModels {
    pub default: S<String>,
    pub allowed: S<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BudgetsFile {
    pub ceilings: S<Budget>,
    pub mint_caps: S<Budget>,
    pub minibob: Minibob,
    pub budgets: Entries<Entries<S<Budget>>>,
}

/// The budgets of one plan's grants for one agent per exposure stage.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Minibob {
    pub plan: S<String>,
    pub agent: S<String>,
    pub stages: Entries<S<Budget>>,
}

/// Signed so that a negative number is reported as "must be positive" with its
/// place rather than as a YAML type error.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Budget {
    pub max_tokens: S<i64>,
    pub timeout_ms: S<i64>,
    pub max_requests: S<i64>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentsFile {
    pub environments: Vec<S<String>>,
    pub stages: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointsFile {
    pub routes: Vec<S<Route>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Route {
    pub id: S<String>,
    pub methods: S<Vec<S<String>>>,
    pub path: S<String>,
    pub auth: S<String>,
    #[serde(default)]
    pub environments: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub concurrency_capped: bool,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LexiconFile {
    pub version: S<i64>,
    pub scopes: Vec<S<LexScope>>,
    pub concepts: Vec<S<LexConcept>>,
    pub intents: Vec<S<LexIntent>>,
    pub clarifications: Vec<S<LexClarification>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LexScope {
    pub id: S<String>,
    pub label: String,
    pub description: String,
    pub synonyms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LexConcept {
    pub id: S<String>,
    pub label: String,
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub ambiguous_scopes: Option<Vec<S<String>>>,
    #[serde(default)]
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LexIntent {
    pub id: S<String>,
    pub label: String,
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub font_candidates: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LexClarification {
    pub concept_id: S<String>,
    #[serde(default)]
    pub when_scopes_present: Option<Vec<S<String>>>,
    pub question: String,
}

/// One alternative of a provider's `credentials`: variable names, all needed.
pub type CredentialSet = S<Vec<S<String>>>;

/// policy/vars.yaml: every variable and secret the gateway reads.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VarsFile {
    pub vars: Vec<S<Var>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Var {
    pub name: S<String>,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub required_in: Vec<S<String>>,
    pub feature: S<String>,
    pub description: S<String>,
    #[serde(default)]
    pub default: Option<S<String>>,
    #[serde(default)]
    pub example: Option<S<String>>,
}

#[cfg(feature = "schema")]
impl<V: schemars::JsonSchema> schemars::JsonSchema for Entries<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Entries_{}", V::schema_name()).into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let v = g.subschema_for::<V>();
        schemars::json_schema!({ "type": "object", "additionalProperties": v })
    }
}
