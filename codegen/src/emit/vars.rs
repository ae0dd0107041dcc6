//! `Var`: every variable and secret of policy/vars.yaml, with its table.

use proc_macro2::TokenStream;
use quote::quote;

use super::{id, name_enum, opt_str};
use crate::model::*;

/// `Var::X` for variable index `i`.
pub(super) fn var(p: &Policy, i: usize) -> TokenStream {
    let v = id(&p.vars[i].ident);
    quote!(Var::#v)
}

/// `Var`, `impl Var`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let var_enum = name_enum(
        "Var",
        "A variable or secret the gateway reads (policy/vars.yaml); `name()` is the variable's name.",
        &p.vars
            .iter()
            .map(|x| (x.name.clone(), x.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let vv: Vec<TokenStream> = (0..p.vars.len()).map(|i| var(p, i)).collect();
    let secret = p.vars.iter().map(|x| x.secret);
    let required = p.vars.iter().map(|x| {
        let es = x.required_in.iter().map(|&i| super::env(p, i));
        quote!(&[#(#es),*])
    });
    let feature = p.vars.iter().map(|x| &x.feature);
    let description = p.vars.iter().map(|x| &x.description);
    let default = p.vars.iter().map(|x| opt_str(&x.default));
    let example = p.vars.iter().map(|x| opt_str(&x.example));
    quote! {
    #var_enum

    impl Var {
        /// A credential: never logged, set with `wrangler secret put` (and never given a default).
        pub const fn is_secret(self) -> bool { match self { #( #vv => #secret, )* } }
        /// Environments where the gateway does not work without it (`sf serve` warns when it is missing).
        pub const fn required_in(self) -> &'static [Environment] { match self { #( #vv => #required, )* } }
        /// Whether it is required in `env`.
        pub fn is_required_in(self, env: Environment) -> bool { self.required_in().contains(&env) }
        /// Short id of the feature that reads it (`grants`, `provider:deepseek`, ...).
        pub const fn feature(self) -> &'static str { match self { #( #vv => #feature, )* } }
        /// One line on what it is for.
        pub const fn description(self) -> &'static str { match self { #( #vv => #description, )* } }
        /// The value used when it is unset, if any (never for a secret).
        pub const fn default_value(self) -> ::core::option::Option<&'static str> { match self { #( #vv => #default, )* } }
        /// The placeholder `.dev.vars.example` shows, if any.
        pub const fn example(self) -> ::core::option::Option<&'static str> { match self { #( #vv => #example, )* } }
    }
    }
}
