//! A ref's history as changes: each position its ref log records, diffed against the
//! position before it (what the catalog became, and when), with the verdict a check wrote
//! in the entry's message. Snapshots are loaded through an injected function, so this
//! module compares and never reads a store itself.

use super::Diff;
use crate::model::{CatalogSnapshot, ContentHash};
use crate::store::refs::RefLogEntry;

/// One position of the ref, and how it differs from the one before.
pub struct HistoryEntry {
    /// RFC 3339, UTC, as the ref log has it.
    pub time: String,
    pub snapshot: ContentHash,
    pub previous: Option<ContentHash>,
    pub message: String,
    /// `PASS`, `WARN`, `BLOCK` when a check moved the ref (its message says so).
    pub verdict: Option<String>,
    /// The snapshot's metadata, when it could be loaded.
    pub created_at: Option<String>,
    pub source: Option<String>,
    /// Against the previous position; none for the first, or when it is the same snapshot.
    pub diff: Option<Diff>,
    /// Why the diff could not be made (a snapshot that no longer loads): said, not skipped.
    pub error: Option<String>,
}

/// The ref log of `name` (oldest first) as changes.
pub fn history(
    entries: &[RefLogEntry],
    mut load: impl FnMut(&ContentHash) -> Result<CatalogSnapshot, String>,
) -> Vec<HistoryEntry> {
    let mut out = Vec::with_capacity(entries.len());
    // The snapshot loaded last, so each is loaded once along the log.
    let mut cached: Option<(ContentHash, CatalogSnapshot)> = None;
    for e in entries {
        let verdict = e
            .message
            .strip_prefix(crate::check::CHECKED_MESSAGE_PREFIX)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string);
        let mut entry = HistoryEntry {
            time: e.time.clone(),
            snapshot: e.new,
            previous: e.old,
            message: e.message.clone(),
            verdict,
            created_at: None,
            source: None,
            diff: None,
            error: None,
        };
        let head = match &cached {
            Some((id, s)) if *id == e.new => Ok(s.clone()),
            _ => load(&e.new),
        };
        match head {
            Err(why) => entry.error = Some(why),
            Ok(head) => {
                entry.created_at = Some(head.meta.created_at.clone());
                entry.source = Some(head.meta.source.describe());
                if let Some(old) = e.old.filter(|o| *o != e.new) {
                    let base = match &cached {
                        Some((id, s)) if *id == old => Ok(s.clone()),
                        _ => load(&old),
                    };
                    match base {
                        Ok(base) => entry.diff = Some(super::diff(&base, &head)),
                        Err(why) => entry.error = Some(why),
                    }
                }
                cached = Some((e.new, head));
            }
        }
        out.push(entry);
    }
    out
}
