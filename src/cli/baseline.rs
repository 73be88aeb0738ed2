//! `driftgate baseline accept TARGET [SNAP]`: move `<name>/baseline` (or the target's
//! configured baseline ref) to a snapshot taken now, or to one already taken (e.g.
//! `prod/latest`, the snapshot the last `check` took). Every move is kept in the ref's
//! history: `driftgate log prod/baseline`.

use super::common::store_path;
use super::Context;
use crate::catalog::capture_counting_what_exists;
use crate::check::config::default_baseline_ref;
use crate::check::discover::{load_config, LoadedConfig};
use crate::exit;
use crate::store::{self, Resolved, Store};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BaselineCmd {
    #[command(subcommand)]
    pub action: BaselineAction,
}

#[derive(Subcommand, Debug)]
pub enum BaselineAction {
    /// Accept a snapshot as the target's baseline (default: one taken now).
    Accept(AcceptArgs),
}

#[derive(Args, Debug)]
pub struct AcceptArgs {
    /// A target of the config ([[target]] name).
    pub target: String,
    /// What to accept: `live` (the default: a snapshot taken now), a ref such as
    /// prod/latest, a snapshot id or prefix, or a snapshot file.
    pub snap: Option<String>,
    /// Config file. Default: ./driftgate.toml, else $XDG_CONFIG_HOME/driftgate/config.toml.
    /// Not needed to accept a stored snapshot of a target with the default baseline ref.
    #[arg(long, value_name = "FILE", env = "DRIFTGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Why, kept in the baseline's history.
    #[arg(long, short)]
    pub message: Option<String>,
}

impl BaselineCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        match self.action {
            BaselineAction::Accept(args) => args.run(ctx).await,
        }
    }
}

impl AcceptArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let spec = self.snap.clone().unwrap_or_else(|| "live".into());
        // A stored snapshot needs no connection, so no config is fine then.
        let loaded: Option<LoadedConfig> = match load_config(self.config.as_deref()) {
            Ok(l) => Some(l),
            Err(_) if spec != "live" && self.config.is_none() => None,
            Err(e) => return Err(anyhow::Error::msg(e)),
        };
        let target = match &loaded {
            Some(l) => Some(l.config.target(&self.target).with_context(|| {
                format!(
                    "no target named {:?} in {} (targets: {})",
                    self.target,
                    l.config.file.display(),
                    l.config.target_names()
                )
            })?),
            None => None,
        };
        let baseline_ref = target
            .map(|t| t.baseline.clone())
            .unwrap_or_else(|| default_baseline_ref(&self.target));
        let store_dir = match &loaded {
            Some(l) => store_path(ctx, &l.config),
            None => ctx.store.store.clone(),
        };

        // One store handle from the first look to the ref move: its writer lease keeps a
        // gc from dropping what is being accepted in between.
        let (store, id, what) = if spec == "live" {
            let t = target.expect("live needs a config, checked above");
            let conn = t.connect_target().map_err(anyhow::Error::msg)?;
            Store::check_writable(&store_dir)?;
            if let Ok(store) = Store::open(&store_dir) {
                store.probe_writable()?;
            }
            let snap = capture_counting_what_exists(&conn, t.capture_options())
                .await
                .with_context(|| format!("snapshot of target {} ({})", t.name, conn.describe()))?;
            let mut store = Store::open_or_init(&store_dir)?;
            let (id, _) = store.write_snapshot(&snap)?;
            (
                store,
                id,
                format!("live snapshot of {}", snap.meta.source.describe()),
            )
        } else {
            let mut store = match Store::open(&store_dir) {
                Ok(s) => s,
                Err(store::StoreError::NotAStore { .. })
                    if std::path::Path::new(&spec).is_file() =>
                {
                    Store::open_or_init(&store_dir)?
                }
                Err(e) => return Err(e.into()),
            };
            store.hold_writer_lease("baseline accept")?;
            match store.resolve(&spec)? {
                Resolved::Stored(id) => (store, id, spec.clone()),
                Resolved::File(path) => {
                    let snap = store::read_bundle(&path)?;
                    let (id, _) = store.write_snapshot(&snap)?;
                    (store, id, format!("snapshot file {}", path.display()))
                }
            }
        };

        let old = store.read_ref(&baseline_ref)?;
        let mut message = format!("baseline accept: {what}");
        if let Some(m) = &self.message {
            message.push_str(&format!(": {m}"));
        }
        store.update_ref(&baseline_ref, &id, &message)?;
        writeln!(std::io::stdout(), "{id}")?;
        ctx.note(match old {
            Some(old) if old == id => {
                format!("{baseline_ref} already names {} ({what})", id.short())
            }
            Some(old) => format!("{baseline_ref}: {} → {} ({what})", old.short(), id.short()),
            None => format!("{baseline_ref} → {} ({what})", id.short()),
        });
        Ok(exit::OK)
    }
}
