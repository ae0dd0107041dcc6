//! `Fetch` with reqwest (rustls on ring, no system OpenSSL, no aws-lc).
//! One deadline bounds connect, request, response head and body together.
//! Redirects are returned to the caller, never followed. Proxy variables are
//! ignored: the gateway talks to providers directly, as the Worker does.

use std::time::Duration;

use sf_core::net::{check_resolved, PublicOnly};
use sf_core::ports::{Fetch, FetchError, PortError};

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

/// For requests marked [`PublicOnly`] (pages a user asked the copilot to
/// read): resolve the host, refuse it unless every address is public, and
/// build a client pinned to exactly those addresses, so a second lookup
/// (DNS rebinding) cannot send the connection elsewhere.
async fn pinned_client(uri: &http::Uri) -> Result<reqwest::Client, FetchError> {
    let host = uri
        .host()
        .ok_or_else(|| FetchError::Blocked("invalid_host".into()))?;
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| FetchError::Network(format!("dns lookup failed: {e}")))?
        .collect();
    let ips: Vec<std::net::IpAddr> = addrs.iter().map(|a| a.ip()).collect();
    check_resolved(&ips).map_err(FetchError::Blocked)?;
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve_to_addrs(host, &addrs)
        .build()
        .map_err(|e| FetchError::Network(format!("cannot build the HTTP client: {e}")))
}

impl Fetch for NativeFetch {
    async fn fetch(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        // The marker lives in the request extensions, which the conversion
        // to reqwest drops: read it first.
        let public_only = req.extensions().get::<PublicOnly>().is_some();
        let uri = req.uri().clone();
        let req = reqwest::Request::try_from(req)
            .map_err(|e| FetchError::Network(format!("invalid request: {}", describe(e))))?;
        let exchange = async {
            let pinned;
            let client = if public_only {
                pinned = pinned_client(&uri).await?;
                &pinned
            } else {
                &self.client
            };
            let res = client.execute(req).await.map_err(|e| {
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
