//! Cron triggers for `Gateway::scheduled`, in UTC like Cloudflare's.
//!
//! Expressions have five fields (minute hour day-of-month month day-of-week)
//! with `*`, numbers, `a-b` ranges, `/step`, `,` lists and the names
//! `JAN`-`DEC` and `SUN`-`SAT` (day 7 is Sunday too). When both day fields are
//! restricted a day matching either runs, as in classic cron. Each firing is
//! claimed in `scheduler_runs` first, so several processes sharing one data
//! directory run a job once.

use std::rc::Rc;
use std::time::Duration;

use sf_core::ports::{Clock, Host};
use sf_runtime::Gateway;
use tokio::sync::watch;

use crate::host::NativeHost;

/// A parsed cron expression: one bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSpec {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    dom_any: bool,
    dow_any: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn parse_value(s: &str, names: &[&str], name_base: u32) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let up = s.to_ascii_uppercase();
    names
        .iter()
        .position(|n| *n == up)
        .map(|i| i as u32 + name_base)
}

/// Parses one field into a bit set over `min..=max`.
fn parse_field(
    field: &str,
    min: u32,
    max: u32,
    names: &[&str],
    name_base: u32,
) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("bad step {s:?}"))?;
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = parse_value(a, names, name_base).ok_or_else(|| format!("bad value {a:?}"))?;
            let b = parse_value(b, names, name_base).ok_or_else(|| format!("bad value {b:?}"))?;
            (a, b)
        } else {
            let v = parse_value(range, names, name_base)
                .ok_or_else(|| format!("bad value {range:?}"))?;
            // `5/15` means from 5 to the end, stepping 15.
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("{part:?} is outside {min}-{max}"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

impl CronSpec {
    pub fn parse(expr: &str) -> Result<Self, String> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let [min, hour, dom, mon, dow] = fields[..] else {
            return Err(format!(
                "cron {expr:?}: expected 5 fields (minute hour day month weekday)"
            ));
        };
        fn ctx<'a>(expr: &'a str, what: &'a str) -> impl Fn(String) -> String + 'a {
            move |e| format!("cron {expr:?}: {what}: {e}")
        }
        let weekdays = parse_field(dow, 0, 7, &WEEKDAYS, 0).map_err(ctx(expr, "weekday"))?;
        Ok(Self {
            minutes: parse_field(min, 0, 59, &[], 0).map_err(ctx(expr, "minute"))?,
            hours: parse_field(hour, 0, 23, &[], 0).map_err(ctx(expr, "hour"))? as u32,
            days: parse_field(dom, 1, 31, &[], 0).map_err(ctx(expr, "day of month"))? as u32,
            months: parse_field(mon, 1, 12, &MONTHS, 1).map_err(ctx(expr, "month"))? as u16,
            // Fold 7 (Sunday) onto 0.
            weekdays: ((weekdays | (weekdays >> 7)) & 0x7f) as u8,
            dom_any: dom == "*",
            dow_any: dow == "*",
        })
    }

    fn day_matches(&self, day: u32, weekday: u32) -> bool {
        let d = self.days & (1 << day) != 0;
        let w = self.weekdays & (1 << weekday) != 0;
        match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (false, true) => d,
            (true, false) => w,
            (false, false) => d || w,
        }
    }

    /// The first firing strictly after `after_ms` (epoch ms, UTC), or `None`
    /// if the expression never fires (e.g. 31 February) within eight years.
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        const MIN: u64 = 60_000;
        let mut t = (after_ms / MIN + 1) * MIN;
        let limit = after_ms + 8 * 366 * 86_400_000;
        while t <= limit {
            let days = t / 86_400_000;
            let (_, month, day) = civil_from_days(days as i64);
            let weekday = ((days + 4) % 7) as u32; // 1970-01-01 was a Thursday
            let secs_of_day = (t % 86_400_000) / 1000;
            let hour = (secs_of_day / 3600) as u32;
            let minute = ((secs_of_day % 3600) / 60) as u32;
            if self.months & (1 << month) == 0 || !self.day_matches(day, weekday) {
                t = (days + 1) * 86_400_000;
                continue;
            }
            if self.hours & (1 << hour) == 0 {
                t = (t / 3_600_000 + 1) * 3_600_000;
                continue;
            }
            if self.minutes & (1 << minute) == 0 {
                t += MIN;
                continue;
            }
            return Some(t);
        }
        None
    }
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic
/// Gregorian (era arithmetic over 400-year cycles).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses the distinct cron expressions of `jobs` (cron, job name). The core's
/// `scheduled(cron)` picks the jobs, so each expression fires once per slot.
pub fn parse_jobs(jobs: &[(String, String)]) -> Result<Vec<(String, CronSpec)>, String> {
    let mut out: Vec<(String, CronSpec)> = Vec::new();
    for (cron, job) in jobs {
        if out.iter().any(|(c, _)| c == cron) {
            continue;
        }
        let spec = CronSpec::parse(cron).map_err(|e| format!("scheduled job {job:?}: {e}"))?;
        out.push((cron.clone(), spec));
    }
    Ok(out)
}

/// Runs on one worker thread: sleeps until the next firing of any expression,
/// claims it, and calls `Gateway::scheduled(cron)`.
pub(crate) async fn run_scheduler(
    gateway: Rc<Gateway<NativeHost>>,
    crons: Vec<(String, CronSpec)>,
    mut shutdown: watch::Receiver<bool>,
) {
    if crons.is_empty() {
        return;
    }
    let clock = gateway.host().clock().clone();
    let mut next: Vec<Option<u64>> = crons
        .iter()
        .map(|(_, s)| s.next_after(clock.now_ms()))
        .collect();
    loop {
        let Some(soonest) = next.iter().flatten().min().copied() else {
            return;
        };
        let now = clock.now_ms();
        if soonest > now {
            // Re-read the clock at least every second: wall-clock jumps (NTP,
            // suspend, a test's manual clock) then shift firings by at most 1 s.
            let wait = (soonest - now).min(1_000);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            continue;
        }
        for (i, (cron, spec)) in crons.iter().enumerate() {
            let Some(slot) = next[i] else { continue };
            if slot > now {
                continue;
            }
            next[i] = spec.next_after(slot.max(now));
            if claim_slot(&gateway, cron, slot) {
                gateway.scheduled(cron).await;
            }
        }
    }
}

fn claim_slot(gateway: &Rc<Gateway<NativeHost>>, cron: &str, slot: u64) -> bool {
    let now = gateway.host().clock().now_ms();
    let claimed = gateway.host().db().with("scheduler", |c| {
        c.prepare_cached(
            "INSERT OR IGNORE INTO scheduler_runs (cron, slot_ms, started_at_ms) VALUES (?1, ?2, ?3)",
        )?
        .execute(rusqlite::params![cron, slot as i64, now as i64])
    });
    match claimed {
        Ok(n) => n == 1,
        Err(e) => {
            eprintln!("sf-server: scheduler cannot record {cron:?}: {e}; skipping this run");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-21 23:49:00 UTC, a Saturday.
    const T0: u64 = 1_795_304_940_000;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(T0 as i64 / 86_400_000), (2026, 11, 21));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn next_firings() {
        let daily2 = CronSpec::parse("0 2 * * *").unwrap();
        // Next 02:00 UTC is 2026-11-22 02:00.
        assert_eq!(daily2.next_after(T0), Some(1_795_312_800_000));
        let every5 = CronSpec::parse("*/5 * * * *").unwrap();
        assert_eq!(every5.next_after(T0), Some(T0 + 60_000));
        let monday = CronSpec::parse("30 9 * * MON").unwrap();
        // Monday 2026-11-23 09:30 UTC.
        assert_eq!(monday.next_after(T0), Some(1_795_426_200_000));
        let sunday7 = CronSpec::parse("0 0 * * 7").unwrap();
        assert_eq!(sunday7, CronSpec::parse("0 0 * * SUN").unwrap());
        assert_eq!(CronSpec::parse("0 0 31 2 *").unwrap().next_after(T0), None);
    }

    #[test]
    fn bad_expressions_name_the_field() {
        let e = CronSpec::parse("0 24 * * *").unwrap_err();
        assert!(e.contains("hour"), "{e}");
        assert!(CronSpec::parse("* * * *").unwrap_err().contains("5 fields"));
        assert!(CronSpec::parse("*/0 * * * *").is_err());
        assert!(parse_jobs(&[("x".into(), "retention".into())])
            .unwrap_err()
            .contains("retention"));
    }
}
