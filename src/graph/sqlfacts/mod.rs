//! What one parsed SQL text does, read off PostgreSQL's own parse tree (`pg_query`): the
//! relations it writes and how, the functions it calls (however deeply nested), the
//! `pg_notify` / `NOTIFY` channels, and the `NEW.col` fields it reads.
//!
//! Names are kept as written (unresolved); `body` resolves them with the routine's
//! `search_path`. The walk is typed for the nodes that statements and expressions are made
//! of; any other node is walked generically through its serde form, so an exotic construct
//! costs time but never hides a call or a write.
//!
//! Each fact carries how sure it is to happen when the statement runs ([`Sure`]): a write
//! that depends on rows (UPDATE, DELETE, `INSERT … SELECT … FROM`, `ON CONFLICT`, MERGE) is
//! `maybe-no-rows`, and so is a call evaluated once per row of a FROM or under a WHERE; a
//! call inside `CASE`, `AND`/`OR`, a `COALESCE` fallback or a construct walked generically
//! is `conditional`. The caller sets [`SqlFacts::context`] (the PL/pgSQL guards around the
//! statement) before each statement.

use crate::graph::certainty::Sure;
use crate::graph::firing::Event;
use pg_query::protobuf::{self, a_const, CmdType, OnConflictAction};
use pg_query::NodeEnum;
use serde::Serialize;
use std::collections::BTreeSet;

mod visit;
use visit::{literal_string, select_may_be_empty, string_list};

/// What a write does to its table, which decides the triggers it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOp {
    Insert,
    Update,
    Delete,
    Truncate,
}

impl WriteOp {
    /// The trigger event the write causes.
    pub fn event(self) -> Event {
        match self {
            WriteOp::Insert => Event::Insert,
            WriteOp::Update => Event::Update,
            WriteOp::Delete => Event::Delete,
            WriteOp::Truncate => Event::Truncate,
        }
    }
}

/// A write as written: `[schema.]name`, unresolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawWrite {
    pub schema: Option<String>,
    pub name: String,
    pub op: WriteOp,
    /// Columns an UPDATE sets, when the statement names them.
    pub columns: Option<Vec<String>>,
    /// `INSERT … ON CONFLICT DO UPDATE` (the update half), or a `MERGE` action.
    pub via: Option<&'static str>,
    /// How sure the write is to happen when the statement runs.
    pub sure: Sure,
}

/// A `pg_notify(channel, …)` or `NOTIFY channel`: the channel when it is a literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawNotify {
    pub channel: Option<String>,
    pub sure: Sure,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlFacts {
    pub writes: Vec<RawWrite>,
    /// Function or procedure names as written: `["f"]`, `["s", "f"]`.
    pub calls: Vec<Vec<String>>,
    pub notifies: Vec<RawNotify>,
    /// `NEW.col` fields read; `*` for a whole-row reference (`to_jsonb(NEW)`).
    pub new_reads: BTreeSet<String>,
    /// How sure each of `calls` is, index for index.
    pub call_sures: Vec<Sure>,
    /// The certainty of the statement being walked (its PL/pgSQL guards); set by the caller.
    pub context: Sure,
    /// Nesting of row-dependent parts (a FROM's rows, a WHERE, an UPDATE): facts inside are
    /// `maybe-no-rows`.
    rows: u32,
    /// Conditional expression constructs around the walk (`CASE`, `AND`/`OR`, …).
    cond: Vec<&'static str>,
    /// Nesting of filter conditions (WHERE, HAVING, JOIN … ON): the planner may reorder
    /// their AND operands by cost, so even the first may go unevaluated.
    quals: u32,
}

impl SqlFacts {
    /// Walk every statement of a parse result.
    pub fn add_parse_result(&mut self, result: &protobuf::ParseResult) {
        for raw in &result.stmts {
            self.opt(&raw.stmt);
        }
    }

    /// Walk one statement or expression node (a rule's action or condition) in `context`.
    pub fn add_node(&mut self, node: &protobuf::Node, context: Sure) {
        self.context = context;
        self.node(node);
        self.context = Sure::always();
    }

    /// Walk the statements of a parse result, each with the context `context_of` gives
    /// for its byte offset in the parsed text.
    pub fn add_parse_result_with(
        &mut self,
        result: &protobuf::ParseResult,
        context_of: impl Fn(usize) -> Sure,
    ) {
        for raw in &result.stmts {
            self.context = context_of(usize::try_from(raw.stmt_location).unwrap_or(0));
            self.opt(&raw.stmt);
        }
        self.context = Sure::always();
    }

    /// How sure a fact found at this point of the walk is.
    fn here(&self) -> Sure {
        let mut s = self.context.clone();
        if self.rows > 0 {
            s = Sure::maybe_no_rows().under(&s);
        }
        if !self.cond.is_empty() {
            let guards: Vec<String> = self.cond.iter().map(|c| c.to_string()).collect();
            s = Sure::guarded(&guards).under(&s);
        }
        s
    }

    fn call(&mut self, name: Vec<String>) {
        self.calls.push(name);
        self.call_sures.push(self.here());
    }

    /// Walk `f` with facts inside marked row-dependent.
    fn in_rows(&mut self, f: impl FnOnce(&mut Self)) {
        self.rows += 1;
        f(self);
        self.rows -= 1;
    }

    /// Walk a filter condition.
    fn qual<N: std::ops::Deref<Target = protobuf::Node>>(&mut self, n: &Option<N>) {
        self.quals += 1;
        self.opt(n);
        self.quals -= 1;
    }

    /// Walk `f` with facts inside marked conditional on `why`.
    fn in_cond(&mut self, why: &'static str, f: impl FnOnce(&mut Self)) {
        self.cond.push(why);
        f(self);
        self.cond.pop();
    }

    fn node(&mut self, n: &protobuf::Node) {
        if let Some(e) = &n.node {
            self.visit(e);
        }
    }

    fn nodes(&mut self, ns: &[protobuf::Node]) {
        for n in ns {
            self.node(n);
        }
    }

    fn opt<N: std::ops::Deref<Target = protobuf::Node>>(&mut self, n: &Option<N>) {
        if let Some(n) = n {
            self.node(n);
        }
    }

    fn with(&mut self, w: &Option<protobuf::WithClause>) {
        if let Some(w) = w {
            self.nodes(&w.ctes);
        }
    }

    fn write(
        &mut self,
        rel: &Option<protobuf::RangeVar>,
        op: WriteOp,
        columns: Option<Vec<String>>,
        via: Option<&'static str>,
    ) {
        if let Some(rel) = rel {
            self.write_range_var(rel, op, columns, via);
        }
    }

    /// A write whose rows depend on data (or on a conflict): `maybe-no-rows`.
    fn write_rows(
        &mut self,
        rel: &Option<protobuf::RangeVar>,
        op: WriteOp,
        columns: Option<Vec<String>>,
        via: Option<&'static str>,
    ) {
        self.in_rows(|f| f.write(rel, op, columns, via));
    }

    fn write_range_var(
        &mut self,
        rel: &protobuf::RangeVar,
        op: WriteOp,
        columns: Option<Vec<String>>,
        via: Option<&'static str>,
    ) {
        self.writes.push(RawWrite {
            schema: (!rel.schemaname.is_empty()).then(|| rel.schemaname.clone()),
            name: rel.relname.clone(),
            op,
            columns,
            via,
            sure: self.here(),
        });
    }

    fn select(&mut self, s: &protobuf::SelectStmt) {
        // What runs once: the CTEs, the FROM items, a WHERE without FROM, VALUES rows.
        // What runs per row (maybe for none): everything else once there is a FROM, a
        // WHERE, grouping or a limit.
        self.with(&s.with_clause);
        self.nodes(&s.from_clause);
        self.nodes(&s.values_lists);
        let per_row = select_may_be_empty(s);
        if s.from_clause.is_empty() {
            self.qual(&s.where_clause);
        }
        let rest = |f: &mut Self| {
            f.nodes(&s.distinct_clause);
            f.nodes(&s.target_list);
            if !s.from_clause.is_empty() {
                f.qual(&s.where_clause);
            }
            f.nodes(&s.group_clause);
            f.qual(&s.having_clause);
            f.nodes(&s.window_clause);
            f.nodes(&s.sort_clause);
            f.opt(&s.limit_offset);
            f.opt(&s.limit_count);
            if let Some(l) = &s.larg {
                f.select(l);
            }
            if let Some(r) = &s.rarg {
                f.select(r);
            }
        };
        if per_row {
            self.in_rows(rest);
        } else {
            rest(self);
        }
    }

    fn func_call(&mut self, f: &protobuf::FuncCall) {
        let name = string_list(&f.funcname);
        let is_notify = match name.as_slice() {
            [n] => n == "pg_notify",
            [s, n] => s == "pg_catalog" && n == "pg_notify",
            _ => false,
        };
        if is_notify {
            self.notifies.push(RawNotify {
                channel: f.args.first().and_then(literal_string),
                sure: self.here(),
            });
        } else if !name.is_empty() {
            self.call(name);
        }
        self.nodes(&f.args);
        self.nodes(&f.agg_order);
        self.in_rows(|x| x.opt(&f.agg_filter));
        if let Some(w) = &f.over {
            self.window(w);
        }
    }

    fn window(&mut self, w: &protobuf::WindowDef) {
        self.nodes(&w.partition_clause);
        self.nodes(&w.order_clause);
        self.opt(&w.start_offset);
        self.opt(&w.end_offset);
    }

    fn column_ref(&mut self, c: &protobuf::ColumnRef) {
        let first = c.fields.first().and_then(|f| match &f.node {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        });
        if first != Some("new") {
            return;
        }
        match c.fields.get(1).and_then(|f| f.node.as_ref()) {
            None | Some(NodeEnum::AStar(_)) => {
                self.new_reads.insert("*".to_string());
            }
            Some(NodeEnum::String(s)) => {
                self.new_reads.insert(s.sval.clone());
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
