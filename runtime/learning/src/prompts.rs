//! Prompt versions (`sf_prompts`). An agent's baseline is its policy prompt
//! file (policy/prompts.yaml), never a row; rows are versions created through
//! the admin API (`source` = `admin`) or proposed by the analyze job
//! (`analyze`). At most one row per agent is active (a unique index); with
//! none active the baseline runs. A version that has been active and is no
//! longer is `archived`; one never activated is a `draft`.

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode, Issue};
use sf_core::policy::Agent;
use sf_core::ports::{Host, Random, Sql, SqlRow, SqlStatement, SqlValue};
use sf_core::template;

use crate::now;

/// Where a version came from.
pub const SOURCE_POLICY: &str = "policy";
pub const SOURCE_ADMIN: &str = "admin";
pub const SOURCE_ANALYZE: &str = "analyze";

/// One version of an agent's prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub version: String,
    /// `active`, `draft` or `archived`.
    pub status: &'static str,
    pub source: String,
    pub text: String,
    /// `None` for the baseline (it is as old as the build).
    pub created_at_ms: Option<i64>,
    pub note: Option<String>,
}

impl Version {
    pub fn to_json(&self) -> Value {
        json!({
            "version": self.version, "status": self.status, "source": self.source,
            "text": self.text, "createdAtMs": self.created_at_ms, "note": self.note,
        })
    }
    pub fn is_baseline(&self) -> bool {
        self.source == SOURCE_POLICY
    }
}

pub(crate) fn db_error(what: &str) -> impl Fn(sf_core::ports::PortError) -> ApiError + '_ {
    move |e| {
        sf_core::sf_log!("learning: {what} failed: {e}");
        ApiError::new(
            503,
            ErrorCode::ProviderError,
            format!("The database could not {what}; retry shortly"),
        )
    }
}

fn row_version(r: &SqlRow) -> Version {
    let active = r.int("is_active") == Some(1);
    let status = if active {
        "active"
    } else if r.int("activated_at_ms").is_some() {
        "archived"
    } else {
        "draft"
    };
    Version {
        version: r.text("version").unwrap_or_default().to_owned(),
        status,
        source: r.text("source").unwrap_or(SOURCE_ADMIN).to_owned(),
        text: r.text("prompt_text").unwrap_or_default().to_owned(),
        created_at_ms: r.int("created_at_ms"),
        note: r.text("note").map(str::to_owned),
    }
}

/// Every version of `agent`: the baseline first, then the stored ones by age.
pub async fn list<H: Host>(h: &H, agent: Agent) -> Result<Vec<Version>, ApiError> {
    let rows = h
        .sql()
        .query(SqlStatement::new(
            "SELECT version, prompt_text, created_at_ms, is_active, source, note, activated_at_ms \
             FROM sf_prompts WHERE agent_id = ? ORDER BY created_at_ms, version",
            vec![agent.name().into()],
        ))
        .await
        .map_err(db_error("read the prompt versions"))?;
    let stored: Vec<Version> = rows.iter().map(row_version).collect();
    let any_active = stored.iter().any(|v| v.status == "active");
    let mut out = Vec::with_capacity(stored.len() + 1);
    if let Some(p) = agent.prompt() {
        out.push(Version {
            version: p.version.to_owned(),
            status: if any_active { "archived" } else { "active" },
            source: SOURCE_POLICY.to_owned(),
            text: p.text.to_owned(),
            created_at_ms: None,
            note: Some("the policy's prompt file (policy/prompts.yaml)".into()),
        });
    }
    out.extend(stored);
    Ok(out)
}

/// The version named `version` of `agent`, if there is one.
pub async fn find<H: Host>(
    h: &H,
    agent: Agent,
    version: &str,
) -> Result<Option<Version>, ApiError> {
    Ok(list(h, agent)
        .await?
        .into_iter()
        .find(|v| v.version == version))
}

/// The active version of `agent`.
pub async fn active<H: Host>(h: &H, agent: Agent) -> Result<Option<Version>, ApiError> {
    Ok(list(h, agent)
        .await?
        .into_iter()
        .find(|v| v.status == "active"))
}

fn valid_version_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// A new draft version. `version` defaults to `<agent>@v<n>`; the text must
/// render (sf_core::template), the name be new for the agent.
pub async fn create<H: Host>(
    h: &H,
    agent: Agent,
    version: Option<&str>,
    text: &str,
    note: Option<&str>,
    source: &str,
) -> Result<Version, ApiError> {
    if let Err(why) = template::check(text) {
        return Err(
            ApiError::bad_request("Invalid prompt text").with_issues(vec![Issue::new(
                "text",
                format!("The prompt does not render: {why}"),
            )]),
        );
    }
    let existing = list(h, agent).await?;
    let version = match version {
        Some(v) => {
            if !valid_version_name(v) {
                return Err(
                    ApiError::bad_request("Invalid prompt version").with_issues(vec![Issue::new(
                        "version",
                        "Use 1-64 characters of letters, digits, `.`, `_`, `-` or `@`",
                    )]),
                );
            }
            v.to_owned()
        }
        None => {
            let mut n = existing.len() + 1;
            loop {
                let v = format!("{}@v{n}", agent.name());
                if !existing.iter().any(|e| e.version == v) {
                    break v;
                }
                n += 1;
            }
        }
    };
    if existing.iter().any(|e| e.version == version) {
        return Err(ApiError::new(
            409,
            ErrorCode::BadRequest,
            format!(
                "Prompt version `{version}` of {} exists; pick another version name",
                agent.name()
            ),
        ));
    }
    let created = now(h);
    let id = h.random().uuid_v4();
    h.sql()
        .execute(SqlStatement::new(
            "INSERT INTO sf_prompts (id, agent_id, version, prompt_text, created_at_ms, is_active, source, note) \
             VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            vec![
                id.into(),
                agent.name().into(),
                version.clone().into(),
                text.into(),
                created.into(),
                source.into(),
                note.map(str::to_owned).into(),
            ],
        ))
        .await
        .map_err(db_error("store the prompt version"))?;
    Ok(Version {
        version,
        status: "draft",
        source: source.to_owned(),
        text: text.to_owned(),
        created_at_ms: Some(created),
        note: note.map(str::to_owned),
    })
}

/// Makes `version` the one `agent` runs (the baseline's version clears every
/// stored one). The caller refreshes the choice document.
pub async fn activate<H: Host>(h: &H, agent: Agent, version: &str) -> Result<Version, ApiError> {
    let Some(v) = find(h, agent, version).await? else {
        return Err(ApiError::new(
            404,
            ErrorCode::BadRequest,
            format!(
                "Unknown prompt version `{version}` of {}; GET /admin/v1/prompts/{} lists them",
                agent.name(),
                agent.name()
            ),
        ));
    };
    let mut stmts = vec![SqlStatement::new(
        "UPDATE sf_prompts SET is_active = 0 WHERE agent_id = ? AND is_active = 1",
        vec![agent.name().into()],
    )];
    if !v.is_baseline() {
        stmts.push(SqlStatement::new(
            "UPDATE sf_prompts SET is_active = 1, activated_at_ms = ? WHERE agent_id = ? AND version = ?",
            vec![SqlValue::Integer(now(h)), agent.name().into(), version.into()],
        ));
    }
    h.sql()
        .batch(stmts)
        .await
        .map_err(db_error("activate the prompt version"))?;
    Ok(Version {
        status: "active",
        ..v
    })
}
