//! ANSI colour for people at a terminal, as git colours its diffs: added green, removed
//! red, changed yellow, a verdict in its colour, unified diff lines by their sign.
//!
//! Painting happens after the plain text is laid out (a table's column widths are counted
//! without escape codes) and after names are escaped (`table::cell` shows a name's own
//! control characters as `\u{1b}`), so colour never moves a column and a name can neither
//! bring escape codes of its own nor end ours. Off unless `Style::color` (`--color`,
//! `NO_COLOR`, a terminal): piped output is never painted.

/// The SGR codes used.
pub const RED: &str = "\x1b[31m";
pub const GREEN: &str = "\x1b[32m";
pub const YELLOW: &str = "\x1b[33m";
pub const CYAN: &str = "\x1b[36m";
pub const BOLD: &str = "\x1b[1m";
pub const BOLD_RED: &str = "\x1b[1;31m";
const RESET: &str = "\x1b[0m";

/// Paints when on; returns text unchanged when off.
#[derive(Clone, Copy, Debug)]
pub struct Paint(pub bool);

impl Paint {
    /// `s` in colour `code`.
    pub fn wrap(self, code: &str, s: &str) -> String {
        if self.0 && !s.is_empty() {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    }

    /// A rendered table (header, separator, one line per row, as `table::render` lays it
    /// out) with row `i` in `colors[i]` (`None`: plain).
    pub fn table_rows(self, table: &str, colors: &[Option<&str>]) -> String {
        let mut out = String::with_capacity(table.len());
        for (i, line) in table.lines().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            match i
                .checked_sub(2)
                .and_then(|row| colors.get(row))
                .copied()
                .flatten()
            {
                Some(code) => out.push_str(&self.wrap(code, line)),
                None => out.push_str(line),
            }
        }
        if table.ends_with('\n') {
            out.push('\n');
        }
        out
    }

    /// A unified diff block: file lines bold, hunk headers cyan, removed lines red, added
    /// lines green, context plain.
    pub fn unified(self, block: &str) -> String {
        let mut out = String::with_capacity(block.len());
        for line in block.split_inclusive('\n') {
            let (text, end) = match line.strip_suffix('\n') {
                Some(t) => (t, "\n"),
                None => (line, ""),
            };
            let code = if text.starts_with("--- ") || text.starts_with("+++ ") {
                Some(BOLD)
            } else if text.starts_with("@@") {
                Some(CYAN)
            } else if text.starts_with('-') {
                Some(RED)
            } else if text.starts_with('+') {
                Some(GREEN)
            } else {
                None
            };
            match code {
                Some(c) => out.push_str(&self.wrap(c, text)),
                None => out.push_str(text),
            }
            out.push_str(end);
        }
        out
    }
}

/// The colour of a change type's word (`added`, `removed`, `changed`, `whitespace_only`).
pub fn change_color(change: &str) -> Option<&'static str> {
    match change {
        "added" => Some(GREEN),
        "removed" => Some(RED),
        "changed" => Some(YELLOW),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_is_plain_and_on_paints_by_sign_and_row() {
        let block = "--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same\n";
        assert_eq!(Paint(false).unified(block), block);
        let on = Paint(true).unified(block);
        assert!(on.contains(&format!("{RED}-old{RESET}\n")), "{on:?}");
        assert!(on.contains(&format!("{GREEN}+new{RESET}\n")), "{on:?}");
        assert!(on.contains(&format!("{CYAN}@@ -1 +1 @@{RESET}")), "{on:?}");
        assert!(on.contains(&format!("{BOLD}--- a{RESET}")), "{on:?}");
        assert!(on.ends_with(" same\n"));
        let table = " A | B\n---+---\n x | y\n z | w\n";
        let t = Paint(true).table_rows(table, &[None, Some(GREEN)]);
        assert_eq!(
            t,
            format!(" A | B\n---+---\n x | y\n{GREEN} z | w{RESET}\n")
        );
        assert_eq!(
            Paint(false).table_rows(table, &[Some(RED), Some(RED)]),
            table
        );
    }
}
