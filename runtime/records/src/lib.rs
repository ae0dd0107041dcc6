//! San Francisco's interaction records: the event each execute leaves
//! ([`events`]: building, queueing, filing into R2 and the D1 index, dead-letter
//! redaction), the outcomes Bob and Paris report ([`outcome`]), the raw-log
//! retention job ([`retention`]) and the learning loop: the scoring job
//! ([`score`]), the admin metrics ([`metrics`]) and review queue ([`review`]),
//! the example banks ([`banks`]), the business-outcome marks
//! ([`conversion`]) and the session cleanup ([`cleanup`]).

pub mod banks;
pub mod cleanup;
pub mod conversion;
pub mod events;
pub mod metrics;
pub mod outcome;
pub mod retention;
pub mod review;
pub mod score;
