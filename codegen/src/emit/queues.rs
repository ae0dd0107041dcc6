//! `Queue`, `Envelope`, `QueueKind`, `Command`, `classify`, `QueueConsumers`
//! and `dispatch_queue_kind` (policy/queues.yaml).

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{env, fixed_enum, id, name_enum};
use crate::model::*;
use crate::ops::Envelope;

pub(super) fn emit(p: &Policy) -> TokenStream {
    let (queues, kinds) = (&p.ops.queues, &p.ops.kinds);
    let queue_enum = name_enum(
        "Queue",
        "A queue of policy/queues.yaml (its per-environment names are in `queue_name`).",
        &queues
            .iter()
            .map(|q| (q.name.clone(), q.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let kind_enum = name_enum(
        "QueueKind",
        "A kind of queue message of policy/queues.yaml.",
        &kinds
            .iter()
            .map(|k| (k.name.clone(), k.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let cmds: Vec<&crate::ops::KindDef> = kinds.iter().filter(|k| k.command.is_some()).collect();
    let command_enum = name_enum(
        "Command",
        "An `sf.command` command (a queue kind with envelope `command`); `name()` is the wire name.",
        &cmds
            .iter()
            .map(|k| (k.command.clone().unwrap_or_default(), k.ident.clone()))
            .collect::<Vec<_>>(),
    );
    let envelope_enum = fixed_enum(
        "Envelope",
        "How a queue message is recognised.",
        &[
            ("event", "Event"),
            ("command", "Command"),
            ("l10n-job", "L10nJob"),
        ],
    );
    let qvars: Vec<Ident> = queues.iter().map(|q| id(&q.ident)).collect();
    let mut name_arms = Vec::new();
    let mut from_arms = Vec::new();
    for q in queues {
        let v = id(&q.ident);
        for (e, n) in &q.names {
            let e = env(p, *e);
            name_arms.push(quote!((Queue::#v, #e) => ::core::option::Option::Some(#n),));
            from_arms.push(quote!(#n => ::core::option::Option::Some((Queue::#v, #e)),));
        }
    }
    let dead: Vec<bool> = queues.iter().map(|q| q.dead_letter).collect();
    let queue_kinds = queues.iter().enumerate().map(|(qi, _)| {
        let ks = kinds.iter().filter(|k| k.queue == qi).map(|k| {
            let v = id(&k.ident);
            quote!(QueueKind::#v)
        });
        quote!(&[ #(#ks),* ])
    });
    let kvars: Vec<Ident> = kinds.iter().map(|k| id(&k.ident)).collect();
    let kqueue = kinds.iter().map(|k| {
        let v = id(&queues[k.queue].ident);
        quote!(Queue::#v)
    });
    let kenv = kinds.iter().map(|k| {
        let v = id(match k.envelope {
            Envelope::Event => "Event",
            Envelope::Command => "Command",
            Envelope::L10nJob => "L10nJob",
        });
        quote!(Envelope::#v)
    });
    let kcmd = kinds.iter().map(|k| {
        if k.command.is_some() {
            let v = id(&k.ident);
            quote!(::core::option::Option::Some(Command::#v))
        } else {
            quote!(::core::option::Option::None)
        }
    });
    let kdesc: Vec<&str> = kinds.iter().map(|k| k.description.as_str()).collect();
    let kmethods: Vec<Ident> = kinds.iter().map(|k| id(&k.method)).collect();
    let kmethod_names: Vec<&str> = kinds.iter().map(|k| k.method.as_str()).collect();
    let cvars: Vec<Ident> = cmds.iter().map(|k| id(&k.ident)).collect();
    let kind_docs: Vec<String> = kinds
        .iter()
        .map(|k| match (&k.command, k.description.is_empty()) {
            (Some(c), _) => format!(
                "`{c}` on queue `{}`. {}",
                queues[k.queue].name, k.description
            ),
            (None, _) => format!(
                "`{}` messages on queue `{}`. {}",
                k.envelope.name(),
                queues[k.queue].name,
                k.description
            ),
        })
        .collect();
    let unused = if kinds.is_empty() {
        quote!(let _ = (c, msg);)
    } else {
        quote!()
    };
    quote! {
    #queue_enum
    #envelope_enum
    #kind_enum
    #command_enum

    impl Queue {
        /// The queue's name in `env` (as bound in wrangler.toml); `None` where it is not bound.
        #[allow(unreachable_patterns)]
        pub const fn queue_name(self, env: Environment) -> ::core::option::Option<&'static str> {
            match (self, env) { #( #name_arms )* _ => ::core::option::Option::None }
        }
        /// The queue and environment a queue name belongs to (what a host logs).
        pub fn from_queue_name(name: &str) -> ::core::option::Option<(Queue, Environment)> {
            match name { #( #from_arms )* _ => ::core::option::Option::None }
        }
        /// Messages on a dead-letter queue exhausted their retries: archived, not processed.
        pub const fn dead_letter(self) -> bool {
            match self { #( Queue::#qvars => #dead, )* }
        }
        /// The kinds this queue carries, policy order.
        pub const fn kinds(self) -> &'static [QueueKind] {
            match self { #( Queue::#qvars => #queue_kinds, )* }
        }
    }

    impl QueueKind {
        /// The queue that carries it.
        pub const fn queue(self) -> Queue {
            match self { #( QueueKind::#kvars => #kqueue, )* }
        }
        /// How it is recognised.
        pub const fn envelope(self) -> Envelope {
            match self { #( QueueKind::#kvars => #kenv, )* }
        }
        /// The `sf.command` command, for `Envelope::Command` kinds.
        pub const fn command(self) -> ::core::option::Option<Command> {
            match self { #( QueueKind::#kvars => #kcmd, )* }
        }
        pub const fn description(self) -> &'static str {
            match self { #( QueueKind::#kvars => #kdesc, )* }
        }
        /// Name of its [`QueueConsumers`] method.
        pub const fn consumer(self) -> &'static str {
            match self { #( QueueKind::#kvars => #kmethod_names, )* }
        }
    }

    impl Command {
        /// The queue kind of this command.
        pub const fn kind(self) -> QueueKind {
            match self { #( Command::#cvars => QueueKind::#cvars, )* }
        }
    }

    /// The kind of a message with `envelope` (and `command`): among the kinds
    /// of `queue` when the queue is known, else among all kinds, policy order.
    pub fn classify(
        queue: ::core::option::Option<Queue>,
        envelope: Envelope,
        command: ::core::option::Option<Command>,
    ) -> ::core::option::Option<QueueKind> {
        let fits = |k: &QueueKind| k.envelope() == envelope && k.command() == command;
        if let ::core::option::Option::Some(q) = queue {
            if let ::core::option::Option::Some(k) = q.kinds().iter().copied().find(fits) {
                return ::core::option::Option::Some(k);
            }
        }
        QueueKind::ALL.iter().copied().find(fits)
    }

    /// One method per queue kind of the policy: a kind without a consumer does not compile.
    #[allow(async_fn_in_trait)]
    pub trait QueueConsumers {
        type Msg;
        type Out;
        #( #[doc = #kind_docs] async fn #kmethods(&self, msg: Self::Msg) -> Self::Out; )*
    }

    /// Runs the consumer of `kind`.
    pub async fn dispatch_queue_kind<C: QueueConsumers>(c: &C, kind: QueueKind, msg: C::Msg) -> C::Out {
        #unused
        match kind { #( QueueKind::#kvars => c.#kmethods(msg).await, )* }
    }
    }
}
