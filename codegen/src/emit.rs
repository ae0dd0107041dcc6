//! Stage 3: the checked policy as Rust items (docs/ARCHITECTURE.md, "The
//! generated policy API"). The output is self-contained: it defines every
//! type it uses, so the runtime can `include_policy!` it without this crate
//! knowing any runtime type.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use crate::model::*;

fn id(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

fn f64_lit(x: f64) -> Literal {
    Literal::f64_suffixed(x)
}

fn opt_str(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

/// An enum over policy names with `ALL`, `name()`, `from_name()` and `Display`.
fn name_enum(ty: &str, doc: &str, items: &[(String, String)]) -> TokenStream {
    let ty = id(ty);
    let n = items.len();
    let vars: Vec<Ident> = items.iter().map(|(_, i)| id(i)).collect();
    let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
    let docs: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum #ty { #( #[doc = #docs] #vars, )* }
        impl #ty {
            /// Every value, in policy order (`x as usize` indexes this array).
            pub const ALL: [#ty; #n] = [ #( #ty::#vars, )* ];
            /// The name as written in the policy and on the wire.
            pub const fn name(self) -> &'static str {
                match self { #( #ty::#vars => #names, )* }
            }
            /// Exact (case-sensitive) lookup by name.
            pub fn from_name(s: &str) -> ::core::option::Option<#ty> {
                match s { #( #names => ::core::option::Option::Some(#ty::#vars), )* _ => ::core::option::Option::None }
            }
        }
        impl ::core::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.name())
            }
        }
    }
}

fn fixed_enum(ty: &str, doc: &str, items: &[(&str, &str)]) -> TokenStream {
    let owned: Vec<(String, String)> = items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    name_enum(ty, doc, &owned)
}

fn budget(b: Budget) -> TokenStream {
    let (t, m, r) = (b.max_tokens, b.timeout_ms, b.max_requests);
    quote!(Budget { max_tokens: #t, timeout_ms: #m, max_requests: #r })
}

pub fn emit(p: &Policy) -> TokenStream {
    let version = &p.version;
    let dict_hash = &p.lexicon.hash;
    let dict_json = &p.lexicon.json;

    let prov = |i: usize| {
        let v = id(&p.providers[i].ident);
        quote!(Provider::#v)
    };
    let model = |i: usize| {
        let v = id(&p.models[i].ident);
        quote!(Model::#v)
    };
    let env = |i: usize| {
        let v = id(&p.environments[i].ident);
        quote!(Environment::#v)
    };
    let envs_opt = |e: &Option<Vec<usize>>| match e {
        None => quote!(::core::option::Option::None),
        Some(v) => {
            let es = v.iter().map(|&i| env(i));
            quote!(::core::option::Option::Some(&[#(#es),*]))
        }
    };

    // Environments and stages.
    let env_enum = name_enum(
        "Environment",
        "Runtime environment (the `ENVIRONMENT` variable); route and provider gates use it.",
        &p.environments
            .iter()
            .map(|n| (n.name.clone(), n.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let stage_enum = name_enum(
        "Stage",
        "Exposure stage (Paris' `ENV_STAGE`, carried in grants as `trace.envStage`).",
        &p.stages
            .iter()
            .map(|n| (n.name.clone(), n.ident.clone()))
            .collect::<Vec<_>>(),
    );

    // Providers.
    let provider_enum = name_enum(
        "Provider",
        "A model provider (policy/providers.yaml).",
        &p.providers
            .iter()
            .map(|x| (x.name.clone(), x.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let pv: Vec<TokenStream> = (0..p.providers.len()).map(prov).collect();
    let protocols = p.providers.iter().map(|x| {
        id(match x.protocol {
            Protocol::OpenaiChat => "OpenaiChat",
            Protocol::AnthropicMessages => "AnthropicMessages",
            Protocol::BedrockConverse => "BedrockConverse",
            Protocol::WorkersAi => "WorkersAi",
        })
    });
    let base_urls = p.providers.iter().map(|x| &x.base_url);
    let base_url_vars = p.providers.iter().map(|x| opt_str(&x.base_url_var));
    let cred_vars = p.providers.iter().map(|x| {
        let v = &x.credential_vars;
        quote!(&[#(#v),*])
    });
    let model_vars = p.providers.iter().map(|x| opt_str(&x.model_var));
    let default_models = p.providers.iter().map(|x| model(x.default_model));
    let grantable = p.providers.iter().map(|x| x.grantable);
    let prov_envs = p.providers.iter().map(|x| envs_opt(&x.environments));
    let any_agent = p.providers.iter().map(|x| {
        let es = x.any_agent_in.iter().map(|&i| env(i));
        quote!(&[#(#es),*])
    });
    let prov_models = p.providers.iter().map(|x| {
        let ms = x.models.iter().map(|&i| model(i));
        quote!(&[#(#ms),*])
    });

    // Models.
    let model_enum = name_enum(
        "Model",
        "A model from a provider's catalogue; `name()` is the wire id.",
        &p.models
            .iter()
            .map(|x| (x.name.clone(), x.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let mv: Vec<TokenStream> = (0..p.models.len()).map(model).collect();
    let model_provs = p.models.iter().map(|m| prov(m.provider));
    let prices = p.models.iter().map(|m| {
        let (i, o) = (f64_lit(m.input_usd_per_1m), f64_lit(m.output_usd_per_1m));
        quote!(Price { input_usd_per_1m: #i, output_usd_per_1m: #o })
    });

    // Profiles.
    let profile_enum = name_enum(
        "Profile",
        "A pricing profile (policy/profiles.yaml).",
        &p.profiles
            .iter()
            .map(|x| (x.name.clone(), x.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let prof = |i: usize| {
        let v = id(&p.profiles[i].ident);
        quote!(Profile::#v)
    };
    let pfv: Vec<TokenStream> = (0..p.profiles.len()).map(prof).collect();
    let prof_default = p.profiles.iter().map(|x| prov(x.default_provider));
    let prof_provs = p.profiles.iter().map(|x| {
        let ps = x.models.iter().map(|m| prov(m.provider));
        quote!(&[#(#ps),*])
    });
    let mut pm_arms = Vec::new();
    for (pi, x) in p.profiles.iter().enumerate() {
        for m in &x.models {
            let pr = prof(pi);
            let pv = prov(m.provider);
            let d = model(m.default);
            let al = m.allowed.iter().map(|&i| model(i));
            pm_arms.push(quote! {
                (#pr, #pv) => ::core::option::Option::Some(&ProfileModels { default: #d, allowed: &[#(#al),*] }),
            });
        }
    }

    // Plans.
    let plan_enum = name_enum(
        "Plan",
        "A Paris plan (policy profile), mapped to a pricing profile.",
        &p.plans
            .iter()
            .map(|(n, _)| (n.name.clone(), n.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let plv = p.plans.iter().map(|(n, _)| {
        let v = id(&n.ident);
        quote!(Plan::#v)
    });
    let plan_prof = p.plans.iter().map(|(_, i)| prof(*i));
    let cur_tc = p.curated.iter().map(|(t, _)| t);
    let cur_prof = p.curated.iter().map(|(_, i)| prof(*i));

    // Agents.
    let agent_ty_doc = "An agent of the registry (agents.yaml).";
    let av: Vec<TokenStream> = p
        .agents
        .iter()
        .map(|a| {
            let v = id(&a.ident);
            quote!(Agent::#v)
        })
        .collect();
    let agent_names: Vec<&str> = p.agents.iter().map(|a| a.name.as_str()).collect();
    let agent_docs: Vec<String> = agent_names.iter().map(|n| format!("`{n}`")).collect();
    let agent_vars: Vec<Ident> = p.agents.iter().map(|a| id(&a.ident)).collect();
    let n_agents = p.agents.len();
    let mut lookup_arms = Vec::new();
    for (a, v) in p.agents.iter().zip(&av) {
        let n = &a.name;
        lookup_arms.push(quote!(#n => ::core::option::Option::Some(#v),));
        for al in &a.aliases {
            lookup_arms.push(quote!(#al => ::core::option::Option::Some(#v),));
        }
    }
    let aliases = p.agents.iter().map(|a| {
        let al = &a.aliases;
        quote!(&[#(#al),*])
    });
    let categories = p.agents.iter().map(|a| &a.category);
    let task_classes = p.agents.iter().map(|a| &a.task_class);
    let surfaces = p.agents.iter().map(|a| {
        id(match a.surface {
            Surface::Execute => "Execute",
            Surface::Queue => "Queue",
            Surface::Endpoint => "Endpoint",
        })
    });
    let agent_provs = p.agents.iter().map(|a| {
        let ps = a.providers.iter().map(|&i| prov(i));
        quote!(&[#(#ps),*])
    });
    let agent_default = p.agents.iter().map(|a| prov(a.default_provider));
    let apc = p.agents.iter().map(|a| a.allow_provider_choice);
    let amc = p.agents.iter().map(|a| a.allow_model_choice);
    let ents = p.agents.iter().map(|a| {
        let e = &a.required_entitlements;
        quote!(&[#(#e),*])
    });
    let tools = p.agents.iter().map(|a| {
        let e = &a.tool_caps;
        quote!(&[#(#e),*])
    });
    let n_prof = p.profiles.len();
    let budget_rows = p.agents.iter().map(|a| {
        let cells = a.budgets.iter().map(|b| budget(*b));
        quote!([#(#cells),*])
    });
    let mint_caps = budget(p.mint_caps);
    let ceilings = budget(p.ceilings);
    let stage_arms = p.stages.iter().zip(&p.minibob).map(|(s, b)| {
        let v = id(&s.ident);
        match b {
            Some(b) => {
                let b = budget(*b);
                quote!(Stage::#v => ::core::option::Option::Some(#b),)
            }
            None => quote!(Stage::#v => ::core::option::Option::None,),
        }
    });

    let mb_plan = {
        let v = id(&p.plans[p.minibob_plan].0.ident);
        quote!(Plan::#v)
    };
    let mb_agent = av[p.minibob_agent].clone();

    // Methods, routes.
    let used = p.used_methods();
    let method_items: Vec<(String, String)> = used
        .iter()
        .map(|&m| {
            (
                METHODS[m].to_string(),
                crate::ident::pascal(METHODS[m]).unwrap_or_default(),
            )
        })
        .collect();
    let method_enum = name_enum(
        "Method",
        "An HTTP method used by some route.",
        &method_items,
    );
    let meth = |m: usize| {
        let v = id(&crate::ident::pascal(METHODS[m]).unwrap_or_default());
        quote!(Method::#v)
    };
    let route_enum = name_enum(
        "Route",
        "A route of policy/endpoints.yaml.",
        &p.routes
            .iter()
            .map(|r| (r.name.clone(), r.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let n_routes = p.routes.len();
    let specs = p.routes.iter().map(|r| {
        let v = id(&r.ident);
        let ms = r.methods.iter().map(|&m| meth(m));
        let path = &r.path;
        let auth = id(match r.auth {
            Auth::None => "None",
            Auth::Grant => "Grant",
            Auth::ParisSignature => "ParisSignature",
            Auth::Bearer => "Bearer",
        });
        let envs = envs_opt(&r.environments);
        let cc = r.concurrency_capped;
        let h = &r.handler;
        quote! {
            RouteSpec { route: Route::#v, methods: &[#(#ms),*], path: #path, auth: Auth::#auth,
                        environments: #envs, concurrency_capped: #cc, handler: #h }
        }
    });
    let mut static_arms = Vec::new();
    let mut param_checks = Vec::new();
    for r in &p.routes {
        let v = id(&r.ident);
        let ms = r.methods.iter().map(|&m| meth(m));
        let guard = quote!(matches!(m, #(#ms)|*));
        match r.param_split() {
            None => {
                let path = &r.path;
                static_arms.push(quote!(#path if #guard => return ::core::option::Option::Some((Route::#v, ::core::option::Option::None)),));
            }
            Some((pre, suf)) => {
                param_checks.push(quote! {
                    if #guard {
                        if let ::core::option::Option::Some(rest) = path.strip_prefix(#pre) {
                            if let ::core::option::Option::Some(param) = rest.strip_suffix(#suf) {
                                if !param.is_empty() && !param.contains('/') {
                                    return ::core::option::Option::Some((Route::#v, ::core::option::Option::Some(param)));
                                }
                            }
                        }
                    }
                });
            }
        }
    }
    let handlers: Vec<Ident> = p.routes.iter().map(|r| id(&r.handler)).collect();
    let handler_docs: Vec<String> = p
        .routes
        .iter()
        .map(|r| {
            let ms: Vec<&str> = r.methods.iter().map(|&m| METHODS[m]).collect();
            format!("`{} {}`", ms.join("|"), r.path)
        })
        .collect();
    let route_vars: Vec<Ident> = p.routes.iter().map(|r| id(&r.ident)).collect();

    let exec: Vec<&AgentDef> = p
        .agents
        .iter()
        .filter(|a| a.surface == Surface::Execute)
        .collect();
    let exec_methods: Vec<Ident> = exec.iter().map(|a| id(&a.method)).collect();
    let exec_docs: Vec<String> = exec.iter().map(|a| format!("`{}`", a.name)).collect();
    let exec_vars: Vec<Ident> = exec.iter().map(|a| id(&a.ident)).collect();
    let non_exec: Vec<Ident> = p
        .agents
        .iter()
        .filter(|a| a.surface != Surface::Execute)
        .map(|a| id(&a.ident))
        .collect();
    let exec_call = if exec.is_empty() {
        quote!(let _ = (a, call);)
    } else {
        quote!()
    };

    // Lexicon.
    let strs = |v: &[String]| quote!(&[#(#v),*]);
    let scopes = p.lexicon.scopes.iter().map(|s| {
        let (i, l, d, syn) = (&s.id, &s.label, &s.description, strs(&s.synonyms));
        quote!(LexScope { id: #i, label: #l, description: #d, synonyms: #syn })
    });
    let concepts = p.lexicon.concepts.iter().map(|c| {
        let (i, l, syn) = (&c.id, &c.label, strs(&c.synonyms));
        let amb = strs(c.ambiguous_scopes.as_deref().unwrap_or(&[]));
        let tg = strs(c.targets.as_deref().unwrap_or(&[]));
        quote!(LexConcept { id: #i, label: #l, synonyms: #syn, ambiguous_scopes: #amb, targets: #tg })
    });
    let intents = p.lexicon.intents.iter().map(|c| {
        let (i, l, syn, fc) = (&c.id, &c.label, strs(&c.synonyms), strs(&c.font_candidates));
        quote!(LexIntent { id: #i, label: #l, synonyms: #syn, font_candidates: #fc })
    });
    let clar = p.lexicon.clarifications.iter().map(|c| {
        let (ci, q) = (&c.concept_id, &c.question);
        let w = strs(c.when_scopes_present.as_deref().unwrap_or(&[]));
        quote!(LexClarification { concept_id: #ci, when_scopes_present: #w, question: #q })
    });
    let n_jobs = p.jobs.len();
    let jobs = p.jobs.iter().map(|(c, j)| quote!((#c, #j)));

    let auth_enum = fixed_enum(
        "Auth",
        "How a route authenticates its caller.",
        &[
            ("none", "None"),
            ("grant", "Grant"),
            ("paris-signature", "ParisSignature"),
            ("bearer", "Bearer"),
        ],
    );
    let surface_enum = fixed_enum(
        "Surface",
        "How an agent is reached.",
        &[
            ("execute", "Execute"),
            ("queue", "Queue"),
            ("endpoint", "Endpoint"),
        ],
    );
    let protocol_enum = fixed_enum(
        "Protocol",
        "The wire protocol a provider speaks.",
        &[
            ("openai_chat", "OpenaiChat"),
            ("anthropic_messages", "AnthropicMessages"),
            ("bedrock_converse", "BedrockConverse"),
            ("workers_ai", "WorkersAi"),
        ],
    );

    quote! {
        /// `pol-` + 16 hex of SHA-256 over the canonical policy; stamped into responses and events.
        pub const POLICY_VERSION: &str = #version;
        /// FNV-1a/32 over the lexicon's compact JSON (UTF-16 code units), 8 hex digits.
        pub const DICTIONARY_HASH: &str = #dict_hash;
        /// The lexicon's compact JSON, exactly what [`DICTIONARY_HASH`] is computed over.
        pub const LEXICON_JSON: &str = #dict_json;

        #env_enum
        #stage_enum
        #protocol_enum
        #provider_enum

        impl Provider {
            /// Wire protocol.
            pub const fn protocol(self) -> Protocol { match self { #( #pv => Protocol::#protocols, )* } }
            /// Default base URL (`""` when none).
            pub const fn base_url(self) -> &'static str { match self { #( #pv => #base_urls, )* } }
            /// Environment variable that overrides the base URL.
            pub const fn base_url_var(self) -> ::core::option::Option<&'static str> { match self { #( #pv => #base_url_vars, )* } }
            /// Names of the secrets it needs (never the secrets).
            pub const fn credential_vars(self) -> &'static [&'static str] { match self { #( #pv => #cred_vars, )* } }
            /// Environment variable that overrides the default model.
            pub const fn model_var(self) -> ::core::option::Option<&'static str> { match self { #( #pv => #model_vars, )* } }
            /// Model used when nothing else chooses one.
            pub const fn default_model(self) -> Model { match self { #( #pv => #default_models, )* } }
            /// May appear in a grant's `ai.allowedProviders`.
            pub const fn grantable(self) -> bool { match self { #( #pv => #grantable, )* } }
            /// Environments where it may be used; `None` = every environment.
            pub const fn environments(self) -> ::core::option::Option<&'static [Environment]> { match self { #( #pv => #prov_envs, )* } }
            /// Environments where any agent may use it, whatever the agent's own provider list.
            pub const fn any_agent_environments(self) -> &'static [Environment] { match self { #( #pv => #any_agent, )* } }
            /// Whether any agent may use it in `env` (e.g. `local` in the local environment).
            pub fn serves_any_agent_in(self, env: Environment) -> bool { self.any_agent_environments().contains(&env) }
            /// Whether it may be used at all in `env`.
            pub fn available_in(self, env: Environment) -> bool {
                match self.environments() { ::core::option::Option::None => true, ::core::option::Option::Some(e) => e.contains(&env) }
            }
            /// Its model catalogue, in policy order.
            pub const fn models(self) -> &'static [Model] { match self { #( #pv => #prov_models, )* } }
        }

        #model_enum

        /// USD per 1M tokens.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct Price { pub input_usd_per_1m: f64, pub output_usd_per_1m: f64 }

        impl Model {
            /// The provider whose catalogue declares it.
            pub const fn provider(self) -> Provider { match self { #( #mv => #model_provs, )* } }
            /// USD per 1M input/output tokens.
            pub const fn price(self) -> Price { match self { #( #mv => #prices, )* } }
        }

        #profile_enum

        /// A profile's models for one provider.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct ProfileModels { pub default: Model, pub allowed: &'static [Model] }

        impl Profile {
            /// Preferred provider of the profile.
            pub const fn default_provider(self) -> Provider { match self { #( #pfv => #prof_default, )* } }
            /// Providers configured for the profile, in policy order.
            pub const fn providers(self) -> &'static [Provider] { match self { #( #pfv => #prof_provs, )* } }
            /// Default and allowed models of `p` under this profile; `None` if `p` is not configured.
            pub fn models(self, p: Provider) -> ::core::option::Option<&'static ProfileModels> {
                #[allow(unreachable_patterns)]
                match (self, p) { #( #pm_arms )* _ => ::core::option::Option::None }
            }
        }

        #plan_enum

        impl Plan {
            /// The pricing profile the plan gets.
            pub const fn profile(self) -> Profile { match self { #( #plv => #plan_prof, )* } }
        }

        /// The curated profile for a task class, which overrides the plan's.
        pub fn curated_profile(task_class: &str) -> ::core::option::Option<Profile> {
            match task_class { #( #cur_tc => ::core::option::Option::Some(#cur_prof), )* _ => ::core::option::Option::None }
        }

        #surface_enum

        #[doc = #agent_ty_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Agent { #( #[doc = #agent_docs] #agent_vars, )* }

        /// Budgets: `maxTokens / timeoutMs / maxRequests`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct Budget { pub max_tokens: u32, pub timeout_ms: u32, pub max_requests: u32 }

        const AGENT_BUDGETS: [[Budget; #n_prof]; #n_agents] = [ #( #budget_rows, )* ];

        impl Agent {
            /// Every agent, in registry order.
            pub const ALL: [Agent; #n_agents] = [ #( #av, )* ];
            /// Canonical id.
            pub const fn name(self) -> &'static str { match self { #( #av => #agent_names, )* } }
            /// Lookup by id or alias, ignoring surrounding whitespace (as JavaScript's `trim()` does, BOM included).
            pub fn from_name(s: &str) -> ::core::option::Option<Agent> {
                match s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}') { #( #lookup_arms )* _ => ::core::option::Option::None }
            }
            pub const fn aliases(self) -> &'static [&'static str] { match self { #( #av => #aliases, )* } }
            pub const fn category(self) -> &'static str { match self { #( #av => #categories, )* } }
            /// Written to events and D1.
            pub const fn task_class(self) -> &'static str { match self { #( #av => #task_classes, )* } }
            pub const fn surface(self) -> Surface { match self { #( #av => Surface::#surfaces, )* } }
            /// Supported providers, in policy order.
            pub const fn providers(self) -> &'static [Provider] { match self { #( #av => #agent_provs, )* } }
            pub const fn default_provider(self) -> Provider { match self { #( #av => #agent_default, )* } }
            pub const fn allow_provider_choice(self) -> bool { match self { #( #av => #apc, )* } }
            pub const fn allow_model_choice(self) -> bool { match self { #( #av => #amc, )* } }
            pub const fn required_entitlements(self) -> &'static [&'static str] { match self { #( #av => #ents, )* } }
            pub const fn tool_caps(self) -> &'static [&'static str] { match self { #( #av => #tools, )* } }
            /// The budget matrix cell (complete: checked at compile time).
            pub const fn budget(self, p: Profile) -> Budget { AGENT_BUDGETS[self as usize][p as usize] }
        }

        impl ::core::fmt::Display for Agent {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result { f.write_str(self.name()) }
        }

        /// Paris clamps every minted grant's budgets to these.
        pub const MINT_CAPS: Budget = #mint_caps;
        /// Upper bounds every budget cell was checked against.
        pub const BUDGET_CEILINGS: Budget = #ceilings;

        /// The plan whose grants get [`minibob_override`] budgets.
        pub const MINIBOB_PLAN: Plan = #mb_plan;
        /// The agent those grants are for.
        pub const MINIBOB_AGENT: Agent = #mb_agent;

        /// The budgets of Minibob grants at an exposure stage.
        pub fn minibob_override(stage: Stage) -> ::core::option::Option<Budget> {
            match stage { #( #stage_arms )* }
        }

        #auth_enum
        #method_enum
        #route_enum

        /// One route: methods, path pattern, auth, gates.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct RouteSpec {
            pub route: Route,
            pub methods: &'static [Method],
            /// Pattern; `{name}` captures one non-empty segment.
            pub path: &'static str,
            pub auth: Auth,
            /// `None` = every environment; elsewhere the route answers 404.
            pub environments: ::core::option::Option<&'static [Environment]>,
            /// Counts against the per-isolate in-flight cap.
            pub concurrency_capped: bool,
            /// Name of the [`RouteHandlers`] method.
            pub handler: &'static str,
        }

        /// Every route, indexed by `Route as usize`.
        pub static ROUTES: [RouteSpec; #n_routes] = [ #( #specs, )* ];

        impl Route {
            pub const fn spec(self) -> &'static RouteSpec { &ROUTES[self as usize] }
        }

        /// Method-aware match of a request path (no query string). `Some((route,
        /// param))` with the raw `{param}` segment; `None` is the contract's 404.
        #[inline]
        pub fn resolve<'p>(method: &str, path: &'p str) -> ::core::option::Option<(Route, ::core::option::Option<&'p str>)> {
            let m = match Method::from_name(method) { ::core::option::Option::Some(m) => m, ::core::option::Option::None => return ::core::option::Option::None };
            match path { #( #static_arms )* _ => {} }
            #( #param_checks )*
            let _ = m;
            ::core::option::Option::None
        }

        /// One method per route of the policy: a route without code does not compile.
        #[allow(async_fn_in_trait)]
        pub trait RouteHandlers {
            type Ctx;
            type Out;
            #( #[doc = #handler_docs] async fn #handlers(&self, cx: Self::Ctx) -> Self::Out; )*
        }

        /// Calls the handler of `route`.
        pub async fn dispatch_route<H: RouteHandlers>(h: &H, route: Route, cx: H::Ctx) -> H::Out {
            match route { #( Route::#route_vars => h.#handlers(cx).await, )* }
        }

        /// One method per `execute`-surface agent: an agent without an executor does not compile.
        #[allow(async_fn_in_trait)]
        pub trait AgentExecutors {
            type Call;
            type Out;
            #( #[doc = #exec_docs] async fn #exec_methods(&self, call: Self::Call) -> Self::Out; )*
        }

        /// Runs `agent`'s executor; `None` when its surface is not `execute`.
        pub async fn dispatch_agent<A: AgentExecutors>(a: &A, agent: Agent, call: A::Call) -> ::core::option::Option<A::Out> {
            #exec_call
            match agent {
                #( Agent::#exec_vars => ::core::option::Option::Some(a.#exec_methods(call).await), )*
                #( Agent::#non_exec => ::core::option::Option::None, )*
            }
        }

        /// The global edit vocabulary (policy/lexicon.yaml).
        #[derive(Debug)]
        pub struct Lexicon { pub scopes: &'static [LexScope], pub concepts: &'static [LexConcept],
                             pub intents: &'static [LexIntent], pub clarifications: &'static [LexClarification] }
        #[derive(Debug)]
        pub struct LexScope { pub id: &'static str, pub label: &'static str, pub description: &'static str, pub synonyms: &'static [&'static str] }
        #[derive(Debug)]
        pub struct LexConcept { pub id: &'static str, pub label: &'static str, pub synonyms: &'static [&'static str],
                                pub ambiguous_scopes: &'static [&'static str], pub targets: &'static [&'static str] }
        #[derive(Debug)]
        pub struct LexIntent { pub id: &'static str, pub label: &'static str, pub synonyms: &'static [&'static str], pub font_candidates: &'static [&'static str] }
        #[derive(Debug)]
        pub struct LexClarification { pub concept_id: &'static str, pub when_scopes_present: &'static [&'static str], pub question: &'static str }

        pub static LEXICON: Lexicon = Lexicon {
            scopes: &[#(#scopes),*],
            concepts: &[#(#concepts),*],
            intents: &[#(#intents),*],
            clarifications: &[#(#clar),*],
        };

        /// Jobs the scheduler runs: (cron expression, job name).
        pub static SCHEDULED_JOBS: [(&str, &str); #n_jobs] = [ #(#jobs),* ];
    }
}
