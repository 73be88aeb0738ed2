//! The command layer: clap definitions, one module per subcommand, errors turned into
//! messages and exit codes. `anyhow` lives here and nowhere below.

mod common;
mod diff;
mod export;
mod fingerprint;
mod fsck;
mod gate;
mod graph;
mod log;
mod pair;
mod show;
mod snapshot;
mod verify;

pub use common::{ConnectArgs, StoreArgs};

use crate::exit;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "driftgate",
    version,
    about = "Detect-only drift monitor for PostgreSQL catalogs",
    long_about = "Detect-only drift monitor for PostgreSQL catalogs: read-only snapshots in a \
                  content-addressed store, diffs, fingerprints, trigger fan-out graphs and a \
                  fail-closed gate.\n\nExit codes: 0 no drift / PASS, 1 drift / BLOCK, 2 error."
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print less on stderr (results on stdout are unchanged).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Capture the catalog (read-only), store it, print the snapshot id.
    Snapshot(snapshot::SnapshotCmd),
    /// List the objects of a snapshot.
    Show(show::ShowCmd),
    /// Snapshot history: every snapshot, or the positions a ref held.
    Log(log::LogCmd),
    /// Verify every byte of the store against its hash.
    Fsck(fsck::FsckCmd),
    /// One hash per scope (catalog, schema:NAME, triggers:TABLE, KIND:KEY, …).
    Fingerprint(fingerprint::FingerprintCmd),
    /// Write a snapshot as one self-contained JSON file, readable with no store.
    Export(export::ExportCmd),
    /// Added, removed and changed objects between two snapshots (field-level, text diffs).
    Diff(diff::DiffCmd),
    /// Live (or --against SNAP) vs REF, per scope: IDENTICAL or DRIFT (the entry == exit proof).
    Verify(verify::VerifyCmd),
    /// The gate_drift verdict (PASS, WARN, BLOCK) of head against base under a policy.
    Gate(gate::GateCmd),
    /// Trigger fan-out: what an INSERT/UPDATE/DELETE/TRUNCATE on a table sets off, in order.
    Graph(graph::GraphCmd),
}

/// Parse the command line, run, and map the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("driftgate: error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("driftgate: error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    let ctx = Context {
        store: cli.store,
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Snapshot(cmd) => cmd.run(&ctx).await,
        Command::Show(cmd) => cmd.run(&ctx).await,
        Command::Log(cmd) => cmd.run(&ctx),
        Command::Fsck(cmd) => cmd.run(&ctx),
        Command::Fingerprint(cmd) => cmd.run(&ctx).await,
        Command::Export(cmd) => cmd.run(&ctx).await,
        Command::Diff(cmd) => cmd.run(&ctx).await,
        Command::Verify(cmd) => cmd.run(&ctx).await,
        Command::Gate(cmd) => cmd.run(&ctx).await,
        Command::Graph(cmd) => cmd.run(&ctx).await,
    }
}

/// What every subcommand gets besides its own arguments.
pub struct Context {
    pub store: StoreArgs,
    pub quiet: bool,
}

impl Context {
    /// A note for people on stderr, unless `--quiet`.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{msg}");
        }
    }
}

fn init_logging(quiet: bool) {
    let default = if quiet { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
