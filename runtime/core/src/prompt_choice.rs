//! Which prompt one execution runs (the learning loop's choice, made before
//! the agent runs and recorded on its interaction event).

use serde_json::{json, Value};

use crate::template;

/// One few-shot example from the agent's example bank.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FewShot {
    pub request_id: String,
    pub widget_type: Option<String>,
    /// Compact text of the request that worked.
    pub input: String,
    /// Compact text of the answer that worked.
    pub output: String,
}

/// The prompt version an execution runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromptChoice {
    /// The version: the policy's baseline version or an `sf_prompts` version.
    pub version: String,
    /// The text of a stored version; `None` runs the policy's prompt file.
    pub text: Option<String>,
    /// The experiment whose split chose the version, if any.
    pub experiment_id: Option<String>,
    /// Few-shot examples to show the model, best first.
    pub examples: Vec<FewShot>,
}

impl PromptChoice {
    /// The policy's baseline of an agent with a prompt.
    pub fn baseline(version: &str) -> Self {
        PromptChoice {
            version: version.to_owned(),
            ..PromptChoice::default()
        }
    }

    /// Whether this runs a stored version rather than the policy's file.
    pub fn is_stored(&self) -> bool {
        self.text.is_some()
    }

    /// The examples as one prompt block (empty without examples).
    pub fn examples_block(&self) -> String {
        if self.examples.is_empty() {
            return String::new();
        }
        let mut out = String::from(
            "Examples of requests and answers that worked well (follow their style, not their content):",
        );
        for (i, e) in self.examples.iter().enumerate() {
            out.push_str(&format!(
                "\nExample {}:\nRequest: {}\nAnswer: {}",
                i + 1,
                e.input,
                e.output
            ));
        }
        out
    }

    /// The instruction text: the stored version's (or `baseline`, the
    /// policy's file), placeholders filled, the examples where
    /// `{{examples}}` stands or else after the instructions.
    pub fn render(&self, baseline: &str, locale: &str) -> String {
        let body = self.text.as_deref().unwrap_or(baseline);
        let examples = self.examples_block();
        let mut text = template::render(body, &[("examples", &examples), ("locale", locale)]);
        if !examples.is_empty() && !template::uses(body, "examples") {
            text.push('\n');
            text.push_str(&examples);
        }
        text
    }

    /// The fields the interaction event carries: `promptVersion` (the
    /// version actually run), `experimentId` and `exampleIds` (the examples
    /// shown, only when the model was called).
    pub fn event_fields(&self, model_called: bool) -> Value {
        let ids: Vec<&str> = if model_called {
            self.examples
                .iter()
                .map(|e| e.request_id.as_str())
                .collect()
        } else {
            Vec::new()
        };
        json!({
            "promptVersion": self.version,
            "experimentId": self.experiment_id,
            "exampleIds": ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_and_fields() {
        let mut c = PromptChoice::baseline("b1");
        assert!(!c.is_stored());
        assert_eq!(c.examples_block(), "");
        c.examples.push(FewShot {
            request_id: "r1".into(),
            widget_type: Some("faq".into()),
            input: "make it shorter".into(),
            output: "{\"message\":\"Done\"}".into(),
        });
        assert!(c
            .examples_block()
            .ends_with("Example 1:\nRequest: make it shorter\nAnswer: {\"message\":\"Done\"}"));
        assert_eq!(
            c.event_fields(true),
            json!({"promptVersion":"b1","experimentId":null,"exampleIds":["r1"]})
        );
        assert_eq!(c.event_fields(false)["exampleIds"], json!([]));
    }
}
