//! The error envelope every route answers with:
//! `{"error":{"code","message","issues"?,"provider"?}}` (CONTRACT.md section 0).

use serde::Serialize;

/// Wire error codes. The strings are fixed by the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    #[serde(rename = "BAD_REQUEST")]
    BadRequest,
    #[serde(rename = "GRANT_INVALID")]
    GrantInvalid,
    #[serde(rename = "GRANT_EXPIRED")]
    GrantExpired,
    #[serde(rename = "CAPABILITY_DENIED")]
    CapabilityDenied,
    #[serde(rename = "BUDGET_EXCEEDED")]
    BudgetExceeded,
    #[serde(rename = "PROVIDER_ERROR")]
    ProviderError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::BadRequest,
        ErrorCode::GrantInvalid,
        ErrorCode::GrantExpired,
        ErrorCode::CapabilityDenied,
        ErrorCode::BudgetExceeded,
        ErrorCode::ProviderError,
    ];

    /// The wire string (`"BAD_REQUEST"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::GrantInvalid => "GRANT_INVALID",
            ErrorCode::GrantExpired => "GRANT_EXPIRED",
            ErrorCode::CapabilityDenied => "CAPABILITY_DENIED",
            ErrorCode::BudgetExceeded => "BUDGET_EXCEEDED",
            ErrorCode::ProviderError => "PROVIDER_ERROR",
        }
    }

    pub fn from_name(s: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

impl Issue {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// An error that becomes an HTTP response. Messages are user-visible (Bob shows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
    pub issues: Vec<Issue>,
    /// Set for `PROVIDER_ERROR`: the provider name or `"sanfrancisco"` / `"tokyo"`.
    pub provider: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            issues: Vec::new(),
            provider: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::BadRequest, message)
    }
    pub fn not_found() -> Self {
        Self::new(404, ErrorCode::BadRequest, "Not found")
    }
    pub fn grant_invalid(message: impl Into<String>) -> Self {
        Self::new(401, ErrorCode::GrantInvalid, message)
    }
    pub fn denied(status: u16, message: impl Into<String>) -> Self {
        Self::new(status, ErrorCode::CapabilityDenied, message)
    }
    pub fn budget(message: impl Into<String>) -> Self {
        Self::new(429, ErrorCode::BudgetExceeded, message)
    }
    /// `status` is 500 for our own faults (missing config) and 502 for upstream ones.
    pub fn provider(status: u16, provider: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(status, ErrorCode::ProviderError, message);
        e.provider = Some(provider.into());
        e
    }
    /// A required secret or setting is absent: 500 naming the variable.
    pub fn missing_var(name: &str) -> Self {
        Self::provider(500, "sanfrancisco", format!("Missing {name}"))
    }
    pub fn unhandled() -> Self {
        Self::provider(500, "sanfrancisco", "Unhandled error")
    }
    pub fn with_issues(mut self, issues: Vec<Issue>) -> Self {
        self.issues = issues;
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut inner = serde_json::Map::new();
        inner.insert(
            "code".into(),
            serde_json::to_value(self.code).unwrap_or_default(),
        );
        if let Some(p) = &self.provider {
            inner.insert("provider".into(), p.clone().into());
        }
        inner.insert("message".into(), self.message.clone().into());
        if !self.issues.is_empty() {
            inner.insert(
                "issues".into(),
                serde_json::to_value(&self.issues).unwrap_or_default(),
            );
        }
        serde_json::json!({ "error": inner })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Why a queue message was not processed. `Retry` asks the host to redeliver it
/// later; `Reject` sends it to the dead-letter store at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeError {
    Retry(String),
    Reject(String),
}
