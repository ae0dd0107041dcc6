//! Budget counter state and its small JSON RPC, with no JavaScript in it.
//!
//! The Durable Object (`durable.rs`) keeps one [`CounterState`] per grant key and
//! applies [`CounterState::reserve`] / [`CounterState::adjust`] to it. Keeping the
//! arithmetic here lets it be unit-tested natively; the object only loads, calls
//! and stores, all synchronously, which is what makes a reservation atomic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Lifetime of a key first created by `adjust` (no reservation told us its expiry).
pub const ADJUST_DEFAULT_TTL_MS: u64 = 24 * 3600 * 1000;

/// Lane values of one key and the instant the key stops counting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    pub lanes: BTreeMap<String, i64>,
    /// Epoch ms; at or after it the key reads as zeros. 0 = nothing reserved yet.
    #[serde(rename = "expiresAtMs")]
    pub expires_at_ms: u64,
}

/// One lane of a reservation, owned so it can cross the RPC boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneReserve {
    pub lane: String,
    pub amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<i64>,
}

/// What the gateway asks the object to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum CounterRequest {
    Reserve {
        lanes: Vec<LaneReserve>,
        #[serde(rename = "expiresAtMs")]
        expires_at_ms: u64,
    },
    Adjust {
        lane: String,
        delta: i64,
    },
    Read {
        lane: String,
    },
}

/// The object's answer: `granted` for reserve, `value` for read, neither for adjust.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

impl CounterState {
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms
    }

    /// Forgets everything once the key has expired, so stale counts never leak
    /// into the next budget window.
    fn refresh(&mut self, now_ms: u64) {
        if self.is_expired(now_ms) && (!self.lanes.is_empty() || self.expires_at_ms != 0) {
            *self = CounterState::default();
        }
    }

    /// All-or-nothing: every lane is increased, or (if any would pass its
    /// ceiling) nothing changes. A lane named twice counts both amounts.
    /// On success the key lives until the later of its current and the new expiry.
    pub fn reserve(&mut self, lanes: &[LaneReserve], expires_at_ms: u64, now_ms: u64) -> bool {
        self.refresh(now_ms);
        let mut next: BTreeMap<&str, i64> = BTreeMap::new();
        for l in lanes {
            let current = match next.get(l.lane.as_str()) {
                Some(v) => *v,
                None => self.lanes.get(&l.lane).copied().unwrap_or(0),
            };
            let value = current.saturating_add(l.amount);
            if matches!(l.ceiling, Some(c) if value > c) {
                return false;
            }
            next.insert(&l.lane, value);
        }
        for (lane, value) in next {
            self.lanes.insert(lane.to_owned(), value);
        }
        self.expires_at_ms = self.expires_at_ms.max(expires_at_ms);
        true
    }

    /// Unconditional add. A key that is expired or was never reserved starts a
    /// fresh window of [`ADJUST_DEFAULT_TTL_MS`], as on the native host
    /// (runtime/server/src/counter.rs), so both hosts count the same.
    pub fn adjust(&mut self, lane: &str, delta: i64, now_ms: u64) {
        self.refresh(now_ms);
        if self.is_expired(now_ms) {
            self.expires_at_ms = now_ms.saturating_add(ADJUST_DEFAULT_TTL_MS);
        }
        let v = self.lanes.entry(lane.to_owned()).or_insert(0);
        *v = v.saturating_add(delta);
    }

    pub fn read(&self, lane: &str, now_ms: u64) -> i64 {
        if self.is_expired(now_ms) {
            return 0;
        }
        self.lanes.get(lane).copied().unwrap_or(0)
    }

    /// Applies one RPC request and returns the reply. `changed` tells the
    /// caller whether the state must be written back.
    pub fn apply(&mut self, req: &CounterRequest, now_ms: u64) -> (CounterReply, bool) {
        match req {
            CounterRequest::Reserve {
                lanes,
                expires_at_ms,
            } => {
                let before = self.clone();
                let granted = self.reserve(lanes, *expires_at_ms, now_ms);
                let changed = *self != before;
                (
                    CounterReply {
                        granted: Some(granted),
                        value: None,
                    },
                    changed,
                )
            }
            CounterRequest::Adjust { lane, delta } => {
                let before = self.clone();
                self.adjust(lane, *delta, now_ms);
                let changed = *self != before;
                (CounterReply::default(), changed)
            }
            CounterRequest::Read { lane } => (
                CounterReply {
                    granted: None,
                    value: Some(self.read(lane, now_ms)),
                },
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(name: &str, amount: i64, ceiling: Option<i64>) -> LaneReserve {
        LaneReserve {
            lane: name.to_owned(),
            amount,
            ceiling,
        }
    }

    #[test]
    fn reserve_counts_up_to_the_ceiling_then_refuses() {
        let mut s = CounterState::default();
        let req = [lane("requests", 1, Some(3))];
        assert!(s.reserve(&req, 10_000, 1_000));
        assert!(s.reserve(&req, 10_000, 1_001));
        assert!(s.reserve(&req, 10_000, 1_002));
        assert!(!s.reserve(&req, 10_000, 1_003));
        assert_eq!(s.read("requests", 1_004), 3);
    }

    #[test]
    fn reserve_is_all_or_nothing_across_lanes() {
        let mut s = CounterState::default();
        assert!(s.reserve(
            &[
                lane("requests", 1, Some(5)),
                lane("micro_usd", 900, Some(1000))
            ],
            10_000,
            0
        ));
        let before = s.clone();
        // requests would fit, cost would not: neither lane may move.
        assert!(!s.reserve(
            &[
                lane("requests", 1, Some(5)),
                lane("micro_usd", 200, Some(1000))
            ],
            10_000,
            1
        ));
        assert_eq!(s, before);
        assert_eq!(s.read("requests", 2), 1);
        assert_eq!(s.read("micro_usd", 2), 900);
    }

    #[test]
    fn a_lane_named_twice_counts_both_amounts() {
        let mut s = CounterState::default();
        assert!(!s.reserve(&[lane("a", 2, Some(3)), lane("a", 2, Some(3))], 10, 0));
        assert_eq!(s.read("a", 1), 0);
        assert!(s.reserve(&[lane("a", 1, Some(3)), lane("a", 2, Some(3))], 10, 0));
        assert_eq!(s.read("a", 1), 3);
    }

    #[test]
    fn no_ceiling_always_adds() {
        let mut s = CounterState::default();
        assert!(s.reserve(&[lane("tokens", i64::MAX, None)], 10, 0));
        assert!(s.reserve(&[lane("tokens", 5, None)], 10, 0));
        assert_eq!(
            s.read("tokens", 1),
            i64::MAX,
            "saturates instead of wrapping"
        );
    }

    #[test]
    fn expired_key_reads_as_zero_and_starts_over() {
        let mut s = CounterState::default();
        assert!(s.reserve(&[lane("requests", 3, Some(3))], 5_000, 1_000));
        assert_eq!(s.read("requests", 4_999), 3);
        assert_eq!(s.read("requests", 5_000), 0);
        assert!(s.reserve(&[lane("requests", 1, Some(3))], 9_000, 5_000));
        assert_eq!(s.read("requests", 5_001), 1);
        assert_eq!(s.expires_at_ms, 9_000);
    }

    #[test]
    fn expiry_only_moves_forward() {
        let mut s = CounterState::default();
        assert!(s.reserve(&[lane("r", 1, None)], 9_000, 0));
        assert!(s.reserve(&[lane("r", 1, None)], 5_000, 1));
        assert_eq!(s.expires_at_ms, 9_000);
    }

    #[test]
    fn adjust_settles_a_live_key_and_restarts_a_dead_one_for_a_day() {
        let mut s = CounterState::default();
        assert!(s.reserve(&[lane("micro_usd", 1000, Some(2000))], 10_000, 0));
        s.adjust("micro_usd", -700, 1);
        assert_eq!(s.read("micro_usd", 2), 300);
        assert_eq!(s.expires_at_ms, 10_000, "settling keeps the window");
        // Past the window: the old 300 is gone, the delta starts a fresh one-day window.
        s.adjust("micro_usd", 5, 10_000);
        assert_eq!(s.read("micro_usd", 10_001), 5);
        assert_eq!(s.expires_at_ms, 10_000 + ADJUST_DEFAULT_TTL_MS);
        let mut fresh = CounterState::default();
        fresh.adjust("requests", 2, 50);
        assert_eq!(fresh.read("requests", 51), 2);
        assert_eq!(fresh.read("requests", 50 + ADJUST_DEFAULT_TTL_MS), 0);
    }

    #[test]
    fn rpc_round_trip_and_change_tracking() {
        let raw = r#"{"op":"reserve","lanes":[{"lane":"requests","amount":1,"ceiling":2}],"expiresAtMs":100}"#;
        let req: CounterRequest = serde_json::from_str(raw).unwrap();
        let mut s = CounterState::default();
        let (reply, changed) = s.apply(&req, 10);
        assert!(changed);
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            r#"{"granted":true}"#
        );
        let (_, changed) = s.apply(&req, 11);
        assert!(changed);
        let (reply, changed) = s.apply(&req, 12);
        assert!(!changed, "a refused reservation writes nothing");
        assert_eq!(reply.granted, Some(false));
        let read: CounterRequest =
            serde_json::from_str(r#"{"op":"read","lane":"requests"}"#).unwrap();
        let (reply, changed) = s.apply(&read, 13);
        assert!(!changed);
        assert_eq!(serde_json::to_string(&reply).unwrap(), r#"{"value":2}"#);
        let adj: CounterRequest =
            serde_json::from_str(r#"{"op":"adjust","lane":"requests","delta":-1}"#).unwrap();
        let (reply, changed) = s.apply(&adj, 14);
        assert!(changed);
        assert_eq!(serde_json::to_string(&reply).unwrap(), "{}");
        assert_eq!(s.read("requests", 15), 1);
    }

    #[test]
    fn stored_state_format_is_stable() {
        let mut s = CounterState::default();
        assert!(s.reserve(&[lane("requests", 2, None)], 77, 0));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"lanes":{"requests":2},"expiresAtMs":77}"#
        );
    }
}
