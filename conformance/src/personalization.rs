//! Personalization cases (CONTRACT 2.4-2.7, 4.6, 7.6, 7.7, 10.5): both job
//! routes with Paris' envelope-less body, idempotency by `jobId`, polling to
//! `completed`, the contract's validation messages and the business-profile
//! write with its headers. The model is the suite's mock; Paris too.
//!
//! Page reads go through the network guard, which refuses the mock on
//! 127.0.0.1, so the cases read `.invalid` names (no such host: the page is
//! simply not read) or a refused URL; the head-meta path with a real page is
//! covered by the crate's tests over the in-memory host.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sf_core::grants::mint_grant;

use crate::assert::ensure;
use crate::http::{request, Response};
use crate::mock::{MockUpstream, Script};

pub use crate::assert::CaseResult;
pub type Case<'a> = (&'static str, Box<dyn Fn() -> CaseResult + 'a>);

const PREVIEW: &str = "agent.personalization.preview.v1";
const ONBOARDING: &str = "agent.personalization.onboarding.v1";

fn script(content: &str, status: u16) -> Script {
    Script {
        content: content.into(),
        status,
        delay_ms: 0,
    }
}

/// A job id no earlier run has used on the target.
fn fresh(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("conf-{tag}-{nanos}")
}

struct Client<'a> {
    base: &'a str,
    secret: &'a str,
    auth: String,
}

impl Client<'_> {
    /// A grant as Paris mints it (anonymous subject).
    fn grant(&self, agent: &str) -> String {
        mint_grant(
            &json!({
                "v": 1, "iss": "paris", "jti": fresh("jti"),
                "sub": {"kind": "anon", "sessionId": "conf-pers"}, "exp": 4_102_444_800u64,
                "caps": [format!("agent:{agent}")],
                "budgets": {"maxTokens": 400, "timeoutMs": 20000, "maxRequests": 2}, "mode": "editor",
                "ai": {"profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                    "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                    "allowProviderChoice": false, "allowModelChoice": false}
            }),
            self.secret,
        )
    }

    fn post(&self, kind: &str, body: &Value) -> Result<Response, String> {
        let h = [
            ("content-type", "application/json"),
            ("authorization", self.auth.as_str()),
        ];
        request(
            self.base,
            "POST",
            &format!("/v1/personalization/{kind}"),
            &h,
            body.to_string().as_bytes(),
        )
    }

    /// Paris' HTTP fallback body: `{command, payload}`, no `v`/`kind`.
    fn enqueue(&self, kind: &str, payload: Value) -> Result<Response, String> {
        self.post(
            kind,
            &json!({"command": format!("personalization.{kind}.enqueue"), "payload": payload}),
        )
    }

    /// Polls the status route until the job has ended (or 15 s pass).
    fn wait(&self, kind: &str, job: &str) -> Result<Value, String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let path = format!("/v1/personalization/{kind}/{job}");
        loop {
            let res = request(
                self.base,
                "GET",
                &path,
                &[("authorization", self.auth.as_str())],
                b"",
            )?;
            let b = res.json();
            if res.status != 200 {
                return Err(format!("status route: {} {b}", res.status));
            }
            if b["status"] == "completed" || b["status"] == "failed" {
                return Ok(b);
            }
            if Instant::now() > deadline {
                return Err(format!("job {job} still {} after 15 s", b["status"]));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn expect_error(res: &Response, status: u16, message: &str) -> CaseResult {
    let b = res.json();
    ensure(
        res.status == status && b["error"]["message"] == message,
        || format!("expected {status} {message:?}, got {} {b}", res.status),
    )
}

pub fn cases<'a>(
    base: &'a str,
    secret: &'a str,
    bearer: &'a str,
    mock: &'a MockUpstream,
) -> Vec<Case<'a>> {
    let c = std::rc::Rc::new(Client {
        base,
        secret,
        auth: format!("Bearer {bearer}"),
    });
    let (c1, c2, c3, c4, c5) = (c.clone(), c.clone(), c.clone(), c.clone(), c);
    vec![
        (
            "personalization preview: Paris' body without v/kind, polled to completed with the model's overrides",
            Box::new(move || {
                mock.reset(script("heroTitle\tBaked fresh every morning\nctaText\tVisit us", 200));
                let job = fresh("p");
                let res = c1.enqueue("preview", json!({"agentId": PREVIEW, "grant": c1.grant(PREVIEW),
                    "url": "https://acme.invalid/", "allowedOverrides": ["heroTitle", "ctaText"], "jobId": job}))?;
                ensure(res.status == 200 && res.json() == json!({"jobId": job}), || {
                    format!("enqueue: {} {}", res.status, res.json())
                })?;
                let b = c1.wait("preview", &job)?;
                ensure(
                    b["status"] == "completed"
                        && b["result"]["copyOverrides"] == json!({"heroTitle": "Baked fresh every morning", "ctaText": "Visit us"})
                        && b.get("usage").is_none()
                        && b["updatedAtMs"].is_number(),
                    || format!("job: {b}"),
                )?;
                // Same jobId again: the same job, not a second run.
                let calls = mock.calls();
                let again = c1.enqueue("preview", json!({"grant": c1.grant(PREVIEW), "url": "https://acme.invalid/", "jobId": job}))?;
                std::thread::sleep(Duration::from_millis(200));
                ensure(again.status == 200 && again.json() == json!({"jobId": job}) && mock.calls() == calls, || {
                    format!("repeat: {} {} and {} model calls", again.status, again.json(), mock.calls() - calls)
                })
            }),
        ),
        (
            "personalization preview: deterministic copy when the model fails, a refused URL fails the job",
            Box::new(move || {
                mock.reset(script("", 500));
                let job = fresh("pd");
                let full = json!({"v": 1, "kind": "sf.command", "command": "personalization.preview.enqueue",
                    "payload": {"grant": c2.grant(PREVIEW), "url": "bakery.invalid", "jobId": job}});
                let res = c2.post("preview", &full)?;
                ensure(res.status == 200, || format!("enqueue: {} {}", res.status, res.json()))?;
                let b = c2.wait("preview", &job)?;
                let r = &b["result"];
                ensure(
                    b["status"] == "completed"
                        && r["confidence"] == 0.35
                        && r["brandName"] == "Bakery"
                        && r["copyOverrides"]["heroTitle"] == "Bakery"
                        && r["notes"].to_string().contains("Model skipped"),
                    || format!("job: {b}"),
                )?;
                let job = fresh("pr");
                c2.enqueue("preview", json!({"grant": c2.grant(PREVIEW), "url": "http://127.0.0.1/", "jobId": job}))?;
                let b = c2.wait("preview", &job)?;
                ensure(
                    b["status"] == "failed" && b["error"] == json!({"message": "URL is not allowed (private_ip)."}),
                    || format!("refused URL: {b}"),
                )
            }),
        ),
        (
            "personalization: validation errors with the contract's messages",
            Box::new(move || {
                let g = c3.grant(PREVIEW);
                expect_error(&c3.enqueue("preview", json!({"grant": g}))?, 400, "Missing url")?;
                expect_error(&c3.enqueue("preview", json!({"url": "a.invalid", "agentId": "sdr.copilot", "grant": g}))?, 400, "Unsupported agentId")?;
                expect_error(&c3.enqueue("preview", json!({"url": "a.invalid"}))?, 400, "Missing grant")?;
                expect_error(&c3.enqueue("onboarding", json!({"url": "a.invalid"}))?, 400, "Missing grant")?;
                expect_error(&c3.enqueue("onboarding", json!({"grant": g, "url": "a.invalid"}))?, 400, "Missing workspaceId or url")?;
                expect_error(
                    &c3.enqueue("onboarding", json!({"grant": g, "url": "a.invalid", "workspaceId": "ws"}))?,
                    403,
                    "Capability denied: agent:agent.personalization.onboarding.v1",
                )?;
                expect_error(&c3.post("preview", &json!({"url": "a.invalid"}))?, 400, "Expected sf.command envelope payload")?;
                expect_error(
                    &c3.post("preview", &json!({"command": "ai.outcome.attach", "payload": {}}))?,
                    400,
                    "Unsupported command \"ai.outcome.attach\" (expected \"personalization.preview.enqueue\")",
                )?;
                let res = request(base, "POST", "/v1/personalization/onboarding", &[], b"{}")?;
                expect_error(&res, 401, "Missing auth token")
            }),
        ),
        (
            "personalization onboarding: the profile is POSTed to Paris with the internal service header",
            Box::new(move || {
                mock.reset(script(
                    r#"{"businessProfile": {"name": "Acme <b>Bakery</b>", "services": ["bread"]}, "confidence": 0.8, "sourcesUsed": ["website", "instagram"]}"#,
                    200,
                ));
                let path = "/api/workspaces/ws-conf-pers/business-profile";
                mock.route("POST", path, 200, r#"{"ok":true}"#);
                let job = fresh("o");
                let res = c4.enqueue("onboarding", json!({"agentId": ONBOARDING, "grant": c4.grant(ONBOARDING),
                    "workspaceId": "ws-conf-pers", "url": "acme.invalid", "websiteDepth": 2,
                    "instagramHandle": "acme", "jobId": job}))?;
                ensure(res.status == 200 && res.json() == json!({"jobId": job}), || {
                    format!("enqueue: {} {}", res.status, res.json())
                })?;
                let b = c4.wait("onboarding", &job)?;
                ensure(
                    b["status"] == "completed"
                        && b.get("persistError").is_none()
                        && b["result"]["businessProfile"] == json!({"name": "Acme Bakery", "services": ["bread"]})
                        && b["result"]["sourcesUsed"] == json!([])
                        && b["result"]["notes"].to_string().contains("Instagram: not configured"),
                    || format!("job: {b}"),
                )?;
                let seen = mock.seen();
                let call = seen.iter().rev().find(|s| s.path == path).ok_or("Paris was not called")?;
                let header = |n: &str| call.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
                ensure(
                    header("authorization") == Some(&format!("Bearer {bearer}"))
                        && header("x-ck-internal-service") == Some("sanfrancisco")
                        && header("content-type").is_some_and(|t| t.contains("application/json")),
                    || format!("Paris saw headers {:?}", call.headers),
                )?;
                let sent: Value = serde_json::from_str(&call.body).unwrap_or_default();
                ensure(
                    sent["profile"]["name"] == "Acme Bakery"
                        && sent["sources"]["agentId"] == ONBOARDING
                        && sent["sources"]["inputUrl"] == "acme.invalid"
                        && !call.body.contains("v1."),
                    || format!("Paris got {sent}"),
                )
            }),
        ),
        (
            "personalization onboarding: a refused profile write is persisted:false with Paris' error",
            Box::new(move || {
                mock.reset(script(r#"{"businessProfile": {"name": "Acme"}}"#, 200));
                mock.route("POST", "/api/workspaces/ws-conf-deny/business-profile", 401, r#"{"error":"AUTH_REQUIRED"}"#);
                let job = fresh("od");
                c5.enqueue("onboarding", json!({"grant": c5.grant(ONBOARDING), "workspaceId": "ws-conf-deny",
                    "url": "acme.invalid", "jobId": job}))?;
                let b = c5.wait("onboarding", &job)?;
                let out = ensure(
                    b["status"] == "completed" && b["persistError"] == r#"{"error":"AUTH_REQUIRED"}"#,
                    || format!("job: {b}"),
                );
                mock.reset(script("", 200));
                out
            }),
        ),
    ]
}
