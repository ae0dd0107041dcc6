//! The Random port: the operating system's CSPRNG.

use sf_core::ports::Random;

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeRandom;

impl Random for NativeRandom {
    fn fill(&self, buf: &mut [u8]) {
        if let Err(e) = getrandom::getrandom(buf) {
            // Grants, request ids and job ids depend on this; continuing with
            // predictable bytes would be worse than stopping.
            eprintln!("sf-server: the OS random source failed ({e}); aborting");
            std::process::abort();
        }
    }
}
