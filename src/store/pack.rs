//! Pack files: the blobs (objects, schema trees, catalog roots, count maps) of one write,
//! concatenated, with a sorted binary index beside them.
//!
//! One file per snapshot write instead of one file per object: a 10,000-table catalog has
//! ~100,000 objects, and a file (and an fsync) each would cost seconds and a 4 KiB block each.
//!
//! Pack: `DGPACK1\n`, then per blob `<64 hex hash> <len>\n<bytes>\n`.
//! Index: `DGIDX1\n`, count (u64 LE), then per blob sorted by hash: hash (32 bytes),
//! offset of the blob's header line (u64 LE), blob length (u64 LE); then a BLAKE3 of
//! everything before it (32 bytes), so a flipped index byte is caught on load.

use super::backend::{Backend, RangeReader, StagedPut};
use super::StoreError;
use crate::model::ContentHash;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const PACK_MAGIC: &[u8] = b"DGPACK1\n";
pub const IDX_MAGIC: &[u8] = b"DGIDX1\n";
const IDX_ENTRY: usize = 32 + 8 + 8;

#[derive(Clone, Copy, Debug)]
pub struct IdxEntry {
    pub hash: ContentHash,
    pub offset: u64,
    pub len: u64,
}

/// Builds a pack in memory, one blob at a time, so a snapshot write holds only the blobs the
/// store lacks, never the whole catalog twice.
#[derive(Default)]
pub struct PackBuilder {
    pack: Vec<u8>,
    entries: Vec<IdxEntry>,
}

impl PackBuilder {
    pub fn new() -> Self {
        let mut pack = Vec::new();
        pack.extend_from_slice(PACK_MAGIC);
        PackBuilder {
            pack,
            entries: Vec::new(),
        }
    }

    pub fn add(&mut self, hash: ContentHash, bytes: &[u8]) {
        let offset = self.pack.len() as u64;
        self.pack
            .extend_from_slice(format!("{} {}\n", hash.to_hex(), bytes.len()).as_bytes());
        self.pack.extend_from_slice(bytes);
        self.pack.push(b'\n');
        self.entries.push(IdxEntry {
            hash,
            offset,
            len: bytes.len() as u64,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The pack bytes and its index bytes.
    pub fn finish(self) -> (Vec<u8>, Vec<u8>) {
        (self.pack, index_bytes(self.entries))
    }
}

/// The index file of a pack's entries.
fn index_bytes(mut entries: Vec<IdxEntry>) -> Vec<u8> {
    entries.sort_by_key(|e| e.hash);
    entries.dedup_by(|a, b| a.hash == b.hash);
    let mut idx = Vec::with_capacity(IDX_MAGIC.len() + 8 + entries.len() * IDX_ENTRY + 32);
    idx.extend_from_slice(IDX_MAGIC);
    idx.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for e in &entries {
        idx.extend_from_slice(&e.hash.0);
        idx.extend_from_slice(&e.offset.to_le_bytes());
        idx.extend_from_slice(&e.len.to_le_bytes());
    }
    let sum = blake3::hash(&idx);
    idx.extend_from_slice(sum.as_bytes());
    idx
}

/// A pack streamed to the backend as blobs arrive (a staged upload), so a first snapshot of
/// a large catalog never holds all its blobs in memory. The pack is named by the hash of its
/// bytes once complete; until [`PackFileWriter::finish`] nothing is visible, and dropping
/// the writer abandons the upload.
pub struct PackFileWriter {
    /// Where the upload lives, for messages.
    tmp: PathBuf,
    file: Box<dyn StagedPut>,
    hasher: blake3::Hasher,
    offset: u64,
    entries: Vec<IdxEntry>,
}

impl PackFileWriter {
    pub fn create(backend: &dyn Backend) -> Result<Self, StoreError> {
        let near = "packs/new.pack";
        let mut w = PackFileWriter {
            tmp: backend.location(near),
            file: backend.stage(near)?,
            hasher: blake3::Hasher::new(),
            offset: 0,
            entries: Vec::new(),
        };
        w.write(PACK_MAGIC)?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all(bytes)
            .map_err(|e| StoreError::io(&self.tmp, e))?;
        self.hasher.update(bytes);
        self.offset += bytes.len() as u64;
        Ok(())
    }

    pub fn add(&mut self, hash: ContentHash, bytes: &[u8]) -> Result<(), StoreError> {
        let offset = self.offset;
        self.write(format!("{} {}\n", hash.to_hex(), bytes.len()).as_bytes())?;
        self.write(bytes)?;
        self.write(b"\n")?;
        self.entries.push(IdxEntry {
            hash,
            offset,
            len: bytes.len() as u64,
        });
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Commit the pack as `packs/<hash>.pack`, then write its index. Returns the bytes
    /// written.
    pub fn finish(self, backend: &dyn Backend) -> Result<u64, StoreError> {
        let id = self.hasher.finalize().to_hex().to_string();
        let (pack_key, idx_key) = pack_keys(&id);
        self.file.commit(&pack_key)?;
        // The pack before its index: a pack is only visible once its index exists.
        let idx = index_bytes(self.entries);
        backend.put(&idx_key, &idx)?;
        Ok(self.offset + idx.len() as u64)
    }
}

/// Serialize blobs into pack bytes and index bytes.
pub fn build_pack(blobs: &[(ContentHash, Vec<u8>)]) -> (Vec<u8>, Vec<u8>) {
    let mut builder = PackBuilder::new();
    for (hash, bytes) in blobs {
        builder.add(*hash, bytes);
    }
    builder.finish()
}

/// Parse and check an index file.
pub fn parse_idx(path: &Path, bytes: &[u8]) -> Result<Vec<IdxEntry>, StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if bytes.len() < IDX_MAGIC.len() + 8 + 32 || !bytes.starts_with(IDX_MAGIC) {
        return Err(corrupt(
            "not a driftgate pack index (bad header or truncated)",
        ));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err(corrupt("pack index checksum does not match its contents"));
    }
    let count_at = IDX_MAGIC.len();
    let count = u64::from_le_bytes(body[count_at..count_at + 8].try_into().unwrap());
    let rest = &body[count_at + 8..];
    let expected = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(IDX_ENTRY));
    if expected != Some(rest.len()) {
        return Err(corrupt("pack index length does not match its entry count"));
    }
    Ok(rest
        .chunks_exact(IDX_ENTRY)
        .map(|c| IdxEntry {
            hash: ContentHash(c[..32].try_into().unwrap()),
            offset: u64::from_le_bytes(c[32..40].try_into().unwrap()),
            len: u64::from_le_bytes(c[40..48].try_into().unwrap()),
        })
        .collect())
}

/// Read one blob at an index entry and verify its header and hash.
pub fn read_blob(
    pack_path: &Path,
    file: &dyn RangeReader,
    entry: &IdxEntry,
) -> Result<Vec<u8>, StoreError> {
    let header = format!("{} {}\n", entry.hash.to_hex(), entry.len);
    // The index is checksummed, not trusted: a blob must lie inside its pack before a
    // buffer of its claimed size is allocated (fuzzing found a 2 TB allocation abort).
    let pack_len = file.size()?;
    let end = entry
        .offset
        .checked_add(header.len() as u64)
        .and_then(|n| n.checked_add(entry.len));
    let total = match end {
        Some(end) if end <= pack_len => (end - entry.offset) as usize,
        _ => {
            return Err(StoreError::Corrupt {
                path: pack_path.to_path_buf(),
                reason: format!(
                "blob {} (offset {}, {} bytes) lies past the end of the pack ({pack_len} bytes)",
                entry.hash.short(),
                entry.offset,
                entry.len
            ),
            })
        }
    };
    let mut buf = vec![0u8; total];
    file.read_at(&mut buf, entry.offset)?;
    if &buf[..header.len()] != header.as_bytes() {
        return Err(StoreError::Corrupt {
            path: pack_path.to_path_buf(),
            reason: format!(
                "blob {} is not where the index says (offset {})",
                entry.hash.short(),
                entry.offset
            ),
        });
    }
    let content = buf.split_off(header.len());
    let actual = ContentHash::of(&content);
    if actual != entry.hash {
        return Err(StoreError::HashMismatch {
            path: pack_path.to_path_buf(),
            expected: entry.hash.to_hex(),
            actual: actual.to_hex(),
        });
    }
    Ok(content)
}

/// Walk a whole pack file sequentially, verifying every blob (for `fsck`).
pub fn verify_pack(path: &Path, bytes: &[u8]) -> Result<Vec<IdxEntry>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    if !bytes.starts_with(PACK_MAGIC) {
        return Err(corrupt("not a driftgate pack (bad header)".into()));
    }
    let mut pos = PACK_MAGIC.len();
    let mut out = Vec::new();
    while pos < bytes.len() {
        let nl = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupt(format!("truncated blob header at offset {pos}")))?;
        let header = std::str::from_utf8(&bytes[pos..pos + nl])
            .map_err(|_| corrupt(format!("garbled blob header at offset {pos}")))?;
        let (hex, len) = header
            .split_once(' ')
            .ok_or_else(|| corrupt(format!("garbled blob header at offset {pos}")))?;
        let hash = ContentHash::from_hex(hex)
            .ok_or_else(|| corrupt(format!("garbled blob hash at offset {pos}")))?;
        let len: usize = len
            .parse()
            .map_err(|_| corrupt(format!("garbled blob length at offset {pos}")))?;
        let start = pos + nl + 1;
        let end = start
            .checked_add(len)
            .filter(|&e| e < bytes.len() && bytes[e] == b'\n')
            .ok_or_else(|| {
                corrupt(format!(
                    "blob {} at offset {pos} is truncated",
                    hash.short()
                ))
            })?;
        let actual = ContentHash::of(&bytes[start..end]);
        if actual != hash {
            return Err(StoreError::HashMismatch {
                path: path.to_path_buf(),
                expected: hash.to_hex(),
                actual: actual.to_hex(),
            });
        }
        out.push(IdxEntry {
            hash,
            offset: pos as u64,
            len: len as u64,
        });
        pos = end + 1;
    }
    Ok(out)
}

/// The keys of a pack and its index.
pub fn pack_keys(id: &str) -> (String, String) {
    (format!("packs/{id}.pack"), format!("packs/{id}.idx"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trips_and_detects_a_flipped_byte() {
        let blobs: Vec<(ContentHash, Vec<u8>)> = [&b"alpha"[..], b"beta", b"{\"x\":1}"]
            .iter()
            .map(|b| (ContentHash::of(b), b.to_vec()))
            .collect();
        let (pack, idx) = build_pack(&blobs);
        let path = Path::new("test.pack");
        let entries = parse_idx(Path::new("test.idx"), &idx).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(verify_pack(path, &pack).unwrap().len(), 3);

        let mut flipped = pack.clone();
        let at = pack.windows(4).position(|w| w == b"beta").unwrap();
        flipped[at] ^= 0x20;
        assert!(matches!(
            verify_pack(path, &flipped),
            Err(StoreError::HashMismatch { .. })
        ));

        let mut bad_idx = idx.clone();
        bad_idx[10] ^= 1;
        assert!(parse_idx(Path::new("test.idx"), &bad_idx).is_err());
        assert!(verify_pack(path, &pack[..pack.len() - 3]).is_err());
    }
}
