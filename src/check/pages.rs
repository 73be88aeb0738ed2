//! What a check's HTML page shows beyond the run itself: for each target that was compared
//! and drifted, the diff between its baseline and the snapshot just taken, and the fan-out
//! of its tables whose triggers changed, read back from the store. A target whose
//! snapshots cannot be read back gets a note, never a silent gap.

use crate::diff::Diff;
use crate::model::ContentHash;
use crate::render::diff::SideInfo;
use crate::render::html::diff::ChangedFanouts;
use crate::store::Store;

use super::{CheckRun, TargetOutcome};

/// One drifted target's diff and pictures.
pub struct TargetDetail {
    pub name: String,
    pub base: SideInfo,
    pub head: SideInfo,
    pub diff: Diff,
    pub fanouts: ChangedFanouts,
}

/// The details of every compared target whose snapshot differs from its baseline; what
/// could not be read back is said in the notes.
pub fn target_details(store: &Store, run: &CheckRun) -> (Vec<TargetDetail>, Vec<String>) {
    let mut details = Vec::new();
    let mut notes = Vec::new();
    for t in &run.targets {
        match detail(store, t) {
            Ok(Some(d)) => details.push(d),
            Ok(None) => {}
            Err(e) => notes.push(format!("target {}: diff not shown: {e}", t.name)),
        }
    }
    (details, notes)
}

fn detail(store: &Store, t: &TargetOutcome) -> Result<Option<TargetDetail>, String> {
    let (Some(base_id), Some(head_id)) = (t.baseline, t.snapshot) else {
        return Ok(None);
    };
    if base_id == head_id || t.error.is_some() {
        return Ok(None);
    }
    let side = |id: ContentHash, spec: &str| -> Result<_, String> {
        let snap = store.load_snapshot(&id).map_err(|e| e.to_string())?;
        let record = store.read_record(&id).map_err(|e| e.to_string())?;
        let info = SideInfo {
            spec: spec.to_string(),
            id: Some(id.to_hex()),
            catalog: record.catalog.to_hex(),
            source: snap.meta.source.describe(),
            created_at: snap.meta.created_at.clone(),
            server_version: snap.meta.server_version.clone(),
        };
        Ok((snap, info))
    };
    let (base, base_info) = side(base_id, &t.baseline_ref)?;
    let (head, head_info) = side(head_id, "snapshot")?;
    let diff = crate::diff::diff(&base, &head);
    if !diff.has_drift() {
        return Ok(None);
    }
    let fanouts = ChangedFanouts::of(&base, &head, &diff);
    Ok(Some(TargetDetail {
        name: t.name.clone(),
        base: base_info,
        head: head_info,
        diff,
        fanouts,
    }))
}
