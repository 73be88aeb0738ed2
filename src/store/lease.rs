//! A lease held by this process, whatever the backend: its record (`LeaseRecord`) is
//! renewed by a background thread every third of its TTL until the holder drops it, then
//! removed. A backend supplies only how a record is written over the held one and how it is
//! removed ([`LeaseMedium`]); the directory store rewrites its flocked file in place, the S3
//! store overwrites its object. How leases are named, listed and judged stays the backend's.

use super::backend::{Lease, LeaseRecord};
use super::StoreError;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Below this TTL a lease is not renewed (a test's lease that is meant to run out).
pub(super) const MIN_RENEWED_TTL: Duration = Duration::from_secs(3);

/// Where a held lease's record lives.
pub(super) trait LeaseMedium: Send + Sync {
    /// Replace the held record with `bytes` (a whole serialised `LeaseRecord`).
    fn rewrite(&self, bytes: &[u8]) -> Result<(), StoreError>;
    /// Remove the lease: it is released. Best effort; a lease left behind runs out.
    fn remove(&self);
}

/// What the holder and its renewal thread share.
struct Shared {
    medium: Box<dyn LeaseMedium>,
    body: String,
    ttl: Duration,
    expires_at: AtomicI64,
    released: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    /// Push the expiry out to a full TTL from now.
    fn renew(&self) -> Result<i64, StoreError> {
        let expires_at = unix_now() + self.ttl.as_secs() as i64;
        let bytes = record_bytes(expires_at, &self.body);
        self.medium.rewrite(&bytes)?;
        self.expires_at.store(expires_at, Ordering::SeqCst);
        Ok(expires_at)
    }

    /// Renew every third of the TTL until released: a holder that lives keeps its lease
    /// however long its work takes (a snapshot of a huge catalog, a gc of a huge store), so
    /// gc never deletes under a slow writer and writers never start under a slow gc. A
    /// renewal that fails is tried again at the next tick; if none succeeds the lease runs
    /// out and the writer fails before its ref swap ([`super::StoreError::LeaseExpired`]).
    fn renew_until_released(&self) {
        let period = self.ttl / 3;
        let mut released = self.released.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let (guard, timeout) = self
                .wake
                .wait_timeout_while(released, period, |r| !*r)
                .unwrap_or_else(|e| e.into_inner());
            released = guard;
            if *released {
                return;
            }
            if timeout.timed_out() {
                let _ = self.renew();
            }
        }
    }
}

/// A lease this process holds; dropping it stops the renewals and removes it.
pub(super) struct HeldLease {
    key: String,
    shared: Arc<Shared>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

impl HeldLease {
    /// Hold the lease at `key`, whose record (`body`, expiring at `expires_at`) the medium
    /// already holds, and renew it from now on.
    pub(super) fn hold(
        key: String,
        medium: Box<dyn LeaseMedium>,
        body: &str,
        ttl: Duration,
        expires_at: i64,
    ) -> HeldLease {
        let shared = Arc::new(Shared {
            medium,
            body: body.to_string(),
            ttl,
            expires_at: AtomicI64::new(expires_at),
            released: Mutex::new(false),
            wake: Condvar::new(),
        });
        let renewer = (ttl >= MIN_RENEWED_TTL).then(|| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || shared.renew_until_released())
        });
        HeldLease {
            key,
            shared,
            renewer,
        }
    }
}

impl Lease for HeldLease {
    fn expires_at(&self) -> i64 {
        self.shared.expires_at.load(Ordering::SeqCst)
    }

    fn key(&self) -> &str {
        &self.key
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        *self
            .shared
            .released
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
        self.shared.medium.remove();
    }
}

/// The serialised record of a lease.
pub(super) fn record_bytes(expires_at: i64, body: &str) -> Vec<u8> {
    serde_json::to_vec(&LeaseRecord {
        expires_at,
        body: body.to_string(),
    })
    .expect("leases serialize")
}

/// A lease record as read back. One that does not parse is honoured as held forever: better
/// a gc deferred than data lost.
pub(super) fn parse_record(name: &str, bytes: &[u8]) -> LeaseRecord {
    serde_json::from_slice(bytes).unwrap_or(LeaseRecord {
        expires_at: i64::MAX,
        body: format!("unreadable lease {name}"),
    })
}

pub(super) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
