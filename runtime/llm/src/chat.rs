//! The model layer every LLM agent goes through (CONTRACT.md section 8):
//! provider and model selection, the fallback queue, the call loop with
//! retries, and the grant's budgets.
//!
//! Differences from the original, all invisible on the wire when nothing goes
//! wrong:
//! - one overall deadline for the whole execution (the original gave every
//!   retry and fallback the full `timeoutMs`);
//! - `maxRequests` and `maxCostUsd` are enforced with an atomic reservation on
//!   the [`Counter`] port *before* each call (worst-case cost = prompt
//!   estimate + `maxTokens` at the model's price), then settled to the real
//!   cost, so concurrent or replayed calls can never overspend;
//! - prices come from the compiled policy's model catalogue.

use std::time::Duration;

use crate::providers::{
    self, AwsCredentials, ChatMessage, ChatRequest, OpenAiPath, Protocol, ProviderTarget,
};
use sf_core::error::ApiError;
use sf_core::grants::Grant;
use sf_core::isolate::provider_enabled;
use sf_core::policy::{self, Agent, Environment, Model, Protocol as PolicyProtocol, Provider, Var};
use sf_core::ports::{Clock, Counter, Host, Reserve, Vars};

/// Counter lanes of a grant's budget key.
const LANE_REQUESTS: &str = "requests";
/// Cost in nano-USD, so budgets of fractions of a cent stay exact integers.
const LANE_COST: &str = "cost_nusd";

const MAX_MODELS_PER_PROVIDER: usize = 4;
const MAX_PAIRS: usize = 6;
/// Pause between the two attempts on the first (provider, model) pair.
const RETRY_PAUSE_MS: u64 = 120;

/// One model call as an agent asks for it.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    pub messages: Vec<ChatMessage>,
    pub temperature: f64,
    /// Capped by the grant's `maxTokens`.
    pub max_tokens: Option<u32>,
    /// Capped by what is left of the execution's deadline.
    pub timeout_ms: Option<u64>,
    /// Whether this call takes one of the grant's `maxRequests`. A localization
    /// job is one request however many batches it needs, so only its first call
    /// counts; tokens and `maxCostUsd` bound every call either way.
    pub counts_request: bool,
}

impl LlmRequest {
    /// A call that counts against the grant's `maxRequests` (the usual case).
    pub fn new(messages: Vec<ChatMessage>, temperature: f64) -> Self {
        Self {
            messages,
            temperature,
            max_tokens: None,
            timeout_ms: None,
            counts_request: true,
        }
    }
}

/// A successful model call with its accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmReply {
    pub text: String,
    pub provider: Provider,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

/// Everything the model layer needs to know about one execution.
pub struct LlmScope<'a, H: Host> {
    pub host: &'a H,
    pub agent: Agent,
    pub grant: &'a Grant,
    pub environment: Option<Environment>,
    /// Epoch ms after which no model call may run: start + the grant's `timeoutMs`.
    pub deadline_ms: u64,
}

fn var<H: Host>(host: &H, name: &str) -> Option<String> {
    host.vars().setting(name)
}

/// Whether the provider has what it needs to be called (CONTRACT.md 8.1):
/// every variable of one of its credential sets (policy/providers.yaml
/// `credentials`, e.g. Amazon's `NOVA_API_KEY` or the three Bedrock ones).
pub fn has_credentials<H: Host>(host: &H, p: Provider) -> bool {
    credentials_complete(p, |name| var(host, name).is_some())
}

fn credentials_complete(p: Provider, is_set: impl Fn(&str) -> bool) -> bool {
    p.credential_sets()
        .iter()
        .any(|set| set.iter().all(|v| is_set(v.name())))
}

/// The model used when neither the grant nor the profile names one: the
/// provider's `*_MODEL` variable, else the policy's default.
fn env_default_model<H: Host>(host: &H, p: Provider) -> String {
    p.model_var()
        .and_then(|v| var(host, v))
        .or_else(|| {
            // Through AI Gateway, Workers AI's model may come from CF_AI_GATEWAY_MODEL.
            (p.protocol() == PolicyProtocol::WorkersAi && gateway_ids(host).is_some())
                .then(|| var(host, Var::CfAiGatewayModel.name()))
                .flatten()
        })
        .unwrap_or_else(|| p.default_model().name().to_owned())
}

/// The ordered (provider, model) pairs to try, after the grant's provider
/// gating (CONTRACT.md 8.1, 8.2, 3.6).
pub fn plan_calls<H: Host>(scope: &LlmScope<'_, H>) -> Result<Vec<(Provider, String)>, ApiError> {
    let host = scope.host;
    let ai = scope.grant.ai.as_ref();
    let allowed: Vec<Provider> = ai
        .map(|a| {
            a.allowed_providers
                .iter()
                .filter_map(|n| Provider::from_name(n))
                .filter(|p| provider_enabled(*p, scope.environment))
                .collect()
        })
        .unwrap_or_default();
    if allowed.is_empty() {
        return Err(ApiError::denied(403, "No providers available"));
    }
    let selected = match ai.and_then(|a| a.selected_provider.as_deref()) {
        Some(name) => match Provider::from_name(name) {
            Some(p) if allowed.contains(&p) => Some(p),
            _ => {
                return Err(ApiError::denied(
                    403,
                    format!("Provider not allowed: {name}"),
                ))
            }
        },
        None => None,
    };
    let default = ai
        .and_then(|a| Provider::from_name(&a.default_provider))
        .unwrap_or(scope.agent.default_provider());

    let primary = match selected {
        Some(p) => p,
        None => {
            if allowed.contains(&default) && has_credentials(host, default) {
                default
            } else if let Some(p) = allowed.iter().copied().find(|p| has_credentials(host, *p)) {
                p
            } else if allowed.contains(&default) {
                default
            } else {
                allowed[0]
            }
        }
    };

    let models_for = |p: Provider| ai.and_then(|a| a.models_for(p.name()));
    let selected_model = ai.and_then(|a| a.selected_model.clone());
    let primary_model = match &selected_model {
        Some(m) => {
            if let Some(cfg) = models_for(primary) {
                if !cfg.allowed.iter().any(|a| a == m) {
                    return Err(ApiError::denied(403, format!("Model not allowed: {m}")));
                }
            }
            m.clone()
        }
        None => models_for(primary)
            .map(|c| c.default_model.clone())
            .unwrap_or_else(|| env_default_model(host, primary)),
    };

    let providers: Vec<Provider> = match selected {
        Some(p) => vec![p],
        None => {
            let mut order = vec![primary];
            for p in std::iter::once(default).chain(allowed.iter().copied()) {
                if !order.contains(&p) && allowed.contains(&p) {
                    order.push(p);
                }
            }
            // Primary first, then providers that can actually be called.
            let (mut with, without): (Vec<_>, Vec<_>) = order[1..]
                .iter()
                .copied()
                .partition(|p| has_credentials(host, *p));
            let mut out = vec![primary];
            out.append(&mut with);
            out.extend(without);
            out
        }
    };

    let mut pairs = Vec::new();
    for p in providers {
        let cfg = models_for(p);
        let mut candidates: Vec<String> = Vec::new();
        let mut push = |m: &str| {
            if !m.is_empty() && !candidates.iter().any(|c| c == m) {
                candidates.push(m.to_owned());
            }
        };
        if p == primary {
            push(&primary_model);
        }
        if selected == Some(p) {
            if let Some(m) = &selected_model {
                push(m);
            }
        }
        // Models tried after the primary one when allowed (CONTRACT.md 8.2).
        for m in p.fallback_models() {
            push(m.name());
        }
        if let Some(c) = cfg {
            push(&c.default_model);
            for m in &c.allowed {
                push(m);
            }
        }
        push(&env_default_model(host, p));
        let filtered = candidates
            .into_iter()
            .filter(|m| cfg.is_none_or(|c| c.allowed.iter().any(|a| a == m)))
            .take(MAX_MODELS_PER_PROVIDER);
        for m in filtered {
            if pairs.len() < MAX_PAIRS {
                pairs.push((p, m));
            }
        }
    }
    Ok(pairs)
}

/// USD price per 1M tokens for a model id; unknown ids are charged at the
/// provider's default model price so a cost budget still holds.
pub fn price_of(p: Provider, model: &str) -> policy::Price {
    Model::from_name(model)
        .filter(|m| m.provider() == p)
        .map(Model::price)
        .unwrap_or_else(|| p.default_model().price())
}

fn nano_usd(usd: f64) -> i64 {
    (usd * 1e9).ceil() as i64
}

/// A conservative prompt-size estimate: real tokenizers average 3-4 bytes per
/// token on English text, so bytes/3 over-reserves rather than under.
fn estimate_prompt_tokens(messages: &[ChatMessage]) -> u64 {
    messages
        .iter()
        .map(|m| m.content.len() as u64 / 3 + 8)
        .sum()
}

fn cost_usd(price: policy::Price, prompt: u64, completion: u64) -> f64 {
    prompt as f64 / 1e6 * price.input_usd_per_1m + completion as f64 / 1e6 * price.output_usd_per_1m
}

/// Builds the wire target for a provider from the policy (protocol, base URL
/// and its override variable, credential variables) and the environment.
pub fn target_for<H: Host>(host: &H, p: Provider) -> ProviderTarget {
    let base = p
        .base_url_var()
        .and_then(|v| var(host, v))
        .unwrap_or_else(|| p.base_url().to_owned());
    let key_var = p.credential_vars().first().copied().unwrap_or("");
    let protocol = match p.protocol() {
        PolicyProtocol::OpenaiChat => Protocol::OpenaiChat,
        PolicyProtocol::AnthropicMessages => Protocol::AnthropicMessages,
        PolicyProtocol::BedrockConverse => Protocol::BedrockConverse,
        PolicyProtocol::WorkersAi => Protocol::WorkersAi,
    };
    let mut t = ProviderTarget::new(p.name(), protocol, base);
    t.api_key_var = key_var.to_owned();
    t.api_key = var(host, key_var);
    match p {
        Provider::Groq => t.path_style = OpenAiPath::Groq,
        Provider::Local => t.path_style = OpenAiPath::Local,
        Provider::Amazon => {
            // The Nova API when its key is set, else Bedrock Converse with SigV4
            // (CONTRACT.md 8.4).
            t.path_style = OpenAiPath::Nova;
            if t.api_key.is_none() {
                let creds = (
                    var(host, Var::AmazonBedrockAccessKeyId.name()),
                    var(host, Var::AmazonBedrockSecretAccessKey.name()),
                    var(host, Var::AmazonBedrockRegion.name()),
                );
                if let (Some(access_key_id), Some(secret_access_key), Some(region)) = creds {
                    t.protocol = Protocol::BedrockConverse;
                    t.base_url =
                        var(host, Var::AmazonBedrockEndpoint.name()).unwrap_or_else(|| {
                            format!("https://bedrock-runtime.{region}.amazonaws.com")
                        });
                    t.bedrock = Some(AwsCredentials {
                        access_key_id,
                        secret_access_key,
                        session_token: var(host, Var::AmazonBedrockSessionToken.name()),
                        region,
                    });
                }
            }
        }
        _ if protocol == Protocol::WorkersAi => {
            t.account_id = var(host, Var::CloudflareAccountId.name());
            t.api_key_var = Var::CloudflareApiToken.name().to_owned();
            t.api_key = var(host, Var::CloudflareApiToken.name());
        }
        _ => {}
    }
    through_gateway(host, p, &mut t);
    t
}

/// The AI Gateway account and gateway ids, when both are set.
fn gateway_ids<H: Host>(host: &H) -> Option<(String, String)> {
    Some((
        var(host, Var::CfAiGatewayAccountId.name())?,
        var(host, Var::CfAiGatewayGatewayId.name())?,
    ))
}

/// Re-addresses `t` to Cloudflare AI Gateway when the provider has a route
/// (providers.yaml `aiGateway`) and the gateway is configured: base URL
/// `{CF_AI_GATEWAY_BASE_URL}/v1/{account}/{gateway}/{route}`, the gateway's
/// token in `cf-aig-authorization`, the provider's own key (if any) kept in
/// `Authorization`; Workers AI without `CLOUDFLARE_API_TOKEN` authorizes with
/// the gateway token.
fn through_gateway<H: Host>(host: &H, p: Provider, t: &mut ProviderTarget) {
    let (Some(route), Some((account, gateway))) = (p.ai_gateway_route(), gateway_ids(host)) else {
        return;
    };
    let base = var(host, Var::CfAiGatewayBaseUrl.name())
        .unwrap_or_else(|| providers::gateway::DEFAULT_BASE_URL.to_owned());
    let token = var(host, Var::CloudflareAiGatewayApiKey.name());
    t.base_url = providers::gateway::route_url(&base, &account, &gateway, route);
    match t.protocol {
        Protocol::OpenaiChat => t.path_style = OpenAiPath::Gateway,
        Protocol::WorkersAi => {
            t.account_id = None;
            if t.api_key.is_none() {
                t.api_key.clone_from(&token);
                t.api_key_var = Var::CloudflareAiGatewayApiKey.name().to_owned();
            }
        }
        Protocol::AnthropicMessages | Protocol::BedrockConverse => {}
    }
    t.gateway = Some(providers::gateway::AiGateway::new(token));
}

/// Runs one model call for an agent: plan, budget, retry, fall back.
pub async fn chat<H: Host>(scope: &LlmScope<'_, H>, req: LlmRequest) -> Result<LlmReply, ApiError> {
    let grant = scope.grant;
    let host = scope.host;
    let max_tokens = {
        let g = grant.max_tokens()?.min(f64::from(u32::MAX)) as u32;
        req.max_tokens.map_or(g, |m| m.min(g)).max(1)
    };
    let grant_timeout = grant.timeout_ms()? as u64;
    let max_requests = grant.max_requests()?;
    let max_cost = grant.max_cost_usd()?;
    let pairs = plan_calls(scope)?;

    let key = grant.budget_key(scope.agent.name());
    let expires_at_ms = (grant.exp.max(0.0) * 1000.0) as u64 + 5_000;
    let now = host.clock().now_ms();
    let call_deadline = match req.timeout_ms {
        Some(t) => scope.deadline_ms.min(now + t.min(grant_timeout)),
        None => scope.deadline_ms.min(now + grant_timeout),
    };
    let prompt_estimate = estimate_prompt_tokens(&req.messages);

    let mut last_err = ApiError::provider(502, "sanfrancisco", "Upstream request failed");
    for (i, (provider, model)) in pairs.iter().enumerate() {
        let attempts = if i == 0 { 2 } else { 1 };
        for attempt in 0..attempts {
            if attempt > 0 {
                host.clock().sleep(RETRY_PAUSE_MS).await;
            }
            let now = host.clock().now_ms();
            if now >= call_deadline {
                return Err(ApiError::budget("Execution timeout exceeded"));
            }
            let mut target = target_for(host, *provider);
            if let Some(g) = target.gateway.as_mut() {
                g.set_metadata("agent", serde_json::Value::from(scope.agent.name()));
            }
            let price = price_of(*provider, model);
            let worst = nano_usd(cost_usd(price, prompt_estimate, u64::from(max_tokens)));
            let request_lane = Reserve {
                lane: LANE_REQUESTS,
                amount: 1,
                ceiling: Some(i64::try_from(max_requests).unwrap_or(i64::MAX)),
            };
            let mut lanes = Vec::with_capacity(2);
            if req.counts_request {
                lanes.push(request_lane);
            }
            if let Some(max) = max_cost {
                lanes.push(Reserve {
                    lane: LANE_COST,
                    amount: worst,
                    ceiling: Some(nano_usd(max)),
                });
            }
            let reserved = lanes.is_empty()
                || host
                    .counter()
                    .reserve(&key, &lanes, expires_at_ms)
                    .await
                    .map_err(|_| {
                        ApiError::provider(500, "sanfrancisco", "Budget store unavailable")
                    })?;
            if !reserved {
                let used = host.counter().read(&key, LANE_REQUESTS).await.unwrap_or(0);
                return Err(if used >= i64::try_from(max_requests).unwrap_or(i64::MAX) {
                    ApiError::budget("Grant request budget exceeded")
                } else {
                    ApiError::budget("Grant cost budget exceeded")
                });
            }
            let chat_req = ChatRequest {
                model: model.clone(),
                messages: req.messages.clone(),
                max_tokens,
                temperature: req.temperature,
            };
            let timeout = Duration::from_millis(call_deadline - now);
            match providers::call_chat(host.fetch(), &target, &chat_req, timeout, now).await {
                Ok(res) => {
                    let cost = cost_usd(price, res.prompt_tokens, res.completion_tokens);
                    if max_cost.is_some() {
                        // Settle the worst case down to what was spent. A failure
                        // here only leaves the reservation higher (safe side).
                        let _ = host
                            .counter()
                            .adjust(&key, LANE_COST, nano_usd(cost) - worst)
                            .await;
                    }
                    return Ok(LlmReply {
                        text: res.text,
                        provider: *provider,
                        model: res.model,
                        prompt_tokens: res.prompt_tokens,
                        completion_tokens: res.completion_tokens,
                        cost_usd: cost,
                    });
                }
                Err(err) => {
                    let timed_out = err.status == 429;
                    if !timed_out {
                        // The provider refused or failed before doing the work:
                        // give the reservation back. A timeout may have been
                        // billed, so it stays spent.
                        if req.counts_request {
                            let _ = host.counter().adjust(&key, LANE_REQUESTS, -1).await;
                        }
                        if max_cost.is_some() {
                            let _ = host.counter().adjust(&key, LANE_COST, -worst).await;
                        }
                    }
                    if !providers::is_retryable(&err) {
                        return Err(err);
                    }
                    last_err = err;
                }
            }
        }
    }
    Err(last_err)
}

/// The `usage` object of a response.
pub fn usage_json(reply: &LlmReply, latency_ms: u64, with_cost: bool) -> serde_json::Value {
    let mut u = serde_json::json!({
        "provider": reply.provider.name(),
        "model": reply.model,
        "promptTokens": reply.prompt_tokens,
        "completionTokens": reply.completion_tokens,
        "latencyMs": latency_ms,
    });
    if with_cost {
        u["costUsd"] = serde_json::json!(reply.cost_usd);
    }
    u
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    fn complete(p: Provider, set: &[&str]) -> bool {
        credentials_complete(p, |n| set.contains(&n))
    }

    #[test]
    fn amazon_needs_the_nova_key_or_all_three_bedrock_vars() {
        let a = Provider::Amazon;
        assert!(complete(a, &["NOVA_API_KEY"]));
        assert!(complete(
            a,
            &[
                "AMAZON_BEDROCK_ACCESS_KEY_ID",
                "AMAZON_BEDROCK_SECRET_ACCESS_KEY",
                "AMAZON_BEDROCK_REGION"
            ]
        ));
        assert!(!complete(
            a,
            &["AMAZON_BEDROCK_ACCESS_KEY_ID", "AMAZON_BEDROCK_REGION"]
        ));
        assert!(!complete(a, &["AMAZON_BEDROCK_SESSION_TOKEN"]));
    }

    #[test]
    fn other_providers_need_every_credential_var() {
        assert!(complete(Provider::Local, &[]));
        assert!(complete(Provider::Deepseek, &["DEEPSEEK_API_KEY"]));
        assert!(!complete(Provider::Deepseek, &[]));
        assert!(!complete(Provider::WorkersAi, &["CLOUDFLARE_API_TOKEN"]));
        assert!(complete(
            Provider::WorkersAi,
            &["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]
        ));
    }

    #[test]
    fn fallback_models_are_the_contract_lists() {
        let names =
            |p: Provider| -> Vec<&str> { p.fallback_models().iter().map(|m| m.name()).collect() };
        assert_eq!(names(Provider::Openai), ["gpt-4o-mini", "gpt-4o"]);
        assert_eq!(
            names(Provider::Amazon),
            [
                "amazon.nova-pro-v1:0",
                "nova-2-pro-v1",
                "amazon.nova-lite-v1:0",
                "nova-2-lite-v1"
            ]
        );
        for p in [
            Provider::Deepseek,
            Provider::Anthropic,
            Provider::Groq,
            Provider::WorkersAi,
            Provider::Local,
        ] {
            assert!(p.fallback_models().is_empty(), "{p}");
        }
    }
}
