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

/// One table's place in the whole-database ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableRank {
    pub rank: usize,
    pub table: String,
    /// Events on which anything fires or cascades.
    pub events: Vec<String>,
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
            rank.events = active
                .iter()
                .map(|&s| b.states[s].event.to_string())
                .collect();
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

impl Builder<'_, '_> {
    fn state(&mut self, table: &str, event: Event, columns: Option<Vec<String>>) -> usize {
        let key = (table.to_string(), event, columns.clone());
        if let Some(&s) = self.state_ids.get(&key) {
            return s;
        }
        let s = self.states.len();
        self.states.push(State {
            table: table.to_string(),
            event,
            columns,
            succ: Vec::new(),
            triggers: Vec::new(),
            channels: Vec::new(),
            opaque: Vec::new(),
            hazards: Vec::new(),
            active: false,
        });
        self.state_ids.insert(key, s);
        self.queue.push_back(s);
        s
    }

    fn expand(&mut self, s: usize) {
        let table = self.states[s].table.clone();
        let event = self.states[s].event;
        let columns = self.states[s].columns.clone();
        let in_snapshot = self.index.has_relation(&table);
        if self.draw {
            self.graph_node(GraphNode::table(&table, !in_snapshot));
        }
        if !in_snapshot {
            return;
        }
        let order = self
            .index
            .statement_firing_order(&table, event, columns.as_deref());
        let cascades = cascades(self.index, &table, event, columns.as_deref());
        let row_calls = self.analyses.row_calls(self.index, &table, event);
        if order.is_empty() && cascades.is_empty() && row_calls.is_empty() {
            return;
        }
        self.states[s].active = true;
        for rc in row_calls.iter() {
            if self.draw {
                self.draw_function(&rc.callee);
                self.graph.edge(GraphEdge::row_call(&table, event, rc));
            }
            let step = format!("{} {}", rc.via, rc.name);
            self.follow(s, &rc.callee, step);
        }
        // Only the drawn graph shows certainty; the ranking counts what may fire.
        let skippers = if self.draw {
            super::fanout::row_skippers(
                self.index,
                &mut self.analyses,
                &order,
                event,
                columns.as_deref(),
            )
        } else {
            vec![None; order.len()]
        };
        let mut firing: Vec<&FiringEntry> = Vec::new();
        for (entry, unless) in order.iter().zip(&skippers) {
            let trigger_id = format!(
                "trigger:{}.{}",
                entry.routed_to.as_deref().unwrap_or(&table),
                quote_ident(&entry.trigger)
            );
            let fn_key = ObjectKey::new(ObjectKind::Function, &entry.function);
            let skipped = skip_reason(entry, event, columns.as_deref());
            if self.draw {
                let drawn = DrawnTrigger {
                    entry,
                    trigger_id: &trigger_id,
                    fn_key: &fn_key,
                    skipped: &skipped,
                    unless: unless.as_deref(),
                };
                self.draw_trigger(&table, event, drawn);
            }
            if skipped.is_some() {
                continue;
            }
            firing.push(entry);
            let t = self.trigger_ids.id(&trigger_id);
            self.states[s].triggers.push(t);
            // The trigger's function, and the routines its WHEN condition calls (they run
            // for every row, before the condition decides).
            let mut run = vec![fn_key.clone()];
            if let Some(when) = &entry.when {
                let callees = self.analyses.expression_calls(self.index, when);
                for callee in callees.iter() {
                    if self.draw {
                        self.draw_function(callee);
                        self.graph.edge(GraphEdge::when_calls(&trigger_id, callee));
                    }
                    run.push(callee.clone());
                }
            }
            for key in &run {
                self.follow(s, key, entry.trigger.clone());
            }
        }
        let found =
            self.hazard_finder
                .hazards(self.index, &mut self.analyses, &table, event, &firing);
        for h in found {
            let next = self.hazards.len();
            let id = *self.hazard_ids.entry(h.clone()).or_insert(next);
            if id == next {
                self.hazards.push(h);
            }
            self.states[s].hazards.push(id);
        }
        for c in cascades {
            if self.draw {
                self.draw_cascade(&table, event, &c);
            }
            let step = format!(
                "{} ON {} {}",
                c.constraint,
                event.label(),
                c.action.to_uppercase()
            );
            let target = self.state(&c.child, c.child_event, c.child_columns);
            self.states[s].succ.push((target, vec![step]));
        }
    }

    fn draw_cascade(&mut self, table: &str, event: Event, c: &Cascade) {
        self.graph_node(GraphNode::table(
            &c.child,
            !self.index.has_relation(&c.child),
        ));
        self.graph.edge(
            GraphEdge {
                from: format!("table:{table}"),
                to: format!("table:{}", c.child),
                kind: EdgeKind::Cascade,
                event: Some(event),
                action: Some(c.action.clone()),
                constraint: Some(c.constraint.clone()),
                columns: c.child_columns.clone(),
                ..GraphEdge::default()
            }
            .with_sure(&c.sure()),
        );
    }

    /// What routine `key` (and what it calls) does, as successors, channels and opaque
    /// steps of state `s`; `step` names how the state got to the routine.
    fn follow(&mut self, s: usize, key: &ObjectKey, step: String) {
        let closure = self.closure(key);
        for w in &closure.writes {
            let cols = if w.op == WriteOp::Update {
                w.columns.clone()
            } else {
                None
            };
            let target = self.state(&w.table, w.op.event(), cols);
            self.states[s]
                .succ
                .push((target, vec![step.clone(), key.name().to_string()]));
        }
        for c in &closure.channels {
            let id = self.channel_ids.id(c);
            self.states[s].channels.push(id);
        }
        for o in &closure.opaque {
            let id = self.opaque_ids.id(o);
            self.states[s].opaque.push(id);
        }
    }

    fn draw_trigger(&mut self, table: &str, event: Event, t: DrawnTrigger<'_>) {
        let DrawnTrigger {
            entry,
            trigger_id,
            fn_key,
            skipped,
            unless,
        } = t;
        let table = table.to_string();
        let trigger_id = trigger_id.to_string();
        let on = entry.routed_to.as_deref().unwrap_or(&table);
        self.graph_node(GraphNode::trigger(&trigger_id, on, entry));
        let fires = GraphEdge::fires(&table, &trigger_id, event, entry, skipped);
        self.graph
            .edge(super::fanout::unless_skipped(fires, unless));
        self.draw_function(fn_key);
        self.graph
            .edge(GraphEdge::calls_function(&trigger_id, fn_key, entry));
    }

    fn graph_node(&mut self, node: GraphNode) {
        self.graph.node(node);
    }

    fn facts(&mut self, key: &ObjectKey) -> Option<Rc<BodyFacts>> {
        let facts = self.analyses.get(self.index, key);
        if let Some(problem) = facts.as_ref().and_then(|f| f.status.problem()) {
            self.unanalysable.insert(Unanalysable {
                function: key.name().to_string(),
                problem,
            });
        }
        facts
    }

    /// Draw a function and what it does, once.
    fn draw_function(&mut self, key: &ObjectKey) {
        if !self.drawn.insert(key.clone()) {
            return;
        }
        let facts = self.facts(key);
        self.graph_node(GraphNode {
            id: key.to_string(),
            kind: NodeKind::Function,
            name: key.name().to_string(),
            table: None,
            missing: facts.is_none(),
            problem: facts.as_ref().and_then(|f| f.status.problem()),
            reached: None,
        });
        let Some(facts) = facts else { return };
        super::fanout::draw_body(&mut self.graph, key, &facts);
        for callee in &facts.calls {
            self.draw_function(callee);
            let sure = facts.call_sures.get(callee).cloned().unwrap_or_default();
            self.graph.edge(
                GraphEdge {
                    from: key.to_string(),
                    to: callee.to_string(),
                    kind: EdgeKind::Calls,
                    ..GraphEdge::default()
                }
                .with_sure(&sure),
            );
        }
    }

    /// Writes, channels and opaque routines of a function and everything it calls.
    fn closure(&mut self, key: &ObjectKey) -> Rc<Closure> {
        if let Some(c) = self.closures.get(key) {
            return c.clone();
        }
        let mut c = Closure::default();
        let mut seen = HashSet::new();
        let mut stack = vec![key.clone()];
        while let Some(k) = stack.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            let Some(f) = self.facts(&k) else {
                c.opaque.insert(k.name().to_string());
                continue;
            };
            if f.status.problem().is_some() || f.dynamic.iter().any(|d| !d.literal) {
                c.opaque.insert(k.name().to_string());
            }
            c.writes.extend(f.writes.iter().cloned());
            for n in &f.notifies {
                c.channels
                    .insert(n.channel.clone().unwrap_or_else(|| "?".to_string()));
            }
            stack.extend(f.calls.iter().cloned());
        }
        let c = Rc::new(c);
        self.closures.insert(key.clone(), c.clone());
        c
    }

    /// The strongly connected components of the state graph that contain a cycle, each
    /// sorted; in a stable order.
    fn cyclic_components(&self) -> Vec<Vec<usize>> {
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(self.states.len(), 0);
        let nodes: Vec<_> = (0..self.states.len()).map(|i| g.add_node(i)).collect();
        for (i, st) in self.states.iter().enumerate() {
            for (t, _) in &st.succ {
                g.update_edge(nodes[i], nodes[*t], ());
            }
        }
        let mut out: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&g)
            .into_iter()
            .map(|c| {
                let mut m: Vec<usize> = c.into_iter().map(|n| g[n]).collect();
                m.sort_unstable();
                m
            })
            .filter(|m| m.len() > 1 || self.states[m[0]].succ.iter().any(|(t, _)| *t == m[0]))
            .collect();
        out.sort();
        out
    }

    /// One cycle through a component, as labels: state, trigger, function, state, ….
    fn cycle_path(&self, members: &[usize]) -> Cycle {
        let inside: HashSet<usize> = members.iter().copied().collect();
        let start = members[0];
        // Breadth-first from `start` back to it, inside the component.
        let mut prev: HashMap<usize, (usize, &Vec<String>)> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        'search: while let Some(s) = queue.pop_front() {
            for (t, steps) in &self.states[s].succ {
                if !inside.contains(t) {
                    continue;
                }
                if *t == start {
                    prev.insert(usize::MAX, (s, steps));
                    break 'search;
                }
                if !prev.contains_key(t) {
                    prev.insert(*t, (s, steps));
                    queue.push_back(*t);
                }
            }
        }
        let mut hops = Vec::new();
        let mut at = usize::MAX;
        while let Some(&(from, steps)) = prev.get(&at) {
            hops.push((from, steps));
            if from == start {
                break;
            }
            at = from;
        }
        hops.reverse();
        let mut path = Vec::new();
        for (from, steps) in hops {
            path.push(self.states[from].label());
            path.extend(steps.iter().cloned());
        }
        path.push(self.states[start].label());
        Cycle {
            kind: "trigger",
            path,
        }
    }

    /// Routines that call each other in a loop, from every analysed body.
    fn call_cycles(&self) -> Vec<Cycle> {
        let mut g: DiGraph<&str, ()> = DiGraph::new();
        let mut ids = HashMap::new();
        let mut facts: Vec<(&ObjectKey, &BodyFacts)> = self.analyses.iter().collect();
        facts.sort_by(|a, b| a.0.cmp(b.0));
        for (key, _) in &facts {
            ids.insert(*key, g.add_node(key.name()));
        }
        for (key, f) in &facts {
            for callee in &f.calls {
                if let Some(&b) = ids.get(callee) {
                    g.update_edge(ids[key], b, ());
                }
            }
        }
        petgraph::algo::tarjan_scc(&g)
            .into_iter()
            .filter(|c| c.len() > 1 || g.contains_edge(c[0], c[0]))
            .map(|c| {
                let mut path: Vec<String> = c.iter().map(|&n| g[n].to_string()).collect();
                path.sort();
                path.push(path[0].clone());
                Cycle { kind: "call", path }
            })
            .collect()
    }
}

/// Breadth-first searches over the state graph with stamp arrays, so each table's search
/// costs what it visits and nothing is reallocated between tables.
struct Search {
    stamp: u32,
    state_seen: Vec<u32>,
    trigger_seen: Vec<u32>,
    channel_seen: Vec<u32>,
    opaque_seen: Vec<u32>,
    hazard_seen: Vec<u32>,
    scc_seen: Vec<u32>,
    table_seen: HashMap<String, u32>,
}

impl Search {
    fn new(b: &Builder<'_, '_>, components: usize) -> Self {
        Search {
            stamp: 0,
            state_seen: vec![0; b.states.len()],
            trigger_seen: vec![0; b.trigger_ids.ids.len()],
            channel_seen: vec![0; b.channel_ids.ids.len()],
            opaque_seen: vec![0; b.opaque_ids.ids.len()],
            hazard_seen: vec![0; b.hazards.len()],
            scc_seen: vec![0; components],
            table_seen: HashMap::new(),
        }
    }

    fn run(
        &mut self,
        b: &Builder<'_, '_>,
        roots: &[usize],
        scc_of: &[usize],
        depth: Option<usize>,
    ) -> TableRank {
        self.stamp += 1;
        let stamp = self.stamp;
        let mut rank = TableRank {
            rank: 0,
            table: String::new(),
            events: Vec::new(),
            direct_triggers: 0,
            triggers: 0,
            tables: 0,
            channels: 0,
            cycles: 0,
            hazards: 0,
            opaque: 0,
        };
        let count = |seen: &mut Vec<u32>, ids: &[usize], n: &mut usize| {
            for &i in ids {
                if seen[i] != stamp {
                    seen[i] = stamp;
                    *n += 1;
                }
            }
        };
        let root_table = &b.states[roots[0]].table;
        let mut queue: VecDeque<(usize, usize)> = VecDeque::new();
        for &r in roots {
            self.state_seen[r] = stamp;
            queue.push_back((r, 0));
        }
        while let Some((s, level)) = queue.pop_front() {
            let st = &b.states[s];
            if st.table != *root_table {
                let seen = self.table_seen.entry(st.table.clone()).or_insert(0);
                if *seen != stamp {
                    *seen = stamp;
                    rank.tables += 1;
                }
            }
            if scc_of[s] != usize::MAX && self.scc_seen[scc_of[s]] != stamp {
                self.scc_seen[scc_of[s]] = stamp;
                rank.cycles += 1;
            }
            if depth.is_some_and(|d| level >= d) {
                continue;
            }
            count(&mut self.trigger_seen, &st.triggers, &mut rank.triggers);
            count(&mut self.channel_seen, &st.channels, &mut rank.channels);
            count(&mut self.opaque_seen, &st.opaque, &mut rank.opaque);
            count(&mut self.hazard_seen, &st.hazards, &mut rank.hazards);
            for (t, _) in &st.succ {
                if self.state_seen[*t] != stamp {
                    self.state_seen[*t] = stamp;
                    queue.push_back((*t, level + 1));
                }
            }
        }
        rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::firing::tests::trigger;
    use crate::graph::testkit::{plpgsql, snapshot_with, table, trigger_object};
    use crate::model::CatalogObject;

    fn trig(
        table: &str,
        name: &str,
        timing: &str,
        events: &[&str],
        function: &str,
    ) -> CatalogObject {
        let mut t = trigger(name, timing, events);
        t.table = format!("public.{table}");
        t.function = format!("public.{function}()");
        trigger_object(t)
    }

    fn objects() -> Vec<CatalogObject> {
        vec![
            table("public", "a"),
            table("public", "b"),
            table("public", "c"),
            plpgsql(
                "fn_a",
                "BEGIN INSERT INTO b VALUES (1); PERFORM pg_notify('ch', 'x'); RETURN NULL; END",
            ),
            plpgsql("fn_b", "BEGIN UPDATE c SET v = 1; RETURN NULL; END"),
            plpgsql("fn_c", "BEGIN INSERT INTO b VALUES (2); RETURN NULL; END"),
            trig("a", "ta", "after", &["insert"], "fn_a"),
            trig("b", "tb", "after", &["insert"], "fn_b"),
            trig("c", "tc", "after", &["update"], "fn_c"),
        ]
    }

    #[test]
    fn tables_are_ranked_and_cycles_found_once() {
        let snap = snapshot_with(objects());
        let opts = WalkOptions {
            database_graph: true,
            ..WalkOptions::default()
        };
        let db = database_fanout(&snap, &opts);
        let order: Vec<&str> = db.tables.iter().map(|r| r.table.as_str()).collect();
        assert_eq!(order, ["public.a", "public.b", "public.c"]);
        let a = &db.tables[0];
        assert_eq!((a.triggers, a.tables, a.channels, a.cycles), (3, 2, 1, 1));
        assert_eq!(db.cycles.len(), 1, "{:?}", db.cycles);
        assert_eq!(
            db.cycles[0].path,
            [
                "public.b INSERT",
                "tb",
                "public.fn_b()",
                "public.c UPDATE OF v",
                "tc",
                "public.fn_c()",
                "public.b INSERT"
            ]
        );
        assert!(db.graph.node_by_id("channel:ch").is_some());
    }

    #[test]
    fn depth_bounds_the_counts() {
        let snap = snapshot_with(objects());
        let db = database_fanout(
            &snap,
            &WalkOptions {
                depth: Some(1),
                ..WalkOptions::default()
            },
        );
        let a = db.tables.iter().find(|r| r.table == "public.a").unwrap();
        assert_eq!((a.triggers, a.tables), (1, 1));
    }

    #[test]
    fn agrees_with_the_single_table_walk() {
        let snap = snapshot_with(objects());
        let db = database_fanout(&snap, &WalkOptions::default());
        let single = crate::graph::table_fanout(
            &snap,
            "public.a",
            Event::Insert,
            None,
            &WalkOptions::default(),
        )
        .unwrap();
        let triggers = single
            .graph
            .nodes()
            .filter(|n| n.kind == NodeKind::Trigger)
            .count();
        assert_eq!(db.tables[0].triggers, triggers);
        assert_eq!(db.tables[0].cycles, single.cycles.len());
    }

    #[test]
    fn unreached_unanalysable_routines_are_still_reported() {
        let mut objects = objects();
        objects.push(plpgsql("fn_lonely", "BEGIN INSRT INTO a VALUES (1); END"));
        let snap = snapshot_with(objects);
        let db = database_fanout(&snap, &WalkOptions::default());
        assert_eq!(db.unanalysable.len(), 1, "{:?}", db.unanalysable);
        assert_eq!(db.unanalysable[0].function, "public.fn_lonely()");
    }

    #[test]
    fn the_union_graph_is_only_drawn_when_asked_for() {
        let snap = snapshot_with(objects());
        let bare = database_fanout(&snap, &WalkOptions::default());
        assert_eq!(bare.graph.nodes().count(), 0);
        let drawn = database_fanout(
            &snap,
            &WalkOptions {
                database_graph: true,
                ..WalkOptions::default()
            },
        );
        assert_eq!(bare.tables, drawn.tables);
        assert!(drawn.graph.node_by_id("trigger:public.c.tc").is_some());
    }

    #[test]
    fn routines_calling_each_other_are_a_call_cycle() {
        let mut objects = objects();
        objects.push(plpgsql("ping", "BEGIN PERFORM pong(); END"));
        objects.push(plpgsql("pong", "BEGIN PERFORM ping(); END"));
        let snap = snapshot_with(objects);
        let db = database_fanout(&snap, &WalkOptions::default());
        let calls: Vec<&Cycle> = db.cycles.iter().filter(|c| c.kind == "call").collect();
        assert_eq!(calls.len(), 1, "{:?}", db.cycles);
        assert_eq!(
            calls[0].path,
            ["public.ping()", "public.pong()", "public.ping()"]
        );
    }
}
