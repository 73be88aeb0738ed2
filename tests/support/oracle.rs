//! What PostgreSQL really ran for one statement, the oracle of the graph tests: the
//! functions `pg_stat_xact_user_functions` counts and the rows `pg_stat_xact_user_tables`
//! counts per table, inside a transaction that is rolled back.
//!
//! Counts are taken as the difference from before the statement: on PostgreSQL 15+ the
//! transaction views can hold counts the session has not flushed yet. `SET CONSTRAINTS ALL
//! IMMEDIATE` runs the deferred constraint triggers that would otherwise wait for a commit
//! that never comes.

use super::TestDb;
use std::collections::{BTreeMap, BTreeSet};

pub struct Ran {
    /// Names (without schema) of the functions that ran.
    pub functions: BTreeSet<String>,
    /// `schema.table` → rows (inserted, updated, deleted), for the tables with any.
    pub tables: BTreeMap<String, (i64, i64, i64)>,
}

impl Ran {
    pub fn inserted(&self, table: &str) -> i64 {
        self.tables.get(table).map_or(0, |t| t.0)
    }
    pub fn ran(&self, function: &str) -> bool {
        self.functions.contains(function)
    }
}

/// Run `setup` (in the transaction, before counting), then `statement`, and report what ran.
pub fn what_ran(db: &TestDb, setup: &str, statement: &str) -> Ran {
    let out = db.sql(&format!(
        "BEGIN; {setup}; SELECT pg_stat_clear_snapshot(); SET LOCAL track_functions = 'all';
         CREATE TEMP TABLE before_f ON COMMIT DROP AS
           SELECT funcname, calls FROM pg_stat_xact_user_functions;
         CREATE TEMP TABLE before_t ON COMMIT DROP AS
           SELECT relid, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables;
         {statement};
         SET CONSTRAINTS ALL IMMEDIATE;
         SELECT 'F|' || f.funcname FROM pg_stat_xact_user_functions f
           LEFT JOIN before_f b ON b.funcname = f.funcname
          WHERE f.calls > coalesce(b.calls, 0);
         SELECT 'T|' || t.schemaname || '.' || t.relname || '|'
                || t.n_tup_ins - coalesce(b.n_tup_ins, 0) || '|'
                || t.n_tup_upd - coalesce(b.n_tup_upd, 0) || '|'
                || t.n_tup_del - coalesce(b.n_tup_del, 0)
           FROM pg_stat_xact_user_tables t LEFT JOIN before_t b ON b.relid = t.relid
          WHERE t.relname NOT IN ('before_f', 'before_t');
         ROLLBACK;"
    ));
    let mut ran = Ran {
        functions: BTreeSet::new(),
        tables: BTreeMap::new(),
    };
    for l in out.lines() {
        match l.trim().split('|').collect::<Vec<_>>().as_slice() {
            ["F", f] => {
                ran.functions.insert(f.to_string());
            }
            ["T", t, i, u, d] => {
                let rows: (i64, i64, i64) =
                    (i.parse().unwrap(), u.parse().unwrap(), d.parse().unwrap());
                if rows != (0, 0, 0) {
                    ran.tables.insert(t.to_string(), rows);
                }
            }
            _ => {}
        }
    }
    ran
}
