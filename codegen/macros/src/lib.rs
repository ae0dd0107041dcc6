//! `include_policy!("<dir>")`: the policy compiler at the macro edge.
//!
//! `<dir>` is relative to the invoking crate's `CARGO_MANIFEST_DIR`, or
//! absolute, or starts with `$NAME/` to be relative to the directory in the
//! environment variable `NAME` (trybuild fixtures use this). Expands to the
//! items of the generated policy API (with `SOURCES`, the policy files it was
//! compiled from), or to one `compile_error!` per policy problem, each naming
//! the YAML file, line and column, next to a skeleton of the same items so the
//! crate using them reports nothing else.

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use quote::quote;

#[proc_macro]
pub fn include_policy(input: TokenStream) -> TokenStream {
    let lit = match syn::parse::<syn::LitStr>(input) {
        Ok(l) => l,
        Err(e) => return e.to_compile_error().into(),
    };
    let root = match resolve_root(&lit.value()) {
        Ok(r) => r,
        Err(msg) => return syn::Error::new(lit.span(), msg).to_compile_error().into(),
    };
    // On success `SOURCES` embeds every file with include_str!, which makes
    // cargo rebuild the invoking crate whenever one of them changes. After a
    // failed build include_bytes! of the files that exist does the same.
    let track = |files: &[PathBuf]| {
        let paths = files.iter().filter_map(|p| p.to_str());
        quote! { #( const _: &[u8] = include_bytes!(#paths); )* }
    };
    match sf_codegen::compile_or_skeleton(&root) {
        Ok(g) => g.expanded().into(),
        Err(failure) => {
            let tracking = track(&sf_codegen::input_files(&root));
            let errors = failure.diagnostics.iter().map(|d| {
                let text = d.render_for_rustc();
                quote!(::core::compile_error! { #text })
            });
            let skeleton = failure.skeleton;
            quote!(#tracking #( #errors )* #skeleton).into()
        }
    }
}

fn resolve_root(arg: &str) -> Result<PathBuf, String> {
    if let Some(rest) = arg.strip_prefix('$') {
        let (var, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let base = std::env::var(var)
            .map_err(|_| format!("include_policy!: environment variable `{var}` is not set"))?;
        return Ok(Path::new(&base).join(tail));
    }
    let p = Path::new(arg);
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        "include_policy!: CARGO_MANIFEST_DIR is not set; pass an absolute path".to_string()
    })?;
    Ok(Path::new(&dir).join(p))
}
