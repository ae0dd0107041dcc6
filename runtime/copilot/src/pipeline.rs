//! The routing pipeline (CONTRACT 7.3.4) and the model turn (7.3.7-7.3.8).
//!
//! Order matters and is the contract's: error-page detection, pending
//! decisions, SDR gates, CS explanations and clarifications, the SDR website
//! flow, and only then the model. Every deterministic answer saves the
//! session and reports `usage.model` = its route tag.

use serde_json::Value;

use super::input::{parse_input, Control, CopilotInput};
use super::messages::{self, ui, Ui};
use super::meta::{self, Intent, Outcome};
use super::ops::{self, op_path, OpIssue};
use super::page::{self, PageError};
use super::parse::{parse_model_json, Parsed};
use super::session::{self, Loaded, PendingConsent, SourcePage};
use super::text::{has_any_word, has_phrase, words};
use super::{
    allowlist, clarify, explain, language, limits, prompt, CopilotCtx, CopilotModel, CopilotOutput,
    ModelCall, MsgRole, Role,
};
use sf_core::error::ApiError;
use sf_core::net;
use sf_core::ports::{Clock, Host};

/// A deterministic answer before it is turned into a result.
struct Det {
    message: String,
    ops: Vec<Value>,
    cta: Option<Value>,
    intent: Intent,
    outcome: Outcome,
    tag: &'static str,
    with_lang: bool,
}

impl Det {
    fn clarify(message: impl Into<String>, tag: &'static str) -> Self {
        Det {
            message: message.into(),
            ops: Vec::new(),
            cta: None,
            intent: Intent::Clarify,
            outcome: Outcome::NoOps,
            tag,
            with_lang: true,
        }
    }
}

struct Turn<'a, H: Host, M: CopilotModel> {
    cx: &'a CopilotCtx<'a, H, M>,
    inp: CopilotInput,
    loaded: Loaded,
}

impl<H: Host, M: CopilotModel> Turn<'_, H, M> {
    fn lang(&self) -> (String, f64) {
        let s = &self.loaded.session;
        (
            s.conversation_language
                .clone()
                .unwrap_or_else(|| "en".into()),
            s.language_confidence.unwrap_or(0.5),
        )
    }

    async fn finish(mut self, d: Det) -> Result<CopilotOutput, ApiError> {
        if !d.ops.is_empty() {
            self.loaded.session.successful_edits += 1;
        }
        session::save(self.cx.host.kv(), &self.loaded).await?;
        let (code, conf) = self.lang();
        let lang = d.with_lang.then_some((code.as_str(), conf));
        let m = meta::meta(self.cx.role, d.intent, d.outcome, lang);
        Ok(CopilotOutput {
            result: meta::result(&d.message, &d.ops, d.cta, m),
            usage: meta::local_usage(d.tag),
        })
    }
}

/// `Some(status)` when the prompt is a pasted Cloudflare error page (the
/// status when the page names one).
pub fn cloudflare_error(prompt: &str) -> Option<Option<u16>> {
    const MARKERS: [&str; 6] = [
        "id=\"cf-wrapper\"",
        "id='cf-wrapper'",
        "id=\"cf-error-details\"",
        "id='cf-error-details'",
        "/cdn-cgi/",
        "cloudflare.com/5xx-error-landing",
    ];
    let lower = prompt.to_ascii_lowercase();
    if !MARKERS.iter().any(|m| lower.contains(m)) {
        return None;
    }
    let status = lower.find("error code").and_then(|i| {
        let digits: String = lower[i + "error code".len()..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (digits.len() == 3).then(|| digits.parse().ok()).flatten()
    });
    Some(status)
}

/// Ops that still hold against the current controls (and the SDR op shape):
/// the whole batch if it validates, else the ops that validate on their own
/// if together they still do, else none.
fn still_valid(
    role: Role,
    ops: &[Value],
    controls: &[Control],
    config: &serde_json::Map<String, Value>,
) -> Vec<Value> {
    let ok = |batch: &[Value]| {
        ops::validate_ops(batch, controls, config).is_ok()
            && (role == Role::Cs
                || batch.iter().all(|o| {
                    o.get("op").and_then(Value::as_str) == Some("set")
                        && o.get("value").is_some_and(Value::is_string)
                }))
    };
    if ok(ops) {
        return ops.to_vec();
    }
    let kept: Vec<Value> = ops
        .iter()
        .filter(|o| ok(std::slice::from_ref(*o)))
        .cloned()
        .collect();
    if ok(&kept) {
        kept
    } else {
        Vec::new()
    }
}

/// Pipeline step 2: settle a pending scope/group/sensitive decision.
fn settle_pending<H: Host, M: CopilotModel>(t: &mut Turn<'_, H, M>) -> Option<Det> {
    let pending = t.loaded.session.pending_policy.take()?;
    let p = t.inp.prompt.trim().to_lowercase();
    let (ops, message, tag) = if p == "apply across widget" {
        (
            pending.ops.clone(),
            messages::APPLY_ALL.to_owned(),
            "policy_confirm_all",
        )
    } else if pending.kind == "scope" {
        let scope = limits::picked_scope(&t.inp.prompt, &pending.scopes)?;
        (
            limits::ops_in_scope(&pending.ops, &scope),
            messages::apply_scope(&scope),
            "policy_scope_pick",
        )
    } else if pending.kind == "group" {
        let g = limits::picked_group(&t.inp.prompt, &pending.groups)?;
        (
            limits::ops_in_group(&pending.ops, &t.inp.controls, g),
            messages::apply_group(&g.label),
            "policy_group_pick",
        )
    } else {
        return None;
    };
    // Stored ops were validated against last turn's controls; the widget may
    // have changed since (CONTRACT 15.6), so they are checked again.
    let ops = still_valid(t.cx.role, &ops, &t.inp.controls, &t.inp.current_config);
    if ops.is_empty() {
        return Some(Det {
            with_lang: false,
            ..Det::clarify(messages::APPLY_ALL_NOTHING_LEFT, tag)
        });
    }
    Some(Det {
        message,
        ops,
        cta: None,
        intent: Intent::Edit,
        outcome: Outcome::OpsApplied,
        tag,
        with_lang: false,
    })
}

pub async fn run<H: Host, M: CopilotModel>(
    cx: &CopilotCtx<'_, H, M>,
    input: &Value,
) -> Result<CopilotOutput, ApiError> {
    let inp = parse_input(input)?;
    let now = cx.host.clock().now_ms();
    let mut loaded = session::load(
        cx.host.kv(),
        cx.role,
        &inp.session_id,
        cx.grant_subject_key,
        now,
    )
    .await?;
    {
        let s = &mut loaded.session;
        s.last_active_at_ms = now;
        let det = language::detect(
            &inp.prompt,
            s.conversation_language.as_deref(),
            s.language_confidence,
        );
        let changed = s.conversation_language.as_deref() != Some(det.code.as_str());
        if s.conversation_language.is_none() || (changed && det.confidence >= 0.85) {
            s.conversation_language = Some(det.code);
            s.language_confidence = Some(det.confidence);
        }
    }
    let mut t = Turn { cx, inp, loaded };
    let role = cx.role;
    let (lang, _) = t.lang();

    // 1. A pasted Cloudflare error page is not a request.
    if let Some(status) = cloudflare_error(&t.inp.prompt) {
        let mut msg = ui(&lang, Ui::CloudflareError).to_owned();
        if let Some(s) = status {
            msg.push_str(&format!(" (HTTP {s})"));
        }
        return t
            .finish(Det::clarify(msg, "cloudflare_error_detector"))
            .await;
    }
    // 2. A pending scope/group decision.
    if let Some(d) = settle_pending(&mut t) {
        return t.finish(d).await;
    }
    let prompt_text = t.inp.prompt.clone();
    let candidates = net::distinct_urls(&prompt_text);
    if role == Role::Sdr {
        // 3. Minibob edits FAQ copy only.
        if !t.inp.widget_type.eq_ignore_ascii_case("faq") {
            let d = Det {
                cta: Some(meta::signup_cta()),
                ..Det::clarify(ui(&lang, Ui::WidgetNotEnabled), "sdr_widget_type_gate")
            };
            return t.finish(d).await;
        }
        // 4. "Reply in Italian" changes the conversation, not the widget.
        if clarify::is_language_only(&prompt_text) {
            if let Some(code) = language::explicit_language(&prompt_text) {
                let s = &mut t.loaded.session;
                let prev = if s.conversation_language.as_deref() == Some(code) {
                    s.language_confidence.unwrap_or(0.5)
                } else {
                    0.5
                };
                s.conversation_language = Some(code.to_owned());
                s.language_confidence = Some(prev.max(0.95));
                let msg = format!(
                    "{}{}",
                    messages::can_reply_in(code),
                    messages::NEXT_STEP_HINT
                );
                return t.finish(Det::clarify(msg, "sdr_language_intent")).await;
            }
        }
        // 5. Copy rewrites and website drafts only.
        let rewrite = clarify::is_rewrite_intent(&t.inp.widget_type, &prompt_text);
        let website = clarify::is_website_intent(&prompt_text, !candidates.is_empty());
        if !rewrite && !website && t.loaded.session.pending_consent.is_none() {
            let d = Det {
                cta: Some(meta::signup_cta()),
                ..Det::clarify(ui(&lang, Ui::CapabilityGate), "sdr_capability_gate")
            };
            return t.finish(d).await;
        }
        // 6. Which page / which questions.
        if let Some(q) =
            clarify::sdr_clarify(&prompt_text, &t.inp.current_config, !candidates.is_empty())
        {
            return t.finish(Det::clarify(ui(&lang, q), "sdr_router")).await;
        }
    } else {
        // 7. Questions about the widget, answered from its controls.
        if lang == "en" && explain::is_explain_intent(&prompt_text) {
            let msg =
                explain::explain_message(&prompt_text, &t.inp.controls, &t.inp.current_config);
            let d = Det {
                intent: Intent::Explain,
                ..Det::clarify(msg, "cs_router")
            };
            return t.finish(d).await;
        }
        // 8. Ambiguous vocabulary.
        if let Some(q) = clarify::cs_clarify(&prompt_text, &t.inp.controls, &super::vocab::LEXICON)
        {
            return t.finish(Det::clarify(q, "cs_clarifier")).await;
        }
    }

    let mut request_text = prompt_text.clone();
    let mut page = None;
    let mut allow = Vec::new();
    if role == Role::Sdr {
        let website = clarify::is_website_intent(&prompt_text, !candidates.is_empty());
        let mut consented: Option<String> = None;
        // 9. An answer to the consent question.
        if let Some(pc) = t.loaded.session.pending_consent.clone() {
            if !candidates.is_empty() {
                // A new link replaces the question that is pending.
                t.loaded.session.pending_consent = None;
            } else {
                match clarify::yes_no(&prompt_text) {
                    Some(true) => {
                        t.loaded.session.pending_consent = None;
                        request_text = pc.prompt.clone().unwrap_or(prompt_text.clone());
                        consented = Some(pc.url);
                    }
                    Some(false) => {
                        t.loaded.session.pending_consent = None;
                        return t
                            .finish(Det::clarify(
                                ui(&lang, Ui::AskBusinessBasics),
                                "consent_declined",
                            ))
                            .await;
                    }
                    None => {
                        return t
                            .finish(Det::clarify(ui(&lang, Ui::YesNo), "consent_ambiguous"))
                            .await
                    }
                }
            }
        }
        if consented.is_none() && website {
            match candidates.as_slice() {
                // 10. One page at a time.
                [_, _, ..] => {
                    let msg = format!(
                        "{}\n\n- {}",
                        ui(&lang, Ui::AskSingleUrl),
                        candidates.join("\n- ")
                    );
                    return t.finish(Det::clarify(msg, "url_parser")).await;
                }
                [url] => {
                    // 11. The guard, before even asking.
                    let reason = net::normalize_url(url)
                        .map_or(Some("invalid_url"), |u| net::blocked_reason(&u));
                    if let Some(r) = reason {
                        let msg = format!("{} ({r})", ui(&lang, Ui::BlockedUrl));
                        return t.finish(Det::clarify(msg, "url_guard")).await;
                    }
                    // 12. Ask before reading anything.
                    t.loaded.session.pending_consent = Some(PendingConsent {
                        kind: "website".into(),
                        url: url.clone(),
                        asked_at_ms: now,
                        prompt: Some(prompt_text.clone()),
                    });
                    let msg = format!("{}\n\n{url}", ui(&lang, Ui::AskConsent));
                    return t.finish(Det::clarify(msg, "consent_request")).await;
                }
                // 14. Website wording but no link yet.
                [] if t.loaded.session.source.is_none() => {
                    return t
                        .finish(Det::clarify(
                            ui(&lang, Ui::AskWebsiteUrl),
                            "sdr_ask_website_url",
                        ))
                        .await;
                }
                [] => {}
            }
        }
        // 13. Read the one consented page.
        if let Some(url) = consented {
            let timeout = cx.grant_timeout_ms.saturating_sub(1000).clamp(1500, 12_000);
            match page::fetch_page(cx.host.fetch(), cx.host.clock(), &url, timeout).await {
                Ok(p) => {
                    t.loaded.session.source = Some(SourcePage {
                        url: p.final_url.clone(),
                        fetched_at_ms: cx.host.clock().now_ms(),
                        title: p.title.clone(),
                    });
                    page = Some(p);
                }
                Err(e) => {
                    let msg = match e {
                        PageError::Blocked(r) => format!("{} ({r})", ui(&lang, Ui::BlockedUrl)),
                        PageError::Status(s) => {
                            format!("{} {url} (HTTP {s})", ui(&lang, Ui::FetchFailed))
                        }
                        PageError::Failed(_) => format!("{} {url}", ui(&lang, Ui::FetchFailed)),
                    };
                    return t.finish(Det::clarify(msg, "single_page_fetch")).await;
                }
            }
        }
        // 15. Without an allowlist there is nothing the SDR role may edit.
        allow = allowlist::load(cx.host, &t.inp.widget_type, cx.environment).await?;
        if allow.is_empty() {
            return t
                .finish(Det::clarify(
                    ui(&lang, Ui::MissingAllowlist),
                    "missing_allowlist",
                ))
                .await;
        }
    }
    model_turn(t, &request_text, page.as_ref(), &allow).await
}

/// What one model reply amounts to.
struct Reply {
    message: String,
    ops: Vec<Value>,
    cta: Option<Value>,
    fallback: bool,
}

fn interpret(text: &str, provider: &str) -> Result<Reply, ApiError> {
    match parse_model_json(text) {
        Parsed::NotObject => Err(ApiError::provider(
            502,
            provider,
            "Model output must be an object",
        )),
        Parsed::Fallback { message } => Ok(Reply {
            message,
            ops: Vec::new(),
            cta: None,
            fallback: true,
        }),
        Parsed::Object(obj) => {
            let raw = obj
                .get("message")
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("");
            if raw.is_empty() {
                return Err(ApiError::provider(
                    502,
                    provider,
                    "Model output missing message",
                ));
            }
            // Markup from the model is flattened to text; Bob renders text.
            let message = if raw.contains('<') {
                let (_, text) = page::html_to_text(raw);
                if text.trim().is_empty() {
                    messages::MODEL_UNREADABLE.to_owned()
                } else {
                    text
                }
            } else {
                super::parse::dedupe_paragraphs(raw)
            };
            Ok(Reply {
                message,
                ops: ops::widget_ops(obj.get("ops")),
                cta: meta::filter_cta(obj.get("cta")),
                fallback: false,
            })
        }
    }
}

fn check_ops(
    role: Role,
    ops: &[Value],
    inp: &CopilotInput,
    allow: &[ops::AllowEntry],
) -> Result<(), Vec<OpIssue>> {
    ops::validate_ops(ops, &inp.controls, &inp.current_config)?;
    if role == Role::Sdr {
        ops::validate_sdr_ops(ops, allow)?;
    }
    Ok(())
}

/// CS: the prompt is about links, so link paths may change.
fn mentions_links(prompt: &str) -> bool {
    let w = words(prompt);
    has_any_word(
        &w,
        &[
            "url",
            "href",
            "link",
            "website",
            "domain",
            "open in new tab",
            "new tab",
            "target",
        ],
    )
}

fn is_link_path(path: &str) -> bool {
    path.split(|c: char| !c.is_ascii_alphanumeric()).any(|s| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            "url" | "href" | "link" | "domain"
        )
    })
}

/// CS: the model asked for a controls dump instead of acting.
fn asks_for_controls(message: &str) -> bool {
    let w = words(message);
    let controls = has_any_word(&w, &["control", "controls"]);
    [
        "editable controls",
        "controls list",
        "control snippet",
        "controls snippet",
        "config snippet",
        "share the remaining",
    ]
    .iter()
    .any(|p| has_phrase(&w, p))
        || (controls && (has_phrase(&w, "not included") || has_phrase(&w, "provide")))
}

async fn model_turn<H: Host, M: CopilotModel>(
    mut t: Turn<'_, H, M>,
    request_text: &str,
    page: Option<&page::Page>,
    allow: &[ops::AllowEntry],
) -> Result<CopilotOutput, ApiError> {
    let cx = t.cx;
    let role = cx.role;
    let (lang, _) = t.lang();
    let system = prompt::system_prompt(role, &lang, cx.prompt);
    let user = match role {
        Role::Sdr => prompt::sdr_user_message(
            &t.inp.widget_type,
            request_text,
            page,
            allow,
            &t.inp.current_config,
        ),
        Role::Cs => prompt::cs_user_message(
            &t.inp.widget_type,
            request_text,
            &t.inp.controls,
            &t.inp.current_config,
        ),
    };
    let mut messages = vec![(MsgRole::System, system.clone())];
    for turn in &t.loaded.session.turns {
        let r = if turn.role == "assistant" {
            MsgRole::Assistant
        } else {
            MsgRole::User
        };
        messages.push((r, turn.content.clone()));
    }
    messages.push((MsgRole::User, user.clone()));
    let clock = cx.host.clock();
    let t0 = clock.now_ms();
    let first = cx
        .model
        .complete(ModelCall {
            messages,
            temperature: 0.2,
            max_tokens: None,
            timeout_ms: None,
        })
        .await?;
    let (mut prompt_tokens, mut completion_tokens) = (first.prompt_tokens, first.completion_tokens);
    let (mut provider, mut model) = (first.provider.clone(), first.model.clone());
    let mut reply = interpret(&first.text, &first.provider)?;

    // One repair call when the reply is unusable and budget and time allow.
    let problems: Vec<String> = if reply.fallback {
        vec!["The answer was not a JSON object.".into()]
    } else if reply.ops.is_empty() {
        Vec::new()
    } else {
        check_ops(role, &reply.ops, &t.inp, allow)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect()
    };
    let remaining = (cx.started_ms + cx.grant_timeout_ms).saturating_sub(clock.now_ms());
    if !problems.is_empty() && cx.grant_max_requests_raw >= 2.0 && remaining >= 4000 {
        let call = ModelCall {
            messages: vec![
                (
                    MsgRole::System,
                    format!("{system}{}", prompt::REPAIR_SYSTEM_SUFFIX),
                ),
                (
                    MsgRole::User,
                    prompt::repair_user_message(&user, &problems, &first.text),
                ),
            ],
            temperature: 0.0,
            max_tokens: Some(160),
            timeout_ms: Some(remaining.saturating_sub(500).clamp(1000, 4000)),
        };
        // A failed repair leaves the first answer standing: it already has
        // a usable message, which is better than an error.
        if let Ok(second) = cx.model.complete(call).await {
            prompt_tokens += second.prompt_tokens;
            completion_tokens += second.completion_tokens;
            provider = second.provider.clone();
            model = second.model.clone();
            if let Ok(r) = interpret(&second.text, &second.provider) {
                reply = r;
            }
        }
    }

    let Reply {
        mut message,
        mut ops,
        mut cta,
        ..
    } = reply;
    if role == Role::Cs && !mentions_links(request_text) {
        ops.retain(|o| !is_link_path(op_path(o)));
    }
    let mut outcome = if ops.is_empty() {
        Outcome::NoOps
    } else {
        Outcome::OpsApplied
    };
    let mut ours = false;
    if !ops.is_empty() {
        if let Err(issues) = check_ops(role, &ops, &t.inp, allow) {
            let details: Vec<String> = issues
                .iter()
                .take(3)
                .map(|i| format!("- {}: {}", i.path, i.message))
                .collect();
            message = format!(
                "{}\n\nDetails:\n{}",
                ui(&lang, Ui::InvalidOps),
                details.join("\n")
            );
            ops.clear();
            cta = None;
            outcome = Outcome::InvalidOps;
            t.loaded.session.pending_policy = None;
            ours = true;
        } else {
            match limits::check(&ops, &t.inp.controls, clock.now_ms()) {
                limits::Verdict::Ok => t.loaded.session.pending_policy = None,
                limits::Verdict::Refused(msg) => {
                    message = msg;
                    ops.clear();
                    cta = None;
                    outcome = Outcome::NoOps;
                    t.loaded.session.pending_policy = None;
                    ours = true;
                }
                limits::Verdict::Pending(p, msg) => {
                    message = msg;
                    ops.clear();
                    cta = None;
                    outcome = Outcome::NoOps;
                    t.loaded.session.pending_policy = Some(p);
                    ours = true;
                }
            }
        }
    }
    if role == Role::Cs && ops.is_empty() && !ours && asks_for_controls(&message) {
        message = messages::CONTROL_DUMP.to_owned();
    }
    let intent = if ops.is_empty() {
        Intent::Clarify
    } else {
        Intent::Edit
    };
    if !ops.is_empty() {
        t.loaded.session.successful_edits += 1;
    }
    t.loaded.session.push_exchange(&t.inp.prompt, &message);
    session::save(cx.host.kv(), &t.loaded).await?;
    let latency = clock.now_ms().saturating_sub(t0);
    Ok(CopilotOutput {
        result: meta::result(&message, &ops, cta, meta::meta(role, intent, outcome, None)),
        usage: meta::model_usage(&provider, &model, prompt_tokens, completion_tokens, latency),
    })
}
