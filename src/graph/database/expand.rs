//! Expanding the state graph: each (table, event, columns) state once, with the triggers
//! that fire there, what their functions reach (closures cached per function), the
//! cascades, hazards and opaque routines, and optionally the union graph to draw.

use super::*;

impl Builder<'_, '_> {
    pub(super) fn state(
        &mut self,
        table: &str,
        event: Event,
        columns: Option<Vec<String>>,
    ) -> usize {
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

    pub(super) fn expand(&mut self, s: usize) {
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
        // What the rewriter does first, as in the single-table walk: rules, an
        // unconditional DO INSTEAD replacing the write, a view's write moved onto its base.
        let rules = self.index.rules_on(&table, event);
        let replaced_by = rewrite::replacing_rule(&rules);
        let written = replaced_by.is_none();
        let (cascades, row_calls) = if written {
            (
                cascades(self.index, &table, event, columns.as_deref()),
                self.analyses.row_calls(self.index, &table, event),
            )
        } else {
            (Vec::new(), Rc::default())
        };
        let view_write = match self.index.view(&table) {
            Some(v) if written && !rewrite::has_instead_of_trigger(&order) => {
                rewrite::view_base_write(self.index, v, event, columns.as_deref()).ok()
            }
            _ => None,
        };
        let not_written = match (&replaced_by, &view_write) {
            (Some(r), _) => Some(format!("the write is replaced by DO INSTEAD rule {r}")),
            (None, Some(w)) => Some(format!(
                "the write is rewritten onto the base relation {}",
                w.target
            )),
            (None, None) => None,
        };
        if order.is_empty()
            && cascades.is_empty()
            && row_calls.is_empty()
            && rules.is_empty()
            && view_write.is_none()
        {
            return;
        }
        self.states[s].active = true;
        for (key, rule) in &rules {
            if self.draw {
                rewrite::draw_rule(&mut self.graph, &table, event, key, rule);
                self.draw_function(key);
            }
            if rewrite::rule_skip_reason(rule).is_none() {
                self.follow(s, key, format!("rule {}", rule.name));
            }
        }
        if let Some(w) = view_write {
            if self.draw {
                self.graph_node(GraphNode::table(&w.target, false));
                self.graph.edge(rewrite::view_write_edge(&table, event, &w));
            }
            let target = self.state(&w.target, event, w.columns);
            self.states[s]
                .succ
                .push((target, vec![format!("through view {table}")]));
        }
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
            crate::graph::fanout::row_skippers(
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
            let skipped = not_written
                .clone()
                .or_else(|| skip_reason(entry, event, columns.as_deref()));
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

    pub(super) fn draw_cascade(&mut self, table: &str, event: Event, c: &Cascade) {
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
    pub(super) fn follow(&mut self, s: usize, key: &ObjectKey, step: String) {
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

    pub(super) fn draw_trigger(&mut self, table: &str, event: Event, t: DrawnTrigger<'_>) {
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
            .edge(crate::graph::fanout::unless_skipped(fires, unless));
        self.draw_function(fn_key);
        self.graph
            .edge(GraphEdge::calls_function(&trigger_id, fn_key, entry));
    }

    pub(super) fn graph_node(&mut self, node: GraphNode) {
        self.graph.node(node);
    }

    pub(super) fn facts(&mut self, key: &ObjectKey) -> Option<Rc<BodyFacts>> {
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
    pub(super) fn draw_function(&mut self, key: &ObjectKey) {
        if !self.drawn.insert(key.clone()) {
            return;
        }
        let facts = self.facts(key);
        // A rule's node is drawn with its edge; its actions are drawn like a body.
        if key.kind() != ObjectKind::Rule {
            self.graph_node(GraphNode {
                id: key.to_string(),
                kind: NodeKind::Function,
                name: key.name().to_string(),
                table: None,
                missing: facts.is_none(),
                problem: facts.as_ref().and_then(|f| f.status.problem()),
                reached: None,
            });
        }
        let Some(facts) = facts else { return };
        crate::graph::fanout::draw_body(&mut self.graph, key, &facts);
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
    pub(super) fn closure(&mut self, key: &ObjectKey) -> Rc<Closure> {
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
    pub(super) fn cyclic_components(&self) -> Vec<Vec<usize>> {
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
    pub(super) fn cycle_path(&self, members: &[usize]) -> Cycle {
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
    pub(super) fn call_cycles(&self) -> Vec<Cycle> {
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
