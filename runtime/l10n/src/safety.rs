//! Safety checks on a translated value (CONTRACT 7.4 step 13, 7.5): the
//! placeholders, the richtext tag sequence and the `<a>` links must survive
//! translation. A violation is `502 PROVIDER_ERROR` blamed on the provider.

use crate::allowlist::{EntryType, Item};
use crate::error::L10nError;
use crate::placeholders::same_placeholders;
use crate::richtext::{anchors, tag_tokens};

/// Checks `translated` against the source `item`; the message names the path.
pub fn check_translation(item: &Item, translated: &str, provider: &str) -> Result<(), L10nError> {
    let fail = |what: &str| L10nError::provider(provider, format!("{what} at path: {}", item.path));
    if !same_placeholders(&item.value, translated) {
        return Err(fail("Placeholder mismatch"));
    }
    if item.kind != EntryType::Richtext {
        return Ok(());
    }
    if tag_tokens(&item.value) != tag_tokens(translated) {
        return Err(fail("Richtext tag mismatch"));
    }
    let source = anchors(&item.value);
    if source.is_empty() {
        return Ok(());
    }
    let target = anchors(translated);
    if source.len() != target.len() {
        return Err(fail("Richtext anchor count mismatch"));
    }
    for (s, t) in source.iter().zip(&target) {
        if s.has_visible_text != t.has_visible_text {
            return Err(fail("Richtext anchor text mismatch"));
        }
        if s.href != t.href {
            return Err(fail("Richtext anchor href mismatch"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: EntryType, value: &str) -> Item {
        Item {
            path: "p".into(),
            kind,
            value: value.into(),
        }
    }

    fn msg(r: Result<(), L10nError>) -> String {
        r.err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn placeholders_must_survive() {
        let it = item(EntryType::String, "Hi {name}");
        assert_eq!(check_translation(&it, "Salut {name}", "deepseek"), Ok(()));
        let err = check_translation(&it, "Salut", "deepseek").err();
        assert_eq!(err.as_ref().map(|e| e.status), Some(502));
        assert_eq!(err.and_then(|e| e.provider), Some("deepseek".into()));
        assert_eq!(
            msg(check_translation(&it, "Salut {nom}", "x")),
            "Placeholder mismatch at path: p"
        );
    }

    #[test]
    fn tags_must_keep_their_sequence() {
        let it = item(EntryType::Richtext, "<b>Hi</b> <i>you</i>");
        assert_eq!(
            check_translation(&it, "<B class='x'>Salut</b> <i>toi</i>", "x"),
            Ok(())
        );
        assert_eq!(
            msg(check_translation(&it, "<i>toi</i> <b>Salut</b>", "x")),
            "Richtext tag mismatch at path: p"
        );
        // Plain strings are not tag-checked.
        let plain = item(EntryType::String, "<b>Hi</b>");
        assert_eq!(check_translation(&plain, "Salut", "x"), Ok(()));
    }

    #[test]
    fn links_keep_href_and_text() {
        let it = item(EntryType::Richtext, "Read <a href=\"/terms\">terms</a>");
        assert_eq!(
            check_translation(&it, "Lire <a href=\"/terms\">conditions</a>", "x"),
            Ok(())
        );
        assert_eq!(
            msg(check_translation(
                &it,
                "Lire <a href=\"/other\">conditions</a>",
                "x"
            )),
            "Richtext anchor href mismatch at path: p"
        );
        assert_eq!(
            msg(check_translation(
                &it,
                "Lire conditions <a href=\"/terms\"></a>",
                "x"
            )),
            "Richtext anchor text mismatch at path: p"
        );
        assert_eq!(
            msg(check_translation(
                &it,
                "Lire <a href=\"/terms\">conditions",
                "x"
            )),
            "Richtext tag mismatch at path: p"
        );
    }
}
