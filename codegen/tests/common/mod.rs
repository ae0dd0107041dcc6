//! The shipped policy compiled from memory with one file changed: how the
//! rule tests try a mistake without a fixture directory.

use std::path::Path;

/// The repository root (the shipped policy).
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Compiles the shipped policy (and its prompt files) with `old` replaced by
/// `new` in `file`, where `old` must occur exactly once.
pub fn shipped_with(
    file: &str,
    old: &str,
    new: &str,
) -> Result<sf_codegen::Generated, sf_codegen::Diagnostics> {
    let mut files: Vec<(String, String)> = sf_codegen::load::FILES
        .iter()
        .map(|rel| {
            let text = std::fs::read_to_string(root().join(rel)).expect("policy file");
            if *rel == file {
                assert_eq!(text.matches(old).count(), 1, "`{old}` must occur once");
                ((*rel).to_owned(), text.replace(old, new))
            } else {
                ((*rel).to_owned(), text)
            }
        })
        .collect();
    for e in std::fs::read_dir(root().join("policy/prompts"))
        .expect("policy/prompts")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(e.path()).expect("prompt file");
        files.push((format!("policy/prompts/{name}"), text));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(r, t)| (r.as_str(), t.as_str()))
        .collect();
    sf_codegen::compile_sources(&refs)
}
