//! `sf`: the San Francisco operator CLI.

mod admin;
mod approvals_cmd;
mod catalogue;
mod config;
mod conformance_cmd;
mod dev_secrets;
mod env_cmd;
mod eval_cmd;
mod events_cmd;
mod grant_cmd;
mod jobs_cmd;
mod openapi_bodies;
mod openapi_cmd;
mod out;
mod policy_cmd;
mod policy_schema;
mod report_cmd;
mod routing_cmd;
mod serve_cmd;
mod tenant_cmd;
mod wrangler;

use clap::{Parser, Subcommand};

/// The policy compiled into this binary (the one place that names its crate).
use sf_core::policy as compiled_policy;

/// `sf --version`: the crate version and the compiled policy's version.
fn version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        format!(
            "{} (policy {})",
            env!("CARGO_PKG_VERSION"),
            compiled_policy::POLICY_VERSION
        )
    })
}

#[derive(Debug, Parser)]
#[command(name = "sf", version = version(), about = "San Francisco AI agent gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway on the embedded default (SQLite + files).
    Serve(serve_cmd::ServeArgs),
    /// Grants as Paris mints them.
    #[command(subcommand)]
    Grant(grant_cmd::GrantCommand),
    /// Run the black-box conformance suite against a running gateway.
    Conformance(conformance_cmd::ConformanceArgs),
    /// Run a copilot golden set (JSONL) against a gateway (default: one in process).
    Eval(eval_cmd::EvalArgs),
    /// Interaction records: tail, stats, dead letters.
    #[command(subcommand)]
    Events(events_cmd::EventsCommand),
    /// Check or explain the policy (agents.yaml, policy/*.yaml) without cargo.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Approvals for agent tasks: the audit trail.
    #[command(subcommand)]
    Approvals(approvals_cmd::ApprovalsCommand),
    /// The success report: criteria of policy/learning.yaml per agent (exit 1 when one fails).
    Report(report_cmd::ReportArgs),
    /// Declared jobs (policy/jobs.yaml): list them, or run one now.
    #[command(subcommand)]
    Jobs(jobs_cmd::JobsCommand),
    /// OpenAPI 3.1 of every route (policy/endpoints.yaml), bodies and error envelopes included.
    Openapi(openapi_cmd::OpenapiArgs),
    /// Environments: validate one (variables, secrets, bindings, crons, routing, .sf.json).
    #[command(subcommand)]
    Env(env_cmd::EnvCommand),
    /// Tenants over the admin API: create, update, list.
    #[command(subcommand)]
    Tenant(tenant_cmd::TenantCommand),
    /// Routing by tier: send a test completion through a tier's route.
    #[command(subcommand)]
    Routing(routing_cmd::RoutingCommand),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Serve(a) => serve_cmd::run(a),
        Command::Grant(c) => grant_cmd::run(c),
        Command::Conformance(a) => conformance_cmd::run(a),
        Command::Eval(a) => eval_cmd::run(a),
        Command::Events(c) => events_cmd::run(c),
        Command::Policy(c) => policy_cmd::run(c),
        Command::Approvals(c) => approvals_cmd::run(c),
        Command::Report(a) => report_cmd::run(a),
        Command::Jobs(c) => jobs_cmd::run(c),
        Command::Openapi(a) => openapi_cmd::run(a),
        Command::Env(c) => env_cmd::run(c),
        Command::Tenant(c) => tenant_cmd::run(c),
        Command::Routing(c) => routing_cmd::run(c),
    };
    std::process::exit(code);
}
