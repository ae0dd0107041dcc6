//! The job lifecycle (CONTRACT 2.4, 2.6, 10.2): validate the command, verify
//! the grant and its capability, answer an existing job by id, write the
//! `queued` record, then run `queued → running → completed | failed`: after
//! the answer for HTTP (the host's `defer`), inline for the queue.

use std::rc::Rc;

use serde_json::{json, Map, Value};
use sf_core::commands;
use sf_core::error::{ApiError, ConsumeError};
use sf_core::grants::Grant;
use sf_core::http::{json_response, parse_json_body, RouteCtx, RouteOut};
use sf_core::ports::{Clock, Host, Random};
use sf_core::{sf_log, Isolate};

use crate::input::{parse_onboarding, parse_preview, JobInput};
use crate::record::{self, Kind, Status};
use crate::sources::ProfileSources;
use crate::{onboarding, preview, PageReader};

/// What the agents read through: pages and the non-website sources.
pub struct Readers<P, S> {
    pub pages: P,
    pub sources: S,
}

/// A job to run, with its verified grant (kept in memory only).
pub struct Job {
    pub kind: Kind,
    pub job_id: String,
    pub grant: Grant,
    pub input: JobInput,
    rec: Value,
}

/// What enqueueing decided.
pub enum Enqueued {
    /// A job with this id exists and has not failed: answered as it is.
    Existing(String),
    New(Box<Job>),
}

impl Enqueued {
    pub fn job_id(&self) -> &str {
        match self {
            Enqueued::Existing(id) => id,
            Enqueued::New(job) => &job.job_id,
        }
    }
}

/// Validates `payload`, verifies the grant and, unless a live job has the
/// same id, writes the `queued` record.
pub async fn enqueue<H: Host>(
    iso: &Isolate<H>,
    kind: Kind,
    payload: &Map<String, Value>,
) -> Result<Enqueued, ApiError> {
    let accepted = match kind {
        Kind::Preview => parse_preview(payload)?,
        Kind::Onboarding => parse_onboarding(payload)?,
    };
    let grant = iso.verify_grant(&accepted.grant_token)?;
    let cap = format!("agent:{}", kind.agent().name());
    if !grant.has_cap(&cap) {
        return Err(ApiError::denied(403, format!("Capability denied: {cap}")));
    }
    let job_id = accepted
        .job_id
        .unwrap_or_else(|| iso.host().random().uuid_v4());
    if let Some(rec) = record::load(iso, kind, &job_id).await {
        if rec.get("status").and_then(Value::as_str) != Some(Status::Failed.name()) {
            return Ok(Enqueued::Existing(job_id));
        }
    }
    let rec = record::queued(
        &job_id,
        iso.host().clock().now_ms(),
        accepted.input.to_json(),
    );
    record::save(iso, kind, &rec).await.map_err(|e| {
        sf_log!("personalization: job {job_id} not queued: {e}");
        ApiError::provider(500, "sanfrancisco", "Failed to persist job")
    })?;
    Ok(Enqueued::New(Box::new(Job {
        kind,
        job_id,
        grant,
        input: accepted.input,
        rec,
    })))
}

async fn save_logged<H: Host>(iso: &Isolate<H>, job: &Job) {
    if let Err(e) = record::save(iso, job.kind, &job.rec).await {
        sf_log!(
            "personalization: job {} record not written: {e}",
            job.job_id
        );
    }
}

/// Runs a queued job to its end and records how it ended.
pub async fn run<H: Host, P: PageReader, S: ProfileSources>(
    iso: &Isolate<H>,
    readers: &Readers<P, S>,
    mut job: Job,
) -> Status {
    record::set_status(&mut job.rec, Status::Running, iso.host().clock().now_ms());
    save_logged(iso, &job).await;
    let outcome = match &job.input {
        JobInput::Preview(i) => preview::run(iso, &readers.pages, &job.grant, i)
            .await
            .map(|o| (o, None)),
        JobInput::Onboarding(i) => {
            onboarding::run(iso, &readers.pages, &readers.sources, &job.grant, i)
                .await
                .map(|(o, p)| (o, Some(p)))
        }
    };
    let now = iso.host().clock().now_ms();
    let status = match outcome {
        Ok((out, persisted)) => {
            job.rec["result"] = out.result;
            if let Some(u) = out.usage {
                job.rec["usage"] = u;
            }
            if let Some(p) = persisted {
                job.rec["persisted"] = json!(p.is_ok());
                if let Err(e) = p {
                    sf_log!(
                        "personalization: job {} profile not stored: {e}",
                        job.job_id
                    );
                    job.rec["persistError"] = json!(e);
                }
            }
            Status::Completed
        }
        Err(e) => {
            job.rec["error"] = json!({"message": e.message});
            Status::Failed
        }
    };
    record::set_status(&mut job.rec, status, now);
    save_logged(iso, &job).await;
    sf_log!(
        "personalization: {} job {} {}",
        job.kind.name(),
        job.job_id,
        status.name()
    );
    status
}

/// `POST /v1/personalization/{preview|onboarding}` after the bearer check:
/// `200 {"jobId"}`, the job running after the answer.
pub async fn route<H: Host, P: PageReader + 'static, S: ProfileSources + 'static>(
    iso: &Rc<Isolate<H>>,
    kind: Kind,
    readers: Readers<P, S>,
    cx: RouteCtx,
) -> RouteOut {
    let body = parse_json_body(cx.req.body())?;
    let payload = commands::expect(&body, kind.command())?;
    let enqueued = enqueue(iso, kind, payload).await?;
    let answer = json_response(200, &json!({"jobId": enqueued.job_id()}));
    if let Enqueued::New(job) = enqueued {
        let iso2 = Rc::clone(iso);
        iso.host().defer(Box::pin(async move {
            run(&iso2, &readers, *job).await;
        }));
    }
    Ok(answer)
}

/// A `personalization.*.enqueue` command from the queue, run inline. An
/// invalid command is rejected (a retry cannot fix it); a job that ran is
/// acknowledged however it ended, its record says how.
pub async fn consume<H: Host, P: PageReader, S: ProfileSources>(
    iso: &Isolate<H>,
    kind: Kind,
    readers: &Readers<P, S>,
    payload: &Map<String, Value>,
) -> Result<(), ConsumeError> {
    match enqueue(iso, kind, payload).await {
        Ok(Enqueued::New(job)) => {
            run(iso, readers, *job).await;
            Ok(())
        }
        Ok(Enqueued::Existing(_)) => Ok(()),
        Err(e) if e.status >= 500 => Err(ConsumeError::Retry(e.message)),
        Err(e) => Err(ConsumeError::Reject(format!(
            "{} command refused: {} {}",
            kind.name(),
            e.status,
            e.message
        ))),
    }
}
