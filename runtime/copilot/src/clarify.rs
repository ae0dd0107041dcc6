//! Clarifying questions instead of guesses (CONTRACT 7.3.4 rows 4-9, 7.3.5).
//!
//! The vocabulary comes from the compiled lexicon (policy/lexicon.yaml), so
//! product people change synonyms and questions without touching code. The
//! language clarification, present in the original dictionary but never
//! wired, is wired here.

use serde_json::{Map, Value};

use super::explain::EDIT_VERBS;
use super::input::Control;
use super::language;
use super::messages;
use super::text::{fold, has_any_word, has_phrase, words};
use super::vocab::{LexConcept, Lexicon};

fn concept<'a>(lex: &'a Lexicon, id: &str) -> Option<&'a LexConcept> {
    lex.concepts.iter().find(|c| c.id == id)
}

fn question<'a>(lex: &'a Lexicon, concept_id: &str) -> Option<(&'a str, &'a [&'a str])> {
    lex.clarifications
        .iter()
        .find(|c| c.concept_id == concept_id)
        .map(|c| (c.question, c.when_scopes_present))
}

/// Start offsets (in `s`) of `word` as a whole word.
fn word_spans(s: &str, word: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = s[from..].find(word) {
        let a = from + p;
        let b = a + word.len();
        let before = s[..a]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = s[b..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            out.push((a, b));
        }
        from = b;
    }
    out
}

/// `(adjust|change|update|make)` followed within 30 characters by
/// `everything|all of it|the whole thing|all settings`.
pub fn is_overbroad(prompt: &str) -> bool {
    let f = fold(prompt);
    let verbs = ["adjust", "change", "update", "make"];
    let targets = ["everything", "all of it", "the whole thing", "all settings"];
    verbs
        .iter()
        .flat_map(|v| word_spans(&f, v))
        .any(|(_, vend)| {
            targets
                .iter()
                .flat_map(|t| word_spans(&f, t))
                .any(|(tstart, _)| tstart >= vend && f[vend..tstart].chars().count() <= 30)
        })
}

/// Every scope in `scopes` has a control under `{scope}.` naming the concept.
fn scopes_present(scopes: &[&str], concept_id: &str, controls: &[Control]) -> bool {
    let cid = concept_id.to_ascii_lowercase();
    scopes.iter().all(|s| {
        let prefix = format!("{s}.");
        controls
            .iter()
            .any(|c| c.path.starts_with(&prefix) && c.path.to_ascii_lowercase().contains(&cid))
    })
}

fn mentions(prompt_words: &[String], c: &LexConcept) -> bool {
    c.synonyms.iter().any(|s| has_phrase(prompt_words, s))
}

/// Translation wording in several languages.
const TRANSLATE_WORDS: [&str; 12] = [
    "translate",
    "translation",
    "localize",
    "localise",
    "traduci",
    "tradurre",
    "traduce",
    "traducir",
    "traduire",
    "traduis",
    "ubersetze",
    "ubersetzen",
];

/// Whether the prompt asks for the widget's content in another language.
fn wants_translation(
    prompt: &str,
    prompt_words: &[String],
    lex: &Lexicon,
    controls: &[Control],
) -> bool {
    if language::is_reply_directive(prompt) && !has_any_word(prompt_words, &TRANSLATE_WORDS) {
        return false;
    }
    let translate = has_any_word(prompt_words, &TRANSLATE_WORDS);
    // With a language setting among the controls, "set the language to German"
    // is that setting, not a translation: leave it to the model.
    let has_language_control = controls.iter().any(|c| {
        let p = c.path.to_ascii_lowercase();
        p.contains("language") || p.contains("locale")
    });
    if has_language_control && !translate {
        return false;
    }
    let synonym = concept(lex, "language").is_some_and(|c| mentions(prompt_words, c));
    let named =
        language::explicit_language(prompt).is_some() && has_any_word(prompt_words, &EDIT_VERBS);
    translate || synonym || named
}

/// The CS clarifier: over-broad requests, then each ambiguous concept of the
/// lexicon in order (background when both stage and pod have one, font,
/// language). Returns the question to ask.
pub fn cs_clarify(prompt: &str, controls: &[Control], lex: &Lexicon) -> Option<String> {
    if is_overbroad(prompt) {
        return Some(messages::OVERBROAD.into());
    }
    let w = words(prompt);
    if let Some(bg) = concept(lex, "background").filter(|c| mentions(&w, c)) {
        let (q, scopes) = question(lex, "background")
            .unwrap_or((messages::BACKGROUND_FALLBACK, &["stage", "pod"]));
        let scopes: &[&str] = if scopes.is_empty() {
            bg.ambiguous_scopes
        } else {
            scopes
        };
        if !scopes.is_empty() && scopes_present(scopes, bg.id, controls) {
            return Some(q.into());
        }
    }
    if let Some(font) = concept(lex, "font").filter(|c| mentions(&w, c)) {
        if let Some((q, scopes)) = question(lex, font.id) {
            if scopes.is_empty() || scopes_present(scopes, font.id, controls) {
                return Some(q.into());
            }
        }
    }
    if wants_translation(prompt, &w, lex, controls) {
        if let Some((q, _)) = question(lex, "language") {
            return Some(q.into());
        }
    }
    None
}

// ------------------------------------------------------------------ SDR

const REWRITE_VERBS: [&str; 15] = [
    "rewrite",
    "rephrase",
    "shorten",
    "shorter",
    "longer",
    "expand",
    "simplify",
    "simpler",
    "clarify",
    "improve",
    "better",
    "different",
    "edit",
    "update",
    "change",
];
const FAQ_NOUNS: [&str; 7] = [
    "faq",
    "faqs",
    "qa",
    "question",
    "questions",
    "answer",
    "answers",
];
const STYLE_HINTS: [&str; 16] = [
    "color",
    "colour",
    "colors",
    "colours",
    "font",
    "typography",
    "layout",
    "padding",
    "radius",
    "shadow",
    "border",
    "stage",
    "pod",
    "background",
    "button",
    "icon",
];

fn has_faq_noun(prompt: &str, w: &[String]) -> bool {
    has_any_word(w, &FAQ_NOUNS) || fold(prompt).contains("q&a")
}

/// A copy edit the SDR role can do: a FAQ widget, a rewrite verb, and either
/// a FAQ noun or no sign of a styling request.
pub fn is_rewrite_intent(widget_type: &str, prompt: &str) -> bool {
    let w = words(prompt);
    widget_type.eq_ignore_ascii_case("faq")
        && has_any_word(&w, &REWRITE_VERBS)
        && (has_faq_noun(prompt, &w) || !has_any_word(&w, &STYLE_HINTS))
}

const SITE_WORDS: [&str; 6] = [
    "website", "site", "homepage", "domain", "web page", "webpage",
];

/// `lead` words within 24 characters before a website word.
fn lead_before_site(prompt: &str, leads: &[&str]) -> bool {
    let f = fold(prompt);
    SITE_WORDS
        .iter()
        .flat_map(|s| word_spans(&f, s))
        .any(|(sstart, _)| {
            leads
                .iter()
                .flat_map(|l| word_spans(&f, l))
                .any(|(_, lend)| lend <= sstart && f[lend..sstart].chars().count() <= 24)
        })
}

/// The user wants the FAQs drafted from a website.
pub fn is_website_intent(prompt: &str, has_candidates: bool) -> bool {
    has_candidates
        || lead_before_site(
            prompt,
            &["my", "our", "from", "based on", "read", "scan", "crawl"],
        )
}

/// The SDR router's questions (row 6): which page, or rewrite vs. new (not
/// asked when a link is given: then the page decides what to write).
pub fn sdr_clarify(
    prompt: &str,
    config: &Map<String, Value>,
    has_candidates: bool,
) -> Option<messages::Ui> {
    if !has_candidates && lead_before_site(prompt, &["from", "based on"]) {
        return Some(messages::Ui::AskPageForWebsite);
    }
    let w = words(prompt);
    let rewrite = has_any_word(
        &w,
        &["rewrite", "rephrase", "modernize", "modernise", "refresh"],
    );
    // Someone who already said which ones must not be asked again.
    let decided = has_any_word(
        &w,
        &[
            "existing", "current", "new", "add", "more", "all", "these", "them",
        ],
    );
    if rewrite
        && !has_candidates
        && has_faq_noun(prompt, &w)
        && !decided
        && has_existing_questions(config)
    {
        return Some(messages::Ui::RewriteExistingOrNew);
    }
    None
}

fn has_existing_questions(config: &Map<String, Value>) -> bool {
    config
        .get("sections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("faqs").and_then(Value::as_array))
        .flatten()
        .any(|f| f.get("question").is_some_and(|q| !q.is_null()))
}

/// Whether the prompt only asks for a reply language (row 4).
pub fn is_language_only(prompt: &str) -> bool {
    if language::explicit_language(prompt).is_none() {
        return false;
    }
    let w = words(prompt);
    let transform =
        has_any_word(&w, &TRANSLATE_WORDS) || has_any_word(&w, &["rewrite", "rephrase"]);
    !transform && (w.len() <= 6 || !has_any_word(&w, &EDIT_VERBS))
}

/// Consent answers in the languages the copilot speaks. Whole words for
/// spaced scripts; the original's substring match turned "I don't know"
/// into a no and every Cyrillic reply into a yes.
const YES: [&str; 26] = [
    "yes",
    "y",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "go ahead",
    "please do",
    "of course",
    "absolutely",
    "do it",
    "si",
    "claro",
    "vale",
    "oui",
    "ja",
    "gerne",
    "certo",
    "sim",
    "да",
    "конечно",
    "نعم",
    "כן",
    "हाँ",
    "haan",
];
const NO: [&str; 16] = [
    "no", "n", "nope", "don't", "do not", "not", "never", "cancel", "stop", "non", "nein", "nee",
    "nao", "нет", "لا", "לא",
];
const YES_CJK: [&str; 5] = ["はい", "是", "好", "네", "예"];
const NO_CJK: [&str; 4] = ["いいえ", "不", "아니", "नहीं"];

/// `Some(true)` for yes, `Some(false)` for no, `None` when unclear.
pub fn yes_no(prompt: &str) -> Option<bool> {
    let w = words(prompt);
    let f = fold(prompt);
    let no = has_any_word(&w, &NO) || NO_CJK.iter().any(|n| f.contains(n));
    let yes = has_any_word(&w, &YES) || (!no && YES_CJK.iter().any(|y| f.contains(y)));
    match (yes, no) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::LEXICON;

    fn ctl(path: &str) -> Control {
        Control {
            path: path.into(),
            kind: Some("color".into()),
            ..Control::default()
        }
    }

    #[test]
    fn overbroad_needs_verb_then_target_within_30_chars() {
        assert!(is_overbroad("can you adjust everything for that?"));
        assert!(is_overbroad("Update all settings to match my brand"));
        assert!(!is_overbroad("everything should change"));
        assert!(!is_overbroad(
            "make the title shorter and then maybe later everything"
        ));
    }

    #[test]
    fn background_needs_both_scopes() {
        let both = [ctl("stage.background"), ctl("pod.background")];
        assert!(cs_clarify("Set the bg to blue", &both, &LEXICON).is_some());
        assert_eq!(cs_clarify("Set the bg to blue", &both[..1], &LEXICON), None);
    }

    #[test]
    fn language_clarification_and_its_exceptions() {
        let q = question(&LEXICON, "language").map(|q| q.0.to_owned());
        assert_eq!(
            cs_clarify("Translate the FAQs into French", &[], &LEXICON),
            q
        );
        assert_eq!(
            cs_clarify("Can you change the FAQs in French?", &[], &LEXICON),
            q
        );
        assert_eq!(cs_clarify("reply in italian", &[], &LEXICON), None);
        let lang = [Control {
            path: "settings.language".into(),
            kind: Some("enum".into()),
            ..Control::default()
        }];
        assert_eq!(
            cs_clarify("Set the language to German", &lang, &LEXICON),
            None
        );
    }

    /// With the golden wording in the lexicon, golden cases 16-17 and 20-23
    /// pass: the engine routes them; only the question text is policy data.
    #[test]
    fn golden_clarifications_route_with_golden_wording() {
        use sf_core::policy::LexClarification;
        static CLARIFICATIONS: [LexClarification; 2] = [
            LexClarification {
                concept_id: "font",
                when_scopes_present: &[],
                question: "Which text should I change: headings or body?",
            },
            LexClarification {
                concept_id: "language",
                when_scopes_present: &[],
                question: "Should I translate just the widget content, or reply in that language?",
            },
        ];
        let lex = Lexicon {
            scopes: LEXICON.scopes,
            concepts: LEXICON.concepts,
            intents: LEXICON.intents,
            clarifications: &CLARIFICATIONS,
        };
        let controls = [ctl("stage.background"), ctl("pod.background")];
        for p in [
            "Change the fonts to something modern",
            "Update the typography to be more readable",
        ] {
            assert!(
                cs_clarify(p, &controls, &lex)
                    .is_some_and(|q| q.contains("Which text should I change")),
                "{p}"
            );
        }
        for p in [
            "Can you change the FAQs in French?",
            "Translate the FAQs into French",
            "Can you localize this widget to German?",
            "Please translate the FAQs en français",
        ] {
            assert!(
                cs_clarify(p, &controls, &lex)
                    .is_some_and(|q| q.contains("translate just the widget content")),
                "{p}"
            );
        }
    }

    #[test]
    fn consent_words() {
        assert_eq!(yes_no("yes please"), Some(true));
        assert_eq!(yes_no("Sí, claro"), Some(true));
        assert_eq!(yes_no("нет"), Some(false));
        assert_eq!(yes_no("はい"), Some(true));
        assert_eq!(yes_no("I don't know"), Some(false));
        assert_eq!(yes_no("hmm"), None);
        assert_eq!(yes_no("I know this one"), None);
    }

    #[test]
    fn sdr_intents() {
        assert!(is_rewrite_intent(
            "faq",
            "Rewrite the answers to be friendlier"
        ));
        assert!(is_rewrite_intent(
            "faq",
            "Update my FAQs based on example.com"
        ));
        assert!(!is_rewrite_intent("faq", "Change the background color"));
        assert!(!is_rewrite_intent("countdown", "Rewrite the heading"));
        assert!(is_website_intent(
            "draft them from my website please",
            false
        ));
        assert!(!is_website_intent("make it nicer", false));
        assert!(is_language_only("reply in italian"));
        assert!(!is_language_only("translate the FAQs into italian"));
    }
}
