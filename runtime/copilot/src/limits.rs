//! The light-edit policy (CONTRACT 7.3.8 step 6): a copilot turn changes
//! one area of the widget, a bounded number of fields, and asks before
//! touching embed/script/HTML settings. Edits over a limit are not dropped
//! silently: scope, group and sensitive cases become a pending decision the
//! next turn can settle (pipeline step 2).
//!
//! The numbers include the original's "TEMP 5x" multiplier, which is live
//! behaviour at ccf97ff8 (CONTRACT 15.18), so Bob users see the same limits.

use serde_json::Value;

use super::input::Control;
use super::messages;
use super::ops::{find_control, op_path};
use super::session::{GroupRef, PendingPolicy};
use super::text::{fold, words};

pub const MAX_OPS_CONTENT: usize = 150;
pub const MAX_OPS: usize = 30;
pub const MAX_PATHS_CONTENT: usize = 100;
pub const MAX_PATHS: usize = 20;
pub const MAX_GROUPS_CONTENT: usize = 15;
pub const MAX_GROUPS: usize = 5;

/// `stage`, `pod` or `content`.
pub fn scope_of(path: &str) -> &'static str {
    if path.starts_with("stage.") || path == "stage" {
        "stage"
    } else if path.starts_with("pod.") || path == "pod" {
        "pod"
    } else {
        "content"
    }
}

/// Paths that can carry markup or code into a customer's page.
pub fn is_sensitive(path: &str) -> bool {
    path.split(|c: char| !c.is_ascii_alphanumeric()).any(|seg| {
        matches!(
            seg.to_ascii_lowercase().as_str(),
            "script" | "html" | "embed"
        )
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok,
    /// Refused outright; the message says why.
    Refused(String),
    /// Held until the user picks or confirms.
    Pending(PendingPolicy, String),
}

fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn group_of(controls: &[Control], path: &str) -> Option<GroupRef> {
    let c = find_control(controls, path)?;
    let key = c.group_key()?.to_owned();
    let label = c.group_label.clone().unwrap_or_else(|| key.clone());
    Some(GroupRef { key, label })
}

pub fn check(ops: &[Value], controls: &[Control], now_ms: u64) -> Verdict {
    let paths: Vec<&str> = ops.iter().map(op_path).collect();
    let scopes: Vec<String> = distinct(paths.iter().map(|p| scope_of(p).to_owned()));
    let content_only = scopes.iter().all(|s| s == "content");
    let (max_ops, max_paths, max_groups) = if content_only {
        (MAX_OPS_CONTENT, MAX_PATHS_CONTENT, MAX_GROUPS_CONTENT)
    } else {
        (MAX_OPS, MAX_PATHS, MAX_GROUPS)
    };
    if ops.len() > max_ops {
        return Verdict::Refused(messages::too_many_ops(ops.len(), max_ops));
    }
    let unique = distinct(paths.iter().copied());
    if unique.len() > max_paths {
        return Verdict::Refused(messages::too_many_paths(unique.len(), max_paths));
    }
    let pending = |kind: &str, scopes: Vec<String>, groups: Vec<GroupRef>| PendingPolicy {
        kind: kind.into(),
        created_at_ms: now_ms,
        ops: ops.to_vec(),
        scopes,
        groups,
    };
    let sensitive: Vec<String> = unique
        .iter()
        .filter(|p| is_sensitive(p))
        .map(|p| (*p).to_owned())
        .collect();
    if !sensitive.is_empty() {
        return Verdict::Pending(
            pending("sensitive", Vec::new(), Vec::new()),
            messages::confirm_sensitive(&sensitive),
        );
    }
    if scopes.len() > 1 {
        let msg = messages::pick_scope(&scopes);
        return Verdict::Pending(pending("scope", scopes, Vec::new()), msg);
    }
    let groups = distinct(paths.iter().filter_map(|p| group_of(controls, p)));
    if groups.len() > max_groups {
        let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
        return Verdict::Pending(
            pending("group", Vec::new(), groups),
            messages::pick_group(&labels),
        );
    }
    Verdict::Ok
}

/// The scope a reply picks among `offered`: the bare word, or a sentence
/// naming exactly one offered scope.
pub fn picked_scope(prompt: &str, offered: &[String]) -> Option<String> {
    let p = prompt.trim().to_lowercase();
    if offered.contains(&p) {
        return Some(p);
    }
    let w = words(prompt);
    let named: Vec<&String> = offered.iter().filter(|s| w.contains(s)).collect();
    match named.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

fn norm_label(s: &str) -> String {
    words(&fold(s)).join(" ")
}

/// The group a reply picks: its number (1-based) or its label.
pub fn picked_group<'a>(prompt: &str, groups: &'a [GroupRef]) -> Option<&'a GroupRef> {
    let p = prompt.trim();
    if let Ok(n) = p.trim_end_matches('.').parse::<usize>() {
        return n.checked_sub(1).and_then(|i| groups.get(i));
    }
    let np = norm_label(p);
    groups
        .iter()
        .find(|g| norm_label(&g.label) == np || norm_label(&g.key) == np)
}

/// The pending ops that belong to `scope`.
pub fn ops_in_scope(ops: &[Value], scope: &str) -> Vec<Value> {
    ops.iter()
        .filter(|o| scope_of(op_path(o)) == scope)
        .cloned()
        .collect()
}

/// The pending ops that belong to `group`.
pub fn ops_in_group(ops: &[Value], controls: &[Control], group: &GroupRef) -> Vec<Value> {
    ops.iter()
        .filter(|o| group_of(controls, op_path(o)).is_some_and(|g| g.key == group.key))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctl(path: &str, group: &str) -> Control {
        Control {
            path: path.into(),
            kind: Some("color".into()),
            group_id: Some(group.into()),
            ..Control::default()
        }
    }

    #[test]
    fn two_scopes_become_a_pending_pick() {
        let ops = [
            json!({"op":"set","path":"stage.background","value":"#000"}),
            json!({"op":"set","path":"pod.background","value":"#fff"}),
        ];
        match check(&ops, &[], 7) {
            Verdict::Pending(p, msg) => {
                assert_eq!(
                    (p.kind.as_str(), p.scopes.clone(), p.created_at_ms),
                    ("scope", vec!["stage".to_owned(), "pod".to_owned()], 7)
                );
                assert!(msg.contains("stage, pod"));
                assert_eq!(picked_scope("stage", &p.scopes).as_deref(), Some("stage"));
                assert_eq!(
                    picked_scope("the pod one please", &p.scopes).as_deref(),
                    Some("pod")
                );
                assert_eq!(picked_scope("both stage and pod", &p.scopes), None);
                assert_eq!(ops_in_scope(&p.ops, "stage"), vec![ops[0].clone()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_and_sensitive_paths() {
        let many: Vec<Value> = (0..31)
            .map(|i| json!({"op":"set","path":format!("pod.x{i}"),"value":"1"}))
            .collect();
        assert!(matches!(check(&many, &[], 0), Verdict::Refused(_)));
        let content: Vec<Value> = (0..31)
            .map(|i| json!({"op":"set","path":format!("items.{i}.t"),"value":"1"}))
            .collect();
        assert_eq!(check(&content, &[], 0), Verdict::Ok);
        assert!(
            is_sensitive("embed.code")
                && is_sensitive("custom_html")
                && !is_sensitive("header.subtitleHtml")
        );
        assert!(
            matches!(check(&[json!({"op":"set","path":"embed.code","value":"x"})], &[], 0), Verdict::Pending(p, _) if p.kind == "sensitive")
        );
    }

    #[test]
    fn too_many_groups_in_one_scope() {
        let controls: Vec<Control> = (0..6)
            .map(|i| ctl(&format!("pod.p{i}"), &format!("g{i}")))
            .collect();
        let ops: Vec<Value> = (0..6)
            .map(|i| json!({"op":"set","path":format!("pod.p{i}"),"value":"#000"}))
            .collect();
        match check(&ops, &controls, 0) {
            Verdict::Pending(p, _) => {
                assert_eq!(p.groups.len(), 6);
                let g = picked_group("2", &p.groups).cloned();
                assert_eq!(g.as_ref().map(|g| g.key.as_str()), Some("g1"));
                assert_eq!(
                    picked_group("G3", &p.groups).map(|g| g.key.as_str()),
                    Some("g3")
                );
                assert_eq!(
                    ops_in_group(&p.ops, &controls, &p.groups[1]),
                    vec![ops[1].clone()]
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
