//! `driftgate verify`: per scope IDENTICAL or DRIFT with both hashes and the objects that
//! differ (or, with `--expect`, each change not as approved), or `driftgate.verify/v1`.

use super::format::{Format, Report, Style};
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

    fn write_as<W: Write>(&self, format: Format, _: Style, out: &mut W) -> io::Result<()> {
        if format == Format::Json {
            return write_json_doc(out, "driftgate.verify/v1", self);
        }
        match (&self.scopes, &self.findings) {
            (Some(results), _) => write_text(out, results),
            (None, findings) => {
                let findings = findings.as_deref().unwrap_or_default();
                write_expected_text(out, findings, self.approved.unwrap_or(0))
            }
        }
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
