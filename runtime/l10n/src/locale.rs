//! Locale tokens (`@clickeen/l10n.normalizeLocaleToken`).

use crate::js::js_trim;

/// Trims, lower-cases, turns `_` into `-` and accepts
/// `^[a-z]{2,3}(-[a-z0-9]+)*$`; anything else is `None` (`FR_fr` -> `fr-fr`).
pub fn normalize_locale(raw: &str) -> Option<String> {
    let value = js_trim(raw).to_lowercase().replace('_', "-");
    let mut parts = value.split('-');
    let lang = parts.next()?;
    if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    for part in parts {
        if part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return None;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(normalize_locale("FR_fr").as_deref(), Some("fr-fr"));
        assert_eq!(normalize_locale(" de ").as_deref(), Some("de"));
        assert_eq!(
            normalize_locale("zh-Hant-TW").as_deref(),
            Some("zh-hant-tw")
        );
        assert_eq!(normalize_locale("fil").as_deref(), Some("fil"));
    }

    #[test]
    fn rejects() {
        for bad in [
            "", "  ", "f", "fran", "fr-", "fr--ca", "fr ca", "1r", "fr-ç", "-fr",
        ] {
            assert_eq!(normalize_locale(bad), None, "{bad:?}");
        }
    }
}
