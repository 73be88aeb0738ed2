//! Gate output: the `driftgate.gate/v1` JSON of DESIGN.md, or a table for people.

use super::format::{Format, Report, Style};
use super::paint::{Paint, BOLD_RED, GREEN, RED, YELLOW};
use super::table::{self, cell};
use super::write_json;
use crate::gate::{Finding, GateReport, Severity, Verdict};
use std::io::{self, Write};

pub fn write_gate_json<W: Write>(out: &mut W, report: &GateReport) -> io::Result<()> {
    write_json(out, report)
}

pub fn write_gate_table<W: Write>(out: &mut W, report: &GateReport) -> io::Result<()> {
    write_gate_table_painted(out, report, Paint(false))
}

/// The verdict in its colour (PASS green, WARN yellow, BLOCK bold red) and each finding's
/// row in its severity's, when `paint` is on.
pub fn write_gate_table_painted<W: Write>(
    out: &mut W,
    report: &GateReport,
    paint: Paint,
) -> io::Result<()> {
    let verdict = report.verdict.to_string();
    let code = match report.verdict {
        Verdict::Pass => GREEN,
        Verdict::Warn => YELLOW,
        Verdict::Block => BOLD_RED,
    };
    writeln!(out, "gate_drift: {}", paint.wrap(code, &verdict))?;
    writeln!(out, "base  {}", cell(&report.base))?;
    writeln!(out, "head  {}", cell(&report.head))?;
    if let Some(e) = &report.error {
        writeln!(out, "fail-closed: {}", cell(e))?;
        return Ok(());
    }
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "no findings")?;
    } else {
        let rows = report
            .findings
            .iter()
            .map(|f| {
                let fields = what_changed(f);
                vec![
                    f.severity.to_string(),
                    f.change.clone(),
                    cell(&f.key),
                    cell(&fields),
                    cell(&f.rule),
                ]
            })
            .collect();
        let colors: Vec<Option<&str>> = report
            .findings
            .iter()
            .map(|f| match f.severity {
                Severity::Block => Some(RED),
                Severity::Warn => Some(YELLOW),
                Severity::Ignore => None,
            })
            .collect();
        let rendered = table::render(&["SEVERITY", "CHANGE", "KEY", "FIELDS", "RULE"], rows);
        writeln!(out, "{}", paint.table_rows(&rendered, &colors))?;
    }
    let s = &report.summary;
    let approved = s
        .approved
        .map(|n| format!("; {n} exactly as approved"))
        .unwrap_or_default();
    writeln!(
        out,
        "{} added, {} removed, {} changed, {} whitespace-only, {} count; {} ignored by policy{approved}",
        s.added, s.removed, s.changed, s.whitespace_only, s.count, s.ignored
    )
}

/// What a finding says changed: its detail for a count or a whole object, else the fields.
pub fn what_changed(f: &Finding) -> String {
    match &f.detail {
        Some(d) if f.fields.is_empty() || f.count.is_some() => d.clone(),
        _ => f.fields.join(", "),
    }
}

impl Report for GateReport {
    const COMMAND: &'static str = "gate";
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Junit, Format::Sarif];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Json => write_gate_json(out, self),
            Format::Junit => super::junit::write_junit(
                out,
                "driftgate gate",
                &[super::junit::Suite::of_gate(self)],
            ),
            Format::Sarif => super::sarif::write_gate_sarif(out, self),
            _ => write_gate_table_painted(out, self, Paint(style.color)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{function, snapshot};
    use crate::gate::Policy;

    #[test]
    fn table_shows_verdict_findings_and_rules() {
        let d = crate::diff::diff(
            &snapshot(vec![function("f", "BEGIN RETURN 1; END")]),
            &snapshot(vec![function("f", "BEGIN RETURN 2; END")]),
        );
        let r = GateReport::evaluate(&d, &Policy::default(), "entry", "live");
        let mut out = Vec::new();
        write_gate_table(&mut out, &r).unwrap();
        let t = String::from_utf8(out).unwrap();
        assert!(t.starts_with("gate_drift: BLOCK\n"), "{t}");
        assert!(
            t.contains("block")
                && t.contains("function:public.f()")
                && t.contains("catalog-change"),
            "{t}"
        );
    }

    #[test]
    fn fail_closed_table_names_the_reason() {
        let r = GateReport::fail_closed("entry", "live", "head", "cannot connect\nretry");
        let mut out = Vec::new();
        write_gate_table(&mut out, &r).unwrap();
        let t = String::from_utf8(out).unwrap();
        assert!(t.contains("gate_drift: BLOCK"), "{t}");
        assert!(
            t.contains("fail-closed: head: cannot connect\\nretry"),
            "{t}"
        );
    }
}
