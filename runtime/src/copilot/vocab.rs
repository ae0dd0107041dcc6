//! The global edit vocabulary, compiled from policy/lexicon.yaml by the
//! policy generator (`crate::policy`). One name here so the copilot's
//! modules do not depend on where the generated items live.

pub use crate::policy::{LexConcept, Lexicon, DICTIONARY_HASH, LEXICON};
