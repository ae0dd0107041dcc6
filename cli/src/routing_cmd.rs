//! `sf routing test --tier T`: one real completion through the tier's route
//! (`POST /v1/chat/completions` with `model: "auto"` on a tenant key of that
//! tier), printing the model, provider, latency, tokens and whether the
//! fallback fired. The tenant is `--tenant-id`, else `routing-test-<tier>`
//! (created on first use); the key is minted for the test and revoked after.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::json;
use sf_core::policy::Environment;

use crate::admin::{Admin, Target};
use crate::config;
use crate::out::{self, Fail, Output};

#[derive(Debug, Subcommand)]
pub enum RoutingCommand {
    /// Send one test completion through a tier's route.
    #[command(
        after_help = "Examples:\n  sf routing test --tier premium\n  sf routing test --tier free --tenant-id 3f2c... --format table\n\nExit codes: 0 answered, 1 unknown tier or tenant, 2 auth, 3 the gateway or the model failed."
    )]
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[arg(long)]
    pub tier: String,
    /// A tenant of that tier to test with (default: `routing-test-<tier>`, created when missing).
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// The user message.
    #[arg(long, default_value = "Reply with one word: ok")]
    pub message: String,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub common: out::Common,
}

pub fn run(cmd: RoutingCommand) -> i32 {
    let RoutingCommand::Test(a) = cmd;
    out::finish(a.common.format, test(&a))
}

/// The tenant to test with and a fresh key for it.
fn tenant_and_key(api: &Admin, a: &TestArgs) -> Result<(String, String, String), Fail> {
    let key_of = |id: &str| -> Result<(String, String, String), Fail> {
        let r = api.call(
            Method::POST,
            &format!("/admin/v1/tenants/{id}/keys"),
            Some(&json!({"expiresInDays": 1})),
        )?;
        Ok((
            id.to_owned(),
            out::cell(&r.body["apiKey"]),
            out::cell(&r.body["keyId"]),
        ))
    };
    let list = api.call(Method::GET, "/admin/v1/tenants", None)?;
    let empty = Vec::new();
    let tenants = list.body["tenants"].as_array().unwrap_or(&empty);
    if let Some(id) = &a.tenant_id {
        let Some(t) = tenants.iter().find(|t| t["id"] == json!(id)) else {
            return Err(Fail::validation(
                "NO_SUCH_TENANT",
                format!("no tenant with id {id}"),
                "pass an id from `sf tenant list`, or omit --tenant-id",
            ));
        };
        if t["tier"] != json!(a.tier) {
            return Err(Fail::validation(
                "TIER_MISMATCH",
                format!(
                    "tenant {id} is on tier {}, not {}",
                    out::cell(&t["tier"]),
                    a.tier
                ),
                "pass a tenant of that tier, or omit --tenant-id",
            ));
        }
        return key_of(id);
    }
    let slug = format!("routing-test-{}", a.tier);
    if let Some(t) = tenants.iter().find(|t| t["slug"] == json!(slug)) {
        let id = out::cell(&t["id"]);
        if t["tier"] != json!(a.tier) {
            api.call(
                Method::PATCH,
                &format!("/admin/v1/tenants/{id}"),
                Some(&json!({"tier": a.tier})),
            )?;
        }
        return key_of(&id);
    }
    let r = api.call(
        Method::POST,
        "/admin/v1/tenants",
        Some(&json!({"slug": slug, "platform": "sf-cli", "tier": a.tier})),
    )?;
    Ok((
        out::cell(&r.body["tenant"]["id"]),
        out::cell(&r.body["apiKey"]),
        out::cell(&r.body["keyId"]),
    ))
}

fn test(a: &TestArgs) -> Result<Output, Fail> {
    crate::tenant_cmd::check_tier(&a.tier)?;
    let env = config::environment(a.common.env.as_deref(), Environment::Local)?;
    let cfg = config::load(a.common.config.as_deref(), env)?;
    let api = Admin::new(&a.target, &cfg)?;
    let (tenant, key, key_id) = tenant_and_key(&api, a)?;
    let body = json!({
        "model": "auto",
        "messages": [{"role": "user", "content": a.message}],
        "max_tokens": 16,
    });
    let res = api.send(Method::POST, "/v1/chat/completions", Some(&body), &key);
    // The key was minted for this test only.
    let revoked = api
        .call(
            Method::DELETE,
            &format!("/admin/v1/tenants/{tenant}/keys?keyId={key_id}"),
            None,
        )
        .is_ok();
    let r = res?;
    let u = &r.body["usage"];
    let v = json!({
        "tier": a.tier,
        "tenantId": tenant,
        "model": r.body["model"],
        "provider": r.header("x-sf-provider"),
        "fallback": r.header("x-sf-fallback") == Some("true"),
        "latencyMs": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
        "tokens": {"prompt": u["prompt_tokens"], "completion": u["completion_tokens"], "total": u["total_tokens"]},
        "shadow": r.header("x-sf-shadow"),
        "reply": r.body["choices"][0]["message"]["content"],
        "keyRevoked": revoked,
    });
    let table = out::grid(
        &[
            "tier",
            "provider",
            "model",
            "fallback",
            "latency ms",
            "tokens in/out",
        ],
        &[vec![
            a.tier.clone(),
            out::cell(&v["provider"]),
            out::cell(&v["model"]),
            if v["fallback"] == json!(true) {
                out::paint("yes", "1;33")
            } else {
                "no".into()
            },
            out::cell(&v["latencyMs"]),
            format!(
                "{}/{}",
                out::cell(&u["prompt_tokens"]),
                out::cell(&u["completion_tokens"])
            ),
        ]],
    );
    Ok(Output::new(v, table))
}
