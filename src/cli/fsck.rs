//! `driftgate fsck`: check every byte of the store; exit 2 naming each bad file.

use super::Context;
use crate::exit;
use crate::render::Format;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct FsckCmd {}

impl FsckCmd {
    pub fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let store = ctx.store.open()?;
        let report = store.fsck()?;
        let mut err = std::io::stderr().lock();
        for p in &report.problems {
            writeln!(err, "driftgate: fsck: {p}")?;
        }
        ctx.print(&report, Format::Text)?;
        Ok(if report.is_clean() {
            exit::OK
        } else {
            exit::ERROR
        })
    }
}
