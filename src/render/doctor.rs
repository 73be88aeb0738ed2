//! `driftgate doctor`: the findings of [`DoctorReport`] as text for people (a heading per
//! section, one coloured level word and line per finding) or `driftgate.doctor/v1`.

use super::format::{Format, Report, Style};
use super::write_json;
use crate::doctor::{DoctorReport, Level, Status};
use crate::store::StoreSource;
use std::io::{self, Write};

impl Report for DoctorReport {
    const COMMAND: &'static str = "doctor";
    const FORMATS: &'static [Format] = &[Format::Text, Format::Json];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Json => write_json(out, self),
            _ => write_text(self, out, style.color),
        }
    }
}

/// The report for people: a heading per section, one line per finding.
fn write_text<W: Write>(report: &DoctorReport, out: &mut W, color: bool) -> io::Result<()> {
    let target = report
        .connection
        .target
        .as_deref()
        .unwrap_or("(not resolved)");
    let sections = [
        (format!("Connection: {target}"), &report.connection.findings),
        (
            match &report.connection.user {
                Some(role) => format!("Privileges of role {role}"),
                None => "Privileges".to_string(),
            },
            &report.privileges.findings,
        ),
        (
            format!(
                "Store: {} ({})",
                report.store.path,
                match report.store.source {
                    StoreSource::Flag => "from --store",
                    StoreSource::Env => "from DRIFTGATE_STORE",
                    StoreSource::Config => "from `store =` of driftgate.toml",
                    StoreSource::Default => "the default; --store DIR or DRIFTGATE_STORE to change",
                }
            ),
            &report.store.findings,
        ),
        (
            "Tools (optional: a missing tool is a warning and does not change the status)"
                .to_string(),
            &report.tools.findings,
        ),
    ];
    for (i, (heading, findings)) in sections.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{heading}")?;
        for f in findings.iter() {
            writeln!(out, "  {}  {}", paint(f.level, color), f.text)?;
        }
    }
    let status = match report.status {
        Status::Ok => "ok: snapshots will work and read everything they need",
        // Only privileges warn without being advisory.
        Status::Degraded => {
            "degraded: snapshots will work, but miss what the role cannot read (see Privileges)"
        }
        Status::Error => "error: snapshots will not work until what is marked FAIL is fixed",
    };
    writeln!(out, "\nstatus: {status}")
}

/// The level word padded to one width, coloured when asked.
fn paint(level: Level, color: bool) -> String {
    let word = format!("{:<4}", level.word());
    if !color {
        return word;
    }
    let style = match level {
        Level::Ok => "\x1b[32m",
        Level::Warn => "\x1b[33m",
        Level::Fail => "\x1b[1;31m",
    };
    format!("{style}{word}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_marks_the_level_word_only_when_asked() {
        assert_eq!(paint(Level::Ok, false), "ok  ");
        assert_eq!(paint(Level::Fail, true), "\x1b[1;31mFAIL\x1b[0m");
    }
}
