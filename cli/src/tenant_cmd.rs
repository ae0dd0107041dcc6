//! `sf tenant create|update|list` over the admin API (runtime/tenants:
//! `POST|GET /admin/v1/tenants`, `PATCH /admin/v1/tenants/{id}`). The tier is
//! checked against policy/tenancy.yaml before anything is sent.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Map, Value};
use sf_core::policy::{Environment, Tier};

use crate::admin::{Admin, Target};
use crate::config;
use crate::out::{self, Fail, Output};

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its first key (shown once).
    #[command(
        after_help = "Examples:\n  sf tenant create --platform streamkinetics --tier premium\n  sf tenant create --slug acme --platform web --format table\n\nExit codes: 0 created, 1 invalid (unknown tier, bad slug, slug taken), 2 auth, 3 gateway unreachable or failing."
    )]
    Create(CreateArgs),
    /// Change a tenant's tier or platform.
    #[command(
        after_help = "Examples:\n  sf tenant update --tenant-id 3f2c... --tier free\n\nExit codes: 0 updated, 1 invalid or no such tenant, 2 auth, 3 gateway unreachable or failing."
    )]
    Update(UpdateArgs),
    /// List the tenants.
    #[command(
        after_help = "Examples:\n  sf tenant list --format table\n  SF_BASE_URL=https://sf.example.com sf tenant list | jq '.tenants[].slug'\n\nExit codes: 0, 2 auth, 3 gateway unreachable or failing."
    )]
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Platform (default: `defaultPlatform` of .sf.json).
    #[arg(long)]
    pub platform: Option<String>,
    /// Tier of policy/tenancy.yaml (default: its defaultTier).
    #[arg(long)]
    pub tier: Option<String>,
    /// Slug (default: `<platform>-<6 random hex digits>`, other characters as `-`).
    #[arg(long)]
    pub slug: Option<String>,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub common: out::Common,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[arg(long)]
    pub tenant_id: String,
    #[arg(long)]
    pub tier: Option<String>,
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub common: out::Common,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub common: out::Common,
}

pub fn run(cmd: TenantCommand) -> i32 {
    let format = match &cmd {
        TenantCommand::Create(a) => a.common.format,
        TenantCommand::Update(a) => a.common.format,
        TenantCommand::List(a) => a.common.format,
    };
    out::finish(format, run_inner(cmd))
}

fn admin(target: &Target, common: &out::Common) -> Result<(Admin, config::Config), Fail> {
    let env = config::environment(common.env.as_deref(), Environment::Local)?;
    let cfg = config::load(common.config.as_deref(), env)?;
    Ok((Admin::new(target, &cfg)?, cfg))
}

pub fn check_tier(t: &str) -> Result<(), Fail> {
    if Tier::from_name(t).is_some() {
        return Ok(());
    }
    Err(Fail::validation(
        "UNKNOWN_TIER",
        format!("unknown tier `{t}`"),
        format!(
            "use one of {} (policy/tenancy.yaml)",
            Tier::ALL.map(Tier::name).join(", ")
        ),
    ))
}

fn run_inner(cmd: TenantCommand) -> Result<Output, Fail> {
    match cmd {
        TenantCommand::Create(a) => {
            if let Some(t) = &a.tier {
                check_tier(t)?;
            }
            let (api, cfg) = admin(&a.target, &a.common)?;
            let platform = a
                .platform
                .clone()
                .or_else(|| cfg.str("defaultPlatform").map(str::to_owned))
                .ok_or_else(|| {
                    Fail::validation(
                        "NO_PLATFORM",
                        "no platform given",
                        "pass --platform P or set `defaultPlatform` in .sf.json",
                    )
                })?;
            let slug = a.slug.clone().unwrap_or_else(|| {
                let mut b = [0u8; 3];
                sf_core::ports::Random::fill(&sf_server::NativeRandom, &mut b);
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                let stem: String = platform
                    .to_ascii_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .take(56)
                    .collect();
                format!("{stem}-{hex}")
            });
            let mut body = Map::new();
            body.insert("slug".into(), json!(slug));
            body.insert("platform".into(), json!(platform));
            if let Some(t) = &a.tier {
                body.insert("tier".into(), json!(t));
            }
            let r = api.call(
                Method::POST,
                "/admin/v1/tenants",
                Some(&Value::Object(body)),
            )?;
            let table = format!(
                "{}\napi key (shown once): {}\n",
                tenants_table(std::slice::from_ref(&r.body["tenant"])),
                out::cell(&r.body["apiKey"])
            );
            Ok(Output::new(r.body, table))
        }
        TenantCommand::Update(a) => {
            if let Some(t) = &a.tier {
                check_tier(t)?;
            }
            if a.tier.is_none() && a.platform.is_none() {
                return Err(Fail::validation(
                    "NOTHING_TO_UPDATE",
                    "nothing to change",
                    "pass --tier T and/or --platform P",
                ));
            }
            let (api, _) = admin(&a.target, &a.common)?;
            let mut body = Map::new();
            if let Some(t) = &a.tier {
                body.insert("tier".into(), json!(t));
            }
            if let Some(p) = &a.platform {
                body.insert("platform".into(), json!(p));
            }
            let id: String = a
                .tenant_id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if id.is_empty() || id != a.tenant_id {
                return Err(Fail::validation(
                    "BAD_TENANT_ID",
                    format!("`{}` is not a tenant id", a.tenant_id),
                    "pass the `id` that `sf tenant list` shows",
                ));
            }
            let r = api.call(
                Method::PATCH,
                &format!("/admin/v1/tenants/{id}"),
                Some(&Value::Object(body)),
            )?;
            let table = tenants_table(std::slice::from_ref(&r.body["tenant"]));
            Ok(Output::new(r.body, table))
        }
        TenantCommand::List(a) => {
            let (api, _) = admin(&a.target, &a.common)?;
            let r = api.call(Method::GET, "/admin/v1/tenants", None)?;
            let empty = Vec::new();
            let list = r.body["tenants"].as_array().unwrap_or(&empty);
            let table = tenants_table(list);
            Ok(Output::new(r.body, table))
        }
    }
}

fn tenants_table(list: &[Value]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            vec![
                out::cell(&t["id"]),
                out::cell(&t["slug"]),
                out::cell(&t["platform"]),
                out::cell(&t["tier"]),
            ]
        })
        .collect();
    out::grid(&["id", "slug", "platform", "tier"], &rows)
}
