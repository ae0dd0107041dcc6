//! Experiments over prompt versions (issue 11), the statistics, as pure functions.
//!
//! - [`Experiment::assign`]: an A/B/n split that is sticky per session: the
//!   arm is FNV-1a/64 of the session id modulo the number of arms, so a
//!   session sees one prompt version for its whole life, on any isolate.
//! - [`decide`]: a sequential winner rule that may be evaluated after every
//!   outcome without inflating false positives. Each arm's success rate gets
//!   an always-valid confidence sequence (the two-sided normal-mixture
//!   boundary of Howard, Ramdas, McAuliffe & Sekhon 2021 for a 1/4-sub-Gaussian
//!   Bernoulli mean, with Ville's inequality), at level `alpha / arms`
//!   (Bonferroni). An arm wins when every arm has `min_per_arm` samples and
//!   its lower bound is above every other arm's upper bound. If all arms are
//!   equal, a winner needs some sequence to miss the true rate at some time,
//!   which happens with probability at most `alpha`, however often one looks.

/// A running tally of one arm's outcomes (success = the interaction scored
/// as a success, e.g. kept or converted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub trials: u64,
    pub successes: u64,
}

impl Tally {
    pub fn record(&mut self, success: bool) {
        self.trials += 1;
        self.successes += u64::from(success);
    }
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }
}

/// The winner rule's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Probability bound of declaring any winner when all arms are equal.
    pub alpha: f64,
    /// No decision before every arm has this many trials.
    pub min_per_arm: u64,
    /// Mixture precision: the boundary is tightest near `4 * rho * ~10` trials
    /// per arm. Use [`Config::tuned_for`].
    pub rho: f64,
}

impl Config {
    /// Settings tightest around `n` trials per arm.
    pub fn tuned_for(alpha: f64, min_per_arm: u64, n: u64) -> Config {
        let l = (1.0 / alpha).ln();
        let v = n as f64 / 4.0;
        Config {
            alpha,
            min_per_arm,
            rho: (v / (2.0 * l + (1.0 + 2.0 * l).ln())).max(1.0),
        }
    }
}

impl Default for Config {
    /// alpha 0.05, 100 trials per arm at least, tuned for ~1500 per arm.
    fn default() -> Self {
        Config::tuned_for(0.05, 100, 1500)
    }
}

/// The confidence sequence of one arm at level `alpha`: (lower, upper) of
/// its rate, valid simultaneously for every number of trials.
pub fn interval(t: &Tally, alpha: f64, rho: f64) -> (f64, f64) {
    if t.trials == 0 || !(alpha > 0.0 && alpha < 1.0) || rho <= 0.0 {
        return (0.0, 1.0);
    }
    let n = t.trials as f64;
    let v = n / 4.0 + rho;
    let radius = (v * (v / (rho * alpha * alpha)).ln()).max(0.0).sqrt() / n;
    let mean = t.successes as f64 / n;
    ((mean - radius).max(0.0), (mean + radius).min(1.0))
}

/// What the rule says now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep collecting.
    Continue,
    /// This arm is better than every other one.
    Winner(usize),
}

/// The winner rule; call it as often as you like.
pub fn decide(arms: &[Tally], c: &Config) -> Decision {
    if arms.len() < 2 || arms.iter().any(|t| t.trials < c.min_per_arm.max(1)) {
        return Decision::Continue;
    }
    let a = c.alpha / arms.len() as f64;
    let cs: Vec<(f64, f64)> = arms.iter().map(|t| interval(t, a, c.rho)).collect();
    for (i, (lo, _)) in cs.iter().enumerate() {
        if cs.iter().enumerate().all(|(j, (_, hi))| j == i || lo > hi) {
            return Decision::Winner(i);
        }
    }
    Decision::Continue
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// An A/B/n test of prompt versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Names the split (part of the hash, so two experiments split independently).
    pub id: String,
    /// The prompt versions under test.
    pub arms: Vec<String>,
}

impl Experiment {
    /// The arm of a session: the same session always gets the same arm.
    /// `None` when there are no arms.
    pub fn assign(&self, session_id: &str) -> Option<usize> {
        if self.arms.is_empty() {
            return None;
        }
        let h = fnv1a64(&format!("{}\u{0}{}", self.id, session_id));
        Some((h % self.arms.len() as u64) as usize)
    }

    /// The prompt version of a session.
    pub fn version_for(&self, session_id: &str) -> Option<&str> {
        self.assign(session_id).map(|i| self.arms[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_sticky_and_roughly_even() {
        let e = Experiment {
            id: "sdr-prompt".into(),
            arms: vec!["v1".into(), "v2".into(), "v3".into()],
        };
        let mut n = [0u32; 3];
        for i in 0..3000 {
            let s = format!("session-{i}");
            let a = e.assign(&s).unwrap_or(9);
            assert_eq!(e.assign(&s), Some(a));
            n[a] += 1;
        }
        assert!(n.iter().all(|c| (850..=1150).contains(c)), "{n:?}");
        let empty = Experiment {
            id: "x".into(),
            arms: vec![],
        };
        assert_eq!(empty.assign("s"), None);
        assert_eq!(fnv1a64(""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn no_decision_below_the_minimum_or_with_one_arm() {
        let c = Config::default();
        let big = Tally {
            trials: 99,
            successes: 99,
        };
        let none = Tally {
            trials: 99,
            successes: 0,
        };
        assert_eq!(decide(&[big, none], &c), Decision::Continue);
        let big = Tally {
            trials: 100,
            successes: 100,
        };
        let none = Tally {
            trials: 100,
            successes: 0,
        };
        assert_eq!(decide(&[big, none], &c), Decision::Winner(0));
        assert_eq!(decide(&[none, big], &c), Decision::Winner(1));
        assert_eq!(decide(&[big], &c), Decision::Continue);
        let (lo, hi) = interval(&Tally::default(), 0.05, 10.0);
        assert_eq!((lo, hi), (0.0, 1.0));
    }
}
