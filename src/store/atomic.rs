//! Atomic file writes: temp file in the same directory, fsync, rename, fsync the directory.
//! A reader sees the old file or the new one, never a torn one.

use super::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().expect("store paths always have a parent");
    fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let tmp = temp_path(dir, path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| StoreError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The temp file beside `path`. It ends in `.tmp`, not in `path`'s extension, so nothing
/// that globs for one (`*.idx` in the store, `*.prom` in node-exporter's textfile
/// directory) ever reads a half-written or crash-orphaned file.
pub(crate) fn temp_path(dir: &Path, path: &Path) -> std::path::PathBuf {
    dir.join(format!(
        ".tmp-{}-{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ))
}

pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_never_carry_the_target_extension() {
        let t = temp_path(Path::new("/d"), Path::new("/d/driftgate.prom"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(".tmp-") && name.ends_with(".tmp"),
            "{name}"
        );
        assert!(!name.ends_with(".prom"));
    }
}
