//! `driftgate check`: the nightly job. Every target of `driftgate.toml` is read (a bounded
//! number at a time), stored under `<name>/latest`, compared with `<name>/baseline` and
//! gated; then the terminal summary, the report files, GitHub annotations and a desktop
//! notification. Fail-closed: a target that cannot be read or has no baseline is BLOCK with
//! the reason, and the exit code is 2.
//!
//! Also the config loading `baseline` and `gate --policy driftgate.toml` share.

use super::common::capture_counting_what_exists;
use super::gate::FailOn;
use super::Context;
use crate::catalog::ConnectTarget;
use crate::check::config::{CheckConfig, Connection, PolicySource, TargetConfig};
use crate::check::{self, prometheus, report, CheckRun, Reading, TargetOutcome};
use crate::diff;
use crate::gate::{GateReport, Policy, Verdict};
use crate::model::visible::visible_lines;
use crate::model::{CatalogSnapshot, ContentHash};
use crate::store::atomic::write_atomic;
use crate::store::Store;
use anyhow::Context as _;
use clap::Args;
use futures_util::stream::{self, StreamExt};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
                        let outcomes = check_all(
                            &targets,
                            store,
                            &loaded.policy,
                            loaded.config.concurrency,
                            ctx.quiet,
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
        self.finish(ctx, &run).await
    }

    /// Config, policy and store, or why the run cannot start.
    fn prepare(&self, ctx: &Context) -> anyhow::Result<(LoadedConfig, Store)> {
        let loaded = load_config(self.config.as_deref())?;
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
    async fn finish(&self, ctx: &Context, run: &CheckRun) -> anyhow::Result<u8> {
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
        let mut files: Vec<(&Path, Vec<u8>)> = Vec::new();
        if let Some(path) = &self.report {
            let mut buf = Vec::new();
            report::write_json(&mut buf, run)?;
            files.push((path, buf));
        }
        if let Some(path) = &self.markdown {
            let mut buf = Vec::new();
            report::write_markdown(&mut buf, run)?;
            files.push((path, buf));
        }
        // A run that checked nothing leaves the metrics file alone, so the last success
        // times go stale and alert, instead of vanishing.
        if let (Some(path), None) = (&self.prometheus, &run.error) {
            let mut buf = Vec::new();
            prometheus::write_prometheus(&mut buf, run)?;
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
            let _ = self.print(ctx, run);
        }
        if self.notify {
            if let Err(e) = notify(run).await {
                ctx.warn(format!(
                    "desktop notification not shown ({e}); the result is unchanged"
                ));
            }
        }
        Ok(code)
    }
}

impl CheckCmd {
    fn print(&self, ctx: &Context, run: &CheckRun) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        report::write_table(&mut out, run, ctx.color_stdout())?;
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            for line in report::github_annotations(run) {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()
    }
}

/// The store `check` and `baseline` use: `--store`/`DRIFTGATE_STORE` when given, else the
/// config's `store`, else the default.
pub(super) fn store_path(ctx: &Context, config: &CheckConfig) -> PathBuf {
    match (&config.store, ctx.store_explicit()) {
        (Some(path), false) => path.clone(),
        _ => ctx.store.store.clone(),
    }
}

/// Read every target, a bounded number at a time, in config order.
async fn check_all(
    targets: &[&TargetConfig],
    store: Store,
    policy: &Policy,
    concurrency: usize,
    quiet: bool,
) -> Vec<TargetOutcome> {
    let store = Mutex::new(store);
    let bars = MultiProgress::with_draw_target(if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let style = ProgressStyle::with_template("{spinner} {prefix:.bold}: {msg} ({elapsed})")
        .expect("the progress template is valid");
    let mut outcomes: Vec<(usize, TargetOutcome)> = stream::iter(targets.iter().enumerate())
        .map(|(i, t)| {
            let bar = bars.add(
                ProgressBar::new_spinner()
                    .with_style(style.clone())
                    .with_prefix(t.name.clone())
                    .with_message("waiting"),
            );
            if !bar.is_hidden() {
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            let store = &store;
            async move {
                let outcome = check_target(t, store, policy, &bar).await;
                bar.finish_and_clear();
                (i, outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// One target: read, store under `<name>/latest`, compare with the baseline, gate.
async fn check_target(
    t: &TargetConfig,
    store: &Mutex<Store>,
    policy: &Policy,
    bar: &ProgressBar,
) -> TargetOutcome {
    let lock = || store.lock().unwrap_or_else(|e| e.into_inner());
    let last_success = || {
        lock()
            .reflog(&t.latest_ref())
            .ok()
            .and_then(|h| check::last_success_from_reflog(&h))
    };
    let fail = |what: &str, reason: String| {
        TargetOutcome::failed(&t.name, &t.baseline, what, &reason).with_last_success(last_success())
    };

    let started = Instant::now();
    let target = match connect_target(t) {
        Ok(target) => target,
        Err(e) => return fail("live", e),
    };
    bar.set_message(format!("reading {}", target.describe()));
    let snap = match capture_counting_what_exists(&target, t.capture_options()).await {
        Ok(snap) => snap,
        Err(e) => return fail("live", e.to_string()).with_duration(started.elapsed()),
    };
    let duration = started.elapsed();
    bar.set_message("comparing with the baseline");
    let reading = |id| Reading {
        snapshot: id,
        source: snap.meta.source.describe(),
        duration,
    };

    // The store lock is held for the writes and reads only, never across an await.
    let stored = store_reading(&mut lock(), t, &snap);
    let (id, baseline_id, base) = match stored {
        Ok(Stored::Compared {
            id,
            baseline_id,
            base,
        }) => (id, baseline_id, base),
        Ok(Stored::NoBaseline { id }) => {
            return TargetOutcome::no_baseline(&t.name, &t.baseline)
                .with_reading(reading(id))
                .with_last_success(last_success())
        }
        Err(StoreFailure { what, reason, id }) => {
            let outcome = fail(what, reason).with_duration(duration);
            return match id {
                Some(id) => outcome.with_reading(reading(id)),
                None => outcome,
            };
        }
    };
    let d = diff::diff(&base, &snap);
    let gate = GateReport::evaluate(&d, policy, &baseline_id.to_hex(), &id.to_hex());
    let message = format!(
        "{}{} against {}",
        check::CHECKED_MESSAGE_PREFIX,
        gate.verdict,
        baseline_id.short()
    );
    let latest = t.latest_ref();
    let moved = lock().update_ref(&latest, &id, &message);
    if let Err(e) = moved {
        return fail("store", format!("moving {latest}: {e}")).with_reading(reading(id));
    }
    TargetOutcome::compared(
        &t.name,
        &t.baseline,
        baseline_id,
        reading(id),
        gate,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
}

enum Stored {
    Compared {
        id: ContentHash,
        baseline_id: ContentHash,
        base: Box<CatalogSnapshot>,
    },
    NoBaseline {
        id: ContentHash,
    },
}

struct StoreFailure {
    what: &'static str,
    reason: String,
    /// The snapshot, when it was stored before the failure.
    id: Option<ContentHash>,
}

/// Store the snapshot and load the baseline. Without a baseline, `<name>/latest` moves now
/// (so `baseline accept NAME NAME/latest` can accept what was just read).
fn store_reading(
    store: &mut Store,
    t: &TargetConfig,
    snap: &CatalogSnapshot,
) -> Result<Stored, StoreFailure> {
    let id = store
        .write_snapshot(snap)
        .map_err(|e| StoreFailure {
            what: "store",
            reason: format!("storing the snapshot: {e}"),
            id: None,
        })?
        .0;
    let failure = |what, reason| StoreFailure {
        what,
        reason,
        id: Some(id),
    };
    let baseline_id = match store.read_ref(&t.baseline) {
        Ok(Some(b)) => b,
        Ok(None) => {
            store
                .update_ref(&t.latest_ref(), &id, "check: no baseline (not compared)")
                .map_err(|e| failure("store", format!("moving {}: {e}", t.latest_ref())))?;
            return Ok(Stored::NoBaseline { id });
        }
        Err(e) => return Err(failure("baseline", format!("reading {}: {e}", t.baseline))),
    };
    let base = store.load_snapshot(&baseline_id).map_err(|e| {
        failure(
            "baseline",
            format!("reading {} ({}): {e}", t.baseline, baseline_id.short()),
        )
    })?;
    Ok(Stored::Compared {
        id,
        baseline_id,
        base: Box::new(base),
    })
}

/// How to reach a target; errors never hold a password.
pub(super) fn connect_target(t: &TargetConfig) -> Result<ConnectTarget, String> {
    let resolved = match &t.connection {
        Connection::Dsn(dsn) => ConnectTarget::resolve(Some(dsn)),
        Connection::DsnEnv(var) => match std::env::var(var) {
            Ok(dsn) if !dsn.trim().is_empty() => ConnectTarget::resolve(Some(&dsn)),
            _ => {
                return Err(format!(
                    "environment variable {var} (dsn_env of target {}) is not set",
                    t.name
                ))
            }
        },
        Connection::Service(name) => ConnectTarget::from_service(name),
        Connection::Environment => ConnectTarget::resolve(None),
    };
    resolved.map_err(|e| e.to_string())
}

/// A config and the policy it names.
pub(super) struct LoadedConfig {
    pub config: CheckConfig,
    pub policy: Policy,
}

/// `--config FILE` (must exist), else `./driftgate.toml`, else
/// `$XDG_CONFIG_HOME/driftgate/config.toml` (`~/.config` when unset). `None`: none of them.
pub(super) fn find_config(explicit: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = explicit {
        // Anything there is read (bounded), so `/dev/zero` or a FIFO is refused for its
        // size, not called missing.
        anyhow::ensure!(path.exists(), "config file {} not found", path.display());
        return Ok(Some(path.to_path_buf()));
    }
    let local = PathBuf::from("driftgate.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    Ok(xdg_config().filter(|p| p.is_file()))
}

fn xdg_config() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("driftgate").join("config.toml"))
}

/// Find, read and validate the config and its policy.
pub(super) fn load_config(explicit: Option<&Path>) -> anyhow::Result<LoadedConfig> {
    match find_config(explicit)? {
        Some(path) => read_config(&path),
        None => anyhow::bail!(
            "no config: pass --config FILE, or create ./driftgate.toml{}",
            xdg_config()
                .map(|p| format!(" or {}", p.display()))
                .unwrap_or_default()
        ),
    }
}

pub(super) fn read_config(path: &Path) -> anyhow::Result<LoadedConfig> {
    let text =
        crate::bounded::read_text_limited(path, crate::bounded::MAX_POLICY_BYTES, "config file")
            .map_err(anyhow::Error::msg)?;
    let config = CheckConfig::parse(&text, path)?;
    let policy = resolve_policy(&config).map_err(anyhow::Error::msg)?;
    Ok(LoadedConfig { config, policy })
}

/// The gate policy a config names: built in, inline, or a file beside it.
pub(super) fn resolve_policy(config: &CheckConfig) -> Result<Policy, String> {
    match &config.policy {
        PolicySource::Default => Ok(Policy::default()),
        PolicySource::Inline(p) => Ok(p.clone()),
        PolicySource::File { path, line, column } => {
            let text = crate::bounded::read_text_limited(
                path,
                crate::bounded::MAX_POLICY_BYTES,
                "policy file",
            )
            .map_err(|e| format!("{}:{line}:{column}: {e}", config.file.display()))?;
            if crate::check::config::looks_like_config(&text) {
                return Err(format!(
                    "{}:{line}:{column}: policy file {} is itself a driftgate.toml config; \
                     point at a file holding [[rules]], [counts] and [ignore]",
                    config.file.display(),
                    path.display()
                ));
            }
            Policy::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())
        }
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

/// A desktop notification over the session bus (pure-Rust D-Bus), bounded in time.
async fn notify(run: &CheckRun) -> Result<(), String> {
    if let Some(missing) = crate::doctor::missing_session_bus() {
        return Err(missing);
    }
    let (title, body) = report::notification(run);
    let mut n = notify_rust::Notification::new();
    n.appname("driftgate").summary(&title).body(&body);
    #[cfg(all(unix, not(target_os = "macos")))]
    n.urgency(match run.verdict() {
        Verdict::Block => notify_rust::Urgency::Critical,
        _ => notify_rust::Urgency::Normal,
    });
    match tokio::time::timeout(Duration::from_secs(5), n.show_async()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer from the notification service within 5 s".into()),
    }
}
