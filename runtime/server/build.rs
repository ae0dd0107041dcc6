//! Embeds every `migrations/*.sql` file of the repository into the binary, so
//! `sf serve` applies the same D1 migrations wherever the binary is copied.
//! Generates `$OUT_DIR/migrations.rs`: a sorted `&[(name, sql)]` built from
//! `include_str!` of absolute paths (cargo then tracks each file itself).
//!
//! Also embeds the admin UI's build (`admin/dist/admin/**`, written by
//! `npm run build` in `admin/`) as `$OUT_DIR/admin_ui.rs`, a sorted
//! `&[(url path, bytes)]`; when it is absent (a fresh clone built with cargo
//! alone) the list is empty and `/admin/` answers a page saying how to build it.

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

    let admin = manifest.join("..").join("..").join("admin");
    let dist = admin.join("dist").join("admin");
    // Watch the build when there is one; else the package directory, so the
    // first `npm run build` (which creates dist/) triggers a rebuild.
    if dist.is_dir() {
        println!("cargo:rerun-if-changed={}", dist.display());
    } else if admin.is_dir() {
        println!("cargo:rerun-if-changed={}", admin.display());
    }
    let mut files = Vec::new();
    collect(&dist, "", &mut files);
    files.sort();
    let mut ui = String::from("&[\n");
    for (url, path) in &files {
        let _ = writeln!(ui, "    ({url:?}, include_bytes!({path:?})),");
    }
    ui.push(']');
    if let Err(e) = std::fs::write(out_dir.join("admin_ui.rs"), ui) {
        println!("cargo:warning=sf-server: cannot write admin_ui.rs: {e}");
        std::process::exit(1);
    }
}

/// Every file under `dir` as (`/admin/<relative path>`, absolute path).
fn collect(dir: &std::path::Path, rel: &str, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        let path = e.path();
        let r = format!("{rel}/{name}");
        if path.is_dir() {
            collect(&path, &r, out);
        } else {
            out.push((format!("/admin{r}"), path.display().to_string()));
        }
    }
}
