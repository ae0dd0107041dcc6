//! endpoints.yaml `rateLimits` (issue 13): per-client limits on groups of
//! public routes, `limit` requests per `windowSeconds` per client (the client
//! is its IP or its tenant key id).

use super::names::{pick, Names};
use super::{Ck, Raw};
use crate::diag::unknown_help;
use crate::load;
use crate::model::{RateLimitDef, RouteDef, RATE_CLIENTS};
use crate::raw::S;

const MAX_LIMIT: i64 = 1_000_000;
const MAX_WINDOW_S: i64 = 86_400;

/// Rule: a limit and a window are whole numbers from 1 to their maximum.
fn bounded(ck: &mut Ck, v: &S<i64>, field: &str, max: i64) -> u64 {
    if v.value <= 0 || v.value > max {
        ck.err(
            load::ENDPOINTS,
            v.referenced,
            format!("{field} must be between 1 and {max}, not {}", v.value),
            Some(format!("write a whole number of at most {max}")),
        );
        return 1;
    }
    v.value as u64
}

pub(super) fn check(ck: &mut Ck, raw: &Raw, routes: &[RouteDef]) -> Vec<RateLimitDef> {
    let f = load::ENDPOINTS;
    let clients: Vec<(&'static str, usize)> = RATE_CLIENTS
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    let mut ids = Names::new("rate limit", f);
    let mut limited: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for r in &raw.endpoints.rate_limits {
        let r = &r.value;
        let declared = ids.declare(ck, &r.id, crate::ident::pascal(&r.id.value));
        let client = pick(&clients, ck, f, "rate-limit client", &r.client);
        let limit = bounded(ck, &r.limit, "limit", MAX_LIMIT);
        let window_s = bounded(ck, &r.window_seconds, "windowSeconds", MAX_WINDOW_S);
        let mut mine = Vec::new();
        for name in &r.routes {
            // Rule: a limited route is a declared route.
            let Some(i) = routes.iter().position(|d| d.name == name.value) else {
                let known: Vec<&str> = routes.iter().map(|d| d.name.as_str()).collect();
                ck.err(
                    f,
                    name.referenced,
                    format!("unknown route `{}`", name.value),
                    Some(unknown_help(&name.value, "route", &known)),
                );
                continue;
            };
            // Rule: a route is in one rate-limit group (one bucket per request).
            if limited.contains(&i) {
                ck.err(
                    f,
                    name.referenced,
                    format!("route `{}` is in two rate limits", name.value),
                    Some("keep it in one group".into()),
                );
                continue;
            }
            limited.push(i);
            mine.push(i);
        }
        if let (Some(_), Some(client)) = (declared, client) {
            out.push(RateLimitDef {
                name: r.id.value.clone(),
                routes: mine,
                client,
                limit,
                window_s,
            });
        }
    }
    out
}
