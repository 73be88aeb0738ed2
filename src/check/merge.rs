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
