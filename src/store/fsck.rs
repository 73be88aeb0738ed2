//! `fsck`: read every byte of the store and check it against its hash.

use super::{pack, Store, StoreError};
use crate::model::ContentHash;
use std::collections::HashSet;

#[derive(Debug, Default)]
pub struct FsckReport {
    pub packs: usize,
    pub blobs: usize,
    pub snapshots: usize,
    pub refs: usize,
    /// Each problem names the file it is in.
    pub problems: Vec<String>,
}

impl FsckReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// What was checked and how many problems, in one line (`fsck` and `doctor` print it).
    pub fn summary(&self) -> String {
        format!(
            "{} pack(s), {} blob(s), {} snapshot(s), {} ref(s) checked, {} problem(s)",
            self.packs,
            self.blobs,
            self.snapshots,
            self.refs,
            self.problems.len()
        )
    }
}

impl Store {
    pub fn fsck(&self) -> Result<FsckReport, StoreError> {
        let mut report = FsckReport::default();
        let mut present: HashSet<ContentHash> = HashSet::new();
        for id in self.pack_ids()? {
            report.packs += 1;
            let (pack_key, idx_key) = pack::pack_keys(&id);
            let (pack_path, idx_path) = (
                self.backend().location(&pack_key),
                self.backend().location(&idx_key),
            );
            let pack_bytes = match self.get_existing(&pack_key) {
                Ok(b) => b,
                Err(e) => {
                    report.problems.push(e.to_string());
                    continue;
                }
            };
            if ContentHash::of(&pack_bytes).to_hex() != id {
                report.problems.push(format!(
                    "{}: pack contents do not match its name (a byte changed)",
                    pack_path.display()
                ));
            }
            let walked = match pack::verify_pack(&pack_path, &pack_bytes) {
                Ok(entries) => entries,
                Err(e) => {
                    report.problems.push(e.to_string());
                    continue;
                }
            };
            match self
                .get_existing(&idx_key)
                .and_then(|b| pack::parse_idx(&idx_path, &b))
            {
                Ok(mut idx) => {
                    let mut walked_sorted = walked.clone();
                    walked_sorted.sort_by_key(|e| e.hash);
                    idx.sort_by_key(|e| e.hash);
                    let same = idx.len() == walked_sorted.len()
                        && idx.iter().zip(&walked_sorted).all(|(a, b)| {
                            a.hash == b.hash && a.offset == b.offset && a.len == b.len
                        });
                    if !same {
                        report.problems.push(format!(
                            "{}: index does not match its pack",
                            idx_path.display()
                        ));
                    }
                }
                Err(e) => report.problems.push(e.to_string()),
            }
            report.blobs += walked.len();
            present.extend(walked.iter().map(|e| e.hash));
        }

        for id in self.snapshot_ids()? {
            report.snapshots += 1;
            let record = match self.read_record(&id) {
                Ok(r) => r,
                Err(e) => {
                    report.problems.push(e.to_string());
                    continue;
                }
            };
            let tree = self.load_tree(&record);
            match tree {
                Err(e) => report
                    .problems
                    .push(format!("snapshot {}: {e}", id.short())),
                Ok((root, schemas)) => {
                    let missing = root
                        .globals
                        .values()
                        .chain(schemas.values().flat_map(|t| t.objects.values()))
                        .chain(std::iter::once(&record.counts))
                        .filter(|h| !present.contains(h))
                        .count();
                    if missing > 0 {
                        report.problems.push(format!(
                            "snapshot {}: {missing} object(s) it names are missing from the store",
                            id.short()
                        ));
                    }
                }
            }
        }

        match self.list_refs() {
            Ok(refs) => {
                for (name, id) in refs {
                    report.refs += 1;
                    if let Err(e) = self.read_record(&id) {
                        report
                            .problems
                            .push(format!("ref {name}: points at {}: {e}", id.short()));
                    }
                    // Every position of its history must be readable (hash-checked), or
                    // `log` would fail where fsck said clean.
                    if let Err(e) = self.reflog(&name) {
                        report.problems.push(format!("ref {name}: history: {e}"));
                    }
                }
            }
            Err(e) => report.problems.push(e.to_string()),
        }
        // Histories of the old format, of refs gone too; and a link anywhere among them.
        match self.reflog_names() {
            Ok(names) => {
                for name in names {
                    if let Err(e) = self.reflog(&name) {
                        report.problems.push(format!("history of {name}: {e}"));
                    }
                }
            }
            Err(e) => report.problems.push(e.to_string()),
        }
        for dir in ["history", "leases"] {
            if let Err(e) = self.backend().list(dir) {
                report.problems.push(e.to_string());
            }
        }
        self.unknown_files(&mut report);
        Ok(report)
    }

    /// Files the store did not write: at the root, and among packs, records and history
    /// entries (whose names are hashes). A temp file of a write in progress, or one a crash
    /// left (gc removes those), is not a problem.
    fn unknown_files(&self, report: &mut FsckReport) {
        let temp = |name: &str| name.starts_with(".tmp-");
        // Through the backend, so the check means the same on any storage: the first
        // component of every key.
        let mut tops = std::collections::BTreeSet::new();
        for key in self.backend().list("").unwrap_or_default() {
            tops.insert(key.split('/').next().unwrap_or_default().to_string());
        }
        for name in tops {
            if !(name == "STORE" || super::STORE_DIRS.contains(&name.as_str()) || temp(&name)) {
                report.problems.push(format!(
                    "{}: not a file driftgate writes (unknown file in the store)",
                    self.backend().location(&name).display()
                ));
            }
        }
        let hashed = |name: &str, suffixes: &[&str]| {
            suffixes.iter().any(|s| {
                name.strip_suffix(s)
                    .is_some_and(|h| ContentHash::from_hex(h).is_some())
            })
        };
        for (dir, suffixes) in [
            ("packs", &[".pack", ".idx"][..]),
            ("snapshots", &[".json"][..]),
            ("history", &[".json"][..]),
        ] {
            for name in self.backend().list(dir).unwrap_or_default() {
                if !(hashed(&name, suffixes) || temp(&name)) {
                    report.problems.push(format!(
                        "{}: not a file driftgate writes (unknown file in the store)",
                        self.backend().location(&format!("{dir}/{name}")).display()
                    ));
                }
            }
        }
        for name in self.backend().list("reports").unwrap_or_default() {
            let file = name.rsplit('/').next().unwrap_or_default();
            if !(super::reports::is_report_name(&name) || temp(file)) {
                report.problems.push(format!(
                    "{}: not a file driftgate writes (unknown file in the store)",
                    self.backend()
                        .location(&format!("reports/{name}"))
                        .display()
                ));
            }
        }
    }
}
