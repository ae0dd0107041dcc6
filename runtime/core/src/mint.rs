//! Grant minting exactly as Paris does it (CONTRACT.md 4.1-4.3), from the
//! compiled policy, so operators (`sf grant mint`) and tests can drive the
//! gateway with the grants production callers send.

use serde_json::{json, Map, Value};

use crate::policy::{self, Agent, Budget, Plan, Profile, Provider, Stage, MINT_CAPS};

/// What an operator asks for.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// Agent id or alias; `widget.copilot.v1` and the two widget copilots are
    /// re-routed by plan like Paris does.
    pub agent: String,
    pub plan: Plan,
    pub stage: Stage,
    pub session_id: Option<String>,
    pub instance_public_id: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Requested budgets (maxTokens, timeoutMs, maxRequests); clamped.
    pub max_tokens: Option<f64>,
    pub timeout_ms: Option<f64>,
    pub max_requests: Option<f64>,
    /// Not minted by Paris; honoured by the gateway when present.
    pub max_cost_usd: Option<f64>,
    pub mode_ops: bool,
    /// Lifetime in seconds (Paris: 600).
    pub ttl_s: u64,
}

impl MintRequest {
    pub fn new(agent: impl Into<String>, plan: Plan) -> Self {
        Self {
            agent: agent.into(),
            plan,
            stage: Stage::Local,
            session_id: None,
            instance_public_id: None,
            provider: None,
            model: None,
            max_tokens: None,
            timeout_ms: None,
            max_requests: None,
            max_cost_usd: None,
            mode_ops: false,
            ttl_s: 600,
        }
    }
}

/// Paris' `clampBudget(requested, allowed, hardCap)`.
pub fn clamp_budget(requested: Option<f64>, allowed: u32, hard_cap: u32) -> u64 {
    let capped = u64::from(allowed.max(1)).min(u64::from(hard_cap));
    match requested {
        Some(r) if r.is_finite() && r > 0.0 => capped.min(r.floor().max(0.0) as u64),
        _ => capped,
    }
}

const WIDGET_IDS: [&str; 3] = [
    "widget.copilot.v1",
    "sdr.widget.copilot.v1",
    "cs.widget.copilot.v1",
];

/// Resolves the agent the way Paris does: the widget copilot ids are routed by plan.
pub fn resolve_agent(id: &str, plan: Plan) -> Option<Agent> {
    let id = id.trim();
    if WIDGET_IDS.contains(&id) {
        let target = match plan {
            Plan::Minibob | Plan::Free => "sdr.widget.copilot.v1",
            _ => "cs.widget.copilot.v1",
        };
        return Agent::from_name(target);
    }
    Agent::from_name(id)
}

/// The grant payload, keys in Paris' order. `now_s` epoch seconds, `jti` a UUID.
pub fn mint_payload(
    req: &MintRequest,
    now_s: u64,
    jti: &str,
    session_id: &str,
) -> Result<Value, String> {
    let agent = resolve_agent(&req.agent, req.plan)
        .ok_or_else(|| format!("unknown agentId `{}` (see `sf policy explain`)", req.agent))?;
    let profile: Profile =
        policy::curated_profile(agent.task_class()).unwrap_or(req.plan.profile());

    // Minibob grants default to Amazon Nova Lite (Paris' minibob endpoint).
    let minibob = req.plan == Plan::Minibob;
    let wanted_provider = req
        .provider
        .clone()
        .or_else(|| minibob.then(|| "amazon".to_owned()));
    let wanted_model = req
        .model
        .clone()
        .or_else(|| (minibob && req.provider.is_none()).then(|| "nova-2-lite-v1".to_owned()));

    let mut allowed: Vec<Provider> = agent
        .providers()
        .iter()
        .copied()
        .filter(|p| profile.providers().contains(p))
        .collect();
    // The development provider stands in for any agent where the policy allows it.
    if wanted_provider.as_deref() == Some(Provider::Local.name()) {
        allowed = vec![Provider::Local];
    }
    if allowed.is_empty() {
        return Err(format!(
            "agent `{}` has no provider under profile `{}`",
            agent.name(),
            profile.name()
        ));
    }
    let default_provider = if allowed.contains(&profile.default_provider()) {
        profile.default_provider()
    } else {
        allowed[0]
    };
    let mut models = Map::new();
    for p in &allowed {
        let (default, allowed_models): (String, Vec<String>) = match profile.models(*p) {
            Some(m) => (
                m.default.name().to_owned(),
                m.allowed.iter().map(|x| x.name().to_owned()).collect(),
            ),
            None => {
                let d = p.default_model().name().to_owned();
                (d.clone(), vec![d])
            }
        };
        models.insert(
            p.name().to_owned(),
            json!({ "defaultModel": default, "allowed": allowed_models }),
        );
    }
    let allow_provider_choice = agent.allow_provider_choice() && allowed.len() > 1;
    let allow_model_choice = agent.allow_model_choice();
    let selected_provider = wanted_provider
        .as_deref()
        .and_then(Provider::from_name)
        .filter(|p| (allow_provider_choice || allowed.len() == 1) && allowed.contains(p));
    let model_owner = selected_provider.unwrap_or(default_provider);
    let selected_model = wanted_model.filter(|m| {
        allow_model_choice
            && models
                .get(model_owner.name())
                .and_then(|c| c["allowed"].as_array())
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(m.as_str())))
    });

    let mut ai = json!({
        "profile": profile.name(),
        "allowedProviders": allowed.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "defaultProvider": default_provider.name(),
        "models": models,
        "allowProviderChoice": allow_provider_choice,
        "allowModelChoice": allow_model_choice,
    });
    if let Some(p) = selected_provider {
        ai["selectedProvider"] = json!(p.name());
    }
    if let Some(m) = selected_model {
        ai["selectedModel"] = json!(m);
    }

    let allowed_budget: Budget = agent.budget(profile);
    let (req_tokens, req_timeout, req_requests) =
        match (minibob, policy::minibob_override(req.stage)) {
            (true, Some(o))
                if req.max_tokens.is_none()
                    && req.timeout_ms.is_none()
                    && req.max_requests.is_none() =>
            {
                (
                    Some(f64::from(o.max_tokens)),
                    Some(f64::from(o.timeout_ms)),
                    Some(f64::from(o.max_requests)),
                )
            }
            _ => (req.max_tokens, req.timeout_ms, req.max_requests),
        };
    let mut budgets = json!({
        "maxTokens": clamp_budget(req_tokens, allowed_budget.max_tokens, MINT_CAPS.max_tokens),
        "timeoutMs": clamp_budget(req_timeout, allowed_budget.timeout_ms, MINT_CAPS.timeout_ms),
        "maxRequests": clamp_budget(req_requests, allowed_budget.max_requests, MINT_CAPS.max_requests),
    });
    if let Some(c) = req.max_cost_usd.filter(|c| c.is_finite() && *c > 0.0) {
        budgets["maxCostUsd"] = json!(c);
    }
    let mut trace = json!({ "sessionId": session_id });
    if let Some(id) = &req.instance_public_id {
        trace["instancePublicId"] = json!(id);
    }
    trace["envStage"] = json!(req.stage.name());

    Ok(json!({
        "v": 1,
        "iss": "paris",
        "jti": jti,
        "sub": { "kind": "anon", "sessionId": session_id },
        "exp": now_s + req.ttl_s,
        "caps": [format!("agent:{}", agent.name())],
        "budgets": budgets,
        "mode": if req.mode_ops { "ops" } else { "editor" },
        "ai": ai,
        "trace": trace,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_matches_paris() {
        assert_eq!(clamp_budget(None, 650, 1200), 650);
        assert_eq!(clamp_budget(Some(420.9), 650, 1200), 420);
        assert_eq!(clamp_budget(Some(5000.0), 1600, 1200), 1200);
        assert_eq!(clamp_budget(Some(-1.0), 2, 3), 2);
        assert_eq!(clamp_budget(Some(f64::NAN), 0, 3), 1);
    }

    #[test]
    fn widget_ids_route_by_plan() {
        assert_eq!(
            resolve_agent("widget.copilot.v1", Plan::Free).map(Agent::name),
            Some("sdr.widget.copilot.v1")
        );
        assert_eq!(
            resolve_agent("sdr.widget.copilot.v1", Plan::Tier2).map(Agent::name),
            Some("cs.widget.copilot.v1")
        );
        assert_eq!(
            resolve_agent("debug.grantProbe", Plan::Tier2).map(Agent::name),
            Some("debug.grantProbe")
        );
    }

    #[test]
    fn minibob_grant_matches_contract_4_3() {
        let mut req = MintRequest::new("widget.copilot.v1", Plan::Minibob);
        req.stage = Stage::CloudDev;
        req.mode_ops = true;
        let g = mint_payload(&req, 1_000, "j", "s").unwrap();
        assert_eq!(
            g["budgets"],
            json!({"maxTokens":420,"timeoutMs":12000,"maxRequests":2})
        );
        assert_eq!(g["ai"]["profile"], "free_low");
        assert_eq!(g["ai"]["allowedProviders"], json!(["deepseek", "amazon"]));
        assert_eq!(g["ai"]["defaultProvider"], "deepseek");
        assert_eq!(g["ai"]["selectedProvider"], "amazon");
        assert_eq!(g["ai"]["selectedModel"], "nova-2-lite-v1");
        assert_eq!(g["caps"], json!(["agent:sdr.widget.copilot.v1"]));
        assert_eq!(g["exp"], 1_600);
        assert_eq!(g["mode"], "ops");
        req.stage = Stage::Local;
        let g = mint_payload(&req, 1_000, "j", "s").unwrap();
        assert_eq!(
            g["budgets"],
            json!({"maxTokens":650,"timeoutMs":45000,"maxRequests":2})
        );
    }

    #[test]
    fn workspace_tier_budgets_are_clamped() {
        let mut req = MintRequest::new("cs.widget.copilot.v1", Plan::Tier3);
        let g = mint_payload(&req, 0, "j", "s").unwrap();
        // paid_premium allows 1400/60000/3; the mint caps cut tokens to 1200.
        assert_eq!(
            g["budgets"],
            json!({"maxTokens":1200,"timeoutMs":60000,"maxRequests":3})
        );
        req.max_tokens = Some(650.0);
        req.timeout_ms = Some(45000.0);
        req.max_requests = Some(2.0);
        let g = mint_payload(&req, 0, "j", "s").unwrap();
        assert_eq!(
            g["budgets"],
            json!({"maxTokens":650,"timeoutMs":45000,"maxRequests":2})
        );
        assert_eq!(g["ai"]["defaultProvider"], "openai");
    }
}
