//! Localization cases (CONTRACT 2.8, 2.10, 10.5): the gateway reads Tokyo and
//! Paris, and calls the Responses API, all on the suite's mock upstream, so the
//! target must point `TOKYO_BASE_URL`, `PARIS_BASE_URL` and `OPENAI_BASE_URL`
//! at it and have some `OPENAI_API_KEY`.

use serde_json::{json, Value};

use crate::assert::ensure;
use crate::http::{request, Response};
use crate::mock::MockUpstream;

pub use crate::assert::CaseResult;
pub type L10nCase<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

/// The fingerprint of [`snapshot`], computed with Node's `crypto` over the
/// contract's stableStringify (keys sorted with `Array.prototype.sort`).
const FINGERPRINT: &str = "3dd34fe6b93496f3e45e278515850ccacc60430f743ad954f5d77d2035ba6176";

fn snapshot() -> Value {
    json!({
        "title": "Frequently asked",
        "sections.0.title": "Billing",
        "sections.1.title": "",
        "sections.0.faqs.0.question": "Can I pay yearly?",
        "sections.0.faqs.0.answer": "<p>Yes, <b>save</b> 20%.</p>",
    })
}

fn config() -> Value {
    json!({
        "title": "Frequently asked",
        "theme": {"accent": "not allowlisted"},
        "sections": [
            {"title": "Billing", "faqs": [{"question": "Can I pay yearly?", "answer": "<p>Yes, <b>save</b> 20%.</p>"}]},
            {"title": "", "faqs": []}
        ]
    })
}

fn allowlist() -> String {
    json!({"v": 1, "paths": [
        {"path": "title", "type": "string"},
        {"path": "sections.*.title", "type": "string"},
        {"path": "sections.*.faqs.*.question", "type": "string"},
        {"path": "sections.*.faqs.*.answer", "type": "richtext"},
        {"path": "sections.*.__proto__.x", "type": "string"}
    ]})
    .to_string()
}

fn expect_error(res: &Response, status: u16, code: &str, message: &str) -> CaseResult {
    let b = res.json();
    ensure(
        res.status == status && b["error"]["code"] == code && b["error"]["message"] == message,
        || {
            format!(
                "expected {status} {code} {message:?}, got {} {}",
                res.status,
                String::from_utf8_lossy(&res.body)
            )
        },
    )
}

/// A widget type no earlier run has cached in the target's KV.
fn fresh_widget(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}{nanos}")
}

pub fn cases<'a>(base: &'a str, bearer: &'a str, mock: &'a MockUpstream) -> Vec<L10nCase<'a>> {
    let auth = format!("Bearer {bearer}");
    let post = move |path: &str, body: &Value| -> Result<Response, String> {
        request(
            base,
            "POST",
            path,
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            body.to_string().as_bytes(),
        )
    };
    let post = std::rc::Rc::new(post);
    let (p1, p2, p3, p4, p5, p6) = (
        post.clone(),
        post.clone(),
        post.clone(),
        post.clone(),
        post.clone(),
        post,
    );
    vec![
        (
            "l10n plan from a config",
            Box::new(move || {
                let w = fresh_widget("faq");
                mock.route(
                    "GET",
                    &format!("/widgets/{w}/localization.json"),
                    200,
                    &allowlist(),
                );
                let res = p1(
                    "/v1/l10n/plan",
                    &json!({"widgetType": w, "config": config()}),
                )?;
                let want = json!({"widgetType": w, "baseFingerprint": FINGERPRINT, "baseUpdatedAt": null, "snapshot": snapshot()});
                ensure(res.status == 200 && res.json() == want, || {
                    format!("got {} {}", res.status, String::from_utf8_lossy(&res.body))
                })?;
                // The allowlist is cached: a second plan does not ask Tokyo again.
                let asked =
                    |m: &MockUpstream| m.seen().iter().filter(|s| s.path.contains(&w)).count();
                let before = asked(mock);
                let again = p1(
                    "/v1/l10n/plan",
                    &json!({"widgetType": w, "config": config()}),
                )?;
                ensure(again.status == 200 && asked(mock) == before, || {
                    format!(
                        "second plan: {} and {} Tokyo reads",
                        again.status,
                        asked(mock)
                    )
                })
            }),
        ),
        (
            "l10n plan reads the instance from Paris with the internal headers",
            Box::new(move || {
                let w = fresh_widget("faq");
                mock.route(
                    "GET",
                    &format!("/widgets/{w}/localization.json"),
                    200,
                    &allowlist(),
                );
                let path = "/api/workspaces/ws-conf/instance/wgt_conf?subject=workspace";
                let instance = json!({"widgetType": w, "config": config(), "updatedAt": "2026-11-30T10:00:00.000Z"});
                mock.route("GET", path, 200, &instance.to_string());
                let res = p2(
                    "/v1/l10n/plan",
                    &json!({"widgetType": "ignored", "publicId": "wgt_conf", "workspaceId": "ws-conf"}),
                )?;
                let b = res.json();
                ensure(
                    res.status == 200
                        && b["widgetType"] == w.as_str()
                        && b["baseFingerprint"] == FINGERPRINT
                        && b["baseUpdatedAt"] == "2026-11-30T10:00:00.000Z",
                    || format!("got {} {b}", res.status),
                )?;
                let seen = mock.seen();
                let call = seen
                    .iter()
                    .rev()
                    .find(|s| s.path == path)
                    .ok_or("Paris was not called")?;
                let header = |n: &str| {
                    call.headers
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, v)| v.as_str())
                };
                ensure(
                    header("authorization") == Some(&format!("Bearer {bearer}"))
                        && header("x-ck-internal-service") == Some("sanfrancisco.l10n")
                        && header("cache-control") == Some("no-store"),
                    || format!("Paris saw headers {:?}", call.headers),
                )
            }),
        ),
        (
            "l10n plan refuses bad bodies with the contract's messages",
            Box::new(move || {
                expect_error(
                    &p3("/v1/l10n/plan", &json!([1]))?,
                    400,
                    "BAD_REQUEST",
                    "body must be an object",
                )?;
                expect_error(
                    &p3("/v1/l10n/plan", &json!({"config": {}}))?,
                    400,
                    "BAD_REQUEST",
                    "Missing required field: widgetType",
                )?;
                expect_error(
                    &p3(
                        "/v1/l10n/plan",
                        &json!({"widgetType": "faq", "publicId": "p"}),
                    )?,
                    400,
                    "BAD_REQUEST",
                    "Missing required fields: config OR (publicId + workspaceId)",
                )?;
                let res = request(
                    base,
                    "POST",
                    "/v1/l10n/plan",
                    &[("content-type", "application/json")],
                    b"{}",
                )?;
                expect_error(&res, 401, "CAPABILITY_DENIED", "Missing auth token")
            }),
        ),
        (
            "l10n plan names an HTML page from Tokyo instead of parsing it",
            Box::new(move || {
                let w = fresh_widget("html");
                mock.route(
                    "GET",
                    &format!("/widgets/{w}/localization.json"),
                    200,
                    "<!doctype html><html><body>Sign in</body></html>",
                );
                let res = p4(
                    "/v1/l10n/plan",
                    &json!({"widgetType": w, "config": config()}),
                )?;
                let b = res.json();
                ensure(
                    res.status == 502
                        && b["error"]["code"] == "PROVIDER_ERROR"
                        && b["error"]["provider"] == "tokyo"
                        && b["error"]["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("HTML") && m.contains("TOKYO_BASE_URL")),
                    || format!("got {} {b}", res.status),
                )
            }),
        ),
        (
            "l10n translate through the Responses API",
            Box::new(move || {
                let reply = json!({
                    "model": "gpt-5.2",
                    "output_text": json!({"items": [
                        {"path": "nav.home", "value": "Accueil"},
                        {"path": "hero.body", "value": "<p>Bonjour <b>{name}</b></p>"}
                    ]}).to_string(),
                    "usage": {"input_tokens": 30, "output_tokens": 12}
                });
                mock.route("POST", "/v1/responses", 200, &reply.to_string());
                let job = json!({
                    "v": 1, "surface": "prague", "kind": "system", "chunkKey": "home", "blockKind": "page",
                    "locale": "FR_fr", "baseFingerprint": "fp-1", "baseUpdatedAt": "2026-11-30", "allowlistVersion": 1,
                    "items": [
                        {"path": "nav.home", "type": "string", "value": "Home"},
                        {"path": "hero.body", "type": "richtext", "value": "<p>Hello <b>{name}</b></p>"}
                    ]
                });
                let res = p5("/v1/l10n/translate", &job)?;
                let want = json!({"v": 1, "locale": "fr-fr", "items": [
                    {"path": "nav.home", "value": "Accueil"},
                    {"path": "hero.body", "value": "<p>Bonjour <b>{name}</b></p>"}
                ]});
                ensure(res.status == 200 && res.json() == want, || {
                    format!("got {} {}", res.status, String::from_utf8_lossy(&res.body))
                })?;
                let seen = mock.seen();
                let call = seen
                    .iter()
                    .rev()
                    .find(|s| s.path == "/v1/responses")
                    .ok_or("Responses API not called")?;
                let sent: Value = serde_json::from_str(&call.body).unwrap_or_default();
                ensure(
                    sent["text"]["format"]["type"] == "json_schema"
                        && sent["max_output_tokens"] == 2000,
                    || format!("Responses body {sent}"),
                )
            }),
        ),
        (
            "l10n translate refuses bad jobs with the contract's messages",
            Box::new(move || {
                expect_error(
                    &p6("/v1/l10n/translate", &json!({}))?,
                    400,
                    "BAD_REQUEST",
                    "Invalid l10n translate job",
                )?;
                let job = |locale: &str, n: usize| {
                    json!({
                        "v": 1, "surface": "prague", "kind": "system", "chunkKey": "c", "blockKind": "b",
                        "locale": locale, "baseFingerprint": "f", "baseUpdatedAt": "u", "allowlistVersion": 1,
                        "items": (0..n).map(|i| json!({"path": format!("p{i}"), "type": "string", "value": "x"})).collect::<Vec<_>>()
                    })
                };
                expect_error(
                    &p6("/v1/l10n/translate", &job("not a locale!", 1))?,
                    400,
                    "BAD_REQUEST",
                    "Invalid locale",
                )?;
                expect_error(
                    &p6("/v1/l10n/translate", &job("de", 251))?,
                    400,
                    "BAD_REQUEST",
                    "Too many items (251)",
                )?;
                let empty = p6("/v1/l10n/translate", &job("de", 0))?;
                ensure(
                    empty.status == 200
                        && empty.json() == json!({"v": 1, "locale": "de", "items": []}),
                    || {
                        format!(
                            "empty job: {} {}",
                            empty.status,
                            String::from_utf8_lossy(&empty.body)
                        )
                    },
                )
            }),
        ),
    ]
}
