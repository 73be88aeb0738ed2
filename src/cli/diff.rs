//! `driftgate diff A B`: added, removed and changed objects, field-level, with text diffs
//! of changed definitions and row-count drift apart. Exit 0 no drift, 1 drift, 2 error.

use super::common::ConnectArgs;
use super::format::FormatArg;
use super::pair::{load_sides_with, SideError};
use super::Context;
use crate::diff;
use crate::exit;
use crate::render::diff::DiffDocument;
use crate::render::html::diff::{ChangedFanouts, DiffPage};
use crate::render::Format;
use clap::Args;

#[derive(Args, Debug)]
pub struct DiffCmd {
    /// Base: a ref, snapshot id or prefix, snapshot file, or `live`.
    pub base: String,
    /// Head: a ref, snapshot id or prefix, snapshot file, or `live`.
    pub head: String,
    #[arg(long, value_parser = FormatArg::of::<DiffPage>(), default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl DiffCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        // A page walks the head's fan-outs: it needs whole snapshots, not the pruned pair.
        let prune = self.format != Format::Html;
        let (base, head) = load_sides_with(&self.base, &self.head, ctx, &self.connect, true, prune)
            .await
            .map_err(SideError::named)?;
        let d = diff::diff(base.snapshot(), head.snapshot());
        let (base_info, head_info) = (base.info(), head.info());
        let doc = DiffDocument::new(&base_info, &head_info, &d);
        // Only a page draws the fan-outs of tables whose triggers changed (each a walk).
        let fanouts = if self.format == Format::Html {
            ChangedFanouts::of(base.snapshot(), head.snapshot(), &d)
        } else {
            ChangedFanouts::default()
        };
        ctx.print(&DiffPage { doc, fanouts }, self.format)?;
        Ok(if d.has_drift() { exit::DRIFT } else { exit::OK })
    }
}
