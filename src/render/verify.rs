//! `driftgate verify`: per scope IDENTICAL or DRIFT with both hashes and the objects that
//! differ (or, with `--expect`, each change not as approved), or `driftgate.verify/v1`.

use super::format::{Format, Report, Style};
use super::paint::{Paint, GREEN, RED};
use super::table::cell;
use super::write_json_doc;
use crate::diff;
use crate::gate::Finding;
use std::io::{self, Write};

/// Differing objects listed under one DRIFT line before the rest is summed up.
const MAX_LISTED: usize = 20;

/// `driftgate.verify/v1`: `scopes` for the identical proof, `approved` and `findings` for
/// the `--expect` one.
#[derive(serde::Serialize)]
pub struct VerifyReport {
    pub verdict: &'static str,
    pub reference: String,
    pub against: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<ScopeResult>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<Finding>>,
    /// The two sides' capture formats, when they differ: no proof either way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_format: Option<diff::CaptureFormatChange>,
}

#[derive(serde::Serialize)]
pub struct ScopeResult {
    pub scope: String,
    pub identical: bool,
    /// The scope's hash on each side; `None` (JSON null) when the side has no such object.
    pub reference: Option<String>,
    pub against: Option<String>,
    pub differing: Vec<Differing>,
}

#[derive(serde::Serialize)]
pub struct Differing {
    pub change: String,
    pub key: String,
    pub fields: Vec<String>,
}

impl Report for VerifyReport {
    const COMMAND: &'static str = "verify";
    const FORMATS: &'static [Format] = &[Format::Text, Format::Json];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        if format == Format::Json {
            return write_json_doc(out, "driftgate.verify/v1", self);
        }
        let mut plain = Vec::new();
        match (&self.scopes, &self.findings) {
            (Some(results), _) => write_text(&mut plain, results)?,
            (None, findings) => {
                let findings = findings.as_deref().unwrap_or_default();
                write_expected_text(&mut plain, findings, self.approved.unwrap_or(0))?
            }
        }
        out.write_all(
            paint_verdicts(&String::from_utf8_lossy(&plain), Paint(style.color)).as_bytes(),
        )
    }
}

fn write_expected_text(
    out: &mut impl Write,
    findings: &[Finding],
    matched: usize,
) -> std::io::Result<()> {
    for f in findings {
        writeln!(
            out,
            "NOT AS APPROVED {} {} ({}: {})",
            f.change,
            cell(&f.key),
            f.rule,
            f.detail.as_deref().unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "{} {matched} change(s) exactly as approved, {} not",
        if findings.is_empty() {
            "AS APPROVED"
        } else {
            "DRIFT"
        },
        findings.len()
    )
}

fn write_text(out: &mut impl Write, results: &[ScopeResult]) -> std::io::Result<()> {
    for r in results {
        let hex = |h: &Option<String>| h.clone().unwrap_or_else(|| "absent".into());
        writeln!(
            out,
            "{} {} {} {}",
            if r.identical { "IDENTICAL" } else { "DRIFT" },
            cell(&r.scope),
            hex(&r.reference),
            hex(&r.against)
        )?;
        for c in r.differing.iter().take(MAX_LISTED) {
            if c.fields.is_empty() {
                writeln!(out, "  {} {}", c.change, cell(&c.key))?;
            } else {
                writeln!(
                    out,
                    "  {} {} ({})",
                    c.change,
                    cell(&c.key),
                    cell(&c.fields.join(", "))
                )?;
            }
        }
        if r.differing.len() > MAX_LISTED {
            writeln!(
                out,
                "  … and {} more (see `driftgate diff`)",
                r.differing.len() - MAX_LISTED
            )?;
        }
    }
    Ok(())
}

/// Each line's leading verdict in its colour: IDENTICAL and AS APPROVED green, DRIFT and
/// NOT AS APPROVED red; the lines under it (what differs) plain.
fn paint_verdicts(text: &str, paint: Paint) -> String {
    const WORDS: &[(&str, &str)] = &[
        ("NOT AS APPROVED", RED),
        ("AS APPROVED", GREEN),
        ("IDENTICAL", GREEN),
        ("DRIFT", RED),
    ];
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match WORDS.iter().find(|(w, _)| line.starts_with(w)) {
            Some((w, code)) => {
                out.push_str(&paint.wrap(code, w));
                out.push_str(&line[w.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}
