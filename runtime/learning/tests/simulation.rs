//! The winner rule on synthetic outcome streams, 200 simulated A/B tests per
//! scenario with fixed seeds: true rates 0.30 vs 0.40 (the better arm must
//! win in >= 95%), and 0.35 vs 0.35 (a winner in <= 5%). Sessions are
//! assigned with `Experiment::assign`; the rule is evaluated after every
//! outcome (peeking at every step is what it must survive).

use std::fmt::Write as _;

use sf_learning::{decide, Config, Decision, Experiment, Tally};

/// SplitMix64: a fixed, dependency-free generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TESTS: u64 = 200;
/// Sessions per simulated test before it gives up without a decision.
const HORIZON: u64 = 10_000;

/// (winner, sessions used) of one simulated test.
fn simulate(seed: u64, rates: [f64; 2], c: &Config) -> (Option<usize>, u64) {
    let mut rng = Rng(seed);
    let e = Experiment {
        id: format!("sim-{seed}"),
        arms: vec!["v1".into(), "v2".into()],
    };
    let mut t = [Tally::default(); 2];
    let mut session = String::new();
    for n in 1..=HORIZON {
        session.clear();
        let _ = write!(session, "s{:x}", rng.next());
        let arm = e.assign(&session).unwrap_or(0);
        t[arm].record(rng.unit() < rates[arm]);
        if let Decision::Winner(w) = decide(&t, c) {
            return (Some(w), n);
        }
    }
    (None, HORIZON)
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

#[test]
fn better_arm_wins_and_equal_arms_rarely_declare() {
    let c = Config::default();
    let mut wins = 0;
    let mut wrong = 0;
    let mut samples = Vec::new();
    for seed in 1..=TESTS {
        let (w, n) = simulate(seed, [0.30, 0.40], &c);
        match w {
            Some(1) => {
                wins += 1;
                samples.push(n);
            }
            Some(_) => wrong += 1,
            None => {}
        }
    }
    let mut false_pos = 0;
    for seed in 1_001..=1_000 + TESTS {
        if simulate(seed, [0.35, 0.35], &c).0.is_some() {
            false_pos += 1;
        }
    }
    let med = median(samples);
    println!(
        "0.30 vs 0.40: better arm won {wins}/{TESTS}, wrong arm {wrong}, median sessions to decision {med}; \
         0.35 vs 0.35: a winner in {false_pos}/{TESTS} (horizon {HORIZON} sessions, {c:?})"
    );
    assert!(wins * 100 >= 95 * TESTS, "{wins}/{TESTS}");
    assert!(false_pos * 100 <= 5 * TESTS, "{false_pos}/{TESTS}");
}
