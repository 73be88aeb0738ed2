//! Streaming snapshot writes: objects are hashed as the catalog reader produces them; only
//! their key and hash are kept, plus the bytes of blobs the store does not have yet. So a
//! re-snapshot of an unchanged 10,000-table catalog holds ~100,000 hashes in memory, not
//! ~100,000 objects, and writes a few hundred bytes.

use super::backend::Backend;
use super::pack::PackFileWriter;
use super::{Store, StoreError, WriteStats};
use crate::model::fingerprint::CatalogTree;
use crate::model::snapshot::{RowCounts, SnapshotMeta, SnapshotRecord};
use crate::model::{canonical_bytes, CatalogObject, ContentHash, ObjectKey};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What a finished write produced.
#[derive(Clone, Debug)]
pub struct Written {
    pub id: ContentHash,
    pub catalog: ContentHash,
    pub object_count: usize,
    pub stats: WriteStats,
}

/// The store a writer checks for blobs it already has.
enum Existing<'a> {
    /// The store does not exist yet.
    None,
    Borrowed(&'a Store),
    Owned(Store),
}

impl Existing<'_> {
    fn get(&self) -> Option<&Store> {
        match self {
            Existing::None => None,
            Existing::Borrowed(s) => Some(s),
            Existing::Owned(s) => Some(s),
        }
    }
}

pub struct SnapshotWriter<'a> {
    root: PathBuf,
    /// Where new packs and the record go (the store's backend; for a store that does not
    /// exist yet, the filesystem at `root`).
    backend: Box<dyn Backend>,
    /// The store as it was when the write began.
    store: Existing<'a>,
    /// New blobs, streamed to a temp file in `packs/` (opened at the first new blob).
    pack: Option<PackFileWriter>,
    in_pack: HashSet<ContentHash>,
    entries: Vec<(ObjectKey, Option<String>, ContentHash)>,
    /// Directories this writer created for a store that did not exist, removed again if
    /// the write is abandoned.
    created: Vec<PathBuf>,
    /// The first write error; the catalog keeps streaming in, and `finish` reports it.
    error: Option<StoreError>,
    finished: bool,
}

impl<'a> SnapshotWriter<'a> {
    /// A writer into the store at `root`; `store` is that store opened, when it exists (its
    /// blob index is read now, so a corrupt store fails before any database work).
    pub fn new(root: &Path, store: Option<&'a Store>) -> Result<Self, StoreError> {
        Self::with(root, store.map_or(Existing::None, Existing::Borrowed))
    }

    fn with(root: &Path, store: Existing<'a>) -> Result<Self, StoreError> {
        if let Some(s) = store.get() {
            // Before the first look at what the store holds: from here on this writer
            // relies on it, and gc must not delete.
            s.hold_writer_lease("snapshot")?;
            s.has_blob(&ContentHash([0; 32]))?;
        }
        Ok(SnapshotWriter {
            root: root.to_path_buf(),
            backend: super::backend::open(root)?,
            store,
            pack: None,
            in_pack: HashSet::new(),
            entries: Vec::new(),
            created: Vec::new(),
            error: None,
            finished: false,
        })
    }

    fn have(&self, hash: &ContentHash) -> bool {
        self.in_pack.contains(hash)
            || self
                .store
                .get()
                .is_some_and(|s| s.has_blob(hash).unwrap_or(false))
    }

    fn add_blob(&mut self, hash: ContentHash, bytes: &[u8]) {
        if self.error.is_some() || self.have(&hash) {
            return;
        }
        if let Err(e) = self.pack_file().and_then(|p| p.add(hash, bytes)) {
            self.error = Some(e);
            return;
        }
        self.in_pack.insert(hash);
    }

    fn packs_dir(&self) -> PathBuf {
        self.root.join("packs")
    }

    fn pack_file(&mut self) -> Result<&mut PackFileWriter, StoreError> {
        if self.pack.is_none() {
            // The store directory with any missing parents, then packs/; each one made
            // here is remembered so an abandoned write removes it again.
            let packs = self.packs_dir();
            // (An S3 store has no directories to make.)
            let local = !super::s3::is_s3(&self.root);
            let mut dirs: Vec<PathBuf> = packs
                .ancestors()
                .take_while(|d| local && !d.as_os_str().is_empty() && !d.exists())
                .map(Path::to_path_buf)
                .collect();
            dirs.reverse();
            for dir in dirs {
                match std::fs::create_dir(&dir) {
                    Ok(()) => self.created.push(dir),
                    // Already there, or made a moment ago by another process writing the
                    // same new store: not ours to remove.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(StoreError::io(&dir, e)),
                }
            }
            self.pack = Some(PackFileWriter::create(self.backend.as_ref())?);
        }
        Ok(self.pack.as_mut().expect("just opened"))
    }

    /// Hash one object, keep its bytes only if the store lacks them.
    pub fn add(&mut self, obj: &CatalogObject) {
        let bytes = canonical_bytes(obj);
        let hash = ContentHash::of(&bytes);
        self.add_blob(hash, &bytes);
        self.entries
            .push((obj.key.clone(), obj.schema().map(str::to_string), hash));
    }

    /// Forget every object added so far (the catalog is being read again).
    pub fn restart(&mut self) {
        // Dropping the temp pack removes its file; the next new blob opens a fresh one.
        self.pack = None;
        self.in_pack.clear();
        self.entries.clear();
        self.error = None;
    }

    /// Write the trees, counts, pack and snapshot record (creating the store if needed).
    pub fn finish(mut self, meta: SnapshotMeta, counts: &RowCounts) -> Result<Written, StoreError> {
        let result = self.finish_inner(meta, counts);
        self.finished = result.is_ok();
        result
    }

    fn finish_inner(
        &mut self,
        meta: SnapshotMeta,
        counts: &RowCounts,
    ) -> Result<Written, StoreError> {
        let object_count = self.entries.len();
        let tree = CatalogTree::from_hashes(std::mem::take(&mut self.entries));
        let catalog = tree.root_hash();
        if !self.have(&catalog) {
            for (name, schema_tree) in &tree.schemas {
                self.add_blob(tree.root.schemas[name], &schema_tree.canonical());
            }
            self.add_blob(catalog, &canonical_bytes(&tree.root));
        }
        let counts_bytes = canonical_bytes(counts);
        let counts_hash = ContentHash::of(&counts_bytes);
        self.add_blob(counts_hash, &counts_bytes);
        if let Some(e) = self.error.take() {
            return Err(e);
        }

        let owned;
        let root = self.root.clone();
        let store = match self.store.get() {
            Some(s) => s,
            None => {
                // There was no store when the write began (the directory was absent or
                // empty); since then it holds only this writer's temp pack.
                owned = Store::init_here(&root)?;
                &owned
            }
        };
        let mut stats = WriteStats {
            new_blobs: self.pack.as_ref().map_or(0, |p| p.len()),
            bytes_written: 0,
            catalog: Some(catalog),
        };
        if let Some(pack) = self.pack.take() {
            stats.bytes_written += pack.finish(store.backend())?;
        }
        let record = SnapshotRecord {
            meta,
            catalog,
            counts: counts_hash,
            object_count,
        };
        let record_bytes = canonical_bytes(&record);
        let id = ContentHash::of(&record_bytes);
        let record_key = super::record_key(&id);
        if store.backend().get(&record_key)?.is_none() {
            store.backend().put(&record_key, &record_bytes)?;
            stats.bytes_written += record_bytes.len() as u64;
        }
        Ok(Written {
            id,
            catalog,
            object_count,
            stats,
        })
    }
}

impl SnapshotWriter<'static> {
    /// A writer that owns its store handle (or none, for a store that does not exist yet),
    /// so it can hash on its own thread while the catalog is still being read.
    pub fn owned(root: &Path) -> Result<Self, StoreError> {
        let existing = match Store::open(root) {
            Ok(store) => Existing::Owned(store),
            Err(StoreError::NotAStore { .. }) => Existing::None,
            Err(e) => return Err(e),
        };
        Self::with(root, existing)
    }
}

impl Drop for SnapshotWriter<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Abandoned (the capture failed): the temp pack goes with its writer; then the
            // directories made for a store that did not exist, if nothing else is in them.
            self.pack = None;
            for dir in self.created.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{function, snapshot, table};

    #[test]
    fn a_restart_forgets_what_was_streamed_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let snap = snapshot(vec![function("kept", "BEGIN END"), table("t", &[])]);
        let mut writer = SnapshotWriter::owned(&root).unwrap();
        writer.add(&function("from_the_first_read", "BEGIN RETURN 1; END"));
        writer.add(&table("dropped_meanwhile", &[]));
        writer.restart();
        for obj in snap.objects.values() {
            writer.add(obj);
        }
        let written = writer.finish(snap.meta.clone(), &snap.counts).unwrap();
        assert_eq!(written.catalog, snap.catalog_hash());
        assert_eq!(written.object_count, 2);
        let store = Store::open(&root).unwrap();
        let report = store.fsck().unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        // Objects, a schema tree, the root and the counts: nothing from the first read.
        assert_eq!(report.blobs, 5, "{report:?}");
        let leftovers: Vec<_> = std::fs::read_dir(root.join("packs"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
