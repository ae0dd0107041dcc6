//! Black-box conformance suite: the contract's observed vectors (CONTRACT.md
//! section 12) for the routes this gateway serves, plus the improvements it
//! promises (MAC-first, atomic budgets, both outcome shapes), run over HTTP
//! against any base URL: `sf serve` natively or `wrangler dev` for the Worker.
//!
//! The target must be started with:
//! `ENVIRONMENT=dev`, `AI_GRANT_HMAC_SECRET=<secret>`, `PARIS_DEV_JWT=<bearer>`,
//! `DEEPSEEK_API_KEY=<anything>`, `OPENAI_API_KEY=<anything>`, and
//! `DEEPSEEK_BASE_URL`, `OPENAI_BASE_URL`, `TOKYO_BASE_URL`, `PARIS_BASE_URL`
//! all set to the mock's base URL (the suite's own scripted upstream, see
//! [`mock::MockUpstream`]).
//!
//! [`HostKind::Worker`] adds the checks only the Cloudflare host can answer (the
//! cron handler, the port self-test on workerd's bindings, the queue consumer's
//! D1 rows and dead letters, see [`worker`]); [`HostKind::WorkerDegraded`] runs
//! only the checks of a Worker started without KV, D1 and the Durable Object.

pub mod approvals;
pub mod assert;
pub mod http;
pub mod l10n;
pub mod learning;
pub mod learning_review;
pub mod mock;
pub mod personalization;
pub mod tenants;
pub mod worker;

use std::path::PathBuf;
use std::thread;

use serde_json::{json, Value};
use sf_core::grants::{mint_grant, outcome_signature};

pub(crate) use crate::assert::ensure;
use crate::http::{request, Response};
use crate::mock::{MockUpstream, Script};

/// What runs the gateway under test: decides which host-specific cases run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKind {
    /// The contract only (any host: `sf serve`, the Worker).
    #[default]
    Any,
    /// The contract plus the Worker's own checks; the Worker must be built with the
    /// `selftest` feature and run with `SF_SELFTEST=1` (scripts/worker.sh e2e).
    Worker,
    /// Only the checks of a Worker without KV, D1 and the Durable Object.
    WorkerDegraded,
}

pub struct Config<'a> {
    pub base_url: String,
    pub secret: String,
    pub bearer: String,
    pub mock: &'a MockUpstream,
    pub host: HostKind,
    /// The host's log, checked for panics once the cases ran.
    pub host_log: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub passed: Vec<String>,
    pub failed: Vec<(String, String)>,
}

impl Report {
    /// The closing line CI reads: `N passed, M failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed.len(), self.failed.len())
    }

    pub fn record(&mut self, name: impl Into<String>, result: CaseResult) {
        match result {
            Ok(()) => self.passed.push(name.into()),
            Err(e) => self.failed.push((name.into(), e)),
        }
    }
}

pub use crate::assert::CaseResult;

/// A named check run against the gateway.
type Case<'s, S> = (&'static str, Box<dyn Fn(&S) -> CaseResult + 's>);

struct Suite<'a> {
    cfg: &'a Config<'a>,
}

const FAR_FUTURE_S: u64 = 4_102_444_800;

const NOT_FOUND: &str = r#"{"error":{"code":"BAD_REQUEST","message":"Not found"}}"#;

/// `status`, the JSON content type with its charset and `cache-control: no-store`.
pub(crate) fn expect_json(res: &Response, status: u16) -> CaseResult {
    let has = |name: &str, prefix: &str| {
        res.header(name)
            .is_some_and(|v| v.to_ascii_lowercase().starts_with(prefix))
    };
    ensure(res.status == status, || {
        format!(
            "status {}, want {status} (body: {})",
            res.status,
            String::from_utf8_lossy(&res.body)
        )
    })?;
    ensure(
        has("content-type", "application/json; charset=utf-8"),
        || {
            format!(
                "content-type is not application/json; charset=utf-8: {:?}",
                res.header("content-type")
            )
        },
    )?;
    ensure(has("cache-control", "no-store"), || {
        format!(
            "cache-control is not no-store: {:?}",
            res.header("cache-control")
        )
    })
}

/// The contract 404, byte for byte.
pub(crate) fn expect_not_found(res: &Response) -> CaseResult {
    expect_json(res, 404)?;
    ensure(res.body == NOT_FOUND.as_bytes(), || {
        format!(
            "body {}, want {NOT_FOUND}",
            String::from_utf8_lossy(&res.body)
        )
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Suite<'_> {
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Response, String> {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        request(&self.cfg.base_url, "POST", path, &h, body)
    }

    fn execute(&self, body: &Value) -> Result<Response, String> {
        self.post("/v1/execute", &[], body.to_string().as_bytes())
    }

    /// A grant payload like Paris mints, for `agent`, valid for a long time.
    fn payload(&self, agent: &str, jti: &str) -> Value {
        json!({
            "v": 1, "iss": "paris", "jti": jti,
            "sub": {"kind": "anon", "sessionId": "conf-session"},
            "exp": FAR_FUTURE_S,
            "caps": [format!("agent:{agent}")],
            "budgets": {"maxTokens": 200, "timeoutMs": 10000, "maxRequests": 1},
            "mode": "editor",
            "ai": {
                "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false
            },
            "trace": {"sessionId": "conf-session", "envStage": "local"}
        })
    }

    fn mint(&self, payload: &Value) -> String {
        mint_grant(payload, &self.cfg.secret)
    }

    fn expect_error(res: &Response, status: u16, code: &str, message: &str) -> CaseResult {
        let body = res.json();
        ensure(
            res.status == status
                && body["error"]["code"] == code
                && body["error"]["message"] == message
                && res.header("cache-control") == Some("no-store"),
            || {
                format!(
                    "expected {status} {code} {message:?}, got {} {}",
                    res.status,
                    String::from_utf8_lossy(&res.body)
                )
            },
        )
    }

    fn exec_error(&self, body: &Value, status: u16, code: &str, message: &str) -> CaseResult {
        Self::expect_error(&self.execute(body)?, status, code, message)
    }

    fn grant_error(&self, token: &str, status: u16, code: &str, message: &str) -> CaseResult {
        self.exec_error(
            &json!({"grant": token, "agentId": "debug.grantProbe", "input": {}}),
            status,
            code,
            message,
        )
    }

    fn mutated_grant_error(&self, f: impl FnOnce(&mut Value), message: &str) -> CaseResult {
        let mut p = self.payload("debug.grantProbe", "j-mut");
        f(&mut p);
        self.grant_error(&self.mint(&p), 401, "GRANT_INVALID", message)
    }

    fn probe_ok(&self, token: &str) -> CaseResult {
        let res = self.execute(
            &json!({"grant": token, "agentId": "debug.grantProbe", "input": {"ping": "hi"}}),
        )?;
        ensure(
            res.status == 200 && res.json()["result"] == json!({"ok": true, "echo": "hi"}),
            || {
                format!(
                    "expected probe 200, got {} {}",
                    res.status,
                    String::from_utf8_lossy(&res.body)
                )
            },
        )
    }

    fn cases(&self) -> Vec<Case<'_, Self>> {
        vec![
            ("healthz is 200 JSON no-store, {ok,service,env,ts} in that order with a current ts", Box::new(|s: &Self| {
                let res = request(&s.cfg.base_url, "GET", "/healthz", &[], b"")?;
                expect_json(&res, 200)?;
                let b = res.json();
                let text = String::from_utf8_lossy(&res.body);
                let ts = b["ts"].as_u64().unwrap_or(0);
                ensure(
                    text.starts_with(r#"{"ok":true,"service":"sanfrancisco","env":"dev","ts":"#)
                        && b.as_object().map(|o| o.len()) == Some(4)
                        && now_ms().abs_diff(ts) < 60_000,
                    || format!("body {text}"),
                )
            })),
            ("healthz HEAD is 200 JSON no-store", Box::new(|s: &Self| {
                expect_json(&request(&s.cfg.base_url, "HEAD", "/healthz", &[], b"")?, 200)
            })),
            ("unknown route is the contract 404", Box::new(|s: &Self| {
                expect_not_found(&request(&s.cfg.base_url, "GET", "/nope", &[], b"")?)
            })),
            ("wrong method is the contract 404", Box::new(|s: &Self| {
                expect_not_found(&request(&s.cfg.base_url, "DELETE", "/healthz", &[], b"")?)
            })),
            ("raw `, | and ^ in the URL are still routed", Box::new(|s: &Self| {
                expect_json(&request(&s.cfg.base_url, "GET", "/healthz?q=a`b|c^d", &[], b"")?, 200)
            })),
            ("GET /v1/execute is 404", Box::new(|s: &Self| {
                Self::expect_error(&request(&s.cfg.base_url, "GET", "/v1/execute", &[], b"")?, 404, "BAD_REQUEST", "Not found")
            })),
            ("invalid JSON body", Box::new(|s: &Self| {
                Self::expect_error(&s.post("/v1/execute", &[], b"{not json")?, 400, "BAD_REQUEST", "Invalid JSON body")
            })),
            ("invalid UTF-8 body", Box::new(|s: &Self| {
                Self::expect_error(&s.post("/v1/execute", &[], b"{\"grant\":\"\xff\"}")?, 400, "BAD_REQUEST", "Invalid JSON body")
            })),
            ("empty, array and incomplete bodies", Box::new(|s: &Self| {
                for body in [&b""[..], b"[1]", br#"{"grant":"x"}"#, br#"{"grant":"x","agentId":5}"#] {
                    let res = s.post("/v1/execute", &[], body)?;
                    Self::expect_error(&res, 400, "BAD_REQUEST", "Invalid request")?;
                    ensure(res.json()["error"]["issues"] == json!([{"path":"","message":"Expected { grant, agentId, input }"}]), || "issues differ".into())?;
                }
                Ok(())
            })),
            ("grant format", Box::new(|s: &Self| {
                s.grant_error("abc", 401, "GRANT_INVALID", "Invalid grant format")?;
                s.grant_error("v1.a.b.c", 401, "GRANT_INVALID", "Invalid grant format")?;
                s.grant_error("v2.a.b", 401, "GRANT_INVALID", "Invalid grant format")
            })),
            ("MAC is checked before the payload is parsed", Box::new(|s: &Self| {
                // The original parsed first and answered "Invalid grant payload".
                s.grant_error("v1.@@@.c2ln", 401, "GRANT_INVALID", "Grant signature mismatch")
            })),
            ("malformed signature is a 401, not a 500", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("debug.grantProbe", "j1"));
                let head = t.rsplit_once('.').map(|(h, _)| h).unwrap_or_default();
                s.grant_error(&format!("{head}.@@@"), 401, "GRANT_INVALID", "Grant signature mismatch")?;
                s.grant_error(&format!("{head}."), 401, "GRANT_INVALID", "Grant signature mismatch")
            })),
            ("wrong secret", Box::new(|s: &Self| {
                let t = mint_grant(&s.payload("debug.grantProbe", "j2"), "not-the-secret");
                s.grant_error(&t, 401, "GRANT_INVALID", "Grant signature mismatch")
            })),
            ("standard base64 signature with padding is accepted", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("debug.grantProbe", "j3"));
                let (head, sig) = t.rsplit_once('.').unwrap_or_default();
                let mut std_sig = sig.replace('-', "+").replace('_', "/");
                while std_sig.len() % 4 != 0 {
                    std_sig.push('=');
                }
                s.probe_ok(&format!("{head}.{std_sig}"))
            })),
            ("expired grants", Box::new(|s: &Self| {
                let mut p = s.payload("debug.grantProbe", "j4");
                p["exp"] = json!(1_000_000_000);
                s.grant_error(&s.mint(&p), 401, "GRANT_EXPIRED", "Grant expired")?;
                s.grant_error(&mint_grant(&p, "other"), 401, "GRANT_INVALID", "Grant signature mismatch")
            })),
            ("required fields", Box::new(|s: &Self| {
                s.mutated_grant_error(|p| p["exp"] = json!("4102444800"), "Grant missing required fields")?;
                s.mutated_grant_error(|p| p["mode"] = json!("admin"), "Grant missing required fields")?;
                s.mutated_grant_error(|p| p["iss"] = json!("sanfrancisco"), "Grant missing required fields")?;
                s.mutated_grant_error(|p| p["jti"] = json!(5), "Grant jti is invalid")
            })),
            ("subjects", Box::new(|s: &Self| {
                s.mutated_grant_error(|p| p["sub"] = json!({"kind":"robot"}), "Grant subject kind is invalid")?;
                s.mutated_grant_error(|p| p["sub"] = json!({"kind":"user","userId":"u"}), "Grant subject missing userId/workspaceId")?;
                s.mutated_grant_error(|p| p["sub"] = json!({"kind":"anon"}), "Grant subject missing sessionId")?;
                s.mutated_grant_error(|p| p["sub"] = json!({"kind":"service"}), "Grant subject missing serviceId")
            })),
            ("ai policy", Box::new(|s: &Self| {
                s.mutated_grant_error(|p| p["ai"]["defaultProvider"] = json!("openai"), "Grant ai policy defaultProvider is not allowed")?;
                s.mutated_grant_error(|p| p["ai"]["profile"] = json!("gold"), "Grant ai policy missing required fields")?;
                s.mutated_grant_error(|p| p["ai"]["models"] = json!([]), "Grant ai policy models must be an object")?;
                s.mutated_grant_error(|p| p["ai"]["selectedProvider"] = json!("mistral"), "Grant ai policy selectedProvider is invalid")?;
                s.mutated_grant_error(|p| p["ai"]["selectedProvider"] = json!("openai"), "Grant ai policy selectedProvider is not allowed")
            })),
            ("grants without ai, with ai as a string, with budgets {} and fractional exp work for the probe", Box::new(|s: &Self| {
                for f in [
                    (|p: &mut Value| { p.as_object_mut().map(|o| o.remove("ai")); }) as fn(&mut Value),
                    |p: &mut Value| p["ai"] = json!("x"),
                    |p: &mut Value| p["budgets"] = json!({}),
                    |p: &mut Value| p["exp"] = json!(4102444800.5),
                ] {
                    let mut p = s.payload("debug.grantProbe", "j5");
                    f(&mut p);
                    s.probe_ok(&s.mint(&p))?;
                }
                Ok(())
            })),
            ("agent resolution and capabilities", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("debug.grantProbe", "j6"));
                s.exec_error(&json!({"grant": t, "agentId": "nope.agent"}), 403, "CAPABILITY_DENIED", "Unknown agentId: nope.agent")?;
                s.exec_error(&json!({"grant": t, "agentId": "l10n.instance.v1"}), 403, "CAPABILITY_DENIED", "Agent not executable via /v1/execute: l10n.instance.v1")?;
                s.exec_error(&json!({"grant": t, "agentId": "sdr.copilot"}), 403, "CAPABILITY_DENIED", "Capability denied: agent:sdr.copilot")?;
                let mut p = s.payload("debug.grantProbe", "j7");
                p["caps"] = json!([]);
                s.exec_error(&json!({"grant": s.mint(&p), "agentId": "debug.grantProbe"}), 403, "CAPABILITY_DENIED", "Capability denied: agent:debug.grantProbe")
            })),
            ("probe echoes and keeps a well-formed request id", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("debug.grantProbe", "j8"));
                let res = s.execute(&json!({"grant": t, "agentId": "  debug.grantProbe  ", "input": {"ping": "hi"}, "trace": {"requestId": "req-123"}}))?;
                let b = res.json();
                ensure(
                    res.status == 200 && b["requestId"] == "req-123" && b["agentId"] == "debug.grantProbe"
                        && b["result"] == json!({"ok": true, "echo": "hi"})
                        && b["usage"]["provider"] == "sanfrancisco" && b["usage"]["model"] == "debug.grantProbe"
                        && b["usage"]["promptTokens"] == 0 && b["usage"]["completionTokens"] == 0,
                    || format!("got {} {b}", res.status),
                )
            })),
            ("unsafe request ids are replaced by generated ones", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("debug.grantProbe", "j9"));
                for id in ["", "../../etc/passwd", "a b"] {
                    let res = s.execute(&json!({"grant": t, "agentId": "debug.grantProbe", "trace": {"requestId": id}}))?;
                    let got = res.json()["requestId"].as_str().unwrap_or_default().to_owned();
                    ensure(res.status == 200 && got.len() == 36 && got != id, || format!("requestId {id:?} -> {got:?}"))?;
                }
                Ok(())
            })),
            ("probe input must be an object", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("debug.grantProbe", "j10"));
                let res = s.execute(&json!({"grant": t, "agentId": "debug.grantProbe", "input": [1]}))?;
                Self::expect_error(&res, 400, "BAD_REQUEST", "Invalid input")?;
                ensure(res.json()["error"]["issues"] == json!([{"path":"input","message":"Expected an object"}]), || "issues differ".into())
            })),
            ("sdr.copilot answers through the provider and counts requests", Box::new(|s: &Self| {
                s.cfg.mock.reset(Script { content: r#"{"message":"Hi!","next":"continue"}"#.into(), status: 200, delay_ms: 0 });
                let mut p = s.payload("sdr.copilot", "j-sdr-1");
                p["budgets"]["maxRequests"] = json!(2);
                let t = s.mint(&p);
                let body = json!({"grant": t, "agentId": "sdr.copilot", "input": {"sessionId": "conf-sdr-1", "message": "hello"}});
                for _ in 0..2 {
                    let res = s.execute(&body)?;
                    let b = res.json();
                    ensure(
                        res.status == 200 && b["result"] == json!({"message":"Hi!","next":"continue"})
                            && b["usage"]["provider"] == "deepseek" && b["usage"]["promptTokens"] == 11
                            && b["usage"]["completionTokens"] == 7 && b["usage"]["costUsd"].is_number(),
                        || format!("got {} {b}", res.status),
                    )?;
                }
                Self::expect_error(&s.execute(&body)?, 429, "BUDGET_EXCEEDED", "Grant request budget exceeded")?;
                ensure(s.cfg.mock.calls() == 2, || format!("{} model calls", s.cfg.mock.calls()))
            })),
            ("50 concurrent calls on a maxRequests:2 grant make exactly 2 model calls", Box::new(|s: &Self| {
                s.cfg.mock.reset(Script { content: r#"{"message":"Hi!","next":"end"}"#.into(), status: 200, delay_ms: 50 });
                let mut p = s.payload("sdr.copilot", "j-sdr-race");
                p["budgets"]["maxRequests"] = json!(2);
                let body = json!({"grant": s.mint(&p), "agentId": "sdr.copilot", "input": {"sessionId": "conf-race", "message": "hi"}}).to_string();
                let statuses: Vec<u16> = thread::scope(|sc| {
                    let handles: Vec<_> = (0..50)
                        .map(|_| sc.spawn(|| s.post("/v1/execute", &[], body.as_bytes()).map(|r| r.status).unwrap_or(0)))
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
                });
                let ok = statuses.iter().filter(|st| **st == 200).count();
                let limited = statuses.iter().filter(|st| **st == 429).count();
                ensure(ok == 2 && limited == 48 && s.cfg.mock.calls() == 2, || {
                    format!("{ok} x 200, {limited} x 429, {} model calls", s.cfg.mock.calls())
                })
            })),
            ("sdr.copilot input and model errors", Box::new(|s: &Self| {
                let mut p = s.payload("sdr.copilot", "j-sdr-2");
                p["budgets"]["maxRequests"] = json!(3);
                let t = s.mint(&p);
                let res = s.execute(&json!({"grant": t, "agentId": "sdr.copilot", "input": {}}))?;
                Self::expect_error(&res, 400, "BAD_REQUEST", "Invalid input")?;
                ensure(res.json()["error"]["issues"] == json!([
                    {"path":"input.sessionId","message":"Missing required value"},
                    {"path":"input.message","message":"Missing required value"}]), || "issues differ".into())?;
                s.cfg.mock.reset(Script { content: "not json at all".into(), status: 200, delay_ms: 0 });
                let res = s.execute(&json!({"grant": t, "agentId": "sdr.copilot", "input": {"sessionId": "conf-sdr-2", "message": "hi"}}))?;
                Self::expect_error(&res, 502, "PROVIDER_ERROR", "Model did not return valid JSON")?;
                ensure(res.json()["error"]["provider"] == "deepseek", || "provider differs".into())
            })),
            ("LLM budgets and model gating", Box::new(|s: &Self| {
                s.cfg.mock.reset(Script { content: r#"{"message":"Hi!","next":"continue"}"#.into(), status: 200, delay_ms: 0 });
                let input = json!({"sessionId": "conf-sdr-3", "message": "hi"});
                let mut p = s.payload("sdr.copilot", "j-sdr-3");
                p["budgets"] = json!({});
                s.exec_error(&json!({"grant": s.mint(&p), "agentId": "sdr.copilot", "input": input}), 400, "GRANT_INVALID", "Grant budgets.maxTokens must be a positive number")?;
                let mut p = s.payload("sdr.copilot", "j-sdr-4");
                p["ai"]["selectedModel"] = json!("gpt-4o");
                s.exec_error(&json!({"grant": s.mint(&p), "agentId": "sdr.copilot", "input": input}), 403, "CAPABILITY_DENIED", "Model not allowed: gpt-4o")?;
                let mut p = s.payload("sdr.copilot", "j-sdr-5");
                p["budgets"]["maxCostUsd"] = json!(0.000000001);
                s.exec_error(&json!({"grant": s.mint(&p), "agentId": "sdr.copilot", "input": input}), 429, "BUDGET_EXCEEDED", "Grant cost budget exceeded")?;
                let mut p = s.payload("sdr.copilot", "j-sdr-6");
                p.as_object_mut().map(|o| o.remove("ai"));
                s.exec_error(&json!({"grant": s.mint(&p), "agentId": "sdr.copilot", "input": input}), 403, "CAPABILITY_DENIED", "No providers available")?;
                ensure(s.cfg.mock.calls() == 0, || format!("{} model calls for refused requests", s.cfg.mock.calls()))
            })),
            ("widget copilot input validation", Box::new(|s: &Self| {
                let t = s.mint(&s.payload("cs.widget.copilot.v1", "j-w1"));
                let res = s.execute(&json!({"grant": t, "agentId": "cs.widget.copilot.v1", "input": {"prompt": ""}}))?;
                Self::expect_error(&res, 400, "BAD_REQUEST", "Invalid input")?;
                ensure(res.json()["error"]["issues"].as_array().map(Vec::len) == Some(5), || format!("{}", res.json()))
            })),
            ("outcome: both envelope shapes are accepted", Box::new(|s: &Self| {
                let paris = br#"{"command":"ai.outcome.attach","payload":{"requestId":"r1","sessionId":"s1","event":"ux_keep","occurredAtMs":1700000000000}}"#;
                let sig = outcome_signature(&s.cfg.secret, paris);
                let res = s.post("/v1/outcome", &[("x-paris-signature", &sig)], paris)?;
                ensure(res.status == 200 && res.json() == json!({"ok": true}), || format!("paris shape: {} {}", res.status, res.json()))?;
                let env = br#"{"v":1,"kind":"sf.command","command":"ai.outcome.attach","payload":{"requestId":"r2","sessionId":"s1","event":"ux_undo","occurredAtMs":1700000000000,"timeToDecisionMs":1200}}"#;
                let sig = outcome_signature(&s.cfg.secret, env);
                let res = s.post("/v1/outcome", &[("x-paris-signature", &sig)], env)?;
                ensure(res.status == 200 && res.json() == json!({"ok": true}), || format!("envelope: {} {}", res.status, res.json()))
            })),
            ("outcome: signature and validation errors", Box::new(|s: &Self| {
                let body = br#"{"command":"ai.outcome.attach","payload":{"requestId":"r1","sessionId":"s1","event":"nope","occurredAtMs":1}}"#;
                Self::expect_error(&s.post("/v1/outcome", &[], body)?, 401, "CAPABILITY_DENIED", "Missing signature")?;
                Self::expect_error(&s.post("/v1/outcome", &[("x-paris-signature", "AAAA")], body)?, 403, "CAPABILITY_DENIED", "Invalid signature")?;
                let sig = outcome_signature(&s.cfg.secret, body);
                let res = s.post("/v1/outcome", &[("x-paris-signature", &sig)], body)?;
                Self::expect_error(&res, 400, "BAD_REQUEST", "Invalid request")?;
                let wrong = br#"{"command":"personalization.preview.enqueue","payload":{}}"#;
                let sig = outcome_signature(&s.cfg.secret, wrong);
                let res = s.post("/v1/outcome", &[("x-paris-signature", &sig)], wrong)?;
                ensure(res.status == 400 && res.json()["error"]["code"] == "BAD_REQUEST", || format!("wrong command: {}", res.status))
            })),
            ("bearer auth on internal routes", Box::new(|s: &Self| {
                let path = "/v1/personalization/preview/job-1";
                Self::expect_error(&request(&s.cfg.base_url, "GET", path, &[], b"")?, 401, "CAPABILITY_DENIED", "Missing auth token")?;
                Self::expect_error(&request(&s.cfg.base_url, "GET", path, &[("authorization", "Bearer wrong")], b"")?, 403, "CAPABILITY_DENIED", "Invalid auth token")?;
                let two_spaces = format!("Bearer  {}", s.cfg.bearer);
                Self::expect_error(&request(&s.cfg.base_url, "GET", path, &[("authorization", &two_spaces)], b"")?, 401, "CAPABILITY_DENIED", "Missing auth token")?;
                let trailing = format!("bearer {} extra", s.cfg.bearer);
                Self::expect_error(&request(&s.cfg.base_url, "GET", path, &[("authorization", &trailing)], b"")?, 404, "BAD_REQUEST", "Job not found")?;
                let ok = format!("Bearer {}", s.cfg.bearer);
                Self::expect_error(&request(&s.cfg.base_url, "GET", "/v1/personalization/onboarding/nope", &[("authorization", &ok)], b"")?, 404, "BAD_REQUEST", "Job not found")
            })),
            ("environment gates", Box::new(|s: &Self| {
                let ok = format!("Bearer {}", s.cfg.bearer);
                // /v1/l10n is local-only: a dev gateway answers 404 before auth.
                Self::expect_error(&s.post("/v1/l10n", &[], b"{}")?, 404, "BAD_REQUEST", "Not found")?;
                let res = s.post("/v1/l10n/translate", &[("authorization", &ok)], b"{}")?;
                ensure(res.status != 404, || "translate must be served in dev".into())
            })),
        ]
    }
}

/// Runs every case for the host kind and reports per case.
pub fn run(cfg: &Config<'_>) -> Report {
    let mut report = Report::default();
    match cfg.host {
        HostKind::WorkerDegraded => worker::degraded(&cfg.base_url, &mut report),
        kind => {
            // The self-test runs first, on a fresh Worker, as the shell e2e did.
            if kind == HostKind::Worker {
                worker::before_suite(&cfg.base_url, &mut report);
            }
            let suite = Suite { cfg };
            for (name, case) in suite.cases() {
                report.record(name, case(&suite));
            }
            for (name, case) in l10n::cases(&cfg.base_url, &cfg.bearer, cfg.mock) {
                report.record(name, case());
            }
            for (name, case) in
                personalization::cases(&cfg.base_url, &cfg.secret, &cfg.bearer, cfg.mock)
            {
                report.record(name, case());
            }
            for (name, case) in approvals::cases(&cfg.base_url, cfg.mock) {
                report.record(name, case());
            }
            for (name, case) in learning::cases(&cfg.base_url) {
                report.record(name, case());
            }
            for (name, case) in learning_review::cases(&cfg.base_url, &cfg.secret, cfg.mock) {
                report.record(name, case());
            }
            for (name, case) in tenants::cases(&cfg.base_url, cfg.mock) {
                report.record(name, case());
            }
            if kind == HostKind::Worker {
                worker::queue_jobs(
                    &cfg.base_url,
                    &cfg.secret,
                    &cfg.bearer,
                    cfg.mock,
                    &mut report,
                );
                worker::after_suite(&cfg.base_url, &mut report);
            }
        }
    }
    if let Some(log) = &cfg.host_log {
        report.record("no panic in the host log", worker::no_panic_in(log));
    }
    report
}
