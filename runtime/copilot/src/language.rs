//! Conversation language (CONTRACT 7.3.3): explicit requests, then script,
//! then stop-words, then whatever the session already had.

use super::text::{fold, words};

/// Language codes the copilot recognises.
pub const CODES: [&str; 14] = [
    "en", "es", "fr", "de", "it", "pt", "nl", "ru", "ar", "ja", "ko", "zh", "he", "hi",
];

/// Language names (and endonyms) people type, with their code.
const NAMES: [(&str, &str); 27] = [
    ("english", "en"),
    ("german", "de"),
    ("deutsch", "de"),
    ("french", "fr"),
    ("francais", "fr"),
    ("spanish", "es"),
    ("espanol", "es"),
    ("italian", "it"),
    ("italiano", "it"),
    ("portuguese", "pt"),
    ("portugues", "pt"),
    ("dutch", "nl"),
    ("nederlands", "nl"),
    ("russian", "ru"),
    ("русский", "ru"),
    ("arabic", "ar"),
    ("العربية", "ar"),
    ("japanese", "ja"),
    ("日本語", "ja"),
    ("korean", "ko"),
    ("한국어", "ko"),
    ("chinese", "zh"),
    ("中文", "zh"),
    ("hindi", "hi"),
    ("हिन्दी", "hi"),
    ("hebrew", "he"),
    ("עברית", "he"),
];

/// Where a detection came from; decides the confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Explicit,
    Script,
    StopWords,
    Sticky,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub code: String,
    pub confidence: f64,
    pub source: Source,
}

/// Maps a language token (name, code or `xx-YY`) to a code.
pub fn token_to_code(tok: &str) -> Option<&'static str> {
    let t = fold(tok);
    let t = t.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
    if let Some((_, code)) = NAMES.iter().find(|(n, _)| *n == t) {
        return Some(code);
    }
    let base = t.split(['-', '_']).next().unwrap_or(t);
    CODES.iter().copied().find(|c| *c == base)
}

/// A language the user explicitly asked for: `lang: fr`, `language=de`,
/// `switch to italian`, `reply in es`, or a language name anywhere.
pub fn explicit_language(prompt: &str) -> Option<&'static str> {
    let folded = fold(prompt);
    // `lang:fr` / `language = de` keep their punctuation, so scan the folded text.
    for key in ["language", "lang"] {
        let mut from = 0;
        while let Some(pos) = folded[from..].find(key) {
            let at = from + pos;
            let before_ok = folded[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let rest = folded[at + key.len()..].trim_start();
            if before_ok {
                if let Some(v) = rest.strip_prefix([':', '=']) {
                    let tok: String = v
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    if let Some(code) = token_to_code(&tok) {
                        return Some(code);
                    }
                }
            }
            from = at + key.len();
        }
    }
    let w = words(prompt);
    for pair in w.windows(3) {
        let lead = matches!(
            (pair[0].as_str(), pair[1].as_str()),
            ("switch", "to")
                | ("change", "to")
                | ("reply", "in")
                | ("respond", "in")
                | ("answer", "in")
        );
        if lead {
            if let Some(code) = token_to_code(&pair[2]) {
                return Some(code);
            }
        }
    }
    // Names only as whole words (the original matched substrings anywhere).
    for tok in &w {
        if let Some((_, code)) = NAMES.iter().find(|(n, _)| n == tok) {
            return Some(code);
        }
    }
    // Endonyms in scripts without spaces ("日本語で") appear inside longer runs.
    NAMES
        .iter()
        .find(|(n, _)| !n.is_ascii() && folded.contains(n))
        .map(|(_, c)| *c)
}

/// Whether the prompt is a reply-language directive ("reply in italian")
/// rather than a request about the widget's content.
pub fn is_reply_directive(prompt: &str) -> bool {
    let w = words(prompt);
    w.windows(2).any(|p| {
        matches!(
            (p[0].as_str(), p[1].as_str()),
            ("reply", "in")
                | ("respond", "in")
                | ("answer", "in")
                | ("talk", "in")
                | ("speak", "in")
                | ("write", "me")
        )
    }) || w
        .iter()
        .any(|t| t == "speak" || t == "reply" || t == "respond")
}

/// A test on a code point: is it in this script?
type ScriptTest = fn(u32) -> bool;

fn script_language(prompt: &str) -> Option<&'static str> {
    let has = |f: fn(u32) -> bool| prompt.chars().any(|c| f(c as u32));
    let ranges: [(ScriptTest, &str); 7] = [
        (
            |c| (0x0600..=0x06FF).contains(&c) || (0x0750..=0x077F).contains(&c),
            "ar",
        ),
        (|c| (0x0400..=0x04FF).contains(&c), "ru"),
        (|c| (0x0590..=0x05FF).contains(&c), "he"),
        (|c| (0x0900..=0x097F).contains(&c), "hi"),
        (
            |c| (0xAC00..=0xD7AF).contains(&c) || (0x1100..=0x11FF).contains(&c),
            "ko",
        ),
        (|c| (0x3040..=0x30FF).contains(&c), "ja"),
        (
            |c| (0x4E00..=0x9FFF).contains(&c) || (0x3400..=0x4DBF).contains(&c),
            "zh",
        ),
    ];
    ranges.iter().find(|(f, _)| has(*f)).map(|(_, code)| *code)
}

const STOP_WORDS: [(&str, &[&str]); 7] = [
    (
        "en",
        &[
            "the", "and", "is", "are", "what", "how", "please", "can", "you", "my", "this", "with",
            "to", "of", "do", "does", "make", "it",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "los", "las", "que", "de", "por", "para", "con", "una", "un", "es", "mi",
            "esto", "como", "hola",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "des", "est", "et", "une", "un", "pour", "avec", "mon", "ma", "ce",
            "je", "vous", "bonjour", "sur",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "ein", "eine", "mit", "fur", "mein", "bitte", "ich",
            "nicht", "auf",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "gli", "che", "di", "per", "con", "una", "un", "mio", "questo", "sono",
            "ciao", "della",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "que", "de", "para", "com", "uma", "um", "meu", "isso", "voce", "ola",
            "nao",
        ],
    ),
    (
        "nl",
        &[
            "de",
            "het",
            "een",
            "en",
            "is",
            "van",
            "met",
            "voor",
            "mijn",
            "dit",
            "niet",
            "graag",
            "alstublieft",
        ],
    ),
];

fn stop_word_language(prompt: &str) -> Option<&'static str> {
    let w = words(prompt);
    let mut best: Option<(&str, usize)> = None;
    for (code, list) in STOP_WORDS {
        let hits = w.iter().filter(|t| list.contains(&t.as_str())).count();
        if hits >= 2 && best.is_none_or(|(_, h)| hits > h) {
            best = Some((code, hits));
        }
    }
    best.map(|(c, _)| c)
}

/// Detects the language of `prompt`, falling back to the session's.
pub fn detect(prompt: &str, session_lang: Option<&str>, session_conf: Option<f64>) -> Detected {
    if let Some(code) = explicit_language(prompt) {
        return Detected {
            code: code.into(),
            confidence: 0.99,
            source: Source::Explicit,
        };
    }
    if let Some(code) = script_language(prompt) {
        return Detected {
            code: code.into(),
            confidence: 0.95,
            source: Source::Script,
        };
    }
    if let Some(code) = stop_word_language(prompt) {
        return Detected {
            code: code.into(),
            confidence: 0.85,
            source: Source::StopWords,
        };
    }
    Detected {
        code: session_lang.unwrap_or("en").to_owned(),
        confidence: session_conf.unwrap_or(0.5),
        source: Source::Sticky,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_forms() {
        assert_eq!(explicit_language("reply in italian"), Some("it"));
        assert_eq!(explicit_language("lang: fr-CA please"), Some("fr"));
        assert_eq!(explicit_language("language=de"), Some("de"));
        assert_eq!(explicit_language("switch to es"), Some("es"));
        assert_eq!(
            explicit_language("Please translate the FAQs en français"),
            Some("fr")
        );
        assert_eq!(explicit_language("日本語で答えて"), Some("ja"));
        assert_eq!(explicit_language("Make the title frenchy"), None);
        assert_eq!(explicit_language("Change the title to red"), None);
    }

    #[test]
    fn detection_order_and_confidence() {
        let d = detect("reply in italian", Some("en"), Some(0.5));
        assert_eq!((d.code.as_str(), d.confidence), ("it", 0.99));
        let d = detect("Сделай заголовок короче", None, None);
        assert_eq!((d.code.as_str(), d.confidence), ("ru", 0.95));
        let d = detect("Haz que el título sea más corto para la página", None, None);
        assert_eq!((d.code.as_str(), d.confidence), ("es", 0.85));
        let d = detect("ok", Some("de"), Some(0.85));
        assert_eq!(
            (d.code.as_str(), d.confidence, d.source),
            ("de", 0.85, Source::Sticky)
        );
        let d = detect("ok", None, None);
        assert_eq!((d.code.as_str(), d.confidence), ("en", 0.5));
    }
}
