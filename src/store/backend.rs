//! The storage seam: everything the store needs from where its bytes live, and the one
//! filesystem implementation.
//!
//! The primitives are those object storage offers, so an S3 backend fits without changing
//! this trait: immutable objects put whole (or streamed through a staged upload) and read
//! whole or by range, listing by prefix, deletion, and for the few mutable records (refs)
//! a read that returns a version and a compare-and-swap against it (S3's conditional put).
//! There is no append and no lock a caller holds across operations; what must exclude what
//! (gc against writers) is built from [`Backend::acquire_lease`] and [`Backend::leases`]:
//! a lease is a small record that is live while its holder lives and its time-to-live has
//! not run out.
//!
//! Keys are `/`-separated paths below the store root (`packs/<id>.pack`, `refs/prod/nightly`);
//! the store builds them from validated names only.

use super::atomic::{sync_dir, temp_path};
use super::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The version of a mutable record as read, to compare-and-swap against (the filesystem
/// uses the hash of the bytes, S3 its ETag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(pub String);

/// What leases are for; gc and writers look for each other's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseKind {
    /// A process that writes or moves refs and relies on what the store already holds.
    Writer,
    /// A gc in its delete phase.
    Gc,
}

impl LeaseKind {
    pub(super) fn prefix(self) -> &'static str {
        match self {
            LeaseKind::Writer => "writer",
            LeaseKind::Gc => "gc",
        }
    }
}

/// A live lease seen by [`Backend::leases`].
#[derive(Clone, Debug)]
pub struct LeaseInfo {
    pub key: String,
    /// What the holder wrote into it (who it is, what it is doing).
    pub body: String,
    pub expires_at: i64,
}

/// A lease held; dropping it releases it.
pub trait Lease: Send + Sync {
    /// Unix time at which others stop honouring it.
    fn expires_at(&self) -> i64;
    /// Its key, as [`Backend::leases`] lists it.
    fn key(&self) -> &str;
}

/// Random access to one immutable object (a pack read by index entry).
pub trait RangeReader: Send + Sync {
    fn size(&self) -> Result<u64, StoreError>;
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), StoreError>;
    fn read_all(&self) -> Result<Vec<u8>, StoreError>;
}

/// An upload in progress (a pack streamed as blobs arrive); dropped uncommitted, it
/// leaves nothing.
pub trait StagedPut: Write + Send {
    /// Make the bytes written so far the object `key`.
    fn commit(self: Box<Self>, key: &str) -> Result<(), StoreError>;
}

pub trait Backend: Send + Sync {
    /// Where `key` lives, for messages (a path, or an `s3://` URL shown as a path).
    fn location(&self, key: &str) -> PathBuf;
    /// The bytes of `key`, or `None` when there is no such object.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn open_reader(&self, key: &str) -> Result<Box<dyn RangeReader>, StoreError>;
    /// Store `bytes` as `key`, all or nothing.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// Start an upload of an object whose key is known only at the end (named by its hash);
    /// `near` is a key in the same place.
    fn stage(&self, near: &str) -> Result<Box<dyn StagedPut>, StoreError>;
    /// Every key below `prefix` (a directory-like key), relative to it, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Remove `key`; an absent key is not an error.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// A mutable record and its version, or `None` when absent.
    fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, Version)>, StoreError>;
    /// Replace the record `key` with `bytes` if its version is still `expected` (`None`:
    /// if it is still absent). `Ok(false)`: someone else changed it first; nothing written.
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&Version>,
        bytes: &[u8],
    ) -> Result<bool, StoreError>;
    /// Take a lease of `kind` describing the holder with `body`, honoured for `ttl` or
    /// until the holder drops it or dies.
    fn acquire_lease(
        &self,
        kind: LeaseKind,
        body: &str,
        ttl: Duration,
    ) -> Result<Box<dyn Lease>, StoreError>;
    /// The live leases of `kind` (expired ones and those of dead holders are left out, and
    /// may be cleaned away).
    fn leases(&self, kind: LeaseKind) -> Result<Vec<LeaseInfo>, StoreError>;
}

/// The backend for a store location: an `s3://bucket/prefix` URL names an S3 store
/// ([`super::s3`]), anything else a directory.
pub fn open(root: &Path) -> Result<Box<dyn Backend>, StoreError> {
    if super::s3::is_s3(root) {
        Ok(Box::new(super::s3::S3Backend::open(root)?))
    } else {
        Ok(Box::new(FsBackend::new(root)))
    }
}

/// A store in a local directory. Refs' compare-and-swap and leases use `flock`, which the
/// kernel releases when the holder exits, however it exits: nothing a `kill -9` leaves
/// behind can block the next command.
#[derive(Debug, Clone)]
pub struct FsBackend {
    root: PathBuf,
}

/// How long a compare-and-swap waits for another process's swap of the same ref (each
/// holds the lock for the milliseconds of one small write).
const CAS_WAIT: Duration = Duration::from_secs(10);

impl FsBackend {
    pub fn new(root: &Path) -> FsBackend {
        FsBackend {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        debug_assert!(!key.starts_with('/') && !key.split('/').any(|c| c == ".."));
        self.root.join(key)
    }

    /// The path of `key`, refused when any existing component below the root is a symbolic
    /// link: the store directory is a boundary (a link committed to git as `logs/g ->
    /// /tmp/victim` would otherwise lead writes out of it, `refs/usr -> /usr` walks).
    fn checked(&self, key: &str) -> Result<PathBuf, StoreError> {
        let mut path = self.root.clone();
        for part in key.split('/') {
            path.push(part);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StoreError::Symlink { path });
                }
                Ok(_) => {}
                Err(e) if not_found(&e) => break,
                Err(e) => return Err(StoreError::io(&path, e)),
            }
        }
        Ok(self.path(key))
    }
}

/// Open the existing store file `key` below `root` for reading, one component at a time
/// with `openat(…, O_NOFOLLOW)`: [`FsBackend::checked`] looks at every component first, but
/// a link swapped in between that look and the open would be followed; here each directory
/// is opened from the one before, so no component, the last included, can be a link when
/// it is opened. Anything but a regular file (a FIFO that would block forever, a device such
/// as `/dev/zero`) is refused too; `O_NONBLOCK` keeps the open of a FIFO from waiting.
fn open_beneath(root: &Path, key: &str) -> Result<File, StoreError> {
    use std::os::unix::io::FromRawFd;
    let mut dir = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(root)
        .map_err(|e| StoreError::io(root, e))?;
    let parts: Vec<&str> = key.split('/').collect();
    let mut path = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i + 1 == parts.len();
        let kind = if last {
            libc::O_NONBLOCK
        } else {
            libc::O_DIRECTORY
        };
        let name = std::ffi::CString::new(*part).map_err(|_| StoreError::BadFile {
            path: path.clone(),
            reason: "a key with a NUL byte".into(),
        })?;
        // SAFETY: openat on a directory descriptor this function owns and a NUL-terminated
        // name; the descriptor it returns is owned by the File made from it below.
        let fd = unsafe {
            libc::openat(
                dir.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | kind,
            )
        };
        if fd < 0 {
            let err = io::Error::last_os_error();
            // ELOOP: the last component is a link; a link where a directory should be
            // fails with ENOTDIR, like a file there, so look at what it is.
            let link = err.raw_os_error() == Some(libc::ELOOP)
                || fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
            return Err(if link {
                StoreError::Symlink { path }
            } else {
                StoreError::io(&path, err)
            });
        }
        // SAFETY: a fresh descriptor no one else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        if !last {
            dir = file;
            continue;
        }
        let meta = file.metadata().map_err(|e| StoreError::io(&path, e))?;
        if meta.is_dir() {
            // A directory of keys where an object would be (`refs/prod` of refs `prod/*`):
            // no such object, as `fs::read` says.
            return Err(StoreError::io(
                &path,
                io::Error::from(io::ErrorKind::IsADirectory),
            ));
        }
        if !meta.is_file() {
            return Err(StoreError::BadFile {
                path,
                reason: "not a regular file: a store holds only files and directories it wrote"
                    .into(),
            });
        }
        return Ok(file);
    }
    unreachable!("a key has at least one component")
}

/// The directory that holds `key` below `root`, opened one component at a time with
/// `openat(…, O_DIRECTORY | O_NOFOLLOW)` and made with `mkdirat` where missing, with its
/// path for messages: a write through it cannot be led out of the store by a directory
/// swapped for a link after [`FsBackend::checked`] looked.
fn dir_beneath(root: &Path, key: &str) -> Result<(File, PathBuf), StoreError> {
    use std::os::unix::io::FromRawFd;
    let mut dir = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(root)
        .map_err(|e| StoreError::io(root, e))?;
    let mut path = root.to_path_buf();
    let parts: Vec<&str> = key.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        path.push(part);
        let name = c_name(part, &path)?;
        // SAFETY: mkdirat/openat on a directory descriptor this function owns and a
        // NUL-terminated name; the descriptor openat returns is owned by the File below.
        let fd = unsafe {
            if libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o777) != 0 {
                let err = io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EEXIST) {
                    return Err(StoreError::io(&path, err));
                }
            }
            libc::openat(
                dir.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            let err = io::Error::last_os_error();
            let link = err.raw_os_error() == Some(libc::ELOOP)
                || fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
            return Err(if link {
                StoreError::Symlink { path }
            } else {
                StoreError::io(&path, err)
            });
        }
        // SAFETY: a fresh descriptor no one else owns.
        dir = unsafe { File::from_raw_fd(fd) };
    }
    Ok((dir, path))
}

fn c_name(part: &str, path: &Path) -> Result<std::ffi::CString, StoreError> {
    std::ffi::CString::new(part).map_err(|_| StoreError::BadFile {
        path: path.to_path_buf(),
        reason: "a key with a NUL byte".into(),
    })
}

/// Create a new temp file `name` in `dir` (never through a link: `O_EXCL | O_NOFOLLOW`).
fn create_temp_in(dir: &File, name: &std::ffi::CStr, path: &Path) -> Result<File, StoreError> {
    use std::os::unix::io::FromRawFd;
    // SAFETY: openat on a directory descriptor the caller owns and a NUL-terminated name;
    // the returned descriptor is owned by the File below.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o666 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(StoreError::io(path, io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor no one else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `renameat` within one directory descriptor (replaces a link at `to`, never follows it).
fn rename_in(
    dir: &File,
    from: &std::ffi::CStr,
    to: &std::ffi::CStr,
    path: &Path,
) -> Result<(), StoreError> {
    // SAFETY: renameat on a directory descriptor the caller owns and NUL-terminated names.
    let rc =
        unsafe { libc::renameat(dir.as_raw_fd(), from.as_ptr(), dir.as_raw_fd(), to.as_ptr()) };
    if rc != 0 {
        return Err(StoreError::io(path, io::Error::last_os_error()));
    }
    Ok(())
}

/// Remove `name` from `dir`, best effort (a temp file being abandoned).
fn unlink_in(dir: &File, name: &std::ffi::CStr) {
    // SAFETY: unlinkat on a directory descriptor the caller owns and a NUL-terminated name.
    unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) };
}

/// Write `bytes` as `key` all or nothing, every directory held by descriptor: temp file,
/// fsync, rename, fsync the directory (as [`super::atomic::write_atomic`] does by path).
fn write_atomic_beneath(root: &Path, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let (dir, dir_path) = dir_beneath(root, key)?;
    let leaf = key.rsplit('/').next().expect("keys name a file");
    let target = dir_path.join(leaf);
    let tmp = temp_path(&dir_path, &target);
    let tmp_name = c_name(
        &tmp.file_name()
            .expect("temp files have a name")
            .to_string_lossy(),
        &tmp,
    )?;
    let leaf_name = c_name(leaf, &target)?;
    let result = create_temp_in(&dir, &tmp_name, &tmp).and_then(|mut f| {
        f.write_all(bytes).map_err(|e| StoreError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        rename_in(&dir, &tmp_name, &leaf_name, &target)?;
        dir.sync_all().map_err(|e| StoreError::io(&dir_path, e))
    });
    if result.is_err() {
        unlink_in(&dir, &tmp_name);
    }
    result
}

/// The most bytes the store reads of `key`: every file it reads whole is bounded, so a
/// hostile or corrupt store (a ref made huge, a sparse 8 GiB history entry) ends in an
/// error naming the limit, not in the OOM killer. Packs are read by range, within the size
/// of the regular file they are.
pub(super) fn read_limit(key: &str) -> (u64, &'static str) {
    use crate::bounded::*;
    if key.starts_with("packs/") {
        (MAX_PACK_INDEX_BYTES, "a pack index")
    } else if key.starts_with("logs/") {
        (MAX_LEGACY_LOG_BYTES, "a ref history")
    } else {
        (MAX_STORE_RECORD_BYTES, "a store record")
    }
}

/// An exclusive `flock` on `file`, waiting up to `wait`.
fn flock_exclusive(file: &File, path: &Path, wait: Duration) -> Result<(), StoreError> {
    let start = Instant::now();
    loop {
        // SAFETY: flock on a file descriptor this process owns; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(StoreError::io(path, err));
        }
        if start.elapsed() >= wait {
            return Err(StoreError::RefLocked {
                name: path.display().to_string(),
                lock: path.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether some live process holds a `flock` on `file`.
fn is_locked(file: &File, path: &Path) -> Result<bool, StoreError> {
    // SAFETY: as in flock_exclusive.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    if rc == 0 {
        // SAFETY: as above; releases the probe's own lock.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
        return Ok(false);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(true)
    } else {
        Err(StoreError::io(path, err))
    }
}

use super::lease::unix_now;

/// No object at that key: nothing there, a file where a directory of keys would be, or a
/// directory of keys where the object would be (`refs/prod` when refs `prod/*` exist).
fn not_found(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

struct FsReader {
    path: PathBuf,
    file: File,
}

impl RangeReader for FsReader {
    fn size(&self) -> Result<u64, StoreError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| StoreError::io(&self.path, e))
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), StoreError> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| StoreError::io(&self.path, e))
    }

    fn read_all(&self) -> Result<Vec<u8>, StoreError> {
        // Immutable and a regular file: its size now is all there is to read (a pack that
        // grew meanwhile is not one this store wrote).
        // From offset 0 whatever was read before: one handle serves every snapshot a
        // store loads, and reading from the file's cursor gave the second whole-pack read
        // nothing ("bad header") once the first had left it at the end.
        let size = self.size()?;
        let mut out = vec![0; size as usize];
        self.read_at(&mut out, 0)?;
        Ok(out)
    }
}

struct FsStaged {
    dir: PathBuf,
    /// The directory held open, so the rename lands where the temp file was made.
    dir_fd: File,
    tmp: PathBuf,
    tmp_name: std::ffi::CString,
    file: Option<io::BufWriter<File>>,
}

impl Write for FsStaged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open until committed").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until committed").flush()
    }
}

impl StagedPut for FsStaged {
    fn commit(mut self: Box<Self>, key: &str) -> Result<(), StoreError> {
        let file = self.file.take().expect("open until committed");
        let file = file
            .into_inner()
            .map_err(|e| StoreError::io(&self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| StoreError::io(&self.tmp, e))?;
        drop(file);
        let leaf = Path::new(key).file_name().expect("staged keys name a file");
        let target = self.dir.join(leaf);
        let leaf_name = c_name(&leaf.to_string_lossy(), &target)?;
        rename_in(&self.dir_fd, &self.tmp_name, &leaf_name, &target)?;
        self.dir_fd
            .sync_all()
            .map_err(|e| StoreError::io(&self.dir, e))
    }
}

impl Drop for FsStaged {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            unlink_in(&self.dir_fd, &self.tmp_name);
        }
    }
}

/// A lease file of the directory store: held open, since the flock on it is what tells
/// others the holder lives. Renewed in place (same inode), never replaced: a reader holding
/// the old inode would find it unlocked, take its holder for dead and remove the path, the
/// renewed lease with it.
struct FsLeaseFile {
    path: PathBuf,
    file: File,
}

impl super::lease::LeaseMedium for FsLeaseFile {
    /// A reader that sees the record half rewritten cannot parse it and honours it, so no
    /// moment of the rewrite loses the lease.
    fn rewrite(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all_at(bytes, 0)
            .and_then(|()| self.file.set_len(bytes.len() as u64))
            .and_then(|()| self.file.sync_data())
            .map_err(|e| StoreError::io(&self.path, e))
    }

    fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct LeaseRecord {
    pub(super) expires_at: i64,
    pub(super) body: String,
}

impl Backend for FsBackend {
    fn location(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.checked(key)?;
        let file = match open_beneath(&self.root, key) {
            Ok(f) => f,
            Err(StoreError::Io { source, .. }) if not_found(&source) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (limit, what) = read_limit(key);
        let bytes = crate::bounded::read_limited(file, limit)
            .map_err(|e| StoreError::io(&path, e))?
            .ok_or_else(|| StoreError::BadFile {
                path: path.clone(),
                reason: format!(
                    "larger than the {} limit for {what}: not a file this store wrote",
                    crate::bounded::describe_limit(limit)
                ),
            })?;
        Ok(Some(bytes))
    }

    fn open_reader(&self, key: &str) -> Result<Box<dyn RangeReader>, StoreError> {
        let path = self.checked(key)?;
        let file = open_beneath(&self.root, key)?;
        Ok(Box::new(FsReader { path, file }))
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.checked(key)?;
        write_atomic_beneath(&self.root, key, bytes)
    }

    fn stage(&self, near: &str) -> Result<Box<dyn StagedPut>, StoreError> {
        let near_path = self.checked(near)?;
        let (dir_fd, dir) = dir_beneath(&self.root, near)?;
        let tmp = temp_path(&dir, &near_path);
        let tmp_name = c_name(
            &tmp.file_name()
                .expect("temp files have a name")
                .to_string_lossy(),
            &tmp,
        )?;
        let file = create_temp_in(&dir_fd, &tmp_name, &tmp)?;
        Ok(Box::new(FsStaged {
            dir,
            dir_fd,
            tmp,
            tmp_name,
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
        }))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let base = self.checked(prefix)?;
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let rd = match fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if not_found(&e) => continue,
                Err(e) => return Err(StoreError::io(&dir, e)),
            };
            for entry in rd {
                let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
                let path = entry.path();
                // The entry's own type, never its target's: a link is not walked into.
                let kind = entry.file_type().map_err(|e| StoreError::io(&path, e))?;
                if kind.is_symlink() {
                    return Err(StoreError::Symlink { path });
                }
                if kind.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&base) {
                    out.push(rel.to_string_lossy().to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.checked(key)?;
        match fs::remove_file(&path) {
            // Durable, so a crash cannot bring back an index whose pack is gone.
            Ok(()) => sync_dir(path.parent().expect("keys have a parent")),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, Version)>, StoreError> {
        Ok(self.get(key)?.map(|bytes| {
            let version = Version(blake3::hash(&bytes).to_hex().to_string());
            (bytes, version)
        }))
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&Version>,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        self.checked(key)?;
        // The compare and the swap exclude other swappers through a flock on the store
        // root: no lock file to leave behind, and the kernel drops it with its holder.
        let lock_path = self.root.clone();
        let lock = File::open(&lock_path).map_err(|e| StoreError::io(&lock_path, e))?;
        flock_exclusive(&lock, &lock_path, CAS_WAIT)?;
        let current = self.read_versioned(key)?.map(|(_, v)| v);
        if current.as_ref() != expected {
            return Ok(false);
        }
        write_atomic_beneath(&self.root, key, bytes)?;
        Ok(true)
        // The lock is released when `lock` closes.
    }

    fn acquire_lease(
        &self,
        kind: LeaseKind,
        body: &str,
        ttl: Duration,
    ) -> Result<Box<dyn Lease>, StoreError> {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = self.checked("leases")?;
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let expires_at = unix_now() + ttl.as_secs() as i64;
        let name = format!(
            "{}-{}-{}-{}.lease",
            kind.prefix(),
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        let path = dir.join(&name);
        // Locked under a temp name and renamed into place, so no reader ever sees a lease
        // file its holder has not locked yet (and takes it for a dead holder's).
        let tmp = temp_path(&dir, &path);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?;
        let result = flock_exclusive(&file, &tmp, Duration::ZERO)
            .and_then(|()| {
                file.write_all(&super::lease::record_bytes(expires_at, body))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StoreError::io(&tmp, e))
            })
            .and_then(|()| fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e)))
            .and_then(|()| sync_dir(&dir));
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(Box::new(super::lease::HeldLease::hold(
            format!("leases/{name}"),
            Box::new(FsLeaseFile { path, file }),
            body,
            ttl,
            expires_at,
        )))
    }

    fn leases(&self, kind: LeaseKind) -> Result<Vec<LeaseInfo>, StoreError> {
        let now = unix_now();
        let mut out = Vec::new();
        for name in self.list("leases")? {
            if !(name.starts_with(kind.prefix()) && name.ends_with(".lease")) || name.contains('/')
            {
                continue;
            }
            let key = format!("leases/{name}");
            let path = self.checked(&key)?;
            let file = match open_beneath(&self.root, &key) {
                Ok(f) => f,
                // Released meanwhile.
                Err(StoreError::Io { source, .. }) if not_found(&source) => continue,
                Err(e) => return Err(e),
            };
            if !is_locked(&file, &path)? {
                // Its holder is gone (a crash or `kill -9`): the lease means nothing.
                let _ = fs::remove_file(&path);
                continue;
            }
            let mut text = String::new();
            // Bounded: what is past the limit makes the record unparsable, honoured below.
            (&file)
                .take(crate::bounded::MAX_STORE_RECORD_BYTES)
                .read_to_string(&mut text)
                .map_err(|e| StoreError::io(&path, e))?;
            let record = super::lease::parse_record(&name, text.as_bytes());
            if record.expires_at <= now {
                continue;
            }
            out.push(LeaseInfo {
                key,
                body: record.body,
                expires_at: record.expires_at,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_read_whole_twice_gives_the_whole_file_twice() {
        // Two snapshots loaded through one store handle read the same pack whole twice.
        let dir = tempfile::tempdir().unwrap();
        let b = FsBackend::new(dir.path());
        b.put("packs/p.pack", b"DGPACK1\nbody").unwrap();
        let reader = b.open_reader("packs/p.pack").unwrap();
        assert_eq!(reader.read_all().unwrap(), b"DGPACK1\nbody");
        assert_eq!(reader.read_all().unwrap(), b"DGPACK1\nbody");
    }

    #[test]
    fn compare_and_swap_refuses_a_stale_version() {
        let dir = tempfile::tempdir().unwrap();
        let b = FsBackend::new(dir.path());
        assert!(b.compare_and_swap("refs/a", None, b"one").unwrap());
        assert!(
            !b.compare_and_swap("refs/a", None, b"two").unwrap(),
            "absent was expected"
        );
        let (bytes, v1) = b.read_versioned("refs/a").unwrap().unwrap();
        assert_eq!(bytes, b"one");
        assert!(b.compare_and_swap("refs/a", Some(&v1), b"two").unwrap());
        assert!(!b.compare_and_swap("refs/a", Some(&v1), b"three").unwrap());
        assert_eq!(b.get("refs/a").unwrap().unwrap(), b"two");
    }

    /// Issue 14: every file the store reads whole is read with a limit. Sparse 8 GiB files
    /// cost no disk, and reading one unbounded would take 8 GiB of memory.
    #[test]
    fn every_store_file_read_whole_is_bounded_and_names_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let b = FsBackend::new(dir.path());
        let h = "ab".repeat(32);
        let cases = [
            ("STORE".to_string(), "1 MiB", "a store record"),
            ("refs/prod/nightly".to_string(), "1 MiB", "a store record"),
            (format!("history/{h}.json"), "1 MiB", "a store record"),
            (format!("snapshots/{h}.json"), "1 MiB", "a store record"),
            (format!("packs/{h}.idx"), "256 MiB", "a pack index"),
            ("logs/prod/nightly".to_string(), "64 MiB", "a ref history"),
        ];
        for (key, limit, what) in cases {
            let path = dir.path().join(&key);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            File::create(&path).unwrap().set_len(8 << 30).unwrap();
            let e = b.get(&key).unwrap_err().to_string();
            assert!(
                e.contains(&format!("larger than the {limit} limit for {what}"))
                    && e.contains(&*path.to_string_lossy()),
                "{key}: {e}"
            );
            // At the limit it is read (the limit is the largest file accepted).
            let (bytes, _) = read_limit(&key);
            File::create(&path).unwrap().set_len(bytes).unwrap();
            assert_eq!(b.get(&key).unwrap().unwrap().len() as u64, bytes, "{key}");
            fs::remove_file(&path).unwrap();
        }
        // A lease body is read bounded too; one past it is honoured (not parsed, kept).
        let lease_dir = dir.path().join("leases");
        fs::create_dir_all(&lease_dir).unwrap();
        let _held = b
            .acquire_lease(LeaseKind::Writer, "big", Duration::from_secs(60))
            .unwrap();
        let name = fs::read_dir(&lease_dir).unwrap().next().unwrap().unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(name.path())
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
        let live = b.leases(LeaseKind::Writer).unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].expires_at, i64::MAX, "{:?}", live[0]);
    }

    /// A link swapped in after [`FsBackend::checked`] looked is refused by the open itself
    /// (`openat` with `O_NOFOLLOW` on every component), and a FIFO or device is refused
    /// without blocking on it.
    #[test]
    fn the_open_itself_refuses_a_link_anywhere_a_fifo_and_a_device() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir_all(outside.join("sub")).unwrap();
        fs::write(outside.join("file"), b"secret").unwrap();
        fs::write(outside.join("sub/file"), b"secret").unwrap();
        let root = dir.path().join("store");
        let refs = root.join("refs");
        fs::create_dir_all(&refs).unwrap();
        // The last component a link (to a file), then a middle one (to a directory).
        std::os::unix::fs::symlink(outside.join("file"), refs.join("prod")).unwrap();
        std::os::unix::fs::symlink(&outside, refs.join("dir")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", refs.join("zero")).unwrap();
        for (key, link) in [
            ("refs/prod", refs.join("prod")),
            ("refs/dir/file", refs.join("dir")),
            ("refs/dir/sub/file", refs.join("dir")),
            ("refs/zero", refs.join("zero")),
        ] {
            assert!(
                matches!(open_beneath(&root, key), Err(StoreError::Symlink { ref path }) if *path == link),
                "{key} was followed or misreported"
            );
        }
        fs::create_dir_all(root.join("dev")).unwrap();
        assert!(matches!(
            open_beneath(Path::new("/"), "dev/zero"),
            Err(StoreError::BadFile { .. })
        ));
        let fifo = refs.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path this test owns.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let start = Instant::now();
        let b = FsBackend::new(&root);
        let e = b.get("refs/fifo").unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "blocked on the FIFO"
        );
        // A file where a directory of keys would be is no object, as before.
        fs::write(refs.join("plain"), b"x").unwrap();
        assert!(b.get("refs/plain/below").unwrap().is_none());
    }

    /// Writes hold every directory by descriptor: a directory swapped for a link after the
    /// component check (called directly here, as if the swap came right after it) is
    /// refused, and nothing lands outside; missing directories are made.
    #[test]
    fn writes_never_pass_through_a_link_and_make_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        let root = dir.path().join("store");
        fs::create_dir_all(root.join("refs")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("refs/dir")).unwrap();
        let e = write_atomic_beneath(&root, "refs/dir/x", b"ref").unwrap_err();
        assert!(
            matches!(&e, StoreError::Symlink { path } if *path == root.join("refs/dir")),
            "{e}"
        );
        let b = FsBackend::new(&root);
        let mut staged = {
            // stage() checks first; the swap comes after, so call the parts directly.
            let (fd, _) = dir_beneath(&root, "packs/new.pack").unwrap();
            drop(fd);
            b.stage("packs/new.pack").unwrap()
        };
        staged.write_all(b"pack").unwrap();
        staged.commit("packs/abc.pack").unwrap();
        assert_eq!(fs::read(root.join("packs/abc.pack")).unwrap(), b"pack");
        write_atomic_beneath(&root, "history/deep/er/e.json", b"{}").unwrap();
        assert_eq!(
            fs::read(root.join("history/deep/er/e.json")).unwrap(),
            b"{}"
        );
        assert_eq!(
            fs::read_dir(&outside).unwrap().count(),
            0,
            "nothing outside"
        );
        let leftovers: Vec<_> = fs::read_dir(root.join("packs"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    /// Issue 14: a holder that outlives its TTL keeps its lease (renewed every third of it);
    /// once dropped, it is gone at once.
    #[test]
    fn a_held_lease_is_renewed_past_its_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let b = FsBackend::new(dir.path());
        let ttl = Duration::from_secs(3);
        let held = b.acquire_lease(LeaseKind::Writer, "slow", ttl).unwrap();
        let first = held.expires_at();
        std::thread::sleep(Duration::from_secs(7));
        let live = b.leases(LeaseKind::Writer).unwrap();
        assert_eq!(live.len(), 1, "the lease ran out while held");
        assert!(
            held.expires_at() >= first + 3,
            "{} {first}",
            held.expires_at()
        );
        assert!(live[0].expires_at > unix_now(), "{:?}", live[0]);
        assert_eq!(live[0].body, "slow");
        let start = Instant::now();
        drop(held);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the renewer was not woken"
        );
        assert!(b.leases(LeaseKind::Writer).unwrap().is_empty());
    }

    #[test]
    fn a_lease_is_live_while_held_and_gone_when_dropped_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let b = FsBackend::new(dir.path());
        let held = b
            .acquire_lease(LeaseKind::Writer, "snapshot", Duration::from_secs(60))
            .unwrap();
        let live = b.leases(LeaseKind::Writer).unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].body, "snapshot");
        assert!(b.leases(LeaseKind::Gc).unwrap().is_empty());
        drop(held);
        assert!(b.leases(LeaseKind::Writer).unwrap().is_empty());
        let _expired = b
            .acquire_lease(LeaseKind::Writer, "slow", Duration::ZERO)
            .unwrap();
        assert!(b.leases(LeaseKind::Writer).unwrap().is_empty());
    }
}
