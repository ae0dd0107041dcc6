//! Policy names -> Rust identifiers. `sdr.widget.copilot.v1` becomes
//! `SdrWidgetCopilotV1` / `sdr_widget_copilot_v1`, `debug.grantProbe` becomes
//! `DebugGrantProbe`, `gpt-5.2` becomes `Gpt52`.

/// Words split on any non-alphanumeric character and on lower->upper case
/// boundaries (camelCase ids are common in the contract).
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// UpperCamelCase; `None` when nothing usable is left.
pub fn pascal(name: &str) -> Option<String> {
    let mut s = String::new();
    for w in words(name) {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            s.push(f.to_ascii_uppercase());
            s.extend(cs);
        }
    }
    if s.is_empty() {
        return None;
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'N');
    }
    Some(s)
}

/// snake_case; `None` when nothing usable is left or the result is a keyword.
pub fn snake(name: &str) -> Option<String> {
    let mut s = words(name).join("_");
    if s.is_empty() {
        return None;
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if is_keyword(&s) {
        return None;
    }
    Some(s)
}

pub fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_policy_names() {
        assert_eq!(
            pascal("sdr.widget.copilot.v1").as_deref(),
            Some("SdrWidgetCopilotV1")
        );
        assert_eq!(
            pascal("debug.grantProbe").as_deref(),
            Some("DebugGrantProbe")
        );
        assert_eq!(pascal("gpt-5.2").as_deref(), Some("Gpt52"));
        assert_eq!(
            pascal("amazon.nova-pro-v1:0").as_deref(),
            Some("AmazonNovaProV10")
        );
        assert_eq!(pascal("cloud-dev").as_deref(), Some("CloudDev"));
        assert_eq!(
            pascal("@cf/meta/llama-3.1-8b-instruct").as_deref(),
            Some("CfMetaLlama318bInstruct")
        );
        assert_eq!(
            snake("debug.grantProbe").as_deref(),
            Some("debug_grant_probe")
        );
        assert_eq!(snake("type"), None);
        assert_eq!(pascal("..."), None);
    }
}
