//! Renderers: turn results into text for people (tables) or programs (JSON). Each writes to
//! an injected `io::Write`, so output is testable and a closed pipe is just an error to
//! report, never a panic. Every command's typed report implements [`Report`] and is
//! written through the one dispatch [`render`] in the one [`Format`] asked for.

pub mod check;
pub mod diff;
pub mod doctor;
pub mod fanout;
pub mod fingerprint;
pub mod format;
pub mod gate;
pub mod gdiff;
pub mod graph;
pub mod history;
pub mod html;
pub mod junit;
pub mod log;
pub mod markdown;
pub mod paint;
pub mod prometheus;
pub mod sarif;
pub mod show;
pub mod store;
pub mod table;
pub mod verify;

pub use format::{render, Format, Report, Style};

use std::io::Write;

/// Write pretty JSON followed by a newline.
/// A JSON document that names its format (`driftgate.graph/v1`, …) beside its fields, so a
/// consumer can tell what it reads and which version.
pub fn write_json_doc<W: Write, T: serde::Serialize + ?Sized>(
    out: &mut W,
    format: &'static str,
    value: &T,
) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Doc<'a, T: ?Sized> {
        format: &'static str,
        #[serde(flatten)]
        body: &'a T,
    }
    write_json(
        out,
        &Doc {
            format,
            body: value,
        },
    )
}

pub fn write_json<W: Write, T: serde::Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> std::io::Result<()> {
    // `From` keeps an I/O error (a closed pipe) as itself, so the CLI can tell it apart.
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)
}
