//! Deciding what a job has to do (CONTRACT 7.4 steps 8-11): which paths to
//! translate, copy or remove, and whether there is anything to do at all.

use std::collections::HashMap;

use crate::allowlist::{Entry, EntryType, Item};
use crate::batch::check_job_size;
use crate::error::L10nError;
use crate::js::js_trim;
use crate::literal::is_copied_literal;
use crate::overlay::{ExistingOverlay, SetOp};
use crate::paths::expand_patterns;
use crate::richtext::{mask_tags, MaskPlan};

/// A job that needs no model call and no write; the reason is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Everything was asked, the overlay already has this fingerprint, nothing removed.
    AlreadyLocalized,
    /// Only some paths were asked and none (nor any removal) remained.
    NoChanges,
    /// The widget has no allowlisted strings.
    NoTranslatables,
}

impl Skip {
    /// The R2 log's `reason`.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::AlreadyLocalized => "already_localized",
            Skip::NoChanges => "no_changes",
            Skip::NoTranslatables => "no_translatables",
        }
    }
}

/// The work of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// `changedPaths` was absent: the whole allowlist is (re)translated.
    pub translate_all: bool,
    /// Paths (or patterns) to drop from the overlay.
    pub removed: Vec<String>,
    /// Values set without a model: blanks and copied literals.
    pub copied: Vec<SetOp>,
    /// Items for the model; masked richtext is sent as a plain string.
    pub to_translate: Vec<Item>,
    /// Tag masks of the richtext items in `to_translate`, by path.
    pub masks: HashMap<String, MaskPlan>,
}

/// What a v2 job asks beyond "translate everything".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// `None`: translate everything; `Some`: only these paths/patterns.
    pub changed: Option<Vec<String>>,
    pub removed: Vec<String>,
}

/// Plans a job from the current entries, the existing overlay and the job's
/// changes. Oversized work is refused here, before any model call.
pub fn plan_work(
    entries: &[Entry],
    existing: Option<&ExistingOverlay>,
    changes: &Changes,
    base_fingerprint: &str,
) -> Result<Result<Work, Skip>, L10nError> {
    let mut candidates: Vec<String> = entries.iter().map(|e| e.path.clone()).collect();
    for op in existing.map(|e| e.ops.as_slice()).unwrap_or_default() {
        if !op.path.is_empty() && !candidates.contains(&op.path) {
            candidates.push(op.path.clone());
        }
    }
    let keep = |v: &Vec<String>| -> Vec<String> {
        v.iter()
            .filter(|p| !js_trim(p).is_empty())
            .cloned()
            .collect()
    };
    let changed = changes
        .changed
        .as_ref()
        .map(|c| expand_patterns(&keep(c), &candidates));
    let mut removed = expand_patterns(&keep(&changes.removed), &candidates);
    let translate_all = changed.is_none();
    let targets: Vec<String> =
        changed.unwrap_or_else(|| entries.iter().map(|e| e.path.clone()).collect());

    let fingerprint_match = existing
        .and_then(|e| e.base_fingerprint.as_deref())
        .is_some_and(|fp| !fp.is_empty() && fp == base_fingerprint);
    if translate_all && fingerprint_match && removed.is_empty() {
        return Ok(Err(Skip::AlreadyLocalized));
    }
    if !translate_all && targets.is_empty() && removed.is_empty() {
        return Ok(Err(Skip::NoChanges));
    }

    let by_path: HashMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
    let mut work = Work {
        translate_all,
        removed: Vec::new(),
        copied: Vec::new(),
        to_translate: Vec::new(),
        masks: HashMap::new(),
    };
    for path in &targets {
        let Some(entry) = by_path.get(path.as_str()) else {
            if !removed.contains(path) {
                removed.push(path.clone());
            }
            continue;
        };
        if js_trim(&entry.value).is_empty() {
            work.copied.push(SetOp {
                path: entry.path.clone(),
                value: String::new(),
            });
            continue;
        }
        if is_copied_literal(&entry.value) {
            work.copied.push(SetOp {
                path: entry.path.clone(),
                value: entry.value.clone(),
            });
            continue;
        }
        if entry.kind == EntryType::Richtext {
            if let Some(mask) = mask_tags(&entry.value) {
                work.to_translate.push(Item {
                    path: entry.path.clone(),
                    kind: EntryType::String,
                    value: mask.masked.clone(),
                });
                work.masks.insert(entry.path.clone(), mask);
                continue;
            }
        }
        work.to_translate.push((*entry).clone());
    }
    work.removed = removed;
    if entries.is_empty() {
        return Ok(Err(Skip::NoTranslatables));
    }
    check_job_size(&work.to_translate)?;
    Ok(Ok(work))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(p: &str, k: EntryType, v: &str) -> Entry {
        Entry {
            path: p.into(),
            kind: k,
            value: v.into(),
        }
    }

    fn entries() -> Vec<Entry> {
        vec![
            e("title", EntryType::String, "Hello"),
            e("blank", EntryType::String, "  "),
            e("link", EntryType::String, "https://x.y"),
            e("body", EntryType::Richtext, "<b>Bold</b> text"),
            e("items.0.q", EntryType::String, "Q1"),
            e("items.1.q", EntryType::String, "Q2"),
        ]
    }

    #[test]
    fn translate_all_classifies() {
        let got = plan_work(&entries(), None, &Changes::default(), "fp");
        let Ok(Ok(work)) = got else {
            panic!("expected work: {got:?}")
        };
        assert!(work.translate_all);
        assert_eq!(
            work.copied,
            vec![
                SetOp {
                    path: "blank".into(),
                    value: String::new()
                },
                SetOp {
                    path: "link".into(),
                    value: "https://x.y".into()
                }
            ]
        );
        let paths: Vec<&str> = work.to_translate.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, vec!["title", "body", "items.0.q", "items.1.q"]);
        assert_eq!(
            work.to_translate[1].value,
            "{{__CK_L10N_TAG_0__}}Bold{{__CK_L10N_TAG_1__}} text"
        );
        assert_eq!(work.to_translate[1].kind, EntryType::String);
        assert!(work.masks.contains_key("body"));
    }

    #[test]
    fn skips() {
        let existing = ExistingOverlay {
            base_fingerprint: Some("fp".into()),
            ops: vec![],
        };
        assert_eq!(
            plan_work(&entries(), Some(&existing), &Changes::default(), "fp"),
            Ok(Err(Skip::AlreadyLocalized))
        );
        let none = Changes {
            changed: Some(vec!["nothing.*".into()]),
            removed: vec![],
        };
        assert_eq!(
            plan_work(&entries(), None, &none, "fp"),
            Ok(Err(Skip::NoChanges))
        );
        assert_eq!(
            plan_work(&[], None, &Changes::default(), "fp"),
            Ok(Err(Skip::NoTranslatables))
        );
    }

    #[test]
    fn changed_and_removed_patterns() {
        let existing = ExistingOverlay {
            base_fingerprint: Some("old".into()),
            ops: vec![SetOp {
                path: "items.2.q".into(),
                value: "x".into(),
            }],
        };
        let changes = Changes {
            changed: Some(vec!["items.*.q".into(), "gone".into()]),
            removed: vec!["items.*.q".into()],
        };
        let got = plan_work(&entries(), Some(&existing), &changes, "fp");
        let Ok(Ok(work)) = got else {
            panic!("expected work: {got:?}")
        };
        assert!(!work.translate_all);
        let paths: Vec<&str> = work.to_translate.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, vec!["items.0.q", "items.1.q"]);
        assert_eq!(
            work.removed,
            vec!["items.0.q", "items.1.q", "items.2.q", "gone"]
        );
    }

    #[test]
    fn oversized_job_is_refused_before_any_call() {
        let many: Vec<Entry> = (0..801)
            .map(|i| e(&format!("p{i}"), EntryType::String, "Hi"))
            .collect();
        assert_eq!(
            plan_work(&many, None, &Changes::default(), "fp")
                .err()
                .map(|e| e.message),
            Some("Too many translatable items (801)".into())
        );
    }
}
