//! A mock OpenAI-compatible upstream for load benchmarks and manual runs:
//! answers every `POST .../chat/completions` at once with a fixed completion.
//!
//! `cargo run --release -p sf-server --example mock_openai -- [127.0.0.1:PORT] [content]`
//! (default 127.0.0.1:3900). Point the gateway's `local` provider at the
//! printed base URL. Stops on Ctrl-C.

use std::net::SocketAddr;

use sf_server::ephemeral::{MockOptions, MockUpstream};

fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = match args
        .next()
        .unwrap_or_else(|| "127.0.0.1:3900".into())
        .parse()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "mock_openai: the first argument must be an address like 127.0.0.1:3900 ({e})"
            );
            std::process::exit(2);
        }
    };
    if !addr.ip().is_loopback() {
        eprintln!("mock_openai: refusing to listen on {addr}: loopback addresses only");
        std::process::exit(2);
    }
    let mut opts = MockOptions::default();
    if let Some(content) = args.next() {
        opts.content = content;
    }
    let mock = match MockUpstream::start_on(addr, opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mock_openai: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("mock OpenAI upstream on {}", mock.base_url());
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mock_openai: {e}");
            std::process::exit(1);
        }
    };
    let _ = rt.block_on(tokio::signal::ctrl_c());
    println!("answered {} completions", mock.completions());
}
