//! driftgate: a detect-only drift monitor for PostgreSQL catalogs.
//!
//! Map of the crate:
//! - [`catalog`] reads a catalog from PostgreSQL in one read-only transaction (the only code
//!   that talks to the server).
//! - [`model`] holds the snapshot types, OID-free keys, canonical JSON and fingerprints.
//! - [`store`] is the content-addressed BLAKE3 store (the only code that touches the
//!   filesystem, apart from writing reports the user asked for).
//! - [`sqltext`] tokenizes SQL with PostgreSQL's own scanner (body hashes, WHEN clauses).
//! - [`graph`] builds the trigger fan-out graph offline: firing order, what each routine
//!   writes, calls and notifies (bodies parsed with `pg_query`), cycles and ordering hazards.
//! - [`render`] turns results into tables, JSON and other formats.
//! - [`cli`] is the command layer: clap definitions and one module per subcommand.

pub mod catalog;
pub mod cli;
pub mod exit;
pub mod graph;
pub mod model;
pub mod render;
pub mod sqltext;
pub mod store;

use std::process::ExitCode;

/// Entry point used by `main.rs`.
pub fn main_entry() -> ExitCode {
    cli::main()
}

/// Now as RFC 3339 UTC with second precision.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is always valid");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formatting of a UTC time cannot fail")
}
