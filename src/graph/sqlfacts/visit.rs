//! The typed walk over statement and expression nodes (and the generic fallback through
//! their serde form for every other node): where [`SqlFacts`] finds writes, calls,
//! notifications and `NEW` reads, and how sure each is.

use super::*;

impl SqlFacts {
    pub(super) fn visit(&mut self, e: &NodeEnum) {
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

    pub(super) fn merge(&mut self, s: &protobuf::MergeStmt) {
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

    pub(super) fn visit_rest(&mut self, e: &NodeEnum) {
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
    pub(super) fn visit_generic(&mut self, e: &NodeEnum) {
        if let Ok(v) = serde_json::to_value(e) {
            // Whether what is inside always runs is not known: never claim `always`.
            self.in_cond("inside an expression not analysed for certainty", |f| {
                f.value(&v)
            });
        }
    }

    pub(super) fn value(&mut self, v: &serde_json::Value) {
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
pub(super) fn select_may_be_empty(s: &protobuf::SelectStmt) -> bool {
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
pub(super) fn string_list(ns: &[protobuf::Node]) -> Vec<String> {
    ns.iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The column names of an UPDATE's SET list.
pub(super) fn target_names(ns: &[protobuf::Node]) -> Vec<String> {
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
pub(super) fn literal_string(n: &protobuf::Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::AConst(c) => match &c.val {
            Some(a_const::Val::Sval(s)) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::TypeCast(t) => literal_string(t.arg.as_ref()?),
        _ => None,
    }
}

pub(super) fn value_strings(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["node"]["String"]["sval"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn value_const_string(node: &serde_json::Value) -> Option<String> {
    if let Some(s) = node["AConst"]["val"]["Sval"]["sval"].as_str() {
        return Some(s.to_string());
    }
    value_const_string(&node["TypeCast"]["arg"]["node"])
}
