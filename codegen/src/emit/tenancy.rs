//! The tenancy tables (policy/tenancy.yaml): `Tier`, `ModelClass`,
//! `Workload`, `TierRules`, `TENANT_TIERS`, `TENANCY_CLASSES`,
//! `TENANCY_TIMEOUT_MS`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{fixed_enum, id, model, name_enum, prov};
use crate::model::*;

pub(super) fn emit(p: &Policy) -> TokenStream {
    let t = &p.tenancy;
    let tiers: Vec<(String, String)> = t
        .tiers
        .iter()
        .map(|x| (x.name.clone(), x.ident.clone()))
        .collect();
    let tier_enum = name_enum(
        "Tier",
        "A tenant's tier (policy/tenancy.yaml `tiers`).",
        &tiers,
    );
    let class_enum = fixed_enum(
        "ModelClass",
        "The routing rubric's model classes: high quality, or fast.",
        &[("high", "High"), ("fast", "Fast")],
    );
    let class_vars = [id("High"), id("Fast")];
    let wl_enum = name_enum(
        "Workload",
        "A workload a request may name (policy/tenancy.yaml `workloads`).",
        &t.workloads,
    );
    let rule_enum = fixed_enum(
        "TenancyRule",
        "A rule of policy/tenancy.yaml a tier may put in shadow mode (`modes: {rule: monitor}`).",
        &[
            ("quota", "Quota"),
            ("workload", "Workload"),
            ("model", "Model"),
        ],
    );
    let rule_vars = [id("Quota"), id("Workload"), id("Model")];
    let rows = t.tiers.iter().map(|x| {
        let v = id(&x.ident);
        let c = &class_vars[x.class.min(1)];
        let wl = x.workloads.iter().map(|&i| {
            let w = id(&t.workloads[i].1);
            quote!(Workload::#w)
        });
        let (r, k) = (x.requests_per_day, x.tokens_per_day);
        let mon = x
            .monitor
            .iter()
            .filter_map(|&i| rule_vars.get(i))
            .map(|v| quote!(TenancyRule::#v));
        quote!(TierRules { tier: Tier::#v, class: ModelClass::#c, workloads: &[#(#wl),*], requests_per_day: #r, tokens_per_day: #k, monitor: &[#(#mon),*] })
    });
    let n = t.tiers.len();
    let classes = t.classes.iter().map(|&(pi, mi)| {
        let (pv, mv) = (prov(p, pi), model(p, mi));
        quote!(ClassModel { provider: #pv, model: #mv })
    });
    let timeout = t.timeout_ms;
    let dt = id(&t.tiers[t.default_tier].ident);
    quote! {
        #tier_enum
        impl Tier {
            /// This tier's rules.
            pub fn rules(self) -> &'static TierRules {
                &TENANT_TIERS[self as usize]
            }
        }
        #class_enum
        impl ModelClass {
            /// The provider and model of this class.
            pub fn model(self) -> ClassModel {
                TENANCY_CLASSES[self as usize]
            }
        }
        #wl_enum
        #rule_enum
        /// One tier's routing and quotas.
        #[derive(Debug)]
        pub struct TierRules {
            pub tier: Tier,
            /// The class its requests route to (`model: "auto"`); the fallback is always `Fast`.
            pub class: ModelClass,
            pub workloads: &'static [Workload],
            pub requests_per_day: u64,
            /// Prompt plus completion tokens per UTC day.
            pub tokens_per_day: u64,
            /// Rules in shadow mode: what they would refuse is let through and counted.
            pub monitor: &'static [TenancyRule],
        }
        impl TierRules {
            /// Whether `rule` only monitors (shadow mode) for this tier.
            pub fn monitors(&self, rule: TenancyRule) -> bool { self.monitor.contains(&rule) }
        }
        /// A class's provider and model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct ClassModel { pub provider: Provider, pub model: Model }
        /// Every tier's rules, in `Tier::ALL` order.
        pub static TENANT_TIERS: [TierRules; #n] = [#(#rows),*];
        /// The class models, in `ModelClass::ALL` order.
        pub const TENANCY_CLASSES: [ClassModel; 2] = [#(#classes),*];
        /// One deadline for a completion, the fallback included.
        pub const TENANCY_TIMEOUT_MS: u32 = #timeout;
        /// The tier of a tenant created without one.
        pub const DEFAULT_TIER: Tier = Tier::#dt;
    }
}
