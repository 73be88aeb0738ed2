//! `driftgate check --html FILE`: the run's verdict banner (the worst target's), one row
//! per target, then for each target that did not pass its findings, and for each that
//! drifted its changes, line diffs and the fan-out of tables whose triggers changed.

use super::diff::{changes_section, fanouts_section};
use super::gate::findings_table;
use super::page::{banner, verdict_class, write_page};
use super::Html;
use crate::check::pages::TargetDetail;
use crate::check::CheckRun;
use crate::gate::Verdict;
use crate::render::diff::DiffDocument;
use crate::render::format::{Format, Report, Style};
use std::io::{self, Write};

/// The page of a check run.
pub struct CheckPage<'a> {
    pub run: &'a CheckRun,
    pub details: &'a [TargetDetail],
    /// What could not be shown (a target's snapshots not read back).
    pub notes: &'a [String],
}

impl Report for CheckPage<'_> {
    const COMMAND: &'static str = "check";
    const FORMATS: &'static [Format] = &[Format::Html];

    fn write_as<W: Write>(&self, _: Format, style: Style, out: &mut W) -> io::Result<()> {
        let run = self.run;
        let mut h = Html::new();
        let t = run.tally();
        let reasons: Vec<String> = match &run.error {
            Some(e) => vec![format!("check could not run: {e}")],
            None => run
                .targets
                .iter()
                .filter(|t| t.verdict != Verdict::Pass)
                .map(|t| match &t.error {
                    Some(e) => format!("{}: {} (could not be checked: {e})", t.name, t.verdict),
                    None => format!("{}: {}", t.name, t.verdict),
                })
                .collect(),
        };
        let headline = format!(
            "{} target(s): {} pass, {} warn, {} block ({} not checked)",
            run.targets.len(),
            t.pass,
            t.warn,
            t.block,
            t.unchecked
        );
        banner(&mut h, run.verdict(), &headline, &reasons);
        if !run.targets.is_empty() {
            h.el("h2", &[], "Targets");
            let rows: Vec<_> = run
                .targets
                .iter()
                .map(|t| {
                    let short = |x: Option<crate::model::ContentHash>| {
                        x.map(|h| h.short()).unwrap_or_default()
                    };
                    (
                        Some(verdict_class(t.verdict)),
                        vec![
                            t.verdict.to_string(),
                            t.name.clone(),
                            format!("{} {}", t.baseline_ref, short(t.baseline)),
                            short(t.snapshot),
                            t.source.clone().unwrap_or_default(),
                            t.error.clone().unwrap_or_default(),
                        ],
                    )
                })
                .collect();
            h.table(
                "targets",
                &[
                    "verdict", "target", "baseline", "snapshot", "source", "error",
                ],
                &rows,
            );
        }
        for target in run.targets.iter().filter(|t| t.verdict != Verdict::Pass) {
            h.open("section", &[("class", "target")]);
            h.el(
                "h2",
                &[("class", "name")],
                &format!("Target {}", target.name),
            );
            findings_table(&mut h, &target.findings);
            if let Some(d) = self.details.iter().find(|d| d.name == target.name) {
                let doc = DiffDocument::new(&d.base, &d.head, &d.diff);
                h.el("p", &[("class", "meta")], &super::diff::sides(&doc));
                changes_section(&mut h, &doc);
                fanouts_section(&mut h, &d.fanouts, style.layouter());
            }
            h.close("section");
        }
        for n in self.notes {
            h.el("p", &[("class", "note")], n);
        }
        let title = format!("driftgate check: {}", run.verdict());
        let meta = format!("started {} · config {}", run.started_at, run.config);
        write_page(out, &title, &meta, h)
    }
}
