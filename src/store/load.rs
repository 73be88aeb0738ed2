//! Loading many objects at once: each pack involved is read once (not one `pread` per
//! object), every blob is still checked against its hash, and JSON is parsed on all cores.
//! Also the pruned load of two snapshots for a comparison: tree hashes first, then only the
//! objects that differ.

use super::pack::{IdxEntry, PACK_MAGIC};
use super::{Store, StoreError};
use crate::model::fingerprint::SchemaTree;
use crate::model::snapshot::RowCounts;
use crate::model::{CatalogObject, CatalogSnapshot, ContentHash, ObjectKey, ObjectKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Below this many wanted blobs in one pack, read them one by one.
const BULK_THRESHOLD: usize = 64;

/// One side of a pruned comparison load and its catalog hash.
pub type PrunedSide = (CatalogSnapshot, ContentHash);

impl Store {
    /// Load the given objects, verified, keyed by their keys.
    pub fn load_objects(
        &self,
        wanted: &[(ObjectKey, ContentHash)],
    ) -> Result<BTreeMap<ObjectKey, CatalogObject>, StoreError> {
        let index = self.index()?;
        let mut by_pack: HashMap<usize, Vec<(&ObjectKey, IdxEntry)>> = HashMap::new();
        for (key, hash) in wanted {
            let (pack_no, entry) =
                index
                    .entries
                    .get(hash)
                    .ok_or_else(|| StoreError::MissingBlob {
                        hash: hash.to_hex(),
                        needed_by: key.to_string(),
                    })?;
            by_pack.entry(*pack_no).or_default().push((key, *entry));
        }
        // Whole packs read once stay in `held`; blobs are parsed from slices of them.
        let mut held: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut owned: Vec<(&ObjectKey, &Path, Vec<u8>)> = Vec::new();
        let mut in_pack: Vec<(&ObjectKey, usize, IdxEntry)> = Vec::new();
        for (pack_no, entries) in by_pack {
            let (path, file) = &index.packs[pack_no];
            if entries.len() < BULK_THRESHOLD {
                for (key, entry) in entries {
                    owned.push((
                        key,
                        path,
                        super::pack::read_blob(path, file.as_ref(), &entry)?,
                    ));
                }
                continue;
            }
            let bytes = file.read_all()?;
            if !bytes.starts_with(PACK_MAGIC) {
                return Err(StoreError::Corrupt {
                    path: path.clone(),
                    reason: "not a driftgate pack (bad header)".into(),
                });
            }
            held.push((pack_no, bytes));
            let slot = held.len() - 1;
            in_pack.extend(entries.into_iter().map(|(key, entry)| (key, slot, entry)));
        }
        let mut blobs: Vec<(&ObjectKey, &Path, &[u8])> = Vec::with_capacity(wanted.len());
        for (key, path, bytes) in &owned {
            blobs.push((key, path, bytes));
        }
        for (key, slot, entry) in &in_pack {
            let (pack_no, bytes) = &held[*slot];
            let path = index.packs[*pack_no].0.as_path();
            blobs.push((key, path, slice_blob(path, bytes, entry)?));
        }
        parse_all(blobs)
    }

    /// Load a whole snapshot: record, every object and the counts.
    pub fn load_snapshot(&self, id: &ContentHash) -> Result<CatalogSnapshot, StoreError> {
        self.load_snapshot_kinds(id, None)
    }

    /// Load a snapshot with only the objects of the given kinds (all when `None`); keys carry
    /// their kind, so the rest is never read.
    pub fn load_snapshot_kinds(
        &self,
        id: &ContentHash,
        kinds: Option<&[ObjectKind]>,
    ) -> Result<CatalogSnapshot, StoreError> {
        let record = self.read_record(id)?;
        let (root, schemas) = self.load_tree(&record)?;
        let wanted: Vec<(ObjectKey, ContentHash)> = root
            .globals
            .iter()
            .chain(schemas.values().flat_map(|t| t.objects.iter()))
            .filter(|(k, _)| kinds.is_none_or(|ks| ks.contains(&k.kind())))
            .map(|(k, h)| (k.clone(), *h))
            .collect();
        let objects = self.load_objects(&wanted)?;
        let counts: RowCounts = self.get_json(&record.counts, "row counts")?;
        Ok(CatalogSnapshot {
            meta: record.meta,
            objects,
            counts,
        })
    }

    /// Load two stored snapshots for a comparison, leaving out every object that is the same
    /// on both sides (equal hash). Kept anyway: the whole trigger set of any table one of
    /// whose triggers differs, so firing-order changes can be told. Metadata and counts are
    /// complete. Each side comes with its catalog hash (from its record).
    pub fn load_pair_pruned(
        &self,
        base: &ContentHash,
        head: &ContentHash,
    ) -> Result<(PrunedSide, PrunedSide), StoreError> {
        let records = [self.read_record(base)?, self.read_record(head)?];
        let trees = [self.load_tree(&records[0])?, self.load_tree(&records[1])?];
        let flat = |(root, schemas): &(
            crate::model::fingerprint::CatalogRoot,
            BTreeMap<String, SchemaTree>,
        ),
                    skip: &BTreeSet<String>|
         -> BTreeMap<ObjectKey, ContentHash> {
            root.globals
                .iter()
                .chain(
                    schemas
                        .iter()
                        .filter(|(name, _)| !skip.contains(*name))
                        .flat_map(|(_, t)| t.objects.iter()),
                )
                .map(|(k, h)| (k.clone(), *h))
                .collect()
        };
        // Schemas whose trees hash alike hold identical objects: never look inside them.
        let same_schemas: BTreeSet<String> = trees[0]
            .0
            .schemas
            .iter()
            .filter(|(name, hash)| trees[1].0.schemas.get(*name) == Some(hash))
            .map(|(name, _)| name.clone())
            .collect();
        let sides = [
            flat(&trees[0], &same_schemas),
            flat(&trees[1], &same_schemas),
        ];
        let differing: BTreeSet<&ObjectKey> = sides[0]
            .iter()
            .filter(|(k, h)| sides[1].get(*k) != Some(h))
            .map(|(k, _)| k)
            .chain(sides[1].keys().filter(|k| !sides[0].contains_key(*k)))
            .collect();
        let mut loaded = [BTreeMap::new(), BTreeMap::new()];
        for (i, side) in sides.iter().enumerate() {
            let wanted: Vec<(ObjectKey, ContentHash)> = side
                .iter()
                .filter(|(k, _)| differing.contains(k))
                .map(|(k, h)| (k.clone(), *h))
                .collect();
            loaded[i] = self.load_objects(&wanted)?;
        }
        // Tables with a trigger change: bring in the rest of their triggers on both sides.
        let tables: BTreeSet<String> = loaded
            .iter()
            .flat_map(|m| m.values())
            .filter(|o| o.kind() == ObjectKind::Trigger)
            .filter_map(|o| o.table().map(str::to_string))
            .collect();
        if !tables.is_empty() {
            for (i, side) in sides.iter().enumerate() {
                let wanted: Vec<(ObjectKey, ContentHash)> = side
                    .iter()
                    .filter(|(k, _)| !loaded[i].contains_key(*k))
                    .filter(|(k, _)| {
                        k.kind() == ObjectKind::Trigger
                            && tables.iter().any(|t| {
                                k.name().len() > t.len()
                                    && k.name().starts_with(t.as_str())
                                    && k.name().as_bytes()[t.len()] == b'.'
                            })
                    })
                    .map(|(k, h)| (k.clone(), *h))
                    .collect();
                let extra = self.load_objects(&wanted)?;
                loaded[i].extend(extra);
            }
        }
        let [base_objects, head_objects] = loaded;
        let [base_record, head_record] = records;
        let base_counts: RowCounts = self.get_json(&base_record.counts, "row counts")?;
        let head_counts: RowCounts = self.get_json(&head_record.counts, "row counts")?;
        Ok((
            (
                CatalogSnapshot {
                    meta: base_record.meta,
                    objects: base_objects,
                    counts: base_counts,
                },
                base_record.catalog,
            ),
            (
                CatalogSnapshot {
                    meta: head_record.meta,
                    objects: head_objects,
                    counts: head_counts,
                },
                head_record.catalog,
            ),
        ))
    }
}

/// One blob out of a pack held in memory, with its header and hash checked.
fn slice_blob<'a>(path: &Path, pack: &'a [u8], entry: &IdxEntry) -> Result<&'a [u8], StoreError> {
    let header = format!("{} {}\n", entry.hash.to_hex(), entry.len);
    let start = entry.offset as usize;
    let body = start + header.len();
    let end = body + entry.len as usize;
    if end > pack.len() || &pack[start..body] != header.as_bytes() {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "blob {} is not where the index says (offset {})",
                entry.hash.short(),
                entry.offset
            ),
        });
    }
    let content = &pack[body..end];
    let actual = ContentHash::of(content);
    if actual != entry.hash {
        return Err(StoreError::HashMismatch {
            path: path.to_path_buf(),
            expected: entry.hash.to_hex(),
            actual: actual.to_hex(),
        });
    }
    Ok(content)
}

/// Parse verified blobs into objects, on several threads when there are many.
fn parse_all(
    blobs: Vec<(&ObjectKey, &Path, &[u8])>,
) -> Result<BTreeMap<ObjectKey, CatalogObject>, StoreError> {
    let parse = |chunk: &[(&ObjectKey, &Path, &[u8])]| -> Result<Vec<CatalogObject>, StoreError> {
        chunk
            .iter()
            .map(|(key, path, bytes)| {
                let obj: CatalogObject =
                    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
                        path: path.to_path_buf(),
                        reason: format!("object {key} is not valid: {e}"),
                    })?;
                if &obj.key != *key {
                    return Err(StoreError::Corrupt {
                        path: path.to_path_buf(),
                        reason: format!("object stored for {key} says it is {}", obj.key),
                    });
                }
                Ok(obj)
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let parsed: Vec<CatalogObject> = if blobs.len() < 2048 || threads < 2 {
        parse(&blobs)?
    } else {
        let size = blobs.len().div_ceil(threads);
        let results: Vec<Result<Vec<CatalogObject>, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = blobs
                .chunks(size)
                .map(|chunk| scope.spawn(move || parse(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("parsing never panics"))
                .collect()
        });
        let mut all = Vec::with_capacity(blobs.len());
        for r in results {
            all.extend(r?);
        }
        all
    };
    Ok(parsed.into_iter().map(|o| (o.key.clone(), o)).collect())
}
