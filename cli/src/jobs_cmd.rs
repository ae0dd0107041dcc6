//! `sf jobs list | run <job>`: the jobs of policy/jobs.yaml, and running one
//! now against a native data directory (`Gateway::run_job` on the host
//! `sf serve --data-dir DIR` uses; variables from the environment).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sf_core::policy::{Job, SCHEDULE};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Every declared job with its schedule.
    List,
    /// Run one job now.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job id (e.g. `score-interactions`).
    pub job: String,
    /// The data directory of `sf serve`.
    #[arg(long, default_value = ".sf")]
    pub data_dir: PathBuf,
}

pub fn run(c: JobsCommand) -> i32 {
    match c {
        JobsCommand::List => {
            for j in Job::ALL {
                let crons: Vec<&str> = SCHEDULE
                    .iter()
                    .filter(|e| e.job == j)
                    .map(|e| e.cron)
                    .collect();
                let when = if crons.is_empty() {
                    "(not scheduled)".to_string()
                } else {
                    crons.join(", ")
                };
                println!("{:<20} {:<14} {}", j.name(), when, j.description());
            }
            0
        }
        JobsCommand::Run(a) => match run_job(&a) {
            Ok(done) => {
                println!("{}: {done}", a.job);
                0
            }
            Err(e) => {
                eprintln!("sf jobs run {}: {e}", a.job);
                1
            }
        },
    }
}

fn run_job(a: &RunArgs) -> Result<String, String> {
    let job = Job::from_name(&a.job).ok_or_else(|| {
        let known: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
        format!("unknown job (declared: {})", known.join(", "))
    })?;
    let vars = sf_server::NativeVars::from_env(None)?;
    let host = sf_server::NativeHost::open(&a.data_dir, vars).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting a runtime: {e}"))?;
    rt.block_on(async {
        let gw = sf_runtime::Gateway::new(host);
        gw.run_job(job).await
    })
}
