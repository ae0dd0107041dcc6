//! `Surface`, `Agent` (lookups with aliases) and the agent x profile budget matrix.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{budget, fixed_enum, id};
use crate::model::*;

/// `Surface`, `Agent`, `Budget`, `AGENT_BUDGETS`, `impl Agent`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let prov = |i: usize| super::prov(p, i);
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
    let surface_enum = fixed_enum(
        "Surface",
        "How an agent is reached.",
        &[
            ("execute", "Execute"),
            ("queue", "Queue"),
            ("endpoint", "Endpoint"),
        ],
    );

    quote! {
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
    }
}
