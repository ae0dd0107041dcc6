//! The lexicon types and the `LEXICON` table.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::*;

/// `Lexicon`, `LexScope`, `LexConcept`, `LexIntent`, `LexClarification`, `LEXICON`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    // Lexicon.
    let strs = |v: &[String]| quote!(&[#(#v),*]);
    let scopes = p.lexicon.scopes.iter().map(|s| {
        let (i, l, d, syn) = (&s.id, &s.label, &s.description, strs(&s.synonyms));
        quote!(LexScope { id: #i, label: #l, description: #d, synonyms: #syn })
    });
    let concepts = p.lexicon.concepts.iter().map(|c| {
        let (i, l, syn) = (&c.id, &c.label, strs(&c.synonyms));
        let amb = strs(c.ambiguous_scopes.as_deref().unwrap_or(&[]));
        let tg = strs(c.targets.as_deref().unwrap_or(&[]));
        quote!(LexConcept { id: #i, label: #l, synonyms: #syn, ambiguous_scopes: #amb, targets: #tg })
    });
    let intents = p.lexicon.intents.iter().map(|c| {
        let (i, l, syn, fc) = (&c.id, &c.label, strs(&c.synonyms), strs(&c.font_candidates));
        quote!(LexIntent { id: #i, label: #l, synonyms: #syn, font_candidates: #fc })
    });
    let clar = p.lexicon.clarifications.iter().map(|c| {
        let (ci, q) = (&c.concept_id, &c.question);
        let w = strs(c.when_scopes_present.as_deref().unwrap_or(&[]));
        quote!(LexClarification { concept_id: #ci, when_scopes_present: #w, question: #q })
    });

    quote! {
    /// The global edit vocabulary (policy/lexicon.yaml).
    #[derive(Debug)]
    pub struct Lexicon { pub scopes: &'static [LexScope], pub concepts: &'static [LexConcept],
                         pub intents: &'static [LexIntent], pub clarifications: &'static [LexClarification] }
    #[derive(Debug)]
    pub struct LexScope { pub id: &'static str, pub label: &'static str, pub description: &'static str, pub synonyms: &'static [&'static str] }
    #[derive(Debug)]
    pub struct LexConcept { pub id: &'static str, pub label: &'static str, pub synonyms: &'static [&'static str],
                            pub ambiguous_scopes: &'static [&'static str], pub targets: &'static [&'static str] }
    #[derive(Debug)]
    pub struct LexIntent { pub id: &'static str, pub label: &'static str, pub synonyms: &'static [&'static str], pub font_candidates: &'static [&'static str] }
    #[derive(Debug)]
    pub struct LexClarification { pub concept_id: &'static str, pub when_scopes_present: &'static [&'static str], pub question: &'static str }

    pub static LEXICON: Lexicon = Lexicon {
        scopes: &[#(#scopes),*],
        concepts: &[#(#concepts),*],
        intents: &[#(#intents),*],
        clarifications: &[#(#clar),*],
    };
    }
}
