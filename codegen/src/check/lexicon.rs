//! lexicon.yaml: the edit vocabulary, its canonical JSON and its hash.

use super::names::Names;
use super::Ck;
use crate::load;
use crate::model::*;
use crate::raw::{self, S};

pub(super) fn check(ck: &mut Ck, l: &raw::LexiconFile) -> Lexicon {
    let f = load::LEXICON;
    // Rule: the lexicon format is the one this generator reads.
    if l.version.value != 1 {
        ck.err(
            f,
            l.version.referenced,
            format!("unsupported lexicon version {}", l.version.value),
            Some("this generator reads `version: 1`".to_string()),
        );
    }
    let mut scopes = Names::new("scope", f);
    for s in &l.scopes {
        scopes.declare(ck, &s.value.id, Some(s.value.id.value.clone()));
    }
    let mut concepts = Names::new("concept", f);
    for c in &l.concepts {
        concepts.declare(ck, &c.value.id, Some(c.value.id.value.clone()));
        // Rule: ambiguous scopes of a concept are declared scopes.
        for s in c.value.ambiguous_scopes.iter().flatten() {
            scopes.resolve(ck, f, s);
        }
    }
    let mut intents = Names::new("intent", f);
    for i in &l.intents {
        intents.declare(ck, &i.value.id, Some(i.value.id.value.clone()));
    }
    for c in &l.clarifications {
        // Rule: a clarification is about a declared concept and declared scopes.
        concepts.resolve(ck, f, &c.value.concept_id);
        for s in c.value.when_scopes_present.iter().flatten() {
            scopes.resolve(ck, f, s);
        }
    }
    let strs = |v: &Option<Vec<S<String>>>| {
        v.as_ref()
            .map(|v| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>())
    };
    let mut lex = Lexicon {
        scopes: l
            .scopes
            .iter()
            .map(|s| LexScope {
                id: s.value.id.value.clone(),
                label: s.value.label.clone(),
                description: s.value.description.clone(),
                synonyms: s.value.synonyms.clone(),
            })
            .collect(),
        concepts: l
            .concepts
            .iter()
            .map(|c| LexConcept {
                id: c.value.id.value.clone(),
                label: c.value.label.clone(),
                synonyms: c.value.synonyms.clone(),
                ambiguous_scopes: strs(&c.value.ambiguous_scopes),
                targets: c.value.targets.clone(),
            })
            .collect(),
        intents: l
            .intents
            .iter()
            .map(|i| LexIntent {
                id: i.value.id.value.clone(),
                label: i.value.label.clone(),
                synonyms: i.value.synonyms.clone(),
                font_candidates: i.value.font_candidates.clone(),
            })
            .collect(),
        clarifications: l
            .clarifications
            .iter()
            .map(|c| LexClarification {
                concept_id: c.value.concept_id.value.clone(),
                when_scopes_present: strs(&c.value.when_scopes_present),
                question: c.value.question.clone(),
            })
            .collect(),
        json: String::new(),
        hash: String::new(),
    };
    lex.json = lexicon_json(&lex, l.version.value);
    lex.hash = fnv1a_utf16(&lex.json);
    lex
}

/// The dictionary as the original serialised it: compact, this key order,
/// optional keys only when present.
fn lexicon_json(l: &Lexicon, version: i64) -> String {
    use serde_json::{json, Map, Value};
    let concepts: Vec<Value> = l
        .concepts
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("id".into(), json!(c.id));
            m.insert("label".into(), json!(c.label));
            m.insert("synonyms".into(), json!(c.synonyms));
            if let Some(s) = &c.ambiguous_scopes {
                m.insert("ambiguousScopes".into(), json!(s));
            }
            if let Some(t) = &c.targets {
                m.insert("targets".into(), json!(t));
            }
            Value::Object(m)
        })
        .collect();
    let clar: Vec<Value> = l
        .clarifications
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("conceptId".into(), json!(c.concept_id));
            if let Some(s) = &c.when_scopes_present {
                m.insert("whenScopesPresent".into(), json!(s));
            }
            m.insert("question".into(), json!(c.question));
            Value::Object(m)
        })
        .collect();
    json!({
        "version": version,
        "scopes": l.scopes.iter().map(|s| json!({"id": s.id, "label": s.label, "description": s.description, "synonyms": s.synonyms})).collect::<Vec<_>>(),
        "concepts": concepts,
        "intents": l.intents.iter().map(|i| json!({"id": i.id, "label": i.label, "synonyms": i.synonyms, "fontCandidates": i.font_candidates})).collect::<Vec<_>>(),
        "clarifications": clar,
    })
    .to_string()
}

/// FNV-1a/32 over UTF-16 code units, as `Math.imul` computes it in the original.
pub fn fnv1a_utf16(s: &str) -> String {
    let mut h: u32 = 2_166_136_261;
    for u in s.encode_utf16() {
        h ^= u as u32;
        h = h.wrapping_mul(16_777_619);
    }
    format!("{h:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(fnv1a_utf16(""), "811c9dc5");
        assert_eq!(fnv1a_utf16("a"), "e40c292c");
        assert_eq!(fnv1a_utf16("foobar"), "bf9cf968");
    }
}
