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
    let old = with_final_newline(old);
    let new = with_final_newline(new);
    LineDiff::from_lines(old.as_str(), new.as_str())
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("base/{key}"), &format!("head/{key}"))
        .to_string()
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
