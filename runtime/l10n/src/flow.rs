//! The `l10n.instance.v1` job (CONTRACT 7.4): load, check staleness, plan,
//! translate in batches, merge, write the overlay, log and report.
//!
//! Every job writes exactly one R2 log and at most one final report (plus a
//! `running` report once it is known to be current). Log and report failures
//! do not change the outcome: the overlay is the product, they are records.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::allowlist::{collect_entries, snapshot_of, Entry, Item};
use crate::batch::batches;
use crate::error::L10nError;
use crate::io::{L10nIo, ModelCall, Usage};
use crate::job::L10nJob;
use crate::locale::normalize_locale;
use crate::overlay::{merge_ops, overlay_put_body, parse_existing_overlay, SetOp};
use crate::parse::parse_batch_reply;
use crate::prompt::{
    instance_system_prompt, instance_user_prompt, INSTANCE_PROMPT_VERSION, POLICY_VERSION,
};
use crate::report::{log_key, redact, report_body, JobStatus, ReportFields};
use crate::richtext::{rebuild_from_segments, segment_plan, unmask_tags};
use crate::safety::check_translation;
use crate::source::{failure, load_allowlist, load_instance};
use crate::stable::base_fingerprint;
use crate::targets::{plan_work, Changes};

/// Model parameters of instance jobs (upper bounds; the grant may lower them).
pub const TEMPERATURE: f64 = 0.2;
pub const MAX_TOKENS: u32 = 900;
pub const TIMEOUT_MS: u64 = 35_000;

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    /// The final status (never `Running`).
    pub status: JobStatus,
    /// The logged reason: a skip reason (`already_localized`, `stale_instance`, ...)
    /// or the failure message; `None` when the overlay was written.
    pub reason: Option<String>,
    /// Whether a final report was sent (a v1 job without workspace has none).
    pub reported: bool,
    /// Ops in the written overlay.
    pub ops_count: Option<usize>,
    pub usage: Option<Usage>,
    pub richtext_fallback_paths: Vec<String>,
}

/// Context of one run, for logs and reports.
struct Run<'a, I> {
    io: &'a I,
    job: &'a L10nJob,
    started: u64,
}

impl<I: L10nIo> Run<'_, I> {
    async fn log(&self, fingerprint: Option<&str>, fields: Vec<(&str, Value)>) {
        let mut body = Map::new();
        for (k, v) in fields {
            body.insert(k.to_owned(), v);
        }
        body.insert("occurredAtMs".into(), json!(self.started));
        let key = log_key(self.job, fingerprint, self.io.now_ms());
        let _ = self
            .io
            .put_log(&key, &Value::Object(body).to_string())
            .await;
    }

    async fn report(
        &self,
        status: JobStatus,
        fp: &str,
        updated: Option<&str>,
        locale: &str,
        error: Option<&str>,
    ) {
        let body = report_body(
            self.job,
            &ReportFields {
                status,
                base_fingerprint: fp,
                base_updated_at: updated,
                locale,
                error,
                occurred_at_ms: self.started,
                widget_type: None,
            },
        );
        let _ = self.io.post_report(&body.to_string()).await;
    }

    fn job_json(&self) -> Value {
        redact(&self.job.raw)
    }
}

fn outcome(status: JobStatus, reason: Option<&str>, reported: bool) -> JobOutcome {
    JobOutcome {
        status,
        reason: reason.map(str::to_owned),
        reported,
        ops_count: None,
        usage: None,
        richtext_fallback_paths: Vec::new(),
    }
}

/// Runs one verified job. The grant must have been verified (cap
/// `agent:{job.agent_id}`) by the caller; `io` carries it to the model.
pub async fn run_job<I: L10nIo>(io: &I, job: &L10nJob) -> JobOutcome {
    let run = Run {
        io,
        job,
        started: io.now_ms(),
    };
    let job_fp = job.base_fingerprint.as_deref();
    let job_updated = job.base_updated_at.as_deref();

    let Some(workspace) = job.workspace_id.as_deref() else {
        let reason = "missing_workspace";
        run.log(
            job_fp,
            vec![
                ("status", json!("skipped")),
                ("reason", json!(reason)),
                ("job", run.job_json()),
            ],
        )
        .await;
        if let Some(fp) = job_fp {
            run.report(
                JobStatus::Superseded,
                fp,
                job_updated,
                &job.locale,
                Some(reason),
            )
            .await;
        }
        return outcome(JobStatus::Superseded, Some(reason), job_fp.is_some());
    };

    let loaded = match load_instance(io, workspace, &job.public_id).await {
        Ok(instance) => {
            let widget = instance
                .widget_type
                .clone()
                .unwrap_or_else(|| job.widget_type.clone());
            load_allowlist(io, &widget)
                .await
                .map(|allowlist| (instance, allowlist))
        }
        Err(e) => Err(e),
    };
    let (instance, allowlist) = match loaded {
        Ok(x) => x,
        Err(e) => {
            run.log(
                job_fp,
                vec![
                    ("status", json!("failed")),
                    ("reason", json!(e.message)),
                    ("job", run.job_json()),
                ],
            )
            .await;
            if let Some(fp) = job_fp {
                run.report(
                    JobStatus::Failed,
                    fp,
                    job_updated,
                    &job.locale,
                    Some(&e.message),
                )
                .await;
            }
            return outcome(JobStatus::Failed, Some(&e.message), job_fp.is_some());
        }
    };

    let entries = collect_entries(&instance.config, &allowlist);
    let fp = base_fingerprint(&Value::Object(snapshot_of(&entries)));
    let updated = instance.updated_at.as_deref().or(job_updated);
    let skipped = |reason: &str| {
        vec![
            ("status", json!("skipped")),
            ("reason", json!(reason)),
            ("job", run.job_json()),
            ("baseFingerprint", json!(fp)),
        ]
    };

    let Some(locale) = normalize_locale(&job.locale) else {
        let reason = "invalid_locale";
        run.log(Some(&fp), skipped(reason)).await;
        run.report(
            JobStatus::Superseded,
            &fp,
            updated,
            &job.locale,
            Some(reason),
        )
        .await;
        return outcome(JobStatus::Superseded, Some(reason), true);
    };
    if job_fp.is_some_and(|j| j != fp) {
        let reason = "stale_instance";
        run.log(Some(&fp), skipped(reason)).await;
        run.report(JobStatus::Superseded, &fp, updated, &locale, Some(reason))
            .await;
        return outcome(JobStatus::Superseded, Some(reason), true);
    }

    run.report(JobStatus::Running, &fp, updated, &locale, None)
        .await;
    let ctx = WorkCtx {
        io,
        job,
        workspace,
        locale: &locale,
        entries: &entries,
        fp: &fp,
        updated,
    };
    match ctx.work().await {
        Ok(Done::Skipped(reason)) => {
            run.log(Some(&fp), skipped(reason)).await;
            run.report(JobStatus::Succeeded, &fp, updated, &locale, None)
                .await;
            outcome(JobStatus::Succeeded, Some(reason), true)
        }
        Ok(Done::Superseded(reason)) => {
            run.log(Some(&fp), skipped(reason)).await;
            run.report(JobStatus::Superseded, &fp, updated, &locale, Some(reason))
                .await;
            outcome(JobStatus::Superseded, Some(reason), true)
        }
        Ok(Done::Written {
            ops_count,
            usage,
            fallback_paths,
        }) => {
            let mut fields = vec![
                ("status", json!("ok")),
                ("job", run.job_json()),
                ("baseFingerprint", json!(fp)),
                ("baseUpdatedAt", json!(updated)),
                ("opsCount", json!(ops_count)),
            ];
            if let Some(u) = &usage {
                fields.push(("usage", u.to_json()));
            }
            if !fallback_paths.is_empty() {
                fields.push(("richtextFallbackPaths", json!(fallback_paths)));
            }
            fields.push(("promptVersion", json!(INSTANCE_PROMPT_VERSION)));
            fields.push(("policyVersion", json!(POLICY_VERSION)));
            run.log(Some(&fp), fields).await;
            run.report(JobStatus::Succeeded, &fp, updated, &locale, None)
                .await;
            JobOutcome {
                ops_count: Some(ops_count),
                usage,
                richtext_fallback_paths: fallback_paths,
                ..outcome(JobStatus::Succeeded, None, true)
            }
        }
        Err(e) => {
            run.log(
                Some(&fp),
                vec![
                    ("status", json!("failed")),
                    ("reason", json!(e.message)),
                    ("job", run.job_json()),
                    ("baseFingerprint", json!(fp)),
                ],
            )
            .await;
            run.report(JobStatus::Failed, &fp, updated, &locale, Some(&e.message))
                .await;
            outcome(JobStatus::Failed, Some(&e.message), true)
        }
    }
}

enum Done {
    Skipped(&'static str),
    Superseded(&'static str),
    Written {
        ops_count: usize,
        usage: Option<Usage>,
        fallback_paths: Vec<String>,
    },
}

struct WorkCtx<'a, I> {
    io: &'a I,
    job: &'a L10nJob,
    workspace: &'a str,
    locale: &'a str,
    entries: &'a [Entry],
    fp: &'a str,
    updated: Option<&'a str>,
}

/// Model calls of one job: keeps the usage total and the "first call" flag.
struct Calls<'a, I> {
    io: &'a I,
    agent_id: &'a str,
    system: String,
    made: usize,
    usage: Option<Usage>,
}

impl<I: L10nIo> Calls<'_, I> {
    /// Translates one batch; returns `(path, value)` checked by the parser.
    async fn batch(&mut self, items: &[Item]) -> Result<Vec<(String, String)>, L10nError> {
        let call = ModelCall {
            agent_id: self.agent_id.to_owned(),
            system: self.system.clone(),
            user: instance_user_prompt(items),
            temperature: TEMPERATURE,
            max_tokens: MAX_TOKENS,
            timeout_ms: TIMEOUT_MS,
            counts_against_grant: self.made == 0,
        };
        self.made += 1;
        let reply = self.io.call_model(&call).await?;
        self.usage = Some(Usage::merge(self.usage.take(), &reply.usage));
        parse_batch_reply(&reply.content, items, provider_of(&reply.usage))
    }

    fn provider(&self) -> &str {
        self.usage.as_ref().map_or("deepseek", provider_of)
    }

    /// Richtext whose masked translation failed the checks: translate its
    /// text segments one by one and rebuild it around the source tags.
    async fn fallback(&mut self, entry: &Entry) -> Result<String, L10nError> {
        let plan = segment_plan(&entry.path, &entry.value);
        if plan.segments.is_empty() {
            return Ok(entry.value.clone());
        }
        let mut translated = HashMap::new();
        for batch in batches(&plan.segments)? {
            translated.extend(self.batch(&batch).await?);
        }
        let rebuilt = rebuild_from_segments(&plan, &translated).map_err(|seg| {
            L10nError::provider(
                "deepseek",
                format!("Missing translated richtext segment: {seg}"),
            )
        })?;
        check_translation(entry, &rebuilt, self.provider())?;
        Ok(rebuilt)
    }
}

fn provider_of(u: &Usage) -> &str {
    if u.provider.is_empty() {
        "deepseek"
    } else {
        &u.provider
    }
}

impl<I: L10nIo> WorkCtx<'_, I> {
    async fn work(&self) -> Result<Done, L10nError> {
        let reply = self
            .io
            .get_overlay(self.workspace, &self.job.public_id, self.locale)
            .await
            .map_err(|f| failure("paris", f))?;
        let existing = parse_existing_overlay(reply.status, &reply.body);
        let changes = if self.job.v == 2 {
            self.job.changes.clone()
        } else {
            Changes::default()
        };
        let work = match plan_work(self.entries, existing.as_ref(), &changes, self.fp)? {
            Ok(work) => work,
            Err(skip) => return Ok(Done::Skipped(skip.reason())),
        };
        let by_path: HashMap<&str, &Entry> =
            self.entries.iter().map(|e| (e.path.as_str(), e)).collect();

        // All batches are formed (and an oversized item refused) before the first call.
        let planned = batches(&work.to_translate)?;
        let mut calls = Calls {
            io: self.io,
            agent_id: &self.job.agent_id,
            system: instance_system_prompt(self.locale),
            made: 0,
            usage: None,
        };
        let mut translated: Vec<SetOp> = Vec::new();
        let mut fallback_paths = Vec::new();
        for batch in &planned {
            for (path, value) in calls.batch(batch).await? {
                let Some(mask) = work.masks.get(&path) else {
                    translated.push(SetOp { path, value });
                    continue;
                };
                let Some(entry) = by_path.get(path.as_str()) else {
                    return Err(L10nError::provider(
                        calls.provider(),
                        format!("Missing expected richtext source for path: {path}"),
                    ));
                };
                let restored = unmask_tags(&value, mask);
                let value = match check_translation(entry, &restored, calls.provider()) {
                    Ok(()) => restored,
                    Err(_) => {
                        let v = calls.fallback(entry).await?;
                        fallback_paths.push(path.clone());
                        v
                    }
                };
                translated.push(SetOp { path, value });
            }
        }

        let mut new_ops = work.copied.clone();
        new_ops.extend(translated);
        let existing_ops = existing.map(|e| e.ops).unwrap_or_default();
        let merged = merge_ops(
            &existing_ops,
            |p| by_path.contains_key(p),
            &work.removed,
            &new_ops,
        );
        if !work.translate_all && merged.is_empty() && work.removed.is_empty() {
            return Ok(Done::Skipped("no_effective_changes"));
        }

        let body = overlay_put_body(&merged, self.updated, self.fp, &self.job.widget_type);
        let reply = self
            .io
            .put_overlay(
                self.workspace,
                &self.job.public_id,
                self.locale,
                &body.to_string(),
            )
            .await
            .map_err(|f| failure("paris", f))?;
        if !reply.ok() {
            let code = serde_json::from_str::<Value>(&reply.body)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/code")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            if code.as_deref() == Some("FINGERPRINT_MISMATCH") {
                return Ok(Done::Superseded("stale_instance"));
            }
            // The original read the body as JSON first, so its text was gone: status only.
            return Err(L10nError::provider(
                "paris",
                format!("Overlay write failed ({})", reply.status),
            ));
        }
        Ok(Done::Written {
            ops_count: merged.len(),
            usage: calls.usage,
            fallback_paths,
        })
    }
}
