//! providers.yaml `aiGateway`: the providers called through Cloudflare AI
//! Gateway (issue 13), each with the gateway's route for it
//! (`{base}/v1/{account}/{gateway}/{route}/...`).

use super::providers::Catalogue;
use super::{Ck, Raw};
use crate::load;
use crate::model::Protocol;

/// Rule: a route is a lowercase path segment (letters, digits, `-`).
fn route_ok(r: &str) -> bool {
    !r.is_empty()
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub(super) fn check(ck: &mut Ck, raw: &Raw, cat: &mut Catalogue) {
    let f = load::PROVIDERS;
    for e in &raw.providers.ai_gateway {
        let e = &e.value;
        // Rule: every gateway entry names a declared provider.
        let Some(i) = cat.provs.resolve(ck, f, &e.provider) else {
            continue;
        };
        if !route_ok(&e.route.value) {
            ck.err(
                f,
                e.route.referenced,
                format!("`{}` is not an AI Gateway route", e.route.value),
                Some("write the gateway's provider segment, e.g. `openai` or `workers-ai`".into()),
            );
        }
        let Some(def) = cat.prov_defs.get_mut(i) else {
            continue;
        };
        // Rule: a provider goes through the gateway once (one route per provider).
        if def.ai_gateway_route.is_some() {
            ck.err(
                f,
                e.provider.referenced,
                format!(
                    "provider `{}` is listed twice in `aiGateway`",
                    e.provider.value
                ),
                Some("remove the second entry".into()),
            );
            continue;
        }
        // Rule: Bedrock's signed requests cannot be re-addressed to the gateway.
        if def.protocol == Protocol::BedrockConverse {
            ck.err(
                f,
                e.provider.referenced,
                format!(
                    "provider `{}` speaks bedrock_converse, which San Francisco does not send through AI Gateway",
                    e.provider.value
                ),
                Some("remove it from `aiGateway`".into()),
            );
            continue;
        }
        def.ai_gateway_route = Some(e.route.value.clone());
    }
}
