//! Tenant API keys: `sk-sf-<keyId>_<secret>` with a 12-hex-digit key id and a
//! 64-hex-digit secret (32 random bytes). The store keeps the key id and the
//! SHA-256 of the secret, never the key.

use sha2::{Digest, Sha256};

use sf_core::ports::Random;
use sf_core::secret::ct_eq;

pub const PREFIX: &str = "sk-sf-";
const KEY_ID_HEX: usize = 12;
const SECRET_HEX: usize = 64;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A freshly made key: what the caller sees once, and what is stored.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub key_id: String,
    pub api_key: String,
    pub hash: String,
}

pub fn generate(rng: &impl Random) -> NewKey {
    let mut id = [0u8; KEY_ID_HEX / 2];
    let mut secret = [0u8; SECRET_HEX / 2];
    rng.fill(&mut id);
    rng.fill(&mut secret);
    let (key_id, secret) = (hex(&id), hex(&secret));
    NewKey {
        api_key: format!("{PREFIX}{key_id}_{secret}"),
        hash: hash_secret(&secret),
        key_id,
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Splits a presented key into its key id and secret; `None` if it is not
/// shaped like one of ours (so nothing is looked up).
pub fn parse(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.strip_prefix(PREFIX)?.split_once('_')?;
    (is_lower_hex(id, KEY_ID_HEX) && is_lower_hex(secret, SECRET_HEX)).then_some((id, secret))
}

/// Whether `secret` hashes to the stored `hash` (constant time).
pub fn matches(secret: &str, hash: &str) -> bool {
    ct_eq(hash_secret(secret).as_bytes(), hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sf_core::testkit::FixedRandom;

    #[test]
    fn a_generated_key_parses_and_matches_its_hash_only() {
        let k = generate(&FixedRandom(7));
        assert!(k.api_key.starts_with("sk-sf-"));
        let (id, secret) = parse(&k.api_key).expect("parses");
        assert_eq!(id, k.key_id);
        assert!(matches(secret, &k.hash));
        assert!(!k.hash.contains(secret), "the hash is not the secret");
        let other = format!("{}0", &secret[..SECRET_HEX - 1]);
        assert!(!matches(&other, &k.hash));
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        for bad in [
            "",
            "sk-sf-",
            "sk-sf-abc_def",
            "Bearer x",
            "sk-sf-0123456789ab",
            &format!("sk-sf-0123456789aB_{}", "0".repeat(64)),
            &format!("sk-sf-0123456789ab_{}", "0".repeat(63)),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(parse(&format!("sk-sf-0123456789ab_{}", "0".repeat(64))).is_some());
    }
}
