//! Operational log lines from the core, routed to wherever the host can show them.
//!
//! `eprintln!` works natively but goes nowhere on `wasm32-unknown-unknown`
//! (the Worker): there, only `console.log`/`console.error` reach `wrangler tail`
//! and Workers Logs. Hosts install a sink once; without one, lines go to stderr.
//! Use [`crate::sf_log!`] like `eprintln!`. Never log grants or secrets.

use std::cell::Cell;

thread_local! {
    static SINK: Cell<Option<fn(&str)>> = const { Cell::new(None) };
}

/// Installs the sink for this thread (the Worker's isolate, a native runtime thread).
pub fn set_sink(sink: fn(&str)) {
    SINK.with(|s| s.set(Some(sink)));
}

/// Writes one line through the installed sink (stderr when none is installed).
pub fn emit(line: &str) {
    match SINK.with(Cell::get) {
        Some(sink) => sink(line),
        None => eprintln!("{line}"),
    }
}

/// `eprintln!` that also reaches the Worker's logs: `sf_log!("queue {q}: {why}")`.
#[macro_export]
macro_rules! sf_log {
    ($($arg:tt)*) => {
        $crate::logsink::emit(&::std::format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    thread_local! {
        static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn capture(line: &str) {
        SEEN.with(|s| s.borrow_mut().push(line.to_owned()));
    }

    #[test]
    fn lines_go_to_the_installed_sink() {
        super::set_sink(capture);
        crate::sf_log!("job {} ran {}x", "retention", 2);
        SEEN.with(|s| assert_eq!(*s.borrow(), vec!["job retention ran 2x".to_owned()]));
    }
}
