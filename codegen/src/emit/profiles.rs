//! `Profile` and `Plan` with their tables, and the curated-profile lookup.

use proc_macro2::TokenStream;
use quote::quote;

use super::{id, name_enum};
use crate::model::*;

/// `Profile`, `ProfileModels`, `impl Profile`, `Plan`, `impl Plan`, `curated_profile`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let prov = |i: usize| super::prov(p, i);
    let model = |i: usize| super::model(p, i);
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

    quote! {
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
    }
}
