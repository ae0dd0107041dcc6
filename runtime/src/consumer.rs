//! The queue consumer (CONTRACT.md 10.2) and the scheduled jobs.
//!
//! One entry point for every queue this gateway consumes. Each message is
//! handled on its own and answers `Ok` (ack), `Retry` (redeliver later) or
//! `Reject` (dead-letter now): one bad message never re-runs its batch.

use std::rc::Rc;

use serde_json::Value;

use sf_core::commands::{self, Command};
use sf_core::error::ConsumeError;
use sf_core::policy;
use sf_core::ports::Host;
use sf_core::sf_log;
use sf_personalization::record::Kind;
use sf_records::{events, outcome, retention};

use crate::gateway::Gateway;

/// What a host stores in its dead-letter record: the message with every grant
/// token redacted.
pub use sf_records::events::redact_for_dead_letter;

pub async fn consume<H: Host>(
    gw: &Rc<Gateway<H>>,
    _queue: &str,
    body: Value,
) -> Result<(), ConsumeError> {
    if commands::is_command_shaped(&body) {
        let (command, payload) =
            commands::parse(&body).map_err(|e| ConsumeError::Reject(e.message))?;
        return match command {
            Command::OutcomeAttach => {
                let o = outcome::validate(payload).map_err(|e| ConsumeError::Reject(e.message))?;
                outcome::persist(gw.host().sql(), &o)
                    .await
                    .map_err(|e| ConsumeError::Retry(e.message))
            }
            Command::PreviewEnqueue => {
                sf_personalization::jobs::consume(
                    gw.isolate(),
                    Kind::Preview,
                    &crate::pages::readers(gw.isolate()),
                    payload,
                )
                .await
            }
            Command::OnboardingEnqueue => {
                sf_personalization::jobs::consume(
                    gw.isolate(),
                    Kind::Onboarding,
                    &crate::pages::readers(gw.isolate()),
                    payload,
                )
                .await
            }
        };
    }
    if body.get("grant").is_some() && body.get("publicId").is_some() {
        return sf_l10n::gateway::consume_job(gw.isolate(), &body).await;
    }
    events::store_event(gw.isolate(), &body).await
}

/// Runs the jobs the policy schedules on `cron` (`policy::SCHEDULED_JOBS`;
/// the host's cron triggers must use the same expressions). A job's failure
/// is logged and does not stop the others; the next firing tries again.
pub async fn scheduled<H: Host>(gw: &Rc<Gateway<H>>, cron: &str) {
    let jobs: Vec<&str> = policy::SCHEDULED_JOBS
        .iter()
        .filter(|(c, _)| c.trim() == cron.trim())
        .map(|(_, job)| *job)
        .collect();
    if jobs.is_empty() {
        sf_log!(
            "scheduled: no job is scheduled on cron {cron:?} (policy/endpoints.yaml scheduledJobs)"
        );
    }
    for job in jobs {
        run_job(gw, job).await;
    }
}

/// Runs one named job now (the scheduler, or an operator).
pub async fn run_job<H: Host>(gw: &Rc<Gateway<H>>, job: &str) {
    match job {
        "retention" => match retention::run(gw.isolate()).await {
            Ok(r) => sf_log!(
                "scheduled: retention deleted {} raw log(s) dated before {}{}",
                r.deleted,
                r.cutoff_day,
                if r.capped {
                    " (per-run cap reached; the next run continues)"
                } else {
                    ""
                }
            ),
            Err(e) => sf_log!("scheduled: retention failed: {e}"),
        },
        other => sf_log!(
            "scheduled: unknown job {other:?} (known: retention); fix policy/endpoints.yaml scheduledJobs"
        ),
    }
}
