//! Binds the generated `policy::RouteHandlers` trait (one method per route in
//! `policy/endpoints.yaml`) to the handlers. A route added to the policy
//! without a handler here is a compile error.

use std::rc::Rc;

use serde_json::{json, Value};

use sf_core::error::{ApiError, ErrorCode};
use sf_core::http::{decode_param, json_response, RouteCtx, RouteOut};
use sf_core::policy::{Job, RouteHandlers};
use sf_core::ports::{Clock, Host, Kv};
use sf_personalization::record::Kind;

use crate::gateway::Gateway;
use crate::learning::RecordCounts;

pub struct Handlers<'a, H: Host>(pub &'a Rc<Gateway<H>>);

type Out = RouteOut;

/// `GET /v1/personalization/{kind}/{jobId}` (CONTRACT.md 2.5, 2.7).
async fn job_status<H: Host>(gw: &Gateway<H>, kind: &str, cx: RouteCtx) -> Out {
    let not_found = || ApiError::new(404, ErrorCode::BadRequest, "Job not found");
    let job_id = cx
        .param
        .as_deref()
        .and_then(decode_param)
        .ok_or_else(not_found)?;
    let key = format!("personalization:{kind}:{job_id}");
    let stored = gw
        .host()
        .kv()
        .get(&key)
        .await
        .ok()
        .flatten()
        .ok_or_else(not_found)?;
    let rec: Value = serde_json::from_str(&stored).map_err(|_| not_found())?;
    if rec.get("v").and_then(Value::as_f64) != Some(1.0) {
        return Err(not_found());
    }
    let mut body = json!({ "jobId": rec["jobId"], "status": rec["status"] });
    for k in ["result", "error"] {
        if let Some(v) = rec.get(k) {
            body[k] = v.clone();
        }
    }
    body["updatedAtMs"] = rec["updatedAtMs"].clone();
    if kind == "onboarding" && rec.get("persisted") == Some(&Value::Bool(false)) {
        body["persistError"] = rec.get("persistError").cloned().unwrap_or(Value::Null);
    }
    Ok(json_response(200, &body))
}

/// `POST /admin/v1/jobs/{job}/run`: runs a declared job now →
/// `{"job","ok":true,"report":{...,"summary"}}`; an unknown job is a 404, a
/// failed run a 500 with the job's error.
async fn jobs_run<H: Host>(gw: &Rc<Gateway<H>>, cx: RouteCtx) -> Out {
    let name = cx
        .param
        .as_deref()
        .and_then(decode_param)
        .unwrap_or_default();
    let job = Job::from_name(&name).ok_or_else(|| {
        let known: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
        ApiError::new(
            404,
            ErrorCode::BadRequest,
            format!(
                "Unknown job {name:?}: `sf jobs list` shows the jobs of policy/jobs.yaml ({})",
                known.join(", ")
            ),
        )
    })?;
    let done = gw
        .run_job_report(job)
        .await
        .map_err(|e| ApiError::provider(500, "sanfrancisco", format!("Job {job} failed: {e}")))?;
    Ok(json_response(
        200,
        &json!({ "job": job.name(), "ok": true, "report": done.report }),
    ))
}

impl<H: Host> RouteHandlers for Handlers<'_, H> {
    type Ctx = RouteCtx;
    type Out = Out;

    async fn healthz(&self, _cx: RouteCtx) -> Out {
        let env = self.0.environment_name().unwrap_or("unknown");
        Ok(json_response(
            200,
            &json!({ "ok": true, "service": "sanfrancisco", "env": env, "ts": self.0.host().clock().now_ms() }),
        ))
    }
    async fn execute(&self, cx: RouteCtx) -> Out {
        crate::execute::handle(self.0, cx).await
    }
    async fn outcome(&self, cx: RouteCtx) -> Out {
        sf_records::outcome::handle(self.0.isolate(), cx).await
    }
    async fn personalization_preview(&self, cx: RouteCtx) -> Out {
        let iso = self.0.isolate();
        sf_personalization::jobs::route(iso, Kind::Preview, crate::pages::readers(iso), cx).await
    }
    async fn personalization_preview_status(&self, cx: RouteCtx) -> Out {
        job_status(self.0, "preview", cx).await
    }
    async fn personalization_onboarding(&self, cx: RouteCtx) -> Out {
        let iso = self.0.isolate();
        sf_personalization::jobs::route(iso, Kind::Onboarding, crate::pages::readers(iso), cx).await
    }
    async fn personalization_onboarding_status(&self, cx: RouteCtx) -> Out {
        job_status(self.0, "onboarding", cx).await
    }
    async fn l10n_plan(&self, cx: RouteCtx) -> Out {
        sf_l10n::gateway::plan_route(self.0.isolate(), cx).await
    }
    async fn l10n_dispatch(&self, cx: RouteCtx) -> Out {
        sf_l10n::gateway::dispatch_route(self.0.isolate(), cx).await
    }
    async fn l10n_translate(&self, cx: RouteCtx) -> Out {
        sf_l10n::gateway::translate_route(self.0.isolate(), cx).await
    }
    async fn approvals_health(&self, _cx: RouteCtx) -> Out {
        sf_approvals::api::health(self.0.host()).await
    }
    async fn approvals_approve(&self, cx: RouteCtx) -> Out {
        sf_approvals::api::approve_route(self.0.host(), cx).await
    }
    async fn approvals_report(&self, cx: RouteCtx) -> Out {
        sf_approvals::api::report_route(self.0.host(), cx).await
    }
    async fn approvals_task(&self, cx: RouteCtx) -> Out {
        sf_approvals::api::task_route(self.0.host(), cx).await
    }
    async fn approvals_halt(&self, cx: RouteCtx) -> Out {
        sf_approvals::api::halt_route(self.0.host(), cx).await
    }
    async fn approvals_chat(&self, cx: RouteCtx) -> Out {
        sf_approvals::api::chat_route(self.0.host(), cx).await
    }
    async fn approvals_status(&self, cx: RouteCtx) -> Out {
        sf_approvals::api::status_route(self.0.host(), cx).await
    }
    async fn approvals_admin_list(&self, cx: RouteCtx) -> Out {
        sf_approvals::admin::list_route(self.0.host(), cx).await
    }
    async fn approvals_admin_decide(&self, cx: RouteCtx) -> Out {
        sf_approvals::admin::decide_route(self.0.host(), cx).await
    }
    async fn learning_metrics(&self, cx: RouteCtx) -> Out {
        sf_records::metrics::route(self.0.host(), cx).await
    }
    async fn prompts_admin_list(&self, cx: RouteCtx) -> Out {
        sf_learning::admin::prompts_list_route(self.0.host(), cx).await
    }
    async fn prompts_admin_create(&self, cx: RouteCtx) -> Out {
        sf_learning::admin::prompts_create_route(self.0.host(), cx).await
    }
    async fn prompts_admin_activate(&self, cx: RouteCtx) -> Out {
        sf_learning::admin::prompts_activate_route(self.0.host(), cx).await
    }
    async fn experiments_admin_list(&self, cx: RouteCtx) -> Out {
        let h = self.0.host();
        sf_learning::admin::experiments_list_route(h, &RecordCounts(h), cx).await
    }
    async fn experiments_admin_create(&self, cx: RouteCtx) -> Out {
        sf_learning::admin::experiments_create_route(self.0.host(), cx).await
    }
    async fn experiments_admin_get(&self, cx: RouteCtx) -> Out {
        let h = self.0.host();
        sf_learning::admin::experiments_get_route(h, &RecordCounts(h), cx).await
    }
    async fn experiments_admin_stop(&self, cx: RouteCtx) -> Out {
        let h = self.0.host();
        sf_learning::admin::experiments_stop_route(h, &RecordCounts(h), cx).await
    }
    async fn learning_review_list(&self, cx: RouteCtx) -> Out {
        let env = self.0.environment_name().unwrap_or("unknown");
        sf_records::review::list_route(self.0.host(), env, cx).await
    }
    async fn learning_review_label(&self, cx: RouteCtx) -> Out {
        sf_records::review::label_route(self.0.host(), cx).await
    }
    async fn jobs_run(&self, cx: RouteCtx) -> Out {
        jobs_run(self.0, cx).await
    }
    async fn tenants_admin_create(&self, cx: RouteCtx) -> Out {
        sf_tenants::admin::create_route(self.0.host(), cx).await
    }
    async fn tenants_admin_list(&self, cx: RouteCtx) -> Out {
        sf_tenants::admin::list_route(self.0.host(), cx).await
    }
    async fn tenants_admin_update(&self, cx: RouteCtx) -> Out {
        sf_tenants::admin::update_route(self.0.host(), cx).await
    }
    async fn tenants_admin_key_create(&self, cx: RouteCtx) -> Out {
        sf_tenants::admin::key_create_route(self.0.host(), cx).await
    }
    async fn tenants_admin_key_revoke(&self, cx: RouteCtx) -> Out {
        sf_tenants::admin::key_revoke_route(self.0.host(), cx).await
    }
    async fn tenants_admin_usage(&self, cx: RouteCtx) -> Out {
        sf_tenants::admin::usage_route(self.0.host(), cx).await
    }
    async fn tenants_chat_completions(&self, cx: RouteCtx) -> Out {
        sf_tenants::chat::completions_route(self.0.isolate(), cx).await
    }
    async fn tenants_models(&self, cx: RouteCtx) -> Out {
        sf_tenants::chat::models_route(self.0.host(), cx).await
    }
    async fn admin_session(&self, cx: RouteCtx) -> Out {
        crate::admin_session::route(self.0.host(), cx).await
    }
    async fn admin_policy(&self, _cx: RouteCtx) -> Out {
        crate::admin_policy::route()
    }
}
