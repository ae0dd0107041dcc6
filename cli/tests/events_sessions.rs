//! KV session state through HTTP: keyed as the contract says, 24 h TTL, and
//! bound to the grant's subject, so another subject reusing a session id can
//! neither read the transcript (it never reaches that caller's model prompt)
//! nor poison it (the stored record is unchanged).

use serde_json::{json, Value};
use sf_conformance::http::request;
use sf_conformance::mock::{MockUpstream, Script};
use sf_core::grants::mint_grant;
use sf_server::ephemeral::EphemeralServer;

const SECRET: &str = "events-sessions-secret";

fn grant(agent: &str, subject: &str, jti: &str) -> String {
    mint_grant(
        &json!({
            "v": 1, "iss": "paris", "jti": jti,
            "sub": {"kind": "anon", "sessionId": subject},
            "exp": 4_102_444_800u64,
            "caps": [format!("agent:{agent}")],
            "budgets": {"maxTokens": 300, "timeoutMs": 20000, "maxRequests": 5},
            "mode": "editor",
            "ai": {
                "profile": "free_low", "allowedProviders": ["deepseek"], "defaultProvider": "deepseek",
                "models": {"deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-chat"]}},
                "allowProviderChoice": false, "allowModelChoice": false
            },
            "trace": {"sessionId": subject, "envStage": "local"}
        }),
        SECRET,
    )
}

fn execute(srv: &EphemeralServer, body: &Value) -> Value {
    let res = request(
        srv.base_url(),
        "POST",
        "/v1/execute",
        &[],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()
}

/// (value, expires_at_ms) of a native KV key.
fn kv(srv: &EphemeralServer, key: &str) -> Option<(Value, i64)> {
    let conn = sf_server::db::open(srv.data_dir()).unwrap();
    let mut stmt = conn
        .prepare("SELECT value, expires_at_ms FROM native_kv WHERE key = ?1")
        .unwrap();
    let mut rows = stmt.query([key]).unwrap();
    let row = rows.next().unwrap()?;
    let text: String = row.get(0).unwrap();
    Some((serde_json::from_str(&text).unwrap(), row.get(1).unwrap()))
}

fn prompt_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn server(mock: &MockUpstream) -> EphemeralServer {
    EphemeralServer::start([
        ("ENVIRONMENT", "local".to_owned()),
        ("AI_GRANT_HMAC_SECRET", SECRET.to_owned()),
        ("DEEPSEEK_API_KEY", "test-key".to_owned()),
        ("DEEPSEEK_BASE_URL", mock.base_url()),
    ])
    .unwrap()
}

#[test]
fn sdr_session_cannot_be_read_or_poisoned_by_another_subject() {
    let mock = MockUpstream::start(Script {
        content: r#"{"message":"Sure.","next":"continue"}"#.into(),
        status: 200,
        delay_ms: 0,
    })
    .unwrap();
    let srv = server(&mock);
    let before = sf_server::clock::system_now_ms() as i64;
    let ask = |subject: &str, jti: &str, message: &str| {
        json!({"grant": grant("sdr.copilot", subject, jti), "agentId": "sdr.copilot",
               "input": {"sessionId": "shared-session", "message": message}})
    };

    execute(&srv, &ask("alice", "a1", "alice private plan"));
    let (stored, expires) = kv(&srv, "sdr:session:shared-session").expect("alice's session");
    let after = sf_server::clock::system_now_ms() as i64;
    assert!(
        expires >= before + 86_400_000 && expires <= after + 86_400_000,
        "24 h TTL"
    );
    assert_eq!(stored["turns"].as_array().unwrap().len(), 2);

    // Mallory reuses the session id with a grant for another subject.
    execute(&srv, &ask("mallory", "m1", "mallory injected turn"));
    let seen = prompt_text(&mock.last_body().unwrap());
    assert!(seen.contains("mallory injected turn"));
    assert!(
        !seen.contains("alice private plan"),
        "read another subject's session: {seen}"
    );
    let (after_mallory, _) = kv(&srv, "sdr:session:shared-session").unwrap();
    assert_eq!(after_mallory, stored, "another subject changed the session");

    // Alice still has her own history, and only hers.
    execute(&srv, &ask("alice", "a2", "alice again"));
    let seen = prompt_text(&mock.last_body().unwrap());
    assert!(seen.contains("alice private plan") && seen.contains("alice again"));
    assert!(!seen.contains("mallory injected turn"));
    let (now, _) = kv(&srv, "sdr:session:shared-session").unwrap();
    assert_eq!(now["turns"].as_array().unwrap().len(), 4);
    srv.shutdown().unwrap();
}

#[test]
fn widget_copilot_session_is_bound_to_the_subject() {
    let mock = MockUpstream::start(Script {
        content: r#"{"message":"Changed the title.","ops":[{"op":"set","path":"title","value":"Hello"}]}"#.into(),
        status: 200,
        delay_ms: 0,
    })
    .unwrap();
    let srv = server(&mock);
    let ask = |subject: &str, jti: &str, prompt: &str| {
        json!({"grant": grant("cs.widget.copilot.v1", subject, jti), "agentId": "cs.widget.copilot.v1",
               "input": {"sessionId": "shared-w", "prompt": prompt, "widgetType": "faq",
                         "currentConfig": {"title": "Hi"},
                         "controls": [{"path": "title", "type": "text", "kind": "text", "label": "Title"}]}})
    };
    execute(
        &srv,
        &ask("alice", "wa1", "set the title to alice secret words"),
    );
    let (stored, expires) = kv(&srv, "copilot:cs:session:shared-w").expect("alice's session");
    assert!(expires > sf_server::clock::system_now_ms() as i64 + 86_000_000);
    let calls = mock.calls();

    execute(
        &srv,
        &ask("mallory", "wm1", "set the title to mallory words"),
    );
    assert_eq!(
        mock.calls(),
        calls + 1,
        "mallory's request reaches the model"
    );
    let seen = prompt_text(&mock.last_body().unwrap());
    assert!(seen.contains("mallory words"), "{seen}");
    assert!(!seen.contains("alice secret words"), "{seen}");
    let (unchanged, _) = kv(&srv, "copilot:cs:session:shared-w").unwrap();
    assert_eq!(unchanged, stored, "another subject changed the session");
    // Mallory's own session lives under a subject-suffixed key.
    let conn = sf_server::db::open(srv.data_dir()).unwrap();
    let keys: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT key FROM native_kv WHERE key LIKE 'copilot:cs:session:shared-w%' ORDER BY key")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys[1].starts_with("copilot:cs:session:shared-w:"));
    srv.shutdown().unwrap();
}
