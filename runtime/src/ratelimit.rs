//! Per-client rate limits on public routes (endpoints.yaml `rateLimits`,
//! issue 13). A group allows `limit` requests per `windowSeconds` per client;
//! past it the answer is 429 with `retry-after` (seconds to the next window).
//! The bucket is a window counter on the Counter port, so it is atomic and
//! shared by every isolate (SQLite natively, the budget Durable Object on
//! Cloudflare); the Workers Rate Limiting binding is not used.
//!
//! The client is the tenant key id of `Authorization: Bearer sk-sf-...`
//! (`tenant-key` groups; read before the key is checked, so a wrong secret
//! spends from that key id's bucket too) or the IP: the peer address the
//! native server sets ([`ClientIp`]), else `cf-connecting-ip`. A request with
//! neither is not limited. If the Counter fails, the request goes through.

use sf_core::error::ApiError;
use sf_core::http::{json_response, ClientIp};
use sf_core::policy::{RateLimit, RateLimitClient, Route};
use sf_core::ports::{Clock, Counter, Host, Reserve};

const LANE: &str = "requests";

/// Who the request is from, for `limit`'s bucket.
pub fn client_of(limit: &RateLimit, req: &http::Request<Vec<u8>>) -> Option<String> {
    if limit.client == RateLimitClient::TenantKey {
        let header = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let key_id = sf_core::secret::bearer_token(header)
            .and_then(|k| sf_tenants::keys::parse(k.trim()))
            .map(|(id, _)| id.to_owned());
        if let Some(id) = key_id {
            return Some(format!("key:{id}"));
        }
    }
    let ip = req
        .extensions()
        .get::<ClientIp>()
        .map(|c| c.0.clone())
        .or_else(|| {
            req.headers()
                .get("cf-connecting-ip")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })?;
    let ip = ip.trim();
    (!ip.is_empty() && ip.len() <= 64).then(|| format!("ip:{ip}"))
}

/// `None` to go on, or the 429 answer.
pub async fn check<H: Host>(
    h: &H,
    route: Route,
    req: &http::Request<Vec<u8>>,
) -> Option<http::Response<Vec<u8>>> {
    let limit = route.rate_limit()?;
    let client = client_of(limit, req)?;
    let window_ms = limit.window_s.saturating_mul(1000).max(1);
    let now = h.clock().now_ms();
    let window = now / window_ms;
    let key = format!("ratelimit:{}:{client}:{window}", limit.id);
    let lanes = [Reserve {
        lane: LANE,
        amount: 1,
        ceiling: Some(i64::try_from(limit.limit).unwrap_or(i64::MAX)),
    }];
    let expires = (window + 2).saturating_mul(window_ms);
    match h.counter().reserve(&key, &lanes, expires).await {
        Ok(true) => None,
        Ok(false) => {
            let retry = ((window + 1) * window_ms - now).div_ceil(1000).max(1);
            let who = match limit.client {
                RateLimitClient::TenantKey => "tenant key",
                RateLimitClient::Ip => "client IP",
            };
            let e = ApiError::budget(format!(
                "Rate limit `{}` reached: {} requests per {} s per {who}; retry after {retry} s",
                limit.id, limit.limit, limit.window_s
            ));
            let mut res = json_response(429, &e.to_json());
            let headers = res.headers_mut();
            for (k, v) in [
                ("retry-after", retry.to_string()),
                ("x-ratelimit-limit", limit.limit.to_string()),
                ("x-ratelimit-remaining", "0".to_owned()),
            ] {
                if let Ok(v) = http::HeaderValue::from_str(&v) {
                    headers.insert(k, v);
                }
            }
            Some(res)
        }
        Err(e) => {
            sf_core::sf_log!(
                "ratelimit {}: counter unavailable, not limited: {e}",
                limit.id
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use sf_core::testkit::FakeHost;

    fn key(id: &str) -> String {
        format!("Bearer sk-sf-{id}_{}", "f".repeat(64))
    }

    fn req(auth: Option<&str>, ip: Option<&str>) -> http::Request<Vec<u8>> {
        let mut b = http::Request::builder().uri("/v1/models");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        if let Some(ip) = ip {
            b = b.header("cf-connecting-ip", ip);
        }
        b.body(Vec::new()).unwrap_or_default()
    }

    #[test]
    fn the_client_is_the_key_id_then_the_ip() {
        let l = Route::TenantsModels.rate_limit().expect("limited");
        assert_eq!(
            client_of(l, &req(Some(&key("0123456789ab")), Some("1.2.3.4"))),
            Some("key:0123456789ab".into())
        );
        assert_eq!(
            client_of(l, &req(Some("Bearer nope"), Some("1.2.3.4"))),
            Some("ip:1.2.3.4".into())
        );
        let mut r = req(None, Some("1.2.3.4"));
        r.extensions_mut().insert(ClientIp("9.9.9.9".into()));
        assert_eq!(client_of(l, &r), Some("ip:9.9.9.9".into()), "the peer wins");
        assert_eq!(client_of(l, &req(None, None)), None);
        let ip_only = Route::ApprovalsHealth.rate_limit().expect("limited");
        assert_eq!(
            client_of(ip_only, &req(Some(&key("0123456789ab")), Some("5.6.7.8"))),
            Some("ip:5.6.7.8".into())
        );
        assert!(Route::Healthz.rate_limit().is_none());
    }

    #[test]
    fn past_the_limit_429_with_retry_after_until_the_next_window() {
        let h = FakeHost::new();
        let l = Route::TenantsModels.rate_limit().expect("limited");
        let r = req(Some(&key("00000000000a")), None);
        for i in 0..l.limit {
            assert!(
                block_on(check(&h, Route::TenantsModels, &r)).is_none(),
                "call {i}"
            );
        }
        let res = block_on(check(&h, Route::TenantsModels, &r)).expect("limited");
        assert_eq!(res.status(), 429);
        let retry: u64 = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("retry-after");
        assert!((1..=l.window_s).contains(&retry), "{retry}");
        let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap_or_default();
        assert_eq!(v["error"]["code"], "BUDGET_EXCEEDED");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(
                "Rate limit `tenant-models` reached: 60 requests per 60 s per tenant key"
            )));
        // Another key has its own bucket.
        assert!(block_on(check(
            &h,
            Route::TenantsModels,
            &req(Some(&key("00000000000b")), None)
        ))
        .is_none());
    }
}
