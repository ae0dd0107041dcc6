//! San Francisco on Cloudflare Workers: a thin adapter from workerd events to
//! [`sf_runtime::Gateway`]. No gateway logic lives here: requests, queue
//! messages and cron ticks are converted and handed over. One file per port
//! ([`kv`], [`sql`], [`blob`], [`queue`], [`fetch`], [`clock`], [`random`],
//! [`vars`], [`counter`]), wired together in [`host`]; the budget Durable Object
//! is in [`durable`], its state and RPC in [`counter_state`].

pub mod blob;
pub mod boot;
pub mod clock;
pub mod counter;
pub mod counter_state;
pub mod durable;
pub mod fetch;
pub mod host;
pub mod js;
pub mod kv;
pub mod queue;
pub mod random;
#[cfg(feature = "selftest")]
pub mod selftest;
pub mod sql;
pub mod vars;
pub mod wait;

use std::cell::OnceCell;
use std::rc::Rc;

use futures_util::future::join_all;
use js_sys::futures::JsFuture;
use js_sys::Uint8Array;
use sf_core::ports::{Blob, Clock, Host};
use sf_runtime::{ConsumeError, Gateway};
use wasm_bindgen::JsValue;
use worker::{event, Context, Env, MessageBatch, MessageExt, ScheduleContext, ScheduledEvent};

pub use durable::BudgetCounter;
use host::CfHost;
use js::{js_message, js_to_json};
use wait::{Anchor, Scoped};

thread_local! {
    // One gateway per isolate: per-isolate state (the in-flight cap of CONTRACT 0.6) lives in it.
    static GATEWAY: OnceCell<Rc<Gateway<CfHost>>> = const { OnceCell::new() };
}

fn gateway(env: &Env) -> Rc<Gateway<CfHost>> {
    GATEWAY.with(|g| {
        g.get_or_init(|| {
            // stderr goes nowhere on wasm32-unknown-unknown; console.log reaches wrangler tail.
            sf_core::logsink::set_sink(console_line);
            Gateway::new(CfHost::new(env.clone()))
        })
        .clone()
    })
}

fn console_line(line: &str) {
    worker::console_log!("{line}");
}

fn ctx_anchor(ctx: &Context) -> Anchor {
    let raw: &JsValue = ctx.as_ref().as_ref();
    Anchor::Ctx(raw.clone())
}

/// Parses workerd's request URL. WHATWG URLs may keep a few characters raw that
/// the `http` crate refuses (e.g. a backtick or `"` in some positions): those are
/// percent-encoded rather than failing the request.
pub fn parse_uri(url: &str) -> Result<http::Uri, String> {
    if let Ok(uri) = http::Uri::try_from(url) {
        return Ok(uri);
    }
    let mut escaped = String::with_capacity(url.len() + 16);
    for b in url.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'`' | b'\\' | b'^' | b'{' | b'}' | b'|'
            )
        {
            escaped.push(b as char);
        } else {
            escaped.push_str(&format!("%{b:02X}"));
        }
    }
    http::Uri::try_from(escaped.as_str()).map_err(|e| format!("unusable request URL {url:?}: {e}"))
}

/// workerd request -> `http::Request<Vec<u8>>` (absolute URI; the core reads only
/// path and query). A header `http` cannot represent is dropped, not fatal.
async fn to_http(req: &web_sys::Request) -> Result<http::Request<Vec<u8>>, String> {
    let body = if req.body().is_some() {
        let buf = JsFuture::from(req.array_buffer().map_err(|e| js_message(&e))?)
            .await
            .map_err(|e| js_message(&e))?;
        Uint8Array::new(&buf).to_vec()
    } else {
        Vec::new()
    };
    let mut out = http::Request::new(body);
    *out.method_mut() = http::Method::from_bytes(req.method().as_bytes())
        .map_err(|e| format!("unusable method {:?}: {e}", req.method()))?;
    *out.uri_mut() = parse_uri(&req.url())?;
    let entries = js_sys::try_iter(&req.headers())
        .map_err(|e| js_message(&e))?
        .ok_or("request headers are not iterable")?;
    let headers = out.headers_mut();
    for entry in entries {
        let pair: js_sys::Array = entry.map_err(|e| js_message(&e))?.into();
        let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    Ok(out)
}

/// `http::Response<Vec<u8>>` -> workerd response.
fn to_web(res: http::Response<Vec<u8>>) -> Result<web_sys::Response, JsValue> {
    let (parts, mut body) = res.into_parts();
    let headers = web_sys::Headers::new()?;
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&headers);
    // These statuses must not carry a body; the Response constructor throws otherwise.
    let null_body = matches!(parts.status.as_u16(), 101 | 204 | 205 | 304);
    web_sys::Response::new_with_opt_u8_array_and_init(
        if null_body { None } else { Some(&mut body) },
        &init,
    )
}

/// CONTRACT section 0: an unexpected failure is a 500 in the normal envelope.
fn unhandled(why: &str) -> http::Response<Vec<u8>> {
    worker::console_error!("fetch: {why}");
    sf_core::http::error_response(&sf_core::error::ApiError::provider(
        500,
        "sanfrancisco",
        "Unhandled error",
    ))
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let gw = gateway(&env);
    if let Some(e) = boot::missing_bindings_error(&gw.host().missing_bindings()) {
        worker::console_error!("fetch: {}", e.message);
        return to_web(sf_core::http::error_response(&e))
            .map_err(|e| worker::Error::JsError(js_message(&e)));
    }
    let res = match to_http(&req).await {
        #[cfg(feature = "selftest")]
        Ok(req) if req.uri().path() == selftest::PATH && selftest::enabled(gw.host()) => {
            Scoped::new(ctx_anchor(&ctx), selftest::run(&gw, req.uri().query())).await
        }
        #[cfg(feature = "selftest")]
        Ok(req) if req.uri().path() == selftest::ENQUEUE_PATH && selftest::enabled(gw.host()) => {
            let (parts, body) = req.into_parts();
            selftest::enqueue(&env, &parts.method, parts.uri.query(), &body).await
        }
        Ok(req) => Scoped::new(ctx_anchor(&ctx), gw.handle(req)).await,
        Err(e) => unhandled(&format!("unreadable request: {e}")),
    };
    to_web(res).map_err(|e| worker::Error::JsError(js_message(&e)))
}

/// Queues named like this are dead-letter queues (wrangler.toml `dead_letter_queue`):
/// what arrives there exhausted its retries and is archived, not processed again.
pub const DEAD_LETTER_QUEUE_PREFIX: &str = "sanfrancisco-dead-letter";

/// Keeps a message for inspection: `dead-letter/{queue}/{messageId}.json` in R2.
async fn dead_letter(
    gw: &Gateway<CfHost>,
    queue: &str,
    id: &str,
    reason: &str,
    body: &serde_json::Value,
) -> Result<(), sf_core::ports::PortError> {
    let record = serde_json::json!({
        "queue": queue, "messageId": id, "reason": reason,
        "rejectedAtMs": gw.host().clock().now_ms(),
        // Dead letters are kept for people to read: never with a grant in them.
        "body": sf_runtime::consumer::redact_for_dead_letter(body),
    });
    let key = format!("dead-letter/{queue}/{id}.json");
    let bytes = serde_json::to_vec(&record).unwrap_or_default();
    gw.host()
        .blob()
        .put(&key, bytes, "application/json")
        .await
        .inspect_err(|e| {
            worker::console_error!(
                "queue {queue}: message {id} ({reason}) could not be archived, will be retried: {e}"
            )
        })
}

/// One handler for every bound queue (SF_EVENTS and the CONTRACT section 1
/// consumers); the gateway dispatches on the queue name. Each message is acked
/// or retried on its own, so one bad message never redelivers the batch.
/// `Reject` archives the message in R2 and acks it; `Retry` retries it, and once
/// its retries are exhausted Cloudflare moves it to the dead-letter queue, whose
/// messages are archived the same way. A message is only acked once it is
/// handled or archived.
#[event(queue)]
async fn queue(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    ctx: Context,
) -> worker::Result<()> {
    let gw = gateway(&env);
    let anchor = ctx_anchor(&ctx);
    let queue = batch.queue();
    let archive_only = queue.starts_with(DEAD_LETTER_QUEUE_PREFIX);
    let jobs = batch.raw_iter().map(|msg| {
        let gw = gw.clone();
        let anchor = anchor.clone();
        let queue = queue.clone();
        async move {
            let id = msg.id();
            let body = js_to_json(&msg.body());
            let outcome = match &body {
                Ok(_) if archive_only => Err(ConsumeError::Reject("retries exhausted".to_owned())),
                Ok(v) => Scoped::new(anchor, gw.consume(&queue, v.clone())).await,
                Err(e) => Err(ConsumeError::Reject(format!("body is not JSON: {e}"))),
            };
            match outcome {
                Ok(()) => msg.ack(),
                Err(ConsumeError::Retry(why)) => {
                    worker::console_warn!("queue {queue}: message {id} will be retried: {why}");
                    msg.retry();
                }
                Err(ConsumeError::Reject(why)) => {
                    let body = body.unwrap_or(serde_json::Value::Null);
                    match dead_letter(&gw, &queue, &id, &why, &body).await {
                        Ok(()) => msg.ack(),
                        Err(_) => msg.retry(),
                    }
                }
            }
        }
    });
    join_all(jobs).await;
    Ok(())
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let gw = gateway(&env);
    let anchor = Anchor::collector();
    let cron = event.cron();
    Scoped::new(anchor.clone(), gw.scheduled(&cron)).await;
    anchor.drain().await;
}

#[cfg(test)]
mod tests {
    use super::parse_uri;

    #[test]
    fn uri_keeps_what_http_accepts_and_escapes_the_rest() {
        let u = parse_uri("http://127.0.0.1:8787/v1/execute?x=a|b").unwrap();
        assert_eq!(u.path(), "/v1/execute");
        assert_eq!(u.query(), Some("x=a|b"));
        let u = parse_uri("http://127.0.0.1:8787/a`b?q=\"c\"").unwrap();
        assert_eq!(u.path(), "/a%60b");
        assert_eq!(u.query(), Some("q=%22c%22"));
        assert_eq!(parse_uri("http://h/healthz").unwrap().path(), "/healthz");
    }
}
