//! The page reader personalization uses: the copilot's guarded page fetch
//! (every hop checked by `sf_core::net`, `PublicOnly` on every request),
//! handed to `sf-personalization` through its own trait so the two features
//! stay independent.

use std::rc::Rc;

use sf_copilot::page::{fetch_document, html_to_text, PageError as CopilotError};
use sf_core::ports::Host;
use sf_core::Isolate;
use sf_personalization::jobs::Readers;
use sf_personalization::sources::Unconfigured;
use sf_personalization::{Page, PageError, PageReader};

pub struct HostPages<H: Host>(Rc<Isolate<H>>);

impl<H: Host> PageReader for HostPages<H> {
    async fn read(&self, url: &str, timeout_ms: u64, max_bytes: usize) -> Result<Page, PageError> {
        let host = self.0.host();
        let doc = fetch_document(host.fetch(), host.clock(), url, timeout_ms, max_bytes)
            .await
            .map_err(|e| match e {
                CopilotError::Blocked(r) => PageError::Blocked(r),
                CopilotError::Status(s) => PageError::Status(s),
                CopilotError::Failed(m) => PageError::Failed(m),
            })?;
        let text = if doc.is_html {
            html_to_text(&doc.body).1
        } else {
            doc.body.clone()
        };
        Ok(Page {
            final_url: doc.final_url,
            html: doc.body,
            text,
        })
    }
}

/// The readers of this build: guarded page reads, no social sources (none
/// has a public API without keys).
pub fn readers<H: Host>(iso: &Rc<Isolate<H>>) -> Readers<HostPages<H>, Unconfigured> {
    Readers {
        pages: HostPages(Rc::clone(iso)),
        sources: Unconfigured,
    }
}
