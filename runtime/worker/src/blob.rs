//! The `Blob` port on R2 (`SF_R2`).

use sf_core::ports::{Blob, PortError};
use worker::Bucket;

pub struct CfBlob(pub(crate) Result<Bucket, String>);

fn blob_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("blob", e.to_string())
}

impl CfBlob {
    fn bucket(&self) -> Result<&Bucket, PortError> {
        self.0
            .as_ref()
            .map_err(|e| PortError::new("blob", e.clone()))
    }
}

impl Blob for CfBlob {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError> {
        let meta = worker::HttpMetadata {
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        self.bucket()?
            .put(key, body)
            .http_metadata(meta)
            .execute()
            .await
            .map_err(blob_err)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let Some(obj) = self.bucket()?.get(key).execute().await.map_err(blob_err)? else {
            return Ok(None);
        };
        match obj.body() {
            Some(body) => body.bytes().await.map(Some).map_err(blob_err),
            None => Ok(Some(Vec::new())),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.bucket()?.delete(key).await.map_err(blob_err)
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let bucket = self.bucket()?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        while out.len() < limit {
            let page_size = (limit - out.len()).min(1000) as u32;
            let mut q = bucket.list().prefix(prefix).limit(page_size);
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.execute().await.map_err(blob_err)?;
            out.extend(page.objects().iter().map(|o| o.key()));
            match page.cursor() {
                Some(c) if page.truncated() && !c.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
