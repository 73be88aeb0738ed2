//! driftgate: a detect-only drift monitor for PostgreSQL catalogs.
//!
//! Map of the crate:
//! - [`catalog`] reads a catalog from PostgreSQL in one read-only transaction (the only code
//!   that talks to the server).
//! - [`model`] holds the snapshot types, OID-free keys, canonical JSON and fingerprints.
//! - [`store`] is the content-addressed BLAKE3 store (the only code that touches the
//!   filesystem, apart from writing reports the user asked for).
//! - [`sqltext`] tokenizes SQL with PostgreSQL's own scanner (body hashes, WHEN clauses).
//! - [`diff`] compares two snapshots: added/removed/changed objects, field-level, text diffs
//!   of definitions, row-count drift kept apart.
//! - [`gate`] weighs a diff by a policy into the `gate_drift` verdict (PASS/WARN/BLOCK).
//! - [`graph`] builds the trigger fan-out graph offline: firing order, what each routine
//!   writes, calls and notifies (bodies parsed with `pg_query`), cycles and ordering hazards.
//! - [`render`] writes every command's typed report in the one [`render::Format`] asked
//!   for, through one dispatch ([`render::render`]): tables, text, JSON, Markdown, DOT,
//!   Mermaid, Prometheus, self-contained HTML pages with the fan-out as inline SVG.
//! - [`graphviz`] lays out HTML pages' fan-out pictures with Graphviz (coordinates only),
//!   when it is installed and `--layout` allows; the built-in layout needs no tool.
//! - [`doctor`] finds out what will work (connection, privileges, store, tools) as a typed
//!   report, before a first nightly run.
//! - [`check`] is the nightly job: the `driftgate.toml` config, the pipeline (capture, store,
//!   baseline, diff, gate, ref move) behind injected capture, store and progress, per-target
//!   outcomes and the aggregate exit code; shards of a run over many runners, and their
//!   merge.
//! - [`notify`] holds the sinks that tell people besides stdout and files (the desktop
//!   notification over D-Bus).
//! - [`cli`] is the command layer: clap definitions and one module per subcommand that reads
//!   its flags, calls the modules above and prints their report; no pipeline, no rendering.

pub mod bounded;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod conninfo;
pub mod diff;
pub mod doctor;
pub mod duration;
pub mod exit;
pub mod gate;
pub mod graph;
pub mod graphviz;
pub mod model;
pub mod notify;
pub mod render;
pub mod sqltext;
pub mod store;

use std::process::ExitCode;

/// Entry point used by `main.rs`.
pub fn main_entry() -> ExitCode {
    install_crypto_provider();
    let code = cli::main();
    store::s3::write_stats_if_asked(cli::subcommand_name);
    code
}

/// Make ring the process's one rustls crypto provider, before any TLS client is built: the
/// PostgreSQL connections (src/catalog/tls.rs) and the S3 client (reqwest, built without a
/// provider of its own) both take the process default, so the two can never disagree or
/// find none. Idempotent: a second call finds it installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Now as RFC 3339 UTC with millisecond precision (so snapshots taken within one second
/// still sort in the order they were taken).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .expect("a truncated nanosecond is always valid");
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format)
        .expect("formatting a UTC time cannot fail")
}

/// Seconds since the Unix epoch of an RFC 3339 time (as written by [`now_rfc3339`]).
pub fn unix_time(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}
