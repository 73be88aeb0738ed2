//! The gate policy (`driftgate.toml`): rules, count tolerances and ignore lists, parsed and
//! validated up front. Every mistake (unknown key, bad glob, bad severity, bad tolerance) is
//! an error that names the file, line and column, because a gate that silently ignores a
//! misspelt rule is a gate that passes what it should block.
//!
//! ```toml
//! [ignore]
//! schemas = ["scratch", "tmp_*"]              # schema-name globs
//! keys = ["function:public.debug_*"]          # object-key globs
//!
//! [[rules]]                                   # first matching rule wins
//! name = "cosmetic function edits"            # optional, shown as the finding's rule
//! kind = "function"                           # optional: a kind, a list, "count" or "capture_format"
//! key = "function:public.fn_*"                # optional key glob
//! change = "whitespace-only"                  # optional: added, removed, changed, whitespace-only, count (or a list)
//! severity = "ignore"                         # block, warn or ignore
//!
//! [counts]
//! default_tolerance = 0                       # absolute rows, or "5%"
//! estimates = false                           # also gate on planner estimates
//! [counts.tables]
//! "public.dot_tools" = 1
//! "public.audit_log" = "2.5%"
//! ```
//!
//! The same tables can sit under `[policy]` in a `driftgate check` config
//! ([`crate::check::config`]), which deserializes this [`Policy`] type in place.

use crate::diff::ChangeType;
use crate::model::fingerprint::normalize_table_name;
use crate::model::ObjectKind;
use globset::{GlobBuilder, GlobMatcher};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How much a finding weighs in the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ignore,
    Warn,
    Block,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ignore => "ignore",
            Severity::Warn => "warn",
            Severity::Block => "block",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The change types a rule can match: the diff's object changes, plus count drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleChange {
    Object(ChangeType),
    Count,
}

impl RuleChange {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleChange::Object(c) => c.as_str(),
            RuleChange::Count => "count",
        }
    }
}

impl<'de> Deserialize<'de> for RuleChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "count" {
            return Ok(RuleChange::Count);
        }
        ChangeType::ALL
            .iter()
            .find(|c| c.as_str() == s)
            .map(|c| RuleChange::Object(*c))
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown change {s:?} (expected added, removed, changed, whitespace-only or count)"
                ))
            })
    }
}

/// What a rule's `kind` can name: an object kind, `count` for row-count findings, or
/// `capture_format` for snapshots of two capture formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Object(ObjectKind),
    Count,
    /// Matched only by a rule that names it: a catch-all rule written for catalog changes
    /// must not turn off the one finding that says a diff cannot be trusted.
    CaptureFormat,
}

impl<'de> Deserialize<'de> for RuleKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "count" => return Ok(RuleKind::Count),
            "capture_format" => return Ok(RuleKind::CaptureFormat),
            _ => {}
        }
        s.parse::<ObjectKind>()
            .map(RuleKind::Object)
            .map_err(|e| de::Error::custom(format!("{e}, count or capture_format")))
    }
}

/// A compiled glob with the text it came from. `*` matches any run of characters
/// (dots and slashes included); `\` escapes; `{a,b}` alternates.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        let glob = GlobBuilder::new(text)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("invalid glob {text:?}: {}", e.kind()))?;
        Ok(Pattern {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pattern::new(&s).map_err(de::Error::custom)
    }
}

/// A count tolerance: rows either way, or a percentage of the base count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tolerance {
    Rows(u64),
    /// Hundredths of a percent (`2.5%` is 250), so comparisons stay in integers.
    BasisPoints(u64),
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance::Rows(0)
    }
}

impl Tolerance {
    pub fn parse(s: &str) -> Result<Tolerance, String> {
        let s = s.trim();
        let bad = || {
            format!("invalid tolerance {s:?} (use a number of rows like 10, or a percentage like \"5%\" or \"0.5%\")")
        };
        if let Some(pct) = s.strip_suffix('%') {
            let (whole, frac) = pct.trim().split_once('.').unwrap_or((pct.trim(), ""));
            if whole.is_empty()
                || !whole.bytes().all(|b| b.is_ascii_digit())
                || frac.len() > 2
                || !frac.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let whole: u64 = whole.parse().map_err(|_| bad())?;
            let frac: u64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
            return Ok(Tolerance::BasisPoints(
                whole.checked_mul(100).ok_or_else(bad)? + frac,
            ));
        }
        s.parse::<u64>().map(Tolerance::Rows).map_err(|_| bad())
    }

    /// Whether moving from `old` to `new` stays within the tolerance.
    pub fn allows(self, old: i64, new: i64) -> bool {
        let delta = old.abs_diff(new);
        match self {
            Tolerance::Rows(n) => delta <= n,
            Tolerance::BasisPoints(bp) => {
                (delta as u128) * 10_000 <= (bp as u128) * (old.unsigned_abs() as u128)
            }
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Rows(n) => write!(f, "{n} rows"),
            Tolerance::BasisPoints(bp) => write!(f, "{}.{:02}%", bp / 100, bp % 100),
        }
    }
}

impl<'de> Deserialize<'de> for Tolerance {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Tolerance;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of rows (10) or a percentage string (\"5%\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tolerance, E> {
                u64::try_from(v)
                    .map(Tolerance::Rows)
                    .map_err(|_| E::custom(format!("a tolerance cannot be negative ({v})")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tolerance, E> {
                Ok(Tolerance::Rows(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tolerance, E> {
                Tolerance::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// One value or a list of them (`kind = "function"` or `kind = ["function", "view"]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::<E>::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(t) = seq.next_element()? {
                    out.push(t);
                }
                if out.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list matches nothing; leave the field out to match everything",
                    ));
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One `[[rules]]` entry. Absent matchers match everything.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: OneOrMany<RuleKind>,
    #[serde(default)]
    pub key: OneOrMany<Pattern>,
    #[serde(default)]
    pub change: OneOrMany<RuleChange>,
    pub severity: Severity,
}

impl Rule {
    pub fn matches(&self, kind: RuleKind, key: &str, change: RuleChange) -> bool {
        let named = self.kind.0.contains(&kind);
        (named || (self.kind.0.is_empty() && kind != RuleKind::CaptureFormat))
            && (self.key.0.is_empty() || self.key.0.iter().any(|p| p.is_match(key)))
            && (self.change.0.is_empty() || self.change.0.contains(&change))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    #[serde(default)]
    pub schemas: Vec<Pattern>,
    #[serde(default)]
    pub keys: Vec<Pattern>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    #[serde(default)]
    pub default_tolerance: Tolerance,
    /// Gate on planner estimates too (they wobble with ANALYZE; off by default).
    #[serde(default)]
    pub estimates: bool,
    /// Per-table tolerance; table names as in `table:` keys (`dot_tools` means `public.dot_tools`).
    #[serde(default)]
    pub tables: BTreeMap<String, Tolerance>,
}

impl Counts {
    pub fn tolerance_for(&self, table: &str) -> Tolerance {
        self.tables
            .get(table)
            .copied()
            .unwrap_or(self.default_tolerance)
    }
}

/// A whole policy. [`Policy::default`] is the built-in one: catalog changes block,
/// whitespace-only changes warn, exact count drift warns.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub ignore: Ignore,
}

/// A policy file that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Policy {
    /// Parse policy text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            PolicyError {
                file: file.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        Ok(policy.normalized())
    }

    /// Table names in count tolerances as in `table:` keys (`dot_tools` → `public.dot_tools`).
    /// Every way of reading a policy ends here.
    pub(crate) fn normalized(mut self) -> Policy {
        self.counts.tables = std::mem::take(&mut self.counts.tables)
            .into_iter()
            .map(|(t, tol)| (normalize_table_name(&t), tol))
            .collect();
        self
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    (line, column)
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    // `str::floor_char_boundary` is not stable on our MSRV.
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, "driftgate.toml")
    }

    #[test]
    fn a_full_policy_parses() {
        let p = parse(
            r#"
[ignore]
schemas = ["scratch", "tmp_*"]
keys = ["function:public.debug_*"]

[[rules]]
name = "cosmetic"
kind = "function"
change = "whitespace-only"
severity = "ignore"

[[rules]]
kind = ["view", "matview"]
key = "view:reporting.*"
change = ["added", "changed"]
severity = "warn"

[counts]
default_tolerance = "1%"
[counts.tables]
dot_tools = 1
"public.audit_log" = "2.5%"
"#,
        )
        .unwrap();
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.rules[0].severity, Severity::Ignore);
        assert!(p.rules[0].matches(
            RuleKind::Object(ObjectKind::Function),
            "function:public.f()",
            RuleChange::Object(ChangeType::WhitespaceOnly)
        ));
        assert!(!p.rules[0].matches(
            RuleKind::Object(ObjectKind::Function),
            "function:public.f()",
            RuleChange::Object(ChangeType::Changed)
        ));
        assert!(p.rules[1].matches(
            RuleKind::Object(ObjectKind::View),
            "view:reporting.v",
            RuleChange::Object(ChangeType::Added)
        ));
        assert!(!p.rules[1].matches(
            RuleKind::Object(ObjectKind::View),
            "view:public.v",
            RuleChange::Object(ChangeType::Added)
        ));
        assert_eq!(
            p.counts.tolerance_for("public.dot_tools"),
            Tolerance::Rows(1)
        );
        assert_eq!(
            p.counts.tolerance_for("public.audit_log"),
            Tolerance::BasisPoints(250)
        );
        assert_eq!(
            p.counts.tolerance_for("public.other"),
            Tolerance::BasisPoints(100)
        );
        assert!(p.ignore.schemas[1].is_match("tmp_2024"));
        assert!(p.ignore.keys[0].is_match("function:public.debug_dump(integer)"));
    }

    #[test]
    fn an_empty_file_is_the_default_policy() {
        let p = parse("").unwrap();
        assert!(p.rules.is_empty());
        assert_eq!(p.counts.default_tolerance, Tolerance::Rows(0));
        assert!(!p.counts.estimates);
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_line() {
        let e = parse("[[rules]]\nkind = \"function\"\nseverty = \"warn\"\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("driftgate.toml", 3), "{e}");
        assert!(e.message.contains("severty"), "{e}");
        assert!(e.to_string().starts_with("driftgate.toml:3:"), "{e}");

        let e = parse("\n\n[gate]\nx = 1\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");

        // Targets belong to a check config (`[[target]]` beside `[policy]`), not to a policy.
        let e =
            parse("[counts]\ndefault_tolerance = 1\n[[targets]]\nname = \"prod\"\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn bad_values_name_their_line() {
        let cases = [
            ("[[rules]]\nseverity = \"fatal\"\n", 2, "fatal"),
            (
                "[[rules]]\nseverity = \"warn\"\nkind = \"widget\"\n",
                3,
                "widget",
            ),
            (
                "[[rules]]\nseverity = \"warn\"\nchange = [\"modified\"]\n",
                3,
                "modified",
            ),
            (
                "[[rules]]\nseverity = \"warn\"\nkey = \"table:{a\"\n",
                3,
                "invalid glob",
            ),
            ("[counts.tables]\n\"public.t\" = -3\n", 2, "negative"),
            (
                "[counts.tables]\n\"public.t\" = \"five%\"\n",
                2,
                "invalid tolerance",
            ),
            ("[[rules]]\nkind = \"table\"\n", 1, "severity"),
            ("[[rules]\nseverity = \"warn\"\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?} → {e}");
            assert!(e.message.contains(needle), "{text:?} → {e}");
        }
    }

    #[test]
    fn tolerances_in_rows_and_percent() {
        assert!(Tolerance::Rows(1).allows(309, 310));
        assert!(Tolerance::Rows(1).allows(309, 308));
        assert!(!Tolerance::Rows(1).allows(309, 311));
        assert!(!Tolerance::Rows(0).allows(309, 310));
        let five = Tolerance::parse("5%").unwrap();
        assert_eq!(five, Tolerance::BasisPoints(500));
        assert!(five.allows(100, 105));
        assert!(!five.allows(100, 106));
        assert!(
            !five.allows(0, 1),
            "any change from zero exceeds a percentage"
        );
        assert_eq!(
            Tolerance::parse("0.5%").unwrap(),
            Tolerance::BasisPoints(50)
        );
        assert_eq!(Tolerance::parse("12").unwrap(), Tolerance::Rows(12));
        assert!(Tolerance::parse("1.234%").is_err());
        assert!(Tolerance::parse("-1%").is_err());
        assert!(Tolerance::parse("%").is_err());
        assert_eq!(Tolerance::BasisPoints(250).to_string(), "2.50%");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé\nx", 3), (2, 1));
        assert_eq!(line_column("ab\ncdé\nx", 8), (3, 1));
        assert_eq!(
            line_column("ab\ncdé\nx", 6),
            (2, 3),
            "inside é: floored to its start"
        );
    }
}
