//! The shipped policy compiles and matches CONTRACT.md.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn shipped_policy_compiles() {
    let g = match sf_codegen::compile(root()) {
        Ok(g) => g,
        Err(d) => panic!("{d}"),
    };
    if std::env::var_os("SF_DUMP").is_some() {
        println!("{}", g.source());
        println!(
            "{}",
            serde_json::to_string_pretty(&g.policy.explain_json()).unwrap_or_default()
        );
    }
    assert!(g.policy.version.starts_with("pol-"));
    assert_eq!(g.policy.version.len(), 20);
}

#[test]
fn the_same_policy_compiles_from_memory() {
    let g = match sf_codegen::compile(root()) {
        Ok(g) => g,
        Err(d) => panic!("{d}"),
    };
    let files: Vec<(&str, &str)> = g
        .sources
        .files
        .iter()
        .map(|f| (f.rel.as_str(), f.text.as_str()))
        .collect();
    // Every policy file, plus the prompt files prompts.yaml names.
    for want in sf_codegen::load::FILES {
        assert!(
            files.iter().any(|(rel, _)| *rel == want),
            "{want} not in sources"
        );
    }
    let m = match sf_codegen::compile_sources(&files) {
        Ok(m) => m,
        Err(d) => panic!("{d}"),
    };
    assert_eq!(m.policy.version, g.policy.version);
    assert_eq!(m.tokens.to_string(), g.tokens.to_string());
    // A file missing from memory is reported like a missing file on disk.
    let Err(d) = sf_codegen::compile_sources(&files[1..]) else {
        panic!("must fail without agents.yaml")
    };
    assert_eq!(d.0[0].file, "agents.yaml", "{d}");
}

#[test]
fn the_expansion_embeds_the_sources_by_absolute_path() {
    let g = match sf_codegen::compile(root()) {
        Ok(g) => g,
        Err(d) => panic!("{d}"),
    };
    let text = g.expanded().to_string();
    assert!(text.contains("SOURCES"));
    for f in &g.sources.files {
        assert!(f.abs.is_absolute());
        let abs = f.abs.to_string_lossy();
        assert!(text.contains(abs.as_ref()), "{abs} is not embedded");
    }
    // The formatted copy is the same on every machine.
    assert!(!g.source().contains(root().to_string_lossy().as_ref()));
}

/// Every broken fixture still yields a skeleton that is valid Rust and
/// declares the types a crate using the policy names.
#[test]
fn every_broken_policy_yields_a_parseable_skeleton() {
    let dir = root().join("fixtures/policy/invalid");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        // These two fail in Rust (a job without a runner, a kind without a
        // consumer); their policy is sound.
        let name = e.file_name().to_string_lossy().into_owned();
        if ["job_without_runner", "kind_without_consumer"].contains(&name.as_str()) {
            continue;
        }
        let Err(f) = sf_codegen::compile_or_skeleton(&e.path()) else {
            panic!("{} compiled", e.path().display())
        };
        assert!(!f.diagnostics.is_empty());
        let file = match syn::parse2::<syn::File>(f.skeleton) {
            Ok(file) => file,
            Err(err) => panic!("{}: {err}", e.path().display()),
        };
        let names: Vec<String> = file
            .items
            .iter()
            .filter_map(|i| match i {
                syn::Item::Enum(x) => Some(x.ident.to_string()),
                syn::Item::Struct(x) => Some(x.ident.to_string()),
                syn::Item::Trait(x) => Some(x.ident.to_string()),
                syn::Item::Const(x) => Some(x.ident.to_string()),
                _ => None,
            })
            .collect();
        for want in [
            "Agent",
            "Profile",
            "Provider",
            "Model",
            "Route",
            "Budget",
            "RouteHandlers",
            "POLICY_VERSION",
            "SOURCES",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{}: no {want}",
                e.path().display()
            );
        }
        n += 1;
    }
    assert!(n >= 20, "only {n} fixtures");
}
