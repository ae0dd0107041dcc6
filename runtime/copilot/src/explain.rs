//! Explanations built from the controls, without a model (CONTRACT 7.3.4 row 7).

use serde_json::{Map, Value};

use super::input::Control;
use super::text::{fold, has_any_word, words};

/// Words that make a prompt an edit request rather than a question.
pub const EDIT_VERBS: [&str; 15] = [
    "change",
    "make",
    "set",
    "update",
    "adjust",
    "edit",
    "add",
    "remove",
    "delete",
    "rewrite",
    "rephrase",
    "translate",
    "localize",
    "style",
    "apply",
];

const QUESTION_OPENERS: [&str; 17] = [
    "what", "why", "how", "when", "where", "which", "who", "is", "are", "can", "could", "does",
    "do", "should", "would", "will", "explain",
];

/// A question about the widget rather than a change to it.
pub fn is_explain_intent(prompt: &str) -> bool {
    let w = words(prompt);
    if has_any_word(&w, &EDIT_VERBS) {
        return false;
    }
    prompt.contains('?')
        || w.first()
            .is_some_and(|f| QUESTION_OPENERS.contains(&f.as_str()))
        || has_any_word(&w, &["help", "explain", "meaning", "what does"])
}

/// A short, readable rendering of a current value.
fn show_value(v: Option<&Value>) -> String {
    match v {
        None => "not set".into(),
        Some(Value::String(s)) => format!("“{}”", super::text::clip(s, 80)),
        Some(Value::Bool(true)) => "on".into(),
        Some(Value::Bool(false)) => "off".into(),
        Some(other) => super::text::clip(&other.to_string(), 80).to_owned(),
    }
}

fn value_at<'a>(config: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut segs = path.split('.');
    let mut cur = config.get(segs.next()?)?;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get(s)?,
            Value::Array(a) => a.get(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn kind_phrase(c: &Control) -> String {
    match c.kind.as_deref() {
        Some("boolean") => "an on/off switch".into(),
        Some("color") => "a color".into(),
        Some("number") => match (c.min, c.max) {
            (Some(a), Some(b)) => format!("a number from {a} to {b}"),
            _ => "a number".into(),
        },
        Some("enum") => {
            format!("a choice between {}", c.choices(8).join(", "))
        }
        Some("array") => "a list".into(),
        _ => "a text field".into(),
    }
}

fn control_sentence(c: &Control, config: &Map<String, Value>) -> String {
    let label = c.display();
    let mut s = format!(
        "“{label}” is {} (path {}). Right now it is {}.",
        kind_phrase(c),
        c.path,
        show_value(value_at(config, &c.path))
    );
    let l = fold(label);
    if c.kind.as_deref() == Some("boolean") && l.contains("multi") {
        s.push_str(" When it is on, several answers can be open at the same time; when off, opening one answer closes the others.");
    } else if l.contains("stage") {
        s.push_str(" The stage is the area around the widget.");
    } else if l.contains("pod") {
        s.push_str(" The pod is the widget's own card, inside the stage.");
    }
    s.push_str(" Tell me what you'd like it to be and I'll change it.");
    s
}

/// The controls the prompt names, best (longest label) first.
fn mentioned<'a>(prompt: &str, controls: &'a [Control]) -> Option<&'a Control> {
    let w = words(prompt);
    controls
        .iter()
        .filter(|c| {
            let label_hit = c
                .label
                .as_deref()
                .is_some_and(|l| super::text::has_phrase(&w, l));
            let path_hit = super::text::has_phrase(&w, &c.path.replace(['.', '_'], " "));
            label_hit || path_hit
        })
        .max_by_key(|c| c.display().len())
}

/// The answer to an explain-intent prompt.
pub fn explain_message(prompt: &str, controls: &[Control], config: &Map<String, Value>) -> String {
    if let Some(c) = mentioned(prompt, controls) {
        return control_sentence(c, config);
    }
    let w = words(prompt);
    if has_any_word(&w, &["expand all", "expand first"]) {
        return "These are the FAQ's opening modes. Expand all opens every answer when the widget loads. \
                Expand first opens only the first answer and leaves the rest closed. \
                Otherwise every answer starts closed until a visitor clicks its question."
            .into();
    }
    if has_any_word(&w, &["accordion", "accordions"]) {
        return "An accordion is a list of questions whose answers are collapsible: a visitor clicks a question \
                to open its answer and clicks again to close it. It keeps long FAQs compact."
            .into();
    }
    let labels: Vec<&str> = controls.iter().map(Control::display).take(8).collect();
    if labels.is_empty() {
        return "I can explain and change this widget's settings, but none are editable here yet."
            .into();
    }
    format!(
        "I can change this widget through its editable controls: {}. Ask me what any of them does, or tell me what to change.",
        labels.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_without_edit_verbs_are_explain() {
        assert!(is_explain_intent("What does multi-open do?"));
        assert!(is_explain_intent("how do accordions work"));
        assert!(is_explain_intent("help"));
        assert!(!is_explain_intent("Can you change the title?"));
        assert!(!is_explain_intent("Make the background red"));
        assert!(!is_explain_intent("Shorter title please"));
    }
}
