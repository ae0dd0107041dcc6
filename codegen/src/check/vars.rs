//! vars.yaml: every variable and secret the gateway reads, and the rule that
//! every variable another file names (providers' `credentialVars`,
//! `credentials`, `baseUrlVar`, `modelVar`) is declared here.

use super::names::Names;
use super::{Ck, Raw};
use crate::diag::did_you_mean;
use crate::ident;
use crate::load;
use crate::model::VarDef;
use crate::raw::S;

/// The declared variables: the namespace (for references) and their definitions.
pub(super) struct Vars {
    pub(super) names: Names,
    pub(super) defs: Vec<VarDef>,
}

fn is_upper_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !s.ends_with('_')
        && !s.contains("__")
}

fn is_feature_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | '_')
        })
}

/// Declares the variables of vars.yaml.
pub(super) fn check(ck: &mut Ck, raw: &Raw, envs: &Names) -> Vars {
    let mut names = Names::new("variable", load::VARS);
    let mut defs = Vec::new();
    for v in &raw.vars.vars {
        let v = &v.value;
        let n = &v.name.value;
        // Rule: a variable name is UPPER_SNAKE_CASE (what shells, wrangler and `.dev.vars` accept without quoting surprises).
        if !n.trim().is_empty() && !is_upper_snake(n) {
            let fixed = n
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>();
            ck.err(
                load::VARS,
                v.name.referenced,
                format!("variable name `{n}` is not UPPER_SNAKE_CASE"),
                Some(format!(
                    "use upper-case letters, digits and single `_` between words, starting with a letter, e.g. `{fixed}`"
                )),
            );
        }
        // Duplicates, empty names and identifier clashes: the shared namespace rules.
        let Some(_) = names.declare(ck, &v.name, ident::pascal(n)) else {
            continue;
        };
        let required_in: Vec<usize> = v
            .required_in
            .iter()
            .filter_map(|e| envs.resolve(ck, load::VARS, e))
            .collect();
        // Rule: a secret has no default (its value would be in the policy, the binary and the docs).
        if let (true, Some(d)) = (v.secret, &v.default) {
            ck.err(
                load::VARS,
                d.referenced,
                format!("secret `{n}` has a default"),
                Some(
                    "remove `default`: a secret's value is never written in the policy; use `example` for a placeholder in .dev.vars.example"
                        .to_string(),
                ),
            );
        }
        // Rule: the feature is a short lower-case id (it groups variables in docs and warnings).
        if !is_feature_id(&v.feature.value) {
            ck.err(
                load::VARS,
                v.feature.referenced,
                format!("feature `{}` of `{n}` is not a short id", v.feature.value),
                Some(
                    "use lower-case letters, digits, `-`, `:` or `.`, e.g. `grants` or `provider:deepseek`"
                        .to_string(),
                ),
            );
        }
        // Rule: a description is one non-empty line (it becomes a table cell and a warning).
        let desc = v.description.value.trim();
        if desc.is_empty() || desc.contains('\n') || desc.contains('|') {
            ck.err(
                load::VARS,
                v.description.referenced,
                format!("the description of `{n}` must be one non-empty line without `|`"),
                Some("say in one line what the variable is for".to_string()),
            );
        }
        defs.push(VarDef {
            name: n.clone(),
            ident: ident::pascal(n).unwrap_or_default(),
            secret: v.secret,
            required_in,
            feature: v.feature.value.clone(),
            description: desc.to_string(),
            default: v.default.as_ref().map(|d| d.value.clone()),
            example: v.example.as_ref().map(|d| d.value.clone()),
        });
    }
    Vars { names, defs }
}

/// Resolves a reference to a variable from `file`.
pub(super) fn resolve(ck: &mut Ck, vars: &Vars, file: &str, r: &S<String>) -> Option<usize> {
    let found = vars.names.find(&r.value);
    // Rule: every variable the policy names is declared in vars.yaml (a misspelt secret name would leave a provider silently unusable).
    if found.is_none() {
        let help = match did_you_mean(&r.value, vars.names.names.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? (declared in {})", load::VARS),
            None => format!(
                "declare `{}` in {} (name, secret, requiredIn, feature, description)",
                r.value,
                load::VARS
            ),
        };
        ck.err(
            file,
            r.referenced,
            format!("unknown variable `{}`", r.value),
            Some(help),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_snake() {
        assert!(is_upper_snake("AI_GRANT_HMAC_SECRET"));
        assert!(is_upper_snake("S3"));
        assert!(!is_upper_snake("ai_grant"));
        assert!(!is_upper_snake("AI-GRANT"));
        assert!(!is_upper_snake("_AI"));
        assert!(!is_upper_snake("9AI"));
        assert!(!is_upper_snake("AI__GRANT"));
        assert!(!is_upper_snake("AI_"));
    }

    #[test]
    fn feature_ids() {
        assert!(is_feature_id("provider:deepseek"));
        assert!(is_feature_id("internal-routes"));
        assert!(!is_feature_id("Grants"));
        assert!(!is_feature_id(""));
        assert!(!is_feature_id("two words"));
    }
}
