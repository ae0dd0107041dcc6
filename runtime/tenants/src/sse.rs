//! OpenAI's wire shapes: a chat completion, its server-sent-event chunks
//! (`chat.completion.chunk`, usage in the last chunk, then `[DONE]`), and
//! responses with extra headers.

use serde_json::{json, Value};

use sf_core::error::ApiError;
use sf_core::http::{error_response, json_response};

/// A finished completion, answered whole or as SSE chunks.
pub struct Completion {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Completion {
    fn usage(&self) -> Value {
        json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
               "total_tokens": self.prompt_tokens + self.completion_tokens})
    }

    pub fn body(&self) -> Value {
        json!({
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.text}, "finish_reason": "stop", "logprobs": null}],
            "usage": self.usage(),
        })
    }

    fn chunk(&self, choices: Value, usage: Value) -> String {
        let c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                       "model": self.model, "choices": choices, "usage": usage});
        format!("data: {c}\n\n")
    }

    /// The whole answer as chunks: the role, the text in pieces, the finish
    /// reason, then a last chunk with no choices and the usage.
    pub fn stream(&self, headers: &[(&str, String)]) -> http::Response<Vec<u8>> {
        let mut out = self.chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]), Value::Null);
        for piece in pieces(&self.text, 64) {
            out += &self.chunk(
                json!([{"index": 0, "delta": {"content": piece}, "finish_reason": null}]),
                Value::Null,
            );
        }
        out += &self.chunk(
            json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
            Value::Null,
        );
        out += &self.chunk(json!([]), self.usage());
        out += "data: [DONE]\n\n";
        let mut b = http::Response::builder()
            .status(200)
            .header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-store");
        for (k, v) in headers {
            b = b.header(*k, v.as_str());
        }
        b.body(out.into_bytes())
            .unwrap_or_else(|_| error_response(&ApiError::unhandled()))
    }
}

/// `text` in pieces of about `n` bytes, cut at character boundaries.
fn pieces(text: &str, n: usize) -> Vec<&str> {
    let mut v = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + n).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        v.push(&text[start..end]);
        start = end;
    }
    v
}

pub fn json(status: u16, body: &Value, headers: &[(&str, String)]) -> http::Response<Vec<u8>> {
    let mut r = json_response(status, body);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

pub fn error(e: &ApiError) -> http::Response<Vec<u8>> {
    error_response(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_rebuild_the_text_and_end_with_usage_then_done() {
        let c = Completion {
            id: "chatcmpl-1".into(),
            created: 1,
            model: "m".into(),
            text: "héllo wörld ".repeat(20),
            prompt_tokens: 3,
            completion_tokens: 4,
        };
        let res = c.stream(&[]);
        let body = String::from_utf8(res.into_body()).unwrap();
        let events: Vec<&str> = body.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(*events.last().unwrap(), "data: [DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
            .collect();
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, c.text);
        assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 7);
        assert!(chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk"));
    }
}
