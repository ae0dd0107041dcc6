//! The global edit vocabulary, compiled from policy/lexicon.yaml by the
//! policy generator (`sf_core::policy`). One name here so the copilot's
//! modules do not depend on where the generated items live.

pub use sf_core::policy::{LexConcept, Lexicon, DICTIONARY_HASH, LEXICON};
