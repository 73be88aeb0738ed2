//! The snapshot model: catalog objects, their OID-free keys, canonical JSON and hashing.
//!
//! Nothing here does I/O. `catalog/` builds these values from PostgreSQL, `store/` persists
//! them, and `diff/`, `graph/` and `gate/` compute on them.

pub mod canonical;
mod canonical_ser;
pub mod fingerprint;
pub mod globals;
pub mod key;
pub mod kinds;
pub mod names;
pub mod object;
pub mod redact;
pub mod snapshot;
pub mod visible;

pub use canonical::{canonical_bytes, ContentHash};
pub use key::{ObjectKey, ObjectKind};
pub use kinds::*;
pub use names::{qualify, quote_ident, routine_signature, split_qualified, QualifiedName};
pub use object::*;
pub use snapshot::{CatalogSnapshot, RowCount, SnapshotMeta, SourceInfo};
pub use visible::visible;
