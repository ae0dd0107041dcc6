//! Experiments (`sf_experiments`): an A/B/n test of an agent's prompt
//! versions. Sessions are split by [`crate::stats::Experiment::assign`]; each
//! interaction records the experiment and the version it ran, so the arms'
//! counts come from the interaction records (the gateway supplies them
//! through [`ArmCounts`]). [`decide_all`] applies the winner rule to every
//! running test: a winner becomes the active version and the decision keeps
//! its evidence. At most one test runs per agent.

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode, Issue};
use sf_core::policy::{Agent, Signal};
use sf_core::ports::{Host, Random, Sql, SqlRow, SqlStatement, SqlValue};

use crate::prompts::{self, db_error};
use crate::stats::{decide, interval, Config, Decision, Tally};
use crate::{now, prompted_agent};

/// Defaults of a new experiment (the admin may pass `minPerArm` and `alpha`).
pub const DEFAULT_MIN_PER_ARM: u64 = 100;
pub const DEFAULT_ALPHA: f64 = 0.05;
/// The winner rule's boundary is tightest around this many samples per arm
/// unless the experiment says otherwise (`tunedForPerArm`).
pub const DEFAULT_TUNED_FOR_PER_ARM: u64 = 1500;
/// With metric `score`, an interaction counts as a success at this score.
pub const SUCCESS_SCORE: f64 = 0.5;
/// At most this many arms.
pub const MAX_ARMS: usize = 5;

/// What an arm is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The agent's score (policy/learning.yaml) is at least [`SUCCESS_SCORE`];
    /// unscored interactions do not count yet.
    Score,
    /// One scoring signal holds (e.g. `signal:kept`).
    Signal(Signal),
}

impl Metric {
    pub fn parse(s: &str) -> Option<Metric> {
        if s == "score" {
            return Some(Metric::Score);
        }
        s.strip_prefix("signal:")
            .and_then(Signal::from_name)
            .map(Metric::Signal)
    }
    pub fn name(self) -> String {
        match self {
            Metric::Score => "score".into(),
            Metric::Signal(s) => format!("signal:{}", s.name()),
        }
    }
}

/// Samples and successes per version of one experiment, from the records.
pub trait ArmCounts {
    async fn counts(
        &self,
        experiment_id: &str,
        metric: Metric,
    ) -> Result<Vec<(String, Tally)>, ApiError>;
}

/// One experiment row.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub id: String,
    pub agent: Agent,
    pub metric: Metric,
    pub arms: Vec<String>,
    pub min_per_arm: u64,
    pub alpha: f64,
    pub tuned_for: u64,
    /// `running`, `decided` or `stopped`.
    pub status: String,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    pub winner: Option<String>,
    pub evidence: Option<Value>,
}

impl Experiment {
    pub fn split(&self) -> crate::stats::Experiment {
        crate::stats::Experiment {
            id: self.id.clone(),
            arms: self.arms.clone(),
        }
    }
    pub fn config(&self) -> Config {
        Config::tuned_for(self.alpha, self.min_per_arm, self.tuned_for)
    }

    /// The arms with their counts, estimate and always-valid interval.
    pub fn arms_json(&self, counts: &[(String, Tally)]) -> Vec<Value> {
        let c = self.config();
        let per_arm_alpha = c.alpha / self.arms.len().max(1) as f64;
        self.arms
            .iter()
            .map(|v| {
                let t = counts
                    .iter()
                    .find(|(cv, _)| cv == v)
                    .map(|(_, t)| *t)
                    .unwrap_or_default();
                let (lo, hi) = interval(&t, per_arm_alpha, c.rho);
                json!({
                    "version": v, "samples": t.trials, "successes": t.successes,
                    "estimate": t.rate(), "interval": [lo, hi],
                })
            })
            .collect()
    }

    pub fn to_json(&self, counts: &[(String, Tally)]) -> Value {
        let decision = match (&self.winner, self.decided_at_ms) {
            (Some(w), Some(at)) => {
                json!({"winner": w, "decidedAtMs": at, "evidence": self.evidence})
            }
            _ if self.status == "stopped" => {
                json!({"winner": null, "decidedAtMs": self.decided_at_ms, "evidence": self.evidence})
            }
            _ => Value::Null,
        };
        json!({
            "id": self.id, "agentId": self.agent.name(), "metric": self.metric.name(),
            "status": self.status, "minPerArm": self.min_per_arm, "alpha": self.alpha,
            "tunedForPerArm": self.tuned_for,
            "arms": self.arms_json(counts), "decision": decision, "createdAtMs": self.created_at_ms,
        })
    }
}

fn row_experiment(r: &SqlRow) -> Option<Experiment> {
    let agent = Agent::from_name(r.text("agent_id")?)?;
    let metric = Metric::parse(r.text("metric")?)?;
    let arms: Vec<String> = serde_json::from_str(r.text("arms_json")?).ok()?;
    let alpha = match r.get("alpha") {
        Some(SqlValue::Real(a)) => *a,
        Some(SqlValue::Integer(a)) => *a as f64,
        _ => DEFAULT_ALPHA,
    };
    Some(Experiment {
        id: r.text("id")?.to_owned(),
        agent,
        metric,
        arms,
        min_per_arm: u64::try_from(r.int("min_per_arm").unwrap_or(0)).unwrap_or(0),
        alpha,
        tuned_for: u64::try_from(r.int("tuned_for").unwrap_or(0))
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_TUNED_FOR_PER_ARM),
        status: r.text("status")?.to_owned(),
        created_at_ms: r.int("created_at_ms").unwrap_or(0),
        decided_at_ms: r.int("decided_at_ms"),
        winner: r.text("winner").map(str::to_owned),
        evidence: r
            .text("evidence_json")
            .and_then(|e| serde_json::from_str(e).ok()),
    })
}

const COLUMNS: &str =
    "id, agent_id, metric, arms_json, min_per_arm, alpha, tuned_for, status, created_at_ms, decided_at_ms, winner, evidence_json";

async fn select<H: Host>(
    h: &H,
    filter: &str,
    params: Vec<SqlValue>,
) -> Result<Vec<Experiment>, ApiError> {
    let rows = h
        .sql()
        .query(SqlStatement::new(
            format!("SELECT {COLUMNS} FROM sf_experiments {filter}"),
            params,
        ))
        .await
        .map_err(db_error("read the experiments"))?;
    Ok(rows.iter().filter_map(row_experiment).collect())
}

/// Every experiment, newest first (at most `limit`).
pub async fn list<H: Host>(
    h: &H,
    agent: Option<Agent>,
    limit: usize,
) -> Result<Vec<Experiment>, ApiError> {
    match agent {
        Some(a) => {
            select(
                h,
                &format!("WHERE agent_id = ? ORDER BY created_at_ms DESC LIMIT {limit}"),
                vec![a.name().into()],
            )
            .await
        }
        None => {
            select(
                h,
                &format!("ORDER BY created_at_ms DESC LIMIT {limit}"),
                vec![],
            )
            .await
        }
    }
}

pub async fn get<H: Host>(h: &H, id: &str) -> Result<Option<Experiment>, ApiError> {
    Ok(select(h, "WHERE id = ?", vec![id.into()])
        .await?
        .into_iter()
        .next())
}

/// The running experiment of `agent`, if any.
pub async fn running<H: Host>(h: &H, agent: Agent) -> Result<Option<Experiment>, ApiError> {
    Ok(select(
        h,
        "WHERE agent_id = ? AND status = 'running'",
        vec![agent.name().into()],
    )
    .await?
    .into_iter()
    .next())
}

fn bad(path: &str, message: &str) -> ApiError {
    ApiError::bad_request("Invalid experiment").with_issues(vec![Issue::new(path, message)])
}

/// `{"agentId", "arms": [versions], "metric"?: "score" | "signal:<name>",
/// "minPerArm"?, "alpha"?, "tunedForPerArm"?}` → a running experiment.
pub async fn create<H: Host>(h: &H, body: &Value) -> Result<Experiment, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad("", "Expected { agentId, arms, metric? }"));
    };
    if let Some(k) = obj.keys().find(|k| {
        ![
            "agentId",
            "arms",
            "metric",
            "minPerArm",
            "alpha",
            "tunedForPerArm",
        ]
        .contains(&k.as_str())
    }) {
        return Err(bad(
            k,
            "Unknown field; the fields are agentId, arms, metric, minPerArm, alpha, tunedForPerArm",
        ));
    }
    let agent_raw = obj
        .get("agentId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let agent = prompted_agent(agent_raw).map_err(|e| bad("agentId", &e.message))?;
    let metric_raw = obj.get("metric").and_then(Value::as_str).unwrap_or("score");
    let metric = Metric::parse(metric_raw).ok_or_else(|| {
        bad(
            "metric",
            &format!(
                "Unknown metric `{metric_raw}`: use `score` or `signal:<name>` with a signal of policy/learning.yaml ({})",
                Signal::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let arms: Vec<String> = match obj.get("arms").and_then(Value::as_array) {
        Some(a) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => return Err(bad("arms", "Expected an array of prompt versions")),
    };
    if arms.len() < 2 || arms.len() > MAX_ARMS {
        return Err(bad(
            "arms",
            &format!(
                "An experiment needs 2 to {MAX_ARMS} arms; got {}",
                arms.len()
            ),
        ));
    }
    let versions = prompts::list(h, agent).await?;
    for (i, a) in arms.iter().enumerate() {
        if arms[..i].contains(a) {
            return Err(bad(
                &format!("arms.{i}"),
                &format!("Version `{a}` is listed twice"),
            ));
        }
        if !versions.iter().any(|v| &v.version == a) {
            return Err(bad(
                &format!("arms.{i}"),
                &format!(
                    "Unknown prompt version `{a}` of {}; GET /admin/v1/prompts/{} lists them",
                    agent.name(),
                    agent.name()
                ),
            ));
        }
    }
    let min_per_arm = match obj.get("minPerArm") {
        None => DEFAULT_MIN_PER_ARM,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=1_000_000).contains(&n) => n,
            _ => return Err(bad("minPerArm", "Expected an integer from 1 to 1000000")),
        },
    };
    let alpha = match obj.get("alpha") {
        None => DEFAULT_ALPHA,
        Some(v) => match v.as_f64() {
            Some(a) if a > 0.0 && a <= 0.2 => a,
            _ => return Err(bad("alpha", "Expected a number in (0, 0.2]")),
        },
    };
    let tuned_for = match obj.get("tunedForPerArm") {
        None => DEFAULT_TUNED_FOR_PER_ARM,
        Some(v) => match v.as_u64() {
            Some(n) if (10..=1_000_000).contains(&n) => n,
            _ => return Err(bad(
                "tunedForPerArm",
                "Expected an integer from 10 to 1000000 (the samples per arm you expect to need)",
            )),
        },
    };
    if let Some(r) = running(h, agent).await? {
        return Err(ApiError::new(
            409,
            ErrorCode::BadRequest,
            format!(
                "Experiment {} is already running for {}; stop it first (POST /admin/v1/experiments/{}/stop)",
                r.id,
                agent.name(),
                r.id
            ),
        ));
    }
    let e = Experiment {
        id: h.random().uuid_v4(),
        agent,
        metric,
        arms,
        min_per_arm,
        alpha,
        tuned_for,
        status: "running".into(),
        created_at_ms: now(h),
        decided_at_ms: None,
        winner: None,
        evidence: None,
    };
    h.sql()
        .execute(SqlStatement::new(
            format!("INSERT INTO sf_experiments ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)"),
            vec![
                e.id.clone().into(),
                agent.name().into(),
                metric.name().into(),
                serde_json::to_string(&e.arms).unwrap_or_default().into(),
                SqlValue::Integer(i64::try_from(min_per_arm).unwrap_or(i64::MAX)),
                SqlValue::Real(alpha),
                SqlValue::Integer(i64::try_from(tuned_for).unwrap_or(i64::MAX)),
                "running".into(),
                SqlValue::Integer(e.created_at_ms),
            ],
        ))
        .await
        .map_err(db_error("store the experiment"))?;
    Ok(e)
}

/// Ends a running experiment without a winner (the active version stays).
pub async fn stop<H: Host>(
    h: &H,
    e: &Experiment,
    counts: &[(String, Tally)],
) -> Result<Experiment, ApiError> {
    let at = now(h);
    let evidence = json!({"reason": "stopped by an operator", "arms": e.arms_json(counts)});
    h.sql()
        .execute(SqlStatement::new(
            "UPDATE sf_experiments SET status = 'stopped', decided_at_ms = ?, evidence_json = ? WHERE id = ? AND status = 'running'",
            vec![SqlValue::Integer(at), evidence.to_string().into(), e.id.clone().into()],
        ))
        .await
        .map_err(db_error("stop the experiment"))?;
    Ok(Experiment {
        status: "stopped".into(),
        decided_at_ms: Some(at),
        evidence: Some(evidence),
        ..e.clone()
    })
}

/// What [`decide_all`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecideReport {
    pub running: usize,
    pub decided: Vec<(String, String)>,
}

impl DecideReport {
    pub fn to_json(&self) -> Value {
        json!({
            "running": self.running,
            "decided": self.decided.iter().map(|(id, w)| json!({"id": id, "winner": w})).collect::<Vec<_>>(),
        })
    }
}

/// Applies the winner rule to every running experiment; a winner becomes its
/// agent's active version. Returns the agents whose choice changed (their
/// choice document needs a refresh).
pub async fn decide_all<H: Host, C: ArmCounts>(
    h: &H,
    counts: &C,
) -> Result<(DecideReport, Vec<Agent>), ApiError> {
    let running = select(h, "WHERE status = 'running' ORDER BY created_at_ms", vec![]).await?;
    let mut report = DecideReport {
        running: running.len(),
        ..DecideReport::default()
    };
    let mut changed = Vec::new();
    for e in running {
        let c = counts.counts(&e.id, e.metric).await?;
        let tallies: Vec<Tally> = e
            .arms
            .iter()
            .map(|v| {
                c.iter()
                    .find(|(cv, _)| cv == v)
                    .map(|(_, t)| *t)
                    .unwrap_or_default()
            })
            .collect();
        let Decision::Winner(i) = decide(&tallies, &e.config()) else {
            continue;
        };
        let winner = e.arms[i].clone();
        let cfg = e.config();
        let evidence = json!({
            "rule": "always-valid confidence sequences (normal mixture, Bonferroni over arms): the winner's lower bound is above every other arm's upper bound",
            "alpha": cfg.alpha, "minPerArm": cfg.min_per_arm, "rho": cfg.rho,
            "metric": e.metric.name(), "arms": e.arms_json(&c),
        });
        prompts::activate(h, e.agent, &winner).await?;
        h.sql()
            .execute(SqlStatement::new(
                "UPDATE sf_experiments SET status = 'decided', decided_at_ms = ?, winner = ?, evidence_json = ? \
                 WHERE id = ? AND status = 'running'",
                vec![
                    SqlValue::Integer(now(h)),
                    winner.clone().into(),
                    evidence.to_string().into(),
                    e.id.clone().into(),
                ],
            ))
            .await
            .map_err(db_error("record the experiment's decision"))?;
        sf_core::sf_log!(
            "learning: experiment {} of {} decided: {winner} wins",
            e.id,
            e.agent.name()
        );
        report.decided.push((e.id.clone(), winner));
        changed.push(e.agent);
    }
    Ok((report, changed))
}
