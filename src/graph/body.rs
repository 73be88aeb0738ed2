//! Body analysis: what a routine writes, calls and notifies, its dynamic SQL, and the `NEW`
//! fields it assigns and reads, from PostgreSQL's own parsers (`pg_query`), never regexes.
//!
//! PL/pgSQL: `parse_plpgsql` on the full `CREATE FUNCTION` text gives the statement tree;
//! every SQL statement and expression in it is collected, and all of them are parsed with
//! one `pg_query::parse` call (one per routine, not one per expression: the batch is what
//! keeps ten thousand functions fast). Only when the batch fails is each piece parsed on its
//! own, to name the piece that failed. SQL-language bodies are parsed directly. Unqualified
//! names resolve along the routine's `search_path` setting, else `public`.
//!
//! Each write, call, notification and EXECUTE carries how sure it is to run when the
//! routine runs ([`Sure`]): where its statement sits in the PL/pgSQL tree decides that —
//! inside an `IF`/`ELSIF`/`ELSE` or `CASE` branch, a loop body (a loop may run zero
//! times), an exception handler, or after a statement that may `RETURN` first, it is
//! `conditional` with the guards' text (nested guards joined with `; `); [`sqlfacts`] adds
//! what the statement itself leaves to the data (`maybe-no-rows`). A fact found several
//! times keeps its surest occurrence. `TG_OP` guards are kept as written, not evaluated:
//! facts are per routine while the event is per walk, and a guard left conditional never
//! drops an edge that could run.
//!
//! [`sqlfacts`]: super::sqlfacts
//!
//! A body larger than [`MAX_ANALYSED_BODY_BYTES`] is not parsed: `pg_query` builds its
//! whole parse tree as JSON and then as Rust values, about 240 bytes of memory per byte of
//! body (a 99 MB PL/pgSQL body took `graph` to 24 GB). Such a routine is unanalysable,
//! with the size as the reason, so the graph flags it as a hazard instead of taking it for a
//! routine that does nothing.

use super::certainty::Sure;
use super::index::SnapshotIndex;
use super::sqlfacts::{RawNotify, SqlFacts, WriteOp};
use crate::model::{CatalogObject, ObjectKey, QualifiedName, RoutineDef};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a body could be read, and how much of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BodyStatus {
    Analysed,
    /// Parsed, but some embedded statements could not be (listed): facts may be missing.
    Partial {
        failed: Vec<String>,
    },
    /// The body did not parse at all: nothing is known about what it does.
    Unanalysable {
        reason: String,
    },
    /// A language driftgate does not read (C, internal, PL/Python …): opaque.
    NotAnalysed {
        language: String,
    },
}

impl BodyStatus {
    pub fn is_complete(&self) -> bool {
        matches!(self, BodyStatus::Analysed)
    }

    /// One line for people; `None` when the body was fully analysed.
    pub fn problem(&self) -> Option<String> {
        match self {
            BodyStatus::Analysed => None,
            BodyStatus::Partial { failed } => {
                Some(format!("partly unanalysable: {}", failed.join("; ")))
            }
            BodyStatus::Unanalysable { reason } => Some(format!("unanalysable: {reason}")),
            BodyStatus::NotAnalysed { language } => {
                Some(format!("language {language} is not analysed (opaque)"))
            }
        }
    }
}

/// A table a routine writes, resolved.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TableWrite {
    /// Qualified as in a `table:` key.
    pub table: String,
    pub op: WriteOp,
    /// The columns an UPDATE sets, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// `on_conflict`, `merge`, `copy` or `execute` (a literal EXECUTE string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'static str>,
    /// False when no relation of that name is in the snapshot (temporary table, excluded
    /// schema): the write is shown but cannot be followed.
    pub in_snapshot: bool,
    /// How sure the write is to happen when the routine runs.
    #[serde(flatten)]
    pub sure: Sure,
}

/// A notification channel; `None` when the channel is computed at run time (opaque).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Notify {
    pub channel: Option<String>,
    #[serde(flatten)]
    pub sure: Sure,
}

/// `EXECUTE expr`, `FOR … IN EXECUTE`, `OPEN … FOR EXECUTE`, `RETURN QUERY EXECUTE`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DynamicSql {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The expression that builds the statement, as written.
    pub expression: String,
    /// The statement was a plain string literal and was analysed like static SQL.
    pub literal: bool,
    #[serde(flatten)]
    pub sure: Sure,
}

/// Everything known about one routine's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BodyFacts {
    pub routine: ObjectKey,
    pub status: BodyStatus,
    pub writes: Vec<TableWrite>,
    /// Routines in the snapshot it calls (every overload of an ambiguous name).
    pub calls: Vec<ObjectKey>,
    /// How sure each of `calls` is to be called when the routine runs.
    pub call_sures: BTreeMap<ObjectKey, Sure>,
    pub notifies: Vec<Notify>,
    pub dynamic: Vec<DynamicSql>,
    /// `NEW` fields assigned (`NEW.col := …`, `SELECT … INTO NEW.col`); `*` for `NEW := …`.
    pub new_assigned: BTreeSet<String>,
    /// `NEW` fields read; `*` for a whole-row use such as `to_jsonb(NEW)`.
    pub new_read: BTreeSet<String>,
    /// What its `RETURN`s return, lower-cased (`new`, `null`, `v_row`; empty for a bare
    /// `RETURN`): a BEFORE ROW trigger returning anything but the row skips it.
    pub returns: BTreeSet<String>,
}

impl BodyFacts {
    /// As a BEFORE ROW trigger, may it skip the row (return something other than `row`,
    /// `new` or `old`)? A body not fully analysed may.
    pub fn may_skip_row(&self, row: &str) -> bool {
        !self.status.is_complete() || self.returns.iter().any(|r| r != row)
    }
}

impl BodyFacts {
    fn empty(routine: ObjectKey, status: BodyStatus) -> Self {
        BodyFacts {
            routine,
            status,
            writes: Vec::new(),
            calls: Vec::new(),
            call_sures: BTreeMap::new(),
            notifies: Vec::new(),
            dynamic: Vec::new(),
            new_assigned: BTreeSet::new(),
            new_read: BTreeSet::new(),
            returns: BTreeSet::new(),
        }
    }
}

/// The schemas a routine's unqualified names resolve in: its `SET search_path`, else
/// `public`. `$user` is the routine's owner; `pg_temp` is skipped (temporary objects are
/// never in a snapshot).
pub fn search_path(routine: &RoutineDef, owner: Option<&str>) -> Vec<String> {
    let Some(setting) = routine
        .config
        .iter()
        .find_map(|c| c.strip_prefix("search_path="))
    else {
        return vec!["public".to_string()];
    };
    let mut path = Vec::new();
    for item in split_path(setting) {
        match item.as_str() {
            "" => {}
            "$user" => path.extend(owner.map(str::to_string)),
            s if s == "pg_temp" || s.starts_with("pg_temp_") => {}
            _ => path.push(item),
        }
    }
    path
}

/// `public, "My Schema"` → `["public", "My Schema"]`.
fn split_path(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c if c.is_whitespace() && !quoted && cur.is_empty() => {}
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// The largest body (the text handed to the parser) analysed. Real trigger functions are a
/// few KiB; at this size the parse peaks at a few hundred MiB, which bounds `graph`'s memory
/// whatever a snapshot holds (bodies are analysed one at a time).
pub const MAX_ANALYSED_BODY_BYTES: usize = 1 << 20;

/// The text of `routine` the parser would be given, refused past the budget.
fn within_budget(text: &str) -> Result<&str, String> {
    if text.len() > MAX_ANALYSED_BODY_BYTES {
        return Err(format!(
            "body larger than {MAX_ANALYSED_BODY_BYTES} bytes ({} bytes): not parsed, so nothing is known about what it does",
            text.len()
        ));
    }
    Ok(text)
}

/// Analyse one routine object of the snapshot.
pub fn analyse(index: &SnapshotIndex<'_>, obj: &CatalogObject) -> BodyFacts {
    let Some(routine) = obj.as_routine() else {
        return BodyFacts::empty(
            obj.key.clone(),
            BodyStatus::Unanalysable {
                reason: "not a routine".into(),
            },
        );
    };
    let raw = match routine.language.as_str() {
        "plpgsql" => match &routine.definition {
            Some(def) => within_budget(def).and_then(plpgsql_facts),
            None => Err("no definition was captured".to_string()),
        },
        "sql" => sql_facts(routine),
        _ if routine.aggregate.is_some() => Ok(RawBody::default()),
        other => {
            return BodyFacts::empty(
                obj.key.clone(),
                BodyStatus::NotAnalysed {
                    language: other.to_string(),
                },
            )
        }
    };
    match raw {
        Ok(raw) => resolve(
            index,
            &obj.key,
            &search_path(routine, obj.owner.as_deref()),
            raw,
        ),
        Err(reason) => BodyFacts::empty(obj.key.clone(), BodyStatus::Unanalysable { reason }),
    }
}

/// Facts with names still as written.
#[derive(Default, Debug)]
struct RawBody {
    sql: SqlFacts,
    dynamic: Vec<DynamicSql>,
    new_assigned: BTreeSet<String>,
    failed: Vec<String>,
    /// Writes found in literal EXECUTE strings.
    literal_exec: SqlFacts,
    returns: BTreeSet<String>,
}

fn resolve(index: &SnapshotIndex<'_>, key: &ObjectKey, path: &[String], raw: RawBody) -> BodyFacts {
    // One fact per (table, op, columns, via): the same write in two branches is one edge,
    // as sure as its surest occurrence.
    type WriteKey = (
        String,
        WriteOp,
        Option<Vec<String>>,
        Option<&'static str>,
        bool,
    );
    let mut writes: BTreeMap<WriteKey, Sure> = BTreeMap::new();
    let default_schema = path.first().map(String::as_str).unwrap_or("public");
    let sources = [(&raw.sql, None), (&raw.literal_exec, Some("execute"))];
    for (facts, via_exec) in sources {
        for w in &facts.writes {
            let resolved = index.resolve_relation(w.schema.as_deref(), &w.name, path);
            let in_snapshot = resolved.is_some();
            let table = resolved.unwrap_or_else(|| {
                QualifiedName::new(w.schema.as_deref().unwrap_or(default_schema), &w.name)
                    .to_string()
            });
            let key = (
                table,
                w.op,
                w.columns.clone(),
                w.via.or(via_exec),
                in_snapshot,
            );
            merge_sure(&mut writes, key, &w.sure);
        }
    }
    let mut call_sures: BTreeMap<ObjectKey, Sure> = BTreeMap::new();
    for facts in [&raw.sql, &raw.literal_exec] {
        for (i, parts) in facts.calls.iter().enumerate() {
            let sure = facts.call_sures.get(i).cloned().unwrap_or_default();
            for key in index.resolve_routine(parts, path) {
                merge_sure(&mut call_sures, key.clone(), &sure);
            }
        }
    }
    let calls: Vec<ObjectKey> = call_sures.keys().cloned().collect();
    let mut notify_sures: BTreeMap<Option<String>, Sure> = BTreeMap::new();
    for RawNotify { channel, sure } in raw.sql.notifies.iter().chain(&raw.literal_exec.notifies) {
        merge_sure(&mut notify_sures, channel.clone(), sure);
    }
    let notifies: Vec<Notify> = notify_sures
        .into_iter()
        .map(|(channel, sure)| Notify { channel, sure })
        .collect();
    let mut dynamic = raw.dynamic;
    dynamic.sort();
    dynamic.dedup();
    let writes: Vec<TableWrite> = writes
        .into_iter()
        .map(
            |((table, op, columns, via, in_snapshot), sure)| TableWrite {
                table,
                op,
                columns,
                via,
                in_snapshot,
                sure,
            },
        )
        .collect();
    let status = if raw.failed.is_empty() {
        BodyStatus::Analysed
    } else {
        BodyStatus::Partial { failed: raw.failed }
    };
    BodyFacts {
        routine: key.clone(),
        status,
        writes,
        calls,
        call_sures,
        notifies,
        dynamic,
        new_assigned: raw.new_assigned,
        new_read: raw.sql.new_reads,
        returns: raw.returns,
    }
}

/// Record `sure` for `key`, keeping the surest of several occurrences.
fn merge_sure<K: Ord>(map: &mut BTreeMap<K, Sure>, key: K, sure: &Sure) {
    match map.get_mut(&key) {
        Some(s) => *s = s.or(sure),
        None => {
            map.insert(key, sure.clone());
        }
    }
}

/// SQL-language bodies: the source holds the statements; a SQL-standard body (`BEGIN
/// ATOMIC … END`, `RETURN …`) is only valid inside its `CREATE FUNCTION`.
fn sql_facts(routine: &RoutineDef) -> Result<RawBody, String> {
    let src = routine.source.trim_start();
    let head: String = src
        .chars()
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    let standard = head.starts_with("BEGIN ATOMIC") || head.starts_with("RETURN");
    let text = match (&routine.definition, standard) {
        (Some(def), true) => def.as_str(),
        _ => routine.source.as_str(),
    };
    let parsed = pg_query::parse(within_budget(text)?).map_err(|e| e.to_string())?;
    let mut raw = RawBody::default();
    raw.sql.add_parse_result(&parsed.protobuf);
    Ok(raw)
}

/// One SQL text to parse, with the line of the PL/pgSQL statement it came from.
struct Piece {
    sql: String,
    line: Option<u32>,
    /// Parsed into the literal-EXECUTE facts rather than the static ones.
    literal_exec: bool,
    /// The PL/pgSQL guards around the statement.
    sure: Sure,
}

fn plpgsql_facts(definition: &str) -> Result<RawBody, String> {
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
fn assignment_value(q: &str) -> Option<&str> {
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
fn string_literal(expr: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testkit::{routine, snapshot_with, table};
    use crate::model::{ObjectDef, ObjectKind};

    fn analyse_one(f: CatalogObject, mut others: Vec<CatalogObject>) -> BodyFacts {
        others.push(f.clone());
        let snap = snapshot_with(others);
        let index = SnapshotIndex::new(&snap);
        analyse(&index, &f)
    }

    fn writes(b: &BodyFacts) -> Vec<String> {
        b.writes
            .iter()
            .map(|w| {
                let mut s = format!("{} {}", w.op.event(), w.table);
                if let Some(c) = &w.columns {
                    s.push_str(&format!(" ({})", c.join(",")));
                }
                if let Some(v) = w.via {
                    s.push_str(&format!(" via {v}"));
                }
                s
            })
            .collect()
    }

    #[test]
    fn plpgsql_writes_calls_notifies_and_new_fields() {
        let f = routine(
            "fn_x",
            "plpgsql",
            &[],
            "DECLARE v_ok boolean := helper(1);\nBEGIN\n\
               IF NEW.code IS NULL THEN NEW.code := 'DOT-' || lpad(NEW.id::text, 4, '0'); END IF;\n\
               UPDATE dot_counts SET n = n + 1 WHERE status = NEW.status;\n\
               INSERT INTO audit.log (c) VALUES (NEW.code) ON CONFLICT (c) DO UPDATE SET n = 2;\n\
               IF NEW.status = 'active' THEN\n\
                 PERFORM pg_notify('context_pack_event', json_build_object('c', NEW.code)::text);\n\
               END IF;\n\
               PERFORM pg_notify(TG_ARGV[0], 'x');\n\
               RETURN NEW;\nEND",
        );
        let helper = routine("helper", "plpgsql", &[], "BEGIN RETURN 1; END");
        let b = analyse_one(
            f,
            vec![helper, table("public", "dot_counts"), table("audit", "log")],
        );
        assert_eq!(b.status, BodyStatus::Analysed);
        assert_eq!(
            writes(&b),
            [
                "insert audit.log",
                "update audit.log (n) via on_conflict",
                "update public.dot_counts (n)"
            ]
        );
        assert_eq!(
            b.calls,
            vec![ObjectKey::new(ObjectKind::Function, "public.helper()")]
        );
        assert_eq!(
            b.notifies,
            vec![
                Notify {
                    channel: None,
                    sure: Sure::always()
                },
                Notify {
                    channel: Some("context_pack_event".into()),
                    sure: Sure::guarded(&["IF NEW.status = 'active'".into()])
                }
            ]
        );
        assert_eq!(b.new_assigned, set(&["code"]));
        assert_eq!(b.new_read, set(&["code", "id", "status"]));
        assert!(b.dynamic.is_empty());
    }

    /// `op table: certainty [guard]` per write, and the same for calls and notifications.
    fn sures(b: &BodyFacts) -> Vec<String> {
        let show = |s: &Sure| match &s.guard {
            Some(g) => format!("{} [{g}]", s.certainty.as_str()),
            None => s.certainty.as_str().to_string(),
        };
        let mut out: Vec<String> = b
            .writes
            .iter()
            .map(|w| format!("{} {}: {}", w.op.event(), w.table, show(&w.sure)))
            .collect();
        out.extend(
            b.call_sures
                .iter()
                .map(|(k, s)| format!("call {}: {}", k.name(), show(s))),
        );
        out.extend(b.notifies.iter().map(|n| {
            format!(
                "notify {}: {}",
                n.channel.as_deref().unwrap_or("?"),
                show(&n.sure)
            )
        }));
        out
    }

    fn guards_fixture() -> Vec<CatalogObject> {
        ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .map(|t| table("public", t))
            .chain(
                ["h1", "h2", "h3"]
                    .iter()
                    .map(|f| routine(f, "plpgsql", &[], "BEGIN RETURN 1; END")),
            )
            .collect()
    }

    #[test]
    fn branches_loops_and_handlers_make_statements_conditional_with_their_guards() {
        let f = routine(
            "fn_guards",
            "plpgsql",
            &[],
            "DECLARE r record;\nBEGIN\n\
               INSERT INTO a VALUES (1);\n\
               PERFORM h1();\n\
               IF TG_OP = 'INSERT' THEN\n\
                 INSERT INTO b VALUES (1);\n\
                 IF NEW.x > 0 THEN PERFORM pg_notify('deep', 'x'); END IF;\n\
               ELSIF TG_OP = 'UPDATE' THEN INSERT INTO c VALUES (1);\n\
               ELSE INSERT INTO d VALUES (1);\n\
               END IF;\n\
               CASE NEW.kind WHEN 'k' THEN PERFORM h2(); ELSE NULL; END CASE;\n\
               FOR r IN SELECT * FROM a LOOP INSERT INTO e VALUES (1); END LOOP;\n\
               BEGIN INSERT INTO f VALUES (1);\n\
               EXCEPTION WHEN unique_violation THEN INSERT INTO g VALUES (1); END;\n\
               IF NEW.y THEN RETURN NEW; END IF;\n\
               INSERT INTO h VALUES (1);\n\
               PERFORM h3();\n\
               RETURN NEW;\nEND",
        );
        let b = analyse_one(f, guards_fixture());
        assert_eq!(b.status, BodyStatus::Analysed);
        let got = sures(&b);
        for want in [
            "insert public.a: always",
            "insert public.b: conditional [IF TG_OP = 'INSERT']",
            "insert public.c: conditional [ELSIF TG_OP = 'UPDATE']",
            "insert public.d: conditional [ELSE of IF TG_OP = 'INSERT']",
            "insert public.e: conditional [FOR … IN SELECT * FROM a]",
            "insert public.f: always",
            "insert public.g: conditional [EXCEPTION WHEN unique_violation]",
            "insert public.h: conditional [after a RETURN that may run first (line 16)]",
            "call public.h1(): always",
            "call public.h2(): conditional [CASE NEW.kind WHEN 'k']",
            "call public.h3(): conditional [after a RETURN that may run first (line 16)]",
            "notify deep: conditional [IF TG_OP = 'INSERT'; IF NEW.x > 0]",
        ] {
            assert!(got.contains(&want.to_string()), "{want} not in {got:#?}");
        }
    }

    #[test]
    fn the_same_write_in_two_places_keeps_its_surest_occurrence() {
        let f = routine(
            "fn_twice",
            "plpgsql",
            &[],
            "BEGIN IF NEW.x THEN INSERT INTO a VALUES (1); END IF;\n\
               INSERT INTO a VALUES (2);\n\
               IF NEW.y THEN INSERT INTO b VALUES (1); ELSE INSERT INTO b VALUES (2); END IF;\n\
               RETURN NEW; END",
        );
        let got = sures(&analyse_one(f, guards_fixture()));
        assert_eq!(
            got,
            [
                "insert public.a: always",
                "insert public.b: conditional [ELSE of IF NEW.y | IF NEW.y]"
            ]
        );
    }

    #[test]
    fn statements_whose_rows_depend_on_data_are_maybe_no_rows() {
        let f = routine(
            "fn_rows",
            "plpgsql",
            &[],
            "BEGIN UPDATE a SET v = 1 WHERE id = NEW.id;\n\
               DELETE FROM b WHERE id = NEW.id;\n\
               INSERT INTO c SELECT * FROM a;\n\
               INSERT INTO d VALUES (1) ON CONFLICT DO NOTHING;\n\
               INSERT INTO e SELECT 1;\n\
               PERFORM h1() FROM a;\n\
               IF NEW.z THEN UPDATE f SET v = 2; END IF;\n\
               RETURN NEW; END",
        );
        let got = sures(&analyse_one(f, guards_fixture()));
        for want in [
            "update public.a: maybe-no-rows",
            "delete public.b: maybe-no-rows",
            "insert public.c: maybe-no-rows",
            "insert public.d: maybe-no-rows",
            "insert public.e: always",
            "call public.h1(): maybe-no-rows",
            "update public.f: conditional [IF NEW.z]",
        ] {
            assert!(got.contains(&want.to_string()), "{want} not in {got:#?}");
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn search_path_setting_resolves_unqualified_names() {
        let f = routine(
            "fn_y",
            "plpgsql",
            &["search_path=gov, public, pg_temp"],
            "BEGIN INSERT INTO birth_registry VALUES (1); DELETE FROM only_public; PERFORM gov_helper(); RETURN NULL; END",
        );
        let mut helper = routine("gov_helper", "plpgsql", &[], "BEGIN RETURN 1; END");
        helper.key = ObjectKey::new(ObjectKind::Function, "gov.gov_helper()");
        if let ObjectDef::Function(r) = &mut helper.def {
            r.schema = "gov".into();
        }
        let b = analyse_one(
            f,
            vec![
                helper,
                table("gov", "birth_registry"),
                table("public", "birth_registry"),
                table("public", "only_public"),
            ],
        );
        assert_eq!(
            writes(&b),
            ["insert gov.birth_registry", "delete public.only_public"]
        );
        assert_eq!(
            b.calls,
            vec![ObjectKey::new(ObjectKind::Function, "gov.gov_helper()")]
        );
        assert!(b.writes.iter().all(|w| w.in_snapshot));
    }

    #[test]
    fn unknown_tables_default_to_the_first_schema_and_are_marked() {
        let f = routine(
            "fn_z",
            "plpgsql",
            &[],
            "BEGIN INSERT INTO tmp_x VALUES (1); RETURN NULL; END",
        );
        let b = analyse_one(f, vec![]);
        assert_eq!(writes(&b), ["insert public.tmp_x"]);
        assert!(!b.writes[0].in_snapshot);
    }

    #[test]
    fn dynamic_sql_is_opaque_unless_a_plain_literal() {
        let f = routine(
            "fn_dyn",
            "plpgsql",
            &[],
            "DECLARE r record;\nBEGIN\n\
               EXECUTE 'DELETE FROM ' || quote_ident(TG_ARGV[0]);\n\
               EXECUTE 'TRUNCATE public.t_lit';\n\
               FOR r IN EXECUTE format('SELECT * FROM %I', TG_TABLE_NAME) LOOP END LOOP;\n\
               RETURN NULL;\nEND",
        );
        let b = analyse_one(f, vec![table("public", "t_lit")]);
        assert_eq!(b.dynamic.len(), 3, "{:?}", b.dynamic);
        assert_eq!(b.dynamic.iter().filter(|d| d.literal).count(), 1);
        assert!(b.dynamic.iter().all(|d| d.line.is_some()));
        assert_eq!(writes(&b), ["truncate public.t_lit via execute"]);
    }

    #[test]
    fn select_into_new_fields_and_whole_row_assignment_count_as_assigned() {
        let f = routine(
            "fn_into",
            "plpgsql",
            &[],
            "BEGIN SELECT max(x), 2 INTO NEW.code, NEW.\"Tier\" FROM t; NEW := NEW; RETURN NEW; END",
        );
        let b = analyse_one(f, vec![]);
        assert_eq!(b.new_assigned, set(&["*", "Tier", "code"]));
        assert!(
            b.new_read.is_empty() || b.new_read == set(&["*"]),
            "{:?}",
            b.new_read
        );
    }

    #[test]
    fn return_new_is_not_a_read_but_to_jsonb_new_is() {
        let f = routine("fn_ret", "plpgsql", &[], "BEGIN RETURN NEW; END");
        assert!(analyse_one(f, vec![]).new_read.is_empty());
        let g = routine(
            "fn_json",
            "plpgsql",
            &[],
            "BEGIN PERFORM pg_notify('c', to_jsonb(NEW)::text); RETURN NEW; END",
        );
        assert_eq!(analyse_one(g, vec![]).new_read, set(&["*"]));
    }

    #[test]
    fn a_body_that_does_not_parse_is_unanalysable_not_dropped() {
        let f = routine(
            "fn_bad",
            "plpgsql",
            &[],
            "BEGIN INSRT INTO t VALUES (1); RETURN NULL; END",
        );
        let b = analyse_one(f, vec![]);
        assert!(
            matches!(b.status, BodyStatus::Unanalysable { .. }),
            "{:?}",
            b.status
        );
        assert!(b.status.problem().unwrap().contains("unanalysable"));
    }

    /// Issue 14: a 99 MB body took `graph` to 24 GB in the parser. Past the budget it is not
    /// parsed and says why; at the budget it still is.
    #[test]
    fn a_body_over_the_budget_is_unanalysable_for_its_size() {
        let filler = "PERFORM 1; ";
        let wrap = |n: usize| format!("BEGIN {} RETURN NEW; END", filler.repeat(n));
        let fits = (MAX_ANALYSED_BODY_BYTES - 400) / filler.len();
        let ok = analyse_one(routine("fn_fits", "plpgsql", &[], &wrap(fits)), vec![]);
        assert_eq!(ok.status, BodyStatus::Analysed);
        let big = analyse_one(routine("fn_big", "plpgsql", &[], &wrap(fits + 100)), vec![]);
        let problem = big.status.problem().unwrap();
        assert!(
            problem.starts_with(&format!(
                "unanalysable: body larger than {MAX_ANALYSED_BODY_BYTES} bytes"
            )),
            "{problem}"
        );
        let sql = format!("SELECT 1;{}", " ".repeat(MAX_ANALYSED_BODY_BYTES));
        let sql = analyse_one(routine("fn_sql", "sql", &[], &sql), vec![]);
        assert!(matches!(sql.status, BodyStatus::Unanalysable { .. }));
    }

    #[test]
    fn sql_language_bodies_with_several_statements() {
        let mut f = routine(
            "sp_rebuild",
            "sql",
            &[],
            "DELETE FROM dot_counts;\nINSERT INTO dot_counts (status, n) SELECT status, count(*) FROM dot_tools GROUP BY status;\nCALL other_proc();",
        );
        f.def = match f.def {
            ObjectDef::Function(r) => ObjectDef::Procedure(r),
            d => d,
        };
        let mut p = routine("other_proc", "sql", &[], "SELECT 1");
        p.key = ObjectKey::new(ObjectKind::Procedure, "public.other_proc()");
        let b = analyse_one(f, vec![p, table("public", "dot_counts")]);
        assert_eq!(
            writes(&b),
            ["insert public.dot_counts", "delete public.dot_counts"]
        );
        assert_eq!(
            b.calls,
            vec![ObjectKey::new(ObjectKind::Procedure, "public.other_proc()")]
        );
    }

    #[test]
    fn sql_standard_bodies_are_read_from_the_definition() {
        let mut f = routine(
            "fn_atomic",
            "sql",
            &[],
            "BEGIN ATOMIC\n INSERT INTO t VALUES (1);\nEND",
        );
        if let ObjectDef::Function(r) = &mut f.def {
            r.definition = Some(
                "CREATE OR REPLACE FUNCTION public.fn_atomic()\n RETURNS void\n LANGUAGE sql\nBEGIN ATOMIC\n INSERT INTO t VALUES (1);\nEND\n".into(),
            );
        }
        let b = analyse_one(f, vec![table("public", "t")]);
        assert_eq!(b.status, BodyStatus::Analysed);
        assert_eq!(writes(&b), ["insert public.t"]);
    }

    #[test]
    fn other_languages_are_opaque() {
        let f = routine("fn_py", "plpython3u", &[], "return 1");
        assert!(matches!(
            analyse_one(f, vec![]).status,
            BodyStatus::NotAnalysed { .. }
        ));
    }

    #[test]
    fn search_path_parsing() {
        let mut r = match routine("f", "plpgsql", &[], "").def {
            ObjectDef::Function(r) => r,
            _ => unreachable!(),
        };
        assert_eq!(search_path(&r, None), ["public"]);
        r.config = vec!["search_path=\"$user\", \"My Schema\", pg_temp, public".into()];
        assert_eq!(
            search_path(&r, Some("alice")),
            ["alice", "My Schema", "public"]
        );
        r.config = vec!["search_path=\"\"".into()];
        assert!(search_path(&r, None).is_empty());
    }

    #[test]
    fn assignment_value_splits_at_the_first_top_level_assignment() {
        assert_eq!(assignment_value("v := a = b"), Some(" a = b"));
        assert_eq!(assignment_value("v = f(x)"), Some(" f(x)"));
        assert_eq!(assignment_value("arr[i = 1] := 2"), Some(" 2"));
        assert_eq!(assignment_value("NEW.\"a:=b\" := 3"), Some(" 3"));
        assert_eq!(assignment_value("nothing"), None);
    }

    #[test]
    fn string_literals_only_when_plain() {
        assert_eq!(
            string_literal(" 'TRUNCATE t' ").as_deref(),
            Some("TRUNCATE t")
        );
        assert_eq!(string_literal("'it''s'").as_deref(), Some("it's"));
        assert_eq!(string_literal("'a' || 'b'"), None);
        assert_eq!(string_literal("format('x')"), None);
    }
}
