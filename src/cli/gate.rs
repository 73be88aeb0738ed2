//! `driftgate gate A B`: the `gate_drift` verdict. Fail-closed: when a side cannot be read
//! or the policy is broken, a BLOCK verdict with the reason is still printed (in the format
//! asked for) and the exit code is 2.

use super::common::{ConnectArgs, FailOn};
use super::format::FormatArg;
use super::pair::load_sides_with;
use super::Context;
use crate::diff;
use crate::exit;
use crate::gate::{ApprovedSet, GateReport, Policy, Verdict};
use crate::render::diff::DiffDocument;
use crate::render::html::diff::ChangedFanouts;
use crate::render::html::gate::GatePage;
use crate::render::Format;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct GateCmd {
    /// Base (the accepted state): a ref, snapshot id or prefix, snapshot file, or `live`.
    pub base: String,
    /// Head (the state to judge): a ref, snapshot id or prefix, snapshot file, or `live`.
    pub head: String,
    /// Policy file (TOML: rules, count tolerances, ignore lists), or a driftgate.toml check
    /// config (its policy is used). Without one: catalog changes block, whitespace-only
    /// changes and exact-count drift warn.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// An approved change set (`driftgate approve`): PASS only when the catalog changes are
    /// exactly these; anything more, less or different is BLOCK.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    #[arg(long, value_parser = FormatArg::of::<GatePage>(), default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 1 on WARN too (default: only on BLOCK).
    #[arg(long, value_enum, default_value_t = FailOn::Block)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl GateCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let policy = match &self.policy {
            None => Policy::default(),
            Some(path) => match read_policy(path) {
                Ok(p) => p,
                Err(reason) => {
                    return self.fail_closed(ctx, &self.base, &self.head, "policy", &reason)
                }
            },
        };
        let expected = match &self.expect {
            None => None,
            Some(path) => match read_approved(path) {
                Ok(set) => Some(set),
                Err(reason) => {
                    return self.fail_closed(ctx, &self.base, &self.head, "expect", &reason)
                }
            },
        };
        // A page walks the head's fan-outs: it needs whole snapshots, not the pruned pair.
        let prune = self.format != Format::Html;
        let (base, head) =
            match load_sides_with(&self.base, &self.head, ctx, &self.connect, true, prune).await {
                Ok(pair) => pair,
                Err(e) => {
                    return self.fail_closed(
                        ctx,
                        &self.base,
                        &self.head,
                        e.which,
                        &super::error_chain(&e.error),
                    )
                }
            };
        let d = diff::diff(base.snapshot(), head.snapshot());
        let mut report =
            GateReport::evaluate_with(&d, &policy, expected.as_ref(), &base.label(), &head.label());
        report.artifact = self.artifact();
        let (base_info, head_info) = (base.info(), head.info());
        let html = self.format == Format::Html;
        let page = GatePage {
            report: &report,
            diff: html.then(|| DiffDocument::new(&base_info, &head_info, &d)),
            fanouts: if html {
                ChangedFanouts::of(base.snapshot(), head.snapshot(), &d)
            } else {
                ChangedFanouts::default()
            },
        };
        ctx.print(&page, self.format)?;
        Ok(match (report.verdict, self.fail_on) {
            (Verdict::Block, _) | (Verdict::Warn, FailOn::Warn) => exit::DRIFT,
            _ => exit::OK,
        })
    }

    /// The file a finding can point at (SARIF's `physicalLocation`): the approved set, else
    /// the policy, when given. A catalog object itself is no file.
    fn artifact(&self) -> Option<String> {
        self.expect
            .as_ref()
            .or(self.policy.as_ref())
            .map(|p| p.display().to_string())
    }

    /// Print the BLOCK verdict with the reason, say it on stderr too, exit 2.
    fn fail_closed(
        &self,
        ctx: &Context,
        base: &str,
        head: &str,
        what: &str,
        reason: &str,
    ) -> anyhow::Result<u8> {
        let mut report = GateReport::fail_closed(base, head, what, reason);
        report.artifact = self.artifact();
        let page = GatePage {
            report: &report,
            diff: None,
            fanouts: ChangedFanouts::default(),
        };
        ctx.print(&page, self.format)?;
        let _ = writeln!(
            std::io::stderr(),
            "driftgate: error: gate failed closed (BLOCK): {what}: {}",
            crate::model::visible::visible_lines(reason)
        );
        Ok(exit::ERROR)
    }
}

/// An approved change set, bounded in size.
pub fn read_approved(path: &std::path::Path) -> Result<ApprovedSet, String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read approved change set {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(crate::gate::approved::MAX_APPROVED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read approved change set {}: {e}", path.display()))?;
    if bytes.len() as u64 > crate::gate::approved::MAX_APPROVED_BYTES {
        return Err(format!(
            "{} is over {} MiB: not an approved change set",
            path.display(),
            crate::gate::approved::MAX_APPROVED_BYTES >> 20
        ));
    }
    ApprovedSet::parse(&bytes, &path.display().to_string())
}

fn read_policy(path: &std::path::Path) -> Result<Policy, String> {
    let text =
        crate::bounded::read_text_limited(path, crate::bounded::MAX_POLICY_BYTES, "policy file")?;
    if crate::check::config::looks_like_config(&text) {
        let config = crate::check::config::CheckConfig::parse(&text, path)
            .map_err(|e| format!("invalid config: {e}"))?;
        return crate::check::discover::resolve_policy(&config)
            .map_err(|e| format!("invalid policy: {e}"));
    }
    Policy::parse(&text, &path.display().to_string()).map_err(|e| format!("invalid policy: {e}"))
}
