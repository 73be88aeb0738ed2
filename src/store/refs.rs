//! Refs (`baseline`, `entry`, `prod/nightly`, …) and their history, so `driftgate log REF`
//! shows every position the ref held.
//!
//! A ref is one small record, `refs/<name>`: the snapshot it names and the hash of its
//! newest history entry. History entries are immutable blobs, `history/<hash>.json`, each
//! naming the entry before it. Moving a ref writes the new entry first, then swaps the record
//! with a compare-and-swap against the version read: the swap is the one commit point, so a
//! failure at any step leaves the ref and its history as they were, concurrent movers never
//! lose each other's entries, and a store copied file by file (`cp -r`, `aws s3 sync`) stays
//! valid (an entry is written before anything names it).
//!
//! Stores written before this format hold a bare snapshot id in `refs/<name>` and a JSON line
//! per move in `logs/<name>`; both are still read. The first move of such a ref starts its
//! chain, and its history is the old lines followed by the chain; `gc` folds the old lines
//! into the chain when it rewrites a history.

use super::backend::Version;
use super::{Store, StoreError};
use crate::model::{canonical_bytes, ContentHash};
use serde::{Deserialize, Serialize};

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

/// One position of a ref's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefLogEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<ContentHash>,
    pub new: ContentHash,
    /// RFC 3339, UTC.
    pub time: String,
    pub message: String,
}

/// The record in `refs/<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefRecord {
    pub snapshot: ContentHash,
    /// The newest history entry (`None` for a ref of the old format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<ContentHash>,
}

/// A history blob: one position and the entry before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(rename = "ref")]
    pub ref_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<ContentHash>,
    pub new: ContentHash,
    pub time: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<ContentHash>,
}

impl HistoryEntry {
    fn log_entry(&self) -> RefLogEntry {
        RefLogEntry {
            old: self.old,
            new: self.new,
            time: self.time.clone(),
            message: self.message.clone(),
        }
    }
}

/// How often a move retries when other movers of the same ref keep winning the swap.
const CAS_ATTEMPTS: usize = 200;

/// A history chain longer than this is taken for corruption, not walked forever.
const MAX_HISTORY: usize = 10_000_000;

fn ref_key(name: &str) -> String {
    format!("refs/{name}")
}

fn legacy_log_key(name: &str) -> String {
    format!("logs/{name}")
}

pub(crate) fn history_key(hash: &ContentHash) -> String {
    format!("history/{}.json", hash.to_hex())
}

fn not_moved(name: &str, source: StoreError) -> StoreError {
    StoreError::RefNotMoved {
        name: name.to_string(),
        source: Box::new(source),
    }
}

impl Store {
    /// The record of `name` and its version, or `None` when there is no such ref.
    pub fn read_ref_record(&self, name: &str) -> Result<Option<(RefRecord, Version)>, StoreError> {
        validate_ref_name(name)?;
        let key = ref_key(name);
        let Some((bytes, version)) = self.backend().read_versioned(&key)? else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt {
            path: self.backend().location(&key),
            reason: "a ref must hold one 64-digit snapshot id or a ref record".into(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| corrupt())?.trim();
        let record = match ContentHash::from_hex(text) {
            Some(snapshot) => RefRecord {
                snapshot,
                history: None,
            },
            None => serde_json::from_str(text).map_err(|_| corrupt())?,
        };
        Ok(Some((record, version)))
    }

    pub fn read_ref(&self, name: &str) -> Result<Option<ContentHash>, StoreError> {
        Ok(self.read_ref_record(name)?.map(|(r, _)| r.snapshot))
    }

    /// One history entry, its hash checked.
    pub fn read_history_entry(&self, hash: &ContentHash) -> Result<HistoryEntry, StoreError> {
        let key = history_key(hash);
        let path = self.backend().location(&key);
        let bytes = self.get_existing(&key)?;
        let actual = ContentHash::of(&bytes);
        if actual != *hash {
            return Err(StoreError::HashMismatch {
                path,
                expected: hash.to_hex(),
                actual: actual.to_hex(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            path,
            reason: format!("not a history entry: {e}"),
        })
    }

    /// The chain of entries from `head` back, newest first, with their hashes.
    pub fn history_chain(
        &self,
        head: Option<ContentHash>,
    ) -> Result<Vec<(ContentHash, HistoryEntry)>, StoreError> {
        let mut out = Vec::new();
        let mut next = head;
        while let Some(hash) = next {
            if out.len() >= MAX_HISTORY {
                return Err(StoreError::Corrupt {
                    path: self.backend().location(&history_key(&hash)),
                    reason: format!("a history longer than {MAX_HISTORY} entries"),
                });
            }
            let entry = self.read_history_entry(&hash)?;
            next = entry.previous;
            out.push((hash, entry));
        }
        Ok(out)
    }

    /// Point `name` at `id` (which must be a stored snapshot), recording the move in its
    /// history. The history entry is written before the ref is swapped: when that write
    /// fails, the ref has not moved and the error says so.
    pub fn update_ref(
        &self,
        name: &str,
        id: &ContentHash,
        message: &str,
    ) -> Result<(), StoreError> {
        validate_ref_name(name)?;
        // Before checking the snapshot is there: a gc must not drop it between the check
        // and the swap.
        self.hold_writer_lease(&format!("moving ref {name}"))?;
        self.read_record(id)?;
        let clash = |reason: String| StoreError::BadRefName {
            name: name.to_string(),
            reason,
        };
        if !self.backend().list(&ref_key(name))?.is_empty() {
            return Err(clash(
                "other refs live under it (a ref and a ref directory cannot share a name)".into(),
            ));
        }
        let parts: Vec<&str> = name.split('/').collect();
        for n in 1..parts.len() {
            let parent = parts[..n].join("/");
            if self.read_ref(&parent)?.is_some() {
                return Err(clash(format!(
                    "ref {parent} exists (a ref and a ref directory cannot share a name)"
                )));
            }
        }
        for _ in 0..CAS_ATTEMPTS {
            let current = self.read_ref_record(name)?;
            let entry = HistoryEntry {
                ref_name: name.to_string(),
                old: current.as_ref().map(|(r, _)| r.snapshot),
                new: *id,
                time: crate::now_rfc3339(),
                message: message.to_string(),
                previous: current.as_ref().and_then(|(r, _)| r.history),
            };
            let entry_bytes = canonical_bytes(&entry);
            let entry_hash = ContentHash::of(&entry_bytes);
            self.backend()
                .put(&history_key(&entry_hash), &entry_bytes)
                .map_err(|e| not_moved(name, e))?;
            self.check_writer_lease().map_err(|e| not_moved(name, e))?;
            let record = RefRecord {
                snapshot: *id,
                history: Some(entry_hash),
            };
            let mut record_bytes = canonical_bytes(&record);
            record_bytes.push(b'\n');
            let swapped = self
                .backend()
                .compare_and_swap(
                    &ref_key(name),
                    current.as_ref().map(|(_, v)| v),
                    &record_bytes,
                )
                .map_err(|e| not_moved(name, e))?;
            if swapped {
                return Ok(());
            }
            // Another mover won; its entry is the new head: write ours after it.
        }
        Err(not_moved(
            name,
            StoreError::RefLocked {
                name: name.to_string(),
                lock: self.backend().location(&ref_key(name)),
            },
        ))
    }

    /// Every ref and the snapshot it names, sorted by name.
    pub fn list_refs(&self) -> Result<Vec<(String, ContentHash)>, StoreError> {
        let mut out = Vec::new();
        for rel in self.backend().list("refs")? {
            // Lock files of earlier versions, and temp files of a write in progress.
            if rel.ends_with(".lock") || rel.contains("/.tmp-") || rel.starts_with(".tmp-") {
                continue;
            }
            if let Some(id) = self.read_ref(&rel)? {
                out.push((rel, id));
            }
        }
        Ok(out)
    }

    /// Names of every ref that has a history of the old format (including refs that no
    /// longer exist), sorted.
    pub fn reflog_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .backend()
            .list("logs")?
            .into_iter()
            .filter(|rel| validate_ref_name(rel).is_ok())
            .collect())
    }

    /// Replace a ref's history with `entries` (for `gc`): a new chain, then one swap of the
    /// ref's record to it; the old chain's entries and old-format lines go afterwards. A ref
    /// moved meanwhile is left alone and reported.
    pub(super) fn rewrite_reflog(
        &self,
        name: &str,
        entries: &[RefLogEntry],
    ) -> Result<(), StoreError> {
        validate_ref_name(name)?;
        let Some((record, version)) = self.read_ref_record(name)? else {
            // The history of a ref that is gone is old-format only.
            let key = legacy_log_key(name);
            if entries.is_empty() {
                return self.backend().delete(&key);
            }
            let mut text = Vec::new();
            for entry in entries {
                text.extend(serde_json::to_vec(entry).expect("reflog entries serialize"));
                text.push(b'\n');
            }
            return self.backend().put(&key, &text);
        };
        let old_chain = self.history_chain(record.history)?;
        let mut previous = None;
        let mut new_chain = std::collections::HashSet::new();
        for e in entries {
            let entry = HistoryEntry {
                ref_name: name.to_string(),
                old: e.old,
                new: e.new,
                time: e.time.clone(),
                message: e.message.clone(),
                previous,
            };
            let bytes = canonical_bytes(&entry);
            let hash = ContentHash::of(&bytes);
            self.backend().put(&history_key(&hash), &bytes)?;
            new_chain.insert(hash);
            previous = Some(hash);
        }
        let mut record_bytes = canonical_bytes(&RefRecord {
            snapshot: record.snapshot,
            history: previous,
        });
        record_bytes.push(b'\n');
        if !self
            .backend()
            .compare_and_swap(&ref_key(name), Some(&version), &record_bytes)?
        {
            return Err(StoreError::Corrupt {
                path: self.backend().location(&ref_key(name)),
                reason: format!("ref {name} moved while gc rewrote its history; run gc again"),
            });
        }
        self.backend().delete(&legacy_log_key(name))?;
        for (hash, _) in old_chain {
            if !new_chain.contains(&hash) {
                self.backend().delete(&history_key(&hash))?;
            }
        }
        Ok(())
    }

    /// The history of a ref, oldest first: old-format lines, then the chain.
    pub fn reflog(&self, name: &str) -> Result<Vec<RefLogEntry>, StoreError> {
        validate_ref_name(name)?;
        let key = legacy_log_key(name);
        let path = self.backend().location(&key);
        let mut out: Vec<RefLogEntry> = match self.backend().get(&key)? {
            None => Vec::new(),
            Some(bytes) => String::from_utf8_lossy(&bytes)
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, line)| {
                    serde_json::from_str(line).map_err(|e| StoreError::Corrupt {
                        path: path.clone(),
                        reason: format!("line {}: {e}", i + 1),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if let Some((record, _)) = self.read_ref_record(name)? {
            let chain = self.history_chain(record.history)?;
            out.extend(chain.iter().rev().map(|(_, e)| e.log_entry()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{function, snapshot};

    /// A store holding two snapshots, and their ids.
    fn two_snapshots() -> (tempfile::TempDir, Store, ContentHash, ContentHash) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_or_init(dir.path()).unwrap();
        let (a, _) = store
            .write_snapshot(&snapshot(vec![function("a", "BEGIN END")]))
            .unwrap();
        let (b, _) = store
            .write_snapshot(&snapshot(vec![function("b", "BEGIN END")]))
            .unwrap();
        (dir, store, a, b)
    }

    #[test]
    fn a_ref_of_the_old_format_keeps_its_history_when_it_moves() {
        let (dir, store, a, b) = two_snapshots();
        // As driftgate wrote refs before history chains: a bare id and a log line.
        std::fs::create_dir_all(dir.path().join("refs")).unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("refs/nightly"), format!("{a}\n")).unwrap();
        let line =
            serde_json::json!({"new": a, "time": "2026-01-01T00:00:00.000Z", "message": "old"});
        std::fs::write(dir.path().join("logs/nightly"), format!("{line}\n")).unwrap();
        assert_eq!(store.read_ref("nightly").unwrap(), Some(a));
        assert_eq!(store.reflog("nightly").unwrap().len(), 1);

        store.update_ref("nightly", &b, "new").unwrap();
        assert_eq!(store.read_ref("nightly").unwrap(), Some(b));
        let log = store.reflog("nightly").unwrap();
        let moves: Vec<_> = log
            .iter()
            .map(|e| (e.old, e.new, e.message.as_str()))
            .collect();
        assert_eq!(moves, [(None, a, "old"), (Some(a), b, "new")]);

        // gc's rewrite folds the old lines into the chain.
        store.rewrite_reflog("nightly", &log).unwrap();
        assert!(!dir.path().join("logs/nightly").exists());
        assert_eq!(store.reflog("nightly").unwrap(), log);
        assert!(store.fsck().unwrap().is_clean());
    }

    #[test]
    fn a_failed_history_write_leaves_the_ref_where_it_was_and_says_so() {
        let (dir, store, a, b) = two_snapshots();
        store.update_ref("prod", &a, "first").unwrap();
        let history = dir.path().join("history");
        let saved = dir.path().join("history.saved");
        std::fs::rename(&history, &saved).unwrap();
        // A file where the directory of history entries should be: no entry can be written
        // (as root, mode bits would not stop the write).
        std::fs::write(&history, b"in the way").unwrap();
        let e = store.update_ref("prod", &b, "second").unwrap_err();
        assert!(matches!(e, StoreError::RefNotMoved { .. }), "{e:?}");
        assert!(e.to_string().contains("prod was not moved"), "{e}");
        std::fs::remove_file(&history).unwrap();
        std::fs::rename(&saved, &history).unwrap();
        assert_eq!(store.read_ref("prod").unwrap(), Some(a));
        assert_eq!(store.reflog("prod").unwrap().len(), 1);
    }

    /// gc stops honouring a lease once it expires, so a writer that outlived its lease
    /// must not swap a ref onto what it reused.
    #[test]
    fn a_writer_whose_lease_ran_out_does_not_move_the_ref() {
        let (_dir, store, a, b) = two_snapshots();
        store.update_ref("prod", &a, "first").unwrap();
        let expired = store
            .backend()
            .acquire_lease(
                crate::store::backend::LeaseKind::Writer,
                "slow",
                std::time::Duration::ZERO,
            )
            .unwrap();
        *store.writer_lease.lock().unwrap() = Some(expired);
        let e = store.update_ref("prod", &b, "too late").unwrap_err();
        assert!(e.to_string().contains("ran out"), "{e}");
        assert_eq!(store.read_ref("prod").unwrap(), Some(a));
    }

    #[test]
    fn concurrent_moves_of_one_ref_lose_no_history() {
        let (_dir, store, a, b) = two_snapshots();
        let root = store.root().to_path_buf();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let root = root.clone();
                scope.spawn(move || {
                    let store = Store::open(&root).unwrap();
                    for i in 0..10 {
                        let id = if (t + i) % 2 == 0 { a } else { b };
                        store
                            .update_ref("shared", &id, &format!("{t}/{i}"))
                            .unwrap();
                    }
                });
            }
        });
        let log = store.reflog("shared").unwrap();
        assert_eq!(log.len(), 40);
        for pair in log.windows(2) {
            assert_eq!(pair[1].old, Some(pair[0].new));
        }
        assert_eq!(store.read_ref("shared").unwrap(), Some(log[39].new));
    }

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
