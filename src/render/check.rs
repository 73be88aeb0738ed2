//! The forms a check run is read in: the terminal summary (one row per target), the
//! `driftgate.check/v1` JSON report, Markdown for `$GITHUB_STEP_SUMMARY` or a PR comment,
//! GitHub Actions annotations, the Prometheus textfile ([`super::prometheus`]), and the text
//! of a desktop notification. Each writes to an injected `io::Write` or returns a value;
//! none touches a file.

use super::format::{Format, Report, Style};
use super::gate::what_changed;
use super::markdown::{code, table_cell, text};
use super::table::{self, cell};
use crate::check::{CheckRun, ShardPart, Sharding, TargetOutcome, CHECK_FORMAT};
use crate::gate::{Finding, Severity, Verdict};
use serde::Serialize;
use std::io::{self, Write};

/// Findings listed per target in the terminal and Markdown, so a catalog rebuilt overnight
/// does not bury the table (the JSON report has every one).
const FINDINGS_SHOWN: usize = 25;

#[derive(Serialize)]
struct JsonReport<'a> {
    format: &'static str,
    started_at: &'a str,
    config: &'a str,
    verdict: Verdict,
    exit_code: u8,
    targets: Vec<JsonTarget<'a>>,
    /// Why the run could not check anything, else null.
    error: Option<&'a str>,
    /// A sharded run's identity (absent from a whole run's report).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    sharding: Option<JsonSharding<'a>>,
}

/// `run_id`, `targets_hash`, and `shard: {index, count}` (a shard) or `merged: {count,
/// shards, problems}` (`check merge`).
#[derive(Serialize)]
struct JsonSharding<'a> {
    run_id: &'a str,
    targets_hash: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<crate::check::shard::Shard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged: Option<JsonMerged<'a>>,
}

#[derive(Serialize)]
struct JsonMerged<'a> {
    count: u64,
    shards: &'a [u64],
    problems: &'a [String],
}

fn json_sharding(s: &Sharding) -> JsonSharding<'_> {
    let (shard, merged) = match &s.part {
        ShardPart::One(shard) => (Some(*shard), None),
        ShardPart::Merged {
            count,
            reported,
            problems,
        } => (
            None,
            Some(JsonMerged {
                count: *count,
                shards: reported,
                problems,
            }),
        ),
    };
    JsonSharding {
        run_id: &s.run_id,
        targets_hash: &s.targets_hash,
        shard,
        merged,
    }
}

#[derive(Serialize)]
struct JsonTarget<'a> {
    name: &'a str,
    verdict: Verdict,
    /// The snapshot taken now (null when none could be taken).
    snapshot: Option<String>,
    /// The baseline snapshot (null when there is none).
    baseline: Option<String>,
    baseline_ref: &'a str,
    source: Option<&'a str>,
    summary: &'a crate::gate::GateSummary,
    dims: &'a std::collections::BTreeMap<String, usize>,
    findings: &'a [Finding],
    /// Why the target could not be checked, else null.
    error: Option<&'a str>,
    snapshot_duration_seconds: f64,
    /// Unix time of the last check that compared the target with its baseline, else null.
    last_success: Option<i64>,
}

/// The `driftgate.check/v1` report.
pub fn write_json<W: Write>(out: &mut W, run: &CheckRun) -> io::Result<()> {
    let report = JsonReport {
        format: CHECK_FORMAT,
        started_at: &run.started_at,
        config: &run.config,
        verdict: run.verdict(),
        exit_code: run.exit_code(),
        targets: run
            .targets
            .iter()
            .map(|t| JsonTarget {
                name: &t.name,
                verdict: t.verdict,
                snapshot: t.snapshot.map(|h| h.to_hex()),
                baseline: t.baseline.map(|h| h.to_hex()),
                baseline_ref: &t.baseline_ref,
                source: t.source.as_deref(),
                summary: &t.summary,
                dims: &t.dims,
                findings: &t.findings,
                error: t.error.as_deref(),
                snapshot_duration_seconds: millis(t.duration),
                last_success: t.last_success,
            })
            .collect(),
        error: run.error.as_deref(),
        sharding: run.sharding.as_ref().map(json_sharding),
    };
    crate::render::write_json(out, &report)
}

fn millis(d: std::time::Duration) -> f64 {
    // Whole milliseconds, so the number prints the same way every time.
    d.as_millis() as f64 / 1000.0
}

/// The first finding that weighs, and how many more: the DETAIL of a drifted row.
fn detail(t: &TargetOutcome) -> String {
    if let Some(e) = &t.error {
        return format!("could not be checked: {e}");
    }
    match weighing(t).split_first() {
        None => String::new(),
        Some((first, [])) => format!("{} {}", first.change, first.key),
        Some((first, rest)) => format!("{} {} (+{} more)", first.change, first.key, rest.len()),
    }
}

/// [`detail`] for a Markdown table cell: the key as code (its `|` escaped: a pipe splits a
/// GFM table cell even inside a code span), an error as escaped text (either may hold a
/// hostile name).
fn detail_markdown(t: &TargetOutcome) -> String {
    if t.error.is_some() {
        return text(&detail(t));
    }
    match weighing(t).split_first() {
        None => String::new(),
        Some((first, [])) => format!("{} {}", first.change, table_cell(&code(&first.key))),
        Some((first, rest)) => format!(
            "{} {} (+{} more)",
            first.change,
            table_cell(&code(&first.key)),
            rest.len()
        ),
    }
}

fn short(h: Option<crate::model::ContentHash>) -> String {
    h.map(|h| h.short()).unwrap_or_default()
}

/// ANSI styling of a verdict, when colour is on.
pub fn paint(verdict: Verdict, color: bool) -> String {
    if !color {
        return verdict.to_string();
    }
    let style = match verdict {
        Verdict::Pass => "\x1b[32m",
        Verdict::Warn => "\x1b[33m",
        Verdict::Block => "\x1b[1;31m",
    };
    format!("{style}{verdict}\x1b[0m")
}

/// The terminal summary: one row per target, then the findings of the targets that did not
/// pass, then the tally.
pub fn write_table<W: Write>(out: &mut W, run: &CheckRun, color: bool) -> io::Result<()> {
    let rows = run
        .targets
        .iter()
        .map(|t| {
            vec![
                cell(&t.name),
                paint(t.verdict, color),
                short(t.snapshot),
                short(t.baseline),
                t.changes_text(),
                cell(&detail(t)),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        table::render(
            &["TARGET", "VERDICT", "SNAPSHOT", "BASELINE", "CHANGES", "DETAIL"],
            rows
        )
    )?;
    for t in run.targets.iter().filter(|t| t.checked()) {
        let weighing = weighing(t);
        if weighing.is_empty() {
            continue;
        }
        writeln!(out, "\n{}: {}", cell(&t.name), paint(t.verdict, color))?;
        for f in weighing.iter().take(FINDINGS_SHOWN) {
            let what = what_changed(f);
            writeln!(
                out,
                "  {:<5}  {:<15}  {}{}  [{}]",
                f.severity.as_str(),
                f.change,
                cell(&f.key),
                if what.is_empty() {
                    String::new()
                } else {
                    format!(": {}", cell(&what))
                },
                cell(&f.rule)
            )?;
        }
        if weighing.len() > FINDINGS_SHOWN {
            writeln!(
                out,
                "  … and {} more (see --report)",
                weighing.len() - FINDINGS_SHOWN
            )?;
        }
    }
    for p in run.problems() {
        writeln!(out, "\nBLOCK: {}", cell(p))?;
    }
    writeln!(out, "\n{}{}", run.tally_text(), shard_text(run))
}

/// " (shard 2/3 of run R)" or " (merged 3 of 3 shards of run R)", after the tally.
fn shard_text(run: &CheckRun) -> String {
    let Some(s) = &run.sharding else {
        return String::new();
    };
    match &s.part {
        ShardPart::One(shard) => format!(" (shard {shard} of run {})", cell(&s.run_id)),
        ShardPart::Merged {
            count, reported, ..
        } => format!(
            " (merged {} of {count} shards of run {})",
            reported.len(),
            cell(&s.run_id)
        ),
    }
}

/// The findings of a target that weigh (warn or block), in order.
fn weighing(t: &TargetOutcome) -> Vec<&Finding> {
    t.findings
        .iter()
        .filter(|f| f.severity > Severity::Ignore)
        .collect()
}

fn badge(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ PASS",
        Verdict::Warn => "⚠️ WARN",
        Verdict::Block => "⛔ BLOCK",
    }
}

/// Markdown: a heading with the overall verdict, a table of targets, then the findings of
/// every target that did not pass.
pub fn write_markdown<W: Write>(out: &mut W, run: &CheckRun) -> io::Result<()> {
    writeln!(out, "## driftgate check: {}\n", badge(run.verdict()))?;
    if let Some(e) = &run.error {
        return writeln!(out, "The check could not run: {}", text(e));
    }
    writeln!(out, "{}{}\n", run.tally_text(), text(&shard_text(run)))?;
    for p in run.problems() {
        writeln!(out, "- ⛔ BLOCK: {}\n", text(p))?;
    }
    writeln!(
        out,
        "| Target | Verdict | Snapshot | Baseline | Changes | Detail |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    let opt_code = |s: String| if s.is_empty() { s } else { code(&s) };
    for t in &run.targets {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(&t.name),
            badge(t.verdict),
            opt_code(short(t.snapshot)),
            opt_code(short(t.baseline)),
            table_cell(&t.changes_text()),
            detail_markdown(t),
        )?;
    }
    for t in &run.targets {
        if t.verdict == Verdict::Pass {
            continue;
        }
        writeln!(out, "\n### {}: {}\n", code(&t.name), badge(t.verdict))?;
        if let Some(e) = &t.error {
            writeln!(out, "Could not be checked: {}", text(e))?;
            continue;
        }
        writeln!(out, "| Severity | Change | Key | Fields | Rule |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        let weighing = weighing(t);
        for f in weighing.iter().take(FINDINGS_SHOWN) {
            let fields = what_changed(f);
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                f.severity,
                table_cell(&f.change),
                table_cell(&code(&f.key)),
                text(&fields),
                text(&f.rule)
            )?;
        }
        if weighing.len() > FINDINGS_SHOWN {
            writeln!(
                out,
                "\n… and {} more findings (see the JSON report).",
                weighing.len() - FINDINGS_SHOWN
            )?;
        }
    }
    Ok(())
}

/// GitHub Actions workflow commands: `::error` for a BLOCK, `::warning` for a WARN, one per
/// target, so the run's page says which database drifted.
pub fn github_annotations(run: &CheckRun) -> Vec<String> {
    run.targets
        .iter()
        .filter_map(|t| {
            let level = match t.verdict {
                Verdict::Pass => return None,
                Verdict::Warn => "warning",
                Verdict::Block => "error",
            };
            let title = format!("gate_drift {} on {}", t.verdict, t.name);
            let message = match &t.error {
                Some(_) => detail(t),
                None => {
                    let keys: Vec<String> = t
                        .findings
                        .iter()
                        .filter(|f| f.severity > Severity::Ignore)
                        .take(10)
                        .map(|f| format!("{} {} ({})", f.change, f.key, f.severity))
                        .collect();
                    format!("{}: {}", t.changes_text(), keys.join("; "))
                }
            };
            // Names shown with their control characters escaped first: a CI log renders ESC
            // sequences, and even an escaped newline shows as a new line of the annotation.
            Some(format!(
                "::{level} title={}::{}",
                escape_property(&crate::model::visible(&title)),
                escape_data(&crate::model::visible(&message))
            ))
        })
        .collect()
}

/// Workflow command data: `%`, CR and LF escaped.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command properties: also `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The title and body of a desktop notification; urgent on BLOCK.
pub fn notification(run: &CheckRun) -> crate::notify::Message {
    let t = run.tally();
    let title = match run.verdict() {
        Verdict::Pass => format!("driftgate: all {} targets PASS", run.targets.len()),
        v => format!(
            "driftgate: {v} ({} of {} targets)",
            t.block + t.warn,
            run.targets.len()
        ),
    };
    let mut body: Vec<String> = run
        .targets
        .iter()
        .filter(|t| t.verdict != Verdict::Pass)
        .map(|t| {
            let what = match &t.error {
                Some(_) => detail(t),
                None => t.changes_text(),
            };
            format!("{}: {} — {what}", t.name, t.verdict)
        })
        .collect();
    body.push(run.tally_text());
    crate::notify::Message {
        title,
        body: body.join("\n"),
        urgent: run.verdict() == Verdict::Block,
    }
}

/// What `check --dry-run` would check: the run's shard (if it is one) and its targets.
pub struct DryRun<'a> {
    /// Run id, shard and the config's target-list hash, when this run is a shard.
    pub shard: Option<(&'a str, crate::check::shard::Shard, String)>,
    /// Targets in the whole config.
    pub configured: usize,
    /// The names this run would check.
    pub targets: Vec<&'a str>,
}

impl Report for DryRun<'_> {
    const COMMAND: &'static str = "check --dry-run";
    const FORMATS: &'static [Format] = &[Format::Text];

    fn write_as<W: Write>(&self, _format: Format, _style: Style, out: &mut W) -> io::Result<()> {
        match &self.shard {
            Some((run_id, shard, hash)) => writeln!(
                out,
                "shard {shard} of run {run_id}: {} of {} targets (targets_hash {hash})",
                self.targets.len(),
                self.configured,
            )?,
            None => writeln!(out, "{} targets", self.targets.len())?,
        }
        for name in &self.targets {
            writeln!(out, "{}", crate::model::visible(name))?;
        }
        Ok(())
    }
}

/// `driftgate check`'s run as its outputs are asked for: the terminal summary (with GitHub
/// Actions annotations under it when run there), or one of its report files.
pub struct CheckReport<'a> {
    pub run: &'a CheckRun,
    /// Print `::error`/`::warning` workflow commands after the table (`GITHUB_ACTIONS`).
    pub github_annotations: bool,
}

impl Report for CheckReport<'_> {
    const COMMAND: &'static str = "check";
    const FORMATS: &'static [Format] = &[
        Format::Table,
        Format::Json,
        Format::Markdown,
        Format::Prometheus,
        Format::Junit,
        Format::Sarif,
    ];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Json => write_json(out, self.run),
            Format::Markdown => write_markdown(out, self.run),
            Format::Prometheus => super::prometheus::write_prometheus(out, self.run),
            Format::Junit => super::junit::write_junit(
                out,
                "driftgate check",
                &super::junit::check_suites(self.run),
            ),
            Format::Sarif => super::sarif::write_check_sarif(out, self.run),
            _ => {
                write_table(out, self.run, style.color)?;
                if self.github_annotations {
                    for line in github_annotations(self.run) {
                        writeln!(out, "{line}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{compared, run, warn_policy};
    use crate::check::TargetOutcome;
    use crate::gate::Policy;

    fn sample() -> CheckRun {
        let p = Policy::default();
        run(
            vec![
                compared("clean", "BEGIN RETURN 1; END", "BEGIN RETURN 1; END", &p),
                compared("drifted", "BEGIN RETURN 1; END", "BEGIN RETURN 2; END", &p),
                compared(
                    "warned",
                    "BEGIN RETURN 1; END",
                    "BEGIN RETURN 2; END",
                    &warn_policy(),
                ),
                TargetOutcome::failed(
                    "down",
                    "down/baseline",
                    "live",
                    "cannot connect to u@h:1/d: refused | 100%\nreally",
                ),
            ],
            false,
        )
    }

    fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_has_the_contract_fields_for_every_target() {
        let v: serde_json::Value =
            serde_json::from_str(&text(|o| write_json(o, &sample()))).unwrap();
        assert_eq!(v["format"], "driftgate.check/v1");
        assert_eq!(v["verdict"], "BLOCK");
        assert_eq!(v["exit_code"], 2);
        let targets = v["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 4);
        for t in targets {
            for field in [
                "name", "verdict", "snapshot", "baseline", "summary", "findings", "error",
            ] {
                assert!(t.get(field).is_some(), "{field} missing from {t}");
            }
        }
        assert_eq!(targets[0]["verdict"], "PASS");
        assert!(targets[0]["error"].is_null());
        assert_eq!(targets[0]["snapshot"], crate::check::tests::id(1).to_hex());
        assert_eq!(targets[1]["findings"][0]["key"], "function:public.f()");
        assert_eq!(targets[3]["verdict"], "BLOCK");
        assert!(targets[3]["snapshot"].is_null());
        assert!(targets[3]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect"));
        assert_eq!(targets[0]["snapshot_duration_seconds"], 1.5);
    }

    #[test]
    fn the_table_has_one_row_per_target_and_lists_findings() {
        let t = text(|o| write_table(o, &sample(), false));
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].contains("TARGET") && lines[0].contains("VERDICT"),
            "{t}"
        );
        for (i, (name, verdict)) in [
            ("clean", "PASS"),
            ("drifted", "BLOCK"),
            ("warned", "WARN"),
            ("down", "BLOCK"),
        ]
        .iter()
        .enumerate()
        {
            let row = lines[2 + i];
            assert!(row.contains(name) && row.contains(verdict), "{row}");
        }
        assert!(
            lines[5].contains("could not be checked: cannot connect"),
            "{t}"
        );
        assert!(
            lines[5].contains("\\nreally"),
            "a newline cannot forge a row: {t}"
        );
        assert!(t.contains("drifted: BLOCK\n  block  changed"), "{t}");
        assert!(
            t.trim_end()
                .ends_with("4 targets: 1 PASS, 1 WARN, 2 BLOCK (1 could not be checked)"),
            "{t}"
        );
        assert!(!t.contains('\x1b'));
        let colored = text(|o| write_table(o, &sample(), true));
        assert!(colored.contains("\x1b[1;31mBLOCK\x1b[0m"), "{colored}");
        // The coloured table is aligned like the plain one.
        let width = |s: &str| {
            s.lines()
                .nth(2)
                .unwrap()
                .replace("\x1b[32m", "")
                .replace("\x1b[0m", "")
                .len()
        };
        assert_eq!(width(&colored), width(&t));
    }

    #[test]
    fn markdown_has_the_table_and_escapes_pipes() {
        let m = text(|o| write_markdown(o, &sample()));
        assert!(m.starts_with("## driftgate check: ⛔ BLOCK\n"), "{m}");
        assert!(m.contains("| Target | Verdict | Snapshot | Baseline | Changes | Detail |\n|---|---|---|---|---|---|\n"), "{m}");
        assert!(m.contains("| `clean` | ✅ PASS |"), "{m}");
        assert!(m.contains("### `drifted`: ⛔ BLOCK"), "{m}");
        assert!(
            m.contains("| block | changed | `function:public.f()` |"),
            "{m}"
        );
        assert!(
            m.contains("refused \\| 100%"),
            "a pipe cannot break the table: {m}"
        );
        assert!(
            !m.contains("### `clean`"),
            "passing targets list no findings"
        );
    }

    #[test]
    fn annotations_are_errors_and_warnings_with_escaped_text() {
        let a = github_annotations(&sample());
        assert_eq!(a.len(), 3, "{a:?}");
        assert!(a[0].starts_with("::error title=gate_drift BLOCK on drifted::1 changed: changed function:public.f() (block)"), "{a:?}");
        assert!(
            a[1].starts_with("::warning title=gate_drift WARN on warned::"),
            "{a:?}"
        );
        // A newline in the text is shown as `\n`: even escaped as %0A it would start a new
        // line of the annotation, which a name must not be able to do.
        assert!(a[2].contains("100%25\\nreally"), "{a:?}");
        assert!(!a[2].contains('\n'));
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }

    #[test]
    fn the_notification_names_what_did_not_pass() {
        let crate::notify::Message { title, body, .. } = notification(&sample());
        assert_eq!(title, "driftgate: BLOCK (3 of 4 targets)");
        assert!(body.contains("drifted: BLOCK — 1 changed"), "{body}");
        assert!(
            body.contains("down: BLOCK — could not be checked"),
            "{body}"
        );
        assert!(!body.contains("clean"), "{body}");
    }
}
