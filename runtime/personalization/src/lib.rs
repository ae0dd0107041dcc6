//! San Francisco personalization (CONTRACT 2.4-2.7, 7.6, 7.7, 10.1, 10.5).
//!
//! Two background jobs started by Paris, over HTTP or its command queue, and
//! polled by job id:
//! - `personalization.preview.enqueue` ([`preview`]): read a prospect's page,
//!   derive brand signals, ask the model for copy overrides (a deterministic
//!   fallback when it fails);
//! - `personalization.onboarding.enqueue` ([`onboarding`]): read up to five
//!   pages of a workspace's site, ask the model for a business profile,
//!   sanitise it and store it in Paris.
//!
//! Entry points for the composition root: [`jobs::preview_route`],
//! [`jobs::onboarding_route`] (after the route's bearer check) and
//! [`jobs::consume`] (a queue command, run inline). Pages are read through
//! the [`PageReader`] the root supplies; the network guard's URL checks are
//! the core's (`sf_core::net`).
//!
//! Choices that differ from the original (CONTRACT 15):
//! - the envelope is accepted without `v`/`kind` (Paris' HTTP fallback, 4.6);
//! - job records, logs and dead letters never hold the grant: the verified
//!   grant lives only in memory while the job runs;
//! - the business-profile write carries `x-ck-internal-service`, so Paris
//!   accepts it (10.5);
//! - Google Business Profile, Facebook and Instagram are [`sources`] the host
//!   may plug in; without one the job says so in `notes` instead of guessing.
#![allow(async_fn_in_trait)] // futures are intentionally !Send, see sf_core::ports

pub mod head;
pub mod input;
pub mod jobs;
pub mod onboarding;
pub mod overrides;
pub mod paris;
pub mod preview;
pub mod record;
pub mod sources;

#[cfg(test)]
mod tests;

/// One page as the reader fetched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub final_url: String,
    /// The body as received (cut at the reader's limit); HTML or plain text.
    pub html: String,
    /// The body's words (HTML turned into text).
    pub text: String,
}

/// Why a page could not be read; for notes and logs, never for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The guard refused the URL or a redirect target (reason code).
    Blocked(String),
    /// The final response was not 2xx.
    Status(u16),
    Failed(String),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::Blocked(r) => write!(f, "blocked: {r}"),
            PageError::Status(s) => write!(f, "HTTP {s}"),
            PageError::Failed(m) => write!(f, "{m}"),
        }
    }
}

/// Reads one public page through the network guard (every hop checked,
/// redirects followed, one deadline, at most `max_bytes` bytes).
pub trait PageReader {
    async fn read(&self, url: &str, timeout_ms: u64, max_bytes: usize) -> Result<Page, PageError>;
}

/// Bytes read for a page's head (CONTRACT 9.3).
pub const HEAD_MAX_BYTES: usize = 60_000;
/// Bytes read for a page's text snippet (CONTRACT 9.3).
pub const SNIPPET_MAX_BYTES: usize = 80_000;

/// Cuts `s` to at most `max` characters.
pub(crate) fn cut_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Runs of white space collapsed to one space, trimmed.
pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
