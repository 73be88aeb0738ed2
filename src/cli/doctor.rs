//! `driftgate doctor`: the checks of [`crate::doctor`] on the settings given, written as
//! the one report. Exit 0 when all is well, 1 degraded, 2 when snapshots cannot work.

use super::common::ConnectArgs;
use super::format::FormatArg;
use super::Context;
use crate::doctor::{check_connection, check_store, check_tools, DoctorReport, ToolEnv};
use crate::render::Format;
use clap::Args;

#[derive(Args, Debug)]
pub struct DoctorCmd {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Text for people (one line per finding), or JSON (driftgate.doctor/v1) for programs.
    #[arg(long, value_parser = FormatArg::of::<DoctorReport>(), default_value_t = Format::Text)]
    pub format: Format,
}

impl DoctorCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let target = self.connect.target().map_err(|e| format!("{e:#}"));
        let (connection, privileges) = check_connection(
            target,
            &self.connect.limits(),
            self.connect.expect_database.as_deref(),
        )
        .await;
        let report = DoctorReport::new(
            connection,
            privileges,
            check_store(&ctx.store.store, ctx.store_source),
            check_tools(&ToolEnv::from_process()),
        );
        ctx.print(&report, self.format)?;
        Ok(report.status.exit_code())
    }
}
