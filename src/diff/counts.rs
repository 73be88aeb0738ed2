//! Row-count drift, kept apart from catalog changes: data moves every day, the catalog
//! should not. Exact counts are compared when both sides have one; planner estimates are
//! reported but are not drift by themselves (they wobble with every ANALYZE).

use crate::model::snapshot::{RowCount, RowCounts};
use serde::Serialize;

/// Old, new and `new - old` of one count.
// Deserialize: `check merge` reads findings back from shard reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CountDelta {
    pub old: i64,
    pub new: i64,
    pub delta: i64,
}

impl CountDelta {
    pub fn new(old: i64, new: i64) -> Self {
        CountDelta {
            old,
            new,
            delta: new.saturating_sub(old),
        }
    }
}

/// The counts of one table present on both sides where anything differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountChange {
    /// Qualified table name, as in its `table:` key.
    pub table: String,
    /// Planner estimates; absent when either side was never analyzed (`-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<CountDelta>,
    /// Exact `count(*)`, when both sides took one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<CountDelta>,
    /// Why exact counts could not be compared (taken on one side only, or failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CountChange {
    /// An exact count moved: that is drift. Estimates alone are not.
    pub fn exact_drift(&self) -> bool {
        self.exact.is_some_and(|d| d.delta != 0)
    }

    pub fn estimate_drift(&self) -> bool {
        self.estimate.is_some_and(|d| d.delta != 0)
    }
}

/// Count changes of the tables both sides counted, sorted by table name.
pub fn diff_counts(base: &RowCounts, head: &RowCounts) -> Vec<CountChange> {
    base.iter()
        .filter_map(|(table, old)| head.get(table).map(|new| (table, old, new)))
        .filter(|(_, old, new)| old != new)
        .filter_map(|(table, old, new)| compare(table, old, new))
        .collect()
}

fn compare(table: &str, old: &RowCount, new: &RowCount) -> Option<CountChange> {
    let estimate = (old.estimate >= 0 && new.estimate >= 0)
        .then(|| CountDelta::new(old.estimate, new.estimate));
    let exact = match (old.exact, new.exact) {
        (Some(a), Some(b)) => Some(CountDelta::new(a, b)),
        _ => None,
    };
    let note = match (old.exact, new.exact, &old.exact_error, &new.exact_error) {
        (Some(_), Some(_), _, _) => None,
        (_, _, Some(e), _) => Some(format!("no exact count in base: {e}")),
        (_, _, _, Some(e)) => Some(format!("no exact count in head: {e}")),
        (Some(_), None, _, _) => Some("exact count taken in base only".to_string()),
        (None, Some(_), _, _) => Some("exact count taken in head only".to_string()),
        (None, None, None, None) => None,
    };
    let change = CountChange {
        table: table.to_string(),
        estimate,
        exact,
        note,
    };
    // Nothing reportable moved (e.g. only the error text of a failed count changed).
    let reportable = change.exact_drift() || change.estimate_drift() || change.note.is_some();
    reportable.then_some(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(estimate: i64, exact: Option<i64>) -> RowCount {
        RowCount {
            estimate,
            exact,
            exact_error: None,
        }
    }

    fn counts(entries: &[(&str, RowCount)]) -> RowCounts {
        entries
            .iter()
            .map(|(t, c)| (t.to_string(), c.clone()))
            .collect()
    }

    #[test]
    fn exact_counts_are_drift_and_estimates_are_not() {
        let base = counts(&[
            ("public.a", rc(309, Some(309))),
            ("public.b", rc(10, None)),
            ("public.c", rc(5, None)),
        ]);
        let head = counts(&[
            ("public.a", rc(309, Some(310))),
            ("public.b", rc(12, None)),
            ("public.c", rc(5, None)),
        ]);
        let changes = diff_counts(&base, &head);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0].table, "public.a");
        assert_eq!(
            changes[0].exact,
            Some(CountDelta {
                old: 309,
                new: 310,
                delta: 1
            })
        );
        assert!(changes[0].exact_drift());
        assert_eq!(changes[1].table, "public.b");
        assert!(!changes[1].exact_drift());
        assert!(changes[1].estimate_drift());
    }

    #[test]
    fn unanalyzed_estimates_and_one_sided_exact_counts_are_notes_not_drift() {
        let base = counts(&[("public.a", rc(-1, Some(3)))]);
        let head = counts(&[("public.a", rc(7, None))]);
        let changes = diff_counts(&base, &head);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].estimate, None);
        assert_eq!(changes[0].exact, None);
        assert_eq!(
            changes[0].note.as_deref(),
            Some("exact count taken in base only")
        );
        assert!(!changes[0].exact_drift());
    }

    #[test]
    fn tables_on_one_side_only_are_left_to_the_catalog_diff() {
        let base = counts(&[("public.a", rc(1, Some(1)))]);
        let head = counts(&[("public.b", rc(1, Some(1)))]);
        assert!(diff_counts(&base, &head).is_empty());
    }
}
