//! Engine-level tests (filled below).
