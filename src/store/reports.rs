//! Shard reports of a sharded `check`, kept in the store under
//! `reports/<run-id>/shard-K-of-N.json` so `check merge --run-id` finds them on any backend
//! (a directory or S3: the object store is the only state runners share).
//!
//! Write-once: a report is created with the backend's conditional create (`If-None-Match: *`
//! on S3, the compare-and-swap lock on a directory), never replaced. A second shard K of one
//! run id is refused, because two nights under one run id would merge into a report of
//! neither. Reports are not snapshots: `gc` leaves them, `fsck` checks their names.

use super::{Store, StoreError};

impl Store {
    /// Create `key` (a report path from `check::shard::report_key`) with `bytes`, or say
    /// that it is already there.
    pub fn put_report_once(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        if self.backend().compare_and_swap(key, None, bytes)? {
            return Ok(());
        }
        Err(StoreError::Io {
            path: self.backend().location(key),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a report of this shard of this run is already in the store (reports are \
                 written once: give each run its own run id)",
            ),
        })
    }

    /// The report files of a run, by name (`shard-K-of-N.json`), with their bytes.
    pub fn run_reports(&self, run_id: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let dir = format!("reports/{run_id}");
        let mut out = Vec::new();
        for name in self.backend().list(&dir)? {
            if name.starts_with(".tmp-") {
                continue;
            }
            let key = format!("{dir}/{name}");
            if let Some(bytes) = self.backend().get(&key)? {
                out.push((name, bytes));
            }
        }
        Ok(out)
    }

    /// Where a key lives, for messages.
    pub fn location_of(&self, key: &str) -> std::path::PathBuf {
        self.backend().location(key)
    }
}

/// Whether `rest` (a key below `reports/`) is a name a shard report has.
pub fn is_report_name(rest: &str) -> bool {
    let Some((run, file)) = rest.split_once('/') else {
        return false;
    };
    let shard = file
        .strip_prefix("shard-")
        .and_then(|f| f.strip_suffix(".json"))
        .and_then(|f| f.split_once("-of-"));
    crate::check::shard::validate_run_id(run).is_ok()
        && shard.is_some_and(|(k, n)| {
            matches!((k.parse::<u64>(), n.parse::<u64>()), (Ok(k), Ok(n)) if k >= 1 && k <= n)
        })
}
