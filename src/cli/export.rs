//! `driftgate export SNAP`: one self-contained snapshot file (objects inline, hashes checked
//! on import), for sharing a snapshot or using it with no store.

use super::common::{load_snapshot, ConnectArgs};
use super::Context;
use crate::exit;
use crate::store::bundle_bytes;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExportCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live`.
    pub snap: String,
    /// Write here (atomically) instead of stdout; `-` is stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ExportCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let loaded = load_snapshot(
            &self.snap,
            &ctx.store,
            &self.connect,
            self.connect.capture_options(),
        )
        .await?;
        let bytes = bundle_bytes(&loaded.snapshot);
        super::common::write_output(ctx, self.output.as_deref(), &bytes, "")?;
        Ok(exit::OK)
    }
}
