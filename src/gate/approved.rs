//! Approved change sets: what a rehearsal changed (`driftgate approve A B`), and the gate that
//! passes exactly that (`gate A B --expect FILE`). Ignore rules lose the proof; an approved set
//! keeps it: anything more, less or different than the rehearsal is BLOCK, each difference a
//! finding.

use super::{Finding, Severity};
use crate::diff::Diff;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const APPROVED_FORMAT: &str = "driftgate.approved/v1";
/// An approved set far beyond any real change set is refused rather than read.
pub const MAX_APPROVED_BYTES: u64 = 64 << 20;

pub const RULE_UNAPPROVED: &str = "unapproved-change";
pub const RULE_MISSING: &str = "approved-change-missing";
pub const RULE_DIFFERENT: &str = "differs-from-approved";

/// One approved change: the object, the kind of change, and the object it must result in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedChange {
    pub key: String,
    pub kind: String,
    pub change: String,
    /// The object's hash after the change (`null` for a removal).
    pub head_hash: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedSet {
    pub format: String,
    /// The snapshots the set was made from, for people.
    pub base: String,
    pub head: String,
    pub changes: Vec<ApprovedChange>,
}

impl ApprovedSet {
    /// The change set of a diff (row counts are not part of it).
    pub fn from_diff(diff: &Diff, base: &str, head: &str) -> ApprovedSet {
        ApprovedSet {
            format: APPROVED_FORMAT.to_string(),
            base: base.to_string(),
            head: head.to_string(),
            changes: diff
                .changes
                .iter()
                .map(|c| ApprovedChange {
                    key: c.key.as_str().to_string(),
                    kind: c.kind.as_str().to_string(),
                    change: c.change.as_str().to_string(),
                    head_hash: c.head_hash.map(|h| h.to_hex()),
                })
                .collect(),
        }
    }

    /// Parse an approved set; `file` names it in errors.
    pub fn parse(bytes: &[u8], file: &str) -> Result<ApprovedSet, String> {
        let set: ApprovedSet = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "{file}:{}:{}: not an approved change set: {e}",
                e.line(),
                e.column()
            )
        })?;
        if set.format != APPROVED_FORMAT {
            return Err(format!(
                "{file}: format {:?} is not {APPROVED_FORMAT:?}",
                set.format
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &set.changes {
            if !seen.insert(c.key.as_str()) {
                return Err(format!("{file}: {} is listed twice", c.key));
            }
        }
        Ok(set)
    }

    /// The object findings of a gate held to this set: every change of `diff` that is not
    /// exactly approved, and every approved change that did not happen. The second value
    /// is how many changes matched the set.
    pub fn judge(&self, diff: &Diff) -> (Vec<Finding>, usize) {
        let approved: BTreeMap<&str, &ApprovedChange> =
            self.changes.iter().map(|c| (c.key.as_str(), c)).collect();
        let mut findings = Vec::new();
        let mut matched = 0;
        let mut seen = std::collections::BTreeSet::new();
        for c in &diff.changes {
            let key = c.key.as_str();
            seen.insert(key);
            let head_hash = c.head_hash.map(|h| h.to_hex());
            let finding = |rule: &str, detail: String| Finding {
                kind: c.kind.as_str().to_string(),
                key: key.to_string(),
                change: c.change.as_str().to_string(),
                severity: Severity::Block,
                rule: rule.to_string(),
                fields: c.field_paths(),
                count: None,
                detail: Some(detail),
            };
            match approved.get(key) {
                None => findings.push(finding(
                    RULE_UNAPPROVED,
                    "not in the approved change set".into(),
                )),
                Some(a) if a.change != c.change.as_str() => findings.push(finding(
                    RULE_DIFFERENT,
                    format!(
                        "approved as {}, happened as {}",
                        a.change,
                        c.change.as_str()
                    ),
                )),
                Some(a) if a.head_hash != head_hash => findings.push(finding(
                    RULE_DIFFERENT,
                    "the object differs from the one the rehearsal produced".into(),
                )),
                Some(_) => matched += 1,
            }
        }
        for a in &self.changes {
            if !seen.contains(a.key.as_str()) {
                findings.push(Finding {
                    kind: a.kind.clone(),
                    key: a.key.clone(),
                    change: a.change.clone(),
                    severity: Severity::Block,
                    rule: RULE_MISSING.to_string(),
                    fields: vec![],
                    count: None,
                    detail: Some("approved, but it did not happen".into()),
                });
            }
        }
        (findings, matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use crate::diff::tests::{function, snapshot};
    use crate::gate::{GateReport, Policy, Verdict};

    fn verdict(base: &[(&str, &str)], head: &[(&str, &str)], set: &ApprovedSet) -> GateReport {
        let snap = |fs: &[(&str, &str)]| snapshot(fs.iter().map(|(n, b)| function(n, b)).collect());
        GateReport::evaluate_with(
            &diff(&snap(base), &snap(head)),
            &Policy::default(),
            Some(set),
            "a",
            "b",
        )
    }

    #[test]
    fn exactly_the_rehearsed_changes_pass_and_any_other_set_blocks() {
        let before = [("f", "BEGIN RETURN 1; END"), ("g", "BEGIN RETURN 2; END")];
        let after = [("f", "BEGIN RETURN 10; END"), ("g", "BEGIN RETURN 2; END")];
        let snap = |fs: &[(&str, &str)]| snapshot(fs.iter().map(|(n, b)| function(n, b)).collect());
        let set = ApprovedSet::from_diff(&diff(&snap(&before), &snap(&after)), "a", "b");
        assert_eq!(set.changes.len(), 1);

        let r = verdict(&before, &after, &set);
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(r.summary.approved, Some(1));

        // One extra change.
        let extra = [("f", "BEGIN RETURN 10; END"), ("g", "BEGIN RETURN 3; END")];
        let r = verdict(&before, &extra, &set);
        assert_eq!(r.verdict, Verdict::Block);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].rule, RULE_UNAPPROVED);

        // The approved change missing.
        let r = verdict(&before, &before, &set);
        assert_eq!(r.verdict, Verdict::Block);
        assert_eq!(r.findings[0].rule, RULE_MISSING);

        // The same object changed, into something else than rehearsed.
        let other = [("f", "BEGIN RETURN 11; END"), ("g", "BEGIN RETURN 2; END")];
        let r = verdict(&before, &other, &set);
        assert_eq!(r.verdict, Verdict::Block);
        assert_eq!(r.findings[0].rule, RULE_DIFFERENT);
    }

    #[test]
    fn a_broken_set_is_refused_naming_the_problem() {
        let e = ApprovedSet::parse(
            b"{\"format\": \"x\", \"base\": \"a\", \"head\": \"b\", \"changes\": []}",
            "f.json",
        )
        .unwrap_err();
        assert!(e.contains("is not \"driftgate.approved/v1\""), "{e}");
        let e = ApprovedSet::parse(b"{\"format\": \"driftgate.approved/v1\", \"base\": \"a\", \"head\": \"b\", \"changes\": [], \"extra\": 1}", "f.json").unwrap_err();
        assert!(e.contains("f.json:1:"), "{e}");
        let dup = br#"{"format": "driftgate.approved/v1", "base": "a", "head": "b", "changes": [
            {"key": "function:public.f()", "kind": "function", "change": "changed", "head_hash": null},
            {"key": "function:public.f()", "kind": "function", "change": "removed", "head_hash": null}]}"#;
        let e = ApprovedSet::parse(dup, "f.json").unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
    }
}
