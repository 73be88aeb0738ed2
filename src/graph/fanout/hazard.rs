//! What the walk warns about: ordering hazards among the triggers of one table state
//! (with the WHEN-clause reads they depend on), cycles and routines that could not be
//! analysed.

use super::analyses::Analyses;
use crate::graph::firing::{Event, FiringEntry, FiringPhase};
use crate::graph::index::SnapshotIndex;
use crate::graph::sqlfacts::SqlFacts;
use crate::model::{ObjectKey, ObjectKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hazard {
    /// A BEFORE ROW trigger reads `NEW.column`, which a trigger firing after it for the same
    /// event assigns: the reader sees the value before it is set (the seeds' permit gate
    /// reading `NEW.code` before `trg_auto_code_dot_tools` generates it).
    ReadBeforeAssigned {
        table: String,
        event: Event,
        column: String,
        reader: String,
        reader_order: usize,
        writer: String,
        writer_order: usize,
    },
    /// One routine fired by several triggers for the same event on the same table.
    RoutineFiredTwice {
        table: String,
        event: Event,
        function: String,
        triggers: Vec<String>,
        /// Each trigger's arguments, in the same order.
        arguments: Vec<Vec<String>>,
    },
}

impl Hazard {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Hazard::ReadBeforeAssigned {
                table,
                event,
                column,
                reader,
                reader_order,
                writer,
                writer_order,
            } => format!(
                "{reader} (#{reader_order}) reads NEW.{column} before {writer} (#{writer_order}) assigns it \
                 ({} {table}): rename so the reader sorts after the writer",
                event.label()
            ),
            Hazard::RoutineFiredTwice {
                table,
                event,
                function,
                triggers,
                arguments,
            } => {
                let list: Vec<String> = triggers
                    .iter()
                    .zip(arguments)
                    .map(|(t, a)| {
                        if a.is_empty() {
                            t.clone()
                        } else {
                            format!("{t}({})", a.iter().map(|x| format!("'{x}'")).collect::<Vec<_>>().join(", "))
                        }
                    })
                    .collect();
                format!(
                    "{function} fires {} times per {} on {table}: {}",
                    triggers.len(),
                    event.label(),
                    list.join(", ")
                )
            }
        }
    }
}

/// A loop in the fan-out: the same table state (or routine, for calls) reached again while
/// it is still being expanded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Cycle {
    /// `trigger` (through tables and events) or `call` (routines calling each other).
    pub kind: &'static str,
    /// The steps, first and last the same: `public.t INSERT`, `trg_x`, `public.f()`, ….
    pub path: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unanalysable {
    pub function: String,
    pub problem: String,
}

/// Finds ordering hazards among the triggers that fire on one table state; caches the
/// parsed WHEN clauses.
#[derive(Default)]
pub(crate) struct HazardFinder {
    when_reads: HashMap<String, BTreeSet<String>>,
}

impl HazardFinder {
    pub fn hazards(
        &mut self,
        index: &SnapshotIndex<'_>,
        analyses: &mut Analyses,
        table: &str,
        event: Event,
        firing: &[&FiringEntry],
    ) -> Vec<Hazard> {
        let mut out = Vec::new();
        // One routine fired twice for the same event.
        let mut by_function: BTreeMap<&str, Vec<&FiringEntry>> = BTreeMap::new();
        // A moved row's DELETE and INSERT entries stand for every partition it may leave or
        // enter, and one row leaves one and enters one: counting them would report a
        // routine "fired 4 times" that fires at most twice.
        for e in firing.iter().filter(|e| e.fires_as.is_none()) {
            by_function.entry(e.function.as_str()).or_default().push(e);
        }
        for (function, entries) in by_function {
            if entries.len() > 1 {
                out.push(Hazard::RoutineFiredTwice {
                    table: table.to_string(),
                    event,
                    function: function.to_string(),
                    triggers: entries.iter().map(|e| e.trigger.clone()).collect(),
                    arguments: entries.iter().map(|e| e.arguments.clone()).collect(),
                });
            }
        }
        // A BEFORE ROW trigger reading NEW.col that a later BEFORE ROW trigger assigns.
        let before: Vec<(&FiringEntry, BTreeSet<String>, BTreeSet<String>)> = firing
            .iter()
            .filter(|e| e.phase == FiringPhase::BeforeRow)
            .map(|e| {
                let key = ObjectKey::new(ObjectKind::Function, &e.function);
                let facts = analyses.get(index, &key);
                let mut reads = facts
                    .as_ref()
                    .map(|f| f.new_read.clone())
                    .unwrap_or_default();
                if let Some(when) = &e.when {
                    reads.extend(self.when_reads(when));
                }
                let assigns = facts
                    .as_ref()
                    .map(|f| f.new_assigned.clone())
                    .unwrap_or_default();
                (*e, reads, assigns)
            })
            .collect();
        for (i, (reader, reads, _)) in before.iter().enumerate() {
            for (writer, _, assigns) in &before[i + 1..] {
                let columns: BTreeSet<&String> = if reads.contains("*") {
                    assigns.iter().collect()
                } else if assigns.contains("*") {
                    reads.iter().collect()
                } else {
                    reads.intersection(assigns).collect()
                };
                for column in columns {
                    out.push(Hazard::ReadBeforeAssigned {
                        table: table.to_string(),
                        event,
                        column: column.clone(),
                        reader: reader.trigger.clone(),
                        reader_order: reader.order,
                        writer: writer.trigger.clone(),
                        writer_order: writer.order,
                    });
                }
            }
        }
        out
    }

    /// `NEW` fields a WHEN condition reads (a BEFORE trigger's WHEN sees earlier triggers'
    /// assignments too).
    fn when_reads(&mut self, when: &str) -> BTreeSet<String> {
        if let Some(r) = self.when_reads.get(when) {
            return r.clone();
        }
        let mut facts = SqlFacts::default();
        if let Ok(parsed) = pg_query::parse(&format!("SELECT {when}")) {
            facts.add_parse_result(&parsed.protobuf);
        }
        self.when_reads
            .insert(when.to_string(), facts.new_reads.clone());
        facts.new_reads
    }
}
