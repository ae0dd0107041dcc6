//! learning.yaml: how interactions are scored, and the success criteria (issue 11).

use super::agents::Agents;
use super::names::pick;
use super::Ck;
use crate::load;
use crate::model::*;
use crate::raw::{LearningFile, S};

/// How far the sum of the weights may be from 1 (decimal weights in YAML).
const SUM_TOLERANCE: f64 = 1e-9;
const MAX_CONTINUED_MINUTES: i64 = 24 * 60;
const MAX_RESCORE_DAYS: i64 = 90;
/// Bounds of an example bank: examples per widget type, and tokens.
const MAX_BANK_K: i64 = 50;
const MAX_BANK_TOKENS: i64 = 100_000;

pub(super) fn check(ck: &mut Ck, l: &LearningFile, ag: &Agents) -> Learning {
    let f = load::LEARNING;
    let mut out = Learning {
        continued_within_minutes: bounded(
            ck,
            &l.continued_within_minutes,
            "continuedWithinMinutes",
            MAX_CONTINUED_MINUTES,
        ),
        rescore_days: bounded(ck, &l.rescore_days, "rescoreDays", MAX_RESCORE_DAYS),
        ..Learning::default()
    };
    let signals: Vec<(&'static str, usize)> =
        SIGNALS.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
    for (agent, weights) in &l.scoring.value.0 {
        // Rule: a scoring names a declared agent (by its canonical id), once.
        let a = ag
            .agent_ns
            .resolve(ck, f, agent)
            .and_then(|_| ag.agent_defs.iter().position(|d| d.name == agent.value));
        if let Some(a) = a {
            if out.scoring.iter().any(|s| s.agent == a) {
                ck.err(
                    f,
                    agent.referenced,
                    format!("agent `{}` is scored twice", agent.value),
                    Some("keep one scoring per agent".into()),
                );
                continue;
            }
        }
        let mut ws: Vec<(usize, f64)> = Vec::new();
        let mut sum = 0.0;
        // A weight already reported makes the sum meaningless (one mistake, one error).
        let mut bad = false;
        for (sig, w) in &weights.value.0 {
            // Rule: a weight names a known signal (SIGNALS), once per agent.
            let Some(i) = pick(&signals, ck, f, "signal", sig) else {
                bad = true;
                continue;
            };
            if ws.iter().any(|(j, _)| *j == i) {
                ck.err(
                    f,
                    sig.referenced,
                    format!(
                        "signal `{}` is weighted twice for agent `{}`",
                        sig.value, agent.value
                    ),
                    Some("give each signal one weight".into()),
                );
                bad = true;
                continue;
            }
            // Rule: a weight is in [0, 1].
            if !(w.value.is_finite() && (0.0..=1.0).contains(&w.value)) {
                ck.err(
                    f,
                    w.referenced,
                    format!(
                        "the weight of `{}` must be in [0, 1], not {}",
                        sig.value, w.value
                    ),
                    Some("a score is a weighted share of signals, each 0 or 1".into()),
                );
                bad = true;
            }
            sum += w.value;
            ws.push((i, w.value));
        }
        // Rule: the weights of an agent sum to 1 (a score is in [0, 1]).
        if !bad && (ws.is_empty() || (sum - 1.0).abs() > SUM_TOLERANCE) {
            ck.err(
                f,
                weights.referenced,
                format!("the weights of agent `{}` sum to {sum}, not 1", agent.value),
                Some("adjust the weights so that they add up to 1".into()),
            );
        }
        if let Some(agent) = a {
            out.scoring.push(ScoringDef { agent, weights: ws });
        }
    }
    criteria(ck, &l.criteria, &mut out);
    banks(ck, l, ag, &mut out);
    out
}

fn banks(ck: &mut Ck, l: &LearningFile, ag: &Agents, out: &mut Learning) {
    let f = load::LEARNING;
    for (agent, bank) in &l.example_banks.value.0 {
        // Rule: an example bank names a declared agent (by its canonical id); one bank per agent
        // (a second one is a duplicate YAML key).
        let a = ag
            .agent_ns
            .resolve(ck, f, agent)
            .and_then(|_| ag.agent_defs.iter().position(|d| d.name == agent.value));
        let b = &bank.value;
        // Rule: a bank keeps k >= 1 examples per widget type (at most MAX_BANK_K).
        let k_ok = (1..=MAX_BANK_K).contains(&b.k.value);
        if !k_ok {
            ck.err(
                f,
                b.k.referenced,
                format!(
                    "the example bank of `{}` must keep k from 1 to {MAX_BANK_K} examples, not {}",
                    agent.value, b.k.value
                ),
                Some(
                    "k is how many of the best-scored interactions per widget type become examples"
                        .into(),
                ),
            );
        }
        // Rule: a bank's token budget is positive (at most MAX_BANK_TOKENS).
        let budget_ok = (1..=MAX_BANK_TOKENS).contains(&b.token_budget.value);
        if !budget_ok {
            ck.err(
                f,
                b.token_budget.referenced,
                format!(
                    "the token budget of the example bank of `{}` must be from 1 to {MAX_BANK_TOKENS}, not {}",
                    agent.value, b.token_budget.value
                ),
                Some("the few-shot examples of a prompt stay within this many tokens (characters / 4)".into()),
            );
        }
        // Rule: a bank's minimum score is a score, in [0, 1].
        let min_ok = b.min_score.value.is_finite() && (0.0..=1.0).contains(&b.min_score.value);
        if !min_ok {
            ck.err(
                f,
                b.min_score.referenced,
                format!(
                    "the minScore of the example bank of `{}` must be in [0, 1], not {}",
                    agent.value, b.min_score.value
                ),
                Some("scores are weighted shares of signals, from 0 to 1".into()),
            );
        }
        if let (Some(agent), true, true, true) = (a, k_ok, budget_ok, min_ok) {
            out.banks.push(BankDef {
                agent,
                k: b.k.value as u32,
                token_budget: b.token_budget.value as u32,
                min_score: b.min_score.value,
            });
        }
    }
}

fn criteria(
    ck: &mut Ck,
    c: &S<crate::raw::Entries<S<crate::raw::LearningBar>>>,
    out: &mut Learning,
) {
    let f = load::LEARNING;
    let table: Vec<(&'static str, usize)> =
        CRITERIA.iter().enumerate().map(|(i, c)| (c.0, i)).collect();
    let mut bars: Vec<Option<f64>> = vec![None; CRITERIA.len()];
    // Named, even with a wrong bound (reported once, not again as missing).
    let mut named = vec![false; CRITERIA.len()];
    for (k, bar) in &c.value.0 {
        let Some(i) = pick(&table, ck, f, "criterion", k) else {
            continue;
        };
        let (name, _, is_min) = CRITERIA[i];
        if std::mem::replace(&mut named[i], true) {
            ck.err(
                f,
                k.referenced,
                format!("duplicate criterion `{name}`"),
                Some("keep one bar per criterion".into()),
            );
            continue;
        }
        let (want, other) = if is_min {
            ("min", &bar.value.max)
        } else {
            ("max", &bar.value.min)
        };
        let value = if is_min {
            &bar.value.min
        } else {
            &bar.value.max
        };
        // Rule: a criterion has one bar, of its direction (rates that should be high take `min`, the others `max`).
        let Some(v) = value.as_ref().filter(|_| other.is_none()) else {
            ck.err(
                f,
                bar.referenced,
                format!("criterion `{name}` takes exactly one bound, `{want}`"),
                Some(format!("write `{name}: {{ {want}: <value> }}`")),
            );
            continue;
        };
        // Rule: a rate bar is in [0, 1]; a latency bar is a positive number of milliseconds.
        let ok = if name.ends_with("Rate") {
            (0.0..=1.0).contains(&v.value)
        } else {
            v.value.is_finite() && v.value > 0.0
        };
        if !ok {
            ck.err(
                f,
                v.referenced,
                format!("the bar of `{name}` is out of range: {}", v.value),
                Some(if name.ends_with("Rate") {
                    "a rate is in [0, 1]".into()
                } else {
                    "a latency is a positive number of milliseconds".into()
                }),
            );
        }
        bars[i] = Some(v.value);
    }
    // Rule: every criterion has a bar (the report judges all of them).
    for (i, n) in named.iter().enumerate() {
        if !n {
            let (name, _, is_min) = CRITERIA[i];
            ck.err(
                f,
                c.referenced,
                format!("criterion `{name}` has no bar"),
                Some(format!(
                    "add `{name}: {{ {}: <value> }}`",
                    if is_min { "min" } else { "max" }
                )),
            );
        }
    }
    out.criteria = bars.into_iter().map(|b| b.unwrap_or(0.0)).collect();
}

fn bounded(ck: &mut Ck, v: &S<i64>, what: &str, max: i64) -> u32 {
    // Rule: windows are whole positive numbers within their bound.
    if v.value < 1 || v.value > max {
        ck.err(
            load::LEARNING,
            v.referenced,
            format!("{what} must be from 1 to {max}, not {}", v.value),
            None,
        );
        return 1;
    }
    v.value as u32
}
