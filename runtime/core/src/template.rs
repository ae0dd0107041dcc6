//! Prompt text templates: the one place that knows which `{{name}}`
//! placeholders an agent's prompt may use, shared by the learning loop (which
//! refuses a prompt version that would not render) and the agents that
//! render it.
//!
//! A placeholder is `{{name}}` with a name of [`PLACEHOLDERS`]. Single braces
//! are plain text (prompts quote JSON shapes), so only `{{` opens one.

/// The placeholders a prompt may use.
/// - `examples`: the few-shot examples of the agent's example bank (rendered
///   where the placeholder stands; without it, after the instruction text).
/// - `locale`: the language every user-visible string must be in.
pub const PLACEHOLDERS: &[&str] = &["examples", "locale"];

/// The longest prompt text accepted, in bytes.
pub const MAX_PROMPT_BYTES: usize = 32 * 1024;

/// Why a prompt text does not render, worded for the person who wrote it.
pub fn check(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the prompt text is empty".into());
    }
    if text.len() > MAX_PROMPT_BYTES {
        return Err(format!(
            "the prompt text is {} bytes; at most {MAX_PROMPT_BYTES} are accepted",
            text.len()
        ));
    }
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(format!(
                "`{{{{` at byte {} is never closed with `}}}}`",
                text.len() - rest.len() + open
            ));
        };
        let name = after[..close].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder `{{{{{name}}}}}`; a prompt may use {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("`{{{{{p}}}}}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 2..];
    }
    Ok(())
}

/// Whether `text` uses the placeholder `name`.
pub fn uses(text: &str, name: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return false;
        };
        if after[..close].trim() == name {
            return true;
        }
        rest = &after[close + 2..];
    }
    false
}

/// `text` with every placeholder replaced by its value (a placeholder with
/// no value becomes empty). Call [`check`] on texts from outside first.
pub fn render(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        if let Some((_, v)) = values.iter().find(|(n, _)| *n == name) {
            out.push_str(v);
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_braces_are_text() {
        assert_eq!(
            check(r#"Answer {"message": string, "ops": [{"op":"set"}]}"#),
            Ok(())
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(check("  \n"), Err("the prompt text is empty".into()));
        assert_eq!(
            check("Hi {{name}}"),
            Err(
                "unknown placeholder `{{name}}`; a prompt may use `{{examples}}`, `{{locale}}`"
                    .into()
            )
        );
        assert_eq!(
            check("Hi {{examples"),
            Err("`{{` at byte 3 is never closed with `}}`".into())
        );
        assert!(check(&"x".repeat(MAX_PROMPT_BYTES + 1)).is_err());
    }

    #[test]
    fn renders_known_values() {
        let t = "A {{ locale }} B {{examples}} C";
        assert_eq!(check(t), Ok(()));
        assert!(uses("x {{ examples }}", "examples"));
        assert!(!uses("x {{locale}}", "examples"));
        assert_eq!(render(t, &[("locale", "de")]), "A de B  C");
        assert_eq!(
            render(t, &[("locale", "de"), ("examples", "E")]),
            "A de B E C"
        );
        assert_eq!(render("no placeholders", &[]), "no placeholders");
    }
}
