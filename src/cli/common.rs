//! Arguments shared by several subcommands (store location, connection, timeouts) and the
//! one place a SNAP argument is turned into a snapshot.

use crate::catalog::{self, CaptureOptions, ConnFlags, ConnectTarget, SessionLimits};
use crate::model::redact::SecretPatterns;
use crate::model::{CatalogSnapshot, ContentHash, ObjectKind};
use crate::store::{self, Resolved, Store, StoreSource};
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::duration::parse_duration;

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Snapshot store directory.
    #[arg(
        long,
        global = true,
        env = "DRIFTGATE_STORE",
        default_value = "snapshots"
    )]
    pub store: PathBuf,
}

impl StoreArgs {
    pub fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.store)?)
    }
}

/// The `store =` of the config `check` would find (./driftgate.toml, else the XDG config),
/// resolved against the config's directory as `check` resolves it; `None` when there is no
/// config or it names no store. Only that key is read, so commands that do not use the
/// rest of the config do not fail on it.
pub fn discovered_config_store() -> anyhow::Result<Option<PathBuf>> {
    let Some(path) = crate::check::discover::find_config(None).map_err(anyhow::Error::msg)? else {
        return Ok(None);
    };
    let text =
        crate::bounded::read_text_limited(&path, crate::bounded::MAX_POLICY_BYTES, "config file")
            .map_err(anyhow::Error::msg)?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not valid TOML (it is read for its `store =`): {}",
            path.display(),
            e.message()
        )
    })?;
    match table.get("store") {
        None => Ok(None),
        Some(toml::Value::String(s)) => {
            let dir = path.parent().unwrap_or(std::path::Path::new(""));
            Ok(Some(crate::store::resolve_location(dir, s)))
        }
        Some(_) => anyhow::bail!("{}: `store` must be a string (a directory)", path.display()),
    }
}

/// The lowest verdict that makes the exit code 1 (`gate` and `check`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Warn,
    Block,
}

/// The store `check` and `baseline` use: `--store`/`DRIFTGATE_STORE` when given, else the
/// config's `store`, else the default.
pub fn store_path(ctx: &super::Context, config: &crate::check::config::CheckConfig) -> PathBuf {
    match (&config.store, ctx.store_explicit()) {
        (Some(path), false) => path.clone(),
        _ => ctx.store.store.clone(),
    }
}

/// Which setting gave the store path: `--store`, `DRIFTGATE_STORE`, or neither.
pub fn store_source_of(source: Option<clap::parser::ValueSource>) -> StoreSource {
    match source {
        Some(clap::parser::ValueSource::CommandLine) => StoreSource::Flag,
        Some(clap::parser::ValueSource::EnvVariable) => StoreSource::Env,
        _ => StoreSource::Default,
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct ConnectArgs {
    /// Connection URL (postgresql://…), libpq key=value string or service=NAME; its values win
    /// over -h/-p/-U/-d. Else DATABASE_URL, else PGSERVICE, PGHOST, PGPORT, PGUSER,
    /// PGDATABASE, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT and ~/.pgpass.
    #[arg(long, hide_env_values = true)]
    pub dsn: Option<String>,
    /// Database server host or socket directory (as pg_dump -h; else PGHOST).
    #[arg(short = 'h', long, value_name = "HOSTNAME")]
    pub host: Option<String>,
    /// Database server port (else PGPORT, else 5432).
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<String>,
    /// Database user name (else PGUSER, else the OS user).
    #[arg(short = 'U', long, value_name = "NAME")]
    pub username: Option<String>,
    /// Database name, or a connection string whose values win over -h/-p/-U (as in psql).
    #[arg(short = 'd', long, value_name = "DBNAME")]
    pub dbname: Option<String>,
    /// Never prompt for a password (driftgate never prompts; accepted as pg_dump -w is).
    #[arg(short = 'w', long)]
    pub no_password: bool,
    /// Give up connecting after this long (e.g. 10s). Default: connect_timeout of the
    /// connection string or service, else PGCONNECT_TIMEOUT, else 10s.
    #[arg(long, value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Longest any one catalog statement may run.
    #[arg(long, value_parser = parse_duration, default_value = "300s")]
    pub statement_timeout: Duration,
    /// Longest to wait for a lock held by another session before failing with its name.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub lock_timeout: Duration,
    /// Refuse to read a database whose name does not match this SQL LIKE pattern
    /// (e.g. directus_gov_test_%).
    #[arg(long, value_name = "PATTERN")]
    pub expect_database: Option<String>,
    /// Sessions reading the catalog in parallel on one shared snapshot (1 = a single session).
    #[arg(long, short = 'j', default_value_t = crate::catalog::DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
    /// Leave out the cluster and database around the schema: roles, memberships, database
    /// and role settings, server settings, the database's properties, tablespaces.
    #[arg(long)]
    pub no_globals: bool,
    /// A setting or option name whose value is never stored (glob, case-insensitive; repeatable).
    /// Given, it replaces the default list: *secret*, *password*, *token*, *key*.
    #[arg(long = "secret-pattern", value_name = "GLOB")]
    pub secret_patterns: Vec<String>,
}

impl ConnectArgs {
    pub fn target(&self) -> anyhow::Result<ConnectTarget> {
        let flags = ConnFlags {
            host: self.host.clone(),
            port: self.port.clone(),
            user: self.username.clone(),
            dbname: self.dbname.clone(),
        };
        Ok(ConnectTarget::resolve_with(self.dsn.as_deref(), &flags)?)
    }

    pub fn limits(&self) -> SessionLimits {
        SessionLimits {
            connect_timeout: self.connect_timeout,
            statement_timeout: self.statement_timeout,
            lock_timeout: self.lock_timeout,
            ..SessionLimits::default()
        }
    }

    pub fn capture_options(&self) -> CaptureOptions {
        CaptureOptions {
            limits: self.limits(),
            expect_database: self.expect_database.clone(),
            jobs: self.jobs as usize,
            globals: !self.no_globals,
            secrets: if self.secret_patterns.is_empty() {
                SecretPatterns::default()
            } else {
                SecretPatterns::new(self.secret_patterns.iter().cloned())
            },
            ..CaptureOptions::default()
        }
    }
}

/// Write a command's output file (`-o FILE`, atomically, with a note naming it as given and
/// `what` it holds), or to stdout for `-o -` or no `-o`.
pub fn write_output(
    ctx: &super::Context,
    output: Option<&std::path::Path>,
    bytes: &[u8],
    what: &str,
) -> anyhow::Result<()> {
    use std::io::Write;
    match output.filter(|p| p.as_os_str() != "-") {
        Some(given) => {
            let path = if given.is_relative() {
                std::env::current_dir()?.join(given)
            } else {
                given.to_path_buf()
            };
            crate::store::atomic::write_atomic(&path, bytes)?;
            ctx.note(format!("wrote {}{what}", given.display()));
        }
        None => std::io::stdout().lock().write_all(bytes)?,
    }
    Ok(())
}

/// A loaded snapshot and, when it came from the store, its id.
pub struct LoadedSnapshot {
    pub id: Option<ContentHash>,
    pub snapshot: CatalogSnapshot,
}

/// Turn a SNAP argument into a snapshot: `live` captures now (nothing is stored), otherwise
/// a ref, an id or unique prefix, or a snapshot file.
pub async fn load_snapshot(
    spec: &str,
    store_args: &StoreArgs,
    connect: &ConnectArgs,
    capture: CaptureOptions,
) -> anyhow::Result<LoadedSnapshot> {
    load_snapshot_kinds(spec, store_args, connect, capture, None).await
}

/// [`load_snapshot`] keeping only objects of `kinds` (all when `None`); from the store, the
/// other objects are never read.
pub async fn load_snapshot_kinds(
    spec: &str,
    store_args: &StoreArgs,
    connect: &ConnectArgs,
    capture: CaptureOptions,
    kinds: Option<&[ObjectKind]>,
) -> anyhow::Result<LoadedSnapshot> {
    let keep = |mut loaded: LoadedSnapshot| {
        if let Some(kinds) = kinds {
            loaded
                .snapshot
                .objects
                .retain(|k, _| kinds.contains(&k.kind()));
        }
        loaded
    };
    if spec == "live" {
        let target = connect.target()?;
        let snapshot = catalog::capture(&target, &capture)
            .await
            .with_context(|| format!("capturing live snapshot of {}", target.describe()))?;
        return Ok(keep(LoadedSnapshot { id: None, snapshot }));
    }
    let store = match Store::open(&store_args.store) {
        Ok(s) => Some(s),
        Err(store::StoreError::NotAStore { .. }) if std::path::Path::new(spec).is_file() => None,
        Err(e) => return Err(e.into()),
    };
    let resolved = match &store {
        Some(s) => s.resolve(spec)?,
        None => Resolved::File(PathBuf::from(spec)),
    };
    match resolved {
        Resolved::Stored(id) => {
            let snapshot = store
                .expect("a stored snapshot implies a store")
                .load_snapshot_kinds(&id, kinds)
                .with_context(|| format!("reading snapshot {}", id.short()))?;
            Ok(LoadedSnapshot {
                id: Some(id),
                snapshot,
            })
        }
        Resolved::File(path) => Ok(keep(LoadedSnapshot {
            id: None,
            snapshot: store::read_bundle(&path)?,
        })),
    }
}
