//! The command layer: clap definitions, one module per subcommand, errors turned into
//! messages and exit codes. `anyhow` lives here and nowhere below.

mod approve;
mod baseline;
mod check;
mod check_merge;
mod common;
mod completions;
mod diff;
mod doctor;
mod export;
mod fingerprint;
mod format;
mod fsck;
mod gate;
mod gc;
mod graph;
mod log;
mod manpage;
mod pair;
mod report;
mod show;
mod snapshot;
mod verify;

pub use crate::store::StoreSource;
pub use common::{ConnectArgs, StoreArgs};

use crate::exit;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
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
    /// Print less on stderr (results on stdout are unchanged; no progress bars).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Colour in terminal output: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, global = true, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Who lays out HTML pages' fan-out pictures: auto (Graphviz's `dot` when it is on
    /// PATH, else the built-in layered layout), graphviz, builtin.
    #[arg(long, value_enum, global = true, default_value_t = LayoutWhen::Auto)]
    pub layout: LayoutWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayoutWhen {
    Auto,
    Graphviz,
    Builtin,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
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
    /// The change set of a rehearsal, for `gate --expect` to pass exactly that.
    Approve(approve::ApproveCmd),
    /// Trigger fan-out: what an INSERT/UPDATE/DELETE/TRUNCATE on a table sets off, in order.
    ///
    /// `graph A B TABLE`: how TABLE's fan-out changed between two snapshots (exit 1 if it did).
    Graph(graph::GraphCmd),
    /// Nightly: snapshot every target of driftgate.toml, gate it against its baseline, report.
    Check(check::CheckCmd),
    /// Accept a target's current state (or a stored snapshot) as its baseline.
    Baseline(baseline::BaselineCmd),
    /// What will work: the resolved connection and TLS, what the role cannot read, the store, the tools found.
    Doctor(doctor::DoctorCmd),
    /// Drop snapshots no ref or kept history needs, and the objects only they used.
    Gc(gc::GcCmd),
    /// A ref's history from its ref log: when the catalog changed and what (text, json, html).
    Report(report::ReportCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsCmd),
    /// Print the man page (roff) of driftgate or of one subcommand.
    Manpage(manpage::ManpageCmd),
}

/// The whole command line: clap's definitions with help on `--help` only, because `-h` is the
/// host, as in pg_dump and psql.
pub fn command() -> clap::Command {
    long_help_only(Cli::command())
}

/// `--help` without `-h`, on a command and all its subcommands. A CI gate that got
/// `-h` by mistake must not print help and exit 0.
fn long_help_only(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let mut cmd = cmd.disable_help_flag(true).arg(
        clap::Arg::new("help")
            .long("help")
            .action(clap::ArgAction::Help)
            .help("Print help"),
    );
    for name in names {
        cmd = cmd.mut_subcommand(name, long_help_only);
    }
    cmd
}

/// Parse the command line, run, and map the outcome to an exit code.
/// The subcommand this process was asked to run (`snapshot`, `diff`…), for the S3 counting
/// layer's record; `None` when the arguments do not parse. Parsed again rather than read
/// from the arguments by position: global options (`--store URL`) come before it.
pub fn subcommand_name() -> Option<String> {
    command()
        .try_get_matches()
        .ok()?
        .subcommand_name()
        .map(str::to_string)
}

pub fn main() -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    // `check` and `baseline` take the store from driftgate.toml unless one was asked for.
    let store_source = common::store_source_of(matches.value_source("store"));
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
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
    let result = runtime.block_on(run(cli, store_source));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            // An error may quote a catalog name: no raw control character reaches the terminal.
            eprintln!(
                "driftgate: error: {}",
                crate::model::visible::visible_lines(&error_chain(&e))
            );
            ExitCode::from(exit::ERROR)
        }
    }
}

/// Help and version go to stdout with exit 0; every other parse failure is a usage error,
/// worded like driftgate's own errors (`driftgate: error: …`) and exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
        _ => {
            let text = e.render().to_string();
            let _ = write!(std::io::stderr(), "driftgate: {text}");
            ExitCode::from(exit::ERROR)
        }
    }
}

pub async fn run(cli: Cli, store_source: StoreSource) -> anyhow::Result<u8> {
    let mut store = cli.store;
    let mut store_source = store_source;
    // One discovery for every command: `--store`, DRIFTGATE_STORE, then `store =` of the
    // driftgate.toml `check` would find, then ./snapshots (issue 14: fsck, gc and log ignored
    // `store =`, so the README's weekly cron gc worked on the wrong directory). `check` and
    // `baseline` read their own config (it may be another file, given with --config).
    let reads_own_config = matches!(cli.command, Command::Check(_) | Command::Baseline(_));
    if store_source == StoreSource::Default && !reads_own_config {
        if let Some(path) = common::discovered_config_store()? {
            store.store = path;
            store_source = StoreSource::Config;
        }
    }
    let ctx = Context {
        store,
        store_source,
        quiet: cli.quiet,
        color: cli.color,
        layouter: choose_layouter(cli.layout)?,
    };
    match cli.command {
        Command::Snapshot(cmd) => cmd.run(&ctx).await,
        Command::Show(cmd) => cmd.run(&ctx).await,
        Command::Log(cmd) => cmd.run(&ctx),
        Command::Report(cmd) => cmd.run(&ctx),
        Command::Fsck(cmd) => cmd.run(&ctx),
        Command::Fingerprint(cmd) => cmd.run(&ctx).await,
        Command::Export(cmd) => cmd.run(&ctx).await,
        Command::Diff(cmd) => cmd.run(&ctx).await,
        Command::Verify(cmd) => cmd.run(&ctx).await,
        Command::Gate(cmd) => cmd.run(&ctx).await,
        Command::Approve(cmd) => cmd.run(&ctx).await,
        Command::Graph(cmd) => cmd.run(&ctx).await,
        Command::Check(cmd) => cmd.run(&ctx).await,
        Command::Baseline(cmd) => cmd.run(&ctx).await,
        Command::Doctor(cmd) => cmd.run(&ctx).await,
        Command::Gc(cmd) => cmd.run(&ctx),
        Command::Completions(cmd) => cmd.run(),
        Command::Manpage(cmd) => cmd.run(),
    }
}

/// `--layout`: Graphviz when asked (an error when it is not on PATH) or when `auto` finds
/// it, else the built-in layout. Leaked once per process: a renderer's `Style` holds it.
fn choose_layouter(when: LayoutWhen) -> anyhow::Result<&'static dyn crate::render::html::Layouter> {
    use crate::graphviz::Graphviz;
    Ok(match (when, Graphviz::on_path()) {
        (LayoutWhen::Builtin, _) | (LayoutWhen::Auto, None) => {
            &crate::render::html::layout::BUILTIN
        }
        (_, Some(g)) => Box::leak(Box::new(g)),
        (LayoutWhen::Graphviz, None) => {
            anyhow::bail!("--layout graphviz: Graphviz's `dot` is not on PATH")
        }
    })
}

/// What every subcommand gets besides its own arguments.
pub struct Context {
    pub store: StoreArgs,
    /// Which setting chose the store: `--store`, `DRIFTGATE_STORE` or the default.
    pub store_source: StoreSource,
    pub quiet: bool,
    pub color: ColorWhen,
    /// HTML pictures' layouter, chosen once from `--layout` (and `PATH`).
    pub layouter: &'static dyn crate::render::html::Layouter,
}

impl Context {
    /// `--store` or `DRIFTGATE_STORE` was given (not just the default).
    pub fn store_explicit(&self) -> bool {
        self.store_source != StoreSource::Default
    }

    /// Whether to colour what goes to stdout.
    pub fn color_stdout(&self) -> bool {
        color_enabled(
            self.color,
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::io::stdout().is_terminal(),
        )
    }

    /// A command's report on stdout in `format`: the one way a command prints its result.
    pub fn print<R: crate::render::Report>(
        &self,
        report: &R,
        format: crate::render::Format,
    ) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        crate::render::render(report, format, self.style(), &mut out)?;
        out.flush()
    }

    /// How people's formats on stdout are dressed.
    pub fn style(&self) -> crate::render::Style {
        crate::render::Style {
            color: self.color_stdout(),
            layouter: Some(self.layouter),
        }
    }

    /// How report files are dressed: never in colour, pictures by `--layout`.
    pub fn style_for_files(&self) -> crate::render::Style {
        crate::render::Style {
            color: false,
            layouter: Some(self.layouter),
        }
    }

    /// A warning for people on stderr, unless `--quiet`.
    pub fn warn(&self, msg: impl std::fmt::Display) {
        self.note(format!("driftgate: warning: {msg}"));
    }

    /// A note for people on stderr, unless `--quiet`.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            let msg = crate::model::visible::visible_lines(&msg.to_string());
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

/// `--color` against `NO_COLOR` (https://no-color.org: a flag given on the command line wins)
/// and whether the output is a terminal.
fn color_enabled(when: ColorWhen, no_color: bool, terminal: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => terminal && !no_color,
    }
}

/// An error and its causes on one line, each cause once: a message that already ends with
/// its cause's text (`path: No such file…`) is not followed by it again.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_follows_the_flag_then_no_color_then_the_terminal() {
        assert!(color_enabled(ColorWhen::Always, true, false));
        assert!(!color_enabled(ColorWhen::Never, false, true));
        assert!(color_enabled(ColorWhen::Auto, false, true));
        assert!(!color_enabled(ColorWhen::Auto, true, true));
        assert!(!color_enabled(ColorWhen::Auto, false, false));
    }

    /// Each command's `--format` offers exactly its report's formats, lists them in
    /// `--help`, and refuses another command's format with exit 2 naming both.
    #[test]
    fn every_format_flag_offers_its_reports_formats_and_nothing_else() {
        use crate::render::{Format, Report};
        fn names<R: Report>() -> Vec<&'static str> {
            R::FORMATS.iter().map(|f| f.name()).collect()
        }
        let commands: [(&[&str], Vec<&str>); 9] = [
            (&["log"], names::<crate::render::log::LogReport>()),
            (&["show", "s"], names::<crate::render::show::ShowReport>()),
            (
                &["fingerprint", "s"],
                names::<crate::render::fingerprint::FingerprintReport>(),
            ),
            (
                &["verify", "r"],
                names::<crate::render::verify::VerifyReport>(),
            ),
            (
                &["diff", "a", "b"],
                names::<crate::render::html::diff::DiffPage>(),
            ),
            (
                &["gate", "a", "b"],
                names::<crate::render::html::gate::GatePage>(),
            ),
            (
                &["report", "r"],
                names::<crate::render::history::HistoryReport>(),
            ),
            (
                &["graph", "s"],
                names::<crate::render::fanout::GraphReport>(),
            ),
            (&["doctor"], names::<crate::doctor::DoctorReport>()),
        ];
        for (args, formats) in commands {
            let name = args[0];
            let sub = command().find_subcommand(name).unwrap().clone();
            let format = sub
                .get_arguments()
                .find(|a| a.get_id() == "format")
                .unwrap();
            let values = format.get_possible_values();
            let offered: Vec<String> = values.iter().map(|v| v.get_name().to_string()).collect();
            assert_eq!(offered, formats, "{name}");
            let mut sub = sub;
            let help = sub.render_long_help().to_string();
            assert!(help.contains(formats[0]), "{name}: {help}");
            for other in Format::value_variants() {
                // A format of its own, or an alias of one (`graph --format text`).
                if values.iter().any(|v| v.matches(other.name(), false)) {
                    continue;
                }
                let mut argv = vec!["driftgate"];
                argv.extend_from_slice(args);
                argv.extend(["--format", other.name()]);
                let e = command().try_get_matches_from(&argv).unwrap_err();
                assert_eq!(e.exit_code(), 2, "{argv:?}");
                let text = e.render().to_string();
                assert!(
                    text.contains(&format!("`driftgate {name}` has no --format {other}"))
                        && text.contains(&formats.join(", ")),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn an_io_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotADirectory, "Not a directory");
        let e = anyhow::Error::new(crate::store::StoreError::io(
            std::path::Path::new("/x/STORE"),
            io,
        ))
        .context("opening the store");
        assert_eq!(
            error_chain(&e),
            "opening the store: /x/STORE: Not a directory"
        );
    }

    #[test]
    fn dash_h_is_the_host_never_help() {
        let m = command()
            .try_get_matches_from(["driftgate", "snapshot", "-h", "db.internal", "-p", "6432"])
            .unwrap();
        let (_, sub) = m.subcommand().unwrap();
        assert_eq!(sub.get_one::<String>("host").unwrap(), "db.internal");
        // gate A B -h with no value is a usage error, not help.
        let e = command()
            .try_get_matches_from(["driftgate", "gate", "a", "b", "-h"])
            .unwrap_err();
        assert_ne!(e.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(e.exit_code(), 2);
        let e = command()
            .try_get_matches_from(["driftgate", "fsck", "-h"])
            .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
        let e = command()
            .try_get_matches_from(["driftgate", "gate", "--help"])
            .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
