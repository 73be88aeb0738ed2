//! The whole database ranked by fan-out: for every table with triggers (or that foreign-key
//! actions cascade from), how many triggers, tables and channels an INSERT, UPDATE, DELETE or
//! TRUNCATE on it reaches, and the cycles and hazards on the way.
//!
//! Walking every table's tree separately repeats the same sub-walks once per table, which is
//! quadratic on a large, densely connected catalog. Instead each (table, event, columns)
//! state is expanded once into a compact state graph; each table's numbers come from a
//! breadth-first search over integers, and cycles are the strongly connected components of
//! that graph (petgraph's Tarjan), so they are event-aware like the single-table walk.

use super::body::{BodyFacts, TableWrite};
use super::fanout::rewrite;
use super::fanout::{
    cascades, skip_reason, Analyses, Cascade, Cycle, EdgeKind, FanoutGraph, GraphEdge, GraphNode,
    Hazard, HazardFinder, NodeKind, Unanalysable, WalkOptions,
};
use super::firing::{Event, FiringEntry};
use super::index::SnapshotIndex;
use super::sqlfacts::WriteOp;
use crate::model::{quote_ident, CatalogSnapshot, ObjectKey, ObjectKind};
use petgraph::graph::DiGraph;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;

mod expand;
mod search;
use search::Search;

/// One table's place in the whole-database ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableRank {
    pub rank: usize,
    pub table: String,
    /// Events on which anything fires or cascades.
    pub events: Vec<Event>,
    /// Triggers on the table itself.
    pub direct_triggers: usize,
    /// Distinct triggers that fire anywhere in its fan-out, over all events.
    pub triggers: usize,
    /// Distinct other tables its fan-out writes.
    pub tables: usize,
    /// Distinct notification channels (a channel computed at run time counts once).
    pub channels: usize,
    pub cycles: usize,
    pub hazards: usize,
    /// Routines in its fan-out that could not be (fully) analysed or run dynamic SQL.
    pub opaque: usize,
}

/// Every table ranked by fan-out, and the union of their graphs.
#[derive(Clone, Debug, Serialize)]
pub struct DatabaseFanout {
    pub tables: Vec<TableRank>,
    pub cycles: Vec<Cycle>,
    pub hazards: Vec<Hazard>,
    pub unanalysable: Vec<Unanalysable>,
    #[serde(flatten)]
    pub graph: FanoutGraph,
}

/// A trigger to draw in the whole-database graph.
struct DrawnTrigger<'a> {
    entry: &'a FiringEntry,
    trigger_id: &'a str,
    fn_key: &'a ObjectKey,
    skipped: &'a Option<String>,
    /// An earlier BEFORE ROW trigger that may skip the row.
    unless: Option<&'a str>,
}

/// What a function does with everything it calls, transitively.
#[derive(Default)]
struct Closure {
    writes: BTreeSet<TableWrite>,
    channels: BTreeSet<String>,
    /// Functions reached that are opaque (unanalysable, missing, dynamic SQL).
    opaque: BTreeSet<String>,
}

struct State {
    table: String,
    event: Event,
    columns: Option<Vec<String>>,
    /// Successor states, with the steps that lead there (trigger and function, or FK).
    succ: Vec<(usize, Vec<String>)>,
    triggers: Vec<usize>,
    channels: Vec<usize>,
    opaque: Vec<usize>,
    hazards: Vec<usize>,
    /// Anything fires or cascades on it.
    active: bool,
}

impl State {
    fn label(&self) -> String {
        match &self.columns {
            Some(c) if self.event == Event::Update => {
                format!("{} UPDATE OF {}", self.table, c.join(", "))
            }
            _ => format!("{} {}", self.table, self.event.label()),
        }
    }
}

/// Interns strings to small integers, so a search can count distinct ones with stamps.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, usize>,
}

impl Interner {
    fn id(&mut self, s: &str) -> usize {
        let n = self.ids.len();
        *self.ids.entry(s.to_string()).or_insert(n)
    }
}

struct Builder<'a, 's> {
    index: &'a SnapshotIndex<'s>,
    analyses: Analyses,
    graph: FanoutGraph,
    states: Vec<State>,
    state_ids: HashMap<(String, Event, Option<Vec<String>>), usize>,
    queue: VecDeque<usize>,
    trigger_ids: Interner,
    channel_ids: Interner,
    opaque_ids: Interner,
    hazards: Vec<Hazard>,
    hazard_ids: BTreeMap<Hazard, usize>,
    closures: HashMap<ObjectKey, Rc<Closure>>,
    drawn: HashSet<ObjectKey>,
    unanalysable: BTreeSet<Unanalysable>,
    hazard_finder: HazardFinder,
    /// Build the union graph (`WalkOptions::database_graph`).
    draw: bool,
}

/// Rank every table that has triggers or that foreign-key actions cascade from.
pub fn database_fanout(snapshot: &CatalogSnapshot, opts: &WalkOptions) -> DatabaseFanout {
    let index = SnapshotIndex::new(snapshot);
    let analyses = Analyses::all(&index);
    let mut b = Builder {
        index: &index,
        analyses,
        graph: FanoutGraph::default(),
        states: Vec::new(),
        state_ids: HashMap::new(),
        queue: VecDeque::new(),
        trigger_ids: Interner::default(),
        channel_ids: Interner::default(),
        opaque_ids: Interner::default(),
        hazards: Vec::new(),
        hazard_ids: BTreeMap::new(),
        closures: HashMap::new(),
        drawn: HashSet::new(),
        unanalysable: BTreeSet::new(),
        hazard_finder: HazardFinder::default(),
        draw: opts.database_graph,
    };
    let mut roots: BTreeSet<&str> = index.tables_with_triggers().into_iter().collect();
    roots.extend(index.referenced_tables());
    roots.extend(index.tables_with_rules());
    roots.retain(|t| index.has_relation(t));
    let root_states: Vec<(&str, Vec<usize>)> = roots
        .iter()
        .map(|t| {
            (
                *t,
                Event::ALL.iter().map(|e| b.state(t, *e, None)).collect(),
            )
        })
        .collect();
    while let Some(s) = b.queue.pop_front() {
        b.expand(s);
    }

    let cyclic = b.cyclic_components();
    let mut cycles: BTreeSet<Cycle> = cyclic.iter().map(|members| b.cycle_path(members)).collect();
    cycles.extend(b.call_cycles());
    let mut scc_of = vec![usize::MAX; b.states.len()];
    for (i, members) in cyclic.iter().enumerate() {
        for &m in members {
            scc_of[m] = i;
        }
    }

    let mut search = Search::new(&b, cyclic.len());
    let mut ranks: Vec<TableRank> = root_states
        .into_iter()
        .filter_map(|(table, states)| {
            let active: Vec<usize> = states.into_iter().filter(|&s| b.states[s].active).collect();
            if active.is_empty() {
                return None;
            }
            let mut rank = search.run(&b, &active, &scc_of, opts.depth);
            rank.table = table.to_string();
            rank.events = active.iter().map(|&s| b.states[s].event).collect();
            rank.direct_triggers = index.triggers_on(table).len();
            Some(rank)
        })
        .collect();
    ranks.sort_by(|a, b| {
        (b.triggers, b.tables, b.channels, b.cycles)
            .cmp(&(a.triggers, a.tables, a.channels, a.cycles))
            .then_with(|| a.table.as_bytes().cmp(b.table.as_bytes()))
    });
    for (i, r) in ranks.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    let mut hazards = b.hazards.clone();
    hazards.sort();
    // Every routine that could not be read, reached or not: a call hidden in dynamic SQL
    // may still reach it.
    let mut unanalysable = b.unanalysable.clone();
    for (key, facts) in b.analyses.iter() {
        if let Some(problem) = facts.status.problem() {
            unanalysable.insert(Unanalysable {
                function: key.name().to_string(),
                problem,
            });
        }
    }
    DatabaseFanout {
        tables: ranks,
        cycles: cycles.into_iter().collect(),
        hazards,
        unanalysable: unanalysable.into_iter().collect(),
        graph: b.graph,
    }
}

#[cfg(test)]
mod tests;
