//! queues.yaml: the queues consumed and the kinds of message they carry.

use serde_saphyr::Location;

use super::names::{pick, Names};
use super::Ck;
use crate::ident;
use crate::load;
use crate::ops::{Envelope, KindDef, QueueDef};
use crate::raw_ops::QueuesFile;

/// The queues and the kinds.
pub(super) fn check(ck: &mut Ck, f: &QueuesFile, envs: &Names) -> (Vec<QueueDef>, Vec<KindDef>) {
    let mut queue_ns = Names::new("queue", load::QUEUES);
    let mut queues: Vec<QueueDef> = Vec::new();
    let mut seen_names: Vec<(String, Location)> = Vec::new();
    for q in &f.queues {
        let q = &q.value;
        let d = queue_ns.declare(ck, &q.id, ident::pascal(&q.id.value));
        let mut names = Vec::new();
        for (env, name) in &q.names.0 {
            // Rule: a queue is named per declared environment, once.
            let Some(e) = envs.resolve(ck, load::QUEUES, env) else {
                continue;
            };
            if names.iter().any(|(x, _)| *x == e) {
                ck.err(
                    load::QUEUES,
                    env.referenced,
                    format!(
                        "queue `{}` is named twice for environment `{}`",
                        q.id.value, env.value
                    ),
                    Some("keep one name per environment".to_string()),
                );
                continue;
            }
            // Rule: a queue name is non-empty and belongs to one queue only (a host maps it back to one queue).
            if name.value.trim().is_empty() || name.value.contains(char::is_whitespace) {
                ck.err(
                    load::QUEUES,
                    name.referenced,
                    format!("invalid queue name `{}`", name.value),
                    Some(
                        "write the name bound in wrangler.toml, e.g. `sanfrancisco-events-dev`"
                            .to_string(),
                    ),
                );
                continue;
            }
            if let Some((_, first)) = seen_names.iter().find(|(n, _)| *n == name.value) {
                ck.err(
                    load::QUEUES,
                    name.referenced,
                    format!("queue name `{}` is used twice", name.value),
                    Some(format!(
                        "each name belongs to one queue and environment; it is already used at {}:{}:{}",
                        load::QUEUES,
                        first.line(),
                        first.column()
                    )),
                );
                continue;
            }
            seen_names.push((name.value.clone(), name.referenced));
            names.push((e, name.value.clone()));
        }
        if d.is_some() {
            queues.push(QueueDef {
                name: q.id.value.clone(),
                ident: ident::pascal(&q.id.value).unwrap_or_default(),
                names,
                dead_letter: q.dead_letter,
            });
        }
    }

    let mut kind_ns = Names::new("queue kind", load::QUEUES);
    let mut method_ns = Names::new("queue consumer", load::QUEUES);
    let mut kinds: Vec<KindDef> = Vec::new();
    let mut commands: Vec<(String, Location)> = Vec::new();
    for k in &f.kinds {
        let k = &k.value;
        let d = kind_ns.declare(ck, &k.id, ident::pascal(&k.id.value));
        let m = d.and_then(|_| method_ns.declare(ck, &k.id, ident::snake(&k.id.value)));
        // Rule: a kind names a declared queue (the one that carries it).
        let queue = queue_ns.resolve(ck, load::QUEUES, &k.queue);
        // Rule: a kind is not carried by a dead-letter queue (its messages are archived, never consumed).
        if let Some(q) = queue.and_then(|q| queues.get(q)).filter(|q| q.dead_letter) {
            ck.err(
                load::QUEUES,
                k.queue.referenced,
                format!(
                    "kind `{}` is carried by the dead-letter queue `{}`",
                    k.id.value, q.name
                ),
                Some("name the queue the message is first sent to".to_string()),
            );
        }
        let envelope = pick(&Envelope::ALL, ck, load::QUEUES, "envelope", &k.envelope);
        // Rule: a `command` kind names its `sf.command` command, and only a command kind does.
        let command = match (envelope, &k.command) {
            (Some(Envelope::Command), None) => {
                ck.err(
                    load::QUEUES,
                    k.envelope.referenced,
                    format!(
                        "kind `{}` has envelope `command` but no `command`",
                        k.id.value
                    ),
                    Some("add the command name, e.g. `command: ai.outcome.attach`".to_string()),
                );
                None
            }
            (Some(Envelope::Command), Some(c)) => {
                // Rule: a command name is declared once (an envelope resolves to one kind).
                if let Some((_, first)) = commands.iter().find(|(n, _)| *n == c.value) {
                    ck.err(
                        load::QUEUES,
                        c.referenced,
                        format!("command `{}` is declared twice", c.value),
                        Some(format!(
                            "it is already declared at {}:{}:{}",
                            load::QUEUES,
                            first.line(),
                            first.column()
                        )),
                    );
                    None
                } else if c.value.trim().is_empty() || c.value != c.value.trim() {
                    ck.err(
                        load::QUEUES,
                        c.referenced,
                        format!("invalid command name `{}`", c.value),
                        Some("write the dotted name, e.g. `ai.outcome.attach`".to_string()),
                    );
                    None
                } else {
                    commands.push((c.value.clone(), c.referenced));
                    Some(c.value.clone())
                }
            }
            (Some(_), Some(c)) => {
                ck.err(
                    load::QUEUES,
                    c.referenced,
                    format!(
                        "kind `{}` is not a command but names command `{}`",
                        k.id.value, c.value
                    ),
                    Some("remove `command`, or set `envelope: command`".to_string()),
                );
                None
            }
            _ => None,
        };
        // Rule: within one queue, an envelope (and command) is recognised as one kind only.
        if let (Some(q), Some(e)) = (queue, envelope) {
            if let Some(other) = kinds
                .iter()
                .find(|o| o.queue == q && o.envelope == e && o.command == command)
            {
                ck.err(
                    load::QUEUES,
                    k.envelope.referenced,
                    format!(
                        "kind `{}` and kind `{}` are both `{}` messages on queue `{}`",
                        k.id.value,
                        other.name,
                        e.name(),
                        k.queue.value
                    ),
                    Some(
                        "a message must classify as one kind; merge them or use another queue"
                            .to_string(),
                    ),
                );
                continue;
            }
        }
        if let (Some(_), Some(queue), Some(envelope)) = (d, queue, envelope) {
            kinds.push(KindDef {
                name: k.id.value.clone(),
                ident: ident::pascal(&k.id.value).unwrap_or_default(),
                method: if m.is_some() {
                    ident::snake(&k.id.value).unwrap_or_default()
                } else {
                    String::new()
                },
                queue,
                envelope,
                command,
                description: k.description.trim().to_string(),
            });
        }
    }
    (queues, kinds)
}
