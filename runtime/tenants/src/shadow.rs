//! Shadow mode (policy/tenancy.yaml `modes`): a rule a tier marks `monitor`
//! never refuses. What it would have refused is counted on the Counter port,
//! one key per tenant and UTC day with a lane per rule, read back by
//! `GET /admin/v1/tenants/{id}/usage` (`shadow`), and the answer says which
//! rules it passed in `x-sf-shadow`.

use serde_json::{json, Value};

use sf_core::policy::TenancyRule;
use sf_core::ports::{Counter, Host, Reserve};
use sf_core::time_fmt::utc_day;

/// The header naming the monitored rules a request passed (comma-separated).
pub const HEADER: &str = "x-sf-shadow";

pub fn key(tenant_id: &str, now_ms: u64) -> String {
    let day = utc_day(i64::try_from(now_ms).unwrap_or(i64::MAX));
    format!("tenants:shadow:{tenant_id}:{day}")
}

/// Counts one would-be refusal of each rule. A failure only loses the count
/// (the request is never refused for it).
pub async fn record<H: Host>(h: &H, tenant_id: &str, rules: &[TenancyRule], now_ms: u64) {
    let k = key(tenant_id, now_ms);
    for r in rules {
        sf_core::sf_log!(
            "tenants: shadow {} for tenant {tenant_id}: would have refused",
            r.name()
        );
        let lane = [Reserve {
            lane: r.name(),
            amount: 1,
            ceiling: None,
        }];
        // Kept a day past its own, like the quota keys.
        let expires = (now_ms / 86_400_000 + 2) * 86_400_000;
        if let Err(e) = h.counter().reserve(&k, &lane, expires).await {
            sf_core::sf_log!("tenants: shadow count lost for tenant {tenant_id}: {e}");
        }
    }
}

/// `{"quota": n, "workload": n, "model": n}`: today's would-be refusals.
pub async fn today<H: Host>(h: &H, tenant_id: &str, now_ms: u64) -> Value {
    let k = key(tenant_id, now_ms);
    let mut m = serde_json::Map::new();
    for r in TenancyRule::ALL {
        let n = h.counter().read(&k, r.name()).await.unwrap_or(0);
        m.insert(r.name().to_owned(), json!(n));
    }
    Value::Object(m)
}

/// The `x-sf-shadow` value, or `None` when no monitored rule was passed.
pub fn header_value(rules: &[TenancyRule]) -> Option<String> {
    (!rules.is_empty()).then(|| rules.iter().map(|r| r.name()).collect::<Vec<_>>().join(","))
}
