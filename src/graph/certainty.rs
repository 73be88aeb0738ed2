//! How sure an edge of the fan-out is to run when its source runs (issue 18): `always`,
//! `conditional` (inside an `IF`/`CASE` branch, a loop that may run zero times, an exception
//! handler, after an early `RETURN`, a trigger's `WHEN`, …, with the guard's text) or
//! `maybe-no-rows` (an UPDATE/DELETE whose WHERE may match nothing, `INSERT … SELECT`,
//! `ON CONFLICT`, a cascade that may find no child rows).
//!
//! The graph over-approximates on purpose (nothing that could run is dropped); the mark
//! says which parts are the over-approximation. `always` is a claim the real-execution test
//! holds the graph to, so anything not provably unconditional is never `always`.

use serde::Serialize;

/// The certainty levels, weakest first: the derived order makes `min` "the weakest wins"
/// when composing along a path and `max` "the surest wins" when one edge is reached two
/// ways. `conditional` ranks below `maybe-no-rows`: a guard may be false for every row,
/// while a row-dependent statement at least runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Certainty {
    #[serde(rename = "conditional")]
    Conditional,
    #[serde(rename = "maybe-no-rows")]
    MaybeNoRows,
    #[default]
    #[serde(rename = "always")]
    Always,
}

impl Certainty {
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Always => "always",
            Certainty::Conditional => "conditional",
            Certainty::MaybeNoRows => "maybe-no-rows",
        }
    }
}

/// A certainty with the guard that makes it conditional (`IF TG_OP = 'INSERT'`; nested
/// guards joined with `; `).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Sure {
    pub certainty: Certainty,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
}

impl Sure {
    pub fn always() -> Self {
        Sure::default()
    }

    pub fn maybe_no_rows() -> Self {
        Sure {
            certainty: Certainty::MaybeNoRows,
            guard: None,
        }
    }

    /// Conditional on `guards` (outermost first); `always` when there are none.
    pub fn guarded(guards: &[String]) -> Self {
        if guards.is_empty() {
            return Sure::always();
        }
        Sure {
            certainty: Certainty::Conditional,
            guard: Some(guards.join("; ")),
        }
    }

    pub fn is_always(&self) -> bool {
        self.certainty == Certainty::Always
    }

    /// This certainty reached through `outer`: the weakest wins, and the guards of both
    /// are kept (outer first).
    pub fn under(&self, outer: &Sure) -> Sure {
        Sure {
            certainty: self.certainty.min(outer.certainty),
            guard: join(outer.guard.as_deref(), self.guard.as_deref(), "; "),
        }
    }

    /// One fact reached two ways (the same write in two branches): the surest wins; two
    /// guards of the same level are alternatives (`a | b`, sorted so output is stable).
    pub fn or(&self, other: &Sure) -> Sure {
        use std::cmp::Ordering;
        match self.certainty.cmp(&other.certainty) {
            Ordering::Greater => self.clone(),
            Ordering::Less => other.clone(),
            Ordering::Equal if self.certainty == Certainty::Always => Sure::always(),
            Ordering::Equal => {
                let mut alts: Vec<&str> = self
                    .guard
                    .iter()
                    .chain(other.guard.iter())
                    .flat_map(|g| g.split(" | "))
                    .collect();
                alts.sort_unstable();
                alts.dedup();
                Sure {
                    certainty: self.certainty,
                    guard: (!alts.is_empty()).then(|| alts.join(" | ")),
                }
            }
        }
    }

    /// The short mark people read next to an edge: `[IF TG_OP = 'INSERT']`,
    /// `(maybe no rows)`, or nothing for `always`.
    pub fn mark(&self) -> Option<String> {
        match (self.certainty, &self.guard) {
            (Certainty::Always, _) => None,
            (Certainty::Conditional, Some(g)) => Some(format!("[{g}]")),
            (Certainty::Conditional, None) => Some("[conditional]".to_string()),
            (Certainty::MaybeNoRows, Some(g)) => Some(format!("(maybe no rows) [{g}]")),
            (Certainty::MaybeNoRows, None) => Some("(maybe no rows)".to_string()),
        }
    }
}

fn join(a: Option<&str>, b: Option<&str>, sep: &str) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) if a == b => Some(a.to_string()),
        (Some(a), Some(b)) => Some(format!("{a}{sep}{b}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(g: &str) -> Sure {
        Sure::guarded(&[g.to_string()])
    }

    #[test]
    fn the_weakest_on_a_path_wins_and_guards_accumulate() {
        let inner = Sure::maybe_no_rows();
        let outer = cond("IF TG_OP = 'INSERT'");
        let s = inner.under(&outer);
        assert_eq!(s.certainty, Certainty::Conditional);
        assert_eq!(s.guard.as_deref(), Some("IF TG_OP = 'INSERT'"));
        assert_eq!(Sure::always().under(&Sure::always()), Sure::always());
        assert_eq!(
            Sure::always().under(&Sure::maybe_no_rows()).certainty,
            Certainty::MaybeNoRows
        );
        let nested = cond("IF b").under(&cond("IF a"));
        assert_eq!(nested.guard.as_deref(), Some("IF a; IF b"));
    }

    #[test]
    fn the_surest_of_two_ways_wins_and_alternatives_are_sorted() {
        assert!(cond("IF a").or(&Sure::always()).is_always());
        assert_eq!(
            cond("IF a").or(&Sure::maybe_no_rows()),
            Sure::maybe_no_rows()
        );
        let alt = cond("IF z").or(&cond("IF a"));
        assert_eq!(alt.guard.as_deref(), Some("IF a | IF z"));
        assert_eq!(alt.or(&cond("IF a")), alt, "idempotent");
    }

    #[test]
    fn marks_and_names() {
        assert_eq!(Sure::always().mark(), None);
        assert_eq!(cond("WHEN (x)").mark().as_deref(), Some("[WHEN (x)]"));
        assert_eq!(
            Sure::maybe_no_rows().mark().as_deref(),
            Some("(maybe no rows)")
        );
        assert_eq!(
            serde_json::to_value(Certainty::MaybeNoRows).unwrap(),
            "maybe-no-rows"
        );
        assert_eq!(Certainty::MaybeNoRows.as_str(), "maybe-no-rows");
    }
}
