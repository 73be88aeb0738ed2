//! `driftgate fingerprint`: `SCOPE HASH` lines, or `driftgate.fingerprint/v1`.

use super::format::{Format, Report, Style};
use super::table::cell;
use super::write_json_doc;
use serde::Serialize;
use std::io::{self, Write};

/// What `driftgate fingerprint` answers: one hash per scope asked for.
#[derive(Serialize)]
pub struct FingerprintReport {
    /// The snapshot's id, when it came from the store.
    pub snapshot: Option<String>,
    pub scopes: Vec<ScopeHash>,
}

#[derive(Serialize)]
pub struct ScopeHash {
    pub scope: String,
    pub hash: String,
}

impl Report for FingerprintReport {
    const COMMAND: &'static str = "fingerprint";
    const FORMATS: &'static [Format] = &[Format::Text, Format::Json];

    fn write_as<W: Write>(&self, format: Format, _: Style, out: &mut W) -> io::Result<()> {
        if format == Format::Json {
            return write_json_doc(out, "driftgate.fingerprint/v1", self);
        }
        for h in &self.scopes {
            // A name may hold a newline: one scope is one line.
            writeln!(out, "{} {}", cell(&h.scope), h.hash)?;
        }
        Ok(())
    }
}
