//! Unified text diffs of changed definitions (function bodies, view, trigger, constraint and
//! index definitions), so a reviewer sees the changed line, not just "definition changed".

use serde::Serialize;
use similar::TextDiff as LineDiff;

/// Lines of context around each change, as `diff -u`.
const CONTEXT_LINES: usize = 3;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefinitionDiff {
    /// The field diffed (`definition`, or `source` for aggregates, which have no definition).
    pub field: String,
    /// `--- base/KEY`, `+++ head/KEY`, then `@@` hunks.
    pub unified: String,
}

/// A unified diff of two texts, headed with the object key. Both texts get a final newline
/// if they lack one, so `pg_get_triggerdef` output (which has none) does not add
/// "No newline at end of file" noise to every hunk.
pub fn unified(key: &str, old: &str, new: &str) -> String {
    if old.len() + new.len() > MAX_LINE_DIFF_BYTES {
        return too_large(key, old, new);
    }
    let old = with_final_newline(old);
    let new = with_final_newline(new);
    LineDiff::from_lines(old.as_str(), new.as_str())
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("base/{key}"), &format!("head/{key}"))
        .to_string()
}

/// Two definitions larger than this together are not line-diffed: the line diff holds
/// every line of both in memory several times and its time grows with lines × differences
/// (two 100 MB bodies took `diff` to 1.5 GiB and 45 s for one changed line, and two that
/// differ throughout would not finish). The change itself is still reported and weighed:
/// only its display is cut short.
pub const MAX_LINE_DIFF_BYTES: usize = 8 << 20;

/// The headers and one line saying where the texts first differ (found by a byte scan, no
/// copies) instead of hunks.
fn too_large(key: &str, old: &str, new: &str) -> String {
    let same = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let line = old.as_bytes()[..same]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    format!(
        "--- base/{key}\n+++ head/{key}\n@@ not line-diffed: {} and {} bytes are over the {MAX_LINE_DIFF_BYTES}-byte limit together; they first differ at line {line} @@\n",
        old.len(),
        new.len()
    )
}

fn with_final_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_changed_line_with_headers() {
        let old = "BEGIN\n  x := 'A';\n  RETURN NEW;\nEND\n";
        let new = "BEGIN\n  x := 'B';\n  RETURN NEW;\nEND\n";
        let d = unified("function:public.f()", old, new);
        assert!(
            d.starts_with("--- base/function:public.f()\n+++ head/function:public.f()\n"),
            "{d}"
        );
        assert!(d.contains("\n-  x := 'A';\n"), "{d}");
        assert!(d.contains("\n+  x := 'B';\n"), "{d}");
        assert!(d.contains("@@ -1,4 +1,4 @@"), "{d}");
    }

    #[test]
    fn definitions_over_the_limit_say_where_they_differ_instead_of_hunks() {
        let body = "x := x + 1;\n".repeat(MAX_LINE_DIFF_BYTES / 24 + 1);
        let old = format!("BEGIN\n{body}END\n");
        let new = format!("BEGIN\n{body}x := 2;\nEND\n");
        let d = unified("function:public.f()", &old, &new);
        let lines = body.lines().count() + 2;
        assert_eq!(
            d,
            format!(
                "--- base/function:public.f()\n+++ head/function:public.f()\n@@ not line-diffed: {} and {} bytes are over the {MAX_LINE_DIFF_BYTES}-byte limit together; they first differ at line {lines} @@\n",
                old.len(),
                new.len()
            )
        );
        let small = unified("function:public.f()", &body[..1000], "x := 2;\n");
        assert!(small.contains("+x := 2;\n"), "{small}");
    }

    #[test]
    fn single_line_definitions_without_newline_diff_cleanly() {
        let d = unified(
            "trigger:public.t.trg",
            "CREATE TRIGGER a",
            "CREATE TRIGGER b",
        );
        assert!(!d.contains("No newline"), "{d}");
        assert!(d.contains("-CREATE TRIGGER a\n+CREATE TRIGGER b\n"), "{d}");
    }
}
