//! environments.yaml: runtime environments and exposure stages.

use super::names::Names;
use super::{Ck, Raw};
use crate::ident;
use crate::load;
use crate::raw::S;

/// Declares the environments and the stages.
pub(super) fn check(ck: &mut Ck, raw: &Raw) -> (Names, Names) {
    let mut envs = Names::new("environment", load::ENVIRONMENTS);
    for e in &raw.environments.environments {
        envs.declare(ck, e, ident::pascal(&e.value));
    }
    let mut stages = Names::new("stage", load::ENVIRONMENTS);
    for s in &raw.environments.stages {
        stages.declare(ck, s, ident::pascal(&s.value));
    }
    (envs, stages)
}

pub(super) fn env_list(
    ck: &mut Ck,
    envs: &Names,
    file: &str,
    list: &S<Vec<S<String>>>,
) -> Vec<usize> {
    // Rule: no empty environment gate (it would disable the item everywhere, which is never meant).
    if list.value.is_empty() {
        ck.err(
            file,
            list.referenced,
            "empty environment list".to_string(),
            Some(
                "list at least one environment, or remove the key to allow every environment"
                    .to_string(),
            ),
        );
    }
    list.value
        .iter()
        .filter_map(|e| envs.resolve(ck, file, e))
        .collect()
}
