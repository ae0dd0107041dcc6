//! Grants: `v1.<b64url(payload JSON)>.<b64url(HMAC-SHA256)>` (CONTRACT.md section 3).
//!
//! Wire-compatible with Paris' `mintGrant` and the original `verifyGrant`, with
//! the deliberate improvements of DESIGN.md:
//!
//! * the MAC is checked **first**, over the literal ASCII `"v1." + payloadB64`,
//!   in constant time, before any byte of the payload is decoded or parsed, so
//!   unauthenticated input never reaches the JSON parser and the error
//!   messages are no oracle about the payload;
//! * a signature part that is not base64 is `401 "Grant signature mismatch"`
//!   (the original threw outside its `try` and answered 500).
//!
//! Everything after the MAC keeps the original order: payload decode →
//! required fields → `jti` → subject → expiry → `ai` normalisation.
//!
//! This module does not depend on the generated policy: the provider and
//! profile names a grant may mention are passed in as [`GrantNames`].

use std::ops::Range;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::b64;
use crate::error::{ApiError, ErrorCode};
use crate::jsjson::{js_number, js_to_string, number};
use crate::rawjson::{
    is_object, non_empty, object_entries, object_fields, range_in, raw_number, v_str, JsonStr,
};
use crate::secret::{ct_eq, hmac_sha256_parts, js_trim};

pub use crate::jsjson::js_stringify;
pub use crate::paris::{mint_grant, outcome_signature, verify_outcome_signature};

/// The names an `ai` capsule may use. The lead fills this from the policy
/// (`Provider::ALL` filtered by `grantable()`, `Profile::ALL`).
#[derive(Debug, Clone, Copy)]
pub struct GrantNames<'a> {
    /// Providers allowed in `ai.allowedProviders` / `defaultProvider` / `selectedProvider`.
    pub providers: &'a [&'a str],
    /// Values accepted for `ai.profile`.
    pub profiles: &'a [&'a str],
}

impl GrantNames<'static> {
    /// The lists of the original at ccf97ff8 (CONTRACT.md 3.4), for tests and tools
    /// that run without a compiled policy.
    pub const CONTRACT: GrantNames<'static> = GrantNames {
        providers: &["deepseek", "openai", "anthropic", "groq", "amazon"],
        profiles: &[
            "free_low",
            "paid_standard",
            "paid_premium",
            "curated_premium",
        ],
    };
}

/// Who the grant was issued to (`sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Anon {
        session_id: String,
    },
    User {
        user_id: String,
        workspace_id: String,
    },
    Service {
        service_id: String,
    },
}

impl Subject {
    /// `subjectKey` of the original (CONTRACT.md 8.3): sessionId, `userId:workspaceId` or serviceId.
    pub fn key(&self) -> String {
        match self {
            Subject::Anon { session_id } => session_id.clone(),
            Subject::User {
                user_id,
                workspace_id,
            } => format!("{user_id}:{workspace_id}"),
            Subject::Service { service_id } => service_id.clone(),
        }
    }
}

/// `mode` of the grant; not otherwise used by the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Editor,
    Ops,
}

/// `ai.models[provider]` after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsEntry {
    pub default_model: String,
    pub allowed: Vec<String>,
}

/// The normalised `ai` capsule (CONTRACT.md 3.4).
#[derive(Debug, Clone, PartialEq)]
pub struct AiPolicy {
    pub profile: String,
    /// Trimmed; duplicates kept, order kept.
    pub allowed_providers: Vec<String>,
    pub default_provider: String,
    pub allow_provider_choice: bool,
    pub allow_model_choice: bool,
    pub selected_provider: Option<String>,
    pub selected_model: Option<String>,
    /// In the grant's key order; providers not allowed or malformed entries dropped.
    pub models: Vec<(String, ModelsEntry)>,
    /// Kept but never enforced (as in the original).
    pub token_budget_day: Option<f64>,
    pub token_budget_month: Option<f64>,
}

impl AiPolicy {
    pub fn models_for(&self, provider: &str) -> Option<&ModelsEntry> {
        self.models
            .iter()
            .find(|(p, _)| p == provider)
            .map(|(_, m)| m)
    }

    /// The normalised capsule as the original would have put it back into
    /// `payload.ai` (only keys with values; `models` omitted if empty).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("profile".into(), self.profile.clone().into());
        m.insert(
            "allowedProviders".into(),
            Value::from(self.allowed_providers.clone()),
        );
        m.insert(
            "defaultProvider".into(),
            self.default_provider.clone().into(),
        );
        if self.allow_provider_choice {
            m.insert("allowProviderChoice".into(), true.into());
        }
        if self.allow_model_choice {
            m.insert("allowModelChoice".into(), true.into());
        }
        if let Some(p) = &self.selected_provider {
            m.insert("selectedProvider".into(), p.clone().into());
        }
        if let Some(p) = &self.selected_model {
            m.insert("selectedModel".into(), p.clone().into());
        }
        if !self.models.is_empty() {
            let mut models = Map::new();
            for (p, e) in &self.models {
                let mut entry = Map::new();
                entry.insert("defaultModel".into(), e.default_model.clone().into());
                entry.insert("allowed".into(), Value::from(e.allowed.clone()));
                models.insert(p.clone(), Value::Object(entry));
            }
            m.insert("models".into(), Value::Object(models));
        }
        if let Some(x) = self.token_budget_day {
            m.insert("tokenBudgetDay".into(), number(x));
        }
        if let Some(x) = self.token_budget_month {
            m.insert("tokenBudgetMonth".into(), number(x));
        }
        Value::Object(m)
    }
}

/// A verified grant.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub jti: Option<String>,
    pub sub: Subject,
    /// Epoch seconds, may be fractional.
    pub exp: f64,
    pub caps: Vec<String>,
    pub mode: Mode,
    /// The normalised capsule; `None` when `ai` is absent or not an object
    /// (such grants only run `debug.grantProbe`).
    pub ai: Option<AiPolicy>,
    /// `maxTokens`, `timeoutMs`, `maxRequests`, `maxCostUsd` as sent (the
    /// accessors validate them lazily, as the original does).
    budget_vals: [Option<Value>; 4],
    budgets_range: Range<usize>,
    /// The decoded payload text; `raw()`, `trace()` and `sub_json()` parse
    /// from it on demand, so verification never builds the whole JSON tree.
    payload: String,
    trace: Option<Range<usize>>,
    sub_range: Range<usize>,
}

fn invalid(msg: &str) -> ApiError {
    ApiError::grant_invalid(msg)
}

fn bad_budget(name: &str) -> ApiError {
    ApiError::new(
        400,
        ErrorCode::GrantInvalid,
        format!("Grant budgets.{name} must be a positive number"),
    )
}

const SIG_MISMATCH: &str = "Grant signature mismatch";

/// Verifies a grant token at `now_ms` (epoch milliseconds).
///
/// `secret` is the raw value of `AI_GRANT_HMAC_SECRET`. The original SF
/// verified with the raw value while Paris signs with `secret.trim()`; with a
/// secret that carries stray white space (a trailing newline from a secrets
/// file is the usual case) the two disagree. We accept a MAC made with either
/// the raw or the trimmed secret, so grants from Paris and from tools that
/// copied the original SF behaviour both verify; neither form widens the key
/// space an attacker can use.
///
/// Errors are the 401s of CONTRACT.md 3.3/3.4 (`GRANT_INVALID`, or
/// `GRANT_EXPIRED "Grant expired"`). A secret that is empty after trimming
/// is a `500 PROVIDER_ERROR(sanfrancisco) "Missing AI_GRANT_HMAC_SECRET"`
/// whatever the token: an empty HMAC key would let anyone mint grants.
pub fn verify_grant(
    token: &str,
    secret: &[u8],
    now_ms: u64,
    names: &GrantNames<'_>,
) -> Result<Grant, ApiError> {
    if secret_is_blank(secret) {
        return Err(ApiError::missing_var(
            crate::policy::Var::AiGrantHmacSecret.name(),
        ));
    }
    // 1. Format: exactly three dot-separated parts, the first `v1`.
    let mut parts = token.split('.');
    let (Some(version), Some(payload_b64), Some(sig_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("Invalid grant format"));
    };
    if version != "v1" {
        return Err(invalid("Invalid grant format"));
    }

    // 2. MAC first (the improvement): undecodable signature = mismatch.
    let Some(sig) = b64::decode_forgiving(sig_b64) else {
        return Err(invalid(SIG_MISMATCH));
    };
    if !mac_matches(secret, payload_b64, &sig) {
        return Err(invalid(SIG_MISMATCH));
    }

    // 3. Payload: forgiving base64 → UTF-8 with replacement → JSON object.
    let Some(bytes) = b64::decode_forgiving(payload_b64) else {
        return Err(invalid("Invalid grant payload"));
    };
    let payload = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    // Only the fields the gateway reads are materialised; the rest of the
    // payload is validated as JSON and skipped (see `object_fields`).
    let Some(top) = object_fields(&payload, &TOP_FIELDS) else {
        return Err(invalid("Invalid grant payload"));
    };
    let [v, iss, jti, sub, exp, caps, budgets, mode, ai, trace] = top;

    // 4. Required fields.
    let v_ok = v.and_then(raw_number) == Some(1.0);
    let iss_ok = v_str(iss).as_deref() == Some("paris");
    let exp = exp.and_then(raw_number);
    let caps = caps.and_then(|c| serde_json::from_str::<Vec<JsonStr>>(c.get()).ok());
    let budgets = budgets.filter(|b| is_object(b));
    let sub = sub.filter(|s| is_object(s));
    let mode = match v_str(mode).as_deref() {
        Some("editor") => Some(Mode::Editor),
        Some("ops") => Some(Mode::Ops),
        _ => None,
    };
    let (true, true, Some(exp), Some(caps), Some(budgets), Some(sub), Some(mode)) =
        (v_ok, iss_ok, exp, caps, budgets, sub, mode)
    else {
        return Err(invalid("Grant missing required fields"));
    };

    // 5. jti: optional, but when present a non-empty string.
    let jti = match jti {
        None => None,
        Some(j) => match v_str(Some(j)) {
            Some(s) if !s.is_empty() => Some(s.into_owned()),
            _ => return Err(invalid("Grant jti is invalid")),
        },
    };

    // 6. Subject.
    let sub_range = range_in(&payload, sub);
    let sub = parse_subject(sub)?;

    // 7. Expiry: no skew allowance, as the original.
    if exp <= (now_ms / 1000) as f64 {
        return Err(ApiError::new(401, ErrorCode::GrantExpired, "Grant expired"));
    }

    // 8. `ai` normalisation, only for plain objects; other values stay as they are.
    let ai = match ai.filter(|a| is_object(a)) {
        Some(ai) => Some(normalize_ai(ai, names)?),
        None => None,
    };

    let budget_vals = object_fields(budgets.get(), &BUDGET_FIELDS)
        .unwrap_or_default()
        .map(|v| v.and_then(|v| serde_json::from_str(v.get()).ok()));
    let budgets_range = range_in(&payload, budgets);
    let trace = trace.map(|t| range_in(&payload, t));
    Ok(Grant {
        jti,
        sub,
        exp,
        caps: caps.into_iter().map(|c| c.0.into_owned()).collect(),
        mode,
        ai,
        budget_vals,
        budgets_range,
        trace,
        sub_range,
        payload,
    })
}

const BUDGET_FIELDS: [&str; 4] = ["maxTokens", "timeoutMs", "maxRequests", "maxCostUsd"];

const TOP_FIELDS: [&str; 10] = [
    "v", "iss", "jti", "sub", "exp", "caps", "budgets", "mode", "ai", "trace",
];

/// Constant-time MAC check with the raw secret and, when it differs, the
/// JS-trimmed one (see [`verify_grant`]). Both MACs are always computed so the
/// timing does not tell which form matched.
fn mac_matches(secret: &[u8], payload_b64: &str, sig: &[u8]) -> bool {
    let parts: [&[u8]; 2] = [b"v1.", payload_b64.as_bytes()];
    let raw_ok = ct_eq(&hmac_sha256_parts(secret, &parts), sig);
    let trimmed = std::str::from_utf8(secret)
        .map(|s| js_trim(s).as_bytes())
        .unwrap_or(secret);
    if trimmed.len() == secret.len() {
        return raw_ok;
    }
    let trimmed_ok = ct_eq(&hmac_sha256_parts(trimmed, &parts), sig);
    raw_ok | trimmed_ok
}

fn secret_is_blank(secret: &[u8]) -> bool {
    match std::str::from_utf8(secret) {
        Ok(s) => js_trim(s).is_empty(),
        Err(_) => secret.is_empty(),
    }
}

fn parse_subject(sub: &RawValue) -> Result<Subject, ApiError> {
    let kind_err = || invalid("Grant subject kind is invalid");
    let [kind, session, user, workspace, service] = object_fields(
        sub.get(),
        &["kind", "sessionId", "userId", "workspaceId", "serviceId"],
    )
    .ok_or_else(kind_err)?;
    match v_str(kind).as_deref() {
        Some("anon") => non_empty(session)
            .map(|s| Subject::Anon {
                session_id: s.into_owned(),
            })
            .ok_or_else(|| invalid("Grant subject missing sessionId")),
        Some("user") => match (non_empty(user), non_empty(workspace)) {
            (Some(u), Some(w)) => Ok(Subject::User {
                user_id: u.into_owned(),
                workspace_id: w.into_owned(),
            }),
            _ => Err(invalid("Grant subject missing userId/workspaceId")),
        },
        Some("service") => non_empty(service)
            .map(|s| Subject::Service {
                service_id: s.into_owned(),
            })
            .ok_or_else(|| invalid("Grant subject missing serviceId")),
        _ => Err(kind_err()),
    }
}

const AI_FIELDS: [&str; 10] = [
    "profile",
    "allowedProviders",
    "defaultProvider",
    "allowProviderChoice",
    "allowModelChoice",
    "selectedProvider",
    "selectedModel",
    "models",
    "tokenBudgetDay",
    "tokenBudgetMonth",
];

fn normalize_ai(ai: &RawValue, names: &GrantNames<'_>) -> Result<AiPolicy, ApiError> {
    let missing = || invalid("Grant ai policy missing required fields");
    let [profile, allowed, default, apc, amc, sel_provider, sel_model, models, day, month] =
        object_fields(ai.get(), &AI_FIELDS).ok_or_else(missing)?;
    let is_provider = |s: &str| names.providers.contains(&s);
    let profile = v_str(profile).filter(|p| names.profiles.contains(&p.as_ref()));
    let allowed: Option<Vec<String>> = allowed
        .and_then(|a| serde_json::from_str::<Vec<JsonStr>>(a.get()).ok())
        .filter(|a| !a.is_empty())
        .and_then(|a| {
            a.iter()
                .map(|p| {
                    Some(js_trim(&p.0))
                        .filter(|p| is_provider(p))
                        .map(str::to_owned)
                })
                .collect()
        });
    // `defaultProvider` is compared untrimmed, as the original does.
    let default = v_str(default).filter(|p| is_provider(p));
    let (Some(profile), Some(allowed), Some(default)) = (profile, allowed, default) else {
        return Err(missing());
    };
    let is_allowed = |p: &str| allowed.iter().any(|a| a == p);
    if !is_allowed(&default) {
        return Err(invalid("Grant ai policy defaultProvider is not allowed"));
    }

    let selected_provider = match sel_provider {
        None => None,
        Some(r) if r.get() == "null" => None,
        Some(r) => {
            let Some(s) = v_str(Some(r)) else {
                return Err(invalid("Grant ai policy selectedProvider is invalid"));
            };
            let s = js_trim(&s);
            if s.is_empty() {
                None
            } else if !is_provider(s) {
                return Err(invalid("Grant ai policy selectedProvider is invalid"));
            } else if !is_allowed(s) {
                return Err(invalid("Grant ai policy selectedProvider is not allowed"));
            } else {
                Some(s.to_owned())
            }
        }
    };
    let selected_model = v_str(sel_model)
        .map(|m| js_trim(&m).to_owned())
        .filter(|s| !s.is_empty());

    let models = match models {
        None => Vec::new(),
        Some(m) if is_object(m) => object_entries(m.get())
            .unwrap_or_default()
            .into_iter()
            .filter(|(p, _)| is_provider(p) && is_allowed(p))
            .filter_map(|(p, cfg)| Some((p.into_owned(), models_entry(cfg)?)))
            .collect(),
        Some(_) => return Err(invalid("Grant ai policy models must be an object")),
    };

    Ok(AiPolicy {
        profile: profile.into_owned(),
        allowed_providers: allowed,
        default_provider: default.into_owned(),
        allow_provider_choice: apc.is_some_and(|v| v.get() == "true"),
        allow_model_choice: amc.is_some_and(|v| v.get() == "true"),
        selected_provider,
        selected_model,
        models,
        token_budget_day: day.and_then(raw_number),
        token_budget_month: month.and_then(raw_number),
    })
}

/// One `models` entry, or `None` when the original silently drops it.
fn models_entry(cfg: &RawValue) -> Option<ModelsEntry> {
    if !is_object(cfg) {
        return None;
    }
    let [default_model, allowed] = object_fields(cfg.get(), &["defaultModel", "allowed"])?;
    let default_model = v_str(default_model)?;
    let default_model = js_trim(&default_model);
    if default_model.is_empty() {
        return None;
    }
    let allowed: Vec<String> = serde_json::from_str::<Vec<JsonStr>>(allowed?.get())
        .ok()?
        .iter()
        .map(|m| {
            Some(js_trim(&m.0))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
        .collect::<Option<_>>()?;
    if !allowed.iter().any(|m| m == default_model) {
        return None;
    }
    Some(ModelsEntry {
        default_model: default_model.to_owned(),
        allowed,
    })
}

impl Grant {
    /// Exact membership of a capability string such as `agent:sdr.copilot`.
    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c == cap)
    }

    /// `subjectKey` of CONTRACT.md 8.3.
    pub fn subject_key(&self) -> String {
        self.sub.key()
    }

    /// The decoded payload as sent (unknown fields preserved, `ai` as Paris
    /// sent it; the normalised capsule is [`Grant::ai`]). Parsed on each call.
    pub fn raw(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or_default()
    }

    /// The decoded payload text.
    pub fn payload_json(&self) -> &str {
        &self.payload
    }

    /// `budgets` as sent (always a JSON object: checked at verification).
    /// Parsed on each call; read the budgets through the typed accessors below.
    pub fn budgets(&self) -> Value {
        self.payload
            .get(self.budgets_range.clone())
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// `trace` as sent (`None` when absent); events copy it. Parsed on each call.
    pub fn trace(&self) -> Option<Value> {
        let r = self.trace.clone()?;
        serde_json::from_str(self.payload.get(r)?).ok()
    }

    /// `sub` as sent; events copy it. Parsed on each call.
    pub fn sub_json(&self) -> Value {
        self.payload
            .get(self.sub_range.clone())
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    fn budget(&self, name: &str) -> Option<&Value> {
        let i = BUDGET_FIELDS.iter().position(|n| *n == name)?;
        self.budget_vals[i].as_ref()
    }

    /// A present budget must be a finite number > 0 (serde numbers are finite).
    fn positive(&self, name: &str) -> Result<Option<f64>, ApiError> {
        match self.budget(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x > 0.0 => Ok(Some(x)),
                _ => Err(bad_budget(name)),
            },
        }
    }

    /// `budgets.maxTokens`, required; as given (may be fractional).
    /// Error: `400 GRANT_INVALID "Grant budgets.maxTokens must be a positive number"`.
    pub fn max_tokens(&self) -> Result<f64, ApiError> {
        self.positive("maxTokens")?
            .ok_or_else(|| bad_budget("maxTokens"))
    }

    /// `budgets.timeoutMs`, default 20000.
    pub fn timeout_ms(&self) -> Result<f64, ApiError> {
        Ok(self.positive("timeoutMs")?.unwrap_or(20000.0))
    }

    /// `budgets.maxRequests` as `max(1, floor(x))`, default 1.
    pub fn max_requests(&self) -> Result<u64, ApiError> {
        Ok(self
            .positive("maxRequests")?
            .map_or(1, |x| (x.floor() as u64).max(1)))
    }

    /// The raw `budgets.maxRequests` (unfloored, default 1) that the widget
    /// copilot reads to decide on a repair call (CONTRACT.md 3.5).
    pub fn raw_max_requests(&self) -> f64 {
        self.budget("maxRequests")
            .and_then(Value::as_f64)
            .unwrap_or(1.0)
    }

    /// `budgets.maxCostUsd`, `None` when absent.
    pub fn max_cost_usd(&self) -> Result<Option<f64>, ApiError> {
        self.positive("maxCostUsd")
    }

    /// The per-grant budget counter key of CONTRACT.md 8.3:
    /// `ai-budget:{jti ?? (trace.sessionId ?? subjectKey) + ":" + caps.join(",") + ":" + exp}:{agentId}`.
    pub fn budget_key(&self, agent_id: &str) -> String {
        let id = match &self.jti {
            Some(j) => j.clone(),
            None => {
                let trace = self.trace();
                let session = match trace.as_ref().and_then(|t| t.get("sessionId")) {
                    None | Some(Value::Null) => self.subject_key(),
                    Some(v) => js_to_string(v),
                };
                format!("{session}:{}:{}", self.caps.join(","), js_number(self.exp))
            }
        };
        format!("ai-budget:{id}:{agent_id}")
    }
}

// Plain `#[path]` relative to this file's directory, so the module also
// resolves when the file is included from elsewhere.
#[cfg(test)]
#[path = "grants/tests.rs"]
mod tests;
