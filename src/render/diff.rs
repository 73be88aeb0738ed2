//! Diff output: an aligned table for terminals, versioned JSON for programs, and Markdown for
//! pull-request comments.

use super::format::{Format, Report, Style};
use super::paint::{change_color, Paint};
use super::table::{self, cell};
use super::{markdown, write_json};
use crate::diff::firing::FiringOrderChange;
use crate::diff::{
    CaptureFormatChange, CountChange, CountDelta, Diff, DiffSummary, ObjectChange,
    ReadabilityChange,
};
use serde::Serialize;
use std::io::{self, Write};

pub const DIFF_FORMAT: &str = "driftgate.diff/v1";

/// What one side of a comparison was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SideInfo {
    /// The SNAP argument as given (`entry`, `live`, a path, an id prefix).
    pub spec: String,
    /// The snapshot id, when the side came from the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The catalog hash (the `catalog` fingerprint).
    pub catalog: String,
    /// Where it was taken from (`user@host:port/db`, never a password).
    pub source: String,
    pub created_at: String,
    pub server_version: String,
}

impl SideInfo {
    /// `entry (3f2a12c4d5e6)`, or `live` with its catalog hash.
    pub fn describe(&self) -> String {
        let short = |h: &str| h.chars().take(12).collect::<String>();
        match &self.id {
            Some(id) if *id != self.spec => format!("{} (snapshot {})", self.spec, short(id)),
            Some(id) => format!("snapshot {}", short(id)),
            None => format!("{} (catalog {})", self.spec, short(&self.catalog)),
        }
    }
}

/// The JSON document of `driftgate diff --format json`.
#[derive(Serialize)]
pub struct DiffDocument<'a> {
    pub format: &'static str,
    pub base: &'a SideInfo,
    pub head: &'a SideInfo,
    /// Any catalog change or exact-count movement.
    pub drift: bool,
    pub summary: DiffSummary,
    pub changes: &'a [ObjectChange],
    /// Row-count changes, apart from the catalog: estimates are reported, only exact counts
    /// are drift.
    pub counts: Vec<CountEntry<'a>>,
    /// Tables whose triggers now fire in another sequence.
    pub firing_order: &'a [FiringOrderChange],
    /// The capture formats of the two snapshots, when they differ (always drift).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_format: Option<CaptureFormatChange>,
    /// Fields one side's role could not read (not drift, not its absence).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub readability: &'a [ReadabilityChange],
}

#[derive(Serialize)]
pub struct CountEntry<'a> {
    #[serde(flatten)]
    pub change: &'a CountChange,
    pub drift: bool,
}

impl<'a> DiffDocument<'a> {
    pub fn new(base: &'a SideInfo, head: &'a SideInfo, diff: &'a Diff) -> Self {
        DiffDocument {
            format: DIFF_FORMAT,
            base,
            head,
            drift: diff.has_drift(),
            summary: diff.summary(),
            changes: &diff.changes,
            counts: diff
                .counts
                .iter()
                .map(|c| CountEntry {
                    change: c,
                    drift: c.exact_drift(),
                })
                .collect(),
            firing_order: &diff.firing_order,
            capture_format: diff.capture_format,
            readability: &diff.readability,
        }
    }
}

pub fn write_diff_json<W: Write>(out: &mut W, doc: &DiffDocument) -> io::Result<()> {
    write_json(out, doc)
}

fn summary_line(s: &DiffSummary) -> String {
    format!(
        "{} added, {} removed, {} changed, {} whitespace-only; exact counts moved on {} table(s)",
        s.added, s.removed, s.changed, s.whitespace_only, s.count_drift
    )
}

/// `firing order of INSERT on public.t changed (moved: trg_b)`.
fn firing_line(f: &FiringOrderChange) -> String {
    let moved = if f.moved.is_empty() {
        String::new()
    } else {
        format!(" (moved: {})", f.moved.join(", "))
    };
    format!(
        "firing order of {} on {} changed{moved}",
        f.event.label(),
        f.table
    )
}

/// The same for Markdown: names in code spans, so a table or trigger name can carry no
/// HTML or Markdown into a PR comment (the hostile-identifier test caught `<script>` here).
fn firing_line_markdown(f: &FiringOrderChange) -> String {
    let moved = if f.moved.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = f.moved.iter().map(|m| markdown::code(m)).collect();
        format!(" (moved: {})", names.join(", "))
    };
    format!(
        "firing order of {} on {} changed{moved}",
        f.event.label(),
        markdown::code(&f.table)
    )
}

/// Trigger names in firing order as one code span, or `none` (an empty code span would
/// show as two backticks).
fn firing_names_markdown(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        markdown::code(&names.join(", "))
    }
}

fn delta_text(d: &Option<CountDelta>) -> String {
    match d {
        Some(d) => format!("{} → {} ({:+})", d.old, d.new, d.delta),
        None => "-".into(),
    }
}

pub fn write_diff_table<W: Write>(out: &mut W, doc: &DiffDocument) -> io::Result<()> {
    write_diff_table_painted(out, doc, Paint(false))
}

/// The table for people, coloured as git colours a diff when `paint` is on: rows by their
/// change, definitions' unified diffs by line.
pub fn write_diff_table_painted<W: Write>(
    out: &mut W,
    doc: &DiffDocument,
    paint: Paint,
) -> io::Result<()> {
    writeln!(out, "base  {}", cell(&doc.base.describe()))?;
    writeln!(out, "head  {}", cell(&doc.head.describe()))?;
    writeln!(out)?;
    if let Some(c) = &doc.capture_format {
        writeln!(out, "capture format changed: {}", c.explain())?;
        writeln!(out)?;
    }
    for r in doc.readability {
        writeln!(out, "readability differs: {}", cell(&r.explain()))?;
    }
    if !doc.readability.is_empty() {
        writeln!(out)?;
    }
    if doc.changes.is_empty() {
        writeln!(out, "no catalog changes")?;
    } else {
        let rows = doc
            .changes
            .iter()
            .map(|c| {
                vec![
                    c.change.to_string(),
                    cell(c.key.as_str()),
                    cell(&c.field_paths().join(", ")),
                ]
            })
            .collect();
        let colors: Vec<Option<&str>> = doc
            .changes
            .iter()
            .map(|c| change_color(&c.change.to_string()))
            .collect();
        let rendered = table::render(&["CHANGE", "KEY", "FIELDS"], rows);
        writeln!(out, "{}", paint.table_rows(&rendered, &colors))?;
        for c in doc.changes {
            for d in &c.definitions {
                writeln!(out)?;
                write!(out, "{}", paint.unified(&text_block(&d.unified)))?;
            }
        }
    }
    for f in doc.firing_order {
        writeln!(out)?;
        writeln!(out, "{}", cell(&firing_line(f)))?;
        writeln!(out, "  before: {}", cell(&f.before.join(", ")))?;
        writeln!(out, "  after:  {}", cell(&f.after.join(", ")))?;
    }
    if !doc.counts.is_empty() {
        writeln!(out)?;
        let rows = doc
            .counts
            .iter()
            .map(|c| {
                vec![
                    cell(&c.change.table),
                    delta_text(&c.change.exact),
                    delta_text(&c.change.estimate),
                    if c.drift { "yes".into() } else { "no".into() },
                    cell(c.change.note.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        writeln!(
            out,
            "{}",
            table::render(&["TABLE", "EXACT", "ESTIMATE", "DRIFT", "NOTE"], rows)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(&doc.summary))
}

pub fn write_diff_markdown<W: Write>(out: &mut W, doc: &DiffDocument) -> io::Result<()> {
    let title = if doc.drift { "drift" } else { "no drift" };
    writeln!(out, "### driftgate diff: {title}")?;
    writeln!(out)?;
    writeln!(
        out,
        "base: {} · head: {}",
        markdown::code(&doc.base.describe()),
        markdown::code(&doc.head.describe())
    )?;
    writeln!(out)?;
    if let Some(c) = &doc.capture_format {
        writeln!(
            out,
            "**capture format changed**: {}",
            markdown::text(&c.explain())
        )?;
        writeln!(out)?;
    }
    for r in doc.readability {
        writeln!(
            out,
            "**readability differs**: {}",
            markdown::text(&r.explain())
        )?;
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_line(&doc.summary))?;
    if !doc.changes.is_empty() {
        writeln!(out)?;
        writeln!(out, "| change | object | fields |")?;
        writeln!(out, "|---|---|---|")?;
        for c in doc.changes {
            let fields: Vec<String> = c.fields.iter().map(|f| markdown::code(&f.path)).collect();
            writeln!(
                out,
                "| {} | {} | {} |",
                c.change,
                markdown::table_cell(&markdown::code(c.key.as_str())),
                markdown::table_cell(&fields.join(", "))
            )?;
        }
        for c in doc.changes {
            for d in &c.definitions {
                writeln!(out)?;
                writeln!(
                    out,
                    "<details><summary><code>{}</code> {}</summary>",
                    markdown::html(c.key.as_str()),
                    markdown::html(&d.field)
                )?;
                writeln!(out)?;
                write!(out, "{}", markdown::fenced("diff", &d.unified))?;
                writeln!(out)?;
                writeln!(out, "</details>")?;
            }
        }
    }
    if !doc.firing_order.is_empty() {
        writeln!(out)?;
        writeln!(out, "| firing order | before | after |")?;
        writeln!(out, "|---|---|---|")?;
        for f in doc.firing_order {
            writeln!(
                out,
                "| {} | {} | {} |",
                markdown::table_cell(&firing_line_markdown(f)),
                markdown::table_cell(&firing_names_markdown(&f.before)),
                markdown::table_cell(&firing_names_markdown(&f.after))
            )?;
        }
    }
    if !doc.counts.is_empty() {
        writeln!(out)?;
        writeln!(out, "| table | exact | estimate | drift |")?;
        writeln!(out, "|---|---|---|---|")?;
        for c in &doc.counts {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                markdown::table_cell(&markdown::code(&c.change.table)),
                delta_text(&c.change.exact),
                delta_text(&c.change.estimate),
                if c.drift { "yes" } else { "no" }
            )?;
        }
    }
    Ok(())
}

/// A multi-line text (a unified diff) with control characters other than newline and tab
/// made visible, so a hostile definition cannot rewrite the terminal.
fn text_block(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|line| {
            let (body, nl) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let escaped: String = body.split('\t').map(cell).collect::<Vec<_>>().join("\t");
            format!("{escaped}{nl}")
        })
        .collect()
}

impl Report for DiffDocument<'_> {
    const COMMAND: &'static str = "diff";
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Markdown];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Json => write_diff_json(out, self),
            Format::Markdown => write_diff_markdown(out, self),
            _ => write_diff_table_painted(out, self, Paint(style.color)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{function, snapshot, table};
    use crate::model::snapshot::RowCount;

    fn side(spec: &str) -> SideInfo {
        SideInfo {
            spec: spec.into(),
            id: Some("ab".repeat(32)),
            catalog: "cd".repeat(32),
            source: "postgres@127.0.0.1:5432/gov".into(),
            created_at: "2025-01-01T00:00:00Z".into(),
            server_version: "17.0".into(),
        }
    }

    fn sample() -> Diff {
        let body = "\nBEGIN\n  RETURN 'A';\nEND ";
        let mut base = snapshot(vec![function("f", body), table("t", &[])]);
        let mut head = snapshot(vec![
            function("f", &body.replace("'A'", "'B'")),
            table("u|v", &[]),
        ]);
        base.counts.insert(
            "public.t".into(),
            RowCount {
                estimate: 5,
                exact: Some(309),
                exact_error: None,
            },
        );
        head.counts.insert(
            "public.t".into(),
            RowCount {
                estimate: 5,
                exact: Some(310),
                exact_error: None,
            },
        );
        crate::diff::diff(&base, &head)
    }

    fn render(f: fn(&mut Vec<u8>, &DiffDocument) -> io::Result<()>) -> String {
        let d = sample();
        let (a, b) = (side("entry"), side("exit"));
        let doc = DiffDocument::new(&a, &b, &d);
        let mut out = Vec::new();
        f(&mut out, &doc).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_lists_changes_text_diffs_and_counts() {
        let t = render(write_diff_table);
        assert!(t.contains("base  entry (snapshot abababababab)"), "{t}");
        assert!(
            t.contains("changed") && t.contains("function:public.f()"),
            "{t}"
        );
        assert!(t.contains("-  RETURN 'A';\n+  RETURN 'B';\n"), "{t}");
        assert!(t.contains("309 → 310 (+1)"), "{t}");
        assert!(t.contains("1 added, 1 removed, 1 changed, 0 whitespace-only; exact counts moved on 1 table(s)"), "{t}");
    }

    #[test]
    fn json_is_versioned_and_carries_counts_apart() {
        let j = render(write_diff_json);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["format"], DIFF_FORMAT);
        assert_eq!(v["drift"], true);
        assert_eq!(v["changes"][0]["change"], "changed");
        assert_eq!(v["changes"][0]["fields"][0]["path"], "definition");
        assert!(v["changes"][0]["definitions"][0]["unified"]
            .as_str()
            .unwrap()
            .contains("+  RETURN 'B';"));
        assert_eq!(v["counts"][0]["exact"]["delta"], 1);
        assert_eq!(v["counts"][0]["drift"], true);
        assert_eq!(v["summary"]["count_drift"], 1);
    }

    #[test]
    fn markdown_escapes_pipes_and_fences_diffs() {
        let m = render(write_diff_markdown);
        assert!(m.starts_with("### driftgate diff: drift\n"), "{m}");
        assert!(
            m.contains("`table:public.\"u\\|v\"`"),
            "pipes in names cannot split a row: {m}"
        );
        assert!(m.contains("```diff\n--- base/function:public.f()"), "{m}");
        assert!(
            m.contains("<details><summary><code>function:public.f()</code> definition</summary>"),
            "{m}"
        );
    }

    #[test]
    fn text_blocks_keep_newlines_and_tabs_but_escape_other_controls() {
        assert_eq!(text_block("a\tb\x1b[2J\nc\n"), "a\tb\\u{1b}[2J\nc\n");
    }
}
