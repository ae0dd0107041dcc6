//! `Prompt` and `Agent::prompt` (policy/prompts.yaml).

use proc_macro2::TokenStream;
use quote::quote;

use super::agent;
use crate::model::*;

pub(super) fn emit(p: &Policy) -> TokenStream {
    let arms = p.ops.prompts.iter().map(|pr| {
        let a = agent(p, pr.agent);
        let (v, t) = (&pr.version, &pr.text);
        quote!(#a => ::core::option::Option::Some(Prompt { version: #v, text: #t }),)
    });
    quote! {
    /// An agent's fixed instruction text and its version (policy/prompts.yaml).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Prompt {
        /// Recorded in interaction events as `promptVersion`.
        pub version: &'static str,
        /// The file's text without its final newline.
        pub text: &'static str,
    }

    impl Agent {
        /// The agent's prompt, `None` for agents that do not prompt a model from policy.
        #[allow(unreachable_patterns)]
        pub const fn prompt(self) -> ::core::option::Option<Prompt> {
            match self { #( #arms )* _ => ::core::option::Option::None }
        }
    }
    }
}
