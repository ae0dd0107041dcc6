//! The checked policy: every reference resolved to an index, every name
//! paired with its Rust identifier. Built only when all checks pass.

use serde_json::{json, Map, Value};

mod approvals;
pub use approvals::*;
mod learning;
pub use learning::*;
mod tenancy;
pub use tenancy::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max_tokens: u32,
    pub timeout_ms: u32,
    pub max_requests: u32,
}

impl Budget {
    pub fn to_json(self) -> Value {
        json!({"maxTokens": self.max_tokens, "timeoutMs": self.timeout_ms, "maxRequests": self.max_requests})
    }
}

#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub ident: String,
}

#[derive(Debug, Clone)]
pub struct ProviderDef {
    pub name: String,
    pub ident: String,
    pub protocol: Protocol,
    pub base_url: String,
    pub base_url_var: Option<String>,
    pub credential_vars: Vec<String>,
    pub model_var: Option<String>,
    pub default_model: usize,
    pub grantable: bool,
    pub environments: Option<Vec<usize>>,
    pub any_agent_in: Vec<usize>,
    pub models: Vec<usize>,
    /// Alternative complete credential sets, as indices into `Policy::vars`.
    pub credential_sets: Vec<Vec<usize>>,
    /// Models tried after the primary one (indices into `Policy::models`).
    pub fallback_models: Vec<usize>,
    /// Its Cloudflare AI Gateway route (`aiGateway`), when it goes through the gateway.
    pub ai_gateway_route: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    OpenaiChat,
    AnthropicMessages,
    BedrockConverse,
    WorkersAi,
}

impl Protocol {
    pub const ALL: [(&'static str, Protocol); 4] = [
        ("openai_chat", Protocol::OpenaiChat),
        ("anthropic_messages", Protocol::AnthropicMessages),
        ("bedrock_converse", Protocol::BedrockConverse),
        ("workers_ai", Protocol::WorkersAi),
    ];
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(n, _)| *n)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone)]
pub struct ModelDef {
    pub name: String,
    pub ident: String,
    pub provider: usize,
    pub input_usd_per_1m: f64,
    pub output_usd_per_1m: f64,
}

#[derive(Debug, Clone)]
pub struct ProfileModelsDef {
    pub provider: usize,
    pub default: usize,
    pub allowed: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct ProfileDef {
    pub name: String,
    pub ident: String,
    pub default_provider: usize,
    pub models: Vec<ProfileModelsDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Execute,
    Queue,
    Endpoint,
}

impl Surface {
    pub const ALL: [(&'static str, Surface); 3] = [
        ("execute", Surface::Execute),
        ("queue", Surface::Queue),
        ("endpoint", Surface::Endpoint),
    ];
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone)]
pub struct AgentDef {
    pub name: String,
    pub ident: String,
    pub method: String,
    pub aliases: Vec<String>,
    pub category: String,
    pub task_class: String,
    pub surface: Surface,
    pub providers: Vec<usize>,
    pub default_provider: usize,
    pub allow_provider_choice: bool,
    pub allow_model_choice: bool,
    pub required_entitlements: Vec<String>,
    pub tool_caps: Vec<String>,
    /// One per profile, in profile order.
    pub budgets: Vec<Budget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    Grant,
    ParisSignature,
    Bearer,
    /// `SF_ADMIN_TOKEN` as a bearer token, checked by dispatch.
    Admin,
    /// One of the approvals callers' tokens, checked by the handler (it learns which caller).
    Caller,
    /// A tenant API key (runtime/tenants), checked by the handler (it learns which tenant).
    Tenant,
}

impl Auth {
    pub const ALL: [(&'static str, Auth); 7] = [
        ("none", Auth::None),
        ("grant", Auth::Grant),
        ("paris-signature", Auth::ParisSignature),
        ("bearer", Auth::Bearer),
        ("admin", Auth::Admin),
        ("caller", Auth::Caller),
        ("tenant", Auth::Tenant),
    ];
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("")
    }
}

/// HTTP methods a route may name, in the order the generated enum uses.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

#[derive(Debug, Clone)]
pub struct RouteDef {
    pub name: String,
    pub ident: String,
    pub handler: String,
    /// Indices into [`METHODS`].
    pub methods: Vec<usize>,
    pub path: String,
    pub auth: Auth,
    pub environments: Option<Vec<usize>>,
    pub concurrency_capped: bool,
}

impl RouteDef {
    /// `(prefix, suffix)` around the single `{param}` segment, if any.
    pub fn param_split(&self) -> Option<(&str, &str)> {
        let open = self.path.find('{')?;
        let close = self.path[open..].find('}')? + open;
        Some((&self.path[..open], &self.path[close + 1..]))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    pub scopes: Vec<LexScope>,
    pub concepts: Vec<LexConcept>,
    pub intents: Vec<LexIntent>,
    pub clarifications: Vec<LexClarification>,
    /// Compact JSON in the original dictionary's shape and key order.
    pub json: String,
    pub hash: String,
}

#[derive(Debug, Clone)]
pub struct LexScope {
    pub id: String,
    pub label: String,
    pub description: String,
    pub synonyms: Vec<String>,
}
#[derive(Debug, Clone)]
pub struct LexConcept {
    pub id: String,
    pub label: String,
    pub synonyms: Vec<String>,
    pub ambiguous_scopes: Option<Vec<String>>,
    pub targets: Option<Vec<String>>,
}
#[derive(Debug, Clone)]
pub struct LexIntent {
    pub id: String,
    pub label: String,
    pub synonyms: Vec<String>,
    pub font_candidates: Vec<String>,
}
#[derive(Debug, Clone)]
pub struct LexClarification {
    pub concept_id: String,
    pub when_scopes_present: Option<Vec<String>>,
    pub question: String,
}

/// A variable or secret of policy/vars.yaml.
#[derive(Debug, Clone)]
pub struct VarDef {
    pub name: String,
    pub ident: String,
    pub secret: bool,
    /// Indices into `Policy::environments`.
    pub required_in: Vec<usize>,
    pub feature: String,
    pub description: String,
    pub default: Option<String>,
    pub example: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub providers: Vec<ProviderDef>,
    pub models: Vec<ModelDef>,
    pub profiles: Vec<ProfileDef>,
    /// (plan, profile index)
    pub plans: Vec<(Named, usize)>,
    /// (task class, profile index)
    pub curated: Vec<(String, usize)>,
    pub agents: Vec<AgentDef>,
    pub ceilings: Budget,
    pub mint_caps: Budget,
    pub environments: Vec<Named>,
    pub stages: Vec<Named>,
    /// One per stage.
    pub minibob: Vec<Option<Budget>>,
    /// The plan and agent the Minibob overrides apply to.
    pub minibob_plan: usize,
    pub minibob_agent: usize,
    pub routes: Vec<RouteDef>,
    /// Jobs, queues and prompts ([`crate::ops`]).
    pub ops: crate::ops::Ops,
    pub lexicon: Lexicon,
    pub vars: Vec<VarDef>,
    pub approvals: Approvals,
    pub learning: Learning,
    pub tenancy: Tenancy,
    /// `pol-` + 16 hex of SHA-256 over [`Policy::canonical_json`].
    pub version: String,
}

fn names(idx: &[usize], f: impl Fn(usize) -> String) -> Vec<String> {
    idx.iter().map(|&i| f(i)).collect()
}

impl Policy {
    pub fn used_methods(&self) -> Vec<usize> {
        let mut m: Vec<usize> = self
            .routes
            .iter()
            .flat_map(|r| r.methods.iter().copied())
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    }

    fn profile_json(&self) -> Value {
        let mut profiles = Map::new();
        for p in &self.profiles {
            let mut models = Map::new();
            for pm in &p.models {
                models.insert(
                    self.providers[pm.provider].name.clone(),
                    json!({
                        "defaultModel": self.models[pm.default].name,
                        "allowed": names(&pm.allowed, |i| self.models[i].name.clone()),
                    }),
                );
            }
            profiles.insert(
                p.name.clone(),
                json!({"defaultProvider": self.providers[p.default_provider].name, "models": models}),
            );
        }
        Value::Object(profiles)
    }

    fn env_names(&self, e: &Option<Vec<usize>>) -> Value {
        match e {
            None => Value::Null,
            Some(v) => json!(names(v, |i| self.environments[i].name.clone())),
        }
    }

    fn agent_json(&self, a: &AgentDef) -> Map<String, Value> {
        let mut budgets = Map::new();
        for (p, b) in self.profiles.iter().zip(&a.budgets) {
            budgets.insert(p.name.clone(), b.to_json());
        }
        let v = json!({
            "id": a.name,
            "aliases": a.aliases,
            "taskClass": a.task_class,
            "surface": a.surface.name(),
            "providers": names(&a.providers, |i| self.providers[i].name.clone()),
            "defaultProvider": self.providers[a.default_provider].name,
            "budgets": budgets,
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// The shape `sf policy explain --format json` prints (keys fixed by the issue).
    pub fn explain_json(&self) -> Value {
        let agents: Vec<Value> = self
            .agents
            .iter()
            .map(|a| Value::Object(self.agent_json(a)))
            .collect();
        let mut plans = Map::new();
        for (plan, p) in &self.plans {
            plans.insert(plan.name.clone(), json!(self.profiles[*p].name));
        }
        let mut routes = Vec::new();
        for r in &self.routes {
            for &m in &r.methods {
                routes.push(json!({
                    "method": METHODS[m],
                    "path": r.path,
                    "auth": r.auth.name(),
                    "environments": self.env_names(&r.environments),
                    "concurrencyCapped": r.concurrency_capped,
                }));
            }
        }
        json!({
            "policyVersion": self.version,
            "agents": agents,
            "profiles": self.profile_json(),
            "plans": plans,
            "routes": routes,
            "variables": self.vars_json(),
            "tenancy": self.tenancy_json(),
        })
    }

    /// Everything the generated code depends on, in a fixed order; hashed
    /// into `POLICY_VERSION`, so any change that changes behaviour changes it.
    pub fn canonical_json(&self) -> Value {
        let providers: Vec<Value> = self
            .providers
            .iter()
            .map(|p| {
                json!({
                    "id": p.name,
                    "protocol": p.protocol.name(),
                    "baseUrl": p.base_url,
                    "baseUrlVar": p.base_url_var,
                    "credentialVars": p.credential_vars,
                    "modelVar": p.model_var,
                    "defaultModel": self.models[p.default_model].name,
                    "grantable": p.grantable,
                    "environments": self.env_names(&p.environments),
                    "anyAgentIn": names(&p.any_agent_in, |i| self.environments[i].name.clone()),
                    "credentials": p.credential_sets.iter().map(|s| names(s, |i| self.vars[i].name.clone())).collect::<Vec<_>>(),
                    "fallbackModels": names(&p.fallback_models, |i| self.models[i].name.clone()),
                    "aiGatewayRoute": p.ai_gateway_route,
                    "models": p.models.iter().map(|&m| {
                        let m = &self.models[m];
                        json!({"id": m.name, "inputUsdPer1m": m.input_usd_per_1m, "outputUsdPer1m": m.output_usd_per_1m})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        let agents: Vec<Value> = self
            .agents
            .iter()
            .map(|a| {
                let mut m = self.agent_json(a);
                m.insert("category".into(), json!(a.category));
                m.insert("allowProviderChoice".into(), json!(a.allow_provider_choice));
                m.insert("allowModelChoice".into(), json!(a.allow_model_choice));
                m.insert(
                    "requiredEntitlements".into(),
                    json!(a.required_entitlements),
                );
                m.insert("toolCaps".into(), json!(a.tool_caps));
                Value::Object(m)
            })
            .collect();
        let explain = self.explain_json();
        let mut minibob = Map::new();
        for (s, b) in self.stages.iter().zip(&self.minibob) {
            if let Some(b) = b {
                minibob.insert(s.name.clone(), b.to_json());
            }
        }
        let curated: Map<String, Value> = self
            .curated
            .iter()
            .map(|(t, p)| (t.clone(), json!(self.profiles[*p].name)))
            .collect();
        json!({
            "providers": providers,
            "agents": agents,
            "profiles": explain["profiles"],
            "plans": explain["plans"],
            "curated": curated,
            "ceilings": self.ceilings.to_json(),
            "mintCaps": self.mint_caps.to_json(),
            "minibob": {"plan": self.plans[self.minibob_plan].0.name, "agent": self.agents[self.minibob_agent].name, "stages": minibob},
            "environments": self.environments.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
            "stages": self.stages.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
            "routes": explain["routes"],
            "handlers": self.routes.iter().map(|r| r.handler.clone()).collect::<Vec<_>>(),
            "ops": self.ops.canonical_json(|i| self.environments[i].name.clone(), |i| self.agents[i].name.clone()),
            "dictionaryHash": self.lexicon.hash,
            "vars": explain["variables"],
            "approvals": self.approvals_json(),
            "learning": self.learning.canonical_json(|i| self.agents.get(i).map_or(String::new(), |a| a.name.clone())),
            "tenancy": self.tenancy_json(),
        })
    }

    fn tenancy_json(&self) -> Value {
        let name = |p: usize, m: usize| {
            let p = self.providers.get(p).map_or("", |p| p.name.as_str());
            (
                p.to_owned(),
                self.models
                    .get(m)
                    .map_or("", |m| m.name.as_str())
                    .to_owned(),
            )
        };
        let mut v = self.tenancy.canonical_json(name);
        // Explained with the rubric: which providers the gateway path carries.
        v["aiGateway"] = self
            .providers
            .iter()
            .filter_map(|p| {
                p.ai_gateway_route
                    .as_ref()
                    .map(|r| json!({"provider": p.name, "route": r}))
            })
            .collect::<Vec<_>>()
            .into();
        v
    }

    fn approvals_json(&self) -> Value {
        let a = &self.approvals;
        let p = self
            .providers
            .get(a.provider)
            .map_or("", |p| p.name.as_str());
        let m = self.models.get(a.model).map_or("", |m| m.name.as_str());
        a.canonical_json(p, m)
    }
}
