//! The tenants crate over the in-memory host: key authentication (revoked,
//! expired, wrong secret), the admin bodies' validation, and the statements
//! the admin routes send to D1.

use futures_executor::block_on;
use serde_json::{json, Value};

use sf_core::http::RouteCtx;
use sf_core::ports::{SqlRow, SqlValue};
use sf_core::testkit::{FakeHost, START_MS};
use sf_tenants::store::{self, KeyRefusal};
use sf_tenants::{admin, keys};

fn key_row(hash: &str, revoked: Option<i64>, expires: Option<i64>) -> SqlRow {
    let mut cols = vec![
        ("key_hash", SqlValue::Text(hash.into())),
        (
            "revoked_at",
            revoked.map_or(SqlValue::Null, SqlValue::Integer),
        ),
        (
            "expires_at",
            expires.map_or(SqlValue::Null, SqlValue::Integer),
        ),
    ];
    for (c, v) in [
        ("id", "t1"),
        ("slug", "acme"),
        ("platform", "web"),
        ("tier", "free"),
    ] {
        cols.push((c, SqlValue::Text(v.into())));
    }
    cols.push(("created_at", SqlValue::Integer(1)));
    cols.push(("updated_at", SqlValue::Integer(2)));
    SqlRow {
        columns: cols.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
    }
}

fn auth(h: &FakeHost, key: &str, row: Option<SqlRow>) -> Result<String, KeyRefusal> {
    if let Some(r) = row {
        h.sql.answer(vec![r]);
    }
    let now = i64::try_from(START_MS).unwrap();
    block_on(store::authenticate(h, key, now))
        .expect("store up")
        .map(|t| t.slug)
}

#[test]
fn a_key_authenticates_unless_wrong_revoked_or_expired() {
    let h = FakeHost::new();
    let k = keys::generate(&h.random);
    let now = i64::try_from(START_MS).unwrap();
    assert_eq!(
        auth(&h, &k.api_key, Some(key_row(&k.hash, None, None))),
        Ok("acme".into())
    );
    let looked_up = h.sql.statements.borrow().last().cloned().unwrap();
    assert_eq!(
        looked_up.params,
        vec![SqlValue::Text(k.key_id.clone())],
        "looked up by key id only"
    );
    let wrong = keys::hash_secret("another secret");
    assert_eq!(
        auth(&h, &k.api_key, Some(key_row(&wrong, None, None))),
        Err(KeyRefusal::Unknown)
    );
    assert_eq!(
        auth(&h, &k.api_key, Some(key_row(&k.hash, Some(now - 1), None))),
        Err(KeyRefusal::Revoked)
    );
    assert_eq!(
        auth(&h, &k.api_key, Some(key_row(&k.hash, None, Some(now)))),
        Err(KeyRefusal::Expired)
    );
    assert_eq!(
        auth(&h, &k.api_key, Some(key_row(&k.hash, None, Some(now + 1)))),
        Ok("acme".into())
    );
    assert_eq!(auth(&h, &k.api_key, None), Err(KeyRefusal::Unknown));
    let n = h.sql.statements.borrow().len();
    assert_eq!(auth(&h, "sk-sf-nope", None), Err(KeyRefusal::Malformed));
    assert_eq!(
        h.sql.statements.borrow().len(),
        n,
        "a malformed key reaches no query"
    );
}

fn ctx(method: &str, uri: &str, param: Option<&str>, body: &Value) -> RouteCtx {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        })
        .unwrap();
    RouteCtx {
        req,
        param: param.map(str::to_owned),
        started_ms: START_MS,
    }
}

fn json_of(res: &http::Response<Vec<u8>>) -> Value {
    serde_json::from_slice(res.body()).unwrap()
}

#[test]
fn create_stores_the_hash_and_shows_the_key_once() {
    let h = FakeHost::new();
    let body = json!({"slug": "acme", "platform": "web", "tier": "premium"});
    let res = block_on(admin::create_route(
        &h,
        ctx("POST", "/admin/v1/tenants", None, &body),
    ))
    .unwrap();
    assert_eq!(res.status(), 201);
    let v = json_of(&res);
    assert_eq!(v["tenant"]["slug"], "acme");
    assert_eq!(v["tenant"]["tier"], "premium");
    let key = v["apiKey"].as_str().unwrap();
    let (_, secret) = keys::parse(key).unwrap();
    let stmts = h.sql.statements.borrow();
    let all = format!("{:?}", *stmts);
    assert!(!all.contains(secret), "the secret is never stored");
    assert!(all.contains(&keys::hash_secret(secret)), "its hash is");
    assert!(stmts
        .iter()
        .any(|s| s.sql.starts_with("INSERT INTO tenants")));
}

#[test]
fn bad_bodies_name_the_field() {
    let h = FakeHost::new();
    for (body, field) in [
        (
            json!({"slug": "a b", "platform": "web", "tier": "free"}),
            "`slug`",
        ),
        (
            json!({"slug": "acme", "platform": 3, "tier": "free"}),
            "`platform`",
        ),
        (
            json!({"slug": "acme", "platform": "web", "tier": 5}),
            "`tier`",
        ),
    ] {
        let e = block_on(admin::create_route(
            &h,
            ctx("POST", "/admin/v1/tenants", None, &body),
        ))
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains(field), "{field}: {}", e.message);
    }
    assert!(h
        .sql
        .statements
        .borrow()
        .iter()
        .all(|s| !s.sql.starts_with("INSERT")));
}
