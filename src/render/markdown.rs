//! Markdown helpers for PR comments: inline code that survives backticks, table cells that
//! survive pipes, fences that survive fences, HTML that survives `<`.

/// Inline code: the fence is longer than any backtick run inside.
pub fn code(s: &str) -> String {
    let s = super::table::cell(s);
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A table cell: `|` escaped (GitHub honours `\|` even inside code spans), no newlines.
pub fn table_cell(s: &str) -> String {
    super::table::cell(s).replace('|', "\\|")
}

/// Plain text in a table cell or a paragraph (an error message, a rule name, field paths):
/// every character Markdown or HTML would act on is backslash-escaped, so text that holds a
/// name can add no HTML, link, image or emphasis to a PR comment, and no cell to a table.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::table::cell(s).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '|' | '&' | '~' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fenced block whose fence is longer than any backtick run in the text.
pub fn fenced(lang: &str, text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let nl = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{text}{nl}{fence}\n")
}

/// Text for HTML (the `<summary>` of a `<details>`).
pub fn html(s: &str) -> String {
    super::table::cell(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn longest_run(s: &str, c: char) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_fences_outgrow_their_content() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("`x"), "`` `x ``");
        assert!(fenced("diff", "```\n").starts_with("````diff\n"));
        assert_eq!(fenced("", "x"), "```\nx\n```\n");
        assert_eq!(table_cell("a|b\nc"), "a\\|b\\nc");
        assert_eq!(html("<b>&"), "&lt;b&gt;&amp;");
        assert_eq!(
            text("a <script> ![x](y) | *b*\n"),
            "a \\<script\\> \\!\\[x\\](y) \\| \\*b\\*\\\\n"
        );
    }
}
