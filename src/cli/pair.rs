//! The two sides of a comparison (`diff`, `verify`, `gate`). A `live` side is captured the
//! way the stored side was taken, with the same schema filters and (for diff and gate) exact
//! counts of the same tables, so like is compared with like.

use super::common::{load_snapshot, ConnectArgs, LoadedSnapshot};
use super::Context;
use crate::catalog::{CatalogError, ExactCounts};
use crate::model::fingerprint::CatalogTree;
use crate::model::{CatalogSnapshot, ContentHash};
use crate::render::diff::SideInfo;
use crate::store::Resolved;
use std::sync::OnceLock;

/// One loaded side and the SNAP argument it came from.
pub struct Side {
    pub spec: String,
    pub loaded: LoadedSnapshot,
    /// Hashing every object is the costly part of a comparison: built at most once, and
    /// only when a scope or the catalog hash is asked for.
    tree: OnceLock<CatalogTree>,
    /// Known without hashing for a stored snapshot (its record holds it).
    catalog: OnceLock<ContentHash>,
}

impl Side {
    pub fn snapshot(&self) -> &CatalogSnapshot {
        &self.loaded.snapshot
    }

    pub fn tree(&self) -> &CatalogTree {
        self.tree.get_or_init(|| self.snapshot().tree())
    }

    pub fn catalog_hash(&self) -> ContentHash {
        *self.catalog.get_or_init(|| self.tree().root_hash())
    }

    /// The snapshot id when stored, else the argument as given (`live`, a file).
    pub fn label(&self) -> String {
        self.loaded
            .id
            .map(|id| id.to_hex())
            .unwrap_or_else(|| self.spec.clone())
    }

    pub fn info(&self) -> SideInfo {
        let s = self.snapshot();
        SideInfo {
            spec: self.spec.clone(),
            id: self.loaded.id.map(|id| id.to_hex()),
            catalog: self.catalog_hash().to_hex(),
            source: s.meta.source.describe(),
            created_at: s.meta.created_at.clone(),
            server_version: s.meta.server_version.clone(),
        }
    }
}

/// Which side could not be loaded, and why.
pub struct SideError {
    /// `base` or `head`.
    pub which: &'static str,
    pub error: anyhow::Error,
}

impl SideError {
    /// The error with the side named: `cannot read the base snapshot: …`.
    pub fn named(self) -> anyhow::Error {
        self.error
            .context(format!("cannot read the {} snapshot", self.which))
    }
}

/// Load base and head. A non-live side is loaded first so a live side can be captured like it.
/// `exact_counts`: whether a live side should count the tables the other side counted.
pub async fn load_sides(
    base: &str,
    head: &str,
    ctx: &Context,
    connect: &ConnectArgs,
    exact_counts: bool,
) -> Result<(Side, Side), SideError> {
    load_sides_with(base, head, ctx, connect, exact_counts, false).await
}

/// Like [`load_sides`]; with `prune`, two stored snapshots are loaded without the objects
/// they share (equal hashes), which is all a diff needs and far cheaper on a large catalog.
/// The sides' trees are then partial: `prune` is only for callers that never ask for them.
pub async fn load_sides_with(
    base: &str,
    head: &str,
    ctx: &Context,
    connect: &ConnectArgs,
    exact_counts: bool,
    prune: bool,
) -> Result<(Side, Side), SideError> {
    if prune && base != "live" && head != "live" {
        if let Some(pair) = load_stored_pair_pruned(base, head, ctx) {
            return Ok(pair);
        }
        // Anything unusual (a file, an unknown ref, a corrupt store): the general path below
        // says precisely which side failed.
    }
    let load = |spec: &str, which: &'static str, like: Option<&CatalogSnapshot>| {
        let spec = spec.to_string();
        let like = like.cloned();
        async move {
            let loaded = load_side(&spec, ctx, connect, like.as_ref(), exact_counts)
                .await
                .map_err(|error| SideError { which, error })?;
            let catalog = OnceLock::new();
            if let Some(id) = loaded.id {
                // The record was just read and verified; a failure here is not worth failing on.
                if let Ok(record) = ctx.store.open().and_then(|s| Ok(s.read_record(&id)?)) {
                    let _ = catalog.set(record.catalog);
                }
            }
            Ok(Side {
                spec,
                loaded,
                tree: OnceLock::new(),
                catalog,
            })
        }
    };
    if base == "live" && head != "live" {
        let h = load(head, "head", None).await?;
        let b = load(base, "base", Some(h.snapshot())).await?;
        Ok((b, h))
    } else {
        let b = load(base, "base", None).await?;
        let like = (base != "live").then(|| b.snapshot());
        let h = load(head, "head", like).await?;
        Ok((b, h))
    }
}

fn load_stored_pair_pruned(base: &str, head: &str, ctx: &Context) -> Option<(Side, Side)> {
    let store = ctx.store.open().ok()?;
    let (Resolved::Stored(a), Resolved::Stored(b)) =
        (store.resolve(base).ok()?, store.resolve(head).ok()?)
    else {
        return None;
    };
    let ((snap_a, catalog_a), (snap_b, catalog_b)) = store.load_pair_pruned(&a, &b).ok()?;
    let side = |spec: &str, id: ContentHash, snapshot: CatalogSnapshot, hash: ContentHash| {
        let catalog = OnceLock::new();
        let _ = catalog.set(hash);
        Side {
            spec: spec.to_string(),
            loaded: LoadedSnapshot {
                id: Some(id),
                snapshot,
            },
            tree: OnceLock::new(),
            catalog,
        }
    };
    Some((
        side(base, a, snap_a, catalog_a),
        side(head, b, snap_b, catalog_b),
    ))
}

async fn load_side(
    spec: &str,
    ctx: &Context,
    connect: &ConnectArgs,
    like: Option<&CatalogSnapshot>,
    exact_counts: bool,
) -> anyhow::Result<LoadedSnapshot> {
    let mut opts = connect.capture_options();
    if spec != "live" {
        return load_snapshot(spec, &ctx.store, connect, opts).await;
    }
    if let Some(other) = like {
        opts.include_schemas = other.meta.include_schemas.clone();
        opts.exclude_schemas = other.meta.exclude_schemas.clone();
        if exact_counts {
            opts.exact_counts = exact_counts_like(other);
        }
    }
    loop {
        match load_snapshot(spec, &ctx.store, connect, opts.clone()).await {
            Err(e) => {
                // A table the other side counted is gone: capture without counting it (the
                // diff reports the table as removed) rather than fail the whole comparison.
                let gone = e
                    .chain()
                    .find_map(|c| match c.downcast_ref::<CatalogError>() {
                        Some(CatalogError::UnknownCountTable { table }) => Some(table.clone()),
                        _ => None,
                    });
                match (gone, &mut opts.exact_counts) {
                    (Some(table), ExactCounts::Tables(list)) if list.contains(&table) => {
                        list.retain(|t| *t != table);
                        if list.is_empty() {
                            opts.exact_counts = ExactCounts::None;
                        }
                    }
                    _ => return Err(e),
                }
            }
            ok => return ok,
        }
    }
}

/// The exact-count request that reproduces what `snap` counted.
fn exact_counts_like(snap: &CatalogSnapshot) -> ExactCounts {
    let counted: Vec<String> = snap
        .counts
        .iter()
        .filter(|(_, c)| c.exact.is_some() || c.exact_error.is_some())
        .map(|(t, _)| t.clone())
        .collect();
    if counted.is_empty() {
        ExactCounts::None
    } else if counted.len() == snap.counts.len() {
        ExactCounts::All
    } else {
        ExactCounts::Tables(counted)
    }
}
