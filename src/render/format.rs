//! The one `--format` of every command, and the trait every command's typed report
//! implements so that one dispatch ([`render`]) writes it. Which formats a command has is
//! its report's [`Report::FORMATS`]; the command line offers exactly those (see
//! `cli/format.rs`), so a format no report can write is refused before anything runs.

use std::fmt;
use std::io::{self, Write};

/// Every output format driftgate writes. A command offers the subset its report can write.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// Lines for people (one per finding or scope).
    Text,
    /// Numbered firing order with the indented fan-out, for people (`text` for a diff).
    Tree,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart, renders in GitHub Markdown.
    Mermaid,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One JSON document for programs.
    Json,
    /// The Prometheus text exposition format (node-exporter's textfile collector).
    Prometheus,
    /// JUnit XML (GitLab `artifacts:reports:junit`, Jenkins): BLOCK findings fail.
    Junit,
    /// SARIF 2.1.0 (GitHub code scanning `upload-sarif`).
    Sarif,
    /// One self-contained HTML page (inline CSS and SVG, no script, no fetch).
    Html,
}

impl Format {
    /// The value given to `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Text => "text",
            Format::Tree => "tree",
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
            Format::Markdown => "markdown",
            Format::Json => "json",
            Format::Prometheus => "prometheus",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How people's formats may be dressed; programs' formats ignore it.
#[derive(Copy, Clone, Debug, Default)]
pub struct Style {
    /// ANSI colour (a terminal, `--color`, `NO_COLOR`).
    pub color: bool,
    /// Who lays out HTML pages' fan-out pictures (`--layout`); none: the built-in layout.
    /// Chosen by the command line, so renderers never look for or spawn a tool.
    pub layouter: Option<&'static dyn super::html::Layouter>,
}

impl Style {
    /// The layouter of HTML pictures.
    pub fn layouter(&self) -> &'static dyn super::html::Layouter {
        self.layouter.unwrap_or(&super::html::layout::BUILTIN)
    }
}

/// A command's result, typed, in the formats it can be written in.
pub trait Report {
    /// The command whose result this is, as errors name it (`gate`, `graph`).
    const COMMAND: &'static str;
    /// The formats this report is written in; the first is the default.
    const FORMATS: &'static [Format];

    /// Write the report in `format`, one of [`Self::FORMATS`] ([`render`] checks).
    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()>;
}

/// The one dispatch: `report` in `format`, or an error naming the command and the formats
/// it has (the command line refuses these first, so this is the backstop for callers that
/// build a format themselves).
pub fn render<R: Report, W: Write>(
    report: &R,
    format: Format,
    style: Style,
    out: &mut W,
) -> io::Result<()> {
    if !R::FORMATS.contains(&format) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            not_a_format_of(R::COMMAND, format.name(), R::FORMATS),
        ));
    }
    report.write_as(format, style, out)
}

/// `driftgate gate` has no `--format dot`: the message names the command and what it has.
pub fn not_a_format_of(command: &str, given: &str, formats: &[Format]) -> String {
    let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
    format!(
        "`driftgate {command}` has no --format {given}; its formats: {}",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    struct Probe;
    impl Report for Probe {
        const COMMAND: &'static str = "probe";
        const FORMATS: &'static [Format] = &[Format::Text, Format::Json];
        fn write_as<W: Write>(&self, format: Format, _: Style, out: &mut W) -> io::Result<()> {
            writeln!(out, "{format}")
        }
    }

    #[test]
    fn every_format_is_named_as_clap_names_it() {
        for f in Format::value_variants() {
            assert_eq!(f.to_possible_value().unwrap().get_name(), f.name());
        }
    }

    #[test]
    fn a_format_the_report_lacks_is_refused_naming_the_command() {
        let mut out = Vec::new();
        render(&Probe, Format::Json, Style::default(), &mut out).unwrap();
        assert_eq!(out, b"json\n");
        let e = render(&Probe, Format::Dot, Style::default(), &mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            e.to_string(),
            "`driftgate probe` has no --format dot; its formats: text, json"
        );
    }
}
