//! Text rendered from policy/vars.yaml: the `variables` of `sf policy explain`,
//! `.dev.vars.example` and the "Variables" table of README.md (both checked
//! against the policy by codegen/tests/vars_docs.rs).

use serde_json::{json, Value};

use crate::model::{Policy, VarDef};

/// The markers around the generated table in README.md.
pub const README_BEGIN: &str =
    "<!-- BEGIN vars: generated from policy/vars.yaml; refresh with SF_BLESS=1 cargo test -p sf-codegen --test vars_docs -->";
pub const README_END: &str = "<!-- END vars -->";

impl Policy {
    fn env_list(&self, v: &VarDef) -> Vec<String> {
        v.required_in
            .iter()
            .filter_map(|&i| self.environments.get(i).map(|e| e.name.clone()))
            .collect()
    }

    /// `variables` of `sf policy explain --format json`, in policy order.
    pub fn vars_json(&self) -> Value {
        Value::Array(
            self.vars
                .iter()
                .map(|v| {
                    json!({
                        "name": v.name,
                        "secret": v.secret,
                        "requiredIn": self.env_list(v),
                        "feature": v.feature,
                        "description": v.description,
                        "default": v.default,
                    })
                })
                .collect(),
        )
    }

    /// The text of `.dev.vars.example`: every variable, those required in
    /// `local` (or with an `example`) set, the others commented out.
    pub fn dev_vars_example(&self) -> String {
        let mut out = String::from(
            "# Copy to .dev.vars (git-ignored). `sf serve` and `wrangler dev` both read it;\n\
             # values from the process environment win. Never commit real secrets.\n\
             # Generated from policy/vars.yaml (SF_BLESS=1 cargo test -p sf-codegen --test vars_docs).\n",
        );
        let local = self.environments.iter().position(|e| e.name == "local");
        let mut feature = "";
        for v in &self.vars {
            if v.feature != feature {
                feature = &v.feature;
                out.push_str(&format!("\n# --- {feature}\n"));
            }
            let required = self.env_list(v);
            let mut notes = Vec::new();
            if v.secret {
                notes.push("secret".to_string());
            }
            if !required.is_empty() {
                notes.push(format!("required in {}", required.join(", ")));
            }
            if let Some(d) = &v.default {
                notes.push(format!("default {d}"));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            out.push_str(&format!("# {}{notes}\n", v.description));
            let set = local.is_some_and(|l| v.required_in.contains(&l)) || v.example.is_some();
            let value = v.example.as_deref().or(v.default.as_deref()).unwrap_or("");
            let hash = if set { "" } else { "# " };
            out.push_str(&format!("{hash}{}={value}\n", v.name));
        }
        out
    }

    /// The Markdown table of README.md's "Variables" section (between the markers).
    pub fn vars_table_md(&self) -> String {
        let mut out = String::from(
            "| name | secret | required in | feature | default | description |\n|---|---|---|---|---|---|\n",
        );
        for v in &self.vars {
            let req = self.env_list(v);
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} |\n",
                v.name,
                if v.secret { "yes" } else { "" },
                if req.is_empty() {
                    "—".to_string()
                } else {
                    req.join(", ")
                },
                v.feature,
                v.default
                    .as_ref()
                    .map(|d| format!("`{d}`"))
                    .unwrap_or_default(),
                v.description,
            ));
        }
        out
    }

    /// `readme` with the text between [`README_BEGIN`] and [`README_END`]
    /// replaced by [`Policy::vars_table_md`]; `None` when a marker is missing.
    pub fn readme_with_vars(&self, readme: &str) -> Option<String> {
        let b = readme.find(README_BEGIN)? + README_BEGIN.len();
        let e = b + readme[b..].find(README_END)?;
        Some(format!(
            "{}\n{}{}",
            &readme[..b],
            self.vars_table_md(),
            &readme[e..]
        ))
    }
}
