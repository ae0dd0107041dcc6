//! `Blob` (R2) on files under `<data-dir>/blob/`. A key's `/` separators
//! become directories. Writes go to `<data-dir>/tmp/` first, are synced, then
//! renamed into place: a crash leaves either the old object or the new one,
//! never half of one, and `list` never sees a temporary file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sf_core::ports::{Blob, PortError};

pub struct NativeBlob {
    root: PathBuf,
    tmp: PathBuf,
}

/// Distinguishes temporary files of concurrent writers in one process.
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Checks that `key` names a file strictly inside the blob root: relative,
/// no empty, `.` or `..` segment, no NUL, no backslash (a Windows separator),
/// each segment short enough for common filesystems.
pub fn validate_key(key: &str) -> Result<(), PortError> {
    let refuse = |why: &str| {
        Err(PortError::new(
            "blob",
            format!("refused key {key:?}: {why}"),
        ))
    };
    if key.is_empty() {
        return refuse("empty");
    }
    if key.starts_with('/') {
        return refuse("absolute paths are not keys");
    }
    if key.contains('\0') || key.contains('\\') {
        return refuse("NUL and backslash are not allowed");
    }
    for seg in key.split('/') {
        match seg {
            "" => return refuse("empty path segment (leading, trailing or double '/')"),
            "." | ".." => return refuse("'.' and '..' segments are not allowed"),
            s if s.len() > 255 => return refuse("a path segment is longer than 255 bytes"),
            _ => {}
        }
    }
    Ok(())
}

impl NativeBlob {
    pub(crate) fn open(data_dir: &Path) -> Result<Self, PortError> {
        let root = data_dir.join("blob");
        let tmp = data_dir.join("tmp");
        for d in [&root, &tmp] {
            std::fs::create_dir_all(d).map_err(|e| {
                PortError::new("blob", format!("cannot create {}: {e}", d.display()))
            })?;
        }
        Ok(Self { root, tmp })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, PortError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

/// Runs blocking file work on Tokio's blocking pool when inside a runtime
/// (an fsync must not stall the thread's other requests), inline otherwise.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PortError> + Send + 'static,
) -> Result<T, PortError> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h
            .spawn_blocking(f)
            .await
            .map_err(|e| PortError::new("blob", format!("file task failed: {e}")))?,
        Err(_) => f(),
    }
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> PortError {
    PortError::new("blob", format!("{what} {}: {e}", path.display()))
}

fn write_atomic(tmp_dir: &Path, dest: &Path, body: &[u8]) -> Result<(), PortError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_err("cannot create", parent, e))?;
    }
    let seq = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = tmp_dir.join(format!("{}-{seq}.part", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io_err("cannot create", &tmp, e))?;
        f.write_all(body)
            .map_err(|e| io_err("cannot write", &tmp, e))?;
        f.sync_all().map_err(|e| io_err("cannot sync", &tmp, e))?;
        std::fs::rename(&tmp, dest).map_err(|e| io_err("cannot move into place", dest, e))?;
        // Persist the new directory entry too, so the rename survives a crash.
        if let Some(parent) = dest.parent() {
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn collect(dir: &Path, rel: &str, prefix: &str, out: &mut Vec<String>) -> Result<(), PortError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("cannot list", dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| io_err("cannot list", dir, e))?;
        // Names that are not UTF-8 were not written through this port.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let key = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry
            .file_type()
            .map_err(|e| io_err("cannot stat", &entry.path(), e))?;
        if ft.is_dir() {
            let as_dir = format!("{key}/");
            // Descend only where keys under the prefix can live.
            if as_dir.starts_with(prefix) || prefix.starts_with(&as_dir) {
                collect(&entry.path(), &key, prefix, out)?;
            }
        } else if ft.is_file() && key.starts_with(prefix) {
            out.push(key);
        }
    }
    Ok(())
}

impl Blob for NativeBlob {
    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<(), PortError> {
        let dest = self.path_of(key)?;
        let tmp = self.tmp.clone();
        blocking(move || write_atomic(&tmp, &dest, &body)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // A directory at this key ("a" when "a/b" exists) is not an object.
            Err(_) if path.is_dir() => Ok(None),
            Err(e) => Err(io_err("cannot read", &path, e)),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let path = self.path_of(key)?;
        let root = self.root.clone();
        blocking(move || {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(_) if path.is_dir() => return Ok(()),
                Err(e) => return Err(io_err("cannot delete", &path, e)),
            }
            // Tidy now-empty parent directories; `remove_dir` refuses non-empty ones.
            let mut dir = path.parent().map(Path::to_path_buf);
            while let Some(d) = dir {
                if d == root || std::fs::remove_dir(&d).is_err() {
                    break;
                }
                dir = d.parent().map(Path::to_path_buf);
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, PortError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        blocking(move || {
            let mut out = Vec::new();
            collect(&root, "", &prefix, &mut out)?;
            out.sort();
            out.truncate(limit);
            Ok(out)
        })
        .await
    }
}
