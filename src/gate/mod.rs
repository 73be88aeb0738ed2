//! The `gate_drift` verdict: a [`Diff`] weighed by a [`Policy`] into PASS, WARN or BLOCK,
//! with one finding per change that counts, and the fail-closed report used when a side
//! could not be read at all.
//!
//! Pure: the policy text and the diff come in, a [`GateReport`] goes out.

pub mod approved;
pub mod policy;

pub use approved::ApprovedSet;

pub use policy::{Policy, PolicyError, Severity};

use crate::diff::{CaptureFormatChange, ChangeType, CountDelta, Diff, ObjectChange};
use crate::model::split_qualified;
use crate::model::ObjectKind;
use policy::{RuleChange, RuleKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

pub const GATE_FORMAT: &str = "driftgate.gate/v1";
pub const GATE_NAME: &str = "gate_drift";

/// Rule names of the built-in defaults, shown in findings.
pub const RULE_CATALOG_CHANGE: &str = "catalog-change";
pub const RULE_WHITESPACE_ONLY: &str = "whitespace-only";
pub const RULE_COUNT_DRIFT: &str = "count-drift";
pub const RULE_FAIL_CLOSED: &str = "fail-closed";
pub const RULE_CAPTURE_FORMAT: &str = "capture-format-changed";
/// A field one snapshot's role could read and the other's could not: said as a WARN of its
/// own, never weighed as a catalog change (nothing is known to have changed) and never
/// silent (nothing is known to be the same either).
pub const RULE_READABILITY: &str = "readability-changed";

// Deserialize (also Finding, GateSummary): `check merge` reads them back from shard reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Warn,
    Block,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Block => "BLOCK",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change that weighs in the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Finding {
    /// The object kind, `count` for row counts, `error` when a side could not be read.
    pub kind: String,
    pub key: String,
    /// `added`, `removed`, `changed`, `whitespace-only`, `count`, `readability` or
    /// `unavailable`.
    pub change: String,
    pub severity: Severity,
    /// The policy rule that decided the severity (a built-in default's name if none did).
    pub rule: String,
    pub fields: Vec<String>,
    /// Count findings: the count that moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<CountDelta>,
    /// A sentence for people (count tolerance, the error that made the gate fail closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GateSummary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub whitespace_only: usize,
    pub count: usize,
    /// Changes the policy ignored (ignore lists, `ignore` rules, counts within tolerance).
    pub ignored: usize,
    /// With `--expect`: changes that are exactly the approved ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved: Option<usize>,
}

/// The gate JSON of DESIGN.md.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GateReport {
    pub format: &'static str,
    pub gate: &'static str,
    pub verdict: Verdict,
    /// Snapshot ids when stored, else what was given (`live`, a file).
    pub base: String,
    pub head: String,
    pub summary: GateSummary,
    /// Findings that weigh (warn or block) per kind.
    pub dims: BTreeMap<String, usize>,
    pub findings: Vec<Finding>,
    /// Why the gate failed closed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The file the gate's judgement comes from (the policy or approved set given), for
    /// SARIF's `physicalLocation`; not part of the gate JSON.
    #[serde(skip)]
    pub artifact: Option<String>,
}

impl GateReport {
    /// Weigh a diff by a policy.
    pub fn evaluate(diff: &Diff, policy: &Policy, base: &str, head: &str) -> GateReport {
        Self::evaluate_with(diff, policy, None, base, head)
    }

    /// Weigh a diff; with an approved set, the catalog changes are held to it (each change
    /// not exactly approved, or approved and missing, is BLOCK) instead of to the policy's
    /// rules. Row counts are weighed by the policy either way.
    pub fn evaluate_with(
        diff: &Diff,
        policy: &Policy,
        expected: Option<&ApprovedSet>,
        base: &str,
        head: &str,
    ) -> GateReport {
        let mut summary = GateSummary::default();
        let mut findings = Vec::new();
        // First, and whatever an approved set says: no set approved a change of format.
        findings.extend(
            diff.capture_format
                .and_then(|c| weigh_capture_format(c, policy)),
        );
        if let Some(set) = expected {
            let (held, matched) = set.judge(diff);
            summary.approved = Some(matched);
            for f in &held {
                match f.change.as_str() {
                    "added" => summary.added += 1,
                    "removed" => summary.removed += 1,
                    "whitespace-only" => summary.whitespace_only += 1,
                    _ => summary.changed += 1,
                }
            }
            findings.extend(held);
        }
        for change in diff.changes.iter().filter(|_| expected.is_none()) {
            match weigh_object(change, policy) {
                None => summary.ignored += 1,
                Some(f) => {
                    match change.change {
                        ChangeType::Added => summary.added += 1,
                        ChangeType::Removed => summary.removed += 1,
                        ChangeType::Changed => summary.changed += 1,
                        ChangeType::WhitespaceOnly => summary.whitespace_only += 1,
                    }
                    findings.push(f);
                }
            }
        }
        findings.extend(diff.readability.iter().map(|r| Finding {
            kind: r.key.kind().to_string(),
            key: r.key.to_string(),
            change: "readability".into(),
            severity: Severity::Warn,
            rule: RULE_READABILITY.into(),
            fields: vec![r.path.clone()],
            count: None,
            detail: Some(r.explain()),
        }));
        for count in &diff.counts {
            let field = if count.exact.is_some() {
                "exact"
            } else if policy.counts.estimates {
                "estimate"
            } else {
                continue;
            };
            let Some(delta) = (if field == "exact" {
                count.exact
            } else {
                count.estimate
            }) else {
                continue;
            };
            if delta.delta == 0 {
                continue;
            }
            match weigh_count(&count.table, field, delta, policy) {
                None => summary.ignored += 1,
                Some(f) => {
                    summary.count += 1;
                    findings.push(f);
                }
            }
        }
        let verdict = verdict_of(&findings);
        let mut dims = BTreeMap::new();
        for f in &findings {
            *dims.entry(f.kind.clone()).or_insert(0) += 1;
        }
        GateReport {
            format: GATE_FORMAT,
            gate: GATE_NAME,
            verdict,
            base: base.to_string(),
            head: head.to_string(),
            summary,
            dims,
            findings,
            error: None,
            artifact: None,
        }
    }

    /// The fail-closed report: something (`base`, `head`, `policy`) could not be read, so
    /// nothing can be said to be safe.
    pub fn fail_closed(base: &str, head: &str, what: &str, reason: &str) -> GateReport {
        GateReport {
            format: GATE_FORMAT,
            gate: GATE_NAME,
            verdict: Verdict::Block,
            base: base.to_string(),
            head: head.to_string(),
            summary: GateSummary::default(),
            dims: BTreeMap::from([("error".to_string(), 1)]),
            findings: vec![Finding {
                kind: "error".into(),
                key: what.to_string(),
                change: "unavailable".into(),
                severity: Severity::Block,
                rule: RULE_FAIL_CLOSED.into(),
                fields: vec![],
                count: None,
                detail: Some(reason.to_string()),
            }],
            error: Some(format!("{what}: {reason}")),
            artifact: None,
        }
    }
}

fn verdict_of(findings: &[Finding]) -> Verdict {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Block) => Verdict::Block,
        Some(Severity::Warn) => Verdict::Warn,
        _ => Verdict::Pass,
    }
}

/// The finding for snapshots of two capture formats: BLOCK unless a rule naming
/// `kind = "capture_format"` says otherwise; `None` when such a rule ignores it.
fn weigh_capture_format(change: CaptureFormatChange, policy: &Policy) -> Option<Finding> {
    const KEY: &str = "capture_format";
    let (severity, rule) = first_rule(
        policy,
        RuleKind::CaptureFormat,
        KEY,
        RuleChange::Object(ChangeType::Changed),
    )
    .unwrap_or((Severity::Block, RULE_CAPTURE_FORMAT.to_string()));
    (severity != Severity::Ignore).then(|| Finding {
        kind: KEY.into(),
        key: KEY.into(),
        change: ChangeType::Changed.as_str().into(),
        severity,
        rule,
        fields: vec![],
        count: None,
        detail: Some(change.explain()),
    })
}

/// The severity of an object change and the rule that set it; `None` when ignored.
fn weigh_object(change: &ObjectChange, policy: &Policy) -> Option<Finding> {
    let key = change.key.as_str();
    let schema = match change.kind {
        ObjectKind::Schema => Some(split_qualified(change.key.name()).join(".")),
        _ => change.schema.clone(),
    };
    if ignored(policy, key, schema.as_deref()) {
        return None;
    }
    let (severity, rule) = first_rule(
        policy,
        RuleKind::Object(change.kind),
        key,
        RuleChange::Object(change.change),
    )
    .unwrap_or(match change.change {
        ChangeType::WhitespaceOnly => (Severity::Warn, RULE_WHITESPACE_ONLY.to_string()),
        _ => (Severity::Block, RULE_CATALOG_CHANGE.to_string()),
    });
    (severity != Severity::Ignore).then(|| Finding {
        kind: change.kind.as_str().to_string(),
        key: key.to_string(),
        change: change.change.as_str().to_string(),
        severity,
        rule,
        fields: change.field_paths(),
        count: None,
        detail: None,
    })
}

fn weigh_count(table: &str, field: &str, delta: CountDelta, policy: &Policy) -> Option<Finding> {
    let key = format!("count:{table}");
    let schema = split_qualified(table).into_iter().next();
    if ignored(policy, &key, schema.as_deref()) || ignored(policy, &format!("table:{table}"), None)
    {
        return None;
    }
    let tolerance = policy.counts.tolerance_for(table);
    if tolerance.allows(delta.old, delta.new) {
        return None;
    }
    let (severity, rule) = first_rule(policy, RuleKind::Count, &key, RuleChange::Count)
        .unwrap_or((Severity::Warn, RULE_COUNT_DRIFT.to_string()));
    (severity != Severity::Ignore).then(|| Finding {
        kind: "count".into(),
        key,
        change: "count".into(),
        severity,
        rule,
        fields: vec![field.to_string()],
        count: Some(delta),
        detail: Some(format!(
            "{field} count {} → {} ({:+}), tolerance {tolerance}",
            delta.old, delta.new, delta.delta
        )),
    })
}

fn ignored(policy: &Policy, key: &str, schema: Option<&str>) -> bool {
    policy.ignore.keys.iter().any(|p| p.is_match(key))
        || schema.is_some_and(|s| policy.ignore.schemas.iter().any(|p| p.is_match(s)))
}

fn first_rule(
    policy: &Policy,
    kind: RuleKind,
    key: &str,
    change: RuleChange,
) -> Option<(Severity, String)> {
    policy
        .rules
        .iter()
        .enumerate()
        .find(|(_, r)| r.matches(kind, key, change))
        .map(|(i, r)| {
            (
                r.severity,
                r.name.clone().unwrap_or_else(|| format!("rule-{}", i + 1)),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{function, snapshot, table, trigger};
    use crate::diff::{self};
    use crate::model::snapshot::RowCount;

    fn policy(text: &str) -> Policy {
        Policy::parse(text, "test.toml").unwrap()
    }

    const BODY: &str = "\nBEGIN\n    NEW.code := 'DOT-' || NEW.id;\n    RETURN NEW;\nEND ";

    fn literal_change() -> Diff {
        diff::diff(
            &snapshot(vec![function("fn_birth_gate", BODY), table("t", &[])]),
            &snapshot(vec![
                function("fn_birth_gate", &BODY.replace("DOT-", "DOT_")),
                table("t", &[]),
            ]),
        )
    }

    fn whitespace_change() -> Diff {
        diff::diff(
            &snapshot(vec![function("f", BODY)]),
            &snapshot(vec![function("f", &BODY.replace("    ", "\t"))]),
        )
    }

    fn count_change(old: i64, new: i64) -> Diff {
        let mut base = snapshot(vec![table("dot_tools", &[])]);
        let mut head = base.clone();
        base.counts.insert(
            "public.dot_tools".into(),
            RowCount {
                estimate: 300,
                exact: Some(old),
                exact_error: None,
            },
        );
        head.counts.insert(
            "public.dot_tools".into(),
            RowCount {
                estimate: 300,
                exact: Some(new),
                exact_error: None,
            },
        );
        diff::diff(&base, &head)
    }

    fn format_change() -> Diff {
        let base = snapshot(vec![table("t", &[])]);
        let mut head = base.clone();
        head.meta.capture_format += 1;
        diff::diff(&base, &head)
    }

    /// The first night on a binary that captures more must not pass as "no drift", nor as
    /// a list of everything that is new: one finding says why, and how to move on.
    #[test]
    fn snapshots_of_two_capture_formats_block_with_their_own_rule() {
        let r = GateReport::evaluate(&format_change(), &Policy::default(), "a", "b");
        assert_eq!(r.verdict, Verdict::Block);
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!(
            (f.kind.as_str(), f.rule.as_str()),
            ("capture_format", RULE_CAPTURE_FORMAT)
        );
        assert!(
            f.detail.as_deref().unwrap().contains("baseline accept"),
            "{f:?}"
        );
        assert_eq!(r.dims.get("capture_format"), Some(&1));
        // A catch-all rule does not turn it off; a rule that names it does.
        let all = policy("[[rules]]\nseverity = \"ignore\"\n");
        assert_eq!(
            GateReport::evaluate(&format_change(), &all, "a", "b").verdict,
            Verdict::Block
        );
        let named = policy("[[rules]]\nkind = \"capture_format\"\nseverity = \"warn\"\n");
        assert_eq!(
            GateReport::evaluate(&format_change(), &named, "a", "b").verdict,
            Verdict::Warn
        );
        // No approved set passes it.
        let set =
            ApprovedSet::from_diff(&diff::diff(&snapshot(vec![]), &snapshot(vec![])), "a", "b");
        let r =
            GateReport::evaluate_with(&format_change(), &Policy::default(), Some(&set), "a", "b");
        assert_eq!(r.verdict, Verdict::Block);
    }

    #[test]
    fn default_policy_blocks_a_catalog_change_with_one_finding() {
        let r = GateReport::evaluate(&literal_change(), &Policy::default(), "a", "b");
        assert_eq!(r.verdict, Verdict::Block);
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!(f.key, "function:public.fn_birth_gate()");
        assert_eq!(
            (f.kind.as_str(), f.change.as_str()),
            ("function", "changed")
        );
        assert_eq!(
            (f.severity, f.rule.as_str()),
            (Severity::Block, RULE_CATALOG_CHANGE)
        );
        assert_eq!(f.fields, vec!["definition"]);
        assert_eq!(r.dims, BTreeMap::from([("function".to_string(), 1)]));
        assert_eq!(r.summary.changed, 1);
    }

    #[test]
    fn gate_json_has_the_contract_fields() {
        let r = GateReport::evaluate(&literal_change(), &Policy::default(), "base-id", "head-id");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["format"], "driftgate.gate/v1");
        assert_eq!(v["gate"], "gate_drift");
        assert_eq!(v["verdict"], "BLOCK");
        assert_eq!(v["base"], "base-id");
        assert_eq!(v["summary"]["changed"], 1);
        assert_eq!(v["dims"]["function"], 1);
        assert_eq!(v["findings"][0]["severity"], "block");
        assert_eq!(v["findings"][0]["rule"], "catalog-change");
        assert_eq!(v["findings"][0]["fields"][0], "definition");
        assert!(v.get("error").is_none());
    }

    #[test]
    fn whitespace_only_warns_by_default_and_a_rule_can_ignore_it() {
        let d = whitespace_change();
        let r = GateReport::evaluate(&d, &Policy::default(), "a", "b");
        assert_eq!(r.verdict, Verdict::Warn);
        assert_eq!(r.findings[0].change, "whitespace-only");
        assert_eq!(r.findings[0].rule, RULE_WHITESPACE_ONLY);

        let p = policy(
            "[[rules]]\nname = \"cosmetic\"\nchange = \"whitespace-only\"\nseverity = \"ignore\"\n",
        );
        let r = GateReport::evaluate(&d, &p, "a", "b");
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.findings.is_empty());
        assert_eq!(r.summary.ignored, 1);

        let p = policy("[[rules]]\nname = \"strict\"\nkind = \"function\"\nseverity = \"block\"\n");
        let r = GateReport::evaluate(&d, &p, "a", "b");
        assert_eq!(
            (r.verdict, r.findings[0].rule.as_str()),
            (Verdict::Block, "strict")
        );
    }

    #[test]
    fn first_matching_rule_wins_and_unnamed_rules_get_a_number() {
        let p = policy(
            "[[rules]]\nkey = \"function:public.other*\"\nseverity = \"ignore\"\n\
             [[rules]]\nkey = \"function:public.fn_*\"\nchange = \"changed\"\nseverity = \"warn\"\n\
             [[rules]]\nseverity = \"ignore\"\n",
        );
        let r = GateReport::evaluate(&literal_change(), &p, "a", "b");
        assert_eq!(r.verdict, Verdict::Warn);
        assert_eq!(r.findings[0].rule, "rule-2");
    }

    #[test]
    fn ignored_schemas_and_keys_drop_findings() {
        let d = diff::diff(
            &snapshot(vec![trigger("t", "a", "origin")]),
            &snapshot(vec![
                trigger("t", "a", "disabled"),
                function("debug_x", BODY),
            ]),
        );
        assert_eq!(
            GateReport::evaluate(&d, &Policy::default(), "a", "b")
                .findings
                .len(),
            2
        );
        let r = GateReport::evaluate(
            &d,
            &policy("[ignore]\nkeys = [\"function:public.debug_*\"]\n"),
            "a",
            "b",
        );
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].key, "trigger:public.t.a");
        assert_eq!(r.findings[0].fields, vec!["enabled"]);
        let r = GateReport::evaluate(&d, &policy("[ignore]\nschemas = [\"pub*\"]\n"), "a", "b");
        assert_eq!((r.verdict, r.summary.ignored), (Verdict::Pass, 2));
    }

    #[test]
    fn count_drift_warns_and_a_tolerance_passes_it() {
        let d = count_change(309, 310);
        let r = GateReport::evaluate(&d, &Policy::default(), "a", "b");
        assert_eq!(r.verdict, Verdict::Warn);
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!(
            (f.kind.as_str(), f.key.as_str(), f.rule.as_str()),
            ("count", "count:public.dot_tools", RULE_COUNT_DRIFT)
        );
        assert_eq!(
            f.count,
            Some(CountDelta {
                old: 309,
                new: 310,
                delta: 1
            })
        );

        let tolerant = policy("[counts.tables]\ndot_tools = 1\n");
        let r = GateReport::evaluate(&d, &tolerant, "a", "b");
        assert_eq!((r.verdict, r.summary.ignored), (Verdict::Pass, 1));
        let r = GateReport::evaluate(&count_change(309, 311), &tolerant, "a", "b");
        assert_eq!(r.verdict, Verdict::Warn, "2 rows exceed a tolerance of 1");

        let r = GateReport::evaluate(
            &count_change(1000, 1040),
            &policy("[counts]\ndefault_tolerance = \"5%\"\n"),
            "a",
            "b",
        );
        assert_eq!(r.verdict, Verdict::Pass);
        let blocking = policy("[[rules]]\nchange = \"count\"\nseverity = \"block\"\n");
        assert_eq!(
            GateReport::evaluate(&d, &blocking, "a", "b").verdict,
            Verdict::Block
        );
    }

    #[test]
    fn estimates_alone_do_not_gate_unless_asked() {
        let mut base = snapshot(vec![table("t", &[])]);
        let mut head = base.clone();
        base.counts.insert(
            "public.t".into(),
            RowCount {
                estimate: 100,
                exact: None,
                exact_error: None,
            },
        );
        head.counts.insert(
            "public.t".into(),
            RowCount {
                estimate: 180,
                exact: None,
                exact_error: None,
            },
        );
        let d = diff::diff(&base, &head);
        assert_eq!(
            GateReport::evaluate(&d, &Policy::default(), "a", "b").verdict,
            Verdict::Pass
        );
        let r = GateReport::evaluate(&d, &policy("[counts]\nestimates = true\n"), "a", "b");
        assert_eq!(r.verdict, Verdict::Warn);
        assert_eq!(r.findings[0].fields, vec!["estimate"]);
    }

    #[test]
    fn no_changes_pass() {
        let s = snapshot(vec![table("t", &[])]);
        let r = GateReport::evaluate(&diff::diff(&s, &s), &Policy::default(), "a", "b");
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.findings.is_empty() && r.dims.is_empty());
    }

    #[test]
    fn fail_closed_is_a_block_with_the_reason() {
        let r = GateReport::fail_closed(
            "baseline",
            "live",
            "head",
            "cannot connect to 127.0.0.1:1: connection refused",
        );
        assert_eq!(r.verdict, Verdict::Block);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["verdict"], "BLOCK");
        assert_eq!(v["findings"][0]["rule"], "fail-closed");
        assert!(v["error"].as_str().unwrap().contains("connection refused"));
    }
}
