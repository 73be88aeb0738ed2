//! SARIF 2.1.0 for `gate --format sarif` and `check --sarif FILE`, the static-analysis
//! format GitHub code scanning (`github/codeql-action/upload-sarif`) and other dashboards read.
//!
//! One run of the tool `driftgate`; one rule per finding rule (the built-in defaults with
//! their help text, a policy's own rules by name); one result per finding: `error` for
//! BLOCK, `warning` for WARN, `note` otherwise. Each result names the object in a
//! `logicalLocation` (its key, e.g. `trigger:public.dot_tools.trg_x`, and its kind) and
//! carries a `partialFingerprints` entry that is the same for the same object and change
//! across runs, so code scanning tracks one alert instead of opening a new one each night.
//!
//! A catalog object is not a file, so a `physicalLocation` is given only where there is a
//! real file the finding comes from: the policy (or approved set) given to `gate`, the
//! config file of `check`. GitHub requires one location with a file per result, so without
//! such a file an upload to code scanning is refused; the README says so. A gate or check
//! that failed closed is an `error` result of the `fail-closed` rule (and an unsuccessful
//! invocation), never an empty run.

use crate::check::CheckRun;
use crate::gate::{
    Finding, GateReport, Severity, RULE_CAPTURE_FORMAT, RULE_CATALOG_CHANGE, RULE_COUNT_DRIFT,
    RULE_FAIL_CLOSED, RULE_READABILITY, RULE_WHITESPACE_ONLY,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of [`fingerprint`] in `partialFingerprints` (versioned: a change of what it
/// hashes must not match old alerts by accident).
pub const FINGERPRINT_KEY: &str = "driftgateObjectChange/v1";

/// What a built-in rule means, for the rule's help text in code scanning.
fn builtin_help(rule: &str) -> Option<(&'static str, &'static str)> {
    Some(match rule {
        RULE_CATALOG_CHANGE => (
            "A catalog object was added, removed or changed against the accepted baseline.",
            "The live catalog differs from the accepted snapshot. If the change is intended, accept it (`driftgate baseline accept`) or approve it (`driftgate approve`); otherwise find who changed the object and revert it.",
        ),
        RULE_WHITESPACE_ONLY => (
            "A definition changed only in whitespace or comments.",
            "The object's body differs from the baseline only in layout. It behaves the same; accept the new baseline to silence it.",
        ),
        RULE_COUNT_DRIFT => (
            "A table's row count moved beyond the policy's tolerance.",
            "Row counts are compared within the tolerance of the policy's [counts] section; raise the tolerance or look for the load that moved it.",
        ),
        RULE_FAIL_CLOSED => (
            "driftgate could not read a side, the policy or the store, so nothing is known to be safe.",
            "The gate fails closed: fix the error in the message (connection, permissions, a missing baseline or a broken policy) and run again.",
        ),
        RULE_CAPTURE_FORMAT => (
            "The two snapshots were taken by different capture formats.",
            "A newer driftgate reads more of the catalog; take a new baseline with this version so both sides are read alike.",
        ),
        RULE_READABILITY => (
            "A field one side's role could read and the other's could not.",
            "Nothing is known to have changed, and nothing is known to be the same: read both sides with a role that can read the field.",
        ),
        _ => return None,
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Block => "error",
        Severity::Warn => "warning",
        Severity::Ignore => "note",
    }
}

/// Stable per object and change: the target (for check), the key, the change and which
/// fields, hashed. Not the detail text, which may name ids that move between runs.
pub fn fingerprint(target: Option<&str>, f: &Finding) -> String {
    let mut h = blake3::Hasher::new();
    for part in [target.unwrap_or(""), &f.kind, &f.key, &f.change, &f.rule] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    for field in &f.fields {
        h.update(field.as_bytes());
        h.update(&[0]);
    }
    h.finalize().to_hex()[..32].to_string()
}

/// A path as a URI reference: relative stays relative (GitHub resolves it against the
/// repository), absolute becomes `file://`.
pub fn path_uri(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const SET: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b']')
        .add(b'\\')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let encoded = utf8_percent_encode(path.strip_prefix("./").unwrap_or(path), SET).to_string();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// One finding to report, with the target it belongs to (check) or none (gate).
struct Item<'a> {
    target: Option<&'a str>,
    finding: &'a Finding,
}

fn message(item: &Item<'_>) -> String {
    let f = item.finding;
    let what = super::gate::what_changed(f);
    let mut s = match item.target {
        Some(t) => format!("target {t}: "),
        None => String::new(),
    };
    s.push_str(&format!("{} {} ({})", f.key, f.change, f.severity));
    if !what.is_empty() {
        s.push_str(": ");
        s.push_str(&what);
    }
    if let Some(d) = &f.detail {
        if *d != what {
            s.push_str(" — ");
            s.push_str(d);
        }
    }
    s
}

fn write_sarif<W: Write>(
    out: &mut W,
    items: &[Item<'_>],
    errors: &[String],
    artifact: Option<&str>,
    properties: Value,
) -> io::Result<()> {
    // Rules in first-seen order, so the same input gives the same bytes.
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    for item in items {
        let f = item.finding;
        if rule_index.contains_key(f.rule.as_str()) {
            continue;
        }
        rule_index.insert(&f.rule, rules.len());
        let (short, help) = builtin_help(&f.rule).unwrap_or((
            "A rule of the gate's policy file.",
            "This finding's severity was set by a rule of the policy file (--policy or the check config's [policy]); see that rule for why it weighs.",
        ));
        rules.push(json!({
            "id": f.rule,
            "shortDescription": {"text": short},
            "fullDescription": {"text": short},
            "help": {"text": help},
            "defaultConfiguration": {"level": level(f.severity)},
        }));
    }
    let location = |item: &Item<'_>| -> Value {
        let mut loc = json!({
            "logicalLocations": [{
                "name": item.finding.key,
                "fullyQualifiedName": item.finding.key,
                "kind": item.finding.kind,
            }],
        });
        if let Some(uri) = artifact {
            loc["physicalLocation"] = json!({"artifactLocation": {"uri": path_uri(uri)}});
        }
        loc
    };
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let f = item.finding;
            let mut props = json!({
                "severity": f.severity.as_str(),
                "change": f.change,
                "fields": f.fields,
            });
            if let Some(t) = item.target {
                props["target"] = json!(t);
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule.as_str()],
                "level": level(f.severity),
                "message": {"text": message(item)},
                "locations": [location(item)],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint(item.target, f)},
                "properties": props,
            })
        })
        .collect();
    let notifications: Vec<Value> = errors
        .iter()
        .map(|e| json!({"level": "error", "message": {"text": e}}))
        .collect();
    let doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "driftgate",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": properties,
        }],
    });
    crate::render::write_json(out, &doc)
}

/// `gate --format sarif`. `artifact`: the policy or approved-set file, if one was given.
pub fn write_gate_sarif<W: Write>(out: &mut W, report: &GateReport) -> io::Result<()> {
    let items: Vec<Item<'_>> = report
        .findings
        .iter()
        .map(|finding| Item {
            target: None,
            finding,
        })
        .collect();
    let errors: Vec<String> = report.error.iter().cloned().collect();
    write_sarif(
        out,
        &items,
        &errors,
        report.artifact.as_deref(),
        json!({"verdict": report.verdict, "base": report.base, "head": report.head}),
    )
}

/// `check --sarif FILE`: every target's findings in one run (code scanning takes one run
/// per tool and category), the target in each result's properties and fingerprint.
pub fn write_check_sarif<W: Write>(out: &mut W, run: &CheckRun) -> io::Result<()> {
    let run_error = run.error.as_ref().map(|e| Finding {
        kind: "error".into(),
        key: "check".into(),
        change: "unavailable".into(),
        severity: Severity::Block,
        rule: RULE_FAIL_CLOSED.into(),
        fields: vec![],
        count: None,
        detail: Some(e.clone()),
    });
    let mut items: Vec<Item<'_>> = run
        .targets
        .iter()
        .flat_map(|t| {
            t.findings.iter().map(|finding| Item {
                target: Some(t.name.as_str()),
                finding,
            })
        })
        .collect();
    items.extend(run_error.iter().map(|finding| Item {
        target: None,
        finding,
    }));
    let mut errors: Vec<String> = run
        .targets
        .iter()
        .filter_map(|t| t.error.as_ref().map(|e| format!("target {}: {e}", t.name)))
        .collect();
    errors.extend(run.error.iter().cloned());
    let verdicts: BTreeMap<&str, _> = run
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.verdict))
        .collect();
    write_sarif(
        out,
        &items,
        &errors,
        Some(run.config.as_str()).filter(|c| !c.is_empty()),
        json!({"verdict": run.verdict(), "targets": verdicts}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_of_paths() {
        assert_eq!(path_uri("./ci/policy.toml"), "ci/policy.toml");
        assert_eq!(
            path_uri("/etc/drift gate.toml"),
            "file:///etc/drift%20gate.toml"
        );
    }

    #[test]
    fn fail_closed_is_an_error_result_never_an_empty_run() {
        let r = GateReport::fail_closed("a", "b", "head", "cannot connect");
        let mut out = Vec::new();
        write_gate_sarif(&mut out, &r).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let run = &v["runs"][0];
        assert_eq!(run["results"][0]["level"], "error");
        assert_eq!(run["results"][0]["ruleId"], "fail-closed");
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    }
}
