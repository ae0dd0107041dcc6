//! D1 access for tenants, their keys and usage (`migrations/0004_tenants.sql`).

use serde_json::{json, Value};

use sf_core::error::ApiError;
use sf_core::ports::{Host, Random, Sql, SqlRow, SqlStatement, SqlValue};

use crate::keys::{self, NewKey};

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub platform: String,
    pub tier: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Tenant {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "slug": self.slug, "platform": self.platform, "tier": self.tier,
            "createdAtMs": self.created_at_ms, "updatedAtMs": self.updated_at_ms,
        })
    }
    fn from_row(r: &SqlRow) -> Option<Self> {
        Some(Self {
            id: r.text("id")?.to_owned(),
            slug: r.text("slug")?.to_owned(),
            platform: r.text("platform")?.to_owned(),
            tier: r.text("tier")?.to_owned(),
            created_at_ms: r.int("created_at")?,
            updated_at_ms: r.int("updated_at")?,
        })
    }
}

pub fn unavailable(_: impl std::fmt::Display) -> ApiError {
    ApiError::provider(503, "sanfrancisco", "Tenant store unavailable")
}

fn stmt(sql: &str, params: Vec<SqlValue>) -> SqlStatement {
    SqlStatement::new(sql, params)
}

const TENANT_COLS: &str = "id, slug, platform, tier, created_at, updated_at";

pub async fn by_id<H: Host>(h: &H, id: &str) -> Result<Option<Tenant>, ApiError> {
    let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE id = ?");
    let rows = h
        .sql()
        .query(stmt(&sql, vec![id.into()]))
        .await
        .map_err(unavailable)?;
    Ok(rows.first().and_then(Tenant::from_row))
}

pub async fn by_slug<H: Host>(h: &H, slug: &str) -> Result<Option<Tenant>, ApiError> {
    let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE slug = ?");
    let rows = h
        .sql()
        .query(stmt(&sql, vec![slug.into()]))
        .await
        .map_err(unavailable)?;
    Ok(rows.first().and_then(Tenant::from_row))
}

pub async fn list<H: Host>(h: &H, limit: usize) -> Result<Vec<Tenant>, ApiError> {
    let sql = format!("SELECT {TENANT_COLS} FROM tenants ORDER BY created_at, id LIMIT ?");
    let lim = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = h
        .sql()
        .query(stmt(&sql, vec![lim.into()]))
        .await
        .map_err(unavailable)?;
    Ok(rows.iter().filter_map(Tenant::from_row).collect())
}

fn insert_key(t: &str, k: &NewKey, now: i64, expires: Option<i64>) -> SqlStatement {
    stmt(
        "INSERT INTO tenant_keys (key_id, tenant_id, key_hash, created_at, revoked_at, expires_at) VALUES (?, ?, ?, ?, NULL, ?)",
        vec![k.key_id.as_str().into(), t.into(), k.hash.as_str().into(), now.into(), expires.into()],
    )
}

/// Creates the tenant and its first key in one transaction.
pub async fn create<H: Host>(h: &H, t: &Tenant, key: &NewKey) -> Result<(), ApiError> {
    let ins = stmt(
        "INSERT INTO tenants (id, slug, platform, tier, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            t.id.as_str().into(), t.slug.as_str().into(), t.platform.as_str().into(),
            t.tier.as_str().into(), t.created_at_ms.into(), t.updated_at_ms.into(),
        ],
    );
    let k = insert_key(&t.id, key, t.created_at_ms, None);
    h.sql().batch(vec![ins, k]).await.map_err(|e| {
        if e.message.contains("UNIQUE") {
            ApiError::new(
                409,
                sf_core::error::ErrorCode::BadRequest,
                format!(
                    "Invalid `slug`: a tenant with slug \"{}\" exists; choose another slug",
                    t.slug
                ),
            )
        } else {
            unavailable(e)
        }
    })
}

pub async fn update<H: Host>(h: &H, t: &Tenant) -> Result<(), ApiError> {
    let s = stmt(
        "UPDATE tenants SET platform = ?, tier = ?, updated_at = ? WHERE id = ?",
        vec![
            t.platform.as_str().into(),
            t.tier.as_str().into(),
            t.updated_at_ms.into(),
            t.id.as_str().into(),
        ],
    );
    h.sql().execute(s).await.map_err(unavailable)?;
    Ok(())
}

pub async fn add_key<H: Host>(
    h: &H,
    tenant_id: &str,
    now: i64,
    expires: Option<i64>,
) -> Result<NewKey, ApiError> {
    let key = keys::generate(h.random());
    h.sql()
        .execute(insert_key(tenant_id, &key, now, expires))
        .await
        .map_err(unavailable)?;
    Ok(key)
}

/// Revokes one key of a tenant; `false` if it has no such unrevoked key.
pub async fn revoke_key<H: Host>(
    h: &H,
    tenant_id: &str,
    key_id: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let s = stmt(
        "UPDATE tenant_keys SET revoked_at = ? WHERE key_id = ? AND tenant_id = ? AND revoked_at IS NULL",
        vec![now.into(), key_id.into(), tenant_id.into()],
    );
    Ok(h.sql().execute(s).await.map_err(unavailable)? > 0)
}

/// The keys of a tenant (metadata only: the hash never leaves the store).
pub async fn keys_of<H: Host>(h: &H, tenant_id: &str) -> Result<Vec<Value>, ApiError> {
    let s = stmt(
        "SELECT key_id, created_at, revoked_at, expires_at FROM tenant_keys WHERE tenant_id = ? ORDER BY created_at, key_id",
        vec![tenant_id.into()],
    );
    let rows = h.sql().query(s).await.map_err(unavailable)?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({"keyId": r.text("key_id"), "createdAtMs": r.int("created_at"),
                        "revokedAtMs": r.int("revoked_at"), "expiresAtMs": r.int("expires_at")})
        })
        .collect())
}

/// Why a presented key was refused (all answer 401 with the same message:
/// a caller learns nothing about which keys exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    Malformed,
    Unknown,
    Revoked,
    Expired,
}

/// The tenant a presented API key belongs to: looked up by key id, then the
/// secret's hash compared in constant time.
pub async fn authenticate<H: Host>(
    h: &H,
    api_key: &str,
    now: i64,
) -> Result<Result<Tenant, KeyRefusal>, ApiError> {
    let Some((key_id, secret)) = keys::parse(api_key) else {
        return Ok(Err(KeyRefusal::Malformed));
    };
    let s = stmt(
        "SELECT k.key_hash, k.revoked_at, k.expires_at, t.id, t.slug, t.platform, t.tier, t.created_at, t.updated_at \
         FROM tenant_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_id = ?",
        vec![key_id.into()],
    );
    let rows = h.sql().query(s).await.map_err(unavailable)?;
    let Some(row) = rows.first() else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    let hash = row.text("key_hash").unwrap_or("");
    if !keys::matches(secret, hash) {
        return Ok(Err(KeyRefusal::Unknown));
    }
    if row.int("revoked_at").is_some() {
        return Ok(Err(KeyRefusal::Revoked));
    }
    if row.int("expires_at").is_some_and(|e| now >= e) {
        return Ok(Err(KeyRefusal::Expired));
    }
    Tenant::from_row(row)
        .map(Ok)
        .ok_or_else(|| unavailable("bad tenant row"))
}

/// One usage row (one chat completion).
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub tenant_id: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub latency_ms: i64,
    pub cost_usd: f64,
    pub created_at_ms: i64,
}

pub fn usage_insert(u: &Usage) -> SqlStatement {
    stmt(
        "INSERT INTO usage (tenant_id, model, tokens_in, tokens_out, latency_ms, cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            u.tenant_id.as_str().into(), u.model.as_str().into(), u.tokens_in.into(), u.tokens_out.into(),
            u.latency_ms.into(), u.cost_usd.into(), u.created_at_ms.into(),
        ],
    )
}

/// Totals and per-model sums of a tenant's usage since `since_ms`.
pub async fn usage_summary<H: Host>(
    h: &H,
    tenant_id: &str,
    since_ms: i64,
) -> Result<Value, ApiError> {
    let s = stmt(
        "SELECT model, COUNT(*) AS requests, SUM(tokens_in) AS tokens_in, SUM(tokens_out) AS tokens_out, \
         SUM(latency_ms) AS latency_ms, SUM(cost_usd) AS cost_usd FROM usage \
         WHERE tenant_id = ? AND created_at >= ? GROUP BY model ORDER BY model",
        vec![tenant_id.into(), since_ms.into()],
    );
    let rows = h.sql().query(s).await.map_err(unavailable)?;
    let num = |r: &SqlRow, c: &str| match r.get(c) {
        Some(SqlValue::Integer(i)) => *i as f64,
        Some(SqlValue::Real(f)) => *f,
        _ => 0.0,
    };
    let (mut req, mut tin, mut tout, mut cost) = (0.0, 0.0, 0.0, 0.0);
    let by_model: Vec<Value> = rows
        .iter()
        .map(|r| {
            let n = num(r, "requests");
            req += n;
            tin += num(r, "tokens_in");
            tout += num(r, "tokens_out");
            cost += num(r, "cost_usd");
            json!({
                "model": r.text("model"), "requests": n as u64,
                "tokensIn": num(r, "tokens_in") as u64, "tokensOut": num(r, "tokens_out") as u64,
                "costUsd": num(r, "cost_usd"),
                "avgLatencyMs": if n > 0.0 { (num(r, "latency_ms") / n).round() as u64 } else { 0 },
            })
        })
        .collect();
    Ok(json!({
        "tenantId": tenant_id, "sinceMs": since_ms,
        "totals": {"requests": req as u64, "tokensIn": tin as u64, "tokensOut": tout as u64, "costUsd": cost},
        "byModel": by_model,
    }))
}

pub fn new_id<H: Host>(h: &H) -> String {
    h.random().uuid_v4()
}
