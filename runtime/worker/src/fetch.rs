//! The `Fetch` port on the global `fetch`, with an `AbortController` deadline.

use std::time::Duration;

use futures_util::future::{select, Either};
use js_sys::Uint8Array;
use sf_core::ports::{Fetch, FetchError};

use crate::clock::sleep_ms;
use crate::js::js_message;

pub struct CfFetch;

fn build_request(req: http::Request<Vec<u8>>) -> Result<worker::Request, String> {
    let (parts, body) = req.into_parts();
    let headers = web_sys::Headers::new().map_err(|e| js_message(&e))?;
    for (name, value) in &parts.headers {
        let value = value
            .to_str()
            .map_err(|_| format!("header `{name}` is not visible ASCII"))?;
        headers
            .append(name.as_str(), value)
            .map_err(|e| js_message(&e))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(parts.method.as_str());
    // 3xx answers go back to the caller, as on the native host: the core re-checks
    // every redirect target against its URL guard before following it.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_headers(&headers);
    // fetch() rejects a body on GET/HEAD, even an empty one.
    if !body.is_empty() {
        init.set_body(&Uint8Array::from(body.as_slice()));
    }
    let raw = web_sys::Request::new_with_str_and_init(&parts.uri.to_string(), &init)
        .map_err(|e| js_message(&e))?;
    Ok(worker::Request::from(raw))
}

async fn exchange(
    req: worker::Request,
    signal: &worker::AbortSignal,
) -> Result<http::Response<Vec<u8>>, FetchError> {
    let net = |e: worker::Error| FetchError::Network(e.to_string());
    let mut resp = worker::Fetch::Request(req)
        .send_with_signal(signal)
        .await
        .map_err(net)?;
    let mut builder = http::Response::builder().status(resp.status_code());
    for (name, value) in resp.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = resp.bytes().await.map_err(net)?;
    builder
        .body(body)
        .map_err(|e| FetchError::Network(format!("unusable response: {e}")))
}

impl Fetch for CfFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let req = build_request(req).map_err(FetchError::Network)?;
        let controller = worker::AbortController::default();
        let signal = controller.signal();
        let work = std::pin::pin!(exchange(req, &signal));
        let timer = std::pin::pin!(sleep_ms(timeout.as_millis() as u64));
        match select(work, timer).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => {
                // Cancels the socket and any body still streaming in; the pending
                // exchange future is never polled again.
                controller.abort();
                Err(FetchError::Timeout)
            }
        }
    }
}
