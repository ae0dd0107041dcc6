//! jobs.yaml: the jobs and their schedule.

use super::names::Names;
use super::Ck;
use crate::ident;
use crate::load;
use crate::ops::JobDef;
use crate::raw_ops::JobsFile;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The jobs, and the schedule as (cron, job index).
pub(super) fn check(
    ck: &mut Ck,
    f: &JobsFile,
    vars: &super::vars::Vars,
) -> (Vec<JobDef>, Vec<(String, usize)>) {
    let mut ns = Names::new("job", load::JOBS);
    let mut methods = Names::new("job runner", load::JOBS);
    let mut jobs = Vec::new();
    for j in &f.jobs {
        let j = &j.value;
        let d = ns.declare(ck, &j.id, ident::pascal(&j.id.value));
        let m = d.and_then(|_| methods.declare(ck, &j.id, ident::snake(&j.id.value)));
        // Rule: a variable a job reads is declared (vars::resolve says which and how).
        for v in &j.vars {
            super::vars::resolve(ck, vars, load::JOBS, v);
        }
        // Rule: a job says what it does (operators read it in `sf jobs` and logs).
        if j.description.value.trim().is_empty() {
            ck.err(
                load::JOBS,
                j.description.referenced,
                format!("job `{}` has an empty description", j.id.value),
                Some("say in a few words what the job does".to_string()),
            );
        }
        if let (Some(_), Some(_)) = (d, m) {
            jobs.push(JobDef {
                name: j.id.value.clone(),
                ident: ident::pascal(&j.id.value).unwrap_or_default(),
                method: ident::snake(&j.id.value).unwrap_or_default(),
                description: j.description.value.trim().to_string(),
            });
        } else if d.is_some() {
            // Keep indices of `ns` and `jobs` aligned.
            jobs.push(JobDef {
                name: j.id.value.clone(),
                ident: ident::pascal(&j.id.value).unwrap_or_default(),
                method: String::new(),
                description: String::new(),
            });
        }
    }
    let mut schedule: Vec<(String, usize)> = Vec::new();
    for s in &f.schedule {
        let s = &s.value;
        // Rule: a cron expression has 5 fields, each in its range (a typo never reaches the host's scheduler).
        let cron_ok = match check_cron(&s.cron.value) {
            Ok(()) => true,
            Err(why) => {
                ck.err(
                    load::JOBS,
                    s.cron.referenced,
                    format!("invalid cron expression `{}`: {why}", s.cron.value),
                    Some("write 5 fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-7), e.g. \"0 2 * * *\"".to_string()),
                );
                false
            }
        };
        // Rule: a schedule entry names a declared job (a typo does not silently run nothing).
        let job = ns.resolve(ck, load::JOBS, &s.job);
        if let (Some(job), true) = (job, cron_ok) {
            let cron = normalize(&s.cron.value);
            // Rule: a job is scheduled at most once per cron expression (it would run twice).
            if schedule.iter().any(|(c, j)| *c == cron && *j == job) {
                ck.err(
                    load::JOBS,
                    s.job.referenced,
                    format!("job `{}` is scheduled twice on `{cron}`", s.job.value),
                    Some("remove one of the entries".to_string()),
                );
                continue;
            }
            schedule.push((cron, job));
        }
    }
    (jobs, schedule)
}

/// Fields separated by single spaces, as hosts report the expression that fired.
fn normalize(cron: &str) -> String {
    cron.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a 5-field cron expression: `*`, numbers, `a-b` ranges, `/step`,
/// `,` lists; month and day-of-week also take JAN-DEC and SUN-SAT.
pub fn check_cron(cron: &str) -> Result<(), String> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("{} field(s), expected 5", fields.len()));
    }
    let spec: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day-of-month", 1, 31, &[], 0),
        ("month", 1, 12, &MONTHS, 1),
        ("day-of-week", 0, 7, &WEEKDAYS, 0),
    ];
    for (f, (what, lo, hi, names, base)) in fields.iter().zip(spec) {
        check_field(f, lo, hi, names, base).map_err(|e| format!("{what} `{f}`: {e}"))?;
    }
    Ok(())
}

fn value(s: &str, lo: u32, hi: u32, names: &[&str], base: u32) -> Result<u32, String> {
    let v = match s.parse::<u32>() {
        Ok(v) => v,
        Err(_) => names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .map(|i| i as u32 + base)
            .ok_or_else(|| format!("`{s}` is not a number"))?,
    };
    if v < lo || v > hi {
        return Err(format!("{v} is outside {lo}-{hi}"));
    }
    Ok(v)
}

fn check_field(f: &str, lo: u32, hi: u32, names: &[&str], base: u32) -> Result<(), String> {
    for part in f.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(s) = step {
            match s.parse::<u32>() {
                Ok(n) if n >= 1 && n <= hi.max(1) => {}
                _ => {
                    return Err(format!(
                        "step `{s}` must be a number from 1 to {}",
                        hi.max(1)
                    ))
                }
            }
        }
        if range == "*" {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (
                    value(a, lo, hi, names, base)?,
                    value(b, lo, hi, names, base)?,
                );
                if a > b {
                    return Err(format!("range {a}-{b} runs backwards"));
                }
            }
            None => {
                value(range, lo, hi, names, base)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_cron;

    #[test]
    fn cron_syntax_and_ranges() {
        for ok in [
            "0 2 * * *",
            "*/5 * * * *",
            "0 0 1,15 * MON-FRI",
            "30 23 31 12 7",
            "0-30/10 1-5 * JAN *",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("0 2 * *", "4 field(s), expected 5"),
            ("0 2 * * * *", "6 field(s), expected 5"),
            ("60 2 * * *", "minute `60`: 60 is outside 0-59"),
            ("0 24 * * *", "hour `24`: 24 is outside 0-23"),
            ("0 2 0 * *", "day-of-month `0`: 0 is outside 1-31"),
            ("0 2 * 13 *", "month `13`: 13 is outside 1-12"),
            ("0 2 * * 8", "day-of-week `8`: 8 is outside 0-7"),
            ("0 2 * * FUN", "day-of-week `FUN`: `FUN` is not a number"),
            (
                "*/0 * * * *",
                "minute `*/0`: step `0` must be a number from 1 to 59",
            ),
            ("0 5-2 * * *", "hour `5-2`: range 5-2 runs backwards"),
        ] {
            assert_eq!(check_cron(bad), Err(why.to_string()), "{bad}");
        }
    }
}
