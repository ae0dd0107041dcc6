//! The retention job (scheduled in policy/jobs.yaml, job
//! `retention`): what is kept, for how long.
//!
//! - Raw logs (R2 `logs/{ENV}/{agentId}/{day}/{requestId}.json`) older than
//!   the retention period are deleted. The period is `SF_RAW_LOG_RETENTION_DAYS`
//!   (a var, default [`DEFAULT_RAW_LOG_RETENTION_DAYS`]); the day of a key is
//!   the day the event happened, so a late-processed event ages like the others.
//! - D1 rows (`copilot_events_v1`, `copilot_outcomes_v1`, `sf_*`) are kept:
//!   they are the index the learning loop and the stats read. An
//!   `sf_interactions.r2_key` may therefore name a deleted object.
//! - Sessions in KV expire by their 24 h TTL: Cloudflare KV drops expired keys
//!   itself and the native host purges them every minute (reads already treat
//!   them as absent), so the job has nothing to do for them.
//!
//! Only this environment's logs are touched (`ENVIRONMENT`, else `unknown`),
//! one prefix per agent of the policy: keys under a prefix list in day order,
//! so the oldest come first and the job stops at the first key it keeps.

use sf_core::policy::{Agent, Var};
use sf_core::ports::{Blob, Clock, Host, Vars};
use sf_core::time_fmt::utc_day;
use sf_core::Isolate;

pub const RETENTION_DAYS_VAR: &str = Var::SfRawLogRetentionDays.name();
pub const DEFAULT_RAW_LOG_RETENTION_DAYS: u32 = 30;
/// Bounds one run (Workers cap the subrequests of a scheduled invocation);
/// what is left is deleted by the next run. Override with `SF_RETENTION_MAX_DELETES`.
pub const MAX_DELETES_VAR: &str = Var::SfRetentionMaxDeletes.name();
pub const DEFAULT_MAX_DELETES_PER_RUN: u64 = 1_000;
const LIST_PAGE: usize = 200;

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Objects dated before this day (UTC) were deleted.
    pub cutoff_day: String,
    pub deleted: u64,
    /// The per-run cap stopped the job before it was done.
    pub capped: bool,
}

fn positive_var<H: Host>(iso: &Isolate<H>, name: &str, default: u64) -> Result<u64, String> {
    match iso.host().vars().var(name) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                format!("{name}={v:?} is not a whole number >= 1; fix the var (default {default})")
            }),
    }
}

/// The retention period in days (a bad value stops the job rather than
/// deleting with a guessed period).
pub fn retention_days<H: Host>(iso: &Isolate<H>) -> Result<u64, String> {
    positive_var(
        iso,
        RETENTION_DAYS_VAR,
        u64::from(DEFAULT_RAW_LOG_RETENTION_DAYS),
    )
}

/// `YYYY-MM-DD` shape check on a key's day segment.
fn is_day(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Runs the job once.
pub async fn run<H: Host>(iso: &Isolate<H>) -> Result<RetentionReport, String> {
    let days = retention_days(iso)?;
    let max_deletes = positive_var(iso, MAX_DELETES_VAR, DEFAULT_MAX_DELETES_PER_RUN)?;
    let env = iso.environment_name().unwrap_or("unknown");
    let now = iso.host().clock().now_ms() as i64;
    let cutoff_day = utc_day(now - (days as i64).saturating_mul(86_400_000));
    let blob = iso.host().blob();
    let mut deleted = 0u64;
    for agent in Agent::ALL {
        let prefix = format!("logs/{env}/{}/", agent.name());
        loop {
            let keys = blob
                .list(&prefix, LIST_PAGE)
                .await
                .map_err(|e| format!("retention: listing {prefix}: {e}"))?;
            let mut kept_one = false;
            for key in &keys {
                let day = key
                    .strip_prefix(prefix.as_str())
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or("");
                if !is_day(day) || day >= cutoff_day.as_str() {
                    kept_one = true;
                    break;
                }
                if deleted >= max_deletes {
                    return Ok(RetentionReport {
                        cutoff_day,
                        deleted,
                        capped: true,
                    });
                }
                blob.delete(key)
                    .await
                    .map_err(|e| format!("retention: deleting {key}: {e}"))?;
                deleted += 1;
            }
            if kept_one || keys.len() < LIST_PAGE {
                break;
            }
        }
    }
    Ok(RetentionReport {
        cutoff_day,
        deleted,
        capped: false,
    })
}

#[cfg(test)]
mod tests {
    use super::is_day;

    #[test]
    fn day_segments() {
        assert!(is_day("2026-11-22"));
        assert!(!is_day("2026-11-2"));
        assert!(!is_day("2026_11_22"));
        assert!(!is_day("x026-11-22"));
    }
}

#[cfg(test)]
mod var_defaults {
    use super::*;

    #[test]
    fn policy_defaults_are_the_code_defaults() {
        let d = |v: Var| v.default_value().map(str::to_owned);
        assert_eq!(
            d(Var::SfRawLogRetentionDays),
            Some(DEFAULT_RAW_LOG_RETENTION_DAYS.to_string())
        );
        assert_eq!(
            d(Var::SfRetentionMaxDeletes),
            Some(DEFAULT_MAX_DELETES_PER_RUN.to_string())
        );
    }
}
