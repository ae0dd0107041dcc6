//! The admin UI's login and the `admin` scheme over the in-memory host:
//! `POST|GET|DELETE /admin/v1/session`, the session cookie on admin routes
//! (expiry, forgery, CSRF on state-changing calls), the bearer token as
//! before, and `GET /admin/v1/policy`.

use std::rc::Rc;

use serde_json::{json, Value};
use sf_core::policy::POLICY_VERSION;
use sf_core::testkit::FakeHost;
use sf_runtime::admin_session::SESSION_TTL_MS;
use sf_runtime::Gateway;

const TOKEN: &str = "admin-test-token";

fn gateway() -> Rc<Gateway<FakeHost>> {
    Gateway::new(
        FakeHost::new()
            .with_var("ENVIRONMENT", "local")
            .with_var("SF_ADMIN_TOKEN", TOKEN),
    )
}

struct Answer {
    status: u16,
    body: Value,
    cookies: Vec<String>,
}

fn send(
    gw: &Rc<Gateway<FakeHost>>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = body.map(|v| v.to_string().into_bytes()).unwrap_or_default();
    let res = futures_executor::block_on(gw.handle(b.body(body).expect("request")));
    Answer {
        status: res.status().as_u16(),
        body: serde_json::from_slice(res.body()).unwrap_or(Value::Null),
        cookies: res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .collect(),
    }
}

/// Logs in; returns (the `Cookie` header a browser would send, the CSRF value).
fn login(gw: &Rc<Gateway<FakeHost>>) -> (String, String) {
    let a = send(
        gw,
        "POST",
        "/admin/v1/session",
        &[],
        Some(json!({"token": TOKEN})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let pairs: Vec<&str> = a
        .cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .collect();
    let csrf = a.body["csrf"].as_str().expect("csrf").to_owned();
    (pairs.join("; "), csrf)
}

#[test]
fn login_sets_an_http_only_strict_cookie_with_an_expiry_and_a_csrf_cookie() {
    let gw = gateway();
    let a = send(
        &gw,
        "POST",
        "/admin/v1/session",
        &[],
        Some(json!({"token": TOKEN})),
    );
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["expiresAtMs"],
        json!(sf_core::testkit::START_MS + SESSION_TTL_MS)
    );
    assert_eq!(a.cookies.len(), 2, "{:?}", a.cookies);
    let session = &a.cookies[0];
    assert!(session.starts_with("sf_admin=v1."), "{session}");
    for part in [
        "Path=/admin",
        "Max-Age=43200",
        "SameSite=Strict",
        "HttpOnly",
    ] {
        assert!(session.contains(part), "{part} missing in {session}");
    }
    assert!(!session.contains("Secure"), "plain http: {session}");
    assert!(!session.contains(TOKEN));
    let csrf = &a.cookies[1];
    assert_eq!(
        csrf.split(';').next(),
        Some(format!("sf_admin_csrf={}", a.body["csrf"].as_str().unwrap_or("")).as_str())
    );
    assert!(!csrf.contains("HttpOnly"), "the UI reads this one: {csrf}");

    // Over HTTPS (the Worker sees the URL; a proxy says so) both are Secure.
    for (uri, headers) in [
        ("https://admin.example/admin/v1/session", vec![]),
        ("/admin/v1/session", vec![("x-forwarded-proto", "https")]),
    ] {
        let a = send(&gw, "POST", uri, &headers, Some(json!({"token": TOKEN})));
        assert_eq!(a.status, 200);
        assert!(
            a.cookies.iter().all(|c| c.ends_with("; Secure")),
            "{:?}",
            a.cookies
        );
    }
}

#[test]
fn a_wrong_or_missing_token_gets_no_session() {
    let gw = gateway();
    let a = send(
        &gw,
        "POST",
        "/admin/v1/session",
        &[],
        Some(json!({"token": "nope"})),
    );
    assert_eq!(a.status, 403);
    assert_eq!(a.body["error"]["message"], "Invalid admin token");
    assert!(a.cookies.is_empty());
    let a = send(&gw, "POST", "/admin/v1/session", &[], Some(json!({})));
    assert_eq!(a.status, 400);
    assert!(a.cookies.is_empty());
    // A gateway without SF_ADMIN_TOKEN names the variable.
    let bare = Gateway::new(FakeHost::new().with_var("ENVIRONMENT", "local"));
    let a = send(
        &bare,
        "POST",
        "/admin/v1/session",
        &[],
        Some(json!({"token": ""})),
    );
    assert_eq!(a.status, 500);
    assert_eq!(a.body["error"]["message"], "Missing SF_ADMIN_TOKEN");
}

#[test]
fn the_cookie_opens_admin_reads_until_it_expires() {
    let gw = gateway();
    let (cookie, _) = login(&gw);
    let a = send(
        &gw,
        "GET",
        "/admin/v1/approvals",
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, json!({"approvals": []}));
    let me = send(
        &gw,
        "GET",
        "/admin/v1/session",
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(me.status, 200);
    assert_eq!(me.body["via"], "session");

    // Without it, 401; with a forged one, 401.
    let a = send(&gw, "GET", "/admin/v1/approvals", &[], None);
    assert_eq!(a.status, 401);
    assert_eq!(a.body["error"]["message"], "Missing auth token");
    let forged = cookie.replacen("sf_admin=v1.", "sf_admin=v1.9", 1);
    let a = send(
        &gw,
        "GET",
        "/admin/v1/approvals",
        &[("cookie", &forged)],
        None,
    );
    assert_eq!(a.status, 401);
    assert_eq!(
        a.body["error"]["message"],
        "Admin session expired or invalid: log in again at /admin/"
    );

    // Past its expiry the same cookie is refused.
    let clock = &gw.host().clock;
    clock.now.set(clock.now.get() + SESSION_TTL_MS);
    let a = send(
        &gw,
        "GET",
        "/admin/v1/approvals",
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(a.status, 401);
    let me = send(
        &gw,
        "GET",
        "/admin/v1/session",
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(me.status, 401);
}

#[test]
fn state_changing_calls_with_the_cookie_need_the_csrf_header() {
    let gw = gateway();
    let (cookie, csrf) = login(&gw);
    let path = "/admin/v1/approvals/ap-missing";
    let body = Some(json!({"decision": "approve"}));
    let a = send(&gw, "POST", path, &[("cookie", &cookie)], body.clone());
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body["error"]["message"],
        "Missing or wrong `x-sf-csrf` header: send the `csrf` value the login returned (cookie `sf_admin_csrf`)"
    );
    let a = send(
        &gw,
        "POST",
        path,
        &[("cookie", &cookie), ("x-sf-csrf", "0000")],
        body.clone(),
    );
    assert_eq!(a.status, 403);
    // Another session's CSRF value does not fit this session.
    let clock = &gw.host().clock;
    clock.now.set(clock.now.get() + 1);
    let (_, other_csrf) = login(&gw);
    assert_ne!(other_csrf, csrf);
    let a = send(
        &gw,
        "POST",
        path,
        &[("cookie", &cookie), ("x-sf-csrf", &other_csrf)],
        body.clone(),
    );
    assert_eq!(a.status, 403);
    // The right one passes auth: the handler answers (no such approval).
    let a = send(
        &gw,
        "POST",
        path,
        &[("cookie", &cookie), ("x-sf-csrf", &csrf)],
        body,
    );
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(a.body["error"]["message"], "Approval not found");
}

#[test]
fn the_bearer_token_works_as_before_and_wins_over_a_cookie() {
    let gw = gateway();
    let (cookie, _) = login(&gw);
    let bearer = format!("Bearer {TOKEN}");
    let a = send(
        &gw,
        "GET",
        "/admin/v1/approvals",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(a.status, 200);
    // No CSRF header needed for a bearer call.
    let a = send(
        &gw,
        "POST",
        "/admin/v1/approvals/ap-missing",
        &[("authorization", &bearer)],
        Some(json!({"decision": "deny"})),
    );
    assert_eq!(a.status, 404);
    // A wrong bearer is refused even next to a valid cookie.
    let a = send(
        &gw,
        "GET",
        "/admin/v1/approvals",
        &[("authorization", "Bearer wrong"), ("cookie", &cookie)],
        None,
    );
    assert_eq!(a.status, 403);
    assert_eq!(a.body["error"]["message"], "Invalid auth token");
}

#[test]
fn logout_clears_both_cookies() {
    let gw = gateway();
    let a = send(&gw, "DELETE", "/admin/v1/session", &[], None);
    assert_eq!(a.status, 200);
    assert_eq!(a.body, json!({"ok": true}));
    assert_eq!(a.cookies.len(), 2);
    assert!(a.cookies[0].starts_with("sf_admin=; Path=/admin; Max-Age=0;"));
    assert!(a.cookies[1].starts_with("sf_admin_csrf=; Path=/admin; Max-Age=0;"));
}

#[test]
fn the_policy_route_serves_the_compiled_policy() {
    let gw = gateway();
    let bearer = format!("Bearer {TOKEN}");
    let a = send(&gw, "GET", "/admin/v1/policy", &[], None);
    assert_eq!(a.status, 401);
    let a = send(
        &gw,
        "GET",
        "/admin/v1/policy",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(a.status, 200);
    let p = &a.body;
    assert_eq!(p["policyVersion"], POLICY_VERSION);
    let agents = p["agents"].as_array().expect("agents");
    assert_eq!(agents.len(), sf_core::policy::Agent::ALL.len());
    assert!(agents.iter().any(|x| x["id"] == "sdr.copilot"));
    assert!(p["agents"][0]["budgets"]["free_low"]["maxTokens"].is_u64());
    assert!(p["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .any(|r| r["path"] == "/admin/v1/policy" && r["auth"] == "admin"));
    assert_eq!(p["tenancy"]["defaultTier"], "free");
    let criteria = p["learning"]["criteria"].as_array().expect("criteria");
    assert_eq!(criteria.len(), 4);
    assert!(criteria.contains(&json!({"id": "validOpsRate", "bound": "min", "threshold": 0.8})));
    assert!(criteria.contains(&json!({"id": "p95LatencyMs", "bound": "max", "threshold": 8000.0})));
    assert!(p["learning"]["scoring"]
        .as_array()
        .expect("scoring")
        .iter()
        .any(|s| s["agentId"] == "sdr.copilot"));
}
