//! `Fetch` with reqwest (rustls on ring, no system OpenSSL, no aws-lc).
//! One deadline bounds connect, request, response head and body together.
//! Redirects are returned to the caller, never followed. Proxy variables are
//! ignored: the gateway talks to providers directly, as the Worker does.

use std::time::Duration;

use sf_runtime::ports::{Fetch, FetchError, PortError};

pub struct NativeFetch {
    client: reqwest::Client,
}

impl NativeFetch {
    pub(crate) fn new() -> Result<Self, PortError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| PortError::new("fetch", format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client })
    }
}

/// Error text for logs: reqwest's message without the URL (a query string
/// may carry a key), plus its source chain for the actual cause.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

impl Fetch for NativeFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let req = reqwest::Request::try_from(req)
            .map_err(|e| FetchError::Network(format!("invalid request: {}", describe(e))))?;
        let exchange = async {
            let res = self.client.execute(req).await.map_err(|e| {
                if e.is_timeout() {
                    FetchError::Timeout
                } else {
                    FetchError::Network(describe(e))
                }
            })?;
            let mut builder = http::Response::builder()
                .status(res.status())
                .version(res.version());
            if let Some(h) = builder.headers_mut() {
                *h = res.headers().clone();
            }
            let body = res.bytes().await.map_err(|e| {
                if e.is_timeout() {
                    FetchError::Timeout
                } else {
                    FetchError::Network(describe(e))
                }
            })?;
            builder
                .body(body.to_vec())
                .map_err(|e| FetchError::Network(format!("invalid response: {e}")))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout),
        }
    }
}
