//! The admin routes (`admin` scheme, checked by dispatch):
//! `POST|GET /admin/v1/tenants`, `PATCH /admin/v1/tenants/{id}`,
//! `POST|DELETE /admin/v1/tenants/{id}/keys`, `GET /admin/v1/tenants/{id}/usage`.

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode};
use sf_core::http::{
    decode_param, json_response, parse_json_body, query_param, RouteCtx, RouteOut,
};
use sf_core::ports::{Clock, Host};

use crate::keys;
use crate::store::{self, Tenant};
use crate::validate;

const LIST_LIMIT: usize = 1000;
const DAY_MS: i64 = 86_400_000;

fn now<H: Host>(h: &H) -> i64 {
    i64::try_from(h.clock().now_ms()).unwrap_or(i64::MAX)
}

fn body_or_empty(cx: &RouteCtx) -> Result<Value, ApiError> {
    if cx.req.body().is_empty() {
        Ok(json!({}))
    } else {
        parse_json_body(cx.req.body())
    }
}

/// The tenant named by the path's `{id}`, or 404.
async fn tenant<H: Host>(h: &H, cx: &RouteCtx) -> Result<Tenant, ApiError> {
    let not_found = || ApiError::new(404, ErrorCode::BadRequest, "Tenant not found");
    let id = cx
        .param
        .as_deref()
        .and_then(decode_param)
        .ok_or_else(not_found)?;
    store::by_id(h, &id).await?.ok_or_else(not_found)
}

/// `POST /admin/v1/tenants` `{slug, platform, tier}` → 201
/// `{"tenant": {...}, "apiKey": "sk-sf-...", "keyId"}` (the key is shown once).
pub async fn create_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let body = parse_json_body(cx.req.body())?;
    validate::only_fields(&body, &["slug", "platform", "tier"])?;
    let slug = validate::slug(body.get("slug"))?;
    let platform = validate::platform(body.get("platform"))?;
    let tier = validate::tier(body.get("tier"))?;
    if store::by_slug(h, &slug).await?.is_some() {
        return Err(ApiError::new(
            409,
            ErrorCode::BadRequest,
            format!("Invalid `slug`: a tenant with slug \"{slug}\" exists; choose another slug"),
        ));
    }
    let t = now(h);
    let tenant = Tenant {
        id: store::new_id(h),
        slug,
        platform,
        tier,
        created_at_ms: t,
        updated_at_ms: t,
    };
    let key = keys::generate(h.random());
    store::create(h, &tenant, &key).await?;
    Ok(json_response(
        201,
        &json!({"tenant": tenant.to_json(), "apiKey": key.api_key, "keyId": key.key_id}),
    ))
}

/// `GET /admin/v1/tenants` → `{"tenants": [...]}`.
pub async fn list_route<H: Host>(h: &H, _cx: RouteCtx) -> RouteOut {
    let list: Vec<Value> = store::list(h, LIST_LIMIT)
        .await?
        .iter()
        .map(Tenant::to_json)
        .collect();
    Ok(json_response(200, &json!({"tenants": list})))
}

/// `PATCH /admin/v1/tenants/{id}` `{platform?, tier?}` → `{"tenant": {...}, "keys": [...]}`.
/// The slug is fixed (it names the tenant everywhere else).
pub async fn update_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let mut t = tenant(h, &cx).await?;
    let body = parse_json_body(cx.req.body())?;
    if body.get("slug").is_some() {
        return Err(ApiError::bad_request(
            "Invalid `slug`: the slug cannot change; create a new tenant for a new slug",
        ));
    }
    validate::only_fields(&body, &["platform", "tier"])?;
    if body.get("platform").is_some() {
        t.platform = validate::platform(body.get("platform"))?;
    }
    if body.get("tier").is_some() {
        t.tier = validate::tier(body.get("tier"))?;
    }
    t.updated_at_ms = now(h);
    store::update(h, &t).await?;
    let keys = store::keys_of(h, &t.id).await?;
    Ok(json_response(
        200,
        &json!({"tenant": t.to_json(), "keys": keys}),
    ))
}

/// `POST /admin/v1/tenants/{id}/keys` `{expiresInDays?}` → 201
/// `{"keyId", "apiKey", "expiresAtMs"}` (the key is shown once).
pub async fn key_create_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let t = tenant(h, &cx).await?;
    let body = body_or_empty(&cx)?;
    validate::only_fields(&body, &["expiresInDays"])?;
    let days = validate::expires_in_days(body.get("expiresInDays"))?;
    let now = now(h);
    let expires = days.map(|d| now.saturating_add(i64::try_from(d).unwrap_or(0) * DAY_MS));
    let key = store::add_key(h, &t.id, now, expires).await?;
    Ok(json_response(
        201,
        &json!({
            "tenantId": t.id, "keyId": key.key_id, "apiKey": key.api_key, "expiresAtMs": expires,
        }),
    ))
}

/// `DELETE /admin/v1/tenants/{id}/keys?keyId=...` (or a body `{"keyId"}`) →
/// `{"keyId", "revokedAtMs"}`; 404 for a key the tenant has not (or revoked).
pub async fn key_revoke_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let t = tenant(h, &cx).await?;
    let key_id = match query_param(&cx, "keyId").and_then(decode_param) {
        Some(k) => k,
        None => {
            let body = body_or_empty(&cx)?;
            body.get("keyId").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
                ApiError::bad_request(
                    "Missing `keyId`: pass the key id as `?keyId=<id>` or a body `{\"keyId\": \"<id>\"}` (the 12 hex digits after `sk-sf-`)",
                )
            })?
        }
    };
    let now = now(h);
    if !store::revoke_key(h, &t.id, &key_id, now).await? {
        return Err(ApiError::new(
            404,
            ErrorCode::BadRequest,
            "Key not found (or already revoked)",
        ));
    }
    Ok(json_response(
        200,
        &json!({"tenantId": t.id, "keyId": key_id, "revokedAtMs": now}),
    ))
}

/// `GET /admin/v1/tenants/{id}/usage?days=N` (default 30, at most 366).
pub async fn usage_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let t = tenant(h, &cx).await?;
    let days = match query_param(&cx, "days") {
        None => 30,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if (1..=366).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "Invalid `days`: a whole number from 1 to 366",
                ))
            }
        },
    };
    let since = now(h).saturating_sub(days * DAY_MS);
    let mut body = store::usage_summary(h, &t.id, since).await?;
    body["slug"] = json!(t.slug);
    body["tier"] = json!(t.tier);
    body["shadow"] = crate::shadow::today(h, &t.id, h.clock().now_ms()).await;
    Ok(json_response(200, &body))
}
