//! `driftgate check merge`: the shard reports of one run (files, or `--run-id` from the
//! store) made into one report, Markdown summary and Prometheus file with one exit code,
//! by `check::merge`. A merge that cannot be made is BLOCK with the reason and exit 2,
//! like a check that could not run.

use super::check::{CheckCmd, MergeCmd};
use super::common::store_path;
use super::Context;
use crate::check::discover::load_config;
use crate::check::merge::{merge, ReportInput};
use crate::check::shard::validate_run_id;
use crate::check::CheckRun;
use crate::store::Store;
use anyhow::Context as _;

impl MergeCmd {
    pub async fn run(&self, ctx: &Context, parent: &CheckCmd) -> anyhow::Result<u8> {
        let started_at = crate::now_rfc3339();
        let fail_on_warn = self.fail_on == super::common::FailOn::Warn;
        let label = self
            .config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "driftgate.toml".into());
        let run = match self.merged(ctx, fail_on_warn) {
            Ok(run) => run,
            Err(e) => CheckRun::failed(started_at, label, fail_on_warn, super::error_chain(&e)),
        };
        // The outputs are check's, written the same way.
        let outputs = CheckCmd {
            action: None,
            config: self.config.clone(),
            targets: Vec::new(),
            report: self.report.clone(),
            markdown: self.markdown.clone(),
            prometheus: self.prometheus.clone(),
            // (Merged JUnit, SARIF and HTML are not offered yet: `check merge --help`.)
            junit: None,
            sarif: None,
            html: None,
            notify: parent.notify,
            fail_on: self.fail_on,
            shard: None,
            shards: None,
            run_id: None,
            dry_run: false,
        };
        outputs.finish(ctx, &run, None).await
    }

    fn merged(&self, ctx: &Context, fail_on_warn: bool) -> anyhow::Result<CheckRun> {
        let Some(config_file) = &self.config else {
            anyhow::bail!(
                "check merge needs --config (the config the shards ran with): without it \
                 nothing proves every target was checked"
            );
        };
        let loaded = load_config(Some(config_file)).map_err(anyhow::Error::msg)?;
        let inputs = match (&self.run_id, self.reports.is_empty()) {
            (None, true) => anyhow::bail!(
                "nothing to merge: give the shard reports, or --run-id to read them from the store"
            ),
            // Files, and with --run-id (or DRIFTGATE_RUN_ID) the run they must all be of.
            (_, false) => self
                .reports
                .iter()
                .map(|path| {
                    let bytes = std::fs::read(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Ok(ReportInput {
                        origin: path.display().to_string(),
                        bytes,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            (Some(id), true) => {
                validate_run_id(id).map_err(anyhow::Error::msg)?;
                let path = store_path(ctx, &loaded.config);
                let store = Store::open(&path)
                    .with_context(|| format!("opening the store {}", path.display()))?;
                store
                    .run_reports(id)?
                    .into_iter()
                    .map(|(name, bytes)| ReportInput {
                        origin: store
                            .location_of(&format!("reports/{id}/{name}"))
                            .display()
                            .to_string(),
                        bytes,
                    })
                    .collect()
            }
        };
        merge(
            &inputs,
            &loaded.config,
            self.run_id.as_deref(),
            fail_on_warn,
        )
        .map_err(anyhow::Error::msg)
    }
}
