//! PL/pgSQL bodies: `parse_plpgsql`'s statement tree walked for the SQL pieces it runs
//! (each with the guards around it), its dynamic `EXECUTE`s, the `NEW` fields it assigns and
//! its `RETURN`s; the pieces are then parsed in one batch into [`SqlFacts`].

use super::{DynamicSql, RawBody};
use crate::graph::certainty::Sure;
use crate::graph::sqlfacts::SqlFacts;
use serde_json::Value;
use std::collections::BTreeSet;

/// One SQL text to parse, with the line of the PL/pgSQL statement it came from.
struct Piece {
    sql: String,
    line: Option<u32>,
    /// Parsed into the literal-EXECUTE facts rather than the static ones.
    literal_exec: bool,
    /// The PL/pgSQL guards around the statement.
    sure: Sure,
}

pub(super) fn plpgsql_facts(definition: &str) -> Result<RawBody, String> {
    let tree = pg_query::parse_plpgsql(definition).map_err(|e| e.to_string())?;
    let mut walk = PlWalk::default();
    for func in tree.as_array().into_iter().flatten() {
        let f = &func["PLpgSQL_function"];
        walk.datums = f["datums"].as_array().cloned().unwrap_or_default();
        walk.new_varno = f["new_varno"].as_i64();
        walk.walk(&f["action"], None);
        let datums = std::mem::take(&mut walk.datums);
        for d in &datums {
            walk.walk(d, None);
        }
    }
    let mut raw = RawBody {
        dynamic: walk.dynamic,
        new_assigned: walk.assigned,
        returns: walk.returns,
        ..RawBody::default()
    };
    let (exec, stat): (Vec<Piece>, Vec<Piece>) =
        walk.pieces.into_iter().partition(|p| p.literal_exec);
    parse_batch(&stat, &mut raw.sql, &mut raw.failed);
    parse_batch(&exec, &mut raw.literal_exec, &mut raw.failed);
    Ok(raw)
}

/// Parse all pieces with one call; on failure, one by one to name the culprits.
fn parse_batch(pieces: &[Piece], facts: &mut SqlFacts, failed: &mut Vec<String>) {
    if pieces.is_empty() {
        return;
    }
    // A newline before each `;` ends any trailing `--` comment of the piece before it.
    let joined = pieces
        .iter()
        .map(|p| p.sql.as_str())
        .collect::<Vec<_>>()
        .join("\n;\n");
    if let Ok(parsed) = pg_query::parse(&joined) {
        // A statement belongs to the piece after the last separator `;` before it.
        let mut separators = Vec::with_capacity(pieces.len());
        let mut at = 0;
        for p in pieces {
            at += p.sql.len();
            separators.push(at + 1);
            at += 3;
        }
        facts.add_parse_result_with(&parsed.protobuf, |loc| {
            let i = separators.partition_point(|&s| s < loc);
            pieces
                .get(i)
                .map_or_else(Sure::always, |p: &Piece| p.sure.clone())
        });
        return;
    }
    for p in pieces {
        match pg_query::parse(&p.sql) {
            Ok(parsed) => facts.add_parse_result_with(&parsed.protobuf, |_| p.sure.clone()),
            Err(e) => failed.push(match p.line {
                Some(l) => format!("line {l}: {e}"),
                None => e.to_string(),
            }),
        }
    }
}

#[derive(Default)]
struct PlWalk {
    datums: Vec<Value>,
    new_varno: Option<i64>,
    pieces: Vec<Piece>,
    dynamic: Vec<DynamicSql>,
    assigned: BTreeSet<String>,
    /// The guards around the statement being walked, outermost first.
    guards: Vec<String>,
    returns: BTreeSet<String>,
}

// PLpgSQL_expr.parseMode (RawParseMode in parser/parser.h).
const RAW_PARSE_DEFAULT: i64 = 0;
const RAW_PARSE_PLPGSQL_EXPR: i64 = 2;
const RAW_PARSE_PLPGSQL_ASSIGN1: i64 = 3;
const RAW_PARSE_PLPGSQL_ASSIGN3: i64 = 5;

impl PlWalk {
    fn walk(&mut self, v: &Value, line: Option<u32>) {
        match v {
            Value::Object(m) => {
                let line = m
                    .get("lineno")
                    .and_then(Value::as_u64)
                    .and_then(|l| u32::try_from(l).ok())
                    .or(line);
                for (k, child) in m {
                    let child_line = child
                        .get("lineno")
                        .and_then(Value::as_u64)
                        .and_then(|l| u32::try_from(l).ok())
                        .or(line);
                    match k.as_str() {
                        "PLpgSQL_expr" => {
                            self.expr(child, line);
                            continue;
                        }
                        "PLpgSQL_stmt_assign" => {
                            if let Some(varno) = child["varno"].as_i64() {
                                self.assign_datum(varno);
                            }
                        }
                        "PLpgSQL_stmt_execsql" | "PLpgSQL_stmt_dynexecute"
                            if child["into"] == true =>
                        {
                            self.assign_target(&child["target"]);
                        }
                        "PLpgSQL_stmt_return" => {
                            let q = child["expr"]["PLpgSQL_expr"]["query"]
                                .as_str()
                                .unwrap_or("");
                            self.returns.insert(q.trim().to_ascii_lowercase());
                            // `RETURN NEW` hands the row back; it does not read its fields.
                            if matches!(
                                q.trim().to_ascii_lowercase().as_str(),
                                "new" | "old" | "null"
                            ) {
                                continue;
                            }
                        }
                        _ => {}
                    }
                    match k.as_str() {
                        "PLpgSQL_stmt_dynexecute" | "PLpgSQL_stmt_dynfors" => {
                            self.dynamic_sql(&child["query"], child_line);
                        }
                        "PLpgSQL_stmt_open" | "PLpgSQL_stmt_return_query"
                            if child.get("dynquery").is_some() =>
                        {
                            self.dynamic_sql(&child["dynquery"], child_line);
                        }
                        _ => {}
                    }
                    if !self.compound(k, child, line) {
                        self.walk(child, line);
                    }
                }
            }
            Value::Array(a) => {
                // After a statement that may RETURN, the rest of the list may not run.
                let depth = self.guards.len();
                for x in a {
                    self.walk(x, line);
                    if self.guards.len() == depth {
                        if let Some(l) = find_return(x) {
                            self.guards
                                .push(format!("after a RETURN that may run first (line {l})"));
                        }
                    }
                }
                self.guards.truncate(depth);
            }
            _ => {}
        }
    }

    /// Walk `v` inside the guard `g`.
    fn guarded(&mut self, g: String, v: &Value, line: Option<u32>) {
        self.guards.push(g);
        self.walk(v, line);
        self.guards.pop();
    }

    /// Statements whose parts run only under a guard: IF, CASE, loops, exception handlers.
    /// Walks `v` (the statement named `k`) and says so; false for any other statement.
    fn compound(&mut self, k: &str, v: &Value, line: Option<u32>) -> bool {
        let text = |e: &Value| {
            e["PLpgSQL_expr"]["query"]
                .as_str()
                .map_or_else(|| "…".to_string(), |q| q.trim().to_string())
        };
        match k {
            "PLpgSQL_stmt_if" => {
                let cond = text(&v["cond"]);
                self.walk(&v["cond"], line);
                self.guarded(format!("IF {cond}"), &v["then_body"], line);
                for e in v["elsif_list"].as_array().into_iter().flatten() {
                    let e = &e["PLpgSQL_if_elsif"];
                    self.guarded(format!("ELSIF {}", text(&e["cond"])), e, line);
                }
                self.guarded(format!("ELSE of IF {cond}"), &v["else_body"], line);
                true
            }
            "PLpgSQL_stmt_case" => {
                self.walk(&v["t_expr"], line);
                // A simple CASE's WHEN reads `"__Case__Variable_N__" IN (values)` once
                // PL/pgSQL has rewritten it: shown as `CASE subject WHEN values`.
                let subject = v["t_expr"]["PLpgSQL_expr"]["query"].as_str().map(str::trim);
                for w in v["case_when_list"].as_array().into_iter().flatten() {
                    let w = &w["PLpgSQL_case_when"];
                    let when = text(&w["expr"]);
                    let guard = match subject {
                        Some(sub) => {
                            let values = when
                                .split_once(" IN (")
                                .filter(|(var, _)| var.starts_with("\"__Case__Variable_"))
                                .and_then(|(_, rest)| rest.strip_suffix(')'))
                                .unwrap_or(&when);
                            format!("CASE {sub} WHEN {values}")
                        }
                        None => format!("CASE WHEN {when}"),
                    };
                    self.guarded(guard, w, line);
                }
                self.guarded("CASE ELSE".to_string(), &v["else_stmts"], line);
                true
            }
            "PLpgSQL_stmt_loop"
            | "PLpgSQL_stmt_while"
            | "PLpgSQL_stmt_fori"
            | "PLpgSQL_stmt_fors"
            | "PLpgSQL_stmt_forc"
            | "PLpgSQL_stmt_foreach_a"
            | "PLpgSQL_stmt_dynfors" => {
                let guard = match k {
                    "PLpgSQL_stmt_loop" => "inside LOOP".to_string(),
                    "PLpgSQL_stmt_while" => format!("WHILE {}", text(&v["cond"])),
                    "PLpgSQL_stmt_fors" => format!("FOR … IN {}", text(&v["query"])),
                    "PLpgSQL_stmt_dynfors" => "FOR … IN EXECUTE".to_string(),
                    "PLpgSQL_stmt_foreach_a" => format!("FOREACH … IN {}", text(&v["expr"])),
                    _ => "inside a FOR loop".to_string(),
                };
                // What sets the loop up runs once; only its body may run zero times.
                for (field, child) in v.as_object().into_iter().flatten() {
                    if field == "body" {
                        self.guarded(guard.clone(), child, line);
                    } else {
                        self.walk(child, line);
                    }
                }
                true
            }
            "PLpgSQL_stmt_block" if v.get("exceptions").is_some() => {
                for (field, child) in v.as_object().into_iter().flatten() {
                    if field != "exceptions" {
                        self.walk(child, line);
                    }
                }
                let handlers = &v["exceptions"]["PLpgSQL_exception_block"]["exc_list"];
                for h in handlers.as_array().into_iter().flatten() {
                    let h = &h["PLpgSQL_exception"];
                    let names: Vec<&str> = h["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c["PLpgSQL_condition"]["condname"].as_str())
                        .collect();
                    self.guarded(format!("EXCEPTION WHEN {}", names.join(" OR ")), h, line);
                }
                true
            }
            _ => false,
        }
    }

    fn sure(&self) -> Sure {
        Sure::guarded(&self.guards)
    }

    fn expr(&mut self, e: &Value, line: Option<u32>) {
        let Some(q) = e["query"].as_str() else { return };
        let mode = e["parseMode"].as_i64().unwrap_or(RAW_PARSE_DEFAULT);
        let sql = match mode {
            RAW_PARSE_DEFAULT => q.to_string(),
            RAW_PARSE_PLPGSQL_EXPR => format!("SELECT {q}"),
            RAW_PARSE_PLPGSQL_ASSIGN1..=RAW_PARSE_PLPGSQL_ASSIGN3 => match assignment_value(q) {
                Some(rhs) => format!("SELECT {rhs}"),
                None => return,
            },
            _ => return, // a type name
        };
        self.pieces.push(Piece {
            sql,
            line,
            literal_exec: false,
            sure: self.sure(),
        });
    }

    fn dynamic_sql(&mut self, query: &Value, line: Option<u32>) {
        let Some(text) = query["PLpgSQL_expr"]["query"].as_str() else {
            return;
        };
        let literal = string_literal(text);
        if let Some(sql) = &literal {
            self.pieces.push(Piece {
                sql: sql.clone(),
                line,
                literal_exec: true,
                sure: self.sure(),
            });
        }
        self.dynamic.push(DynamicSql {
            line,
            expression: text.trim().to_string(),
            literal: literal.is_some(),
            sure: self.sure(),
        });
    }

    /// `PLpgSQL_stmt_assign.varno`: a `NEW` field, or `NEW` itself.
    fn assign_datum(&mut self, varno: i64) {
        if Some(varno) == self.new_varno {
            self.assigned.insert("*".to_string());
            return;
        }
        let Some(d) = usize::try_from(varno).ok().and_then(|i| self.datums.get(i)) else {
            return;
        };
        let field = &d["PLpgSQL_recfield"];
        if field["recparentno"].as_i64().is_some()
            && field["recparentno"].as_i64() == self.new_varno
        {
            if let Some(name) = field["fieldname"].as_str() {
                self.assigned.insert(name.to_string());
            }
        }
    }

    /// `INTO` targets: a row of variables, a record, or a record field.
    fn assign_target(&mut self, target: &Value) {
        if let Some(fields) = target["PLpgSQL_row"]["fields"].as_array() {
            for f in fields {
                if let Some(varno) = f["varno"].as_i64() {
                    self.assign_datum(varno);
                }
            }
        } else if let Some(dno) = target["PLpgSQL_rec"]["dno"].as_i64() {
            self.assign_datum(dno);
        } else if target["PLpgSQL_recfield"].is_object() {
            let f = &target["PLpgSQL_recfield"];
            if f["recparentno"].as_i64() == self.new_varno {
                if let Some(name) = f["fieldname"].as_str() {
                    self.assigned.insert(name.to_string());
                }
            }
        }
    }
}

/// The line of a `RETURN` anywhere inside a PL/pgSQL statement, if it holds one.
fn find_return(v: &Value) -> Option<u32> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, c)| {
            if k == "PLpgSQL_stmt_return" {
                Some(
                    c["lineno"]
                        .as_u64()
                        .and_then(|l| u32::try_from(l).ok())
                        .unwrap_or(0),
                )
            } else {
                find_return(c)
            }
        }),
        Value::Array(a) => a.iter().find_map(find_return),
        _ => None,
    }
}

/// The value part of a PL/pgSQL assignment `target := value` (or `target = value`). The
/// target is a variable, possibly with fields and subscripts, so the first `:=` or `=`
/// outside brackets and quoted names ends it.
pub(super) fn assignment_value(q: &str) -> Option<&str> {
    let b = q.as_bytes();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if quoted {
            quoted = c != b'"';
        } else {
            match c {
                b'"' => quoted = true,
                b'[' | b'(' => depth += 1,
                b']' | b')' => depth -= 1,
                b':' if depth == 0 && b.get(i + 1) == Some(&b'=') => return Some(&q[i + 2..]),
                b'=' if depth == 0 => return Some(&q[i + 1..]),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// `'TRUNCATE t'` → `TRUNCATE t`; anything but one plain string literal → None.
pub(super) fn string_literal(expr: &str) -> Option<String> {
    let inner = expr.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Only a doubled quote may appear inside; anything else means concatenation.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}
