use super::*;
use serde_json::json;

const SECRET: &[u8] = b"test-secret";
/// 2026-11-21, well before the vectors' exp (2100-01-01).
const NOW_MS: u64 = 1_795_000_000_000;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/grants/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

fn names() -> GrantNames<'static> {
    GrantNames::CONTRACT
}

/// Signs an arbitrary payload text (not necessarily JSON) like Paris would.
fn sign_text(payload_json: &str, secret: &[u8]) -> String {
    let p = b64::encode_url(payload_json.as_bytes());
    sign_b64(&p, secret)
}

fn sign_b64(payload_b64: &str, secret: &[u8]) -> String {
    let mac = hmac_sha256_parts(secret, &[b"v1.", payload_b64.as_bytes()]);
    format!("v1.{payload_b64}.{}", b64::encode_url(&mac))
}

fn base_payload() -> Value {
    json!({
        "v": 1, "iss": "paris", "jti": "00000000-0000-4000-8000-000000000000",
        "sub": {"kind": "anon", "sessionId": "s"}, "exp": 4102444800u64,
        "caps": ["agent:debug.grantProbe"],
        "budgets": {"maxTokens": 200, "timeoutMs": 10000, "maxRequests": 1},
        "mode": "editor"
    })
}

fn with(mut p: Value, key: &str, v: Value) -> Value {
    p[key] = v;
    p
}

fn without(mut p: Value, key: &str) -> Value {
    if let Some(o) = p.as_object_mut() {
        o.shift_remove(key);
    }
    p
}

fn verify(p: &Value) -> Result<Grant, ApiError> {
    verify_grant(
        &sign_text(&js_stringify(p), SECRET),
        SECRET,
        NOW_MS,
        &names(),
    )
}

#[track_caller]
fn assert_401(r: Result<Grant, ApiError>, code: ErrorCode, msg: &str) {
    match r {
        Ok(g) => panic!("expected 401 {msg:?}, got a grant {:?}", g.payload_json()),
        Err(e) => {
            assert_eq!((e.status, e.code, e.message.as_str()), (401, code, msg));
            assert_eq!(e.provider, None);
            assert!(e.issues.is_empty());
        }
    }
}

#[track_caller]
fn assert_invalid(r: Result<Grant, ApiError>, msg: &str) {
    assert_401(r, ErrorCode::GrantInvalid, msg);
}

fn ai_base() -> Value {
    json!({"profile": "paid_standard", "allowedProviders": ["deepseek", " openai "],
           "defaultProvider": "deepseek"})
}

fn verify_ai(ai: Value) -> Result<Grant, ApiError> {
    verify(&with(base_payload(), "ai", ai))
}

// --- vectors -------------------------------------------------------------

#[test]
fn contract_vector_verifies() {
    let v = fixture("contract.json");
    let token = v["grant"]["token"].as_str().unwrap_or_default();
    let secret = v["grant"]["secret"].as_str().unwrap_or_default();
    let g = verify_grant(token, secret.as_bytes(), NOW_MS, &names()).expect("vector verifies");
    assert_eq!(
        g.jti.as_deref(),
        Some("00000000-0000-4000-8000-000000000000")
    );
    assert_eq!(
        g.sub,
        Subject::Anon {
            session_id: "s".into()
        }
    );
    assert_eq!(g.exp, 4102444800.0);
    assert_eq!(g.caps, vec!["agent:debug.grantProbe".to_string()]);
    assert_eq!(g.mode, Mode::Editor);
    assert_eq!(g.ai, None);
    assert_eq!(g.trace(), None);
    assert!(g.has_cap("agent:debug.grantProbe"));
    assert!(!g.has_cap("agent:debug"));
    // The payload is kept verbatim (no `ai` to normalise).
    let expected: Value =
        serde_json::from_str(v["grant"]["payloadJson"].as_str().unwrap_or("")).unwrap_or_default();
    assert_eq!(g.raw(), expected);
    assert_eq!(
        g.payload_json(),
        v["grant"]["payloadJson"].as_str().unwrap_or("")
    );
    assert_eq!(g.sub_json(), json!({"kind": "anon", "sessionId": "s"}));
    assert_eq!(
        g.budgets(),
        json!({"maxTokens": 200, "timeoutMs": 10000, "maxRequests": 1})
    );
}

#[test]
fn mint_reproduces_the_contract_token_byte_for_byte() {
    let v = fixture("contract.json");
    let payload: Value =
        serde_json::from_str(v["grant"]["payloadJson"].as_str().unwrap_or("")).unwrap_or_default();
    assert_eq!(
        js_stringify(&payload),
        v["grant"]["payloadJson"].as_str().unwrap_or("")
    );
    assert_eq!(
        mint_grant(&payload, "test-secret"),
        v["grant"]["token"].as_str().unwrap_or("")
    );
    // Paris trims the secret before keying the HMAC.
    assert_eq!(
        mint_grant(&payload, "  test-secret\n"),
        v["grant"]["token"].as_str().unwrap_or("")
    );
}

#[test]
fn outcome_signature_vector() {
    let v = fixture("contract.json");
    let o = &v["outcomeSignature"];
    let body = o["body"].as_str().unwrap_or_default().as_bytes();
    let secret = o["secret"].as_str().unwrap_or_default();
    assert_eq!(
        outcome_signature(secret, body),
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXg"
    );
    assert_eq!(
        o["signature"],
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXg"
    );
    assert!(verify_outcome_signature(
        secret,
        body,
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXg"
    ));
    // The outcome secret is trimmed (CONTRACT.md 2.3 step 2).
    assert!(verify_outcome_signature(
        "test-secret \n",
        body,
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXg"
    ));
    assert!(!verify_outcome_signature(
        secret,
        body,
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXh"
    ));
    assert!(!verify_outcome_signature(
        secret,
        body,
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXg="
    ));
    assert!(!verify_outcome_signature(
        secret,
        b"{}",
        "tVshpAcQWOSeIfSOC20UzPdW6JnZYpTmwbwKvauYTXg"
    ));
    assert!(!verify_outcome_signature(secret, body, ""));
}

/// Tokens minted by Python's hmac/hashlib/base64 (fixtures/grants/gen_independent.py),
/// not by this crate, must verify, and re-minting the same JSON text must give the same bytes.
#[test]
fn grants_minted_by_an_independent_implementation_verify() {
    let v = fixture("independent.json");
    let cases = v["cases"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 5);
    for c in cases {
        let name = c["name"].as_str().unwrap_or_default();
        let secret = c["secret"].as_str().unwrap_or_default();
        let token = c["token"].as_str().unwrap_or_default();
        let g = verify_grant(token, secret.as_bytes(), NOW_MS, &names())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let payload: Value =
            serde_json::from_str(c["payloadJson"].as_str().unwrap_or("")).unwrap_or_default();
        assert_eq!(
            g.sub,
            Subject::Anon {
                session_id: payload["sub"]["sessionId"].as_str().unwrap_or("").into()
            },
            "{name}"
        );
        assert_eq!(g.exp, payload["exp"].as_f64().unwrap_or(0.0), "{name}");
        assert_eq!(g.trace().as_ref(), payload.get("trace"), "{name}");
        assert_eq!(g.sub_json(), payload["sub"], "{name}");
        assert_eq!(g.raw(), payload, "{name}");
        assert!(g.budgets().is_object(), "{name}");
        if name != "raw-untrimmed-secret" {
            // Paris' encoding (trimmed secret) reproduces the independent token exactly.
            assert_eq!(mint_grant(&payload, secret), token, "{name}");
        }
        // Any other secret is a mismatch.
        assert_invalid(
            verify_grant(token, b"other", NOW_MS, &names()),
            SIG_MISMATCH,
        );
    }
}

// --- 401s in order -------------------------------------------------------

#[test]
fn blank_secret_is_a_500_naming_the_variable() {
    let v = fixture("contract.json");
    let token = v["grant"]["token"].as_str().unwrap_or_default();
    for secret in [&b""[..], b"  \n", b"\t"] {
        let e = verify_grant(token, secret, NOW_MS, &names())
            .err()
            .unwrap_or_else(|| panic!("must fail"));
        assert_eq!(
            (e.status, e.code, e.message.as_str(), e.provider.as_deref()),
            (
                500,
                ErrorCode::ProviderError,
                "Missing AI_GRANT_HMAC_SECRET",
                Some("sanfrancisco")
            )
        );
    }
    // Even for a token MACed with the empty key.
    let forged = sign_text(&js_stringify(&base_payload()), b"");
    assert_eq!(
        verify_grant(&forged, b"", NOW_MS, &names())
            .err()
            .map(|e| e.status),
        Some(500)
    );
    let body = b"{}";
    assert!(!verify_outcome_signature(
        " ",
        body,
        &outcome_signature("", body)
    ));
}

#[test]
fn format_errors() {
    for t in [
        "abc", "", "v1.a", "v1.a.b.c", "v2.a.b", "V1.a.b", "v1..b.c", "....",
    ] {
        assert_invalid(
            verify_grant(t, SECRET, NOW_MS, &names()),
            "Invalid grant format",
        );
    }
}

#[test]
fn payload_errors_after_a_valid_mac() {
    // MAC over a payload part that is not base64.
    assert_invalid(
        verify_grant(&sign_b64("@@@", SECRET), SECRET, NOW_MS, &names()),
        "Invalid grant payload",
    );
    for text in ["{not json", "[1]", "null", "\"s\"", "1", ""] {
        assert_invalid(
            verify_grant(&sign_text(text, SECRET), SECRET, NOW_MS, &names()),
            "Invalid grant payload",
        );
    }
}

#[test]
fn mac_is_checked_before_the_payload() {
    // Observed original: `v1.@@@.sig` said "Invalid grant payload"; MAC-first says mismatch.
    assert_invalid(
        verify_grant("v1.@@@.sig", SECRET, NOW_MS, &names()),
        SIG_MISMATCH,
    );
    // Missing required fields but a wrong MAC: still the MAC error.
    let t = sign_text("{\"v\":2}", b"wrong");
    assert_invalid(verify_grant(&t, SECRET, NOW_MS, &names()), SIG_MISMATCH);
}

#[test]
fn signature_errors_are_401_never_500() {
    let good = sign_text(&js_stringify(&base_payload()), SECRET);
    let (head, _) = good.rsplit_once('.').unwrap_or_default();
    // Not base64 (observed 500 in the original), empty, truncated, flipped.
    for sig in [
        "@@@",
        "",
        "A",
        "_WEBVsiQgQM2rY7WvlfhmmD5uO9Jo-kaI9nIVtwfl6",
        "AAAA",
    ] {
        let t = format!("{head}.{sig}");
        assert_invalid(verify_grant(&t, SECRET, NOW_MS, &names()), SIG_MISMATCH);
    }
    // Wrong secret.
    assert_invalid(
        verify_grant(&good, b"test-secreT", NOW_MS, &names()),
        SIG_MISMATCH,
    );
}

#[test]
fn std_alphabet_padded_signature_is_accepted() {
    let good = sign_text(&js_stringify(&base_payload()), SECRET);
    let (head, sig) = good.rsplit_once('.').unwrap_or_default();
    let bytes = b64::decode_forgiving(sig).unwrap_or_default();
    let std = b64::encode_std_padded(&bytes);
    assert!(std.ends_with('='));
    let t = format!("{head}.{std}");
    assert!(verify_grant(&t, SECRET, NOW_MS, &names()).is_ok());
    // The contract vector's signature re-encoded (it has `_` and `-`).
    let v = fixture("contract.json");
    let tok = v["grant"]["token"].as_str().unwrap_or_default();
    let (head, sig) = tok.rsplit_once('.').unwrap_or_default();
    let std = b64::encode_std_padded(&b64::decode_forgiving(sig).unwrap_or_default());
    assert_eq!(std, "/WEBVsiQgQM2rY7WvlfhmmD5uO9Jo+kaI9nIVtwfl6A=");
    assert!(verify_grant(&format!("{head}.{std}"), SECRET, NOW_MS, &names()).is_ok());
}

#[test]
fn raw_and_trimmed_secrets_are_both_accepted() {
    let text = js_stringify(&base_payload());
    // Env value has a trailing newline; Paris signs with the trimmed value.
    assert!(verify_grant(
        &sign_text(&text, b"test-secret"),
        b"test-secret\n",
        NOW_MS,
        &names()
    )
    .is_ok());
    // A signer that used the raw value like the original SF did.
    assert!(verify_grant(
        &sign_text(&text, b"test-secret\n"),
        b"test-secret\n",
        NOW_MS,
        &names()
    )
    .is_ok());
    // Trimming is never applied to the token side: a MAC made with a padded
    // secret does not verify against the trimmed env value.
    assert_invalid(
        verify_grant(
            &sign_text(&text, b"test-secret\n"),
            b"test-secret",
            NOW_MS,
            &names(),
        ),
        SIG_MISMATCH,
    );
}

#[test]
fn required_fields() {
    let b = base_payload();
    let cases = [
        with(b.clone(), "exp", json!("4102444800")),
        with(b.clone(), "mode", json!("admin")),
        with(b.clone(), "iss", json!("sanfrancisco")),
        with(b.clone(), "v", json!(2)),
        with(b.clone(), "v", json!("1")),
        with(b.clone(), "caps", json!(["agent:x", 5])),
        with(b.clone(), "caps", json!("agent:x")),
        with(b.clone(), "budgets", json!([])),
        with(b.clone(), "budgets", json!(null)),
        with(b.clone(), "sub", json!("anon")),
        without(b.clone(), "v"),
        without(b.clone(), "iss"),
        without(b.clone(), "exp"),
        without(b.clone(), "caps"),
        without(b.clone(), "budgets"),
        without(b.clone(), "sub"),
        without(b.clone(), "mode"),
    ];
    for p in cases {
        assert_invalid(verify(&p), "Grant missing required fields");
    }
    // Required-fields errors come before jti/subject errors.
    let p = with(with(b, "jti", json!(5)), "mode", json!("x"));
    assert_invalid(verify(&p), "Grant missing required fields");
}

#[test]
fn optional_fields_that_pass() {
    let b = base_payload();
    assert!(verify(&with(b.clone(), "mode", json!("ops"))).is_ok());
    assert!(verify(&with(b.clone(), "caps", json!([]))).is_ok());
    assert!(verify(&with(b.clone(), "budgets", json!({}))).is_ok());
    assert!(verify(&with(b.clone(), "exp", json!(4102444800.25))).is_ok());
    assert!(verify(&without(b.clone(), "jti")).is_ok());
    assert!(verify(&with(b.clone(), "v", json!(1.0))).is_ok());
    // `ai` that is not an object is left as is (observed `aiString`).
    let g = verify(&with(b.clone(), "ai", json!("x"))).expect("ai string ok");
    assert_eq!(g.ai, None);
    assert_eq!(g.raw()["ai"], "x");
    // Unknown fields are preserved.
    let g = verify(&with(b, "extra", json!({"k": [1, 2]}))).expect("extra ok");
    assert_eq!(g.raw()["extra"], json!({"k": [1, 2]}));
}

#[test]
fn jti_errors() {
    for j in [json!(5), json!(""), json!(null), json!(["a"])] {
        assert_invalid(
            verify(&with(base_payload(), "jti", j)),
            "Grant jti is invalid",
        );
    }
}

#[test]
fn subject_errors() {
    let cases = [
        (json!({"kind": "robot"}), "Grant subject kind is invalid"),
        (json!({}), "Grant subject kind is invalid"),
        (json!({"kind": "anon"}), "Grant subject missing sessionId"),
        (
            json!({"kind": "anon", "sessionId": ""}),
            "Grant subject missing sessionId",
        ),
        (
            json!({"kind": "anon", "sessionId": 5}),
            "Grant subject missing sessionId",
        ),
        (
            json!({"kind": "user", "userId": "u"}),
            "Grant subject missing userId/workspaceId",
        ),
        (
            json!({"kind": "user", "workspaceId": "w"}),
            "Grant subject missing userId/workspaceId",
        ),
        (
            json!({"kind": "user", "userId": "", "workspaceId": "w"}),
            "Grant subject missing userId/workspaceId",
        ),
        (
            json!({"kind": "service"}),
            "Grant subject missing serviceId",
        ),
        (
            json!({"kind": "service", "serviceId": ""}),
            "Grant subject missing serviceId",
        ),
    ];
    for (sub, msg) in cases {
        assert_invalid(verify(&with(base_payload(), "sub", sub)), msg);
    }
    let g = verify(&with(
        base_payload(),
        "sub",
        json!({"kind": "user", "userId": "u", "workspaceId": "w"}),
    ))
    .expect("user ok");
    assert_eq!(g.subject_key(), "u:w");
    let g = verify(&with(
        base_payload(),
        "sub",
        json!({"kind": "service", "serviceId": "svc"}),
    ))
    .expect("service ok");
    assert_eq!(g.subject_key(), "svc");
}

#[test]
fn expiry() {
    let exp = 1_795_000_000u64;
    let p = with(base_payload(), "exp", json!(exp));
    let t = sign_text(&js_stringify(&p), SECRET);
    let expired = |now_ms| verify_grant(&t, SECRET, now_ms, &names());
    assert_401(
        expired(exp * 1000),
        ErrorCode::GrantExpired,
        "Grant expired",
    );
    assert_401(
        expired(exp * 1000 + 999),
        ErrorCode::GrantExpired,
        "Grant expired",
    );
    assert!(expired(exp * 1000 - 1).is_ok(), "floor(now/1000) < exp");
    // Fractional exp: 0.5 s after the second boundary is still valid at that second.
    let p = with(base_payload(), "exp", json!(1_795_000_000.5));
    let t = sign_text(&js_stringify(&p), SECRET);
    assert!(verify_grant(&t, SECRET, 1_795_000_000_900, &names()).is_ok());
    assert_401(
        verify_grant(&t, SECRET, 1_795_000_001_000, &names()),
        ErrorCode::GrantExpired,
        "Grant expired",
    );
    // Expired with a bad signature reports the signature (observed `expiredBadSig`).
    let bad = sign_text(
        &js_stringify(&with(base_payload(), "exp", json!(1))),
        b"nope",
    );
    assert_invalid(verify_grant(&bad, SECRET, NOW_MS, &names()), SIG_MISMATCH);
    // Expiry is checked after the subject.
    let p = with(
        with(base_payload(), "exp", json!(1)),
        "sub",
        json!({"kind": "x"}),
    );
    assert_invalid(verify(&p), "Grant subject kind is invalid");
}

// --- ai normalisation ----------------------------------------------------

#[test]
fn ai_required_fields() {
    let msg = "Grant ai policy missing required fields";
    let cases = [
        with(ai_base(), "profile", json!("gold")),
        without(ai_base(), "profile"),
        with(ai_base(), "allowedProviders", json!([])),
        with(ai_base(), "allowedProviders", json!("deepseek")),
        with(
            ai_base(),
            "allowedProviders",
            json!(["deepseek", "mistral"]),
        ),
        with(ai_base(), "allowedProviders", json!(["deepseek", 5])),
        with(ai_base(), "defaultProvider", json!(" deepseek")),
        with(ai_base(), "defaultProvider", json!("mistral")),
        without(ai_base(), "defaultProvider"),
    ];
    for ai in cases {
        assert_invalid(verify_ai(ai), msg);
    }
    assert_invalid(
        verify_ai(with(ai_base(), "defaultProvider", json!("groq"))),
        "Grant ai policy defaultProvider is not allowed",
    );
}

#[test]
fn ai_selected_provider_and_models() {
    assert_invalid(
        verify_ai(with(ai_base(), "selectedProvider", json!("mistral"))),
        "Grant ai policy selectedProvider is invalid",
    );
    assert_invalid(
        verify_ai(with(ai_base(), "selectedProvider", json!(5))),
        "Grant ai policy selectedProvider is invalid",
    );
    assert_invalid(
        verify_ai(with(ai_base(), "selectedProvider", json!("anthropic"))),
        "Grant ai policy selectedProvider is not allowed",
    );
    for m in [json!([]), json!(null), json!("x"), json!(1)] {
        assert_invalid(
            verify_ai(with(ai_base(), "models", m)),
            "Grant ai policy models must be an object",
        );
    }
    let g = verify_ai(with(ai_base(), "selectedProvider", json!(""))).expect("empty selected ok");
    assert_eq!(g.ai.and_then(|a| a.selected_provider), None);
}

#[test]
fn ai_is_normalised() {
    let ai = json!({
        "profile": "paid_standard",
        "allowedProviders": [" openai", "deepseek", "deepseek"],
        "defaultProvider": "openai",
        "allowProviderChoice": "yes",
        "allowModelChoice": true,
        "selectedProvider": " deepseek ",
        "selectedModel": "deepseek-reasoner",
        "models": {
            "openai": {"defaultModel": "gpt-5-mini", "allowed": ["gpt-5-mini", " gpt-4o-mini "]},
            "deepseek": {"defaultModel": "deepseek-chat", "allowed": ["deepseek-reasoner"]},
            "groq": {"defaultModel": "llama", "allowed": ["llama"]},
            "mistral": {"defaultModel": "m", "allowed": ["m"]},
            "anthropic": "x"
        },
        "tokenBudgetDay": 1000,
        "tokenBudgetMonth": "lots",
        "unknown": 1
    });
    let g = verify_ai(ai).expect("valid ai");
    let a = g.ai.clone().expect("ai kept");
    assert_eq!(a.allowed_providers, ["openai", "deepseek", "deepseek"]);
    assert!(!a.allow_provider_choice);
    assert!(a.allow_model_choice);
    assert_eq!(a.selected_provider.as_deref(), Some("deepseek"));
    assert_eq!(
        a.models_for("openai"),
        Some(&ModelsEntry {
            default_model: "gpt-5-mini".into(),
            allowed: vec!["gpt-5-mini".into(), "gpt-4o-mini".into()]
        })
    );
    // deepseek dropped (default not in allowed), groq not allowed, mistral unknown, anthropic not an object.
    assert_eq!(a.models.len(), 1);
    // `raw` keeps the capsule as sent; the normalised JSON is `to_json`.
    assert_eq!(g.raw()["ai"]["selectedProvider"], " deepseek ");
    assert_eq!(
        js_stringify(&a.to_json()),
        r#"{"profile":"paid_standard","allowedProviders":["openai","deepseek","deepseek"],"defaultProvider":"openai","allowModelChoice":true,"selectedProvider":"deepseek","selectedModel":"deepseek-reasoner","models":{"openai":{"defaultModel":"gpt-5-mini","allowed":["gpt-5-mini","gpt-4o-mini"]}},"tokenBudgetDay":1000}"#
    );
}

#[test]
fn ai_validates_against_the_callers_provider_list() {
    let custom = GrantNames {
        providers: &["workersai", "local"],
        profiles: &["free_low"],
    };
    let p = with(
        base_payload(),
        "ai",
        json!({"profile": "free_low", "allowedProviders": ["workersai"], "defaultProvider": "workersai"}),
    );
    let t = sign_text(&js_stringify(&p), SECRET);
    assert!(verify_grant(&t, SECRET, NOW_MS, &custom).is_ok());
    assert_invalid(
        verify_grant(&t, SECRET, NOW_MS, &names()),
        "Grant ai policy missing required fields",
    );
}

// --- budgets -------------------------------------------------------------

fn grant_with_budgets(b: Value) -> Grant {
    verify(&with(base_payload(), "budgets", b)).expect("budgets object verifies")
}

#[test]
fn budget_accessors_defaults_and_errors() {
    let g = grant_with_budgets(
        json!({"maxTokens": 280.5, "timeoutMs": 15000, "maxRequests": 2.9, "maxCostUsd": 0.01}),
    );
    assert_eq!(g.max_tokens(), Ok(280.5));
    assert_eq!(g.timeout_ms(), Ok(15000.0));
    assert_eq!(g.max_requests(), Ok(2));
    assert_eq!(g.raw_max_requests(), 2.9);
    assert_eq!(g.max_cost_usd(), Ok(Some(0.01)));

    let g = grant_with_budgets(json!({}));
    let e = g.max_tokens().expect_err("maxTokens required");
    assert_eq!(
        (e.status, e.code, e.message.as_str()),
        (
            400,
            ErrorCode::GrantInvalid,
            "Grant budgets.maxTokens must be a positive number"
        )
    );
    assert_eq!(g.timeout_ms(), Ok(20000.0));
    assert_eq!(g.max_requests(), Ok(1));
    assert_eq!(g.raw_max_requests(), 1.0);
    assert_eq!(g.max_cost_usd(), Ok(None));

    let g = grant_with_budgets(json!({"maxRequests": 0.5}));
    assert_eq!(g.max_requests(), Ok(1), "max(1, floor(0.5))");

    for bad in [json!(0), json!(-1), json!("5"), json!(null), json!(true)] {
        let g = grant_with_budgets(
            json!({"maxTokens": bad, "timeoutMs": bad, "maxRequests": bad, "maxCostUsd": bad}),
        );
        for (name, e) in [
            ("maxTokens", g.max_tokens().err()),
            ("timeoutMs", g.timeout_ms().err()),
            ("maxRequests", g.max_requests().err()),
            ("maxCostUsd", g.max_cost_usd().err()),
        ] {
            let e = e.unwrap_or_else(|| panic!("{name}={bad} must fail"));
            assert_eq!(e.status, 400);
            assert_eq!(e.code, ErrorCode::GrantInvalid);
            assert_eq!(
                e.message,
                format!("Grant budgets.{name} must be a positive number")
            );
        }
    }
}

#[test]
fn budget_key_matches_the_contract() {
    let g = verify(&base_payload()).expect("ok");
    assert_eq!(
        g.budget_key("sdr.copilot"),
        "ai-budget:00000000-0000-4000-8000-000000000000:sdr.copilot"
    );

    let p = with(
        without(base_payload(), "jti"),
        "caps",
        json!(["agent:a", "agent:b"]),
    );
    let g = verify(&p).expect("ok");
    assert_eq!(
        g.budget_key("a"),
        "ai-budget:s:agent:a,agent:b:4102444800:a"
    );

    let p = with(
        with(p, "trace", json!({"sessionId": "t-1"})),
        "exp",
        json!(4102444800.5),
    );
    let g = verify(&p).expect("ok");
    assert_eq!(
        g.budget_key("a"),
        "ai-budget:t-1:agent:a,agent:b:4102444800.5:a"
    );

    let p = with(
        with(without(base_payload(), "jti"), "trace", json!({})),
        "sub",
        json!({"kind": "user", "userId": "u", "workspaceId": "w"}),
    );
    let g = verify(&p).expect("ok");
    assert_eq!(
        g.budget_key("x"),
        "ai-budget:u:w:agent:debug.grantProbe:4102444800:x"
    );
}

#[test]
fn js_stringify_prints_numbers_like_javascript() {
    assert_eq!(
        js_stringify(&json!({"a": 1.0, "b": 0.5, "c": -3, "d": "\u{1}\n\"é", "e": [true, null]})),
        "{\"a\":1,\"b\":0.5,\"c\":-3,\"d\":\"\\u0001\\n\\\"é\",\"e\":[true,null]}"
    );
    assert_eq!(js_number(4102444800.0), "4102444800");
    assert_eq!(js_number(0.1 + 0.2), "0.30000000000000004");
}

#[test]
fn payload_parsing_follows_json_parse() {
    let ok = |text: &str| verify_grant(&sign_text(text, SECRET), SECRET, NOW_MS, &names());
    let base = r#""sub":{"kind":"anon","sessionId":"s"},"exp":4102444800,"caps":[],"budgets":{},"mode":"ops""#;
    // Escapes, white space and key order do not matter.
    let g = ok(&format!(
        " {{ \"v\" : 1.0 , \"i\\u0073s\":\"pa\\u0072is\", {base} , \"jti\":\"a\\/b\" }} "
    ))
    .expect("escaped payload verifies");
    assert_eq!(g.jti.as_deref(), Some("a/b"));
    // A repeated member: the last value wins, as with JSON.parse.
    let g = ok(&format!(
        r#"{{"v":1,"iss":"nope","iss":"paris",{base},"mode":"editor"}}"#
    ))
    .expect("duplicate keys: last wins");
    assert_eq!(g.mode, Mode::Editor);
    assert_invalid(
        ok(&format!(r#"{{"v":1,"iss":"paris",{base},"mode":"admin"}}"#)),
        "Grant missing required fields",
    );
    // Unknown members are validated too: malformed JSON anywhere is a bad payload.
    assert_invalid(
        ok(&format!(r#"{{"v":1,"iss":"paris",{base},"x":[1,]}}"#)),
        "Invalid grant payload",
    );
    assert_invalid(
        ok(&format!(r#"{{"v":1,"iss":"paris",{base}}} x"#)),
        "Invalid grant payload",
    );
    assert_invalid(
        ok(&format!(r#"{{"v":1,"iss":"paris",{base}"#)),
        "Invalid grant payload",
    );
    // Invalid UTF-8 is replaced (U+FFFD), never an error by itself.
    let mut bytes = format!(r#"{{"v":1,"iss":"paris",{base},"note":""#).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\"}");
    let p = b64::encode_url(&bytes);
    let g = verify_grant(&sign_b64(&p, SECRET), SECRET, NOW_MS, &names()).expect("lossy utf-8");
    assert_eq!(g.raw()["note"], "\u{fffd}\u{fffd}");
    // Types are checked exactly: a numeric string is not a number, 1 is not "1".
    assert_invalid(
        ok(&format!(r#"{{"v":"1","iss":"paris",{base}}}"#)),
        "Grant missing required fields",
    );
    assert_invalid(
        ok(&format!(r#"{{"v":true,"iss":"paris",{base}}}"#)),
        "Grant missing required fields",
    );
    assert_invalid(
        ok(&format!(r#"{{"v":1,"iss":["paris"],{base}}}"#)),
        "Grant missing required fields",
    );
}

#[test]
fn subject_and_trace_round_trip_for_events() {
    let p = with(
        with(
            base_payload(),
            "trace",
            json!({"sessionId": "t", "envStage": "cloud-dev", "x": [1]}),
        ),
        "sub",
        json!({"kind": "user", "userId": "u", "workspaceId": "w", "extra": {"k": 1}}),
    );
    let g = verify(&p).expect("ok");
    assert_eq!(
        g.trace(),
        Some(json!({"sessionId": "t", "envStage": "cloud-dev", "x": [1]}))
    );
    assert_eq!(
        g.sub_json(),
        json!({"kind": "user", "userId": "u", "workspaceId": "w", "extra": {"k": 1}})
    );
    assert_eq!(g.raw(), p);
}
