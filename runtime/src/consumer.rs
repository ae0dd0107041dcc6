//! The queue consumer (CONTRACT.md 10.2).
//!
//! One entry point for every queue this gateway consumes. Each message is
//! classified once into a [`QueueKind`] of policy/queues.yaml (by its queue
//! when the name is known, then by its envelope) and handed to that kind's
//! [`QueueConsumers`] method. Each message answers `Ok` (ack), `Retry`
//! (redeliver later) or `Reject` (dead-letter now): one bad message never
//! re-runs its batch.

use std::rc::Rc;

use serde_json::{Map, Value};

use sf_core::commands;
use sf_core::error::ConsumeError;
use sf_core::policy::{self, Envelope, Queue, QueueConsumers, QueueKind};
use sf_core::ports::Host;
use sf_personalization::record::Kind;
use sf_records::{events, outcome};

use crate::gateway::Gateway;

/// What a host stores in its dead-letter record: the message with every grant
/// token redacted.
pub use sf_records::events::redact_for_dead_letter;

/// One message, classified.
pub struct Message<'a> {
    /// The queue name as the host reported it.
    pub queue: &'a str,
    pub body: &'a Value,
    /// The `sf.command` payload, for command kinds.
    pub payload: Option<&'a Map<String, Value>>,
}

/// The policy queue a queue name belongs to (`None` for a name no
/// environment binds, e.g. the native host's own queue): what hosts log.
pub fn queue_of(name: &str) -> Option<Queue> {
    Queue::from_queue_name(name).map(|(q, _)| q)
}

/// An `sf.command` payload.
pub type Payload<'a> = &'a Map<String, Value>;

/// The kind of `body` arriving on `queue`, with its command payload. A
/// malformed or unknown `sf.command` is rejected with the envelope error.
pub fn classify<'a>(
    queue: &str,
    body: &'a Value,
) -> Result<(QueueKind, Option<Payload<'a>>), ConsumeError> {
    let (envelope, command, payload) = if commands::is_command_shaped(body) {
        let (c, p) = commands::parse(body).map_err(|e| ConsumeError::Reject(e.message))?;
        (Envelope::Command, Some(c), Some(p))
    } else if body.get("grant").is_some() && body.get("publicId").is_some() {
        (Envelope::L10nJob, None, None)
    } else {
        (Envelope::Event, None, None)
    };
    let kind = policy::classify(queue_of(queue), envelope, command).ok_or_else(|| {
        ConsumeError::Reject(format!(
            "no queue kind of policy/queues.yaml matches this {} message (queue {queue})",
            envelope.name()
        ))
    })?;
    Ok((kind, payload))
}

pub async fn consume<H: Host>(
    gw: &Rc<Gateway<H>>,
    queue: &str,
    body: Value,
) -> Result<(), ConsumeError> {
    let (kind, payload) = classify(queue, &body)?;
    let msg = Message {
        queue,
        body: &body,
        payload,
    };
    policy::dispatch_queue_kind(&Consumers(gw), kind, msg).await
}

struct Consumers<'a, H: Host>(&'a Rc<Gateway<H>>);

fn payload_of<'m>(m: &Message<'m>) -> Result<Payload<'m>, ConsumeError> {
    m.payload
        .ok_or_else(|| ConsumeError::Reject("Expected sf.command envelope payload".to_owned()))
}

impl<'a, H: Host> QueueConsumers for Consumers<'a, H> {
    type Msg = Message<'a>;
    type Out = Result<(), ConsumeError>;

    async fn interaction_event(&self, m: Message<'a>) -> Self::Out {
        events::store_event(self.0.isolate(), m.body).await
    }

    async fn outcome_attach(&self, m: Message<'a>) -> Self::Out {
        let payload = payload_of(&m)?;
        let o = outcome::validate(payload).map_err(|e| ConsumeError::Reject(e.message))?;
        outcome::persist(self.0.host().sql(), &o)
            .await
            .map_err(|e| ConsumeError::Retry(e.message))?;
        // Already off the request path: the follow-up runs here; a failure is
        // logged (the hourly score-interactions sweeps the marks again).
        if let Err(e) = sf_records::conversion::on_outcome(self.0.host(), &o).await {
            sf_core::sf_log!(
                "consumer: follow-up of outcome {} failed: {e}",
                o.request_id
            );
        }
        Ok(())
    }

    async fn preview_enqueue(&self, m: Message<'a>) -> Self::Out {
        let iso = self.0.isolate();
        let readers = crate::pages::readers(iso);
        sf_personalization::jobs::consume(iso, Kind::Preview, &readers, payload_of(&m)?).await
    }

    async fn onboarding_enqueue(&self, m: Message<'a>) -> Self::Out {
        let iso = self.0.isolate();
        let readers = crate::pages::readers(iso);
        sf_personalization::jobs::consume(iso, Kind::Onboarding, &readers, payload_of(&m)?).await
    }

    async fn l10n_instance_v1(&self, m: Message<'a>) -> Self::Out {
        sf_l10n::gateway::consume_job(self.0.isolate(), m.body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(queue: &str, body: Value) -> Result<QueueKind, String> {
        classify(queue, &body).map(|(k, _)| k).map_err(|e| match e {
            ConsumeError::Reject(m) | ConsumeError::Retry(m) => m,
        })
    }

    #[test]
    fn classifies_by_envelope_on_any_queue() {
        let outcome = json!({"v":1,"kind":"sf.command","command":"ai.outcome.attach","payload":{}});
        for q in [
            "paris-sf-commands-cloud-dev",
            "sanfrancisco-events",
            "unknown-queue",
        ] {
            assert_eq!(
                kind(q, outcome.clone()),
                Ok(QueueKind::OutcomeAttach),
                "{q}"
            );
        }
        assert_eq!(
            kind(
                "paris-sf-commands-local",
                json!({"command":"personalization.preview.enqueue","payload":{}})
            ),
            Ok(QueueKind::PreviewEnqueue)
        );
        assert_eq!(
            kind(
                "instance-l10n-generate-local",
                json!({"grant":"g","publicId":"wgt_1"})
            ),
            Ok(QueueKind::L10nInstanceV1)
        );
        assert_eq!(
            kind("sanfrancisco-events-dev", json!({"v":1,"requestId":"r"})),
            Ok(QueueKind::InteractionEvent)
        );
        assert_eq!(
            kind("x", json!({"command":"nope","payload":{}})),
            Err("Expected sf.command envelope payload".to_owned())
        );
    }

    #[test]
    fn queue_names_map_back_to_policy_queues() {
        use sf_core::policy::Environment;
        assert_eq!(
            queue_of("paris-sf-commands-cloud-dev"),
            Some(Queue::Commands)
        );
        assert_eq!(
            queue_of("sanfrancisco-dead-letter"),
            Some(Queue::DeadLetter)
        );
        assert!(Queue::DeadLetter.dead_letter() && !Queue::Events.dead_letter());
        assert_eq!(Queue::Events.queue_name(Environment::Local), None);
        assert_eq!(queue_of("nope"), None);
        assert_eq!(
            sf_core::policy::Command::OutcomeAttach.kind().queue(),
            Queue::Commands
        );
    }
}
