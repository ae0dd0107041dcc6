//! `Signal`, `SCORING`, `Criterion` and the scoring windows (policy/learning.yaml).

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{f64_lit, id, name_enum};
use crate::model::*;

pub(super) fn emit(p: &Policy) -> TokenStream {
    let l = &p.learning;
    let sig_items: Vec<(String, String)> = SIGNALS
        .iter()
        .map(|(n, i, _)| (n.to_string(), i.to_string()))
        .collect();
    let signal_enum = name_enum(
        "Signal",
        "A signal a score weighs (policy/learning.yaml).",
        &sig_items,
    );
    let sig_vars: Vec<Ident> = SIGNALS.iter().map(|s| id(s.1)).collect();
    let sig_docs: Vec<&str> = SIGNALS.iter().map(|s| s.2).collect();
    let crit_items: Vec<(String, String)> = CRITERIA
        .iter()
        .map(|(n, i, _)| (n.to_string(), i.to_string()))
        .collect();
    let crit_enum = name_enum(
        "Criterion",
        "A success criterion of `sf report` (policy/learning.yaml).",
        &crit_items,
    );
    let crit_vars: Vec<Ident> = CRITERIA.iter().map(|c| id(c.1)).collect();
    let crit_min: Vec<bool> = CRITERIA.iter().map(|c| c.2).collect();
    let crit_bars: Vec<_> = (0..CRITERIA.len())
        .map(|i| f64_lit(l.criteria.get(i).copied().unwrap_or(0.0)))
        .collect();
    let n = l.scoring.len();
    let scorings = l.scoring.iter().map(|s| {
        let a = id(p
            .agents
            .get(s.agent)
            .map_or("PolicyDidNotCompile", |a| a.ident.as_str()));
        let ws = s.weights.iter().map(|(i, w)| {
            let v = id(SIGNALS.get(*i).map_or("OpsValid", |s| s.1));
            let w = f64_lit(*w);
            quote!((Signal::#v, #w))
        });
        quote!(Scoring { agent: Agent::#a, weights: &[ #(#ws),* ] })
    });
    let nb = l.banks.len();
    let banks = l.banks.iter().map(|b| {
        let a = id(p
            .agents
            .get(b.agent)
            .map_or("PolicyDidNotCompile", |a| a.ident.as_str()));
        let (k, budget, min) = (b.k, b.token_budget, f64_lit(b.min_score));
        quote!(ExampleBank { agent: Agent::#a, k: #k, token_budget: #budget, min_score: #min })
    });
    let within = l.continued_within_minutes;
    let rescore = l.rescore_days;
    quote! {
    #signal_enum

    impl Signal {
        /// What the signal means (1 when this holds for the interaction).
        pub const fn description(self) -> &'static str {
            match self { #( Signal::#sig_vars => #sig_docs, )* }
        }
    }

    /// An interaction is `continued` by a later one in its session within this many minutes.
    pub const CONTINUED_WITHIN_MINUTES: u32 = #within;
    /// The scoring job re-scores interactions this many days back (late outcomes count).
    pub const RESCORE_DAYS: u32 = #rescore;

    /// How one agent's interactions are scored: weights summing to 1.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Scoring {
        pub agent: Agent,
        pub weights: &'static [(Signal, f64)],
    }

    /// The scored agents, in policy order.
    pub static SCORING: [Scoring; #n] = [ #( #scorings, )* ];

    impl Agent {
        /// How this agent's interactions are scored, if they are.
        pub fn scoring(self) -> ::core::option::Option<&'static Scoring> {
            SCORING.iter().find(|s| s.agent == self)
        }
    }

    /// One agent's example bank (policy/learning.yaml `exampleBanks`), built
    /// daily by the `update-example-banks` job.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct ExampleBank {
        pub agent: Agent,
        /// Examples kept per widget type (the best by score), golden ones aside.
        pub k: u32,
        /// Tokens (characters / 4) the rendered examples of the bank stay within.
        pub token_budget: u32,
        /// Lowest score an example chosen by score may have.
        pub min_score: f64,
    }

    /// The example banks, in policy order.
    pub static EXAMPLE_BANKS: [ExampleBank; #nb] = [ #( #banks, )* ];

    impl Agent {
        /// This agent's example bank, if it has one.
        pub fn example_bank(self) -> ::core::option::Option<&'static ExampleBank> {
            EXAMPLE_BANKS.iter().find(|b| b.agent == self)
        }
    }

    #crit_enum

    impl Criterion {
        /// True when the value must be at least the threshold, false when at most.
        pub const fn is_min(self) -> bool {
            match self { #( Criterion::#crit_vars => #crit_min, )* }
        }
        /// The bar of policy/learning.yaml.
        pub const fn threshold(self) -> f64 {
            match self { #( Criterion::#crit_vars => #crit_bars, )* }
        }
        /// Whether `value` meets the bar.
        pub fn passes(self, value: f64) -> bool {
            if self.is_min() { value >= self.threshold() } else { value <= self.threshold() }
        }
    }
    }
}
