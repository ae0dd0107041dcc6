//! The policy compiler: `agents.yaml` + `policy/*.yaml` -> typed Rust items.
//!
//! Three stages: [`raw`] (serde structs with a source location on every value),
//! [`check`] (every cross-file rule, all errors collected), [`emit`] (`quote!`).
//! Errors are [`Diagnostics`] rendered like rustc's, with paths relative to the
//! policy root. Nothing here panics on policy input. A broken policy still
//! yields a [`skeleton`] of the generated items, so the macro's one error
//! for one mistake is not followed by a cascade in the including crate.

pub mod check;
pub mod diag;
pub mod emit;
pub mod ident;
pub mod load;
pub mod model;
pub mod ops;
pub mod raw;
pub mod raw_ops;
#[cfg(feature = "schema")]
pub mod schema;
pub mod skeleton;
pub mod vars;

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;

pub use diag::{Diagnostic, Diagnostics};
pub use model::Policy;

/// The compiled policy.
pub struct Generated {
    /// The items of the generated policy module, except [`Generated::sources_item`].
    pub tokens: TokenStream,
    /// The checked policy (for `sf policy explain`).
    pub policy: Policy,
    /// Absolute paths of every file read, for rebuild tracking (relative
    /// paths when compiled from memory).
    pub inputs: Vec<PathBuf>,
    /// The policy files compiled, as read.
    pub sources: load::Sources,
}

impl Generated {
    /// `SOURCES`: every policy file as (path relative to the policy root,
    /// text). Files read from disk are embedded with `include_str!` of their
    /// absolute path, which also makes cargo rebuild when one changes; files
    /// compiled from memory are embedded as literals.
    pub fn sources_item(&self) -> TokenStream {
        let files: Vec<(&str, TokenStream)> = self
            .sources
            .files
            .iter()
            .map(|f| {
                let text = match f.abs.to_str() {
                    Some(abs) if f.abs.is_absolute() => quote!(::core::include_str!(#abs)),
                    _ => {
                        let t = &f.text;
                        quote!(#t)
                    }
                };
                (f.rel.as_str(), text)
            })
            .collect();
        emit::sources(&files)
    }

    /// Everything `include_policy!` expands to on success.
    pub fn expanded(&self) -> TokenStream {
        let items = &self.tokens;
        let sources = self.sources_item();
        quote!(#items #sources)
    }

    /// The generated code, formatted for people. Deterministic: `SOURCES`
    /// shows `include_str!("<policy root>/...")` instead of this machine's
    /// absolute paths. (Falls back to the raw token text if it does not
    /// parse, which would be a generator bug.)
    pub fn source(&self) -> String {
        let files: Vec<(&str, TokenStream)> = self
            .sources
            .files
            .iter()
            .map(|f| {
                let shown = format!("<policy root>/{}", f.rel);
                (f.rel.as_str(), quote!(::core::include_str!(#shown)))
            })
            .collect();
        let items = &self.tokens;
        let sources = emit::sources(&files);
        let all = quote!(#items #sources);
        match syn::parse2::<syn::File>(all.clone()) {
            Ok(f) => prettyplease::unparse(&f),
            Err(_) => all.to_string(),
        }
    }
}

/// A policy that does not compile: its diagnostics, and the skeleton of the
/// generated items to emit next to them.
pub struct Failure {
    pub diagnostics: Diagnostics,
    /// Type-correct placeholder items (see [`skeleton`]), `SOURCES` included.
    pub skeleton: TokenStream,
}

/// Loads, checks and emits the policy under `root`.
pub fn compile(root: &Path) -> Result<Generated, Diagnostics> {
    let sources = load::read_sources(root)?;
    run(sources).map_err(|(d, _)| d)
}

/// [`compile`] from `(relative path, text)` pairs instead of files (e.g. the
/// generated `SOURCES` of a binary). Paths are those of [`load::FILES`].
pub fn compile_sources(files: &[(&str, &str)]) -> Result<Generated, Diagnostics> {
    let sources = load::memory_sources(files)?;
    run(sources).map_err(|(d, _)| d)
}

/// [`compile`], with a skeleton of the generated items on failure.
pub fn compile_or_skeleton(root: &Path) -> Result<Generated, Failure> {
    let failure = |diagnostics: Diagnostics, partial: Option<Box<Policy>>| {
        let items = skeleton::skeleton(partial.map(|p| *p));
        let sources = emit::sources(&[]);
        Failure {
            diagnostics,
            skeleton: quote!(#items #sources),
        }
    };
    let sources = load::read_sources(root).map_err(|d| failure(d, None))?;
    run(sources).map_err(|(d, partial)| failure(d, partial))
}

/// Parses, checks and emits; on failure, the policy as far as it was checked
/// (`None` when a file did not parse).
fn run(sources: load::Sources) -> Result<Generated, (Diagnostics, Option<Box<Policy>>)> {
    let raw = check::parse_all(&sources).map_err(|d| (d, None))?;
    let (policy, errs) = check::check_partial(&sources, &raw);
    if !errs.is_empty() {
        return Err((Diagnostics(errs), Some(Box::new(policy))));
    }
    let tokens = emit::emit(&policy);
    Ok(Generated {
        tokens,
        policy,
        inputs: sources.files.iter().map(|s| s.abs.clone()).collect(),
        sources,
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
