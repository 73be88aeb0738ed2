//! `driftgate gate A B --format html`: the verdict banner with its reasons, the findings
//! table by severity, then what the diff page shows (changes, line diffs, firing order,
//! the fan-out of tables whose triggers changed). A gate that failed closed has only the
//! banner and the reason.

use super::diff::{changes_section, fanouts_section, ChangedFanouts};
use super::page::{banner, write_page};
use super::Html;
use crate::gate::{Finding, GateReport, Severity, Verdict};
use crate::render::diff::DiffDocument;
use crate::render::format::{Format, Report, Style};
use crate::render::gate::what_changed;
use std::io::{self, Write};

/// `gate` as one report for every format: the verdict, and for HTML the diff behind it
/// (none when the gate failed closed before a diff).
pub struct GatePage<'a> {
    pub report: &'a GateReport,
    pub diff: Option<DiffDocument<'a>>,
    pub fanouts: ChangedFanouts,
}

impl Report for GatePage<'_> {
    const COMMAND: &'static str = "gate";
    const FORMATS: &'static [Format] = &[
        Format::Table,
        Format::Json,
        Format::Junit,
        Format::Sarif,
        Format::Html,
    ];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Html => {
                let mut h = Html::new();
                gate_section(&mut h, self.report);
                if let Some(doc) = &self.diff {
                    changes_section(&mut h, doc);
                }
                fanouts_section(&mut h, &self.fanouts, style.layouter());
                let title = format!("driftgate gate: {}", self.report.verdict);
                let meta = format!("base: {} · head: {}", self.report.base, self.report.head);
                write_page(out, &title, &meta, h)
            }
            _ => self.report.write_as(format, style, out),
        }
    }
}

/// The banner (verdict, why) and the findings that weigh, then the ignored ones.
pub fn gate_section(h: &mut Html, r: &GateReport) {
    let reasons = reasons(r);
    let headline = match (&r.error, r.verdict) {
        (Some(_), _) => "the gate failed closed".to_string(),
        (None, Verdict::Pass) => "nothing that changed weighs".to_string(),
        (None, _) => format!("{} finding(s) weigh", weighing(r).len()),
    };
    banner(h, r.verdict, &headline, &reasons);
    if r.error.is_some() {
        return;
    }
    h.el("h2", &[], "Findings");
    findings_table(h, &r.findings);
    let s = &r.summary;
    let approved = s
        .approved
        .map(|n| format!("; {n} exactly as approved"))
        .unwrap_or_default();
    h.el(
        "p",
        &[("class", "summary")],
        &format!(
            "{} added, {} removed, {} changed, {} whitespace-only, {} count; {} ignored by policy{approved}",
            s.added, s.removed, s.changed, s.whitespace_only, s.count, s.ignored
        ),
    );
}

/// Each finding a row classed by its severity (`block`, `warn`, `ignore`).
pub fn findings_table(h: &mut Html, findings: &[Finding]) {
    if findings.is_empty() {
        h.el("p", &[("class", "note")], "No findings.");
        return;
    }
    let rows: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                Some(severity_class(f.severity)),
                vec![
                    f.severity.to_string(),
                    f.change.clone(),
                    f.key.clone(),
                    what_changed(f),
                    f.rule.clone(),
                ],
            )
        })
        .collect();
    h.table(
        "findings",
        &["severity", "change", "key", "what changed", "rule"],
        &rows,
    );
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Block => "block",
        Severity::Warn => "warn",
        Severity::Ignore => "ignore",
    }
}

fn weighing(r: &GateReport) -> Vec<&Finding> {
    r.findings
        .iter()
        .filter(|f| f.severity != Severity::Ignore)
        .collect()
}

/// The banner's reasons: the fail-closed error, else each weighing finding in a line.
pub fn reasons(r: &GateReport) -> Vec<String> {
    if let Some(e) = &r.error {
        return vec![e.clone()];
    }
    weighing(r)
        .iter()
        .map(|f| {
            let what = what_changed(f);
            let mut s = format!("{} {} {}", f.severity, f.change, f.key);
            if !what.is_empty() {
                s.push_str(&format!(": {what}"));
            }
            s
        })
        .collect()
}
