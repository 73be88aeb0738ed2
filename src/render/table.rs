//! Plain-text tables for terminals (tabled, no colours, stable column order).

use std::io::IsTerminal;
use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Style, Width};

/// Render rows under a header as an aligned table, no wider than [`output_width`]: the
/// widest columns are cut first, with `…` (the full text stays in `--format json`).
pub fn render(header: &[&str], rows: Vec<Vec<String>>) -> String {
    render_within(header, rows, output_width())
}

/// [`render`] with an explicit width limit (`None`: no limit).
pub fn render_within(header: &[&str], rows: Vec<Vec<String>>, width: Option<usize>) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| h.to_string()));
    for row in rows {
        b.push_record(row);
    }
    let mut t = b.build();
    t.with(Style::psql());
    if let Some(width) = width {
        t.with(
            Width::truncate(width)
                .suffix("…")
                .priority(Priority::max(true)),
        );
    }
    t.to_string()
}

/// How wide tables may be: `COLUMNS` when set (as ls and git read it), else the terminal's
/// width when stdout is one; unlimited when piped, so scripts get every character.
pub fn output_width() -> Option<usize> {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
    {
        return Some(usize::max(cols, 40));
    }
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::max(w.0 as usize, 40))
}

/// Make control characters visible so a hostile name cannot forge table rows (the one
/// escaping of [`crate::model::visible`]).
pub fn cell(s: &str) -> String {
    crate::model::visible(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_fits_the_width_by_cutting_the_widest_column() {
        let long = "x".repeat(200);
        let t = render_within(
            &["A", "B"],
            vec![vec!["short".into(), long.clone()]],
            Some(60),
        );
        for line in t.lines() {
            assert!(
                line.chars().count() <= 60,
                "{line:?} ({} chars)",
                line.chars().count()
            );
        }
        assert!(t.contains('…'), "{t}");
        assert!(t.contains("short"), "the narrow column is kept: {t}");
        let full = render_within(&["A", "B"], vec![vec!["short".into(), long.clone()]], None);
        assert!(full.contains(&long));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(cell("a\nb\tc\u{7}"), "a\\nb\\tc\\u{7}");
    }

    #[test]
    fn tables_have_a_header_row() {
        let t = render(
            &["KIND", "KEY"],
            vec![vec!["table".into(), "table:public.t".into()]],
        );
        assert!(t.lines().next().unwrap().contains("KIND"));
        assert!(t.contains("table:public.t"));
    }
}
