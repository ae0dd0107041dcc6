//! The `Environment` and `Stage` enums.

use proc_macro2::TokenStream;
use quote::quote;

use super::name_enum;
use crate::model::*;

/// `Environment`, `Stage`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let env_enum = name_enum(
        "Environment",
        "Runtime environment (the `ENVIRONMENT` variable); route and provider gates use it.",
        &p.environments
            .iter()
            .map(|n| (n.name.clone(), n.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let stage_enum = name_enum(
        "Stage",
        "Exposure stage (Paris' `ENV_STAGE`, carried in grants as `trace.envStage`).",
        &p.stages
            .iter()
            .map(|n| (n.name.clone(), n.ident.clone()))
            .collect::<Vec<_>>(),
    );

    quote! {
    #env_enum
    #stage_enum
    }
}
