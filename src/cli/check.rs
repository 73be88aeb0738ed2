//! `driftgate check`: the nightly job's command line. The config and store are opened here;
//! the pipeline (read, store, compare, gate, move the ref) is `check::pipeline` on the live
//! catalog; its run is written through `render` (terminal summary, report files) and, with
//! `--notify`, sent to the desktop through `notify`. Fail-closed: a target that cannot be
//! read or has no baseline is BLOCK with the reason, and the exit code is 2.

use super::common::{store_path, FailOn};
use super::Context;
use crate::check::discover::{load_config, LoadedConfig};
use crate::check::pages::target_details;
use crate::check::pipeline::{check_all, LiveCapture};
use crate::check::progress::Spinners;
use crate::check::shard::{self, targets_hash, Shard};
use crate::check::{CheckRun, ShardPart, Sharding};
use crate::model::visible::visible_lines;
use crate::notify::{Desktop, Notifier};
use crate::render::check::{notification, CheckReport};
use crate::render::html::check::CheckPage;
use crate::render::{render, Format, Style};
use crate::store::atomic::write_atomic;
use crate::store::Store;
use anyhow::Context as _;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CheckCmd {
    #[command(subcommand)]
    pub action: Option<CheckAction>,
    /// Config file. Default: ./driftgate.toml, else $XDG_CONFIG_HOME/driftgate/config.toml.
    #[arg(long, value_name = "FILE", env = "DRIFTGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Check only this target (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Write the JSON report (driftgate.check/v1) here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write metrics in the node-exporter textfile format here (e.g.
    /// /var/lib/node_exporter/textfile/driftgate.prom).
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// Write JUnit XML here (GitLab `artifacts:reports:junit`): one test suite per target,
    /// BLOCK findings fail.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write SARIF 2.1.0 here (GitHub code scanning `upload-sarif`).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Write one self-contained HTML page here: the verdict, findings, line diffs and the
    /// fan-out picture of every table whose triggers changed.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Show a desktop notification with the result (a warning, never a failure, without a
    /// session bus).
    #[arg(long)]
    pub notify: bool,
    /// Exit 1 on WARN too (default: only on BLOCK).
    #[arg(long, value_enum, default_value_t = FailOn::Block)]
    pub fail_on: FailOn,
    /// Check only shard K of N: the targets whose name hashes to K (BLAKE3, mod N). N
    /// runners with K = 1..N check every target exactly once; `check merge` joins them.
    #[arg(long, value_name = "K/N", env = "DRIFTGATE_SHARD")]
    pub shard: Option<String>,
    /// The number of shards, under a Kubernetes Indexed Job: the shard is
    /// JOB_COMPLETION_INDEX + 1.
    #[arg(long, value_name = "N")]
    pub shards: Option<String>,
    /// What ties the shards of one run together (required with --shard/--shards): each
    /// shard's report carries it and is kept in the store as
    /// reports/RUN_ID/shard-K-of-N.json, written once.
    #[arg(long, value_name = "ID", env = "DRIFTGATE_RUN_ID")]
    pub run_id: Option<String>,
    /// Print the shard, run id and targets this run would check, and exit: no database is
    /// read and the store is not opened.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum CheckAction {
    /// Combine the shard reports of one run into one report and exit code (a missing
    /// shard is BLOCK, exit 2).
    Merge(MergeCmd),
}

#[derive(Args, Debug)]
pub struct MergeCmd {
    /// Shard reports (`--report` files of `check --shard`); or give --run-id to read them
    /// from the store.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Read the shard reports of this run from the store (reports/RUN_ID/); with REPORT
    /// files, the run they must all be of.
    #[arg(long, value_name = "ID", env = "DRIFTGATE_RUN_ID")]
    pub run_id: Option<String>,
    /// The config the shards ran with (required: the union of the shards' targets must be
    /// its target list).
    #[arg(long, value_name = "FILE", env = "DRIFTGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Write the merged JSON report (driftgate.check/v1) here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write a Markdown summary here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write metrics in the node-exporter textfile format here.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// Exit 1 on WARN too (default: only on BLOCK).
    #[arg(long, value_enum, default_value_t = FailOn::Block)]
    pub fail_on: FailOn,
}

impl CheckCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        if let Some(CheckAction::Merge(merge)) = &self.action {
            return merge.run(ctx, &self).await;
        }
        let started_at = crate::now_rfc3339();
        let fail_on_warn = self.fail_on == FailOn::Warn;
        let config_label = self
            .config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "driftgate.toml".into());
        let sharded = match self.sharding() {
            Ok(s) => s,
            Err(e) => {
                let run = CheckRun::failed(started_at, config_label, fail_on_warn, e);
                return self.finish(ctx, &run, None).await;
            }
        };
        if self.dry_run {
            return self.dry_run(sharded.as_ref());
        }
        let run = match self.prepare(ctx) {
            Err(e) => CheckRun::failed(
                started_at,
                config_label,
                fail_on_warn,
                super::error_chain(&e),
            ),
            Ok((loaded, store)) => {
                let selected = self
                    .select(&loaded.config, sharded.as_ref())
                    .map_err(anyhow::Error::msg);
                match selected {
                    Err(e) => CheckRun::failed(
                        started_at,
                        loaded.config.file.display().to_string(),
                        fail_on_warn,
                        super::error_chain(&e),
                    ),
                    Ok(targets) => {
                        let outcomes = check_all(
                            &targets,
                            &LiveCapture,
                            store,
                            &loaded.policy,
                            loaded.config.concurrency,
                            &Spinners::new(ctx.quiet),
                        )
                        .await;
                        CheckRun {
                            started_at,
                            config: loaded.config.file.display().to_string(),
                            fail_on_warn,
                            targets: outcomes,
                            error: None,
                            sharding: sharded.clone().map(|(run_id, shard)| Sharding {
                                run_id,
                                targets_hash: targets_hash(&loaded.config),
                                part: ShardPart::One(shard),
                            }),
                        }
                    }
                }
            }
        };
        let loaded = load_config(self.config.as_deref()).ok();
        let mut run = run;
        if let (None, Some((run_id, shard)), Some(l)) = (&run.sharding, &sharded, &loaded) {
            // A shard that could not run still says which shard it was, so the merge
            // reports why it failed instead of only that it is missing.
            run.sharding = Some(Sharding {
                run_id: run_id.clone(),
                targets_hash: targets_hash(&l.config),
                part: ShardPart::One(*shard),
            });
        }
        let store_path = loaded.map(|l| store_path(ctx, &l.config));
        self.finish(ctx, &run, store_path.as_deref()).await
    }

    /// The shard and run id, when this run is a shard; why not, when they do not add up.
    fn sharding(&self) -> Result<Option<(String, Shard)>, String> {
        let index = std::env::var("JOB_COMPLETION_INDEX").ok();
        let Some(shard) = shard::resolve(
            self.shard.as_deref(),
            self.shards.as_deref(),
            index.as_deref(),
        )?
        else {
            return Ok(None);
        };
        let Some(run_id) = self.run_id.clone() else {
            return Err(format!(
                "shard {shard} needs a run id (--run-id or DRIFTGATE_RUN_ID): the shards of \
                 one run are merged by it, and shards of different runs never are"
            ));
        };
        shard::validate_run_id(&run_id)?;
        if !self.targets.is_empty() {
            return Err(
                "--target and --shard do not go together: a shard checks the \
                        targets its hash gives it, so the merge can prove all were checked"
                    .into(),
            );
        }
        Ok(Some((run_id, shard)))
    }

    /// The targets this run checks: those asked for, or this shard's.
    fn select<'c>(
        &self,
        config: &'c crate::check::config::CheckConfig,
        sharded: Option<&(String, Shard)>,
    ) -> Result<Vec<&'c crate::check::config::TargetConfig>, String> {
        let mut targets = config.select(&self.targets)?;
        if let Some((_, shard)) = sharded {
            targets.retain(|t| shard.holds(&t.name));
        }
        Ok(targets)
    }

    /// `--dry-run`: what would be checked, from the config alone.
    fn dry_run(&self, sharded: Option<&(String, Shard)>) -> anyhow::Result<u8> {
        let loaded = load_config(self.config.as_deref()).map_err(anyhow::Error::msg)?;
        let targets = self
            .select(&loaded.config, sharded)
            .map_err(anyhow::Error::msg)?;
        let report = crate::render::check::DryRun {
            shard: sharded
                .map(|(run_id, shard)| (run_id.as_str(), *shard, targets_hash(&loaded.config))),
            configured: loaded.config.targets.len(),
            targets: targets.iter().map(|t| t.name.as_str()).collect(),
        };
        crate::render::render(
            &report,
            crate::render::Format::Text,
            crate::render::Style::default(),
            &mut std::io::stdout().lock(),
        )?;
        Ok(crate::exit::OK)
    }

    /// Config, policy and store, or why the run cannot start.
    fn prepare(&self, ctx: &Context) -> anyhow::Result<(LoadedConfig, Store)> {
        let loaded = load_config(self.config.as_deref()).map_err(anyhow::Error::msg)?;
        if loaded.config.targets.is_empty() {
            anyhow::bail!(
                "{} has no [[target]]: nothing to check",
                loaded.config.file.display()
            );
        }
        let store_path = store_path(ctx, &loaded.config);
        let store = Store::open_or_init(&store_path)
            .with_context(|| format!("opening the store {}", store_path.display()))?;
        // Before any target is read: a store no write reaches is found now, not after
        // every catalog was read.
        store.probe_writable()?;
        Ok((loaded, store))
    }

    /// Say it every way asked for; the exit code of the run (2 if a report could not be
    /// written).
    pub(super) async fn finish(
        &self,
        ctx: &Context,
        run: &CheckRun,
        store: Option<&Path>,
    ) -> anyhow::Result<u8> {
        let mut code = run.exit_code();
        if let (Some(sharding), Some(store)) = (&run.sharding, store) {
            if let Err(e) = report_to_store(store, run, sharding) {
                eprintln!("driftgate: error: the shard report was not stored: {e:#}");
                code = crate::exit::ERROR;
            }
        }
        if let Some(e) = &run.error {
            eprintln!(
                "driftgate: error: check could not run (BLOCK): {}",
                visible_lines(e)
            );
            // Fail-closed: the verdict is printed even when nothing could be checked.
            let _ = writeln!(std::io::stdout(), "gate_drift: BLOCK (check could not run)");
        }
        for t in &run.targets {
            if let Some(e) = &t.error {
                eprintln!("driftgate: error: target {}: {}", t.name, visible_lines(e));
            }
        }
        let report = CheckReport {
            run,
            github_annotations: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        };
        // A run that checked nothing leaves the metrics file alone, so the last success
        // times go stale and alert, instead of vanishing.
        let prometheus = self.prometheus.as_deref().filter(|_| run.error.is_none());
        let mut files: Vec<(&Path, Vec<u8>)> = Vec::new();
        for (path, format) in [
            (self.report.as_deref(), Format::Json),
            (self.markdown.as_deref(), Format::Markdown),
            (prometheus, Format::Prometheus),
            (self.junit.as_deref(), Format::Junit),
            (self.sarif.as_deref(), Format::Sarif),
        ] {
            if let Some(path) = path {
                let mut buf = Vec::new();
                render(&report, format, Style::default(), &mut buf)?;
                files.push((path, buf));
            }
        }
        if let Some(path) = self.html.as_deref() {
            let (details, notes) = match store.map(Store::open) {
                Some(Ok(store)) => target_details(&store, run),
                Some(Err(e)) => (Vec::new(), vec![format!("diffs not shown: {e}")]),
                None => (Vec::new(), Vec::new()),
            };
            let page = CheckPage {
                run,
                details: &details,
                notes: &notes,
            };
            let mut buf = Vec::new();
            render(&page, Format::Html, ctx.style_for_files(), &mut buf)?;
            files.push((path, buf));
        }
        for (path, bytes) in files {
            if let Err(e) = write_report_file(path, &bytes) {
                eprintln!("driftgate: error: cannot write {}: {e}", path.display());
                code = crate::exit::ERROR;
            }
        }
        if run.error.is_none() {
            // A closed stdout (`| head`) must not turn a BLOCK into exit 0: the result is
            // the exit code and the files, so a failed terminal write is not an error.
            let mut out = std::io::stdout().lock();
            let _ =
                render(&report, Format::Table, ctx.style(), &mut out).and_then(|()| out.flush());
        }
        if self.notify {
            if let Err(e) = Desktop.notify(&notification(run)).await {
                ctx.warn(format!(
                    "desktop notification not shown ({e}); the result is unchanged"
                ));
            }
        }
        Ok(code)
    }
}

/// A shard's report into the store, once (`reports/<run-id>/shard-K-of-N.json`), where
/// `check merge --run-id` finds it on any backend.
fn report_to_store(store: &Path, run: &CheckRun, sharding: &Sharding) -> anyhow::Result<()> {
    let ShardPart::One(shard) = sharding.part else {
        return Ok(());
    };
    let report = CheckReport {
        run,
        github_annotations: false,
    };
    let mut buf = Vec::new();
    render(&report, Format::Json, Style::default(), &mut buf)?;
    let store = Store::open_or_init(store)
        .with_context(|| format!("opening the store {}", store.display()))?;
    let key = shard::report_key(&sharding.run_id, shard);
    store.put_report_once(&key, &buf)?;
    Ok(())
}

/// A report file, whole or not at all (temp file beside it, then rename).
fn write_report_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let path = if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    write_atomic(&path, bytes).map_err(|e| e.to_string())
}
