//! Tenants (issue 13): each tenant (`slug`, `platform`, `tier`) lives in D1
//! (`migrations/0004_tenants.sql`) with its API keys. A key is
//! `sk-sf-<keyId>_<secret>`, shown once when it is made; only the SHA-256 of
//! the secret is stored. A request's key is looked up by its key id, then the
//! hash is compared in constant time; revoked and expired keys are refused.
//!
//! The admin routes (`admin` scheme: `SF_ADMIN_TOKEN`) are in [`admin`].
//! Depends on `sf-core` only; the composition root binds the handlers.

pub mod admin;
pub mod chat;
pub mod keys;
pub mod quota;
pub mod shadow;
pub mod sse;
pub mod store;
pub mod validate;
pub mod wire;
