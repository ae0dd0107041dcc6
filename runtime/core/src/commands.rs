//! `sf.command` envelopes (CONTRACT.md 2.3 step 5, 4.6, 10.2).
//!
//! Paris sends `{command, payload}` over HTTP but `{v:1, kind:"sf.command",
//! command, payload}` over its queue; the original accepted only the latter,
//! so every HTTP call from Paris failed. We accept both: when `v`/`kind` are
//! present they must be right, when absent the body is still a command.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The commands are the `command` kinds of policy/queues.yaml: `name()` is
/// the wire name (`ai.outcome.attach`), `from_name` the exact lookup.
pub use crate::policy::Command;

fn envelope_error() -> ApiError {
    ApiError::bad_request("Expected sf.command envelope payload")
}

/// Whether `v` looks like a command at all (used by the queue consumer to tell
/// commands from interaction events).
pub fn is_command_shaped(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("sf.command")
        || (v.get("command").is_some_and(Value::is_string)
            && v.get("payload").is_some_and(Value::is_object))
}

/// Parses an envelope, with or without `v`/`kind`.
pub fn parse(v: &Value) -> Result<(Command, &Map<String, Value>), ApiError> {
    let obj = v.as_object().ok_or_else(envelope_error)?;
    if let Some(ver) = obj.get("v") {
        if ver.as_f64() != Some(1.0) {
            return Err(envelope_error());
        }
    }
    if let Some(kind) = obj.get("kind") {
        if kind.as_str() != Some("sf.command") {
            return Err(envelope_error());
        }
    }
    let command = obj
        .get("command")
        .and_then(Value::as_str)
        .map(str::trim)
        .and_then(Command::from_name)
        .ok_or_else(envelope_error)?;
    let payload = obj
        .get("payload")
        .and_then(Value::as_object)
        .ok_or_else(envelope_error)?;
    Ok((command, payload))
}

/// Like [`parse`], and the command must be `expected`.
pub fn expect(v: &Value, expected: Command) -> Result<&Map<String, Value>, ApiError> {
    let (command, payload) = parse(v)?;
    if command != expected {
        return Err(ApiError::bad_request(format!(
            "Unsupported command \"{}\" (expected \"{}\")",
            command.name(),
            expected.name()
        )));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_both_shapes() {
        let bare = json!({"command":"ai.outcome.attach","payload":{}});
        let full = json!({"v":1,"kind":"sf.command","command":" ai.outcome.attach ","payload":{}});
        assert!(expect(&bare, Command::OutcomeAttach).is_ok());
        assert!(expect(&full, Command::OutcomeAttach).is_ok());
    }

    #[test]
    fn rejects_wrong_envelopes() {
        for bad in [
            json!(null),
            json!([1]),
            json!({"v":2,"kind":"sf.command","command":"ai.outcome.attach","payload":{}}),
            json!({"v":1,"kind":"other","command":"ai.outcome.attach","payload":{}}),
            json!({"command":"nope","payload":{}}),
            json!({"command":"ai.outcome.attach","payload":[]}),
        ] {
            let e = parse(&bad).unwrap_err();
            assert_eq!(
                (e.status, e.message.as_str()),
                (400, "Expected sf.command envelope payload"),
                "{bad}"
            );
        }
        let e = expect(
            &json!({"command":"personalization.preview.enqueue","payload":{}}),
            Command::OutcomeAttach,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Unsupported command \"personalization.preview.enqueue\" (expected \"ai.outcome.attach\")"
        );
    }
}
