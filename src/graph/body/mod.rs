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
use std::collections::{BTreeMap, BTreeSet};

mod plpgsql;
mod rule;
use plpgsql::plpgsql_facts;
pub use rule::{analyse_rule, rule_condition};

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

#[cfg(test)]
mod tests;
