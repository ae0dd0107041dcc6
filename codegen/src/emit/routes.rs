//! `Auth`, `Method`, `Route`, the route table and `resolve`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{envs_opt, fixed_enum, id, name_enum};
use crate::model::*;

/// `Auth`, `Method`, `Route`, `RouteSpec`, `ROUTES`, `impl Route`, `resolve`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let envs_opt = |e: &Option<Vec<usize>>| envs_opt(p, e);
    // Methods, routes.
    let used = p.used_methods();
    let method_items: Vec<(String, String)> = used
        .iter()
        .map(|&m| {
            (
                METHODS[m].to_string(),
                crate::ident::pascal(METHODS[m]).unwrap_or_default(),
            )
        })
        .collect();
    let method_enum = name_enum(
        "Method",
        "An HTTP method used by some route.",
        &method_items,
    );
    let meth = super::meth;
    let route_enum = name_enum(
        "Route",
        "A route of policy/endpoints.yaml.",
        &p.routes
            .iter()
            .map(|r| (r.name.clone(), r.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let n_routes = p.routes.len();
    let specs = p.routes.iter().map(|r| {
        let v = id(&r.ident);
        let ms = r.methods.iter().map(|&m| meth(m));
        let path = &r.path;
        let auth = id(match r.auth {
            Auth::None => "None",
            Auth::Grant => "Grant",
            Auth::ParisSignature => "ParisSignature",
            Auth::Bearer => "Bearer",
            Auth::Admin => "Admin",
            Auth::Caller => "Caller",
            Auth::Tenant => "Tenant",
        });
        let envs = envs_opt(&r.environments);
        let cc = r.concurrency_capped;
        let h = &r.handler;
        quote! {
            RouteSpec { route: Route::#v, methods: &[#(#ms),*], path: #path, auth: Auth::#auth,
                        environments: #envs, concurrency_capped: #cc, handler: #h }
        }
    });
    let mut static_arms = Vec::new();
    let mut param_checks = Vec::new();
    for r in &p.routes {
        let v = id(&r.ident);
        let ms = r.methods.iter().map(|&m| meth(m));
        let guard = quote!(matches!(m, #(#ms)|*));
        match r.param_split() {
            None => {
                let path = &r.path;
                static_arms.push(quote!(#path if #guard => return ::core::option::Option::Some((Route::#v, ::core::option::Option::None)),));
            }
            Some((pre, suf, n)) => {
                let slashes = n - 1;
                param_checks.push(quote! {
                    if #guard {
                        if let ::core::option::Option::Some(rest) = path.strip_prefix(#pre) {
                            if let ::core::option::Option::Some(param) = rest.strip_suffix(#suf) {
                                if param.split('/').all(|s| !s.is_empty()) && param.matches('/').count() == #slashes {
                                    return ::core::option::Option::Some((Route::#v, ::core::option::Option::Some(param)));
                                }
                            }
                        }
                    }
                });
            }
        }
    }
    let auth_enum = fixed_enum(
        "Auth",
        "How a route authenticates its caller.",
        &[
            ("none", "None"),
            ("grant", "Grant"),
            ("paris-signature", "ParisSignature"),
            ("bearer", "Bearer"),
            ("admin", "Admin"),
            ("caller", "Caller"),
            ("tenant", "Tenant"),
        ],
    );

    quote! {
    #auth_enum
    #method_enum
    #route_enum

    /// One route: methods, path pattern, auth, gates.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RouteSpec {
        pub route: Route,
        pub methods: &'static [Method],
        /// Pattern; `{name}` captures one non-empty segment (adjacent ones are
        /// captured together, `/`-separated).
        pub path: &'static str,
        pub auth: Auth,
        /// `None` = every environment; elsewhere the route answers 404.
        pub environments: ::core::option::Option<&'static [Environment]>,
        /// Counts against the per-isolate in-flight cap.
        pub concurrency_capped: bool,
        /// Name of the [`RouteHandlers`] method.
        pub handler: &'static str,
    }

    /// Every route, indexed by `Route as usize`.
    pub static ROUTES: [RouteSpec; #n_routes] = [ #( #specs, )* ];

    impl Route {
        pub const fn spec(self) -> &'static RouteSpec { &ROUTES[self as usize] }
    }

    /// Method-aware match of a request path (no query string). `Some((route,
    /// param))` with the raw `{param}` segment (adjacent parameters as one
    /// `/`-separated run); `None` is the contract's 404.
    #[inline]
    pub fn resolve<'p>(method: &str, path: &'p str) -> ::core::option::Option<(Route, ::core::option::Option<&'p str>)> {
        let m = match Method::from_name(method) { ::core::option::Option::Some(m) => m, ::core::option::Option::None => return ::core::option::Option::None };
        match path { #( #static_arms )* _ => {} }
        #( #param_checks )*
        let _ = m;
        ::core::option::Option::None
    }
    }
}
