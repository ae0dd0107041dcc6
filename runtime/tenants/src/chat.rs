//! `POST /v1/chat/completions` and `GET /v1/models`, OpenAI-compatible,
//! authorized by a tenant key (`Authorization: Bearer sk-sf-...`). `model`
//! `"auto"` (or absent) routes by the tier's class (policy/tenancy.yaml);
//! the call has one deadline (`TENANCY_TIMEOUT_MS`), and a failure or timeout
//! of the tier's model falls back to the fast model within it. Quotas are
//! reserved before the call (see [`crate::quota`]); one usage row per call is
//! written after the answer.

use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode};
use sf_core::http::{parse_json_body, RouteCtx, RouteOut};
use sf_core::isolate::{provider_enabled, Isolate};
use sf_core::policy::{
    ClassModel, ModelClass, TenancyRule, Tier, TierRules, Workload, TENANCY_CLASSES,
    TENANCY_TIMEOUT_MS,
};
use sf_core::ports::{Clock, Host, Random, Sql};
use sf_llm::providers::{ChatMessage, ChatRequest, ChatResponse, Role};

use crate::quota::{self, Remaining};
use crate::shadow;
use crate::sse;
use crate::store::{self, KeyRefusal, Tenant, Usage};
use crate::wire;

const DEFAULT_MAX_TOKENS: u32 = 1024;
const MAX_MAX_TOKENS: u32 = 16_384;
const MAX_MESSAGES: usize = 256;

fn invalid(field: &str, fix: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid `{field}`: {fix}"))
}

/// The tenant of the request's bearer key, or 401.
pub async fn tenant_of<H: Host>(h: &H, req: &http::Request<Vec<u8>>) -> Result<Tenant, ApiError> {
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(key) = sf_core::secret::bearer_token(header) else {
        return Err(ApiError::denied(
            401,
            "Missing API key: send `Authorization: Bearer sk-sf-...`",
        ));
    };
    let now = i64::try_from(h.clock().now_ms()).unwrap_or(i64::MAX);
    match store::authenticate(h, key.trim(), now).await? {
        Ok(t) => Ok(t),
        Err(KeyRefusal::Expired) => Err(ApiError::denied(401, "API key expired")),
        Err(_) => Err(ApiError::denied(401, "Invalid API key")),
    }
}

fn rules_of(t: &Tenant) -> Result<&'static TierRules, ApiError> {
    Tier::from_name(&t.tier).map(Tier::rules).ok_or_else(|| {
        ApiError::provider(
            500,
            "sanfrancisco",
            format!("Tenant tier `{}` is not in policy/tenancy.yaml", t.tier),
        )
    })
}

/// The models a tier may use: its class's, then the fast one.
pub fn tier_models(rules: &TierRules) -> Vec<ClassModel> {
    let mut v = vec![rules.class.model()];
    if rules.class != ModelClass::Fast {
        v.push(ModelClass::Fast.model());
    }
    v
}

/// `GET /v1/models`: what the tenant's tier may use.
pub async fn models_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let t = tenant_of(h, &cx.req).await?;
    let rules = rules_of(&t)?;
    let data: Vec<Value> = tier_models(rules)
        .iter()
        .map(|m| json!({"id": m.model.name(), "object": "model", "created": 0, "owned_by": m.provider.name()}))
        .collect();
    Ok(sse::json(
        200,
        &json!({"object": "list", "data": data}),
        &[],
    ))
}

struct Parsed {
    messages: Vec<ChatMessage>,
    models: Vec<ClassModel>,
    max_tokens: u32,
    temperature: f64,
    stream: bool,
    /// Passed to OpenAI-compatible providers as it is.
    response_format: Option<Value>,
    /// `metadata.workload`, checked against the tier.
    workload: Option<Workload>,
    /// Monitored rules this request would have been refused by (shadow mode).
    shadow: Vec<TenancyRule>,
}

fn parse(body: &Value, rules: &TierRules) -> Result<Parsed, ApiError> {
    let Some(list) = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return Err(invalid(
            "messages",
            "send a non-empty array of {\"role\", \"content\"}",
        ));
    };
    if list.len() > MAX_MESSAGES {
        return Err(invalid(
            "messages",
            &format!("at most {MAX_MESSAGES} messages"),
        ));
    }
    let mut messages = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => Role::System,
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            _ => {
                return Err(invalid(
                    &format!("messages[{i}].role"),
                    "use system, user or assistant",
                ))
            }
        };
        let content = match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            // Content parts: the text parts joined.
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => return Err(invalid(&format!("messages[{i}].content"), "send a string")),
        };
        messages.push(ChatMessage::new(role, content));
    }
    let mut shadow = Vec::new();
    let allowed = tier_models(rules);
    let models = match body.get("model") {
        None | Some(Value::Null) => allowed.clone(),
        Some(Value::String(s)) if s == "auto" => allowed.clone(),
        Some(Value::String(s)) => match allowed.iter().position(|m| m.model.name() == s) {
            // A named model; the fallback still follows when it is not the fast one.
            Some(i) => allowed[i..].to_vec(),
            // Shadow mode: a class model the tier may not use goes through, counted.
            None if rules.monitors(TenancyRule::Model)
                && TENANCY_CLASSES.iter().any(|m| m.model.name() == s) =>
            {
                shadow.push(TenancyRule::Model);
                let named = TENANCY_CLASSES.iter().filter(|m| m.model.name() == s);
                let fast = std::iter::once(&TENANCY_CLASSES[ModelClass::Fast as usize]);
                let mut v: Vec<ClassModel> = named.chain(fast).copied().collect();
                v.dedup();
                v
            }
            None => {
                let names: Vec<&str> = allowed.iter().map(|m| m.model.name()).collect();
                return Err(invalid(
                    "model",
                    &format!(
                        "\"{s}\" is not available to this tier; use \"auto\" or one of: {}",
                        names.join(", ")
                    ),
                ));
            }
        },
        Some(_) => return Err(invalid("model", "send a model id or \"auto\"")),
    };
    let max_tokens = match body
        .get("max_tokens")
        .or_else(|| body.get("max_completion_tokens"))
    {
        None | Some(Value::Null) => DEFAULT_MAX_TOKENS,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=u64::from(MAX_MAX_TOKENS)).contains(&n) => n as u32,
            _ => {
                return Err(invalid(
                    "max_tokens",
                    &format!("a whole number from 1 to {MAX_MAX_TOKENS}"),
                ))
            }
        },
    };
    let temperature = match body.get("temperature") {
        None | Some(Value::Null) => 1.0,
        Some(v) => match v.as_f64() {
            Some(t) if (0.0..=2.0).contains(&t) => t,
            _ => return Err(invalid("temperature", "a number from 0 to 2")),
        },
    };
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("stream", "true or false")),
    };
    let mut workload = None;
    if let Some(w) = body.pointer("/metadata/workload") {
        let declared = w.as_str().and_then(Workload::from_name);
        workload = declared.filter(|w| rules.workloads.contains(w));
        // Shadow mode: a declared workload the tier does not run goes through, counted.
        if workload.is_none() && declared.is_some() && rules.monitors(TenancyRule::Workload) {
            shadow.push(TenancyRule::Workload);
            workload = declared;
        }
        if workload.is_none() {
            let names: Vec<&str> = rules.workloads.iter().map(|w| w.name()).collect();
            return Err(invalid(
                "metadata.workload",
                &format!("this tier runs: {}", names.join(", ")),
            ));
        }
    }
    let response_format = match body.get("response_format") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(o)) if o.get("type").is_some_and(Value::is_string) => {
            Some(v.clone())
        }
        Some(_) => {
            return Err(invalid(
                "response_format",
                "send an object with a `type`, e.g. {\"type\": \"json_object\"}",
            ))
        }
    };
    Ok(Parsed {
        messages,
        models,
        max_tokens,
        temperature,
        stream,
        response_format,
        workload,
        shadow,
    })
}

/// `cf-aig-metadata` of a call through AI Gateway: tenant, platform, tier
/// and workload (four of the gateway's five entries, all strings).
fn gateway_metadata(target: &mut sf_llm::providers::ProviderTarget, t: &Tenant, p: &Parsed) {
    let Some(g) = target.gateway.as_mut() else {
        return;
    };
    g.set_metadata("tenant", json!(t.id));
    g.set_metadata("platform", json!(t.platform));
    g.set_metadata("tier", json!(t.tier));
    if let Some(w) = p.workload {
        g.set_metadata("workload", json!(w.name()));
    }
}

/// Bytes/3 + 8 per message: over-reserves rather than under.
fn prompt_estimate(messages: &[ChatMessage]) -> u64 {
    messages
        .iter()
        .map(|m| m.content.len() as u64 / 3 + 8)
        .sum()
}

/// The tier's model, then the fast one, within one deadline.
async fn call<H: Host>(
    h: &H,
    t: &Tenant,
    p: &Parsed,
    env: Option<sf_core::policy::Environment>,
    deadline: u64,
) -> Result<(ClassModel, ChatResponse, bool), ApiError> {
    let mut last = ApiError::provider(
        502,
        "sanfrancisco",
        "No provider of this tier is configured",
    );
    for (i, m) in p.models.iter().enumerate() {
        let now = h.clock().now_ms();
        if now >= deadline {
            return Err(ApiError::new(
                504,
                ErrorCode::ProviderError,
                "Completion deadline passed",
            ));
        }
        if !provider_enabled(m.provider, env) || !sf_llm::has_credentials(h, m.provider) {
            continue;
        }
        // A model with a fallback behind it gets two thirds of what is left,
        // so its timeout still leaves the fast model time to answer.
        let until = if i + 1 < p.models.len() {
            now + (deadline - now) * 2 / 3
        } else {
            deadline
        };
        let mut target = sf_llm::target_for(h, m.provider);
        gateway_metadata(&mut target, t, p);
        let req = ChatRequest {
            model: m.model.name().to_owned(),
            messages: p.messages.clone(),
            max_tokens: p.max_tokens,
            temperature: p.temperature,
        };
        let timeout = Duration::from_millis(until - now);
        match wire::call(
            h.fetch(),
            &target,
            &req,
            p.response_format.as_ref(),
            timeout,
            now,
        )
        .await
        {
            Ok(res) => return Ok((*m, res, i > 0)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The policy's deadline, or a shorter one the caller asks for with
/// `x-sf-timeout-ms` (at least 100 ms).
fn deadline_ms(req: &http::Request<Vec<u8>>) -> u64 {
    let max = u64::from(TENANCY_TIMEOUT_MS);
    req.headers()
        .get("x-sf-timeout-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(max, |t| t.clamp(100, max))
}

fn quota_headers(r: Remaining) -> [(&'static str, String); 2] {
    [
        ("x-ratelimit-remaining-requests", r.requests.to_string()),
        ("x-ratelimit-remaining-tokens", r.tokens.to_string()),
    ]
}

/// `POST /v1/chat/completions`.
pub async fn completions_route<H: Host>(iso: &Rc<Isolate<H>>, cx: RouteCtx) -> RouteOut {
    let h = iso.host();
    let t = tenant_of(h, &cx.req).await?;
    let rules = rules_of(&t)?;
    let body = parse_json_body(cx.req.body())?;
    let mut p = parse(&body, rules)?;
    let now = h.clock().now_ms();
    let qkey = quota::key(&t.id, now);
    let worst = prompt_estimate(&p.messages) + u64::from(p.max_tokens);
    let reserved = quota::reserve(h, &qkey, rules, worst, now).await?;
    // Shadow mode: over the quota, the call runs unreserved and is counted.
    let over_but_monitored = reserved.is_none() && rules.monitors(TenancyRule::Quota);
    if over_but_monitored {
        p.shadow.push(TenancyRule::Quota);
    }
    shadow::record(h, &t.id, &p.shadow, now).await;
    let reserved = match reserved {
        Some(left) => Some(left),
        None if over_but_monitored => None,
        None => {
            return quota_refusal(h, &t, rules, &qkey, now).await;
        }
    };
    let deadline = now + deadline_ms(&cx.req);
    let (m, res, fell_back) = match call(h, &t, &p, iso.environment(), deadline).await {
        Ok(x) => x,
        Err(e) => {
            if reserved.is_some() {
                quota::settle(h, &qkey, worst, None).await;
            }
            return Err(e);
        }
    };
    let used = res.prompt_tokens + res.completion_tokens;
    let left = match reserved {
        Some(left) => {
            quota::settle(h, &qkey, worst, Some(used)).await;
            Remaining {
                tokens: left.tokens + worst.saturating_sub(used),
                ..left
            }
        }
        None => quota::remaining(h, &qkey, rules).await?,
    };
    finish(iso, &cx, &t, &p, m, res, fell_back, left, now)
}

/// 429 over the quota, with `retry-after` and the remaining budget.
async fn quota_refusal<H: Host>(
    h: &H,
    t: &Tenant,
    rules: &TierRules,
    qkey: &str,
    now: u64,
) -> RouteOut {
    let left = quota::remaining(h, qkey, rules).await?;
    let mut e = sse::error(&ApiError::budget(format!(
        "Daily quota of tier `{}` reached ({} requests, {} tokens per day)",
        t.tier, rules.requests_per_day, rules.tokens_per_day
    )));
    let retry = quota::retry_after_s(now).to_string();
    for (k, v) in quota_headers(left)
        .iter()
        .chain([("retry-after", retry)].iter())
    {
        if let Ok(v) = http::HeaderValue::from_str(v) {
            e.headers_mut().insert(*k, v);
        }
    }
    Ok(e)
}

/// The usage row (deferred), the headers and the answer, whole or streamed.
#[allow(clippy::too_many_arguments)]
fn finish<H: Host>(
    iso: &Rc<Isolate<H>>,
    cx: &RouteCtx,
    t: &Tenant,
    p: &Parsed,
    m: ClassModel,
    res: ChatResponse,
    fell_back: bool,
    left: Remaining,
    now: u64,
) -> RouteOut {
    let h = iso.host();
    let latency = h.clock().now_ms().saturating_sub(cx.started_ms);
    let price = sf_llm::price_of(m.provider, &res.model);
    let cost = res.prompt_tokens as f64 / 1e6 * price.input_usd_per_1m
        + res.completion_tokens as f64 / 1e6 * price.output_usd_per_1m;
    let usage = Usage {
        tenant_id: t.id.clone(),
        model: res.model.clone(),
        tokens_in: i64::try_from(res.prompt_tokens).unwrap_or(i64::MAX),
        tokens_out: i64::try_from(res.completion_tokens).unwrap_or(i64::MAX),
        latency_ms: i64::try_from(latency).unwrap_or(i64::MAX),
        cost_usd: cost,
        created_at_ms: i64::try_from(now).unwrap_or(i64::MAX),
    };
    let iso2 = Rc::clone(iso);
    h.defer(Box::pin(async move {
        if let Err(e) = iso2.host().sql().execute(store::usage_insert(&usage)).await {
            sf_core::sf_log!(
                "tenants: usage row lost for tenant {}: {e}",
                usage.tenant_id
            );
        }
    }));
    let mut headers: Vec<(&str, String)> = quota_headers(left).to_vec();
    headers.push(("x-sf-provider", m.provider.name().to_owned()));
    headers.push(("x-sf-fallback", fell_back.to_string()));
    if let Some(v) = shadow::header_value(&p.shadow) {
        headers.push((shadow::HEADER, v));
    }
    let completion = sse::Completion {
        id: format!("chatcmpl-{}", h.random().uuid_v4().replace('-', "")),
        created: now / 1000,
        model: res.model,
        text: res.text,
        prompt_tokens: res.prompt_tokens,
        completion_tokens: res.completion_tokens,
    };
    Ok(if p.stream {
        completion.stream(&headers)
    } else {
        sse::json(200, &completion.body(), &headers)
    })
}
