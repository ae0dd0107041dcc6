//! Session state in KV (CONTRACT 7.3.2), bound to the grant's subject.
//!
//! Binding (CONTRACT 15.6): the record stores `subjectKey`, a SHA-256 digest
//! of the grant subject key. A record at `copilot:{role}:session:{id}` whose
//! `subjectKey` is missing or different belongs to someone else: it is never
//! read further and never overwritten. That caller's own session then lives
//! at `copilot:{role}:session:{id}:{first 16 hex of its subjectKey}`. So a
//! guessed or leaked `sessionId` gives neither the transcript nor a way to
//! plant pending ops, and the legitimate owner keeps the contract's key.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Role;
use sf_core::error::ApiError;
use sf_core::ports::Kv;

pub const SESSION_TTL_S: u64 = 86_400;
/// Turns kept (user and assistant messages together).
pub const MAX_TURNS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub role: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourcePage {
    pub url: String,
    pub fetched_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingConsent {
    pub kind: String,
    pub url: String,
    pub asked_at_ms: u64,
    /// The request that asked for the page, used as the user request once
    /// consent arrives (the consenting turn itself is just "yes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPolicy {
    /// `scope`, `group` or `sensitive` (confirm only with "apply across widget").
    pub kind: String,
    pub created_at_ms: u64,
    pub ops: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_id: String,
    pub subject_key: String,
    pub created_at_ms: u64,
    pub last_active_at_ms: u64,
    #[serde(default)]
    pub successful_edits: u64,
    pub turns: Vec<Turn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_consent: Option<PendingConsent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_policy: Option<PendingPolicy>,
}

impl Session {
    fn fresh(session_id: &str, owner: &str, now: u64) -> Self {
        Self {
            session_id: session_id.to_owned(),
            subject_key: owner.to_owned(),
            created_at_ms: now,
            last_active_at_ms: now,
            successful_edits: 0,
            turns: Vec::new(),
            source: None,
            conversation_language: None,
            language_confidence: None,
            pending_consent: None,
            pending_policy: None,
        }
    }

    /// Appends one exchange and keeps the last [`MAX_TURNS`] messages.
    pub fn push_exchange(&mut self, user: &str, assistant: &str) {
        self.turns.push(Turn {
            role: "user".into(),
            content: user.into(),
        });
        self.turns.push(Turn {
            role: "assistant".into(),
            content: assistant.into(),
        });
        let excess = self.turns.len().saturating_sub(MAX_TURNS);
        self.turns.drain(..excess);
    }
}

/// A loaded session and the key it is saved under.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub session: Session,
    pub key: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored owner tag for a grant subject key.
pub fn owner_tag(subject_key: &str) -> String {
    hex(&Sha256::digest(subject_key.as_bytes()))
}

/// `copilot:{role}:session:{id}`; overlong ids (KV keys stop at 512 bytes)
/// are replaced by their digest.
pub fn primary_key(role: Role, session_id: &str) -> String {
    let id = if session_id.len() > 400 {
        format!("sha256-{}", hex(&Sha256::digest(session_id.as_bytes())))
    } else {
        session_id.to_owned()
    };
    format!("copilot:{}:session:{id}", role.name())
}

fn corrupted() -> ApiError {
    ApiError::provider(500, "sanfrancisco", "Session store is corrupted")
}

fn store_error() -> ApiError {
    ApiError::provider(500, "sanfrancisco", "Session store is unavailable")
}

enum Read {
    Absent,
    Mine(Box<Session>),
    Foreign,
}

fn classify(raw: &str, owner: &str) -> Result<Read, ApiError> {
    let v: Value = serde_json::from_str(raw).map_err(|_| corrupted())?;
    let obj = v.as_object().ok_or_else(corrupted)?;
    if obj.get("subjectKey").and_then(Value::as_str) != Some(owner) {
        return Ok(Read::Foreign);
    }
    if !obj.get("turns").is_some_and(Value::is_array) {
        return Err(corrupted());
    }
    serde_json::from_value(v)
        .map(Read::Mine)
        .map_err(|_| corrupted())
}

/// Loads the caller's session (a fresh one when there is none).
pub async fn load<K: Kv>(
    kv: &K,
    role: Role,
    session_id: &str,
    subject_key: &str,
    now: u64,
) -> Result<Loaded, ApiError> {
    let owner = owner_tag(subject_key);
    let primary = primary_key(role, session_id);
    let read = match kv.get(&primary).await.map_err(|_| store_error())? {
        None => Read::Absent,
        Some(raw) => classify(&raw, &owner)?,
    };
    let key = match read {
        Read::Mine(session) => {
            return Ok(Loaded {
                session: *session,
                key: primary,
            })
        }
        Read::Absent => primary,
        Read::Foreign => {
            let alt = format!("{primary}:{}", &owner[..16]);
            if let Some(raw) = kv.get(&alt).await.map_err(|_| store_error())? {
                if let Read::Mine(session) = classify(&raw, &owner)? {
                    return Ok(Loaded {
                        session: *session,
                        key: alt,
                    });
                }
            }
            alt
        }
    };
    Ok(Loaded {
        session: Session::fresh(session_id, &owner, now),
        key,
    })
}

pub async fn save<K: Kv>(kv: &K, loaded: &Loaded) -> Result<(), ApiError> {
    let body = serde_json::to_string(&loaded.session).map_err(|_| store_error())?;
    kv.put(&loaded.key, &body, Some(SESSION_TTL_S))
        .await
        .map_err(|_| store_error())
}
