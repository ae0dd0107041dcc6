//! endpoints.yaml: the route table.

use serde_saphyr::Location;

use super::environments::env_list;
use super::names::{pick, Names};
use super::{Ck, Raw};
use crate::ident;
use crate::load;
use crate::model::*;
use crate::raw::S;

/// The checked routes.
pub(super) fn check(ck: &mut Ck, raw: &Raw, envs: &Names) -> Vec<RouteDef> {
    let mut routes_ns = Names::new("route", load::ENDPOINTS);
    let mut handler_ns = Names::new("route handler", load::ENDPOINTS);
    let mut route_defs: Vec<RouteDef> = Vec::new();
    let mut route_locs: Vec<Location> = Vec::new();
    for r in &raw.endpoints.routes {
        let r = &r.value;
        let d = routes_ns.declare(ck, &r.id, ident::pascal(&r.id.value));
        let h = d.and_then(|_| handler_ns.declare(ck, &r.id, ident::snake(&r.id.value)));
        let auth = pick(&Auth::ALL, ck, load::ENDPOINTS, "auth scheme", &r.auth);
        let mtable: Vec<(&str, usize)> = METHODS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let mut methods = Vec::new();
        for m in &r.methods.value {
            if let Some(i) = pick(&mtable, ck, load::ENDPOINTS, "HTTP method", m) {
                // Rule: a method is listed once per route.
                if methods.contains(&i) {
                    ck.err(
                        load::ENDPOINTS,
                        m.referenced,
                        format!("method `{}` listed twice", m.value),
                        Some("remove one".to_string()),
                    );
                }
                methods.push(i);
            }
        }
        // Rule: no route without methods (it could never match).
        if r.methods.value.is_empty() {
            ck.err(
                load::ENDPOINTS,
                r.methods.referenced,
                format!("route `{}` has no methods", r.id.value),
                Some("list at least one, e.g. [POST]".to_string()),
            );
        }
        let path_ok = check_path(ck, &r.path);
        let environments = r
            .environments
            .as_ref()
            .map(|l| env_list(ck, envs, load::ENDPOINTS, l));
        if let (Some(_), Some(_), Some(auth), true) = (d, h, auth, path_ok) {
            route_defs.push(RouteDef {
                name: r.id.value.clone(),
                ident: ident::pascal(&r.id.value).unwrap_or_default(),
                handler: ident::snake(&r.id.value).unwrap_or_default(),
                methods,
                path: r.path.value.clone(),
                auth,
                environments,
                concurrency_capped: r.concurrency_capped,
            });
            route_locs.push(r.path.referenced);
        }
    }
    for i in 0..route_defs.len() {
        for j in 0..i {
            let (a, b) = (&route_defs[i], &route_defs[j]);
            let shared: Vec<&str> = a
                .methods
                .iter()
                .filter(|m| b.methods.contains(m))
                .map(|&m| METHODS[m])
                .collect();
            // Rule: no two routes that match the same request (duplicated or overlapping paths).
            if shared.is_empty() || !paths_overlap(&a.path, &b.path) {
                continue;
            }
            let what = if a.path == b.path {
                "duplicates"
            } else {
                "overlaps"
            };
            ck.err(
                load::ENDPOINTS,
                route_locs[i],
                format!("route `{}` ({} {}) {what} route `{}` ({})", a.name, shared.join("|"), a.path, b.name, b.path),
                Some(format!(
                    "a request must match exactly one route; change the path or methods (`{}` is at {}:{}:{})",
                    b.name,
                    load::ENDPOINTS,
                    route_locs[j].line(),
                    route_locs[j].column()
                )),
            );
        }
    }
    route_defs
}

/// Paths are literal segments plus `{name}` segments, all parameters adjacent.
fn check_path(ck: &mut Ck, p: &S<String>) -> bool {
    let path = &p.value;
    let bad = |ck: &mut Ck, why: &str| {
        ck.err(load::ENDPOINTS, p.referenced, format!("invalid route path `{path}`: {why}"), Some("write e.g. `/v1/jobs/{jobId}`: starts with `/`, each `{param}` filling a whole segment, parameters next to each other".to_string()));
        false
    };
    // Rule: a route path is absolute.
    if !path.starts_with('/') {
        return bad(ck, "it must start with `/`");
    }
    let mut last_param: Option<usize> = None;
    for (i, seg) in path.split('/').skip(1).enumerate() {
        // Rule: a parameter fills a whole segment with a plain name.
        if seg.contains('{') || seg.contains('}') {
            let inner = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            match inner {
                Some(n)
                    if !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    // Rule: parameters are adjacent segments (`resolve` captures
                    // them as one run, e.g. `{agentId}/{version}`).
                    if last_param.is_some_and(|l| l + 1 != i) {
                        return bad(ck, "parameters must be adjacent segments");
                    }
                    last_param = Some(i);
                }
                _ => return bad(ck, "a parameter must be a whole segment like `{jobId}`"),
            }
        }
        // Rule: no query string or fragment in a route path.
        if seg.contains('?') || seg.contains('#') {
            return bad(ck, "query strings and fragments are not part of a route");
        }
    }
    true
}

/// Whether some concrete path matches both patterns (`{x}` matches any one
/// non-empty segment).
pub fn paths_overlap(a: &str, b: &str) -> bool {
    let sa: Vec<&str> = a.split('/').collect();
    let sb: Vec<&str> = b.split('/').collect();
    sa.len() == sb.len()
        && sa.iter().zip(&sb).all(|(x, y)| {
            x == y || (x.starts_with('{') && !y.is_empty()) || (y.starts_with('{') && !x.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_of_route_patterns() {
        assert!(paths_overlap("/a/{id}", "/a/b"));
        assert!(paths_overlap("/a/b", "/a/b"));
        assert!(!paths_overlap("/a/b", "/a/b/c"));
        assert!(!paths_overlap("/v1/l10n", "/v1/l10n/plan"));
        assert!(!paths_overlap("/a/{id}", "/b/{id}"));
    }
}
