//! `sf openapi`: an OpenAPI 3.1 document of every route of
//! policy/endpoints.yaml, built from the compiled route table (paths,
//! methods, auth schemes, environment gates, the concurrency cap) and the
//! bodies of [`crate::openapi_bodies`]. The checked-in copy is
//! docs/openapi.json (cli/tests/generated_docs.rs fails when it is stale).

use clap::Args;
use serde_json::{json, Map, Value};
use sf_core::policy::{Auth, Method, ROUTES};

use crate::openapi_bodies::{components, doc};
use crate::out::{self, Output};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  sf openapi > docs/openapi.json\n  sf openapi --format table")]
pub struct OpenapiArgs {
    #[command(flatten)]
    pub common: out::Common,
}

pub fn run(a: OpenapiArgs) -> i32 {
    let doc = document();
    let table = table(&doc);
    out::finish(a.common.format, Ok(Output::new(doc, table)))
}

fn scheme(auth: Auth) -> Option<(&'static str, Value)> {
    let bearer = |desc: &str| json!({"type": "http", "scheme": "bearer", "description": desc});
    match auth {
        Auth::None | Auth::Grant => None,
        Auth::ParisSignature => Some((
            "parisSignature",
            json!({"type": "apiKey", "in": "header", "name": "x-paris-signature",
                   "description": "b64url(HMAC-SHA256(AI_GRANT_HMAC_SECRET, \"outcome.v1.\" + body)) (CONTRACT 0.4)"}),
        )),
        Auth::Bearer => Some(("parisBearer", bearer("PARIS_DEV_JWT (CONTRACT 2.0)"))),
        Auth::Admin => Some((
            "admin",
            bearer("SF_ADMIN_TOKEN; or the admin UI's session cookie `sf_admin` (POST /admin/v1/session), with `x-sf-csrf` on state-changing calls"),
        )),
        Auth::Caller => Some((
            "approvalsCaller",
            bearer("an approvals caller's token (policy/approvals.yaml tokenVar)"),
        )),
        Auth::Tenant => Some((
            "tenantKey",
            bearer("a tenant key sk-sf-... (runtime/tenants)"),
        )),
    }
}

fn error_response(desc: String) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn operation(spec: &sf_core::policy::RouteSpec, method: Method) -> Value {
    let d = doc(spec.route);
    let mut op = Map::new();
    op.insert(
        "operationId".into(),
        json!(format!("{}_{}", spec.handler, method.name().to_lowercase())),
    );
    op.insert("summary".into(), json!(d.summary));
    let mut tags = vec![spec.handler.split('_').next().unwrap_or(spec.handler)];
    if spec.path.starts_with("/admin/") {
        tags.push("admin");
    }
    op.insert("tags".into(), json!(tags));
    let mut notes = Vec::new();
    if let Some(envs) = spec.environments {
        let names: Vec<&str> = envs.iter().map(|e| e.name()).collect();
        notes.push(format!(
            "Only where ENVIRONMENT is {} (elsewhere 404).",
            names.join(" or ")
        ));
        op.insert("x-sf-environments".into(), json!(names));
    }
    if spec.concurrency_capped {
        notes.push("Counts against the per-isolate in-flight cap (429 when reached).".into());
        op.insert("x-sf-concurrency-capped".into(), json!(true));
    }
    if spec.auth == Auth::Grant {
        notes.push("Authorized by the grant in the body (CONTRACT 3).".into());
    }
    if !notes.is_empty() {
        op.insert("description".into(), json!(notes.join(" ")));
    }
    op.insert("x-sf-auth".into(), json!(spec.auth.name()));
    if !d.documented {
        op.insert("x-sf-undocumented".into(), json!(true));
    }
    let params: Vec<Value> = spec
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if !params.is_empty() {
        op.insert("parameters".into(), json!(params));
    }
    if let (Some(body), true) = (&d.request, !matches!(method, Method::Get | Method::Head)) {
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": body}}}),
        );
    }
    let mut responses = Map::new();
    let (status, schema) = &d.ok;
    responses.insert(
        status.to_string(),
        json!({"description": "success", "content": {"application/json": {"schema": schema}}}),
    );
    for (code, why) in &d.errors {
        responses.insert(code.to_string(), error_response((*why).to_owned()));
    }
    match scheme(spec.auth) {
        Some((name, _)) => {
            op.insert("security".into(), json!([{ name: [] }]));
            responses
                .entry("401")
                .or_insert_with(|| error_response("missing credentials".into()));
            responses
                .entry("403")
                .or_insert_with(|| error_response("wrong credentials".into()));
        }
        None => {
            op.insert("security".into(), json!([]));
            if spec.auth == Auth::Grant {
                responses
                    .entry("401")
                    .or_insert_with(|| error_response("an invalid or expired grant".into()));
                responses
                    .entry("403")
                    .or_insert_with(|| error_response("the grant lacks the capability".into()));
            }
        }
    }
    if spec.environments.is_some() {
        responses
            .entry("404")
            .or_insert_with(|| error_response("not found (or not in this environment)".into()));
    }
    responses.insert(
        "500".into(),
        error_response("a missing setting or an unhandled error".into()),
    );
    op.insert("responses".into(), Value::Object(sorted(responses)));
    Value::Object(op)
}

fn sorted(m: Map<String, Value>) -> Map<String, Value> {
    let mut v: Vec<(String, Value)> = m.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter().collect()
}

/// The whole document (deterministic: route table order).
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut schemes = Map::new();
    for spec in ROUTES.iter() {
        let item = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| json!({}));
        for &m in spec.methods {
            if let Some(o) = item.as_object_mut() {
                o.insert(m.name().to_lowercase(), operation(spec, m));
            }
        }
        if let Some((name, s)) = scheme(spec.auth) {
            schemes.insert(name.to_owned(), s);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "San Francisco AI agent gateway",
            // Not the policy version: that changes with every policy edit,
            // and the checked-in copy should go stale only when the API does.
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Generated by `sf openapi` from the compiled policy (policy/endpoints.yaml, policy/tenancy.yaml). Every answer is JSON; errors are {\"error\": {\"code\", \"message\", \"issues\"?, \"provider\"?}} (CONTRACT.md 0.2).",
        },
        "servers": [{"url": "http://127.0.0.1:3002", "description": "sf serve"}],
        "paths": paths,
        "components": {"schemas": components(), "securitySchemes": schemes},
    })
}

fn table(doc: &Value) -> String {
    let mut rows = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            if let Some(ops) = item.as_object() {
                for (m, op) in ops {
                    rows.push(vec![
                        m.to_uppercase(),
                        path.clone(),
                        out::cell(&op["x-sf-auth"]),
                        if op["requestBody"]["content"]["application/json"]["schema"].is_object() {
                            "yes".to_owned()
                        } else {
                            "-".to_owned()
                        },
                        op["responses"]
                            .as_object()
                            .map(|r| r.keys().cloned().collect::<Vec<_>>().join(","))
                            .unwrap_or_default(),
                        out::cell(&op["summary"]),
                    ]);
                }
            }
        }
    }
    format!(
        "OpenAPI {} of San Francisco {} (policy {})\n{}",
        out::cell(&doc["openapi"]),
        out::cell(&doc["info"]["version"]),
        sf_core::policy::POLICY_VERSION,
        out::grid(
            &["method", "path", "auth", "body", "responses", "summary"],
            &rows
        )
    )
}

#[cfg(test)]
mod tests {
    use sf_core::policy::Route;

    #[test]
    fn every_route_has_its_bodies() {
        let missing: Vec<&str> = Route::ALL
            .iter()
            .filter(|r| !crate::openapi_bodies::doc(**r).documented)
            .map(|r| r.spec().handler)
            .collect();
        assert!(
            missing.is_empty(),
            "routes without bodies in cli/src/openapi_bodies.rs: {missing:?}"
        );
    }

    #[test]
    fn every_route_and_method_is_in_the_document() {
        let d = super::document();
        for spec in sf_core::policy::ROUTES.iter() {
            for m in spec.methods {
                assert!(
                    d["paths"][spec.path][m.name().to_lowercase()].is_object(),
                    "{} {}",
                    m.name(),
                    spec.path
                );
            }
        }
    }
}
