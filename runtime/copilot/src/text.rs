//! Small text helpers shared by the heuristics. Matching is by whole words
//! (CONTRACT 15.13: the original matched substrings, so "type" fired inside
//! "widget type" and "know" counted as "no").

/// Lowercases and folds common Latin diacritics to ASCII ("Français" → "francais").
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let r = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
            'ý' | 'ÿ' => 'y',
            'š' | 'ś' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            'ř' => 'r',
            'ł' => 'l',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            '’' | '‘' => '\'',
            other => other,
        };
        out.push(r);
    }
    out
}

/// Word tokens of `s` after [`fold`]: maximal runs of alphanumerics (any
/// script), with inner apostrophes and hyphens kept ("don't", "multi-open").
pub fn words(s: &str) -> Vec<String> {
    let folded = fold(s);
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = folded.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let joiner = (c == '\'' || c == '-')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || joiner {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `phrase` (one or more words) occurs in `tokens` as consecutive words.
pub fn has_phrase(tokens: &[String], phrase: &str) -> bool {
    let p = words(phrase);
    if p.is_empty() || p.len() > tokens.len() {
        return false;
    }
    tokens.windows(p.len()).any(|w| w == p.as_slice())
}

/// Index of the first word of the first occurrence of `phrase`.
pub fn find_phrase(tokens: &[String], phrase: &str) -> Option<usize> {
    let p = words(phrase);
    if p.is_empty() || p.len() > tokens.len() {
        return None;
    }
    tokens.windows(p.len()).position(|w| w == p.as_slice())
}

pub fn has_any_word(tokens: &[String], list: &[&str]) -> bool {
    list.iter().any(|w| has_phrase(tokens, w))
}

/// Truncates to at most `max` characters (not bytes).
pub fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_and_keep_inner_joiners() {
        assert_eq!(
            words("What does Multi-open do? Don't — Français!"),
            vec!["what", "does", "multi-open", "do", "don't", "francais"]
        );
    }

    #[test]
    fn phrase_matching_is_by_whole_words() {
        let t = words("Change the widget type please");
        assert!(has_phrase(&t, "widget type"));
        assert!(has_phrase(&t, "type"));
        assert!(!has_phrase(&words("typography"), "type"));
        assert_eq!(find_phrase(&t, "the widget"), Some(1));
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("hi", 5), "hi");
    }
}
