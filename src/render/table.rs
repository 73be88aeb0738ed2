//! Plain-text tables for terminals (tabled, no colours, stable column order).

use tabled::builder::Builder;
use tabled::settings::Style;

/// Render rows under a header as an aligned table.
pub fn render(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| h.to_string()));
    for row in rows {
        b.push_record(row);
    }
    let mut t = b.build();
    t.with(Style::psql());
    t.to_string()
}

/// Make control characters visible so a hostile name cannot forge table rows.
pub fn cell(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '\n' => "\\n".chars().collect::<Vec<_>>(),
            '\r' => "\\r".chars().collect(),
            '\t' => "\\t".chars().collect(),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
