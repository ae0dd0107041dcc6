//! Grant-wide budget constants: mint caps, ceilings, the Minibob overrides.

use proc_macro2::TokenStream;
use quote::quote;

use super::{budget, id};
use crate::model::*;

/// `MINT_CAPS`, `BUDGET_CEILINGS`, `MINIBOB_PLAN`, `MINIBOB_AGENT`, `minibob_override`.
pub(super) fn emit(p: &Policy) -> TokenStream {
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
    let mb_agent = super::agent(p, p.minibob_agent);

    quote! {
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
    }
}
