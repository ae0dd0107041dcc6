//! Request and response bodies of every route, for `sf openapi`: from
//! CONTRACT.md section 2 for the contract routes, and from the handlers'
//! code for the approvals, admin and tenant routes (runtime/approvals,
//! runtime/records metrics, runtime/tenants). The paths, methods, auth and
//! environments come from the compiled route table; only the bodies live
//! here. A route without an entry gets [`Doc::undocumented`], which the
//! tests refuse, so a new route in policy/endpoints.yaml needs one here.

use serde_json::{json, Value};
use sf_core::policy::Route;

/// One route's documentation.
pub struct Doc {
    pub summary: &'static str,
    pub request: Option<Value>,
    /// The success status and body schema.
    pub ok: (u16, Value),
    /// Error statuses the handler answers besides the auth ones, with why.
    pub errors: Vec<(u16, &'static str)>,
    pub documented: bool,
}

impl Doc {
    fn new(summary: &'static str, request: Option<Value>, ok: (u16, Value)) -> Self {
        Self {
            summary,
            request,
            ok,
            errors: Vec::new(),
            documented: true,
        }
    }
    fn err(mut self, status: u16, why: &'static str) -> Self {
        self.errors.push((status, why));
        self
    }
    pub fn undocumented() -> Self {
        Self {
            summary: "undocumented route (add it to cli/src/openapi_bodies.rs)",
            request: None,
            ok: (200, json!({"type": "object"})),
            errors: Vec::new(),
            documented: false,
        }
    }
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "properties": props})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn s() -> Value {
    json!({"type": "string"})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn num() -> Value {
    json!({"type": "number"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn any() -> Value {
    json!({})
}

fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// The `sf.command` envelope of CONTRACT.md 2.3 with `command` fixed.
fn envelope(command: &str, payload: Value) -> Value {
    obj(
        &["v", "kind", "command", "payload"],
        json!({"v": {"const": 1}, "kind": {"const": "sf.command"}, "command": {"const": command}, "payload": payload}),
    )
}

/// Schemas shared by the routes (`components.schemas`).
fn prompt_version() -> Value {
    obj(
        &["version", "status", "source", "text"],
        json!({
            "version": s(), "status": {"type": "string", "enum": ["active", "draft", "archived"]},
            "source": {"type": "string", "enum": ["policy", "admin", "analyze"]},
            "text": s(), "createdAtMs": {"type": ["integer", "null"]}, "note": {"type": ["string", "null"]},
        }),
    )
}

fn experiment() -> Value {
    obj(
        &[
            "id",
            "agentId",
            "metric",
            "status",
            "arms",
            "decision",
            "createdAtMs",
        ],
        json!({
            "id": s(), "agentId": s(), "metric": s(),
            "status": {"type": "string", "enum": ["running", "decided", "stopped"]},
            "minPerArm": int(), "alpha": num(), "tunedForPerArm": int(),
            "arms": arr(obj(&["version", "samples", "successes", "interval"], json!({
                "version": s(), "samples": int(), "successes": int(), "estimate": {"type": ["number", "null"]},
                "interval": {"type": "array", "items": num(), "minItems": 2, "maxItems": 2},
            }))),
            "decision": {"type": ["object", "null"]}, "createdAtMs": int(),
        }),
    )
}

pub fn components() -> Value {
    json!({
        "Error": obj(&["error"], json!({"error": obj(&["code", "message"], json!({
            "code": {"type": "string", "enum": sf_core::error::ErrorCode::ALL.iter().map(|c| c.name()).collect::<Vec<_>>()},
            "message": s(),
            "provider": {"type": "string", "description": "the provider that failed (PROVIDER_ERROR)"},
            "issues": arr(obj(&["path", "message"], json!({"path": s(), "message": s()}))),
        }))})),
        "Usage": obj(&["provider", "model", "promptTokens", "completionTokens", "latencyMs"], json!({
            "provider": s(), "model": s(), "promptTokens": int(), "completionTokens": int(),
            "latencyMs": int(), "costUsd": num(),
        })),
        "JobId": obj(&["jobId"], json!({"jobId": s()})),
        "JobStatus": obj(&["jobId", "status", "updatedAtMs"], json!({
            "jobId": s(),
            "status": {"type": "string", "enum": ["queued", "running", "completed", "failed"]},
            "result": any(),
            "error": obj(&["message"], json!({"message": s()})),
            "updatedAtMs": int(),
            "persisted": boolean(),
            "persistError": any(),
        })),
        "Tenant": obj(&["id", "slug", "platform", "tier", "createdAtMs", "updatedAtMs"], json!({
            "id": s(), "slug": s(), "platform": s(),
            "tier": {"type": "string", "enum": sf_core::policy::Tier::ALL.map(sf_core::policy::Tier::name)},
            "createdAtMs": int(), "updatedAtMs": int(),
        })),
        "Approval": obj(&["taskId", "status"], json!({
            "taskId": s(), "caller": s(), "status": s(), "type": s(), "description": s(),
            "estimatedCost": num(), "reason": s(), "expiresAtMs": int(),
        })),
        "ApprovalTask": obj(&["taskId", "type", "estimatedCost"], json!({
            "taskId": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
            "type": s(), "description": s(), "estimatedCost": {"type": "number", "minimum": 0}, "agentType": s(),
        })),
        "ChatMessage": obj(&["role", "content"], json!({
            "role": {"type": "string", "enum": ["system", "user", "assistant"]}, "content": s(),
        })),
    })
}

/// The documentation of `route`.
pub fn doc(route: Route) -> Doc {
    use Route as R;
    let ok = |schema: Value| (200, schema);
    let ok_true = obj(&["ok"], json!({"ok": {"const": true}}));
    match route {
        R::Healthz => Doc::new(
            "Liveness (CONTRACT 2.1)",
            None,
            ok(obj(&["ok", "service", "env", "ts"], json!({
                "ok": {"const": true}, "service": {"const": "sanfrancisco"}, "env": s(), "ts": int(),
            }))),
        ),
        R::Execute => Doc::new(
            "Run an agent with a grant (CONTRACT 2.2)",
            Some(obj(&["grant", "agentId"], json!({
                "grant": {"type": "string", "description": "v1.<payload>.<signature> (CONTRACT 3)"},
                "agentId": s(), "input": any(),
                "trace": json!({"type": "object", "properties": {"requestId": s(), "client": s(), "locale": s()}}),
            }))),
            ok(obj(&["requestId", "agentId", "result", "usage"], json!({
                "requestId": s(), "agentId": s(), "result": any(), "usage": r("Usage"),
            }))),
        )
        .err(400, "invalid JSON or not { grant, agentId, input }")
        .err(429, "the concurrency cap or a grant budget is reached")
        .err(502, "the provider failed"),
        R::Outcome => Doc::new(
            "Attach a UX or conversion outcome to a request (CONTRACT 2.3)",
            Some(envelope("ai.outcome.attach", obj(&["requestId", "sessionId", "event", "occurredAtMs"], json!({
                "requestId": s(), "sessionId": s(),
                "event": {"type": "string", "enum": ["signup_started", "signup_completed", "upgrade_clicked", "upgrade_completed", "cta_clicked", "ux_keep", "ux_undo"]},
                "occurredAtMs": num(), "timeToDecisionMs": {"type": "number", "minimum": 0},
                "accountIdHash": s(), "workspaceIdHash": s(),
            })))),
            ok(ok_true.clone()),
        )
        .err(400, "not an sf.command envelope, or an invalid payload"),
        R::PersonalizationPreview => Doc::new(
            "Enqueue a personalization preview (CONTRACT 2.4)",
            Some(envelope("personalization.preview.enqueue", obj(&["url", "grant"], json!({
                "url": s(), "grant": s(), "agentId": {"const": "agent.personalization.preview.v1"},
                "locale": s(), "templateContext": {"type": "object"},
                "allowedOverrides": arr(json!({"type": "string", "pattern": "^[a-zA-Z0-9._-]{1,40}$"})),
                "jobId": s(),
            })))),
            ok(r("JobId")),
        )
        .err(400, "missing url or grant, or an unsupported agentId"),
        R::PersonalizationPreviewStatus | R::PersonalizationOnboardingStatus => Doc::new(
            "Poll a personalization job (CONTRACT 2.5, 2.7)",
            None,
            ok(r("JobStatus")),
        )
        .err(404, "no such job (or it expired)"),
        R::PersonalizationOnboarding => Doc::new(
            "Enqueue a personalization onboarding (CONTRACT 2.6)",
            Some(envelope("personalization.onboarding.enqueue", obj(&["grant", "workspaceId", "url"], json!({
                "grant": s(), "workspaceId": s(), "url": s(),
                "agentId": {"const": "agent.personalization.onboarding.v1"},
                "locale": s(), "websiteDepth": num(), "gbpPlaceId": s(), "facebookPageId": s(),
                "instagramHandle": s(), "jobId": s(),
            })))),
            ok(r("JobId")),
        )
        .err(400, "missing grant, workspaceId or url"),
        R::L10nPlan => Doc::new(
            "Compute an l10n snapshot and fingerprint (CONTRACT 2.8)",
            Some(obj(&["widgetType"], json!({
                "widgetType": s(), "config": {"type": "object"}, "publicId": s(), "workspaceId": s(),
                "baseUpdatedAt": s(),
            }))),
            ok(obj(&["widgetType", "baseFingerprint", "baseUpdatedAt", "snapshot"], json!({
                "widgetType": s(), "baseFingerprint": s(), "baseUpdatedAt": {"type": ["string", "null"]},
                "snapshot": {"type": "object", "additionalProperties": s()},
            }))),
        )
        .err(400, "missing widgetType, or config nor publicId + workspaceId"),
        R::L10nDispatch => Doc::new(
            "Run l10n jobs over HTTP instead of the queue (CONTRACT 2.9, local only)",
            Some(json!({"oneOf": [
                arr(json!({"type": "object"})),
                obj(&["jobs"], json!({"jobs": arr(json!({"type": "object"}))})),
                obj(&["job"], json!({"job": {"type": "object"}})),
                {"type": "object"},
            ]})),
            ok(obj(&["ok", "queued"], json!({"ok": {"const": true}, "queued": int()}))),
        )
        .err(400, "no jobs, or an invalid l10n job"),
        R::L10nTranslate => Doc::new(
            "Translate Prague system strings (CONTRACT 2.10, local and dev)",
            Some(obj(&["v", "surface", "kind", "chunkKey", "blockKind", "locale", "baseFingerprint", "baseUpdatedAt", "allowlistVersion", "items"], json!({
                "v": {"const": 1}, "surface": {"const": "prague"}, "kind": {"const": "system"},
                "chunkKey": s(), "blockKind": s(), "locale": s(), "baseFingerprint": s(), "baseUpdatedAt": s(),
                "allowlistVersion": num(), "allowlistHash": s(),
                "items": {"type": "array", "maxItems": 250, "items": obj(&["path", "type", "value"], json!({
                    "path": s(), "type": {"type": "string", "enum": ["string", "richtext"]}, "value": s(),
                }))},
            }))),
            ok(obj(&["v", "locale", "items"], json!({
                "v": {"const": 1}, "locale": s(),
                "items": arr(obj(&["path", "value"], json!({"path": s(), "value": s()}))),
            }))),
        )
        .err(400, "an invalid job or locale, too many items, input too large")
        .err(429, "the concurrency cap is reached"),
        R::ApprovalsHealth => Doc::new(
            "Approvals liveness",
            None,
            ok(obj(&["status", "service", "policyVersion", "ts"], json!({
                "status": {"const": "ok"}, "service": {"const": "approvals"}, "policyVersion": s(), "ts": int(),
            }))),
        ),
        R::ApprovalsApprove => Doc::new(
            "Ask whether an agent task may run (policy/approvals.yaml)",
            Some(r("ApprovalTask")),
            ok(r("Approval")),
        )
        .err(400, "an invalid task"),
        R::ApprovalsReport => Doc::new(
            "Report a task's actual cost (settles the day's spend once)",
            Some(obj(&["actualCost"], json!({"actualCost": {"type": "number", "minimum": 0}}))),
            ok(json!({"type": "object"})),
        )
        .err(404, "no such approved task"),
        R::ApprovalsTask => Doc::new(
            "Poll a task: whether the agent must stop",
            None,
            ok(obj(&["taskId", "status", "halted", "stop"], json!({
                "taskId": s(), "status": s(), "halted": boolean(), "stop": boolean(), "reason": s(),
            }))),
        ),
        R::ApprovalsHalt => Doc::new(
            "Halt a task",
            Some(obj(&["taskId"], json!({"taskId": s(), "reason": s()}))),
            ok(obj(&["taskId", "halted", "stop"], json!({
                "taskId": s(), "halted": {"const": true}, "stop": {"const": true}, "reason": s(),
            }))),
        ),
        R::ApprovalsChat => Doc::new(
            "Ask about the caller's status and pending approvals",
            Some(obj(&["message"], json!({"message": s(), "sessionKey": s()}))),
            ok(obj(&["reply", "sessionKey", "turns", "status"], json!({
                "reply": s(), "sessionKey": s(), "turns": int(), "status": {"type": "object"},
            }))),
        ),
        R::ApprovalsStatus => Doc::new(
            "Today's spend, counts, pending approvals and halted tasks of the caller",
            None,
            ok(json!({"type": "object"})),
        ),
        R::ApprovalsAdminList => Doc::new(
            "Pending approvals (expired ones are denied on the way)",
            None,
            ok(obj(&["approvals"], json!({"approvals": arr(r("Approval"))}))),
        ),
        R::ApprovalsAdminDecide => Doc::new(
            "Approve or deny a pending approval",
            Some(obj(&["decision"], json!({
                "decision": {"type": "string", "enum": ["approve", "deny"]}, "note": s(),
            }))),
            ok(r("Approval")),
        )
        .err(404, "no such pending approval")
        .err(409, "already decided"),
        R::LearningMetrics => Doc::new(
            "The learning loop's metrics per day and prompt version",
            None,
            ok(json!({"type": "object"})),
        ),
        R::LearningReviewList => Doc::new(
            "The review queue, newest first (query: agentId?, status=unreviewed|good|bad|golden|all, limit 1-50, cursor)",
            None,
            ok(obj(&["items", "nextCursor", "total"], json!({
                "items": arr(obj(
                    &["requestId", "agentId", "sessionId", "occurredAtMs", "widgetType", "promptVersion",
                      "input", "output", "ops", "outcomes", "score", "label", "note"],
                    json!({
                        "requestId": s(), "agentId": s(), "sessionId": {"type": ["string", "null"]},
                        "occurredAtMs": int(), "widgetType": {"type": ["string", "null"]},
                        "promptVersion": {"type": ["string", "null"]},
                        "input": {"description": "the raw log's input; null once the raw log is gone"},
                        "output": {"description": "the raw log's result; null once the raw log is gone"},
                        "ops": {"type": ["array", "null"]},
                        "outcomes": arr(s()), "score": {"type": ["number", "null"]},
                        "label": {"type": ["string", "null"], "enum": ["good", "bad", "golden", null]},
                        "note": {"type": ["string", "null"]},
                    }),
                )),
                "nextCursor": {"type": ["string", "null"]},
                "total": int(),
            }))),
        )
        .err(400, "an unknown agent or status, a limit outside 1-50 or a bad cursor (with issues)"),
        R::LearningReviewLabel => Doc::new(
            "Label an interaction good, bad or golden (the last label wins)",
            Some(obj(&["label"], json!({
                "label": {"type": "string", "enum": ["good", "bad", "golden"]},
                "note": {"type": ["string", "null"], "maxLength": 2000},
            }))),
            ok(obj(&["requestId", "label", "note", "labeledAtMs"], json!({
                "requestId": s(), "label": s(), "note": {"type": ["string", "null"]}, "labeledAtMs": int(),
            }))),
        )
        .err(400, "a label other than good, bad, golden or a bad note (with issues)")
        .err(404, "no interaction with that requestId"),
        R::JobsRun => Doc::new(
            "Run a job of policy/jobs.yaml now",
            None,
            ok(obj(&["job", "ok", "report"], json!({
                "job": s(), "ok": {"const": true},
                "report": obj(&["summary"], json!({"summary": s()})),
            }))),
        )
        .err(404, "no such job (`sf jobs list`)")
        .err(500, "the job failed"),
        R::TenantsAdminCreate => Doc::new(
            "Create a tenant; its first key is shown once",
            Some(json!({"type": "object", "additionalProperties": false, "required": ["slug", "platform"], "properties": {
                "slug": s(), "platform": s(),
                "tier": {"type": "string", "enum": sf_core::policy::Tier::ALL.map(sf_core::policy::Tier::name)},
            }})),
            (201, obj(&["tenant", "apiKey", "keyId"], json!({"tenant": r("Tenant"), "apiKey": s(), "keyId": s()}))),
        )
        .err(400, "an invalid slug, platform or tier, or an unknown field")
        .err(409, "a tenant with that slug exists"),
        R::TenantsAdminList => Doc::new(
            "Every tenant (at most 1000)",
            None,
            ok(obj(&["tenants"], json!({"tenants": arr(r("Tenant"))}))),
        ),
        R::TenantsAdminUpdate => Doc::new(
            "Change a tenant's platform or tier (the slug is fixed)",
            Some(json!({"type": "object", "additionalProperties": false, "properties": {
                "platform": s(),
                "tier": {"type": "string", "enum": sf_core::policy::Tier::ALL.map(sf_core::policy::Tier::name)},
            }})),
            ok(obj(&["tenant", "keys"], json!({"tenant": r("Tenant"), "keys": arr(json!({"type": "object"}))}))),
        )
        .err(400, "an invalid platform or tier, or a slug")
        .err(404, "no such tenant"),
        R::TenantsAdminKeyCreate => Doc::new(
            "Add a key to a tenant (shown once)",
            Some(json!({"type": "object", "additionalProperties": false, "properties": {
                "expiresInDays": {"type": "integer", "minimum": 1},
            }})),
            (201, obj(&["tenantId", "keyId", "apiKey", "expiresAtMs"], json!({
                "tenantId": s(), "keyId": s(), "apiKey": s(), "expiresAtMs": {"type": ["integer", "null"]},
            }))),
        )
        .err(404, "no such tenant"),
        R::TenantsAdminKeyRevoke => Doc::new(
            "Revoke a tenant's key (`?keyId=` or a body)",
            Some(obj(&["keyId"], json!({"keyId": s()}))),
            ok(obj(&["tenantId", "keyId", "revokedAtMs"], json!({"tenantId": s(), "keyId": s(), "revokedAtMs": int()}))),
        )
        .err(404, "no such tenant, or no such live key"),
        R::TenantsAdminUsage => Doc::new(
            "A tenant's usage over the last `days` (1-366, default 30)",
            None,
            ok(json!({"type": "object", "required": ["slug", "tier"], "properties": {"slug": s(), "tier": s()}})),
        )
        .err(400, "an invalid `days`")
        .err(404, "no such tenant"),
        R::TenantsChatCompletions => Doc::new(
            "OpenAI-compatible chat completion on a tenant key (`stream: true` answers server-sent events)",
            Some(obj(&["messages"], json!({
                "model": {"type": "string", "description": "\"auto\" routes by the tenant's tier (policy/tenancy.yaml)"},
                "messages": {"type": "array", "minItems": 1, "items": r("ChatMessage")},
                "temperature": num(), "max_tokens": int(), "stream": boolean(),
                "response_format": obj(&["type"], json!({"type": s()})),
                "metadata": json!({"type": "object", "properties": {"workload": {"type": "string", "enum": sf_core::policy::Workload::ALL.map(sf_core::policy::Workload::name)}}}),
            }))),
            ok(obj(&["id", "object", "created", "model", "choices", "usage"], json!({
                "id": s(), "object": {"const": "chat.completion"}, "created": int(), "model": s(),
                "choices": arr(obj(&["index", "message", "finish_reason"], json!({
                    "index": int(), "message": r("ChatMessage"), "finish_reason": s(), "logprobs": {"type": "null"},
                }))),
                "usage": obj(&["prompt_tokens", "completion_tokens", "total_tokens"], json!({
                    "prompt_tokens": int(), "completion_tokens": int(), "total_tokens": int(),
                })),
            }))),
        )
        .err(400, "an invalid request")
        .err(429, "the tenant's quota is spent (retry-after)")
        .err(502, "the provider and the fallback failed"),
        R::TenantsModels => Doc::new(
            "The models a tenant key may name",
            None,
            ok(obj(&["object", "data"], json!({
                "object": {"const": "list"},
                "data": arr(obj(&["id", "object"], json!({"id": s(), "object": {"const": "model"}, "owned_by": s()}))),
            }))),
        ),
        R::PromptsAdminList => Doc::new(
            "An agent's prompt versions: the policy's baseline first, then the stored ones",
            None,
            ok(obj(&["agentId", "active", "versions"], json!({
                "agentId": s(), "active": s(), "versions": arr(prompt_version()),
            }))),
        )
        .err(404, "an agent without a prompt in policy/prompts.yaml"),
        R::PromptsAdminCreate => Doc::new(
            "A new draft version (placeholders: {{examples}}, {{locale}})",
            Some(json!({"type": "object", "additionalProperties": false, "required": ["text"], "properties": {
                "text": s(), "version": s(), "note": s(),
            }})),
            (201, prompt_version()),
        )
        .err(400, "a text that does not render, a bad version name or an unknown field")
        .err(404, "an agent without a prompt")
        .err(409, "the version name is taken"),
        R::PromptsAdminActivate => Doc::new(
            "Make a version the one the agent runs",
            None,
            ok(obj(&["agentId", "active", "version"], json!({"agentId": s(), "active": s(), "version": prompt_version()}))),
        )
        .err(404, "an unknown agent or version"),
        R::ExperimentsAdminList => Doc::new(
            "Experiments, newest first (`agentId` filters)",
            None,
            ok(obj(&["experiments"], json!({"experiments": arr(experiment())}))),
        )
        .err(404, "an unknown agent"),
        R::ExperimentsAdminCreate => Doc::new(
            "Start an A/B/n test of prompt versions (sticky per session)",
            Some(json!({"type": "object", "additionalProperties": false, "required": ["agentId", "arms"], "properties": {
                "agentId": s(), "arms": {"type": "array", "minItems": 2, "maxItems": 5, "items": s()},
                "metric": {"type": "string", "description": "`score` or `signal:<signal of policy/learning.yaml>`"},
                "minPerArm": int(), "alpha": num(), "tunedForPerArm": int(),
            }})),
            (201, experiment()),
        )
        .err(400, "fewer than 2 or more than 5 arms, an unknown version, metric or field")
        .err(409, "an experiment already runs for the agent"),
        R::ExperimentsAdminGet => Doc::new(
            "One experiment: arms with samples, estimate and interval; the decision and its evidence",
            None,
            ok(experiment()),
        )
        .err(404, "no such experiment"),
        R::ExperimentsAdminStop => Doc::new(
            "End a running experiment without a winner",
            None,
            ok(experiment()),
        )
        .err(404, "no such experiment")
        .err(409, "the experiment is not running"),
        R::AdminSession => Doc::new(
            "The admin UI's session: POST `{token}` logs in (sets the HttpOnly `sf_admin` and the `sf_admin_csrf` cookies), GET says who is logged in, DELETE logs out",
            Some(obj(&["token"], json!({"token": s()}))),
            ok(json!({"type": "object", "properties": {
                "expiresAtMs": {"type": ["integer", "null"]}, "csrf": s(),
                "via": {"type": "string", "enum": ["session", "bearer"]}, "ok": boolean(),
            }})),
        )
        .err(400, "no `token` in the login body")
        .err(401, "GET without a valid session or bearer")
        .err(403, "a wrong admin token"),
        R::AdminPolicy => Doc::new(
            "The compiled policy (`sf policy explain --format json`) plus the learning criteria and weights",
            None,
            ok(obj(&["policyVersion", "agents", "routes", "learning"], json!({
                "policyVersion": s(), "agents": arr(any()), "profiles": any(), "plans": any(),
                "routes": arr(any()), "variables": any(), "tenancy": any(), "learning": any(),
            }))),
        ),
        #[allow(unreachable_patterns)] // routes added to the policy after this table
        _ => Doc::undocumented(),
    }
}
