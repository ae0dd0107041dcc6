//! San Francisco's interaction records: the event each execute leaves
//! ([`events`]: building, queueing, filing into R2 and the D1 index, dead-letter
//! redaction), the outcomes Bob and Paris report ([`outcome`]), the raw-log
//! retention job ([`retention`]) and the scoring job ([`score`]).

pub mod arms;
pub mod events;
pub mod failures;
pub mod metrics;
pub mod outcome;
pub mod retention;
pub mod score;
