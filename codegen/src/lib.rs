//! The policy compiler: `agents.yaml` + `policy/*.yaml` -> typed Rust items.
//!
//! Three stages: [`raw`] (serde structs with a source location on every value),
//! [`check`] (every cross-file rule, all errors collected), [`emit`] (`quote!`).
//! Errors are [`Diagnostics`] rendered like rustc's, with paths relative to the
//! policy root. Nothing here panics on policy input.

pub mod check;
pub mod diag;
pub mod emit;
pub mod ident;
pub mod load;
pub mod model;
pub mod raw;

use std::path::{Path, PathBuf};

pub use diag::{Diagnostic, Diagnostics};
pub use model::Policy;

/// The compiled policy.
pub struct Generated {
    /// The items of `sf_runtime::policy`.
    pub tokens: proc_macro2::TokenStream,
    /// The checked policy (for `sf policy explain`).
    pub policy: Policy,
    /// Absolute paths of every file read, for rebuild tracking.
    pub inputs: Vec<PathBuf>,
}

impl Generated {
    /// The generated code, formatted for people (falls back to the raw token
    /// text if it does not parse, which would be a generator bug).
    pub fn source(&self) -> String {
        match syn::parse2::<syn::File>(self.tokens.clone()) {
            Ok(f) => prettyplease::unparse(&f),
            Err(_) => self.tokens.to_string(),
        }
    }
}

/// Loads, checks and emits the policy under `root`.
pub fn compile(root: &Path) -> Result<Generated, Diagnostics> {
    let sources = load::read_sources(root)?;
    let raw = check::parse_all(&sources)?;
    let policy = check::check(&sources, &raw)?;
    let tokens = emit::emit(&policy);
    Ok(Generated {
        tokens,
        policy,
        inputs: sources.files.iter().map(|s| s.abs.clone()).collect(),
    })
}

/// Absolute paths of the policy files under `root` that exist (following
/// `EXTENDS`), so a failed build still rebuilds when they change.
pub fn input_files(root: &Path) -> Vec<PathBuf> {
    match load::read_sources(root) {
        Ok(s) => s.files.iter().map(|f| f.abs.clone()).collect(),
        Err(_) => load::FILES
            .iter()
            .map(|f| root.join(f))
            .filter(|p| p.is_file())
            .filter_map(|p| p.canonicalize().ok())
            .collect(),
    }
}
