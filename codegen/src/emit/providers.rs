//! `Protocol`, `Provider` and `Model` with their tables (catalogue, prices, gates).

use proc_macro2::TokenStream;
use quote::quote;

use super::{envs_opt, f64_lit, fixed_enum, id, name_enum, opt_str};
use crate::model::*;

/// `Protocol`, `Provider`, `impl Provider`, `Model`, `Price`, `impl Model`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let prov = |i: usize| super::prov(p, i);
    let model = |i: usize| super::model(p, i);
    let env = |i: usize| super::env(p, i);
    let envs_opt = |e: &Option<Vec<usize>>| envs_opt(p, e);
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
    let cred_sets = p.providers.iter().map(|x| {
        let sets = x.credential_sets.iter().map(|s| {
            let vs = s.iter().map(|&i| super::vars::var(p, i));
            quote!(&[#(#vs),*])
        });
        quote!(&[#(#sets),*])
    });
    let fallbacks = p.providers.iter().map(|x| {
        let ms = x.fallback_models.iter().map(|&i| model(i));
        quote!(&[#(#ms),*])
    });
    let gateway_routes = p.providers.iter().map(|x| opt_str(&x.ai_gateway_route));
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
        /// Alternative complete credential sets: it can be called when every variable of any one set is set.
        pub const fn credential_sets(self) -> &'static [&'static [Var]] { match self { #( #pv => #cred_sets, )* } }
        /// Models tried after the primary one when the grant allows them, in order.
        pub const fn fallback_models(self) -> &'static [Model] { match self { #( #pv => #fallbacks, )* } }
        /// Its Cloudflare AI Gateway route (providers.yaml `aiGateway`): calls go to
        /// `{CF_AI_GATEWAY_BASE_URL}/v1/{account}/{gateway}/{route}/...` when the gateway is configured.
        pub const fn ai_gateway_route(self) -> ::core::option::Option<&'static str> { match self { #( #pv => #gateway_routes, )* } }
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
    }
}
