//! `changedPaths` / `removedPaths` patterns of a v2 job (CONTRACT 7.4 step 8):
//! dot paths where a `*` segment matches one numeric segment.

use crate::js::js_trim;

fn segments(path: &str) -> Vec<&str> {
    path.split('.')
        .map(js_trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_numeric(seg: &str) -> bool {
    !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `path` matches `pattern` segment by segment.
pub fn path_matches(path: &str, pattern: &str) -> bool {
    let p = segments(path);
    let pat = segments(pattern);
    p.len() == pat.len()
        && p.iter().zip(&pat).all(|(actual, want)| {
            if *want == "*" {
                is_numeric(actual)
            } else {
                actual == want
            }
        })
}

/// Expands patterns against `candidates`: a pattern without `*` stands for
/// itself (even if no candidate has it); one with `*` for every matching
/// candidate. Blank patterns are dropped, duplicates kept once, first-seen order.
pub fn expand_patterns(patterns: &[String], candidates: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |s: &str, out: &mut Vec<String>| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    for raw in patterns {
        let pattern = js_trim(raw);
        if pattern.is_empty() {
            continue;
        }
        if !pattern.contains('*') {
            push(pattern, &mut out);
            continue;
        }
        for c in candidates {
            if path_matches(c, pattern) {
                push(c, &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn star_matches_numeric_segments_only() {
        assert!(path_matches("items.0.q", "items.*.q"));
        assert!(path_matches("items.12.q", "items.*.q"));
        assert!(!path_matches("items.x.q", "items.*.q"));
        assert!(!path_matches("items.0", "items.*.q"));
        assert!(path_matches("a.b", "a.b"));
    }

    #[test]
    fn expands_against_candidates() {
        let candidates = s(&["title", "items.0.q", "items.1.q", "items.0.a"]);
        let got = expand_patterns(
            &s(&["items.*.q", " ", "title", "gone", "title"]),
            &candidates,
        );
        assert_eq!(got, s(&["items.0.q", "items.1.q", "title", "gone"]));
    }
}
