//! Reading input files with a size limit, so a policy pointed at `/dev/zero` or a snapshot
//! file of unbounded size ends in a clear error instead of the kernel's OOM killer (issue 14:
//! `gate --policy /dev/zero` grew to 23 GB).

use std::io::{self, Read};
use std::path::Path;

/// Policy and config files: real ones are a few KiB; past this, parsing alone takes seconds
/// and gigabytes (a 2.6 MB policy with 200,000 ignore keys took 10 s and 2 GB).
pub const MAX_POLICY_BYTES: u64 = 1 << 20;

/// Snapshot files (`driftgate export`): a 10,000-table catalog is well under this.
pub const MAX_BUNDLE_BYTES: u64 = 1 << 30;

/// Small store records: refs, history entries, snapshot records, the store marker, leases.
/// Real ones are under 1 KiB (a history entry's message is the longest part).
pub const MAX_STORE_RECORD_BYTES: u64 = 1 << 20;

/// A pack index: 48 bytes per blob, so this is 5.5 million blobs in one pack (a
/// 10,000-table catalog has about 100,000).
pub const MAX_PACK_INDEX_BYTES: u64 = 256 << 20;

/// A ref history of the old format (`logs/NAME`, one ~200-byte JSON line per move).
pub const MAX_LEGACY_LOG_BYTES: u64 = 64 << 20;

/// All of `reader`, or `None` when it holds more than `limit` bytes. Reads at most
/// `limit + 1` bytes from it, whatever it holds (the one byte more tells "exactly at the
/// limit" from "over it").
pub fn read_limited(reader: impl Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// A human size for a limit in messages: `1 MiB`, `64 KiB`, `100 bytes`.
pub fn describe_limit(limit: u64) -> String {
    match limit {
        l if l >= 1 << 30 && l % (1 << 30) == 0 => format!("{} GiB", l >> 30),
        l if l >= 1 << 20 && l % (1 << 20) == 0 => format!("{} MiB", l >> 20),
        l if l >= 1 << 10 && l % (1 << 10) == 0 => format!("{} KiB", l >> 10),
        l => format!("{l} bytes"),
    }
}

/// The bytes of the `what` file at `path`, refused past `limit` with a message naming the
/// file and the limit.
pub fn read_file_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    read_limited(file, limit)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?
        .ok_or_else(|| {
            format!(
                "{what} {} is larger than the {} limit",
                path.display(),
                describe_limit(limit)
            )
        })
}

/// [`read_file_limited`] as text.
pub fn read_text_limited(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    String::from_utf8(read_file_limited(path, limit, what)?).map_err(|_| {
        format!(
            "cannot read {what} {}: it is not UTF-8 text",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless source that counts what was taken from it.
    struct Endless {
        taken: u64,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(0);
            self.taken += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn the_bounded_reader_reads_at_most_limit_plus_one_bytes() {
        for limit in [0, 1, 100, 8192, 1 << 20] {
            let mut source = Endless { taken: 0 };
            assert_eq!(read_limited(&mut source, limit).unwrap(), None);
            assert_eq!(source.taken, limit + 1, "limit {limit}");
        }
        let exact = vec![7u8; 100];
        assert_eq!(read_limited(&exact[..], 100).unwrap(), Some(exact.clone()));
        assert_eq!(read_limited(&exact[..], 99).unwrap(), None);
    }

    #[test]
    fn limits_are_described_in_their_unit() {
        assert_eq!(describe_limit(MAX_POLICY_BYTES), "1 MiB");
        assert_eq!(describe_limit(MAX_BUNDLE_BYTES), "1 GiB");
        assert_eq!(describe_limit(1000), "1000 bytes");
    }
}
