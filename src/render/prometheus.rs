//! A check run in the Prometheus text exposition format, for node-exporter's textfile
//! collector (`--collector.textfile.directory`): every metric with HELP and TYPE lines, one
//! series per target, label values escaped.
//!
//! Alert on `driftgate_gate_verdict == 2`, and on
//! `time() - driftgate_last_success_timestamp_seconds > 2 * 86400` for a nightly job that
//! stopped comparing (a target down, a cron line gone).

use crate::check::CheckRun;
use crate::gate::Verdict;
use std::io::{self, Write};

/// A label value as the exposition format wants it: `\`, `"` and newlines escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn verdict_value(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Warn => 1,
        Verdict::Block => 2,
    }
}

pub fn write_prometheus<W: Write>(out: &mut W, run: &CheckRun) -> io::Result<()> {
    let header = |out: &mut W, name: &str, help: &str| -> io::Result<()> {
        writeln!(out, "# HELP {name} {help}")?;
        writeln!(out, "# TYPE {name} gauge")
    };
    let target = |name: &str| format!("target=\"{}\"", escape_label(name));

    header(
        out,
        "driftgate_gate_verdict",
        "gate_drift verdict of the last check against the accepted baseline: 0 PASS, 1 WARN, 2 BLOCK (a target that could not be checked is BLOCK).",
    )?;
    for t in &run.targets {
        writeln!(
            out,
            "driftgate_gate_verdict{{{}}} {}",
            target(&t.name),
            verdict_value(t.verdict)
        )?;
    }

    header(
        out,
        "driftgate_target_up",
        "1 if the last check read the target and compared it with its baseline, 0 if it could not.",
    )?;
    for t in &run.targets {
        writeln!(
            out,
            "driftgate_target_up{{{}}} {}",
            target(&t.name),
            u8::from(t.checked())
        )?;
    }

    header(
        out,
        "driftgate_changes",
        "Changes against the baseline that weigh in the verdict (warn or block), by object kind (count: row counts).",
    )?;
    for t in run.targets.iter().filter(|t| t.checked()) {
        for (kind, n) in &t.dims {
            writeln!(
                out,
                "driftgate_changes{{{},kind=\"{}\"}} {n}",
                target(&t.name),
                escape_label(kind)
            )?;
        }
    }

    header(
        out,
        "driftgate_snapshot_duration_seconds",
        "Seconds spent connecting to the target and reading its catalog in the last check.",
    )?;
    for t in &run.targets {
        writeln!(
            out,
            "driftgate_snapshot_duration_seconds{{{}}} {:.3}",
            target(&t.name),
            t.duration.as_secs_f64()
        )?;
    }

    if let Some(crate::check::Sharding {
        part: crate::check::ShardPart::Merged { problems, .. },
        ..
    }) = &run.sharding
    {
        header(
            out,
            "driftgate_merge_problems",
            "Reasons the merge of a sharded check failed closed besides its targets (a shard that reported nothing, a target reported twice): BLOCK when above 0.",
        )?;
        writeln!(out, "driftgate_merge_problems {}", problems.len())?;
    }

    header(
        out,
        "driftgate_last_success_timestamp_seconds",
        "Unix time of the last check that read the target and compared it with its baseline (0: never).",
    )?;
    for t in &run.targets {
        writeln!(
            out,
            "driftgate_last_success_timestamp_seconds{{{}}} {}",
            target(&t.name),
            t.last_success.unwrap_or(0)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{compared, run};
    use crate::check::TargetOutcome;
    use crate::gate::Policy;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("plain-name_1"), "plain-name_1");
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }

    #[test]
    fn every_metric_has_help_type_and_a_line_per_target() {
        let p = Policy::default();
        let r = run(
            vec![
                compared("clean", "BEGIN RETURN 1; END", "BEGIN RETURN 1; END", &p),
                compared("drifted", "BEGIN RETURN 1; END", "BEGIN RETURN 2; END", &p),
                TargetOutcome::failed("down", "down/baseline", "live", "refused")
                    .with_duration(std::time::Duration::from_millis(2500))
                    .with_last_success(Some(1_600_000_000)),
                TargetOutcome::failed("new", "new/baseline", "live", "refused"),
            ],
            false,
        );
        let mut out = Vec::new();
        write_prometheus(&mut out, &r).unwrap();
        let text = String::from_utf8(out).unwrap();
        for metric in [
            "driftgate_gate_verdict",
            "driftgate_target_up",
            "driftgate_changes",
            "driftgate_snapshot_duration_seconds",
            "driftgate_last_success_timestamp_seconds",
        ] {
            assert!(
                text.contains(&format!("# HELP {metric} ")),
                "{metric}: {text}"
            );
            assert!(
                text.contains(&format!("# TYPE {metric} gauge\n")),
                "{metric}: {text}"
            );
        }
        for line in [
            "driftgate_gate_verdict{target=\"clean\"} 0",
            "driftgate_gate_verdict{target=\"drifted\"} 2",
            "driftgate_gate_verdict{target=\"down\"} 2",
            "driftgate_target_up{target=\"clean\"} 1",
            "driftgate_target_up{target=\"down\"} 0",
            "driftgate_changes{target=\"drifted\",kind=\"function\"} 1",
            "driftgate_snapshot_duration_seconds{target=\"clean\"} 1.500",
            "driftgate_snapshot_duration_seconds{target=\"down\"} 2.500",
            "driftgate_last_success_timestamp_seconds{target=\"clean\"} 1700000000",
            "driftgate_last_success_timestamp_seconds{target=\"down\"} 1600000000",
            "driftgate_last_success_timestamp_seconds{target=\"new\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        assert!(
            !text.contains("kind=\"error\""),
            "a failed target is not a change: {text}"
        );
        assert!(
            !text.contains("driftgate_changes{target=\"clean\""),
            "{text}"
        );
        // Every sample line parses as name{labels} value.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = l.rsplit_once(' ').unwrap();
            assert!(series.ends_with('}'), "{l}");
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }
}
