//! Refs (`baseline`, `entry`, `prod/nightly`, …): small files naming a snapshot id, with a
//! per-ref history (reflog) so `driftgate log REF` shows every position the ref held.

use super::atomic::write_atomic;
use super::{Store, StoreError};
use crate::model::ContentHash;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Git-like rules: `/`-separated components of `[A-Za-z0-9._-]`, none empty, none starting
/// with `.`, no `..`, not ending in `.lock`, at most 200 bytes, and not the word `live`.
pub fn validate_ref_name(name: &str) -> Result<(), StoreError> {
    let bad = |reason: &str| StoreError::BadRefName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() > 200 {
        return Err(bad("it is longer than 200 bytes"));
    }
    if name == "live" {
        return Err(bad("`live` is reserved for a snapshot taken now"));
    }
    if name.starts_with('/') {
        return Err(bad("it is an absolute path"));
    }
    if name.contains("..") {
        return Err(bad("it contains `..`"));
    }
    for part in name.split('/') {
        if part.is_empty() {
            return Err(bad("it has an empty path component"));
        }
        if part.starts_with('.') {
            return Err(bad("a component starts with `.`"));
        }
        if part.ends_with(".lock") {
            return Err(bad("a component ends with `.lock`"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(bad(&format!(
                "character {c:?} is not allowed (use letters, digits, `.`, `_`, `-` and `/`)"
            )));
        }
    }
    Ok(())
}

/// One line of a ref's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefLogEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<ContentHash>,
    pub new: ContentHash,
    /// RFC 3339, UTC.
    pub time: String,
    pub message: String,
}

struct RefLock {
    path: PathBuf,
}

impl Drop for RefLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl Store {
    fn ref_path(&self, name: &str) -> PathBuf {
        self.root().join("refs").join(name)
    }

    fn reflog_path(&self, name: &str) -> PathBuf {
        self.root().join("logs").join(name)
    }

    pub fn read_ref(&self, name: &str) -> Result<Option<ContentHash>, StoreError> {
        validate_ref_name(name)?;
        let path = self.ref_path(name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(None)
            }
            Err(e) if path.is_dir() => {
                let _ = e;
                return Ok(None);
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        ContentHash::from_hex(text.trim())
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                path,
                reason: "a ref must hold one 64-digit snapshot id".into(),
            })
    }

    /// Point `name` at `id` (which must be a stored snapshot) and append to its history.
    pub fn update_ref(
        &self,
        name: &str,
        id: &ContentHash,
        message: &str,
    ) -> Result<(), StoreError> {
        validate_ref_name(name)?;
        self.read_record(id)?;
        let path = self.ref_path(name);
        let dir = path.parent().expect("ref paths have a parent");
        fs::create_dir_all(dir).map_err(|e| StoreError::BadFile {
            path: dir.to_path_buf(),
            reason: format!("cannot create the ref directory ({e}); a ref and a ref directory cannot share a name"),
        })?;
        if path.is_dir() {
            return Err(StoreError::BadRefName {
                name: name.to_string(),
                reason: "other refs live under it (a ref and a ref directory cannot share a name)"
                    .into(),
            });
        }
        let lock_path = dir.join(format!(
            "{}.lock",
            path.file_name().unwrap().to_string_lossy()
        ));
        let _lock = self.take_lock(name, lock_path)?;
        let old = self.read_ref(name)?;
        write_atomic(&path, format!("{}\n", id.to_hex()).as_bytes())?;
        let entry = RefLogEntry {
            old,
            new: *id,
            time: crate::now_rfc3339(),
            message: message.to_string(),
        };
        let log_path = self.reflog_path(name);
        if let Some(parent) = log_path.parent() {
            fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        }
        let mut line = serde_json::to_vec(&entry).expect("reflog entries serialize");
        line.push(b'\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| StoreError::io(&log_path, e))?;
        f.write_all(&line)
            .map_err(|e| StoreError::io(&log_path, e))?;
        f.sync_all().map_err(|e| StoreError::io(&log_path, e))?;
        Ok(())
    }

    fn take_lock(&self, name: &str, lock_path: PathBuf) -> Result<RefLock, StoreError> {
        // Other driftgate processes hold a ref lock for milliseconds; wait up to ~10 s.
        for _ in 0..1000 {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock_path)
            {
                Ok(_) => return Ok(RefLock { path: lock_path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Err(e) => return Err(StoreError::io(&lock_path, e)),
            }
        }
        Err(StoreError::RefLocked {
            name: name.to_string(),
            lock: lock_path,
        })
    }

    /// Every ref and the snapshot it names, sorted by name.
    pub fn list_refs(&self) -> Result<Vec<(String, ContentHash)>, StoreError> {
        let mut out = Vec::new();
        for rel in files_below(&self.root().join("refs"))? {
            if rel.ends_with(".lock") || rel.contains("/.tmp-") || rel.starts_with(".tmp-") {
                continue;
            }
            if let Some(id) = self.read_ref(&rel)? {
                out.push((rel, id));
            }
        }
        Ok(out)
    }

    /// Names of every ref that has a history (including refs that no longer exist), sorted.
    pub fn reflog_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(files_below(&self.root().join("logs"))?
            .into_iter()
            .filter(|rel| validate_ref_name(rel).is_ok())
            .collect())
    }

    /// Replace a ref's history (for `gc`), under the ref's lock so no update is lost.
    pub(super) fn rewrite_reflog(
        &self,
        name: &str,
        entries: &[RefLogEntry],
    ) -> Result<(), StoreError> {
        validate_ref_name(name)?;
        let path = self.ref_path(name);
        let dir = path.parent().expect("ref paths have a parent");
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let lock_path = dir.join(format!(
            "{}.lock",
            path.file_name().unwrap().to_string_lossy()
        ));
        let _lock = self.take_lock(name, lock_path)?;
        let mut text = Vec::new();
        for entry in entries {
            text.extend(serde_json::to_vec(entry).expect("reflog entries serialize"));
            text.push(b'\n');
        }
        write_atomic(&self.reflog_path(name), &text)
    }

    /// The history of a ref, oldest first.
    pub fn reflog(&self, name: &str) -> Result<Vec<RefLogEntry>, StoreError> {
        validate_ref_name(name)?;
        let path = self.reflog_path(name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| StoreError::Corrupt {
                    path: path.clone(),
                    reason: format!("line {}: {e}", i + 1),
                })
            })
            .collect()
    }
}

/// Every file below `base`, as a `/`-separated path relative to it, sorted; an absent
/// `base` has none.
fn files_below(base: &Path) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let mut stack = vec![base.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io(&dir, e)),
        };
        for entry in rd {
            let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.push(rel.to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_are_validated() {
        for ok in ["baseline", "entry", "prod/nightly", "v1.2", "a-b_c"] {
            assert!(validate_ref_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../../x",
            "/etc/passwd",
            "a//b",
            ".hidden",
            "a/.b",
            "x.lock",
            "live",
            "sp ace",
            "new\nline",
            "a..b",
        ] {
            assert!(validate_ref_name(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
