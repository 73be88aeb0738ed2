//! The one escaping of names for terminals, logs and CI annotations: a catalog name may hold
//! any character, and a raw ESC, BEL or newline printed to a terminal or a CI log can clear
//! the screen, retitle the window or forge a line. Every place that prints a name to a
//! person (tables, errors, annotations, notes) shows control characters escaped.

/// `s` with every control character shown as an escape (`\n`, `\t`, `\u{1b}`), so one
/// name is one visible run of text.
pub fn visible(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text for a terminal that may legitimately span lines (an error with a quoted config
/// snippet): control characters but newline and tab escaped.
pub fn visible_lines(s: &str) -> String {
    s.split('\n')
        .map(|line| line.split('\t').map(visible).collect::<Vec<_>>().join("\t"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_never_sent() {
        assert_eq!(
            visible("a\nb\tc\u{7}\u{1b}[2J"),
            "a\\nb\\tc\\u{7}\\u{1b}[2J"
        );
        assert_eq!(visible("plain ü"), "plain ü");
        assert_eq!(
            visible_lines("x\u{1b}]0;t\u{7}\nnext"),
            "x\\u{1b}]0;t\\u{7}\nnext"
        );
    }
}
