//! The checks every case module uses: a case's result and the one-line
//! assertion that turns a failed condition into its message.

/// A case passes with `Ok`, or fails with what it saw.
pub type CaseResult = Result<(), String>;

/// `Ok` when `cond` holds, else the message `what` builds.
pub fn ensure(cond: bool, what: impl FnOnce() -> String) -> CaseResult {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}
