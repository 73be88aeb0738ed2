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

    fn visit(&mut self, e: &NodeEnum) {
        match e {
            NodeEnum::RawStmt(s) => self.opt(&s.stmt),
            NodeEnum::InsertStmt(s) => {
                // Rows come from VALUES (always) or a query that may return none; with
                // ON CONFLICT a row may take the other path, so neither half is sure.
                let may_be_empty = s.on_conflict_clause.is_some()
                    || match s.select_stmt.as_deref().and_then(|n| n.node.as_ref()) {
                        Some(NodeEnum::SelectStmt(sel)) => select_may_be_empty(sel),
                        Some(_) => true,
                        None => false,
                    };
                if may_be_empty {
                    self.write_rows(&s.relation, WriteOp::Insert, None, None);
                } else {
                    self.write(&s.relation, WriteOp::Insert, None, None);
                }
                if let Some(oc) = &s.on_conflict_clause {
                    if oc.action == OnConflictAction::OnconflictUpdate as i32 {
                        let cols = target_names(&oc.target_list);
                        self.write_rows(
                            &s.relation,
                            WriteOp::Update,
                            Some(cols),
                            Some("on_conflict"),
                        );
                    }
                    self.in_rows(|f| {
                        f.nodes(&oc.target_list);
                        f.opt(&oc.where_clause);
                    });
                }
                self.opt(&s.select_stmt);
                if may_be_empty {
                    self.in_rows(|f| f.nodes(&s.returning_list));
                } else {
                    self.nodes(&s.returning_list);
                }
                self.with(&s.with_clause);
            }
            NodeEnum::UpdateStmt(s) => {
                self.with(&s.with_clause);
                self.in_rows(|f| {
                    f.write(
                        &s.relation,
                        WriteOp::Update,
                        Some(target_names(&s.target_list)),
                        None,
                    );
                    f.nodes(&s.target_list);
                    f.qual(&s.where_clause);
                    f.nodes(&s.from_clause);
                    f.nodes(&s.returning_list);
                });
            }
            NodeEnum::DeleteStmt(s) => {
                self.with(&s.with_clause);
                self.in_rows(|f| {
                    f.write(&s.relation, WriteOp::Delete, None, None);
                    f.nodes(&s.using_clause);
                    f.qual(&s.where_clause);
                    f.nodes(&s.returning_list);
                });
            }
            NodeEnum::MergeStmt(s) => self.in_rows(|f| f.merge(s)),
            NodeEnum::CopyStmt(s) => self.in_rows(|f| {
                if s.is_from {
                    f.write(&s.relation, WriteOp::Insert, None, Some("copy"));
                }
                f.opt(&s.query);
                f.opt(&s.where_clause);
            }),
            other => self.visit_rest(other),
        }
    }

    fn merge(&mut self, s: &protobuf::MergeStmt) {
        for w in &s.merge_when_clauses {
            if let Some(NodeEnum::MergeWhenClause(c)) = &w.node {
                let op = match CmdType::try_from(c.command_type) {
                    Ok(CmdType::CmdInsert) => Some((WriteOp::Insert, None)),
                    Ok(CmdType::CmdUpdate) => {
                        Some((WriteOp::Update, Some(target_names(&c.target_list))))
                    }
                    Ok(CmdType::CmdDelete) => Some((WriteOp::Delete, None)),
                    _ => None,
                };
                if let Some((op, cols)) = op {
                    self.write(&s.relation, op, cols, Some("merge"));
                }
                self.opt(&c.condition);
                self.nodes(&c.target_list);
                self.nodes(&c.values);
            }
        }
        self.opt(&s.source_relation);
        self.opt(&s.join_condition);
        self.nodes(&s.returning_list);
        self.with(&s.with_clause);
    }

    fn visit_rest(&mut self, e: &NodeEnum) {
        match e {
            NodeEnum::TruncateStmt(s) => {
                for r in &s.relations {
                    if let Some(NodeEnum::RangeVar(rv)) = &r.node {
                        self.write_range_var(rv, WriteOp::Truncate, None, None);
                    }
                }
            }
            NodeEnum::CallStmt(s) => {
                if let Some(f) = &s.funccall {
                    self.func_call(f);
                }
            }
            NodeEnum::NotifyStmt(s) => self.notifies.push(RawNotify {
                channel: Some(s.conditionname.clone()),
                sure: self.here(),
            }),
            NodeEnum::SelectStmt(s) => self.select(s),
            NodeEnum::FuncCall(f) => self.func_call(f),
            NodeEnum::ColumnRef(c) => self.column_ref(c),
            NodeEnum::AExpr(x) => {
                self.opt(&x.lexpr);
                self.opt(&x.rexpr);
            }
            // The executor evaluates AND/OR operands left to right and stops at the first
            // that decides: only the first is sure to run (NOT's one operand is). In a
            // filter the planner may reorder them by cost, so none is.
            NodeEnum::BoolExpr(x) if x.boolop == protobuf::BoolExprType::NotExpr as i32 => {
                self.nodes(&x.args)
            }
            NodeEnum::BoolExpr(x) => match x.args.split_first() {
                Some((first, rest)) if self.quals == 0 => {
                    self.node(first);
                    self.in_cond("operand of AND/OR", |f| f.nodes(rest));
                }
                _ => self.in_cond("operand of AND/OR", |f| f.nodes(&x.args)),
            },
            NodeEnum::SubLink(x) => {
                self.opt(&x.testexpr);
                self.opt(&x.subselect);
            }
            NodeEnum::CaseExpr(x) => {
                self.opt(&x.arg);
                self.in_cond("inside CASE", |f| {
                    f.nodes(&x.args);
                    f.opt(&x.defresult);
                });
            }
            NodeEnum::CaseWhen(x) => {
                self.opt(&x.expr);
                self.opt(&x.result);
            }
            NodeEnum::CoalesceExpr(x) => {
                if let Some((first, rest)) = x.args.split_first() {
                    self.node(first);
                    self.in_cond("COALESCE fallback", |f| f.nodes(rest));
                }
            }
            NodeEnum::MinMaxExpr(x) => self.nodes(&x.args),
            NodeEnum::NullTest(x) => self.opt(&x.arg),
            NodeEnum::BooleanTest(x) => self.opt(&x.arg),
            NodeEnum::RowExpr(x) => self.nodes(&x.args),
            NodeEnum::AArrayExpr(x) => self.nodes(&x.elements),
            NodeEnum::AIndirection(x) => {
                self.opt(&x.arg);
                self.nodes(&x.indirection);
            }
            NodeEnum::AIndices(x) => {
                self.opt(&x.lidx);
                self.opt(&x.uidx);
            }
            NodeEnum::TypeCast(x) => self.opt(&x.arg),
            NodeEnum::CollateClause(x) => self.opt(&x.arg),
            NodeEnum::NamedArgExpr(x) => self.opt(&x.arg),
            NodeEnum::ResTarget(x) => {
                self.nodes(&x.indirection);
                self.opt(&x.val);
            }
            NodeEnum::MultiAssignRef(x) => self.opt(&x.source),
            NodeEnum::RangeSubselect(x) => self.opt(&x.subquery),
            NodeEnum::RangeFunction(x) => self.nodes(&x.functions),
            NodeEnum::JoinExpr(x) => {
                self.opt(&x.larg);
                self.opt(&x.rarg);
                self.qual(&x.quals);
            }
            NodeEnum::CommonTableExpr(x) => self.opt(&x.ctequery),
            NodeEnum::SortBy(x) => self.opt(&x.node),
            NodeEnum::WindowDef(x) => self.window(x),
            NodeEnum::GroupingSet(x) => self.nodes(&x.content),
            NodeEnum::GroupingFunc(x) => self.nodes(&x.args),
            NodeEnum::List(x) => self.nodes(&x.items),
            NodeEnum::XmlExpr(x) => {
                self.nodes(&x.named_args);
                self.nodes(&x.args);
            }
            NodeEnum::RangeTableSample(x) => {
                self.opt(&x.relation);
                self.nodes(&x.args);
                self.opt(&x.repeatable);
            }
            NodeEnum::DeclareCursorStmt(x) => self.opt(&x.query),
            NodeEnum::ExplainStmt(x) => self.opt(&x.query),
            NodeEnum::CreateTableAsStmt(x) => self.opt(&x.query),
            NodeEnum::ReturnStmt(x) => self.opt(&x.returnval),
            NodeEnum::CreateFunctionStmt(x) => self.opt(&x.sql_body),
            // Leaves: nothing inside can call, write or read NEW.
            NodeEnum::AConst(_)
            | NodeEnum::ParamRef(_)
            | NodeEnum::RangeVar(_)
            | NodeEnum::String(_)
            | NodeEnum::Integer(_)
            | NodeEnum::Float(_)
            | NodeEnum::Boolean(_)
            | NodeEnum::BitString(_)
            | NodeEnum::AStar(_)
            | NodeEnum::SqlvalueFunction(_)
            | NodeEnum::SetToDefault(_)
            | NodeEnum::TypeName(_)
            | NodeEnum::Alias(_)
            | NodeEnum::LockingClause(_)
            | NodeEnum::TransactionStmt(_)
            | NodeEnum::VariableShowStmt(_)
            | NodeEnum::ListenStmt(_)
            | NodeEnum::UnlistenStmt(_)
            | NodeEnum::LockStmt(_)
            | NodeEnum::DiscardStmt(_) => {}
            other => self.visit_generic(other),
        }
    }

    /// The fallback for node types without a typed arm: walk their serde form and pick out
    /// calls, `NEW` reads and DML targets, so nothing nested in them is lost.
    fn visit_generic(&mut self, e: &NodeEnum) {
        if let Ok(v) = serde_json::to_value(e) {
            // Whether what is inside always runs is not known: never claim `always`.
            self.in_cond("inside an expression not analysed for certainty", |f| {
                f.value(&v)
            });
        }
    }

    fn value(&mut self, v: &serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    match k.as_str() {
                        "FuncCall" => {
                            let name = value_strings(&child["funcname"]);
                            if name.last().map(String::as_str) == Some("pg_notify") {
                                let channel = child["args"]
                                    .get(0)
                                    .and_then(|a| value_const_string(&a["node"]));
                                let sure = self.here();
                                self.notifies.push(RawNotify { channel, sure });
                            } else if !name.is_empty() {
                                self.call(name);
                            }
                        }
                        "ColumnRef" => {
                            let fields = value_strings(&child["fields"]);
                            if fields.first().map(String::as_str) == Some("new") {
                                let col = fields.get(1).cloned().unwrap_or_else(|| "*".into());
                                self.new_reads.insert(col);
                            }
                        }
                        "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" => {
                            let rel = &child["relation"];
                            if let Some(name) = rel["relname"].as_str() {
                                let schema = rel["schemaname"].as_str().filter(|s| !s.is_empty());
                                let ops: &[WriteOp] = match k.as_str() {
                                    "InsertStmt" => &[WriteOp::Insert],
                                    "UpdateStmt" => &[WriteOp::Update],
                                    "DeleteStmt" => &[WriteOp::Delete],
                                    _ => &[WriteOp::Insert, WriteOp::Update, WriteOp::Delete],
                                };
                                for &op in ops {
                                    self.writes.push(RawWrite {
                                        schema: schema.map(str::to_string),
                                        name: name.to_string(),
                                        op,
                                        columns: None,
                                        via: None,
                                        sure: self.here(),
                                    });
                                }
                            }
                        }
                        _ => {}
                    }
                    self.value(child);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.value(x)),
            _ => {}
        }
    }
}

/// A query that may produce no rows: it reads a FROM, filters, groups, limits or combines.
/// `SELECT f()` and `VALUES (…)` produce their rows whatever the data.
fn select_may_be_empty(s: &protobuf::SelectStmt) -> bool {
    !s.from_clause.is_empty()
        || s.where_clause.is_some()
        || s.having_clause.is_some()
        || !s.group_clause.is_empty()
        || s.limit_count.is_some()
        || s.limit_offset.is_some()
        || s.larg.is_some()
        || s.rarg.is_some()
}

/// `["s", "f"]` from a list of `String` nodes.
fn string_list(ns: &[protobuf::Node]) -> Vec<String> {
    ns.iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The column names of an UPDATE's SET list.
fn target_names(ns: &[protobuf::Node]) -> Vec<String> {
    let mut cols: Vec<String> = ns
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::ResTarget(r)) if !r.name.is_empty() => Some(r.name.clone()),
            _ => None,
        })
        .collect();
    cols.sort();
    cols.dedup();
    cols
}

/// `'x'` or `'x'::text`: the string, else None.
fn literal_string(n: &protobuf::Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::AConst(c) => match &c.val {
            Some(a_const::Val::Sval(s)) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::TypeCast(t) => literal_string(t.arg.as_ref()?),
        _ => None,
    }
}

fn value_strings(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["node"]["String"]["sval"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn value_const_string(node: &serde_json::Value) -> Option<String> {
    if let Some(s) = node["AConst"]["val"]["Sval"]["sval"].as_str() {
        return Some(s.to_string());
    }
    value_const_string(&node["TypeCast"]["arg"]["node"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sql: &str) -> SqlFacts {
        let mut f = SqlFacts::default();
        f.add_parse_result(&pg_query::parse(sql).unwrap().protobuf);
        f
    }

    fn ops(f: &SqlFacts) -> Vec<(String, WriteOp, Option<Vec<String>>)> {
        f.writes
            .iter()
            .map(|w| {
                let name = match &w.schema {
                    Some(s) => format!("{s}.{}", w.name),
                    None => w.name.clone(),
                };
                (name, w.op, w.columns.clone())
            })
            .collect()
    }

    #[test]
    fn dml_targets_and_update_columns() {
        let f = facts(
            "INSERT INTO s.t (a) SELECT f(x) FROM u ON CONFLICT (a) DO UPDATE SET b = 2, c = g(1); \
             UPDATE dot_counts SET n = n + 1 WHERE status = NEW.status; \
             WITH d AS (DELETE FROM q RETURNING *) SELECT * FROM d; TRUNCATE a, b.c",
        );
        assert_eq!(
            ops(&f),
            vec![
                ("s.t".into(), WriteOp::Insert, None),
                (
                    "s.t".into(),
                    WriteOp::Update,
                    Some(vec!["b".into(), "c".into()])
                ),
                ("dot_counts".into(), WriteOp::Update, Some(vec!["n".into()])),
                ("q".into(), WriteOp::Delete, None),
                ("a".into(), WriteOp::Truncate, None),
                ("b.c".into(), WriteOp::Truncate, None),
            ]
        );
        assert_eq!(f.calls, vec![vec!["g".to_string()], vec!["f".to_string()]]);
        assert_eq!(f.new_reads, BTreeSet::from(["status".to_string()]));
    }

    #[test]
    fn merge_actions_are_writes() {
        let f = facts(
            "MERGE INTO m USING src ON m.id = src.id WHEN MATCHED AND h() THEN UPDATE SET v = 1 \
             WHEN NOT MATCHED THEN INSERT VALUES (1) WHEN MATCHED THEN DELETE",
        );
        let got: Vec<WriteOp> = f.writes.iter().map(|w| w.op).collect();
        assert_eq!(got, [WriteOp::Update, WriteOp::Insert, WriteOp::Delete]);
        assert_eq!(f.calls, vec![vec!["h".to_string()]]);
    }

    #[test]
    fn notify_channels_literal_or_not() {
        let f = facts(
            "SELECT pg_notify(v_chan, 'x'), pg_catalog.pg_notify('lit'::text, 'y'); NOTIFY chan_a",
        );
        let chans: Vec<Option<&str>> = f.notifies.iter().map(|n| n.channel.as_deref()).collect();
        assert_eq!(chans, [None, Some("lit"), Some("chan_a")]);
        assert!(
            f.calls.is_empty(),
            "pg_notify is a channel, not a call: {:?}",
            f.calls
        );
    }

    #[test]
    fn nested_calls_are_found_everywhere() {
        let f = facts(
            "SELECT CASE WHEN a(NEW.x) THEN coalesce(b(), (SELECT c() FROM t WHERE d(1))) END \
             FROM e() AS r ORDER BY s.f(); CALL s.p(q())",
        );
        let mut names: Vec<String> = f.calls.iter().map(|c| c.join(".")).collect();
        names.sort();
        assert_eq!(names, ["a", "b", "c", "d", "e", "q", "s.f", "s.p"]);
        assert!(f.new_reads.contains("x"));
    }

    #[test]
    fn generic_fallback_still_sees_calls_and_new_fields() {
        // JSON constructors have no typed arm.
        let f = facts("SELECT json_object('k': hidden(NEW.code))");
        assert!(
            f.calls.iter().any(|c| c == &["hidden".to_string()]),
            "{:?}",
            f.calls
        );
        assert!(f.new_reads.contains("code"));
    }

    #[test]
    fn whole_row_new_reads_are_marked() {
        let f = facts("SELECT to_jsonb(NEW), NEW.*");
        assert_eq!(f.new_reads, BTreeSet::from(["*".to_string()]));
    }
}
