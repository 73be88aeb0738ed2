//! `driftgate snapshot`: capture the catalog read-only, store it, print its id.

use super::common::ConnectArgs;
use super::Context;
use crate::catalog::{self, ExactCounts, SinkEvent};
use crate::exit;
use crate::store::writer::SnapshotWriter;
use crate::store::{refs::validate_ref_name, Store, StoreError};
use anyhow::Context as _;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct SnapshotCmd {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Point this ref (e.g. baseline, entry, prod/nightly) at the new snapshot.
    #[arg(long = "ref", value_name = "NAME")]
    pub ref_name: Option<String>,
    /// A free-text label kept in the snapshot's metadata.
    #[arg(long)]
    pub label: Option<String>,
    /// Exact row counts (takes ACCESS SHARE locks): `all`, or tables like public.dot_tools,birth_registry.
    #[arg(long, value_name = "T1,T2|all")]
    pub exact_counts: Option<String>,
    /// Only schemas matching this glob (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub include_schema: Vec<String>,
    /// Leave out schemas matching this glob (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub exclude_schema: Vec<String>,
}

impl SnapshotCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        if let Some(name) = &self.ref_name {
            validate_ref_name(name)?;
        }
        // Refuse a bad store before touching the database: the writer opens it and reads
        // its index now.
        // A store that exists is told a writer is at work before anything in it is relied
        // on, until the ref has moved (see Store::hold_writer_lease): else a gc between
        // the write and the ref move would drop the snapshot nothing names yet.
        let held = match Store::open(&ctx.store.store) {
            Ok(store) => {
                // Before connecting: a read-only store was found only after the whole
                // catalog had been read.
                store.probe_writable()?;
                store.hold_writer_lease("snapshot")?;
                Some(store)
            }
            Err(StoreError::NotAStore { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let mut writer = SnapshotWriter::owned(&ctx.store.store)?;
        let target = self.connect.target()?;
        let mut opts = self.connect.capture_options();
        opts.exact_counts = self
            .exact_counts
            .as_deref()
            .map(ExactCounts::parse)
            .unwrap_or_default();
        opts.include_schemas = self.include_schema.clone();
        opts.exclude_schemas = self.exclude_schema.clone();
        opts.label = self.label.clone();

        // Objects are hashed on their own thread as the catalog streams in, so the server
        // sessions never wait for the client; only what the store lacks is kept. Each read
        // task's objects travel as one batch (one wake-up, no copy); the channel holds a
        // few batches, so reading never blocks on hashing for long. A restart (DDL
        // committed mid-read) travels the same channel, in order.
        let (tx, rx) = std::sync::mpsc::sync_channel::<SinkEvent>(32);
        let hasher = std::thread::spawn(move || {
            for event in rx {
                match event {
                    SinkEvent::Objects(list) => {
                        for obj in list {
                            writer.add(&obj);
                        }
                    }
                    SinkEvent::Restart => writer.restart(),
                }
            }
            writer
        });
        let captured = catalog::capture_with(&target, &opts, &mut |event| {
            // The hasher only stops when the channel closes, so a send cannot fail.
            let _ = tx.send(event);
        })
        .await;
        drop(tx);
        let writer = hasher.join().expect("the hashing thread does not panic");
        let (meta, counts) =
            captured.with_context(|| format!("snapshot of {}", target.describe()))?;
        let source = meta.source.describe();
        let version = meta.server_version.clone();
        let capture_ms = meta.capture_ms;
        let written = writer.finish(meta, &counts)?;
        let store = match held {
            Some(store) => store,
            None => Store::open(&ctx.store.store)?,
        };
        if let Some(name) = &self.ref_name {
            store.update_ref(name, &written.id, &format!("snapshot of {source}"))?;
        }
        writeln!(std::io::stdout(), "{}", written.id)?;
        ctx.note(format!(
            "stored snapshot {} of {source} (PostgreSQL {version}): {} objects, catalog {}, {} new blob(s), {} bytes written, {capture_ms} ms{}",
            written.id.short(),
            written.object_count,
            written.catalog.short(),
            written.stats.new_blobs,
            written.stats.bytes_written,
            self.ref_name
                .as_ref()
                .map(|r| format!(", ref {r}"))
                .unwrap_or_default()
        ));
        Ok(exit::OK)
    }
}
