//! The completeness traits (one method per route handler, one per `execute`
//! agent) and their dispatchers: only the composition root implements them.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::id;
use crate::model::*;

/// `RouteHandlers`, `dispatch_route`, `AgentExecutors`, `dispatch_agent`.
pub(super) fn emit(p: &Policy) -> TokenStream {
    let handlers: Vec<Ident> = p.routes.iter().map(|r| id(&r.handler)).collect();
    let handler_docs: Vec<String> = p
        .routes
        .iter()
        .map(|r| {
            let ms: Vec<&str> = r.methods.iter().map(|&m| METHODS[m]).collect();
            format!("`{} {}`", ms.join("|"), r.path)
        })
        .collect();
    let route_vars: Vec<Ident> = p.routes.iter().map(|r| id(&r.ident)).collect();

    let exec: Vec<&AgentDef> = p
        .agents
        .iter()
        .filter(|a| a.surface == Surface::Execute)
        .collect();
    let exec_methods: Vec<Ident> = exec.iter().map(|a| id(&a.method)).collect();
    let exec_docs: Vec<String> = exec.iter().map(|a| format!("`{}`", a.name)).collect();
    let exec_vars: Vec<Ident> = exec.iter().map(|a| id(&a.ident)).collect();
    let non_exec: Vec<Ident> = p
        .agents
        .iter()
        .filter(|a| a.surface != Surface::Execute)
        .map(|a| id(&a.ident))
        .collect();
    let exec_call = if exec.is_empty() {
        quote!(let _ = (a, call);)
    } else {
        quote!()
    };

    quote! {
    /// One method per route of the policy: a route without code does not compile.
    #[allow(async_fn_in_trait)]
    pub trait RouteHandlers {
        type Ctx;
        type Out;
        #( #[doc = #handler_docs] async fn #handlers(&self, cx: Self::Ctx) -> Self::Out; )*
    }

    /// Calls the handler of `route`.
    pub async fn dispatch_route<H: RouteHandlers>(h: &H, route: Route, cx: H::Ctx) -> H::Out {
        match route { #( Route::#route_vars => h.#handlers(cx).await, )* }
    }

    /// One method per `execute`-surface agent: an agent without an executor does not compile.
    #[allow(async_fn_in_trait)]
    pub trait AgentExecutors {
        type Call;
        type Out;
        #( #[doc = #exec_docs] async fn #exec_methods(&self, call: Self::Call) -> Self::Out; )*
    }

    /// Runs `agent`'s executor; `None` when its surface is not `execute`.
    pub async fn dispatch_agent<A: AgentExecutors>(a: &A, agent: Agent, call: A::Call) -> ::core::option::Option<A::Out> {
        #exec_call
        match agent {
            #( Agent::#exec_vars => ::core::option::Option::Some(a.#exec_methods(call).await), )*
            #( Agent::#non_exec => ::core::option::Option::None, )*
        }
    }
    }
}
