//! Stage 3: the checked policy as Rust items (docs/ARCHITECTURE.md, "The
//! generated policy API"). The output is self-contained: it defines every
//! type it uses, so the runtime can `include_policy!` it without this crate
//! knowing any runtime type.
//!
//! One file per generated group, emitted in this order: the version
//! constants (here), [`environments`], [`providers`], [`profiles`],
//! [`agents`], [`budgets`], [`routes`], [`traits`], [`lexicon`], then
//! [`jobs`], [`queues`], [`prompts`] and [`vars`].

mod agents;
mod approvals;
mod budgets;
mod environments;
mod jobs;
mod learning;
mod lexicon;
mod profiles;
mod prompts;
mod providers;
mod queues;
mod routes;
mod tenancy;
mod traits;
mod vars;

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
    // `#[repr(u8)]` rejects an enum without variants (e.g. no jobs declared).
    let repr = if n > 0 { quote!(#[repr(u8)]) } else { quote!() };
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #repr
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
/// `SOURCES` from `(relative path, text expression)` pairs.
pub fn sources(files: &[(&str, TokenStream)]) -> TokenStream {
    let rel = files.iter().map(|(r, _)| r);
    let text = files.iter().map(|(_, t)| t);
    quote! {
        /// The policy files this module was compiled from, as (path relative to
        /// the policy root, text): a binary knows its policy (`sf policy explain`
        /// checks these when it finds no policy files).
        pub const SOURCES: &[(&str, &str)] = &[ #( (#rel, #text), )* ];
    }
}

/// `Provider::X` for provider index `i`.
fn prov(p: &Policy, i: usize) -> TokenStream {
    let v = id(&p.providers[i].ident);
    quote!(Provider::#v)
}

/// `Model::X` for model index `i`.
fn model(p: &Policy, i: usize) -> TokenStream {
    let v = id(&p.models[i].ident);
    quote!(Model::#v)
}

/// `Environment::X` for environment index `i`.
fn env(p: &Policy, i: usize) -> TokenStream {
    let v = id(&p.environments[i].ident);
    quote!(Environment::#v)
}

/// `Agent::X` for agent index `i`.
fn agent(p: &Policy, i: usize) -> TokenStream {
    let v = id(&p.agents[i].ident);
    quote!(Agent::#v)
}

/// `Method::X` for index `m` of [`METHODS`].
fn meth(m: usize) -> TokenStream {
    let v = id(&crate::ident::pascal(METHODS[m]).unwrap_or_default());
    quote!(Method::#v)
}

/// An environment gate: `None` = every environment.
fn envs_opt(p: &Policy, e: &Option<Vec<usize>>) -> TokenStream {
    match e {
        None => quote!(::core::option::Option::None),
        Some(v) => {
            let es = v.iter().map(|&i| env(p, i));
            quote!(::core::option::Option::Some(&[#(#es),*]))
        }
    }
}

/// Every generated item of the policy API.
pub fn emit(p: &Policy) -> TokenStream {
    let version = &p.version;
    let dict_hash = &p.lexicon.hash;
    let dict_json = &p.lexicon.json;
    let explain = p.explain_json().to_string();
    let environments = environments::emit(p);
    let providers = providers::emit(p);
    let profiles = profiles::emit(p);
    let agents = agents::emit(p);
    let budgets = budgets::emit(p);
    let routes = routes::emit(p);
    let traits = traits::emit(p);
    let lexicon = lexicon::emit(p);
    let vars = vars::emit(p);
    let ops = [jobs::emit(p), queues::emit(p), prompts::emit(p)];
    let approvals = approvals::emit(p);
    let learning = learning::emit(p);
    let tenancy = tenancy::emit(p);

    quote! {
        /// `pol-` + 16 hex of SHA-256 over the canonical policy; stamped into responses and events.
        pub const POLICY_VERSION: &str = #version;
        /// FNV-1a/32 over the lexicon's compact JSON (UTF-16 code units), 8 hex digits.
        pub const DICTIONARY_HASH: &str = #dict_hash;
        /// The lexicon's compact JSON, exactly what [`DICTIONARY_HASH`] is computed over.
        pub const LEXICON_JSON: &str = #dict_json;
        /// What `sf policy explain --format json` prints for this policy (agents,
        /// budgets, profiles, plans, routes, variables, tenancy), compact; the
        /// admin UI's policy page reads it from `GET /admin/v1/policy`.
        pub const EXPLAIN_JSON: &str = #explain;

        #environments
        #providers
        #profiles
        #agents
        #budgets
        #routes
        #traits
        #lexicon
        #(#ops)*
        #vars
        #approvals
        #learning
        #tenancy
    }
}
