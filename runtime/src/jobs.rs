//! The scheduled jobs (policy/jobs.yaml): one `JobRunners` method per
//! declared job, so a job without code does not compile, and the schedule
//! table decides which run on a cron firing.

use std::rc::Rc;

use sf_core::policy::Agent;
use sf_core::policy::{self, Job, JobRunners};
use sf_core::ports::Clock;
use sf_core::ports::Host;
use sf_core::sf_log;
use sf_learning::improve::{self, Evidence};
use sf_records::{failures, retention, score};

use crate::gateway::Gateway;
use crate::learning::RecordCounts;

/// The failures `analyze-and-improve` looks at: the last 7 days.
const ANALYZE_WINDOW_MS: i64 = 7 * 86_400_000;
const IMPROVE: improve::Settings = improve::Settings {
    provider: policy::Provider::Deepseek,
    model: policy::Model::DeepseekChat,
    timeout_ms: 30_000,
    min_failures: 5,
    start_experiment: true,
    min_per_arm: 100,
    tuned_for_per_arm: 1500,
};

/// What a job did (one line for the log or an operator), or why it failed.
pub type JobResult = Result<String, String>;

struct Runners<'a, H: Host>(&'a Rc<Gateway<H>>);

impl<H: Host> JobRunners for Runners<'_, H> {
    type Ctx = ();
    type Out = JobResult;

    async fn retention(&self, _: ()) -> JobResult {
        let r = retention::run(self.0.isolate()).await?;
        Ok(format!(
            "deleted {} raw log(s) dated before {}{}",
            r.deleted,
            r.cutoff_day,
            if r.capped {
                " (per-run cap reached; the next run continues)"
            } else {
                ""
            }
        ))
    }

    async fn score_interactions(&self, _: ()) -> JobResult {
        let r = score::run(self.0.isolate()).await?;
        Ok(format!(
            "scored {} interaction(s) of {} agent(s) since {}",
            r.scored,
            r.agents,
            sf_core::time_fmt::utc_day(r.since_ms)
        ))
    }

    async fn analyze_and_improve(&self, _: ()) -> JobResult {
        let host = self.0.host();
        let since = i64::try_from(host.clock().now_ms()).unwrap_or(i64::MAX) - ANALYZE_WINDOW_MS;
        let mut lines = Vec::new();
        for agent in Agent::ALL.iter().copied().filter(|a| a.prompt().is_some()) {
            let clusters = failures::clusters(host, agent, since, 3)
                .await
                .map_err(|e| e.message)?;
            let evidence: Vec<Evidence> = clusters
                .into_iter()
                .map(|c| Evidence {
                    kind: c.kind.to_owned(),
                    description: c.description.to_owned(),
                    count: c.count,
                    examples: c
                        .examples
                        .into_iter()
                        .map(|e| (e.request, e.answer))
                        .collect(),
                })
                .collect();
            let outcome = improve::propose(host, agent, &evidence, &IMPROVE).await;
            lines.push(outcome.to_json(agent).to_string());
        }
        Ok(lines.join("; "))
    }

    async fn decide_experiments(&self, _: ()) -> JobResult {
        let host = self.0.host();
        let (r, _changed) = sf_learning::experiments::decide_all(host, &RecordCounts(host))
            .await
            .map_err(|e| e.message)?;
        // Every agent's choice document, not only the changed ones: a lost
        // KV write heals within the hour.
        let docs = sf_learning::choice::refresh_all(host)
            .await
            .map_err(|e| e.message)?;
        Ok(format!(
            "{} running experiment(s), {} decided{}; {docs} prompt choice document(s) rewritten",
            r.running,
            r.decided.len(),
            r.decided
                .iter()
                .map(|(id, w)| format!(" ({id}: {w} wins)"))
                .collect::<String>()
        ))
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
            Ok(done) => sf_log!("scheduled: {job} {done}"),
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
            [Job::Retention]
        );
        assert_eq!(
            policy::jobs_on("0 * * * *").collect::<Vec<_>>(),
            [Job::ScoreInteractions, Job::DecideExperiments]
        );
        assert_eq!(policy::jobs_on(" 0  2 * * * ").count(), 1);
        assert_eq!(policy::jobs_on("0 3 * * *").count(), 0);
        assert_eq!(Job::from_name("retention"), Some(Job::Retention));
        assert!(!Job::Retention.description().is_empty());
    }
}
