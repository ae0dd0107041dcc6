//! Embeds every `migrations/*.sql` file of the repository into the binary, so
//! `sf serve` applies the same D1 migrations wherever the binary is copied.
//! Generates `$OUT_DIR/migrations.rs`: a sorted `&[(name, sql)]` built from
//! `include_str!` of absolute paths (cargo then tracks each file itself).

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dir = manifest.join("..").join("..").join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());

    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".sql"))
            .collect(),
        // No migrations directory: the host still works, with an empty schema.
        Err(_) => Vec::new(),
    };
    // Wrangler applies files in name order; so do we.
    names.sort();

    let mut out = String::from("&[\n");
    for name in &names {
        let path = dir.join(name);
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push(']');

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = std::fs::write(out_dir.join("migrations.rs"), out) {
        println!("cargo:warning=sf-server: cannot write migrations.rs: {e}");
        std::process::exit(1);
    }
}
