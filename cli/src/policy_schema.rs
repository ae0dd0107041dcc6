//! `sf policy schema`: a JSON Schema (draft 2020-12) per policy file, from
//! the raw structs the loader deserializes (sf-codegen, feature `schema`).
//! The checked-in copies are docs/schemas/*.schema.json, referenced by the
//! `# yaml-language-server: $schema=...` line at the top of each policy file
//! (cli/tests/generated_docs.rs fails when either is stale).

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Map, Value};

use crate::out::{self, Fail, Output};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sf policy schema                      # every schema, one JSON object\n  sf policy schema --out docs/schemas   # one file per policy file\n  sf policy schema --format table"
)]
pub struct SchemaArgs {
    /// Write `<file>.schema.json` per policy file into this directory instead of printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: out::Common,
}

/// `(policy file, schema file name, schema)`.
pub fn all() -> Vec<(&'static str, String, Value)> {
    sf_codegen::schema::schemas()
        .into_iter()
        .map(|(rel, s)| (rel, sf_codegen::schema::schema_file(rel), s.to_value()))
        .collect()
}

/// The schema file as checked in: pretty JSON and a final newline.
pub fn render(schema: &Value) -> String {
    serde_json::to_string_pretty(schema).unwrap_or_default() + "\n"
}

pub fn run(a: SchemaArgs) -> i32 {
    out::finish(a.common.format, schema(a.out))
}

fn schema(dir: Option<PathBuf>) -> Result<Output, Fail> {
    let all = all();
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|(rel, file, s)| {
            let keys = s["properties"]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            vec![(*rel).to_owned(), file.clone(), keys]
        })
        .collect();
    let table = out::grid(&["policy file", "schema", "top-level keys"], &rows);
    match dir {
        None => {
            let files: Map<String, Value> = all
                .into_iter()
                .map(|(rel, _, s)| (rel.to_owned(), s))
                .collect();
            Ok(Output::new(json!({ "schemas": files }), table))
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                Fail::validation(
                    "WRITE_FAILED",
                    format!("cannot create {}: {e}", dir.display()),
                    "choose a writable --out directory",
                )
            })?;
            let mut written = Vec::new();
            for (_, file, s) in &all {
                let p = dir.join(file);
                std::fs::write(&p, render(s)).map_err(|e| {
                    Fail::validation(
                        "WRITE_FAILED",
                        format!("cannot write {}: {e}", p.display()),
                        "choose a writable --out directory",
                    )
                })?;
                written.push(p.display().to_string());
            }
            Ok(Output::new(json!({ "written": written }), table))
        }
    }
}
