//! `driftgate show`: a snapshot's objects (and row counts), as a table for people or a JSON
//! array of the objects as stored, each with its `hash`.

use super::format::{Format, Report, Style};
use super::table::{self, cell};
use super::write_json;
use std::io::{self, Write};

/// What `driftgate show` answers: the objects and counts asked for, each a JSON object with
/// at least `kind`, `key` and `hash` (DESIGN.md), counts with `estimate` and `exact`.
pub struct ShowReport {
    pub entries: Vec<serde_json::Value>,
    /// Row counts were asked for: the table has a COUNTS column.
    pub counts: bool,
}

impl Report for ShowReport {
    const COMMAND: &'static str = "show";
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn write_as<W: Write>(&self, format: Format, _: Style, out: &mut W) -> io::Result<()> {
        if format == Format::Json {
            return write_json(out, &self.entries);
        }
        let rows = self
            .entries
            .iter()
            .map(|e| {
                let s = |f: &str| e[f].as_str().unwrap_or_default().to_string();
                let mut row = vec![s("kind"), cell(&s("key")), s("hash")[..12].to_string()];
                if self.counts {
                    row.push(count_detail(e));
                }
                row
            })
            .collect();
        let header: &[&str] = if self.counts {
            &["KIND", "KEY", "HASH", "COUNTS"]
        } else {
            &["KIND", "KEY", "HASH"]
        };
        writeln!(out, "{}", table::render(header, rows))
    }
}

/// The COUNTS cell: empty for an object, the estimate and the exact count (or why there is
/// none) for a count.
fn count_detail(e: &serde_json::Value) -> String {
    if e["kind"].as_str() != Some("count") {
        return String::new();
    }
    match (e["exact"].as_i64(), e["exact_error"].as_str()) {
        (Some(n), _) => format!("exact {n}, estimate {}", e["estimate"]),
        (None, Some(err)) => format!("estimate {}, exact: {err}", e["estimate"]),
        _ => format!("estimate {}", e["estimate"]),
    }
}
