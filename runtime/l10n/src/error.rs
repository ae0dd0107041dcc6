//! Errors with the contract's wire shape (CONTRACT 0.2):
//! `{"error":{"code","message","issues"?,"provider"?}}` plus an HTTP status.

use serde_json::{json, Map, Value};

/// An error the gateway can answer with, or a job can record as its reason.
/// `message` is a wire fact (Paris and scripts read it); never put a grant or
/// a secret into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L10nError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub provider: Option<String>,
    /// `[{path, message}]` for `400 Invalid l10n jobs`.
    pub issues: Vec<Issue>,
}

/// One entry of `error.issues`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

impl L10nError {
    /// `400 BAD_REQUEST`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "BAD_REQUEST",
            message: message.into(),
            provider: None,
            issues: Vec::new(),
        }
    }

    /// `502 PROVIDER_ERROR` blamed on `provider` (`paris`, `tokyo`, `openai`, ...).
    pub fn provider(provider: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: 502,
            code: "PROVIDER_ERROR",
            message: message.into(),
            provider: Some(provider.into()),
            issues: Vec::new(),
        }
    }

    /// `500 PROVIDER_ERROR` from `sanfrancisco` itself, e.g. `Missing OPENAI_API_KEY`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: 500,
            ..Self::provider("sanfrancisco", message)
        }
    }

    /// The original's catch-all: `500 PROVIDER_ERROR(sanfrancisco) "Unhandled error"`.
    pub fn unhandled() -> Self {
        Self::internal("Unhandled error")
    }

    /// `429 BUDGET_EXCEEDED`.
    pub fn budget(message: impl Into<String>) -> Self {
        Self {
            status: 429,
            code: "BUDGET_EXCEEDED",
            message: message.into(),
            provider: None,
            issues: Vec::new(),
        }
    }

    pub fn with_issues(mut self, issues: Vec<Issue>) -> Self {
        self.issues = issues;
        self
    }

    /// The response body, keys in the original's order.
    pub fn to_body(&self) -> Value {
        let mut err = Map::new();
        err.insert("code".into(), json!(self.code));
        if let Some(p) = &self.provider {
            err.insert("provider".into(), json!(p));
        }
        err.insert("message".into(), json!(self.message));
        if !self.issues.is_empty() {
            let issues: Vec<Value> = self
                .issues
                .iter()
                .map(|i| json!({"path": i.path, "message": i.message}))
                .collect();
            err.insert("issues".into(), Value::Array(issues));
        }
        json!({ "error": Value::Object(err) })
    }
}

impl std::fmt::Display for L10nError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for L10nError {}

impl From<sf_core::error::ApiError> for L10nError {
    /// A gateway error (the model layer's budgets, a grant) as an l10n error,
    /// with the same status, code, message and provider.
    fn from(e: sf_core::error::ApiError) -> Self {
        Self {
            status: e.status,
            code: e.code.name(),
            message: e.message,
            provider: e.provider,
            issues: e
                .issues
                .into_iter()
                .map(|i| Issue {
                    path: i.path,
                    message: i.message,
                })
                .collect(),
        }
    }
}

/// Why an outbound call through [`crate::io`] did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoFailure {
    /// The call's deadline passed (the translate route answers `429 "Execution timeout exceeded"`).
    Timeout,
    /// The request could not be made or the response not read; the text is
    /// recorded as a job's reason, so it must hold no secret.
    Network(String),
    /// The host lacks a setting, e.g. `Missing PARIS_BASE_URL` (answered as `500`).
    Config(String),
}

impl IoFailure {
    /// The text a job records as its `reason`.
    pub fn message(&self) -> String {
        match self {
            IoFailure::Timeout => "Execution timeout exceeded".to_owned(),
            IoFailure::Network(m) | IoFailure::Config(m) => m.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let e = L10nError::bad_request("Invalid l10n jobs").with_issues(vec![Issue {
            path: "jobs[0]".into(),
            message: "invalid l10n job".into(),
        }]);
        assert_eq!(
            serde_json::to_string(&e.to_body()).ok().as_deref(),
            Some(
                r#"{"error":{"code":"BAD_REQUEST","message":"Invalid l10n jobs","issues":[{"path":"jobs[0]","message":"invalid l10n job"}]}}"#
            )
        );
        assert_eq!(L10nError::unhandled().status, 500);
        assert_eq!(
            L10nError::unhandled().to_body()["error"]["provider"],
            "sanfrancisco"
        );
    }
}
