//! The localization flows on the gateway: [`crate::io`]'s traits implemented
//! over the core's ports and the model layer, the three routes (CONTRACT 2.8,
//! 2.9, 2.10) and the queue job (7.4). The composition root only routes here.

use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use sf_core::error::ConsumeError;
use sf_core::grants::Grant;
use sf_core::http::{json_response, RouteCtx};
use sf_core::policy::{Agent, Var};
use sf_core::ports::{Blob, Clock, Fetch, FetchError, Host, Kv, Vars};
use sf_core::{sf_log, Isolate};
use sf_llm::providers::{ChatMessage, Role};
use sf_llm::{LlmRequest, LlmScope};

use crate::error::{IoFailure, L10nError};
use crate::flow::{run_job, JobOutcome};
use crate::io::{
    paris_instance_path, paris_overlay_path, tokyo_localization_path, L10nIo, L10nSource,
    ModelCall, ModelReply, Reply, TranslateIo, Usage, INTERNAL_SERVICE_HEADER, PARIS_REPORT_PATH,
};
use crate::job::{parse_dispatch_body, parse_job, L10nJob};
use crate::{plan, translate};

/// Paris and Tokyo calls: long enough for a cold Paris, short enough that a
/// hung one cannot hold a queue consumer for minutes.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);
/// CONTRACT 7.5: the Responses API call is cut at 90 s.
const RESPONSES_TIMEOUT: Duration = Duration::from_secs(90);
const OPENAI_DEFAULT_BASE: &str = "https://api.openai.com";

type Out = Result<http::Response<Vec<u8>>, sf_core::error::ApiError>;

/// One flow's view of the world: the isolate, and for a job its verified grant.
pub struct PortsIo<'a, H: Host> {
    iso: &'a Isolate<H>,
    grant: Option<&'a Grant>,
}

impl<'a, H: Host> PortsIo<'a, H> {
    pub fn new(iso: &'a Isolate<H>, grant: Option<&'a Grant>) -> Self {
        Self { iso, grant }
    }

    fn var(&self, name: &str) -> Option<String> {
        self.iso.host().vars().setting(name)
    }

    fn base(&self, name: &str) -> Result<String, IoFailure> {
        self.var(name)
            .map(|b| b.trim_end_matches('/').to_owned())
            .ok_or_else(|| IoFailure::Config(format!("Missing {name}")))
    }

    /// A Paris call with the headers of CONTRACT 10.5.
    async fn paris(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Reply, IoFailure> {
        let url = format!("{}{path}", self.base(Var::ParisBaseUrl.name())?);
        let token = self
            .var(Var::ParisDevJwt.name())
            .ok_or_else(|| IoFailure::Config(format!("Missing {}", Var::ParisDevJwt)))?;
        let mut b = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {token}"))
            .header(INTERNAL_SERVICE_HEADER.0, INTERNAL_SERVICE_HEADER.1);
        b = match body {
            Some(_) => b.header("content-type", "application/json"),
            None => b.header("cache-control", "no-store"),
        };
        self.send(b, body, UPSTREAM_TIMEOUT, "Paris").await
    }

    async fn send(
        &self,
        b: http::request::Builder,
        body: Option<&str>,
        timeout: Duration,
        who: &str,
    ) -> Result<Reply, IoFailure> {
        let req = b
            .body(body.unwrap_or_default().as_bytes().to_vec())
            .map_err(|_| IoFailure::Config(format!("Invalid {who} URL")))?;
        match self.iso.host().fetch().fetch(req, timeout).await {
            Ok(res) => Ok(Reply {
                status: res.status().as_u16(),
                body: String::from_utf8_lossy(res.body()).into_owned(),
            }),
            Err(FetchError::Timeout) => Err(IoFailure::Timeout),
            Err(FetchError::Network(m)) | Err(FetchError::Blocked(m)) => {
                Err(IoFailure::Network(format!("{who} unreachable: {m}")))
            }
        }
    }

    async fn blob_put(&self, key: &str, body: &str) -> Result<(), IoFailure> {
        self.iso
            .host()
            .blob()
            .put(key, body.as_bytes().to_vec(), "application/json")
            .await
            .map_err(|e| IoFailure::Network(e.to_string()))
    }
}

impl<H: Host> L10nSource for PortsIo<'_, H> {
    async fn get_instance(&self, workspace_id: &str, public_id: &str) -> Result<Reply, IoFailure> {
        self.paris("GET", &paris_instance_path(workspace_id, public_id), None)
            .await
    }
    async fn get_localization(&self, widget_type: &str) -> Result<Reply, IoFailure> {
        let url = format!(
            "{}{}",
            self.base(Var::TokyoBaseUrl.name())?,
            tokyo_localization_path(widget_type)
        );
        let b = http::Request::builder().method("GET").uri(&url);
        self.send(b, None, UPSTREAM_TIMEOUT, "Tokyo").await
    }
    async fn kv_get(&self, key: &str) -> Result<Option<String>, IoFailure> {
        self.iso
            .host()
            .kv()
            .get(key)
            .await
            .map_err(|e| IoFailure::Network(e.to_string()))
    }
    async fn kv_put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), IoFailure> {
        self.iso
            .host()
            .kv()
            .put(key, value, Some(ttl_s))
            .await
            .map_err(|e| IoFailure::Network(e.to_string()))
    }
}

impl<H: Host> L10nIo for PortsIo<'_, H> {
    async fn get_overlay(
        &self,
        ws: &str,
        public_id: &str,
        locale: &str,
    ) -> Result<Reply, IoFailure> {
        self.paris("GET", &paris_overlay_path(ws, public_id, locale), None)
            .await
    }
    async fn put_overlay(
        &self,
        ws: &str,
        public_id: &str,
        locale: &str,
        body: &str,
    ) -> Result<Reply, IoFailure> {
        self.paris(
            "PUT",
            &paris_overlay_path(ws, public_id, locale),
            Some(body),
        )
        .await
    }
    async fn call_model(&self, call: &ModelCall) -> Result<ModelReply, L10nError> {
        let grant = self
            .grant
            .ok_or_else(|| L10nError::internal("l10n job without a verified grant"))?;
        let agent = Agent::from_name(&call.agent_id).unwrap_or(Agent::L10nInstanceV1);
        let started = self.iso.host().clock().now_ms();
        let scope = LlmScope {
            host: self.iso.host(),
            agent,
            grant,
            environment: self.iso.environment(),
            // Each batch has its own bound (7.4 step 12), not the job's total.
            deadline_ms: started + call.timeout_ms,
        };
        let req = LlmRequest {
            max_tokens: Some(call.max_tokens),
            timeout_ms: Some(call.timeout_ms),
            counts_request: call.counts_against_grant,
            ..LlmRequest::new(
                vec![
                    ChatMessage::new(Role::System, call.system.clone()),
                    ChatMessage::new(Role::User, call.user.clone()),
                ],
                call.temperature,
            )
        };
        let reply = sf_llm::chat(&scope, req).await.map_err(L10nError::from)?;
        Ok(ModelReply {
            content: reply.text,
            usage: Usage {
                provider: reply.provider.name().to_owned(),
                model: reply.model,
                prompt_tokens: reply.prompt_tokens,
                completion_tokens: reply.completion_tokens,
                latency_ms: self.iso.host().clock().now_ms().saturating_sub(started),
                cost_usd: Some(reply.cost_usd),
            },
        })
    }
    async fn post_report(&self, body: &str) -> Result<(), IoFailure> {
        let r = self.paris("POST", PARIS_REPORT_PATH, Some(body)).await?;
        if r.ok() {
            Ok(())
        } else {
            Err(IoFailure::Network(format!("report answered {}", r.status)))
        }
    }
    async fn put_log(&self, key: &str, body: &str) -> Result<(), IoFailure> {
        self.blob_put(key, body).await
    }
    fn now_ms(&self) -> u64 {
        self.iso.host().clock().now_ms()
    }
}

impl<H: Host> TranslateIo for PortsIo<'_, H> {
    async fn post_responses(&self, body: &str) -> Result<Reply, IoFailure> {
        let key = self
            .var(Var::OpenaiApiKey.name())
            .ok_or_else(|| IoFailure::Config(format!("Missing {}", Var::OpenaiApiKey)))?;
        let base = self
            .var(Var::OpenaiBaseUrl.name())
            .map(|b| b.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| OPENAI_DEFAULT_BASE.to_owned());
        let b = http::Request::builder()
            .method("POST")
            .uri(format!("{base}/v1/responses"))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json");
        self.send(b, Some(body), RESPONSES_TIMEOUT, "OpenAI").await
    }
    fn model(&self) -> Option<String> {
        self.var(Var::OpenaiModel.name())
    }
    async fn put_log(&self, key: &str, body: &str) -> Result<(), IoFailure> {
        self.blob_put(key, body).await
    }
    fn now_ms(&self) -> u64 {
        self.iso.host().clock().now_ms()
    }
}

fn l10n_answer(res: Result<Value, L10nError>) -> Out {
    Ok(match res {
        Ok(body) => json_response(200, &body),
        Err(e) => json_response(e.status, &e.to_body()),
    })
}

fn body_text(cx: &RouteCtx) -> Result<&str, L10nError> {
    std::str::from_utf8(cx.req.body()).map_err(|_| L10nError::bad_request("Invalid JSON body"))
}

/// `POST /v1/l10n/plan` (2.8), after the route's gates and bearer check.
pub async fn plan_route<H: Host>(iso: &Isolate<H>, cx: RouteCtx) -> Out {
    let io = PortsIo::new(iso, None);
    let res = async {
        let body = plan::read_json_body(body_text(&cx)?)?;
        let req = plan::parse_plan_request(&body)?;
        plan::plan(&io, &req).await
    }
    .await;
    l10n_answer(res)
}

/// `POST /v1/l10n/translate` (2.10), after the cap, the gate and the bearer check.
pub async fn translate_route<H: Host>(iso: &Isolate<H>, cx: RouteCtx) -> Out {
    let io = PortsIo::new(iso, None);
    let res = async {
        let body = plan::read_json_body(body_text(&cx)?)?;
        translate::translate(&io, &body).await
    }
    .await;
    l10n_answer(res)
}

/// Verifies a job's grant and its `agent:{agentId}` capability (the raw id, as the original).
fn verify_job<H: Host>(iso: &Isolate<H>, job: &L10nJob) -> Result<Grant, sf_core::error::ApiError> {
    let grant = iso.verify_grant(&job.grant)?;
    let cap = format!("agent:{}", job.agent_id);
    if !grant.has_cap(&cap) {
        return Err(sf_core::error::ApiError::denied(
            403,
            format!("Capability denied: {cap}"),
        ));
    }
    Ok(grant)
}

/// Runs one verified job and logs how it ended (never the grant).
async fn run_verified<H: Host>(iso: &Isolate<H>, job: &L10nJob, grant: &Grant) -> JobOutcome {
    let out = run_job(&PortsIo::new(iso, Some(grant)), job).await;
    let status = out.status.as_str();
    sf_log!(
        "l10n: job {}/{} {status}{}",
        job.public_id,
        job.locale,
        out.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    out
}

/// `POST /v1/l10n` (2.9, local only): every grant is checked before any job
/// runs; the jobs then run after the answer.
pub async fn dispatch_route<H: Host>(iso: &Rc<Isolate<H>>, cx: RouteCtx) -> Out {
    let jobs = match body_text(&cx).and_then(parse_dispatch_body) {
        Ok(jobs) => jobs,
        Err(e) => return l10n_answer(Err(e)),
    };
    let mut verified = Vec::with_capacity(jobs.len());
    for job in jobs {
        let grant = verify_job(iso, &job)?;
        verified.push((job, grant));
    }
    let n = verified.len();
    let iso2 = Rc::clone(iso);
    iso.host().defer(Box::pin(async move {
        for (job, grant) in &verified {
            run_verified(&iso2, job, grant).await;
        }
    }));
    Ok(json_response(200, &json!({ "ok": true, "queued": n })))
}

/// An `l10n.instance.v1` message from Paris' queue (7.4). A job whose grant
/// does not verify is dropped with a logged reason (a retry cannot fix it);
/// so is a job that ran and failed, since its failure is reported to Paris
/// and a redelivery would only report it again.
pub async fn consume_job<H: Host>(iso: &Isolate<H>, body: &Value) -> Result<(), ConsumeError> {
    let job = parse_job(body).ok_or_else(|| {
        ConsumeError::Reject("not an l10n job (see CONTRACT 7.4 for the message schema)".into())
    })?;
    match verify_job(iso, &job) {
        Ok(grant) => {
            run_verified(iso, &job, &grant).await;
            Ok(())
        }
        Err(e) => {
            sf_log!(
                "l10n: job {}/{} dropped: {} {}",
                job.public_id,
                job.locale,
                e.status,
                e.message
            );
            Ok(())
        }
    }
}
