//! Job records in KV (CONTRACT 10.1): `personalization:{kind}:{jobId}`,
//! `{v:1, jobId, status, createdAtMs, updatedAtMs, input, result?, usage?,
//! error?, persisted?, persistError?}`. The grant is never part of a record.

use serde_json::{json, Value};
use sf_core::commands::Command;
use sf_core::policy::Agent;
use sf_core::ports::{Host, Kv, PortError};
use sf_core::Isolate;

/// The two job kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Preview,
    Onboarding,
}

impl Kind {
    /// The path and key segment: `preview` or `onboarding`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Preview => "preview",
            Kind::Onboarding => "onboarding",
        }
    }
    pub const fn agent(self) -> Agent {
        match self {
            Kind::Preview => Agent::AgentPersonalizationPreviewV1,
            Kind::Onboarding => Agent::AgentPersonalizationOnboardingV1,
        }
    }
    pub const fn command(self) -> Command {
        match self {
            Kind::Preview => Command::PreviewEnqueue,
            Kind::Onboarding => Command::OnboardingEnqueue,
        }
    }
    /// Record lifetime: 1 200 s for previews, 1 800 s for onboarding.
    pub const fn ttl_s(self) -> u64 {
        match self {
            Kind::Preview => 1_200,
            Kind::Onboarding => 1_800,
        }
    }
    pub fn key(self, job_id: &str) -> String {
        format!("personalization:{}:{job_id}", self.name())
    }
}

/// A job's states on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Completed,
    Failed,
}

impl Status {
    pub const fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }
}

/// A fresh `queued` record.
pub fn queued(job_id: &str, now_ms: u64, input: Value) -> Value {
    json!({
        "v": 1, "jobId": job_id, "status": Status::Queued.name(),
        "createdAtMs": now_ms, "updatedAtMs": now_ms, "input": input,
    })
}

/// Moves `rec` to `status` at `now_ms`.
pub fn set_status(rec: &mut Value, status: Status, now_ms: u64) {
    rec["status"] = json!(status.name());
    rec["updatedAtMs"] = json!(now_ms);
}

/// The stored record, if any and readable as version 1.
pub async fn load<H: Host>(iso: &Isolate<H>, kind: Kind, job_id: &str) -> Option<Value> {
    let text = iso.host().kv().get(&kind.key(job_id)).await.ok()??;
    let rec: Value = serde_json::from_str(&text).ok()?;
    (rec.get("v").and_then(Value::as_f64) == Some(1.0)).then_some(rec)
}

pub async fn save<H: Host>(iso: &Isolate<H>, kind: Kind, rec: &Value) -> Result<(), PortError> {
    let job_id = rec["jobId"].as_str().unwrap_or_default();
    iso.host()
        .kv()
        .put(&kind.key(job_id), &rec.to_string(), Some(kind.ttl_s()))
        .await
}
