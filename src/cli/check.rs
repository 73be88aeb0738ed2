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
use crate::check::CheckRun;
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
pub struct CheckCmd {
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
}

impl CheckCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let started_at = crate::now_rfc3339();
        let fail_on_warn = self.fail_on == FailOn::Warn;
        let config_label = self
            .config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "driftgate.toml".into());
        // Where the store is, for the HTML page to read the snapshots back.
        let mut store_root = None;
        let run = match self.prepare(ctx) {
            Err(e) => CheckRun::failed(
                started_at,
                config_label,
                fail_on_warn,
                super::error_chain(&e),
            ),
            Ok((loaded, store)) => {
                let selected = loaded
                    .config
                    .select(&self.targets)
                    .map_err(anyhow::Error::msg);
                match selected {
                    Err(e) => CheckRun::failed(
                        started_at,
                        loaded.config.file.display().to_string(),
                        fail_on_warn,
                        super::error_chain(&e),
                    ),
                    Ok(targets) => {
                        store_root = Some(store.root().to_path_buf());
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
                        }
                    }
                }
            }
        };
        self.finish(ctx, &run, store_root.as_deref()).await
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
    async fn finish(
        &self,
        ctx: &Context,
        run: &CheckRun,
        store_root: Option<&Path>,
    ) -> anyhow::Result<u8> {
        let mut code = run.exit_code();
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
            let (details, notes) = match store_root.map(Store::open) {
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

/// A report file, whole or not at all (temp file beside it, then rename).
fn write_report_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let path = if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    write_atomic(&path, bytes).map_err(|e| e.to_string())
}
