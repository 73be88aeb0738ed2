//! `driftgate check`, the nightly job: the config ([`config`], found by [`discover`]), the
//! pipeline that reads, stores, compares and gates every target behind injected capture,
//! store and progress ([`pipeline`], spinners in [`progress`]), what became of each target
//! ([`TargetOutcome`]) and the aggregate verdict and exit code ([`CheckRun`]). The forms
//! people read it in are `render::check` and `render::prometheus`; notifications go
//! through `notify`. A run split over runners takes its part from [`shard`], and
//! [`merge`] joins the parts of one run again.
//!
//! Fail-closed: a target that could not be read, or has nothing to be compared with, is
//! BLOCK with the reason, and makes the run exit 2.

pub mod config;
pub mod discover;
pub mod merge;
pub mod pages;
pub mod pipeline;
pub mod progress;
pub mod shard;

use crate::exit;
use crate::gate::{Finding, GateReport, GateSummary, Verdict};
use crate::model::ContentHash;
use crate::store::refs::RefLogEntry;
use std::collections::BTreeMap;
use std::time::Duration;

pub const CHECK_FORMAT: &str = "driftgate.check/v1";

/// Reflog messages of `<name>/latest` start with this when the target was compared with its
/// baseline; the last such entry is the target's last success.
pub const CHECKED_MESSAGE_PREFIX: &str = "check: gate_drift ";

/// What became of one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetOutcome {
    pub name: String,
    pub verdict: Verdict,
    /// The snapshot taken now, when one was taken and stored.
    pub snapshot: Option<ContentHash>,
    /// The baseline ref and the snapshot it named, when it exists.
    pub baseline_ref: String,
    pub baseline: Option<ContentHash>,
    /// `user@host:port/db` (never a password), when known.
    pub source: Option<String>,
    pub summary: GateSummary,
    /// Findings that weigh (warn/block) per kind; `error` when the target failed closed.
    pub dims: BTreeMap<String, usize>,
    pub findings: Vec<Finding>,
    /// Why the target could not be checked (then `verdict` is BLOCK).
    pub error: Option<String>,
    /// Connecting and reading the catalog.
    pub duration: Duration,
    /// Unix time of the last check that compared this target with its baseline (now, when
    /// this one did).
    pub last_success: Option<i64>,
}

/// A snapshot taken and stored for a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub snapshot: ContentHash,
    /// `user@host:port/db`, never a password.
    pub source: String,
    /// Connecting and reading the catalog.
    pub duration: Duration,
}

impl TargetOutcome {
    /// The target was read and compared with its baseline (at unix time `now`).
    pub fn compared(
        name: &str,
        baseline_ref: &str,
        baseline: ContentHash,
        reading: Reading,
        gate: GateReport,
        now: i64,
    ) -> TargetOutcome {
        TargetOutcome {
            name: name.to_string(),
            verdict: gate.verdict,
            snapshot: Some(reading.snapshot),
            baseline_ref: baseline_ref.to_string(),
            baseline: Some(baseline),
            source: Some(reading.source),
            summary: gate.summary,
            dims: gate.dims,
            findings: gate.findings,
            error: None,
            duration: reading.duration,
            last_success: Some(now),
        }
    }

    /// What was read before the check failed (e.g. the snapshot of a target with no baseline).
    pub fn with_reading(mut self, reading: Reading) -> TargetOutcome {
        self.snapshot = Some(reading.snapshot);
        self.source = Some(reading.source);
        self.duration = reading.duration;
        self
    }

    pub fn with_duration(mut self, duration: Duration) -> TargetOutcome {
        self.duration = duration;
        self
    }

    /// The last success of a target that failed now (from its history).
    pub fn with_last_success(mut self, last_success: Option<i64>) -> TargetOutcome {
        self.last_success = last_success;
        self
    }

    /// The target could not be checked: BLOCK with the reason. The finding is the gate's
    /// fail-closed one (keyed by `what` could not be read: `live`, `baseline`, `store`), so
    /// it reads the same as `driftgate gate`'s.
    pub fn failed(name: &str, baseline_ref: &str, what: &str, reason: &str) -> TargetOutcome {
        let gate = GateReport::fail_closed(baseline_ref, "live", what, reason);
        TargetOutcome {
            name: name.to_string(),
            verdict: Verdict::Block,
            snapshot: None,
            baseline_ref: baseline_ref.to_string(),
            baseline: None,
            source: None,
            summary: gate.summary,
            dims: gate.dims,
            findings: gate.findings,
            error: Some(reason.to_string()),
            duration: Duration::ZERO,
            last_success: None,
        }
    }

    /// The target was read, but its baseline ref does not exist yet.
    pub fn no_baseline(name: &str, baseline_ref: &str) -> TargetOutcome {
        TargetOutcome::failed(
            name,
            baseline_ref,
            "baseline",
            &no_baseline_reason(name, baseline_ref),
        )
    }

    pub fn checked(&self) -> bool {
        self.error.is_none()
    }

    /// "1 removed, 2 changed", or "none".
    pub fn changes_text(&self) -> String {
        if !self.checked() {
            return String::new();
        }
        let s = &self.summary;
        let parts: Vec<String> = [
            (s.added, "added"),
            (s.removed, "removed"),
            (s.changed, "changed"),
            (s.whitespace_only, "whitespace-only"),
            (s.count, "count"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What a target without a baseline says: that, and the command that fixes it.
pub fn no_baseline_reason(name: &str, baseline_ref: &str) -> String {
    format!(
        "no baseline: ref {baseline_ref:?} does not exist, so there is nothing to compare with. \
         Accept the current state with `driftgate baseline accept {name}` (or `driftgate \
         baseline accept {name} {}` for the snapshot just taken)",
        config::latest_ref(name)
    )
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct CheckRun {
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The config file, as given or found.
    pub config: String,
    /// `--fail-on warn`.
    pub fail_on_warn: bool,
    /// In config order.
    pub targets: Vec<TargetOutcome>,
    /// Why the run could not check anything (unreadable config, no targets, no store).
    pub error: Option<String>,
    /// A shard of a sharded run, or the merge of one (`None`: a whole run).
    pub sharding: Option<Sharding>,
}

/// What ties a shard's report to its night and its config, or what a merge found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sharding {
    pub run_id: String,
    /// [`shard::targets_hash`] of the config the shard (or the merge) read.
    pub targets_hash: String,
    pub part: ShardPart,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardPart {
    /// One runner's shard.
    One(shard::Shard),
    /// `check merge` of the shards of one run.
    Merged {
        count: u64,
        /// The shards whose reports were merged, by index.
        reported: Vec<u64>,
        /// What makes the merge fail closed beyond its targets (a shard that reported
        /// nothing, a target reported twice): each is BLOCK, exit 2.
        problems: Vec<String>,
    },
}

impl Sharding {
    pub fn problems(&self) -> &[String] {
        match &self.part {
            ShardPart::One(_) => &[],
            ShardPart::Merged { problems, .. } => problems,
        }
    }
}

/// How many targets ended how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub pass: usize,
    pub warn: usize,
    pub block: usize,
    /// Targets that could not be checked (also counted in `block`).
    pub unchecked: usize,
}

impl CheckRun {
    /// A run that could not check anything: BLOCK, exit 2.
    pub fn failed(
        started_at: String,
        config: String,
        fail_on_warn: bool,
        error: String,
    ) -> CheckRun {
        CheckRun {
            started_at,
            config,
            fail_on_warn,
            targets: Vec::new(),
            error: Some(error),
            sharding: None,
        }
    }

    /// Run-level reasons to fail closed besides `error` (a merge's missing shards).
    pub fn problems(&self) -> &[String] {
        self.sharding.as_ref().map_or(&[], |s| s.problems())
    }

    /// The worst verdict; BLOCK when the run itself failed.
    pub fn verdict(&self) -> Verdict {
        if self.error.is_some() || !self.problems().is_empty() {
            return Verdict::Block;
        }
        self.targets
            .iter()
            .map(|t| t.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for o in &self.targets {
            match o.verdict {
                Verdict::Pass => t.pass += 1,
                Verdict::Warn => t.warn += 1,
                Verdict::Block => t.block += 1,
            }
            if !o.checked() {
                t.unchecked += 1;
            }
        }
        t
    }

    /// 2 if any target could not be checked, else 1 on any BLOCK (or WARN with
    /// `--fail-on warn`), else 0.
    pub fn exit_code(&self) -> u8 {
        let t = self.tally();
        if t.unchecked > 0 || self.error.is_some() || !self.problems().is_empty() {
            exit::ERROR
        } else if t.block > 0 || (self.fail_on_warn && t.warn > 0) {
            exit::DRIFT
        } else {
            exit::OK
        }
    }

    /// "3 targets: 1 PASS, 0 WARN, 2 BLOCK (1 could not be checked)".
    pub fn tally_text(&self) -> String {
        let t = self.tally();
        let n = self.targets.len();
        let mut s = format!(
            "{n} target{}: {} PASS, {} WARN, {} BLOCK",
            if n == 1 { "" } else { "s" },
            t.pass,
            t.warn,
            t.block
        );
        if t.unchecked > 0 {
            s.push_str(&format!(" ({} could not be checked)", t.unchecked));
        }
        s
    }
}

/// The time of the last entry of a `<name>/latest` history that compared the target.
pub fn last_success_from_reflog(entries: &[RefLogEntry]) -> Option<i64> {
    entries
        .iter()
        .rev()
        .filter(|e| e.message.starts_with(CHECKED_MESSAGE_PREFIX))
        .find_map(|e| crate::unix_time(&e.time))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diff::tests::{function, snapshot};
    use crate::gate::Policy;

    pub fn id(n: u8) -> ContentHash {
        ContentHash([n; 32])
    }

    /// A compared target whose function `f` went from `before` to `after`.
    pub fn compared(name: &str, before: &str, after: &str, policy: &Policy) -> TargetOutcome {
        let d = crate::diff::diff(
            &snapshot(vec![function("f", before)]),
            &snapshot(vec![function("f", after)]),
        );
        let gate = GateReport::evaluate(&d, policy, "base", "head");
        TargetOutcome::compared(
            name,
            &config::default_baseline_ref(name),
            id(2),
            Reading {
                snapshot: id(1),
                source: "ro@db:5432/app".into(),
                duration: Duration::from_millis(1500),
            },
            gate,
            1_700_000_000,
        )
    }

    pub fn warn_policy() -> Policy {
        Policy::parse(
            "[[rules]]\nkind = \"function\"\nseverity = \"warn\"\n",
            "p.toml",
        )
        .unwrap()
    }

    pub fn run(targets: Vec<TargetOutcome>, fail_on_warn: bool) -> CheckRun {
        CheckRun {
            started_at: "2026-06-03T02:00:00.000Z".into(),
            config: "driftgate.toml".into(),
            fail_on_warn,
            targets,
            error: None,
            sharding: None,
        }
    }

    const SAME: &str = "BEGIN RETURN 1; END";
    const OTHER: &str = "BEGIN RETURN 2; END";

    #[test]
    fn exit_codes_aggregate_errors_over_blocks_over_warnings() {
        let p = Policy::default();
        let pass = || compared("a", SAME, SAME, &p);
        let block = || compared("b", SAME, OTHER, &p);
        let warn = || compared("w", SAME, OTHER, &warn_policy());
        let down = || TargetOutcome::failed("d", "d/baseline", "live", "cannot connect");
        assert_eq!(pass().verdict, Verdict::Pass);
        assert_eq!(block().verdict, Verdict::Block);
        assert_eq!(warn().verdict, Verdict::Warn);

        assert_eq!(run(vec![], false).exit_code(), exit::OK);
        assert_eq!(run(vec![pass()], false).exit_code(), exit::OK);
        assert_eq!(run(vec![pass(), warn()], false).exit_code(), exit::OK);
        assert_eq!(run(vec![pass(), warn()], true).exit_code(), exit::DRIFT);
        assert_eq!(run(vec![pass(), block()], false).exit_code(), exit::DRIFT);
        assert_eq!(
            run(vec![pass(), block(), down()], false).exit_code(),
            exit::ERROR
        );
        assert_eq!(run(vec![down()], true).exit_code(), exit::ERROR);
        let no_base = TargetOutcome::no_baseline("n", "n/baseline");
        assert_eq!(run(vec![pass(), no_base], false).exit_code(), exit::ERROR);
        let broken = CheckRun::failed("t".into(), "c".into(), false, "bad config".into());
        assert_eq!(
            (broken.exit_code(), broken.verdict()),
            (exit::ERROR, Verdict::Block)
        );

        let r = run(vec![pass(), warn(), block(), down()], false);
        assert_eq!(r.verdict(), Verdict::Block);
        assert_eq!(
            r.tally(),
            Tally {
                pass: 1,
                warn: 1,
                block: 2,
                unchecked: 1
            }
        );
        assert_eq!(
            r.tally_text(),
            "4 targets: 1 PASS, 1 WARN, 2 BLOCK (1 could not be checked)"
        );
    }

    #[test]
    fn a_failed_target_is_block_with_the_reason() {
        let o = TargetOutcome::failed("d", "d/baseline", "live", "cannot connect to x");
        assert_eq!(o.verdict, Verdict::Block);
        assert!(!o.checked());
        assert_eq!(o.error.as_deref(), Some("cannot connect to x"));
        assert_eq!(o.findings[0].rule, crate::gate::RULE_FAIL_CLOSED);
        assert_eq!(o.findings[0].key, "live");
        assert_eq!(o.findings[0].detail.as_deref(), Some("cannot connect to x"));
        assert_eq!(o.changes_text(), "");

        let n = TargetOutcome::no_baseline("prod", "prod/baseline");
        let e = n.error.unwrap();
        assert!(
            e.contains("no baseline") && e.contains("`driftgate baseline accept prod`"),
            "{e}"
        );
    }

    #[test]
    fn changes_text_lists_what_moved() {
        let p = Policy::default();
        assert_eq!(compared("a", SAME, SAME, &p).changes_text(), "none");
        assert_eq!(compared("a", SAME, OTHER, &p).changes_text(), "1 changed");
    }

    #[test]
    fn last_success_is_the_last_compared_entry() {
        let entry = |time: &str, message: &str| RefLogEntry {
            old: None,
            new: id(1),
            time: time.into(),
            message: message.into(),
        };
        let log = vec![
            entry(
                "2026-06-01T02:00:00.000Z",
                "check: gate_drift PASS against 0101",
            ),
            entry(
                "2026-06-02T02:00:00Z",
                "check: gate_drift BLOCK against 0101",
            ),
            entry("2026-06-03T02:00:00.000Z", "check: no baseline"),
        ];
        assert_eq!(last_success_from_reflog(&log), Some(1_780_365_600));
        assert_eq!(
            crate::unix_time("2026-06-02T02:00:00.000Z"),
            Some(1_780_365_600)
        );
        assert_eq!(last_success_from_reflog(&log[2..]), None);
    }
}
