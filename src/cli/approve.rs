//! `driftgate approve A B -o approved.json`: the change set of a rehearsal (each changed
//! object's key, the kind of change and the object it results in), for `gate A B --expect`
//! to pass exactly that and nothing else.

use super::common::ConnectArgs;
use super::pair::{load_sides_with, SideError};
use super::Context;
use crate::diff;
use crate::exit;
use crate::gate::ApprovedSet;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ApproveCmd {
    /// The state before the rehearsed change: a ref, snapshot id or prefix, file, or `live`.
    pub base: String,
    /// The state after it.
    pub head: String,
    /// Write the approved set here (atomically); `-` or none is stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ApproveCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let (base, head) = load_sides_with(&self.base, &self.head, ctx, &self.connect, false, true)
            .await
            .map_err(SideError::named)?;
        let d = diff::diff(base.snapshot(), head.snapshot());
        let set = ApprovedSet::from_diff(&d, &base.label(), &head.label());
        let mut bytes = serde_json::to_vec_pretty(&set)?;
        bytes.push(b'\n');
        let what = format!(" ({} approved change(s))", set.changes.len());
        super::common::write_output(ctx, self.output.as_deref(), &bytes, &what)?;
        Ok(exit::OK)
    }
}
