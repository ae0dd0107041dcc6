//! Namespaces of declared names and fixed vocabularies: the rules every
//! kind of name shares (no empty, duplicate or colliding names; references
//! must resolve).

use std::collections::HashMap;

use serde_saphyr::Location;

use super::Ck;
use crate::diag::unknown_help;
use crate::raw::S;

/// A namespace of declared names: detects duplicates and Rust-identifier
/// collisions, and resolves references with did-you-mean help.
pub(super) struct Names {
    kind: &'static str,
    file: &'static str,
    pub(super) names: Vec<String>,
    locs: Vec<Location>,
    idents: HashMap<String, usize>,
}

impl Names {
    pub(super) fn new(kind: &'static str, file: &'static str) -> Self {
        Names {
            kind,
            file,
            names: Vec::new(),
            locs: Vec::new(),
            idents: HashMap::new(),
        }
    }

    /// Declares `name`; returns its index, or `None` (after reporting) when it
    /// is a duplicate or collides with another name's Rust identifier.
    pub(super) fn declare(
        &mut self,
        ck: &mut Ck,
        name: &S<String>,
        ident: Option<String>,
    ) -> Option<usize> {
        let n = name.value.as_str();
        let loc = name.referenced;
        // Rule: no empty name (it would make no Rust variant and match nothing).
        if n.trim().is_empty() {
            ck.err(
                self.file,
                loc,
                format!("empty {} name", self.kind),
                Some("give it a name".to_string()),
            );
            return None;
        }
        // Rule: no name declared twice (a lookup would silently take one of them).
        if let Some(i) = self.names.iter().position(|x| x == n) {
            let first = self.locs[i];
            ck.err(
                self.file,
                loc,
                format!("duplicate {} `{n}`", self.kind),
                Some(format!(
                    "`{n}` is already declared at {}:{}:{}; remove or rename one of them",
                    self.file,
                    first.line(),
                    first.column()
                )),
            );
            return None;
        }
        // Rule: every name makes a Rust identifier (no keyword, no stray punctuation).
        let Some(ident) = ident else {
            ck.err(
                self.file,
                loc,
                format!("{} name `{n}` does not make a Rust identifier", self.kind),
                Some(
                    "use letters and digits, separated by `.`, `-` or `_`, and not a Rust keyword"
                        .to_string(),
                ),
            );
            return None;
        };
        // Rule: no two names that differ only in case or punctuation (one Rust name for both).
        if let Some(&i) = self.idents.get(&ident) {
            let other = self.names[i].clone();
            let first = self.locs[i];
            ck.err(
                self.file,
                loc,
                format!("{} names `{other}` and `{n}` both become the Rust name `{ident}`", self.kind),
                Some(format!(
                    "rename one of them so they differ in more than punctuation or case (`{other}` is at {}:{}:{})",
                    self.file,
                    first.line(),
                    first.column()
                )),
            );
            return None;
        }
        self.idents.insert(ident, self.names.len());
        self.names.push(n.to_string());
        self.locs.push(loc);
        Some(self.names.len() - 1)
    }

    pub(super) fn find(&self, n: &str) -> Option<usize> {
        self.names.iter().position(|x| x == n)
    }

    /// Resolves a reference in `file`, reporting an unknown name.
    pub(super) fn resolve(&self, ck: &mut Ck, file: &str, r: &S<String>) -> Option<usize> {
        let found = self.find(&r.value);
        // Rule: every reference names something declared (a typo is caught at build, not at run time).
        if found.is_none() {
            let known: Vec<&str> = self.names.iter().map(String::as_str).collect();
            ck.err(
                file,
                r.referenced,
                format!("unknown {} `{}`", self.kind, r.value),
                Some(format!(
                    "{} (declared in {})",
                    unknown_help(&r.value, self.kind, &known),
                    self.file
                )),
            );
        }
        found
    }
}

pub(super) fn pick<T: Copy>(
    table: &[(&'static str, T)],
    ck: &mut Ck,
    file: &str,
    kind: &str,
    v: &S<String>,
) -> Option<T> {
    if let Some((_, t)) = table.iter().find(|(n, _)| *n == v.value) {
        return Some(*t);
    }
    // Rule: a fixed vocabulary value (protocol, surface, auth scheme, HTTP method) is one the runtime knows.
    let known: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    let help = match crate::diag::did_you_mean(&v.value, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "use one of: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    ck.err(
        file,
        v.referenced,
        format!("unknown {kind} `{}`", v.value),
        Some(help),
    );
    None
}
