//! Model prompts. The user messages follow the contract's text exactly
//! (CONTRACT 7.4 step 12, 7.5); the system messages are ours, giving the
//! same rules as the original: JSON only, same items and paths, keep
//! placeholders, tags and links, write natural copy for the locale.

use serde_json::{json, Value};

use crate::allowlist::Item;
use crate::stable::{js_stringify, js_stringify_pretty};

/// Version stamped into the R2 log of a finished instance job.
pub const INSTANCE_PROMPT_VERSION: &str = "l10n.instance.v1@2026-02-13.2";
/// Version stamped into the R2 log of a Prague strings translation.
pub const PRAGUE_PROMPT_VERSION: &str = "l10n.prague.strings.v1@2026-02-13.2";
/// Policy version of both logs.
pub const POLICY_VERSION: &str = "l10n.ops.v1";

const SHARED_RULES: &[&str] = &[
    "Rules:",
    "- Answer with JSON only: no markdown fences, no commentary.",
    "- Return exactly the items you were given, in the same order, with their paths unchanged.",
    "- Leave URLs, e-mail addresses, brand names and placeholders such as {token}, {{token}} and :token exactly as they are.",
    "- In richtext values keep every HTML tag and attribute as written and add none.",
    "- Text inside a link (<a>) stays inside that link in the translation.",
    "- Keep acronyms as the source writes them; never add an expansion in parentheses (\"B&B\" stays \"B&B\", also in titles).",
    "- Stay close to the source length unless the language needs more or fewer words.",
    "- Before answering, reread your translation and fix anything that sounds unnatural.",
];

/// System message for instance (widget) strings in `locale`.
pub fn instance_system_prompt(locale: &str) -> String {
    let mut lines = vec![
        "You translate the text of Clickeen widgets.".to_owned(),
        format!("Target locale: {locale}."),
        String::new(),
    ];
    lines.extend(SHARED_RULES.iter().map(|s| (*s).to_owned()));
    lines.push(
        "- Write product and interface copy the way a native speaker of the locale would, rephrasing where a literal rendering reads awkwardly; keep the meaning and keep it concise."
            .to_owned(),
    );
    lines.join("\n")
}

/// System message for Prague website strings.
pub fn prague_system_prompt(locale: &str, chunk_key: &str, block_kind: &str) -> String {
    let mut lines = vec![
        "You translate the strings of the Clickeen Prague website.".to_owned(),
        format!("Target locale: {locale}."),
        format!("Context: chunkKey={chunk_key}, blockKind={block_kind}."),
        String::new(),
    ];
    lines.extend(SHARED_RULES.iter().map(|s| (*s).to_owned()));
    lines.push(
        "- Write marketing copy for a product website the way a native speaker of the locale would: fluent, modern, concise, rephrased where a literal rendering reads awkwardly."
            .to_owned(),
    );
    lines.join("\n")
}

fn items_json(items: &[Item]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|i| json!({"path": i.path, "type": i.kind.as_str(), "value": i.value}))
            .collect(),
    )
}

/// User message of one instance batch (compact JSON of `[{path,type,value}]`).
pub fn instance_user_prompt(items: &[Item]) -> String {
    format!(
        "Translate the following items.\nReturn JSON array: [{{\"path\":\"...\",\"value\":\"...\"}},...]\n\n{}",
        js_stringify(&items_json(items))
    )
}

/// User message of a Prague translation (2-space indented JSON).
pub fn prague_user_prompt(items: &[Item]) -> String {
    format!(
        "Translate the following items.\nReturn JSON: {{\"items\":[{{\"path\":\"...\",\"value\":\"...\"}}, ...]}}\n\n{}",
        js_stringify_pretty(&items_json(items))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowlist::EntryType;

    fn one() -> Vec<Item> {
        vec![Item {
            path: "title".into(),
            kind: EntryType::Richtext,
            value: "Hi \"you\"".into(),
        }]
    }

    #[test]
    fn instance_user_prompt_is_exact() {
        assert_eq!(
            instance_user_prompt(&one()),
            "Translate the following items.\nReturn JSON array: [{\"path\":\"...\",\"value\":\"...\"},...]\n\n[{\"path\":\"title\",\"type\":\"richtext\",\"value\":\"Hi \\\"you\\\"\"}]"
        );
    }

    #[test]
    fn prague_user_prompt_is_exact() {
        assert_eq!(
            prague_user_prompt(&one()),
            "Translate the following items.\nReturn JSON: {\"items\":[{\"path\":\"...\",\"value\":\"...\"}, ...]}\n\n[\n  {\n    \"path\": \"title\",\n    \"type\": \"richtext\",\n    \"value\": \"Hi \\\"you\\\"\"\n  }\n]"
        );
    }

    #[test]
    fn system_prompts_name_the_locale() {
        assert!(instance_system_prompt("fr-fr").contains("Target locale: fr-fr."));
        let p = prague_system_prompt("de", "home", "hero");
        assert!(p.contains("chunkKey=home, blockKind=hero"));
    }
}
