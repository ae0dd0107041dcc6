//! The admin routes of prompt versions and experiments (`admin` scheme,
//! checked by dispatch):
//! - `GET /admin/v1/prompts/{agentId}` → `{"agentId","active","versions":[...]}`
//! - `POST /admin/v1/prompts/{agentId}` `{"version"?,"text","note"?}` → 201 the draft
//! - `POST /admin/v1/prompts/{agentId}/{version}/activate` → `{"agentId","active","version"}`
//! - `GET /admin/v1/experiments?agentId=` → `{"experiments":[...]}` newest first
//! - `POST /admin/v1/experiments` `{"agentId","arms","metric"?,"minPerArm"?,"alpha"?}` → 201
//! - `GET /admin/v1/experiments/{id}` → arms with samples, estimate, interval; decision
//! - `POST /admin/v1/experiments/{id}/stop` → the stopped experiment

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode, Issue};
use sf_core::http::{
    decode_param, json_response, parse_json_body, query_param, RouteCtx, RouteOut,
};
use sf_core::ports::Host;

use crate::experiments::{self, ArmCounts, Experiment};
use crate::{choice, prompted_agent, prompts};

const LIST_LIMIT: usize = 200;

/// The decoded `/`-separated path parameters.
fn params(cx: &RouteCtx) -> Vec<String> {
    cx.param
        .as_deref()
        .map(|p| {
            p.split('/')
                .map(|s| decode_param(s).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

async fn refreshed<H: Host>(h: &H, agent: sf_core::policy::Agent) -> Result<(), ApiError> {
    choice::refresh(h, agent).await.map(|_| ())
}

pub async fn prompts_list_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let p = params(&cx);
    let agent = prompted_agent(p.first().map(String::as_str).unwrap_or_default())?;
    let versions = prompts::list(h, agent).await?;
    let active = versions
        .iter()
        .find(|v| v.status == "active")
        .map(|v| v.version.clone());
    Ok(json_response(
        200,
        &json!({
            "agentId": agent.name(), "active": active,
            "versions": versions.iter().map(prompts::Version::to_json).collect::<Vec<_>>(),
        }),
    ))
}

pub async fn prompts_create_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let p = params(&cx);
    let agent = prompted_agent(p.first().map(String::as_str).unwrap_or_default())?;
    let body = parse_json_body(cx.req.body())?;
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request("Invalid request")
            .with_issues(vec![Issue::new("", "Expected { text, version?, note? }")]));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["text", "version", "note"].contains(&k.as_str()))
    {
        return Err(
            ApiError::bad_request("Invalid request").with_issues(vec![Issue::new(
                k,
                "Unknown field; the fields are text, version, note",
            )]),
        );
    }
    let text = obj.get("text").and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request("Invalid request").with_issues(vec![Issue::new(
            "text",
            "Expected the prompt text as a string",
        )])
    })?;
    let string_or_absent = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::bad_request("Invalid request")
            .with_issues(vec![Issue::new(k, "Expected a string")])),
    };
    let version = string_or_absent("version")?;
    let note = string_or_absent("note")?;
    let v = prompts::create(h, agent, version, text, note, prompts::SOURCE_ADMIN).await?;
    Ok(json_response(201, &v.to_json()))
}

pub async fn prompts_activate_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let p = params(&cx);
    let agent = prompted_agent(p.first().map(String::as_str).unwrap_or_default())?;
    let version = p.get(1).cloned().unwrap_or_default();
    let v = prompts::activate(h, agent, &version).await?;
    refreshed(h, agent).await?;
    Ok(json_response(
        200,
        &json!({"agentId": agent.name(), "active": v.version, "version": v.to_json()}),
    ))
}

async fn experiment<H: Host>(h: &H, cx: &RouteCtx) -> Result<Experiment, ApiError> {
    let id = params(cx).into_iter().next().unwrap_or_default();
    experiments::get(h, &id).await?.ok_or_else(|| {
        ApiError::new(
            404,
            ErrorCode::BadRequest,
            format!("Unknown experiment `{id}`; GET /admin/v1/experiments lists them"),
        )
    })
}

pub async fn experiments_list_route<H: Host, C: ArmCounts>(
    h: &H,
    counts: &C,
    cx: RouteCtx,
) -> RouteOut {
    let agent = match query_param(&cx, "agentId").and_then(decode_param) {
        Some(a) if !a.is_empty() => Some(prompted_agent(&a)?),
        _ => None,
    };
    let list = experiments::list(h, agent, LIST_LIMIT).await?;
    let mut out = Vec::with_capacity(list.len());
    for e in &list {
        let c = counts.counts(&e.id, e.metric).await?;
        out.push(e.to_json(&c));
    }
    Ok(json_response(200, &json!({"experiments": out})))
}

pub async fn experiments_create_route<H: Host>(h: &H, cx: RouteCtx) -> RouteOut {
    let body = parse_json_body(cx.req.body())?;
    let e = experiments::create(h, &body).await?;
    refreshed(h, e.agent).await?;
    Ok(json_response(201, &e.to_json(&[])))
}

pub async fn experiments_get_route<H: Host, C: ArmCounts>(
    h: &H,
    counts: &C,
    cx: RouteCtx,
) -> RouteOut {
    let e = experiment(h, &cx).await?;
    let c = counts.counts(&e.id, e.metric).await?;
    Ok(json_response(200, &e.to_json(&c)))
}

pub async fn experiments_stop_route<H: Host, C: ArmCounts>(
    h: &H,
    counts: &C,
    cx: RouteCtx,
) -> RouteOut {
    let e = experiment(h, &cx).await?;
    let c = counts.counts(&e.id, e.metric).await?;
    if e.status != "running" {
        return Err(ApiError::new(
            409,
            ErrorCode::BadRequest,
            format!("Experiment {} is {}, not running", e.id, e.status),
        ));
    }
    let stopped = experiments::stop(h, &e, &c).await?;
    refreshed(h, e.agent).await?;
    Ok(json_response(200, &stopped.to_json(&c)))
}
