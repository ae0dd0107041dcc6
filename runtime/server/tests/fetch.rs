//! The Fetch port against the mock upstream on 127.0.0.1.

use std::time::{Duration, Instant};

use sf_core::ports::{Fetch, FetchError, Host};
use sf_server::ephemeral::{MockOptions, MockUpstream, TempDir};
use sf_server::{NativeHost, NativeVars};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn chat(url: &str) -> http::Request<Vec<u8>> {
    http::Request::post(url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer test-key")
        .body(br#"{"model":"m-1","messages":[{"role":"user","content":"hi"}]}"#.to_vec())
        .unwrap()
}

#[test]
fn fetch_round_trip_timeout_redirect_and_network_error() {
    let dir = TempDir::new("fetch");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let mock = MockUpstream::start(MockOptions {
        content: "hello".into(),
        ..MockOptions::default()
    })
    .unwrap();
    let slow = MockUpstream::start(MockOptions {
        delay_ms: 1_000,
        ..MockOptions::default()
    })
    .unwrap();
    rt().block_on(async {
        let res = host
            .fetch()
            .fetch(
                chat(&format!("{}/chat/completions", mock.base_url())),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(v["model"], "m-1");
        assert_eq!(v["choices"][0]["message"]["content"], "hello");
        assert_eq!(v["usage"]["total_tokens"], 17);
        assert_eq!(mock.completions(), 1);

        // Redirects come back to the caller.
        let res = host
            .fetch()
            .fetch(
                http::Request::get(format!("http://{}/redirect", mock.addr()))
                    .body(Vec::new())
                    .unwrap(),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()["location"], "/elsewhere");

        // One deadline for the whole exchange.
        let t = Instant::now();
        let err = host
            .fetch()
            .fetch(
                chat(&format!("{}/chat/completions", slow.base_url())),
                Duration::from_millis(150),
            )
            .await
            .unwrap_err();
        assert_eq!(err, FetchError::Timeout);
        assert!(
            t.elapsed() < Duration::from_millis(800),
            "{:?}",
            t.elapsed()
        );

        // Nothing listening: a network error, with no URL in the message.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = host
            .fetch()
            .fetch(
                chat(&format!("http://{closed}/v1/chat/completions?key=secret")),
                Duration::from_secs(5),
            )
            .await
            .unwrap_err();
        match err {
            FetchError::Network(m) => assert!(!m.contains("secret"), "{m}"),
            other => panic!("expected a network error, got {other:?}"),
        }
    });
}

/// A page a user asked the copilot to read (`PublicOnly`) is refused after
/// DNS resolution when the name resolves to a private address; the same
/// request without the marker (a provider call) goes through.
#[test]
fn public_only_requests_are_refused_after_resolution() {
    use sf_core::net::PublicOnly;
    let dir = TempDir::new("fetch-public");
    let host = NativeHost::open(dir.path(), NativeVars::default()).unwrap();
    let mock = MockUpstream::start(MockOptions::default()).unwrap();
    let url = format!("{}/v1/chat/completions", mock.base_url());
    rt().block_on(async {
        let mut marked = chat(&url);
        marked.extensions_mut().insert(PublicOnly);
        let err = host
            .fetch()
            .fetch(marked, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err, FetchError::Blocked("resolved_loopback".into()));
        // `localhost` resolves to loopback too: refused by address, not by name.
        let mut by_name = chat(&url.replace("127.0.0.1", "localhost"));
        by_name.extensions_mut().insert(PublicOnly);
        let err = host
            .fetch()
            .fetch(by_name, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Blocked(ref r) if r.starts_with("resolved_")),
            "{err:?}"
        );
        let res = host
            .fetch()
            .fetch(chat(&url), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    });
    assert_eq!(
        mock.completions(),
        1,
        "only the unmarked request reached the upstream"
    );
}
