//! JUnit XML for `gate --format junit` and `check --junit FILE`, the form GitLab's
//! `artifacts:reports:junit` (and Jenkins, Azure DevOps, CircleCI) read, so drift findings are
//! shown in the merge request's test report where teams already look.
//!
//! One `<testsuite>` per gate (or per check target); in it one `<testcase>` per finding and
//! one for the verdict, so the report is never empty and a PASS reads as passed tests:
//! - a BLOCK finding is a `<failure>` (a fail-closed one, where nothing could be read, an
//!   `<error>`), and the verdict testcase of a BLOCK fails too;
//! - a WARN finding is a passing testcase with the warning in `<system-out>` (GitLab shows a
//!   test case's output): a warning must not turn the pipeline red, and must not vanish;
//! - `check` that could not run at all gives a suite with one `<error>` testcase.
//!
//! Names are text, never markup: `&`, `<`, `>` and quotes are escaped, and characters XML 1.0
//! cannot carry at all (control characters but tab and newline) are written as a visible
//! `\u{..}`, so a hostile object name neither breaks the document nor hides.

use crate::check::CheckRun;
use crate::gate::{Finding, GateReport, Severity, Verdict, RULE_FAIL_CLOSED};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

/// One `<testsuite>`: a gate, or one target of a check run.
pub struct Suite<'a> {
    pub name: String,
    pub base: &'a str,
    pub head: &'a str,
    pub verdict: Verdict,
    pub findings: &'a [Finding],
    /// Why nothing could be compared, when so.
    pub error: Option<&'a str>,
    pub time: Option<Duration>,
}

impl<'a> Suite<'a> {
    pub fn of_gate(report: &'a GateReport) -> Suite<'a> {
        Suite {
            name: format!("driftgate gate {} → {}", report.base, report.head),
            base: &report.base,
            head: &report.head,
            verdict: report.verdict,
            findings: &report.findings,
            error: report.error.as_deref(),
            time: None,
        }
    }
}

/// The suites of a check run: one per target, or one error suite when it could not run.
pub fn check_suites(run: &CheckRun) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite<'_>> = run
        .targets
        .iter()
        .map(|t| Suite {
            name: format!("driftgate check {}", t.name),
            base: &t.baseline_ref,
            head: "live",
            verdict: t.verdict,
            findings: &t.findings,
            error: t.error.as_deref(),
            time: Some(t.duration),
        })
        .collect();
    if let Some(e) = &run.error {
        suites.push(Suite {
            name: "driftgate check".into(),
            base: "",
            head: "",
            verdict: Verdict::Block,
            findings: &[],
            error: Some(e),
            time: None,
        });
    }
    suites
}

/// Text as XML 1.0 character data or an attribute value. `\n` and `\t` stay in text; in an
/// attribute they are character references, since a parser turns literal ones into spaces.
pub fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            // `]]>` may not appear in text; escaping every `>` keeps it out.
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            // Not a character of XML 1.0 (not even as a reference): shown, not dropped.
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn attr(s: &str) -> String {
    escape(s, true)
}

fn text(s: &str) -> String {
    escape(s, false)
}

/// A finding in one line: what changed and why it weighs.
fn describe(f: &Finding) -> String {
    let what = super::gate::what_changed(f);
    let mut s = format!("{} {} {}", f.severity, f.change, f.key);
    if !what.is_empty() {
        s.push_str(": ");
        s.push_str(&what);
    }
    s.push_str(&format!(" (rule {})", f.rule));
    s
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The `<testcase>`s of one suite, and how many failed and errored.
fn testcases(suite: &Suite<'_>) -> (Vec<String>, usize, usize) {
    let mut cases = Vec::new();
    let (mut failures, mut errors) = (0, 0);
    let class = |kind: &str| attr(&format!("driftgate.{kind}"));
    for f in suite.findings {
        let name = attr(&format!("{} {}", f.key, f.change));
        let mut case = format!(
            "    <testcase classname=\"{}\" name=\"{name}\">\n",
            class(&f.kind)
        );
        let line = describe(f);
        match f.severity {
            Severity::Block if f.rule == RULE_FAIL_CLOSED => {
                errors += 1;
                let _ = writeln!(
                    case,
                    "      <error type=\"{}\" message=\"{}\">{}</error>",
                    attr(&f.rule),
                    attr(&line),
                    text(f.detail.as_deref().unwrap_or(&line))
                );
            }
            Severity::Block => {
                failures += 1;
                let _ = writeln!(
                    case,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    attr(&f.rule),
                    attr(&line),
                    text(&line)
                );
            }
            Severity::Warn | Severity::Ignore => {
                let _ = writeln!(case, "      <system-out>{}</system-out>", text(&line));
            }
        }
        case.push_str("    </testcase>\n");
        cases.push(case);
    }
    // A run that could not start has no fail-closed finding of its own: the error is the case.
    if let Some(e) = suite.error.filter(|_| suite.findings.is_empty()) {
        errors += 1;
        cases.push(format!(
            "    <testcase classname=\"driftgate.error\" name=\"check could not run\">\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>\n",
            RULE_FAIL_CLOSED,
            attr(e),
            text(e)
        ));
    }
    let summary = format!(
        "gate_drift {}: {} block, {} warn",
        suite.verdict,
        suite
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Block)
            .count(),
        suite
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warn)
            .count()
    );
    let mut verdict =
        String::from("    <testcase classname=\"driftgate.gate\" name=\"gate_drift verdict\">\n");
    match suite.verdict {
        Verdict::Block => {
            failures += 1;
            let why = suite
                .error
                .map_or(summary.clone(), |e| format!("fail-closed: {e}"));
            let _ = writeln!(
                verdict,
                "      <failure type=\"BLOCK\" message=\"{}\">{}</failure>",
                attr(&why),
                text(&why)
            );
        }
        Verdict::Warn | Verdict::Pass => {
            let _ = writeln!(verdict, "      <system-out>{}</system-out>", text(&summary));
        }
    }
    verdict.push_str("    </testcase>\n");
    cases.push(verdict);
    (cases, failures, errors)
}

pub fn write_junit<W: Write>(out: &mut W, name: &str, suites: &[Suite<'_>]) -> io::Result<()> {
    let mut body = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for s in suites {
        let (cases, f, e) = testcases(s);
        tests += cases.len();
        failures += f;
        errors += e;
        let time = s
            .time
            .map(|d| format!(" time=\"{}\"", seconds(d)))
            .unwrap_or_default();
        let _ = writeln!(
            body,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\"{time}>",
            attr(&s.name),
            cases.len()
        );
        if !s.base.is_empty() || !s.head.is_empty() {
            let _ = writeln!(
                body,
                "    <properties>\n      <property name=\"base\" value=\"{}\"/>\n      <property name=\"head\" value=\"{}\"/>\n      <property name=\"verdict\" value=\"{}\"/>\n    </properties>",
                attr(s.base),
                attr(s.head),
                s.verdict
            );
        }
        for c in cases {
            body.push_str(&c);
        }
        body.push_str("  </testsuite>\n");
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
        attr(name)
    )?;
    out.write_all(body.as_bytes())?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_forbidden_characters_are_text() {
        assert_eq!(
            escape("<a href='x'>&]]>\u{1b}\u{0}\t\n", false),
            "&lt;a href=&apos;x&apos;&gt;&amp;]]&gt;\\u{1b}\\u{0}\t\n"
        );
        assert_eq!(escape("a\"\n\tb", true), "a&quot;&#10;&#9;b");
    }

    #[test]
    fn block_fails_warn_passes_with_output_and_pass_is_not_empty() {
        let d = crate::diff::diff(
            &crate::diff::tests::snapshot(vec![crate::diff::tests::function(
                "f",
                "BEGIN RETURN 1; END",
            )]),
            &crate::diff::tests::snapshot(vec![crate::diff::tests::function(
                "f",
                "BEGIN RETURN 2; END",
            )]),
        );
        let r = GateReport::evaluate(&d, &crate::gate::Policy::default(), "a", "b");
        let mut out = Vec::new();
        write_junit(&mut out, "driftgate gate", &[Suite::of_gate(&r)]).unwrap();
        let x = String::from_utf8(out).unwrap();
        assert!(x.contains("tests=\"2\" failures=\"2\" errors=\"0\""), "{x}");
        assert!(x.contains("<failure type=\"catalog-change\""), "{x}");

        let same = crate::diff::diff(
            &crate::diff::tests::snapshot(vec![]),
            &crate::diff::tests::snapshot(vec![]),
        );
        let r = GateReport::evaluate(&same, &crate::gate::Policy::default(), "a", "b");
        let mut out = Vec::new();
        write_junit(&mut out, "driftgate gate", &[Suite::of_gate(&r)]).unwrap();
        let x = String::from_utf8(out).unwrap();
        assert!(x.contains("tests=\"1\" failures=\"0\" errors=\"0\""), "{x}");
        assert!(x.contains("gate_drift PASS"), "{x}");
    }

    #[test]
    fn fail_closed_is_an_error_and_a_failed_verdict() {
        let r = GateReport::fail_closed("a", "b", "head", "cannot connect");
        let mut out = Vec::new();
        write_junit(&mut out, "driftgate gate", &[Suite::of_gate(&r)]).unwrap();
        let x = String::from_utf8(out).unwrap();
        assert!(x.contains("failures=\"1\" errors=\"1\""), "{x}");
        assert!(x.contains("<error type=\"fail-closed\""), "{x}");
    }
}
