//! wrangler.toml says again what the policy declares: the cron triggers
//! (top level and every `[env.*.triggers]`) must be exactly the expressions
//! of policy/jobs.yaml's schedule, and every consumed queue must be the
//! policy's name for that queue in that environment (policy/queues.yaml).

use std::collections::{BTreeMap, BTreeSet};

use sf_core::policy::{Environment, Queue, SCHEDULE};

const WRANGLER: &str = include_str!("../../wrangler.toml");

/// Per wrangler environment ("" = top level): ENVIRONMENT, crons, consumed queues.
#[derive(Default, Debug)]
struct Env {
    environment: Option<String>,
    crons: Option<BTreeSet<String>>,
    consumed: Vec<String>,
}

fn strings(v: &str) -> Vec<String> {
    v.split('"').skip(1).step_by(2).map(str::to_owned).collect()
}

fn parse() -> BTreeMap<String, Env> {
    let mut envs: BTreeMap<String, Env> = BTreeMap::new();
    envs.entry(String::new()).or_default();
    let mut section = String::new();
    for line in WRANGLER.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let (env, rest) = match section.strip_prefix("env.") {
            Some(s) => match s.split_once('.') {
                Some((e, r)) => (e.to_owned(), r.to_owned()),
                None => (s.to_owned(), String::new()),
            },
            None => (String::new(), section.clone()),
        };
        let e = envs.entry(env).or_default();
        match (rest.as_str(), key) {
            ("vars", "ENVIRONMENT") => e.environment = strings(value).into_iter().next(),
            ("triggers", "crons") => e.crons = Some(strings(value).into_iter().collect()),
            ("queues.consumers", "queue") => e.consumed.extend(strings(value)),
            _ => {}
        }
    }
    envs
}

#[test]
fn every_crons_list_is_the_policy_schedule() {
    let policy: BTreeSet<String> = SCHEDULE.iter().map(|e| e.cron.to_owned()).collect();
    let envs = parse();
    assert!(envs.len() >= 3, "top level, env.local, env.prod: {envs:?}");
    for (name, e) in &envs {
        assert_eq!(
            e.crons.as_ref(),
            Some(&policy),
            "wrangler.toml {} crons differ from policy/jobs.yaml schedule",
            if name.is_empty() {
                "[triggers]".to_owned()
            } else {
                format!("[env.{name}.triggers]")
            }
        );
    }
}

#[test]
fn every_consumed_queue_is_a_policy_queue_of_its_environment() {
    for (name, e) in parse() {
        let env = e
            .environment
            .as_deref()
            .and_then(Environment::from_name)
            .unwrap_or_else(|| panic!("wrangler env {name:?} sets no known ENVIRONMENT"));
        assert!(!e.consumed.is_empty(), "{name:?} consumes no queue");
        for q in &e.consumed {
            assert_eq!(
                Queue::from_queue_name(q).map(|(_, e)| e),
                Some(env),
                "wrangler env {name:?} consumes {q:?}, which policy/queues.yaml does not name for {env}"
            );
        }
        // And the other way round: every queue the policy names here is consumed.
        for queue in Queue::ALL {
            if let Some(n) = queue.queue_name(env) {
                assert!(
                    e.consumed.iter().any(|c| c == n),
                    "{n:?} ({queue}) is not consumed in wrangler env {name:?}"
                );
            }
        }
    }
}
