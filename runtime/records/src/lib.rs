//! San Francisco's interaction records: the event each execute leaves
//! ([`events`]: building, queueing, filing into R2 and the D1 index, dead-letter
//! redaction), the outcomes Bob and Paris report ([`outcome`]), and the raw-log
//! retention job ([`retention`]).

pub mod events;
pub mod outcome;
pub mod retention;
