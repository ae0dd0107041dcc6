//! The scheduled jobs (policy/jobs.yaml): one `JobRunners` method per
//! declared job, so a job without code does not compile, and the schedule
//! table decides which run on a cron firing.

use std::rc::Rc;

use serde_json::{json, Value};

use sf_core::policy::{self, Job, JobRunners};
use sf_core::ports::Host;
use sf_core::sf_log;
use sf_core::time_fmt::utc_day;
use sf_records::conversion::{self, ConversionReport, Mark};
use sf_records::{banks, cleanup, retention, score};

use crate::gateway::Gateway;

/// What a job did: one line for the log or an operator, and the same as a
/// JSON object (`POST /admin/v1/jobs/{job}/run` answers it as `report`,
/// with the line as its `summary`).
#[derive(Debug, Clone, PartialEq)]
pub struct JobDone {
    pub summary: String,
    pub report: Value,
}

impl JobDone {
    fn new(summary: String, mut report: Value) -> Self {
        report["summary"] = Value::String(summary.clone());
        JobDone { summary, report }
    }
}

/// What a job did, or why it failed.
pub type JobResult = Result<JobDone, String>;

struct Runners<'a, H: Host>(&'a Rc<Gateway<H>>);

fn conversion_done(what: &str, r: ConversionReport) -> JobDone {
    JobDone::new(
        format!(
            "marked {} interaction(s) {what} since {}; re-scored {}",
            r.marked,
            utc_day(r.since_ms),
            r.rescored
        ),
        json!({ "sinceMs": r.since_ms, "marked": r.marked, "rescored": r.rescored }),
    )
}

impl<H: Host> JobRunners for Runners<'_, H> {
    type Ctx = ();
    type Out = JobResult;

    async fn retention(&self, _: ()) -> JobResult {
        let r = retention::run(self.0.isolate()).await?;
        Ok(JobDone::new(
            format!(
                "deleted {} raw log(s) dated before {}{}",
                r.deleted,
                r.cutoff_day,
                if r.capped {
                    " (per-run cap reached; the next run continues)"
                } else {
                    ""
                }
            ),
            json!({ "cutoffDay": r.cutoff_day, "deleted": r.deleted, "capped": r.capped }),
        ))
    }

    async fn score_interactions(&self, _: ()) -> JobResult {
        let r = score::run(self.0.isolate()).await?;
        Ok(JobDone::new(
            format!(
                "scored {} interaction(s) of {} agent(s) since {}",
                r.scored,
                r.agents,
                utc_day(r.since_ms)
            ),
            json!({ "sinceMs": r.since_ms, "scored": r.scored, "agents": r.agents }),
        ))
    }

    async fn update_example_banks(&self, _: ()) -> JobResult {
        let built = banks::run(self.0.isolate()).await?;
        let parts: Vec<String> = built
            .iter()
            .map(|b| {
                format!(
                    "{}: {} example(s), {} in the bank ({} of {} tokens)",
                    b.agent_id,
                    b.selected.len(),
                    b.bank.len(),
                    b.tokens,
                    b.token_budget
                )
            })
            .collect();
        Ok(JobDone::new(
            format!(
                "rebuilt {} example bank(s): {}",
                built.len(),
                parts.join("; ")
            ),
            json!({ "agents": built.iter().map(banks::AgentBank::to_json).collect::<Vec<_>>() }),
        ))
    }

    async fn cleanup_old_sessions(&self, _: ()) -> JobResult {
        let r = cleanup::run(self.0.isolate()).await?;
        Ok(JobDone::new(
            format!(
                "deleted {} interaction row(s), {} session(s) and {} unjoined outcome(s) older than {}{}",
                r.interactions,
                r.sessions,
                r.orphan_outcomes,
                utc_day(r.cutoff_ms),
                if r.capped {
                    " (per-run cap reached; the next run continues)"
                } else {
                    ""
                }
            ),
            json!({
                "cutoffMs": r.cutoff_ms, "interactions": r.interactions, "sessions": r.sessions,
                "orphanOutcomes": r.orphan_outcomes, "capped": r.capped,
            }),
        ))
    }

    async fn on_user_converted(&self, _: ()) -> JobResult {
        let r = conversion::run(self.0.host(), Mark::Converted).await?;
        Ok(conversion_done("converted", r))
    }

    async fn on_user_paid(&self, _: ()) -> JobResult {
        let r = conversion::run(self.0.host(), Mark::Paid).await?;
        Ok(conversion_done("paid", r))
    }
}

/// Runs one job now (the scheduler, or an operator through
/// `Gateway::run_job`).
pub async fn run<H: Host>(gw: &Rc<Gateway<H>>, job: Job) -> JobResult {
    policy::dispatch_job(&Runners(gw), job, ()).await
}

/// Runs the jobs the policy schedules on `cron` (`policy::SCHEDULE`; the
/// host's cron triggers use the same expressions). A job's failure is logged
/// and does not stop the others; the next firing tries again.
pub async fn scheduled<H: Host>(gw: &Rc<Gateway<H>>, cron: &str) {
    let jobs: Vec<Job> = policy::jobs_on(cron).collect();
    if jobs.is_empty() {
        sf_log!("scheduled: no job is scheduled on cron {cron:?} (policy/jobs.yaml schedule)");
    }
    for job in jobs {
        match run(gw, job).await {
            Ok(done) => sf_log!("scheduled: {job} {}", done.summary),
            Err(e) => sf_log!("scheduled: {job} failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_names_declared_jobs() {
        assert_eq!(
            policy::jobs_on("0 2 * * *").collect::<Vec<_>>(),
            [Job::Retention, Job::CleanupOldSessions]
        );
        assert_eq!(
            policy::jobs_on("0 * * * *").collect::<Vec<_>>(),
            [Job::ScoreInteractions]
        );
        assert_eq!(
            policy::jobs_on("0 3 * * *").collect::<Vec<_>>(),
            [Job::UpdateExampleBanks]
        );
        assert_eq!(policy::jobs_on(" 0  2 * * * ").count(), 2);
        assert_eq!(policy::jobs_on("0 4 * * *").count(), 0);
        assert_eq!(Job::from_name("retention"), Some(Job::Retention));
        assert_eq!(
            Job::from_name("on-user-converted"),
            Some(Job::OnUserConverted)
        );
        assert!(!Job::Retention.description().is_empty());
        // The event jobs run on their outcomes, not on a cron.
        for j in [Job::OnUserConverted, Job::OnUserPaid] {
            assert!(policy::SCHEDULE.iter().all(|e| e.job != j), "{j}");
        }
    }
}
