//! The store on S3-compatible object storage (`--store s3://bucket/prefix`): the same keys,
//! content addressing and formats as the directory store, so a store copied either way with
//! `aws s3 sync` stays valid.
//!
//! Built on `object_store` with the AWS conventions users already have (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP`). It reads neither `AWS_PROFILE` nor `~/.aws/credentials`, so a set
//! `AWS_PROFILE` is refused rather than connecting as whoever the other variables name.
//!
//! Mutable records (refs) are swapped with S3's conditional put: `If-None-Match: *` for a new
//! ref, `If-Match: <ETag>` for an existing one, so of two runners moving one ref at once
//! exactly one wins and the other re-reads ([`super::refs`] retries). Leases are small
//! objects renewed by their holder; with no `flock` to tell a dead holder, a lease of a
//! process that died is honoured until its TTL ([`S3_LEASE_TTL`]) runs out: gc waits,
//! never deletes under a writer it cannot see.
//!
//! The store is synchronous and `object_store` async: every request runs on one runtime
//! owned by this module and the caller waits on a channel, so a caller inside another
//! runtime (the CLI's current-thread one) neither panics nor starves it.

use super::backend::{
    read_limit, Backend, Lease, LeaseInfo, LeaseKind, RangeReader, StagedPut, Version,
};
use super::StoreError;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{
    GetOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The longest a lease lives on S3 without renewal. Its holder renews it every third of
/// this; a holder that died is only seen when it runs out (no kernel lock to tell), so it
/// is short: a crashed writer delays a gc by at most this.
pub const S3_LEASE_TTL: Duration = Duration::from_secs(300);

/// Packs up to this size are fetched whole on their first read (one request) and served
/// from memory; larger ones by range. A diff reads thousands of blobs of one pack: one
/// request each would cost more than the pack.
const WHOLE_PACK_BYTES: u64 = 512 << 20;

/// Uploads above this go as a multipart upload (a single PUT is limited to 5 GiB, and a
/// failed part is retried alone).
const MULTIPART_BYTES: usize = 64 << 20;
const PART_BYTES: usize = 16 << 20;

/// Whether a store location names an S3 store.
pub fn is_s3(root: &Path) -> bool {
    root.to_str().is_some_and(|s| s.starts_with("s3://"))
}

/// The S3 settings a store on S3 is reached with, as `doctor` shows them: from the same
/// environment [`S3Backend::open`] reads, and never a credential's value (not even the
/// access key id, which names an account).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct S3Settings {
    /// The endpoint URL (`AWS_ENDPOINT_URL`, user info cut), or `None` for AWS's own.
    pub endpoint: Option<String>,
    pub region: String,
    /// `AWS_ALLOW_HTTP=true`: plain `http://` endpoints are allowed.
    pub allow_http: bool,
    /// Where the credentials come from, in words.
    pub credentials: &'static str,
}

impl S3Settings {
    pub fn from_env() -> S3Settings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        // object_store's aliases for the endpoint, the one the AWS CLI reads first.
        let endpoint = var("AWS_ENDPOINT_URL").or_else(|| var("AWS_ENDPOINT"));
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_string());
        let credentials = match (
            var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some(),
            var("AWS_SESSION_TOKEN").is_some(),
        ) {
            (true, true) => "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
            (true, false) => "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            // What object_store falls back to without static keys.
            (false, _) => {
                "none in the environment (a web identity token, the container's or the \
                 instance's role is asked next)"
            }
        };
        S3Settings {
            endpoint: endpoint.map(|e| crate::model::visible::visible_lines(&cut_user_info(&e))),
            region: crate::model::visible::visible_lines(&region),
            allow_http: var("AWS_ALLOW_HTTP").is_some_and(|v| v == "true"),
            credentials,
        }
    }

    /// The endpoint as a message names it.
    pub fn endpoint_shown(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("{e} (AWS_ENDPOINT_URL)"),
            None => format!("AWS S3 in {}", self.region),
        }
    }
}

/// A validated `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// `/`-separated, no leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

/// `url` with its user info (`scheme://key:secret@host`) cut: it may be a credential
/// pasted where it does not belong, and the URL is about to be shown.
fn cut_user_info(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) if rest.split('/').next().is_some_and(|a| a.contains('@')) => {
            let after = &rest[rest.find('@').map_or(0, |i| i + 1)..];
            format!("{scheme}://<user info cut>@{after}")
        }
        _ => url.to_string(),
    }
}

fn bad_url(url: &str, reason: &str) -> StoreError {
    StoreError::BadStoreUrl {
        url: crate::model::visible::visible_lines(&cut_user_info(url)),
        reason: reason.to_string(),
    }
}

/// Parse and check `s3://bucket[/prefix]`: bucket names as S3 allows them (3–63 of
/// `a-z0-9.-`, starting and ending with a letter or digit), prefix components as ref names
/// are (letters, digits, `.`, `_`, `-`; none empty, none `.` or `..`), so a key never
/// escapes the prefix and every key is the same on every S3 implementation. No query,
/// fragment or user info: credentials come from the environment, never from a URL that
/// would be printed.
pub fn parse_url(url: &str) -> Result<S3Url, StoreError> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| bad_url(url, "it does not start with s3://"))?;
    if rest.contains(['?', '#', '@', '\\']) {
        return Err(bad_url(
            url,
            "no query, fragment, user info or backslash is allowed (credentials come from AWS_* variables)",
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && bucket
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && !bucket.contains("..");
    if !bucket_ok {
        return Err(bad_url(
            url,
            "the bucket name must be 3 to 63 lowercase letters, digits, `.` or `-`, starting and ending with a letter or digit",
        ));
    }
    if !prefix.is_empty() {
        for part in prefix.split('/') {
            let ok = !part.is_empty()
                && part != "."
                && part != ".."
                && !part.starts_with(".tmp-")
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !ok {
                return Err(bad_url(
                    url,
                    "each prefix component must be letters, digits, `.`, `_` or `-` (none empty, `.` or `..`)",
                ));
            }
        }
    }
    if prefix.len() > 512 {
        return Err(bad_url(url, "the prefix is longer than 512 bytes"));
    }
    Ok(S3Url {
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
    })
}

/// Requests and bytes of every S3 call this process made, for `DRIFTGATE_S3_STATS`.
#[derive(Debug, Default)]
pub struct Counters {
    pub get: AtomicU64,
    pub head: AtomicU64,
    pub put: AtomicU64,
    pub list: AtomicU64,
    pub delete: AtomicU64,
    pub bytes_down: AtomicU64,
    pub bytes_up: AtomicU64,
    /// Conditional ref writes another writer won first (each is re-read and retried).
    pub conflicts: AtomicU64,
}

pub static COUNTERS: Counters = Counters {
    get: AtomicU64::new(0),
    head: AtomicU64::new(0),
    put: AtomicU64::new(0),
    list: AtomicU64::new(0),
    delete: AtomicU64::new(0),
    bytes_down: AtomicU64::new(0),
    bytes_up: AtomicU64::new(0),
    conflicts: AtomicU64::new(0),
};

impl Counters {
    /// The counts as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "requests": n(&self.get) + n(&self.head) + n(&self.put) + n(&self.list) + n(&self.delete),
            "get": n(&self.get),
            "head": n(&self.head),
            "put": n(&self.put),
            "list": n(&self.list),
            "delete": n(&self.delete),
            "bytes_down": n(&self.bytes_down),
            "bytes_up": n(&self.bytes_up),
            "conflicts": n(&self.conflicts),
        })
    }
}

/// Append this process's S3 counts as a JSON line to the file `DRIFTGATE_S3_STATS` names
/// (the benchmark's counting layer), with the subcommand `command` names; nothing when
/// unset or when no request was made (so `command` is only asked then).
pub fn write_stats_if_asked(command: impl FnOnce() -> Option<String>) {
    let Some(path) = std::env::var_os("DRIFTGATE_S3_STATS") else {
        return;
    };
    let mut v = COUNTERS.to_json();
    if v["requests"] == 0 {
        return;
    }
    v["command"] = command().unwrap_or_default().into();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{v}");
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("driftgate-s3")
            .enable_all()
            .build()
            .expect("the S3 runtime starts (threads and a timer)")
    })
}

/// Run `f` on the S3 runtime and wait for it, from any thread (inside a runtime or not).
fn block<F>(f: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv()
        .expect("the S3 runtime lives as long as the process")
}

/// An object's bytes and its ETag, when the server gave one.
type Tagged = (Vec<u8>, Option<String>);

/// One S3 store root; cheap to clone (the client is shared).
#[derive(Clone)]
pub struct S3Backend {
    store: Arc<AmazonS3>,
    /// `s3://bucket/prefix`, for messages.
    shown: String,
    prefix: String,
    /// Values that must never appear in a message (the credentials in use).
    secrets: Arc<Vec<String>>,
}

impl std::fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the client: its Debug would show the configuration, credentials included.
        write!(f, "S3Backend({})", self.shown)
    }
}

impl S3Backend {
    /// Connect to the store at `root` (an `s3://` location) with the AWS settings of the
    /// environment.
    pub fn open(root: &Path) -> Result<S3Backend, StoreError> {
        let text = root.to_str().unwrap_or_default();
        let url = parse_url(text)?;
        if let Some(profile) = std::env::var_os("AWS_PROFILE") {
            return Err(StoreError::BadStoreUrl {
                url: text.to_string(),
                reason: format!(
                    "AWS_PROFILE is set ({:?}), but driftgate does not read AWS profiles or ~/.aws/credentials; \
                     unset it and give the credentials as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and \
                     AWS_SESSION_TOKEN), so the store is not reached as someone else",
                    crate::model::visible::visible_lines(&profile.to_string_lossy())
                ),
            });
        }
        crate::install_crypto_provider();
        let secrets: Vec<String> = [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ACCESS_KEY_ID",
        ]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .filter(|v| v.len() >= 4)
        .collect();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&url.bucket);
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            // object_store's default; said here so a MinIO without a region works as the
            // aws CLI does.
            builder = builder.with_region("us-east-1");
        }
        if let Ok(ca) = std::env::var("AWS_CA_BUNDLE") {
            // The aws CLI's variable for a private CA (a Ceph RGW or MinIO with its own).
            let pem = crate::bounded::read_text_limited(
                Path::new(&ca),
                crate::bounded::MAX_POLICY_BYTES,
                "AWS_CA_BUNDLE file",
            )
            .map_err(|reason| StoreError::BadStoreUrl {
                url: text.to_string(),
                reason,
            })?;
            let cert = object_store::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
                StoreError::BadStoreUrl {
                    url: text.to_string(),
                    reason: format!("AWS_CA_BUNDLE={ca}: not a PEM certificate: {e}"),
                }
            })?;
            builder = builder.with_client_options(
                object_store::ClientOptions::new()
                    .with_root_certificate(cert)
                    .with_allow_http(std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v == "true")),
            );
        }
        let backend = S3Backend {
            store: Arc::new(builder.build().map_err(|e| StoreError::BadStoreUrl {
                url: text.to_string(),
                reason: redact(&e.to_string(), &secrets),
            })?),
            shown: format!(
                "s3://{}{}{}",
                url.bucket,
                if url.prefix.is_empty() { "" } else { "/" },
                url.prefix
            ),
            prefix: url.prefix,
            secrets: Arc::new(secrets),
        };
        Ok(backend)
    }

    fn path(&self, key: &str) -> ObjPath {
        if self.prefix.is_empty() {
            ObjPath::from(key)
        } else if key.is_empty() {
            ObjPath::from(self.prefix.as_str())
        } else {
            ObjPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// An error of the request for `key`: its `s3://` location and what the server or
    /// client said, on one line, with every credential value cut out.
    fn err(&self, key: &str, e: object_store::Error) -> StoreError {
        StoreError::io(
            &self.location(key),
            io::Error::other(redact(&describe(&e), &self.secrets)),
        )
    }

    fn get_bounded(&self, key: &str, limit: u64, what: &str) -> Result<Option<Tagged>, StoreError> {
        let store = Arc::clone(&self.store);
        let path = self.path(key);
        COUNTERS.get.fetch_add(1, Ordering::Relaxed);
        let result = block(async move {
            let got = store.get_opts(&path, GetOptions::default()).await?;
            let meta = got.meta.clone();
            if meta.size > limit {
                return Ok(Err(meta.size));
            }
            let bytes = got.bytes().await?;
            Ok(Ok((bytes, meta.e_tag)))
        });
        match result {
            Ok(Ok((bytes, etag))) => {
                COUNTERS
                    .bytes_down
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if bytes.len() as u64 > limit {
                    return Err(self.too_big(key, limit, what));
                }
                Ok(Some((bytes.to_vec(), etag)))
            }
            Ok(Err(_size)) => Err(self.too_big(key, limit, what)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn too_big(&self, key: &str, limit: u64, what: &str) -> StoreError {
        StoreError::BadFile {
            path: self.location(key),
            reason: format!(
                "larger than the {} limit for {what}: not an object this store wrote",
                crate::bounded::describe_limit(limit)
            ),
        }
    }

    fn put_opts(
        &self,
        key: &str,
        bytes: Vec<u8>,
        mode: PutMode,
    ) -> Result<(), object_store::Error> {
        let store = Arc::clone(&self.store);
        let path = self.path(key);
        let len = bytes.len();
        COUNTERS.bytes_up.fetch_add(len as u64, Ordering::Relaxed);
        if len > MULTIPART_BYTES && matches!(mode, PutMode::Overwrite) {
            let parts = len.div_ceil(PART_BYTES) as u64;
            // Create, parts, complete.
            COUNTERS.put.fetch_add(parts + 2, Ordering::Relaxed);
            return block(async move {
                let mut upload = store.put_multipart(&path).await?;
                let bytes = bytes::Bytes::from(bytes);
                for start in (0..len).step_by(PART_BYTES) {
                    let part = bytes.slice(start..(start + PART_BYTES).min(len));
                    if let Err(e) = upload.put_part(PutPayload::from(part)).await {
                        let _ = upload.abort().await;
                        return Err(e);
                    }
                }
                upload.complete().await.map(|_| ())
            });
        }
        COUNTERS.put.fetch_add(1, Ordering::Relaxed);
        block(async move {
            store
                .put_opts(
                    &path,
                    PutPayload::from(bytes),
                    PutOptions {
                        mode,
                        ..Default::default()
                    },
                )
                .await
                .map(|_| ())
        })
    }
}

/// `text` with every secret in `secrets` replaced: an error quoting a request or a
/// configuration never carries a credential out.
/// An `object_store` error as one line that says what went wrong. Its own text stops at
/// the outermost cause ("HTTP error: error sending request"), so the causes below are added
/// until the one that names it ("Connection refused"); an S3 error document in the text
/// (several lines of XML with request ids) is cut to its code and message
/// ("NoSuchBucket: The specified bucket does not exist").
fn describe(e: &object_store::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    let text = match text.find("<?xml").or_else(|| text.find("<Error>")) {
        Some(at) => {
            let doc = &text[at..];
            let code = xml_text(doc, "Code");
            let message = xml_text(doc, "Message");
            let said = match (code, message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                (None, Some(m)) => m.to_string(),
                (None, None) => "an error document without a code".to_string(),
            };
            format!("{}{said}", &text[..at])
        }
        None => text,
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of the first `<tag>…</tag>` in `doc`.
fn xml_text<'a>(doc: &'a str, tag: &str) -> Option<&'a str> {
    let start = doc.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = doc[start..].find(&format!("</{tag}>"))?;
    Some(doc[start..start + len].trim())
}

fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        out = out.replace(s.as_str(), "<redacted>");
    }
    out
}

struct S3Reader {
    backend: S3Backend,
    key: String,
    size: u64,
    etag: Option<String>,
    whole: OnceLock<Result<Vec<u8>, String>>,
}

impl S3Reader {
    fn fetch(&self, range: Option<std::ops::Range<u64>>) -> Result<Vec<u8>, StoreError> {
        let store = Arc::clone(&self.backend.store);
        let path = self.backend.path(&self.key);
        // If-Match on the ETag seen at open: an object replaced since (never by this store:
        // packs are immutable) is refused rather than mixed with the old one's index.
        let options = GetOptions {
            if_match: self.etag.clone(),
            range: range.clone().map(Into::into),
            ..Default::default()
        };
        COUNTERS.get.fetch_add(1, Ordering::Relaxed);
        let bytes = block(async move { store.get_opts(&path, options).await?.bytes().await })
            .map_err(|e| self.backend.err(&self.key, e))?;
        COUNTERS
            .bytes_down
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let want = range.map_or(self.size, |r| r.end - r.start);
        if bytes.len() as u64 != want {
            return Err(StoreError::Corrupt {
                path: self.backend.location(&self.key),
                reason: format!("read {} bytes where {want} were asked", bytes.len()),
            });
        }
        Ok(bytes.to_vec())
    }
}

impl RangeReader for S3Reader {
    fn size(&self) -> Result<u64, StoreError> {
        Ok(self.size)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), StoreError> {
        let end = offset + buf.len() as u64;
        if end > self.size {
            return Err(StoreError::io(
                &self.backend.location(&self.key),
                io::Error::from(io::ErrorKind::UnexpectedEof),
            ));
        }
        if self.size <= WHOLE_PACK_BYTES {
            let whole = self
                .whole
                .get_or_init(|| self.fetch(None).map_err(|e| e.to_string()));
            let whole = whole.as_ref().map_err(|reason| StoreError::Corrupt {
                path: self.backend.location(&self.key),
                reason: reason.clone(),
            })?;
            buf.copy_from_slice(&whole[offset as usize..end as usize]);
            return Ok(());
        }
        let bytes = self.fetch(Some(offset..end))?;
        buf.copy_from_slice(&bytes);
        Ok(())
    }

    fn read_all(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(Ok(whole)) = self.whole.get() {
            return Ok(whole.clone());
        }
        self.fetch(None)
    }
}

/// A pack being written: held in memory and put whole (or in parts) on commit, so an
/// abandoned one leaves nothing in the bucket.
struct S3Staged {
    backend: S3Backend,
    buf: Vec<u8>,
}

impl Write for S3Staged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl StagedPut for S3Staged {
    fn commit(self: Box<Self>, key: &str) -> Result<(), StoreError> {
        let this = *self;
        this.backend
            .put_opts(key, this.buf, PutMode::Overwrite)
            .map_err(|e| this.backend.err(key, e))
    }
}

/// A lease object of the S3 store, overwritten whole at each renewal.
struct S3LeaseObject {
    backend: S3Backend,
    key: String,
}

impl super::lease::LeaseMedium for S3LeaseObject {
    fn rewrite(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.backend
            .put_opts(&self.key, bytes.to_vec(), PutMode::Overwrite)
            .map_err(|e| self.backend.err(&self.key, e))
    }

    fn remove(&self) {
        let _ = self.backend.delete(&self.key);
    }
}

use super::lease::unix_now;

impl Backend for S3Backend {
    fn location(&self, key: &str) -> PathBuf {
        PathBuf::from(format!("{}/{key}", self.shown))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (limit, what) = read_limit(key);
        Ok(self.get_bounded(key, limit, what)?.map(|(b, _)| b))
    }

    fn open_reader(&self, key: &str) -> Result<Box<dyn RangeReader>, StoreError> {
        let store = Arc::clone(&self.store);
        let path = self.path(key);
        COUNTERS.head.fetch_add(1, Ordering::Relaxed);
        let meta = block(async move { store.head(&path).await }).map_err(|e| self.err(key, e))?;
        Ok(Box::new(S3Reader {
            backend: self.clone(),
            key: key.to_string(),
            size: meta.size,
            etag: meta.e_tag,
            whole: OnceLock::new(),
        }))
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.put_opts(key, bytes.to_vec(), PutMode::Overwrite)
            .map_err(|e| self.err(key, e))
    }

    fn stage(&self, _near: &str) -> Result<Box<dyn StagedPut>, StoreError> {
        Ok(Box::new(S3Staged {
            backend: self.clone(),
            buf: Vec::new(),
        }))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let store = Arc::clone(&self.store);
        let base = self.path(prefix);
        let base_text = base.to_string();
        let listed = if base_text.is_empty() {
            None
        } else {
            Some(base)
        };
        COUNTERS.list.fetch_add(1, Ordering::Relaxed);
        let metas = block(async move {
            use futures_util::TryStreamExt;
            store.list(listed.as_ref()).try_collect::<Vec<_>>().await
        })
        .map_err(|e| self.err(prefix, e))?;
        // A LIST page holds 1,000 keys: count the pages the listing cost.
        COUNTERS.list.fetch_add(
            (metas.len() as u64).saturating_sub(1) / 1000,
            Ordering::Relaxed,
        );
        let mut out: Vec<String> = metas
            .into_iter()
            .filter_map(|m| {
                let full = m.location.to_string();
                if base_text.is_empty() {
                    Some(full)
                } else {
                    full.strip_prefix(&format!("{base_text}/"))
                        .map(str::to_string)
                }
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let store = Arc::clone(&self.store);
        let path = self.path(key);
        COUNTERS.delete.fetch_add(1, Ordering::Relaxed);
        match block(async move { store.delete(&path).await }) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, Version)>, StoreError> {
        let (limit, what) = read_limit(key);
        match self.get_bounded(key, limit, what)? {
            None => Ok(None),
            Some((bytes, Some(etag))) => Ok(Some((bytes, Version(etag)))),
            // Without an ETag there is nothing to swap against: refuse rather than write
            // blind over another runner's move.
            Some((_, None)) => Err(StoreError::BadFile {
                path: self.location(key),
                reason: "the server returned no ETag, so the ref cannot be moved safely (conditional writes need one)".into(),
            }),
        }
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&Version>,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        let mode = match expected {
            None => PutMode::Create,
            Some(v) => PutMode::Update(UpdateVersion {
                e_tag: Some(v.0.clone()),
                version: None,
            }),
        };
        match self.put_opts(key, bytes.to_vec(), mode) {
            Ok(()) => Ok(true),
            // 412 (If-Match or If-None-Match failed), 409 (a concurrent conditional write
            // of the same key, as AWS answers), 404 (the record went away): another
            // writer got there first; the caller re-reads.
            Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::NotFound { .. },
            ) => {
                COUNTERS.conflicts.fetch_add(1, Ordering::Relaxed);
                Ok(false)
            }
            Err(e) => Err(self.err(key, e)),
        }
    }

    fn acquire_lease(
        &self,
        kind: LeaseKind,
        body: &str,
        ttl: Duration,
    ) -> Result<Box<dyn Lease>, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let ttl = ttl.min(S3_LEASE_TTL);
        // A random part too: runners on different machines may share a pid.
        let nonce = blake3::hash(
            format!(
                "{}-{:?}-{}",
                std::process::id(),
                std::time::SystemTime::now(),
                COUNTER.load(Ordering::Relaxed)
            )
            .as_bytes(),
        )
        .to_hex();
        let name = format!(
            "{}-{}-{}-{}.lease",
            kind.prefix(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            &nonce[..16]
        );
        let key = format!("leases/{name}");
        let medium = S3LeaseObject {
            backend: self.clone(),
            key: key.clone(),
        };
        let expires_at = unix_now() + ttl.as_secs() as i64;
        super::lease::LeaseMedium::rewrite(&medium, &super::lease::record_bytes(expires_at, body))?;
        Ok(Box::new(super::lease::HeldLease::hold(
            key,
            Box::new(medium),
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
            let Some(bytes) = self.get(&key)? else {
                continue; // released meanwhile
            };
            // One that does not parse is honoured (S3 puts are whole, so it is not half
            // written: it is someone else's).
            let record = super::lease::parse_record(&name, &bytes);
            if record.expires_at <= now {
                // Its holder stopped renewing (died): cleaned away.
                let _ = self.delete(&key);
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
    fn store_urls_are_validated() {
        assert_eq!(
            parse_url("s3://my-bucket/team/prod").unwrap(),
            S3Url {
                bucket: "my-bucket".into(),
                prefix: "team/prod".into()
            }
        );
        assert_eq!(parse_url("s3://my.bucket/").unwrap().prefix, "");
        assert_eq!(parse_url("s3://abc").unwrap().bucket, "abc");
        for bad in [
            "s3://",
            "s3://ab",
            "s3://Upper/x",
            "s3://-bucket/x",
            "s3://bucket-/x",
            "s3://b..c/x",
            "s3://bucket//x",
            "s3://bucket/../x",
            "s3://bucket/a/./b",
            "s3://bucket/a b",
            "s3://key:secret@bucket/x",
            "s3://bucket/x?versionId=1",
            "s3://bucket/x#frag",
            "s3://bucket/.tmp-1-2",
            "http://bucket/x",
        ] {
            let e = parse_url(bad).unwrap_err();
            assert!(matches!(e, StoreError::BadStoreUrl { .. }), "{bad}: {e}");
        }
        assert!(parse_url(&format!("s3://{}", "a".repeat(64))).is_err());
    }

    /// An error with a cause below it, as reqwest and hyper nest theirs.
    #[derive(Debug)]
    struct Nested(&'static str, Option<Box<Nested>>);
    impl std::fmt::Display for Nested {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Nested {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|n| n as _)
        }
    }

    #[test]
    fn errors_are_one_line_with_their_cause_and_the_s3_code() {
        let refused = object_store::Error::Generic {
            store: "S3",
            source: Box::new(Nested(
                "HTTP error: error sending request",
                Some(Box::new(Nested(
                    "tcp connect error",
                    Some(Box::new(Nested("Connection refused (os error 111)", None))),
                ))),
            )),
        };
        assert_eq!(
            describe(&refused),
            "Generic S3 error: HTTP error: error sending request: tcp connect error: Connection refused (os error 111)"
        );
        let no_bucket = object_store::Error::Generic {
            store: "S3",
            source: Box::new(Nested(
                "404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code>\
                 <Message>The specified bucket does not exist</Message>\
                 <RequestId>Ezu</RequestId></Error>",
                None,
            )),
        };
        assert_eq!(
            describe(&no_bucket),
            "Generic S3 error: 404 Not Found: NoSuchBucket: The specified bucket does not exist"
        );
    }

    #[test]
    fn user_info_is_cut_from_shown_urls() {
        assert_eq!(
            cut_user_info("http://key:secret@minio:9000/x"),
            "http://<user info cut>@minio:9000/x"
        );
        assert_eq!(
            cut_user_info("http://minio:9000/a@b"),
            "http://minio:9000/a@b"
        );
    }

    #[test]
    fn credentials_are_cut_out_of_messages() {
        let secrets = vec!["AKIAEXAMPLE".to_string(), "wJalrXUtnFEMI".to_string()];
        let shown = redact(
            "request to http://h/?X-Amz-Credential=AKIAEXAMPLE failed; key wJalrXUtnFEMI",
            &secrets,
        );
        assert!(
            !shown.contains("AKIAEXAMPLE") && !shown.contains("wJalrXUtnFEMI"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
    }
}
