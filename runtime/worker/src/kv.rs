//! The `Kv` port on Workers KV (`SF_KV`).

use sf_core::ports::{Kv, PortError};

/// Workers KV refuses `expirationTtl` below 60 seconds.
pub const KV_MIN_TTL_S: u64 = 60;

/// Raises a TTL to KV's minimum. The only callers that ask for less are short
/// budget windows, whose correctness lives in the Counter (Durable Object), not
/// in KV, so keeping a KV entry a little longer than asked is harmless.
pub fn kv_ttl(ttl_s: u64) -> u64 {
    ttl_s.max(KV_MIN_TTL_S)
}

pub struct CfKv(pub(crate) Result<worker::kv::KvStore, String>);

impl CfKv {
    fn store(&self) -> Result<&worker::kv::KvStore, PortError> {
        self.0.as_ref().map_err(|e| PortError::new("kv", e.clone()))
    }
}

fn kv_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("kv", e.to_string())
}

impl Kv for CfKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        self.store()?.get(key).text().await.map_err(kv_err)
    }

    async fn put(&self, key: &str, value: &str, ttl_s: Option<u64>) -> Result<(), PortError> {
        let mut put = self.store()?.put(key, value).map_err(kv_err)?;
        if let Some(ttl) = ttl_s {
            put = put.expiration_ttl(kv_ttl(ttl));
        }
        put.execute().await.map_err(kv_err)
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.store()?.delete(key).await.map_err(kv_err)
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let store = self.store()?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        while out.len() < limit {
            // KV pages hold at most 1000 keys.
            let page_size = (limit - out.len()).min(1000) as u64;
            let mut q = store.list().prefix(prefix.to_owned()).limit(page_size);
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.execute().await.map_err(kv_err)?;
            out.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor {
                Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_ttl_is_raised_to_the_minimum_only() {
        assert_eq!(kv_ttl(0), 60);
        assert_eq!(kv_ttl(1), 60);
        assert_eq!(kv_ttl(59), 60);
        assert_eq!(kv_ttl(60), 60);
        assert_eq!(kv_ttl(86_400), 86_400);
    }
}
