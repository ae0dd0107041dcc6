//! Per-tier daily quotas on the Counter port: one key per tenant and UTC day
//! with a `requests` and a `tokens` lane, each with the tier's ceiling. A call
//! reserves its worst case (one request, the prompt estimate plus
//! `max_tokens`) before it runs and settles to the real tokens after, so any
//! number of concurrent calls never pass the quota.

use sf_core::error::ApiError;
use sf_core::policy::TierRules;
use sf_core::ports::{Counter, Host, Reserve};
use sf_core::time_fmt::utc_day;

const DAY_MS: u64 = 86_400_000;
pub const LANE_REQUESTS: &str = "requests";
pub const LANE_TOKENS: &str = "tokens";

pub fn key(tenant_id: &str, now_ms: u64) -> String {
    let day = utc_day(i64::try_from(now_ms).unwrap_or(i64::MAX));
    format!("tenants:quota:{tenant_id}:{day}")
}

/// Seconds until the quota resets (the next UTC midnight), at least 1.
pub fn retry_after_s(now_ms: u64) -> u64 {
    let next = (now_ms / DAY_MS + 1) * DAY_MS;
    next.saturating_sub(now_ms).div_ceil(1000).max(1)
}

fn unavailable(_: impl std::fmt::Display) -> ApiError {
    ApiError::provider(503, "sanfrancisco", "Quota store unavailable")
}

fn ceil(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// What is left after a reservation (for the `x-ratelimit-remaining-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    pub requests: u64,
    pub tokens: u64,
}

/// Reserves one request and `tokens`: `Ok(None)` when the quota would pass.
pub async fn reserve<H: Host>(
    h: &H,
    key: &str,
    rules: &TierRules,
    tokens: u64,
    now_ms: u64,
) -> Result<Option<Remaining>, ApiError> {
    let lanes = [
        Reserve {
            lane: LANE_REQUESTS,
            amount: 1,
            ceiling: Some(ceil(rules.requests_per_day)),
        },
        Reserve {
            lane: LANE_TOKENS,
            amount: ceil(tokens),
            ceiling: Some(ceil(rules.tokens_per_day)),
        },
    ];
    let expires = (now_ms / DAY_MS + 2) * DAY_MS;
    if !h
        .counter()
        .reserve(key, &lanes, expires)
        .await
        .map_err(unavailable)?
    {
        return Ok(None);
    }
    remaining(h, key, rules).await.map(Some)
}

pub async fn remaining<H: Host>(
    h: &H,
    key: &str,
    rules: &TierRules,
) -> Result<Remaining, ApiError> {
    let r = h
        .counter()
        .read(key, LANE_REQUESTS)
        .await
        .map_err(unavailable)?;
    let t = h
        .counter()
        .read(key, LANE_TOKENS)
        .await
        .map_err(unavailable)?;
    let left = |ceiling: u64, used: i64| ceiling.saturating_sub(u64::try_from(used).unwrap_or(0));
    Ok(Remaining {
        requests: left(rules.requests_per_day, r),
        tokens: left(rules.tokens_per_day, t),
    })
}

/// Settles a reservation of `reserved` tokens to `used` (a failed call passes
/// `used: None` and gives the request back too). A failure here leaves the
/// reservation higher: the safe side.
pub async fn settle<H: Host>(h: &H, key: &str, reserved: u64, used: Option<u64>) {
    let delta = ceil(used.unwrap_or(0)) - ceil(reserved);
    if delta != 0 {
        let _ = h.counter().adjust(key, LANE_TOKENS, delta).await;
    }
    if used.is_none() {
        let _ = h.counter().adjust(key, LANE_REQUESTS, -1).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use sf_core::policy::Tier;
    use sf_core::testkit::{FakeHost, START_MS};

    #[test]
    fn reservations_stop_at_the_ceiling_and_settle_back() {
        let h = FakeHost::new();
        let rules = Tier::Free.rules();
        let k = key("t1", START_MS);
        let r = block_on(reserve(&h, &k, rules, 1000, START_MS))
            .unwrap()
            .unwrap();
        assert_eq!(r.requests, rules.requests_per_day - 1);
        assert_eq!(r.tokens, rules.tokens_per_day - 1000);
        block_on(settle(&h, &k, 1000, Some(10)));
        assert_eq!(
            block_on(remaining(&h, &k, rules)).unwrap().tokens,
            rules.tokens_per_day - 10
        );
        let too_many = rules.tokens_per_day;
        assert_eq!(
            block_on(reserve(&h, &k, rules, too_many, START_MS)).unwrap(),
            None
        );
        block_on(settle(&h, &k, 0, None));
        assert_eq!(
            block_on(remaining(&h, &k, rules)).unwrap().requests,
            rules.requests_per_day
        );
        assert!(retry_after_s(START_MS) <= 86_400);
    }
}
