//! `check merge`: the shard reports of one sharded run made into one run, fail-closed.
//! Pure: report bytes and the config in, a [`CheckRun`] (with its problems) or the reason
//! the reports cannot be merged at all out.
//!
//! Refused outright (exit 2, nothing merged): a report that is not a shard report, reports
//! of different run ids, shard counts or target lists, a run id or target list other than
//! the config's. Merged but BLOCK (exit 2): a shard that reported nothing, a shard reported
//! twice, a target reported twice or by the wrong shard, a target of the config no shard
//! reported (named, as a target that could not be checked), a target no config names.

use super::config::CheckConfig;
use super::shard::{targets_hash, Shard};
use super::{CheckRun, ShardPart, Sharding, TargetOutcome, CHECK_FORMAT};
use crate::gate::{Finding, GateSummary, Verdict};
use crate::model::ContentHash;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The fields of a `driftgate.check/v1` shard report that a merge needs.
#[derive(Deserialize)]
struct ShardReport {
    format: String,
    started_at: String,
    targets: Vec<ReportTarget>,
    error: Option<String>,
    run_id: Option<String>,
    targets_hash: Option<String>,
    shard: Option<ShardField>,
}

#[derive(Deserialize)]
struct ShardField {
    index: u64,
    count: u64,
}

#[derive(Deserialize)]
struct ReportTarget {
    name: String,
    verdict: Verdict,
    snapshot: Option<String>,
    baseline: Option<String>,
    baseline_ref: String,
    source: Option<String>,
    summary: GateSummary,
    dims: BTreeMap<String, usize>,
    findings: Vec<Finding>,
    error: Option<String>,
    snapshot_duration_seconds: f64,
    #[serde(default)]
    last_success: Option<i64>,
}

/// One shard report as read, with where it came from (for messages).
pub struct ReportInput {
    pub origin: String,
    pub bytes: Vec<u8>,
}

struct Parsed {
    origin: String,
    report: ShardReport,
    shard: Shard,
    run_id: String,
    hash: String,
}

fn parse(input: &ReportInput) -> Result<Parsed, String> {
    let origin = &input.origin;
    let report: ShardReport = serde_json::from_slice(&input.bytes)
        .map_err(|e| format!("{origin}: not a driftgate check report: {e}"))?;
    if report.format != CHECK_FORMAT {
        return Err(format!(
            "{origin}: format {:?}, expected {CHECK_FORMAT:?}",
            report.format
        ));
    }
    let (Some(run_id), Some(hash), Some(s)) = (
        report.run_id.clone(),
        report.targets_hash.clone(),
        report.shard.as_ref(),
    ) else {
        return Err(format!(
            "{origin}: not a shard report (no run_id, targets_hash and shard): only the \
             reports of `check --shard K/N --run-id ID` can be merged"
        ));
    };
    let shard = Shard::new(s.index, s.count).map_err(|e| format!("{origin}: bad shard: {e}"))?;
    Ok(Parsed {
        origin: origin.clone(),
        report,
        shard,
        run_id,
        hash,
    })
}

fn hash(hex: &Option<String>, origin: &str) -> Result<Option<ContentHash>, String> {
    hex.as_deref()
        .map(|h| ContentHash::from_hex(h).ok_or_else(|| format!("{origin}: bad snapshot id {h:?}")))
        .transpose()
}

/// Merge `inputs` (the shard reports of run `run_id`, when given) against `config`.
pub fn merge(
    inputs: &[ReportInput],
    config: &CheckConfig,
    run_id: Option<&str>,
    fail_on_warn: bool,
) -> Result<CheckRun, String> {
    if inputs.is_empty() {
        return Err(match run_id {
            Some(id) => format!("no shard reports of run {id:?} in the store: no shard reported"),
            None => "no shard reports given".into(),
        });
    }
    let parsed = inputs.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
    let first = &parsed[0];
    for p in &parsed[1..] {
        if p.run_id != first.run_id {
            return Err(format!(
                "reports of different runs: {} is run {:?}, {} is run {:?} (shards of \
                 different nights are never merged)",
                first.origin, first.run_id, p.origin, p.run_id
            ));
        }
        if p.shard.count != first.shard.count {
            return Err(format!(
                "reports of different shard counts: {} is shard {}, {} is shard {}",
                first.origin, first.shard, p.origin, p.shard
            ));
        }
        if p.hash != first.hash {
            return Err(format!(
                "reports of different target lists: {} and {} were checked with different \
                 configs (targets_hash {} vs {})",
                first.origin, p.origin, first.hash, p.hash
            ));
        }
    }
    if let Some(id) = run_id {
        if id != first.run_id {
            return Err(format!(
                "{} is run {:?}, not run {id:?}",
                first.origin, first.run_id
            ));
        }
    }
    let config_hash = targets_hash(config);
    if first.hash != config_hash {
        return Err(format!(
            "the reports were made from another target list than {}'s (targets_hash {} vs \
             {config_hash}): merge against the config the shards ran with",
            config.file.display(),
            first.hash
        ));
    }
    let count = first.shard.count;
    let run_id = first.run_id.clone();

    let mut problems = Vec::new();
    let mut by_shard: BTreeMap<u64, Vec<&Parsed>> = BTreeMap::new();
    for p in &parsed {
        by_shard.entry(p.shard.index).or_default().push(p);
    }
    for k in 1..=count {
        match by_shard.get(&k).map(Vec::len) {
            None => problems.push(format!("shard {k}/{count} reported nothing")),
            Some(1) => {}
            Some(n) => problems.push(format!("shard {k}/{count} reported {n} times")),
        }
    }
    let mut outcomes: BTreeMap<String, TargetOutcome> = BTreeMap::new();
    let mut started_at: Option<String> = None;
    for p in &parsed {
        if started_at.as_ref().is_none_or(|s| p.report.started_at < *s) {
            started_at = Some(p.report.started_at.clone());
        }
        if let Some(e) = &p.report.error {
            problems.push(format!("shard {} could not run: {e}", p.shard));
        }
        for t in &p.report.targets {
            if !p.shard.holds(&t.name) {
                problems.push(format!(
                    "target {:?} was reported by shard {}, which does not hold it",
                    t.name, p.shard
                ));
            }
            if config.target(&t.name).is_none() {
                problems.push(format!(
                    "target {:?} was reported but {} has no such target",
                    t.name,
                    config.file.display()
                ));
            }
            let outcome = TargetOutcome {
                name: t.name.clone(),
                verdict: t.verdict,
                snapshot: hash(&t.snapshot, &p.origin)?,
                baseline_ref: t.baseline_ref.clone(),
                baseline: hash(&t.baseline, &p.origin)?,
                source: t.source.clone(),
                summary: t.summary,
                dims: t.dims.clone(),
                findings: t.findings.clone(),
                error: t.error.clone(),
                duration: Duration::from_millis(
                    (t.snapshot_duration_seconds * 1000.0).round().max(0.0) as u64,
                ),
                last_success: t.last_success,
            };
            if outcomes.insert(t.name.clone(), outcome).is_some() {
                problems.push(format!("target {:?} was reported more than once", t.name));
            }
        }
    }
    // In config order; a target of the config no shard reported is BLOCK, by name.
    let mut targets = Vec::new();
    let mut seen = BTreeSet::new();
    for t in &config.targets {
        seen.insert(t.name.clone());
        targets.push(match outcomes.remove(&t.name) {
            Some(o) => o,
            None => {
                let shard = (1..=count)
                    .map(|k| Shard { index: k, count })
                    .find(|s| s.holds(&t.name))
                    .expect("every name falls in one shard");
                TargetOutcome::failed(
                    &t.name,
                    &t.baseline,
                    "shard",
                    &format!("no shard reported this target (it falls in shard {shard})"),
                )
            }
        });
    }
    // Reported targets the config does not name stay in the report (already a problem).
    targets.extend(outcomes.into_values());
    let reported = by_shard.keys().copied().collect();
    Ok(CheckRun {
        started_at: started_at.unwrap_or_default(),
        config: config.file.display().to_string(),
        fail_on_warn,
        targets,
        error: None,
        sharding: Some(Sharding {
            run_id,
            targets_hash: config_hash,
            part: ShardPart::Merged {
                count,
                reported,
                problems,
            },
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{compared, run};
    use crate::gate::Policy;
    use std::path::Path;

    fn config(names: &[&str]) -> CheckConfig {
        let text: String = names
            .iter()
            .map(|n| format!("[[target]]\nname = \"{n}\"\ndsn_env = \"DSN_{n}\"\n\n"))
            .collect();
        CheckConfig::parse(&text, Path::new("driftgate.toml")).unwrap()
    }

    /// The report shard `k`/`n` of run `run_id` writes, holding `names` (its own or not).
    fn report(config: &CheckConfig, run_id: &str, k: u64, n: u64, names: &[&str]) -> ReportInput {
        let p = Policy::default();
        let mut r = run(
            names
                .iter()
                .map(|name| compared(name, "BEGIN RETURN 1; END", "BEGIN RETURN 1; END", &p))
                .collect(),
            false,
        );
        r.sharding = Some(Sharding {
            run_id: run_id.into(),
            targets_hash: targets_hash(config),
            part: ShardPart::One(Shard::new(k, n).unwrap()),
        });
        let mut bytes = Vec::new();
        crate::render::check::write_json(&mut bytes, &r).unwrap();
        ReportInput {
            origin: format!("shard-{k}.json"),
            bytes,
        }
    }

    /// The names of `all` in shard k of n.
    fn of(all: &[&'static str], k: u64, n: u64) -> Vec<&'static str> {
        let s = Shard::new(k, n).unwrap();
        all.iter().copied().filter(|t| s.holds(t)).collect()
    }

    const NAMES: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h"];

    #[test]
    fn the_shards_of_one_run_merge_into_every_target_once() {
        let c = config(NAMES);
        let inputs: Vec<_> = (1..=3)
            .map(|k| report(&c, "r", k, 3, &of(NAMES, k, 3)))
            .collect();
        let run = merge(&inputs, &c, Some("r"), false).unwrap();
        let names: Vec<&str> = run.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, NAMES, "config order");
        assert!(run.problems().is_empty(), "{:?}", run.problems());
        assert_eq!((run.verdict(), run.exit_code()), (Verdict::Pass, 0));
        // The findings and times come back as they went out.
        assert_eq!(run.targets[0].duration, Duration::from_millis(1500));
        assert_eq!(run.targets[0].last_success, Some(1_700_000_000));
    }

    #[test]
    fn what_cannot_be_one_run_is_refused() {
        let c = config(NAMES);
        let one = |run_id, k, n| report(&c, run_id, k, n, &of(NAMES, k, n));
        let err = |inputs: &[ReportInput], run_id| merge(inputs, &c, run_id, false).unwrap_err();
        assert!(err(&[one("r", 1, 3), one("s", 2, 3)], None).contains("different runs"));
        assert!(err(&[one("r", 1, 3), one("r", 2, 4)], None).contains("different shard counts"));
        assert!(err(&[one("r", 1, 3)], Some("s")).contains("not run \"s\""));
        assert!(err(&[], Some("r")).contains("no shard reported"));
        let other = config(&NAMES[..7]);
        assert!(merge(&[one("r", 1, 3)], &other, None, false)
            .unwrap_err()
            .contains("another target list"));
        let mut mixed = one("r", 2, 3);
        let o = config(&["zz"]);
        mixed.bytes = report(&o, "r", 2, 3, &[]).bytes;
        assert!(err(&[one("r", 1, 3), mixed], None).contains("different target lists"));
        let not_json = ReportInput {
            origin: "x.json".into(),
            bytes: b"{".to_vec(),
        };
        assert!(err(&[not_json], None).contains("x.json: not a driftgate check report"));
    }

    #[test]
    fn a_missing_shard_or_a_target_twice_or_astray_is_block_exit_2() {
        let c = config(NAMES);
        let mine = |k| of(NAMES, k, 3);
        // Shard 2 missing: its targets are named, BLOCK, exit 2.
        let run = merge(
            &[
                report(&c, "r", 1, 3, &mine(1)),
                report(&c, "r", 3, 3, &mine(3)),
            ],
            &c,
            None,
            false,
        )
        .unwrap();
        assert_eq!(run.problems(), ["shard 2/3 reported nothing"]);
        assert_eq!((run.verdict(), run.exit_code()), (Verdict::Block, 2));
        for t in &run.targets {
            let missing = mine(2).contains(&t.name.as_str());
            assert_eq!(!t.checked(), missing, "{}", t.name);
        }
        // A target twice (shard 1 also claims one of shard 3's), and a shard twice.
        let stray = mine(3)[0];
        let mut claims = mine(1);
        claims.push(stray);
        let run = merge(
            &[
                report(&c, "r", 1, 3, &claims),
                report(&c, "r", 2, 3, &mine(2)),
                report(&c, "r", 3, 3, &mine(3)),
                report(&c, "r", 2, 3, &mine(2)),
            ],
            &c,
            None,
            false,
        )
        .unwrap();
        let problems = run.problems().join("\n");
        assert!(
            problems.contains("shard 2/3 reported 2 times"),
            "{problems}"
        );
        assert!(
            problems.contains(&format!(
                "target {stray:?} was reported by shard 1/3, which does not hold it"
            )),
            "{problems}"
        );
        assert!(
            problems.contains("was reported more than once"),
            "{problems}"
        );
        assert_eq!(run.exit_code(), 2);
    }
}
