//! The approvals tables (policy/approvals.yaml): `ApprovalOperation`,
//! `RiskTolerance`, `MonitoringLevel`, `ApprovalCaller` with its
//! `CallerRules`, `APPROVAL_CALLERS`, `APPROVAL_MODEL`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{f64_lit, fixed_enum, id, model, name_enum, prov};
use crate::ident::pascal;
use crate::model::*;

pub(super) fn emit(p: &Policy) -> TokenStream {
    let a = &p.approvals;
    let ops: Vec<(String, String)> = a
        .operations
        .iter()
        .map(|o| (o.name.clone(), o.ident.clone()))
        .collect();
    let op_enum = name_enum(
        "ApprovalOperation",
        "A task type an approval may be asked for (policy/approvals.yaml `operations`).",
        &ops,
    );
    let op_vars: Vec<_> = a.operations.iter().map(|o| id(&o.ident)).collect();
    let op_desc: Vec<&str> = a
        .operations
        .iter()
        .map(|o| o.description.as_str())
        .collect();

    let tol: Vec<(String, String)> = TOLERANCES
        .iter()
        .map(|t| (t.to_string(), pascal(t).unwrap_or_default()))
        .collect();
    let tol_enum = name_enum(
        "RiskTolerance",
        "How much risk a caller accepts: sets the grey-zone model's decision bar.",
        &tol,
    );
    let tol_vars: Vec<_> = tol.iter().map(|(_, i)| id(i)).collect();
    let bars: Vec<_> = a.bars.iter().map(|b| f64_lit(*b)).collect();

    let mon: Vec<(&str, String)> = MONITORING
        .iter()
        .map(|m| (*m, pascal(m).unwrap_or_default()))
        .collect();
    let mon_pairs: Vec<(&str, &str)> = mon.iter().map(|(n, i)| (*n, i.as_str())).collect();
    let mon_enum = fixed_enum(
        "MonitoringLevel",
        "How closely an approved task is watched, least to most.",
        &mon_pairs,
    );

    let callers: Vec<(String, String)> = a
        .callers
        .iter()
        .map(|c| (c.name.clone(), c.ident.clone()))
        .collect();
    let caller_enum = name_enum(
        "ApprovalCaller",
        "An agency that asks for approvals (policy/approvals.yaml `callers`).",
        &callers,
    );
    let n = a.callers.len();
    let op = |i: usize| {
        let v = id(&a.operations[i].ident);
        quote!(ApprovalOperation::#v)
    };
    let rows = a.callers.iter().map(|c| {
        let v = id(&c.ident);
        let tv = &c.token_var;
        let (b, t) = (f64_lit(c.daily_budget_usd), f64_lit(c.cost_threshold_usd));
        let tol = id(&tol[c.tolerance].1);
        let blocked = c.blocked.iter().map(|&i| op(i));
        let human = c.requires_human.iter().map(|&i| op(i));
        let md = c.max_duration_minutes;
        let mon = id(&mon[c.monitoring].1);
        quote!(CallerRules {
            caller: ApprovalCaller::#v, token_var: #tv, daily_budget_usd: #b, cost_threshold_usd: #t,
            tolerance: RiskTolerance::#tol, blocked: &[#(#blocked),*], requires_human: &[#(#human),*],
            max_duration_minutes: #md, monitoring: MonitoringLevel::#mon,
        })
    });
    let provider = prov(p, a.provider);
    let mdl = model(p, a.model);
    let (timeout, ttl) = (a.timeout_ms, a.pending_ttl_minutes);

    quote! {
        #op_enum
        impl ApprovalOperation {
            /// What the operation covers, as the policy describes it.
            pub const fn description(self) -> &'static str {
                match self { #( ApprovalOperation::#op_vars => #op_desc, )* }
            }
        }
        #tol_enum
        impl RiskTolerance {
            /// The highest risk score (0..1) the grey-zone model may give and still approve.
            pub const fn bar(self) -> f64 {
                match self { #( RiskTolerance::#tol_vars => #bars, )* }
            }
        }
        #mon_enum
        #caller_enum
        impl ApprovalCaller {
            /// This caller's rules.
            pub fn rules(self) -> &'static CallerRules {
                &APPROVAL_CALLERS[self as usize]
            }
        }
        /// One caller's approval rules.
        #[derive(Debug)]
        pub struct CallerRules {
            pub caller: ApprovalCaller,
            /// The variable holding this caller's bearer token (never the token).
            pub token_var: &'static str,
            pub daily_budget_usd: f64,
            /// Above this estimated cost a human approves.
            pub cost_threshold_usd: f64,
            pub tolerance: RiskTolerance,
            /// Refused outright.
            pub blocked: &'static [ApprovalOperation],
            /// Always sent to a human.
            pub requires_human: &'static [ApprovalOperation],
            /// The limits an approval imposes.
            pub max_duration_minutes: u32,
            pub monitoring: MonitoringLevel,
        }
        /// Every caller's rules, in `ApprovalCaller::ALL` order.
        pub static APPROVAL_CALLERS: [CallerRules; #n] = [#(#rows),*];
        /// The model asked in the grey zone.
        #[derive(Debug, Clone, Copy)]
        pub struct ApprovalModel { pub provider: Provider, pub model: Model, pub timeout_ms: u32 }
        pub const APPROVAL_MODEL: ApprovalModel = ApprovalModel { provider: #provider, model: #mdl, timeout_ms: #timeout };
        /// A pending approval not decided within this many minutes expires as denied.
        pub const APPROVAL_PENDING_TTL_MINUTES: u32 = #ttl;
    }
}
