//! Reading a request body within the server's bounds: the size cap (413,
//! with the rest drained so the client can read the answer), the body
//! timeout (408), and the contract's error envelope for each.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use sf_core::error::{ApiError, ErrorCode};
use sf_core::http::error_response;

pub(crate) fn body_error(status: u16, message: &str) -> http::Response<Vec<u8>> {
    error_response(&ApiError::new(status, ErrorCode::BadRequest, message))
}

/// Bytes of an oversized body read and thrown away so the client gets to
/// read its 413; a body larger than this is cut (the connection closes).
pub(crate) const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// `413` with `connection: close`: the rest of the body, if any, is not read.
pub(crate) fn too_large() -> http::Response<Vec<u8>> {
    let mut res = body_error(413, "Request body too large");
    res.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    res
}

pub(crate) enum BodyRead {
    Complete(Vec<u8>),
    /// Over the cap; what followed was drained up to [`DRAIN_LIMIT`].
    TooLarge,
    Invalid,
    TimedOut,
}

/// Reads the body up to `max` bytes within `timeout`. Past `max` it keeps
/// reading without keeping (up to [`DRAIN_LIMIT`] in all), so the answer is
/// readable by clients that send the whole body before reading (Node's
/// `fetch`, Python's urllib).
pub(crate) async fn read_body(mut body: Incoming, max: usize, timeout: Duration) -> BodyRead {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    let mut over = false;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) if over => return BodyRead::TooLarge,
            Err(_) => return BodyRead::TimedOut,
            Ok(None) => break,
            Ok(Some(Err(_))) if over => return BodyRead::TooLarge,
            Ok(Some(Err(_))) => return BodyRead::Invalid,
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if !over && buf.len() + data.len() > max {
            over = true;
            buf = Vec::new();
        }
        if over {
            if total > DRAIN_LIMIT {
                return BodyRead::TooLarge;
            }
        } else {
            buf.extend_from_slice(&data);
        }
    }
    if over {
        BodyRead::TooLarge
    } else {
        BodyRead::Complete(buf)
    }
}

/// Reads and discards a body (bounded by [`DRAIN_LIMIT`] and `timeout`).
pub(crate) async fn drain(body: Incoming, timeout: Duration) {
    let _ = read_body(body, 0, timeout).await;
}
