//! Tenant cases (issue 13, runtime/tenants): the admin routes create a tenant
//! (its key shown once), list, update, add, revoke and expire keys, and read
//! usage; validation errors name the field. The target must set
//! `SF_ADMIN_TOKEN` to [`crate::approvals::ADMIN_TOKEN`].

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::approvals::ADMIN_TOKEN;
use crate::assert::ensure;
use crate::http::request;
use crate::mock::{MockUpstream, Script};

pub use crate::assert::CaseResult;
pub type TenantsCase<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

/// One JSON call; `token` is sent as a bearer token.
pub use crate::http::json_call as call;

/// A slug unique to this run.
pub fn unique_slug(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{nanos:x}")
}

/// Creates a tenant through the admin API: `(tenant id, api key)`.
pub fn create_tenant(base: &str, slug: &str, tier: &str) -> Result<(String, String), String> {
    let (s, v) = call(
        base,
        "POST",
        "/admin/v1/tenants",
        Some(ADMIN_TOKEN),
        &json!({"slug": slug, "platform": "web", "tier": tier}),
    )?;
    ensure(s == 201, || format!("create tenant: {s} {v}"))?;
    let id = v["tenant"]["id"].as_str().ok_or("no tenant.id")?.to_owned();
    let key = v["apiKey"].as_str().ok_or("no apiKey")?.to_owned();
    Ok((id, key))
}

fn admin(base: &str, method: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
    call(base, method, path, Some(ADMIN_TOKEN), body)
}

fn crud(base: &str) -> CaseResult {
    let slug = unique_slug("conf");
    let (s, v) = call(
        base,
        "POST",
        "/admin/v1/tenants",
        None,
        &json!({"slug": slug}),
    )?;
    ensure(s == 401, || {
        format!("no admin token must be 401, got {s} {v}")
    })?;
    let (id, key) = create_tenant(base, &slug, "free")?;
    ensure(key.starts_with("sk-sf-"), || format!("key shape: {key}"))?;
    let (s, v) = admin(
        base,
        "POST",
        "/admin/v1/tenants",
        &json!({"slug": slug, "platform": "web", "tier": "free"}),
    )?;
    ensure(s == 409 && v.to_string().contains("slug"), || {
        format!("duplicate slug: {s} {v}")
    })?;
    let (s, v) = admin(base, "GET", "/admin/v1/tenants", &Value::Null)?;
    let listed = v["tenants"]
        .as_array()
        .is_some_and(|l| l.iter().any(|t| t["id"] == id.as_str()));
    ensure(s == 200 && listed, || format!("list: {s} {v}"))?;
    ensure(
        !v.to_string().contains(&key) && !v.to_string().contains("hash"),
        || "the list must not show keys".into(),
    )?;
    let (s, v) = admin(
        base,
        "PATCH",
        &format!("/admin/v1/tenants/{id}"),
        &json!({"tier": "premium"}),
    )?;
    ensure(
        s == 200 && v["tenant"]["tier"] == "premium" && v["tenant"]["slug"] == slug.as_str(),
        || format!("patch: {s} {v}"),
    )?;
    ensure(v["keys"].as_array().is_some_and(|k| k.len() == 1), || {
        format!("patch keys: {v}")
    })?;
    let (s, v) = admin(
        base,
        "PATCH",
        "/admin/v1/tenants/nope",
        &json!({"tier": "free"}),
    )?;
    ensure(s == 404, || format!("unknown tenant: {s} {v}"))?;
    Ok(())
}

fn validation(base: &str) -> CaseResult {
    for (body, field) in [
        (
            json!({"slug": "Bad Slug", "platform": "web", "tier": "free"}),
            "slug",
        ),
        (json!({"slug": "ok-slug", "tier": "free"}), "platform"),
        (
            json!({"slug": "ok-slug", "platform": "web", "tier": "gold"}),
            "tier",
        ),
        (
            json!({"slug": "ok-slug", "platform": "web", "tier": "free", "x": 1}),
            "x",
        ),
    ] {
        let (s, v) = admin(base, "POST", "/admin/v1/tenants", &body)?;
        let msg = v["error"]["message"].as_str().unwrap_or("");
        ensure(s == 400 && msg.contains(&format!("`{field}`")), || {
            format!("{body}: {s} {v}")
        })?;
    }
    let (s, v) = admin(
        base,
        "POST",
        "/admin/v1/tenants",
        &json!({"slug": "ok-slug", "platform": "web", "tier": "gold"}),
    )?;
    ensure(s == 400 && v.to_string().contains("free, premium"), || {
        format!("tier fix: {v}")
    })?;
    Ok(())
}

fn keys(base: &str) -> CaseResult {
    let (id, first) = create_tenant(base, &unique_slug("keys"), "free")?;
    let path = format!("/admin/v1/tenants/{id}/keys");
    let (s, v) = admin(base, "POST", &path, &json!({"expiresInDays": 30}))?;
    ensure(s == 201 && v["expiresAtMs"].is_u64(), || {
        format!("new key: {s} {v}")
    })?;
    let second = v["apiKey"].as_str().unwrap_or("").to_owned();
    ensure(second.starts_with("sk-sf-") && second != first, || {
        format!("second key: {v}")
    })?;
    let (s, v) = admin(base, "POST", &path, &json!({"expiresInDays": 0}))?;
    ensure(s == 400 && v.to_string().contains("expiresInDays"), || {
        format!("bad expiry: {s} {v}")
    })?;
    let key_id = first
        .trim_start_matches("sk-sf-")
        .split('_')
        .next()
        .unwrap_or("")
        .to_owned();
    let (s, v) = admin(
        base,
        "DELETE",
        &format!("{path}?keyId={key_id}"),
        &Value::Null,
    )?;
    ensure(s == 200 && v["keyId"] == key_id.as_str(), || {
        format!("revoke: {s} {v}")
    })?;
    let (s, v) = admin(
        base,
        "DELETE",
        &format!("{path}?keyId={key_id}"),
        &Value::Null,
    )?;
    ensure(s == 404, || format!("revoking twice: {s} {v}"))?;
    let (s, v) = admin(base, "DELETE", &path, &Value::Null)?;
    ensure(s == 400 && v.to_string().contains("keyId"), || {
        format!("no key id: {s} {v}")
    })?;
    let (s, v) = admin(
        base,
        "GET",
        &format!("/admin/v1/tenants/{id}"),
        &Value::Null,
    )?;
    ensure(s == 404, || format!("no GET on one tenant: {s} {v}"))?;
    Ok(())
}

fn usage(base: &str) -> CaseResult {
    let (id, _) = create_tenant(base, &unique_slug("usage"), "free")?;
    let (s, v) = admin(
        base,
        "GET",
        &format!("/admin/v1/tenants/{id}/usage"),
        &Value::Null,
    )?;
    ensure(
        s == 200 && v["totals"]["requests"].is_u64() && v["tenantId"] == id.as_str(),
        || format!("usage: {s} {v}"),
    )?;
    let (s, _) = admin(
        base,
        "GET",
        &format!("/admin/v1/tenants/{id}/usage?days=0"),
        &Value::Null,
    )?;
    ensure(s == 400, || format!("days=0 must be 400, got {s}"))?;
    Ok(())
}

fn completions(base: &str, mock: &MockUpstream) -> CaseResult {
    mock.reset(Script {
        content: "hello tenant".into(),
        status: 200,
        delay_ms: 0,
    });
    let (_, key) = create_tenant(base, &unique_slug("chat"), "free")?;
    let (s, v) = call(base, "GET", "/v1/models", Some(&key), &Value::Null)?;
    ensure(
        s == 200 && v["object"] == "list" && v["data"][0]["id"] == "deepseek-chat",
        || format!("models: {s} {v}"),
    )?;
    let auth = format!("Bearer {key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body =
        json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20});
    let r = request(
        base,
        "POST",
        "/v1/chat/completions",
        &headers,
        body.to_string().as_bytes(),
    )?;
    let v = r.json();
    ensure(
        r.status == 200
            && v["choices"][0]["message"]["content"] == "hello tenant"
            && v["object"] == "chat.completion",
        || format!("completion: {} {v}", r.status),
    )?;
    ensure(
        r.header("x-ratelimit-remaining-requests").is_some()
            && r.header("x-ratelimit-remaining-tokens").is_some(),
        || format!("rate-limit headers: {:?}", r.headers),
    )?;
    let mut sbody = body.clone();
    sbody["stream"] = json!(true);
    let r = request(
        base,
        "POST",
        "/v1/chat/completions",
        &headers,
        sbody.to_string().as_bytes(),
    )?;
    let text = String::from_utf8_lossy(&r.body).to_string();
    ensure(
        r.status == 200
            && text.contains("chat.completion.chunk")
            && text.trim_end().ends_with("data: [DONE]")
            && text.contains("\"total_tokens\""),
        || format!("stream: {} {text}", r.status),
    )?;
    let (s, _) = call(
        base,
        "POST",
        "/v1/chat/completions",
        Some("sk-sf-wrong"),
        &body,
    )?;
    ensure(s == 401, || format!("a wrong key must be 401, got {s}"))?;
    Ok(())
}

pub fn cases<'a>(base: &'a str, mock: &'a MockUpstream) -> Vec<TenantsCase<'a>> {
    vec![
        (
            "tenants chat completions and models with a tenant key",
            Box::new(move || completions(base, mock)),
        ),
        (
            "tenants admin create, list, update",
            Box::new(move || crud(base)),
        ),
        (
            "tenants validation names the field and the fix",
            Box::new(move || validation(base)),
        ),
        (
            "tenants keys: add with expiry, revoke",
            Box::new(move || keys(base)),
        ),
        ("tenants usage summary", Box::new(move || usage(base))),
    ]
}
