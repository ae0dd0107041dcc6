//! The conformance suite against the native host (`sf serve`'s server,
//! in-process on an ephemeral loopback port).

use sf_conformance::mock::{MockUpstream, Script};

#[test]
fn native_host_passes_the_conformance_suite() {
    let mock = MockUpstream::start(Script {
        content: String::new(),
        status: 200,
        delay_ms: 0,
    })
    .expect("mock upstream on 127.0.0.1");
    let server = sf_server::testing::TestServer::start([
        ("ENVIRONMENT", "dev".to_owned()),
        ("AI_GRANT_HMAC_SECRET", "test-secret".to_owned()),
        ("PARIS_DEV_JWT", "dev-jwt-token".to_owned()),
        ("DEEPSEEK_API_KEY", "test-key".to_owned()),
        ("DEEPSEEK_BASE_URL", mock.base_url()),
    ])
    .expect("server starts");
    let cfg = sf_conformance::Config {
        base_url: server.base_url().to_owned(),
        secret: "test-secret".into(),
        bearer: "dev-jwt-token".into(),
        mock: &mock,
    };
    let report = sf_conformance::run(&cfg);
    for (name, why) in &report.failed {
        eprintln!("FAIL {name}: {why}");
    }
    assert!(report.failed.is_empty(), "{}", report.summary());
    assert!(report.passed.len() >= 30, "{}", report.summary());
    server.shutdown().expect("graceful shutdown");
}
