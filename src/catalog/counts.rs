//! Row counts: the planner estimate of every table (free: `pg_class.reltuples`), and an
//! exact `count(*)` only for the tables asked for: the one place a snapshot locks a user
//! table (ACCESS SHARE), so a held ACCESS EXCLUSIVE lock is named in the error.
//!
//! A count this role cannot take truthfully is reported with the reason (`exact_error`),
//! never as a number: no privilege, or row-level security filtering its rows (sessions also
//! run with `row_security = off`, so a filtered count would fail, not shrink).

use super::kinds::TableRow;
use super::{query_error, CatalogError, ExactCounts};
use crate::model::snapshot::{RowCount, RowCounts};

pub async fn read_counts(
    conn: &mut sqlx::PgConnection,
    tables: &[TableRow],
    exact: &ExactCounts,
) -> Result<RowCounts, CatalogError> {
    let wanted: Vec<&TableRow> = match exact {
        ExactCounts::None => Vec::new(),
        ExactCounts::All => tables.iter().collect(),
        ExactCounts::Tables(names) => {
            let mut out = Vec::new();
            for name in names {
                match tables.iter().find(|t| &t.name == name) {
                    Some(t) => out.push(t),
                    None => {
                        return Err(CatalogError::UnknownCountTable {
                            table: name.clone(),
                        })
                    }
                }
            }
            out
        }
    };
    let mut counts: RowCounts = tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                RowCount {
                    estimate: t.estimate,
                    exact: None,
                    exact_error: None,
                },
            )
        })
        .collect();
    for t in wanted {
        let entry = counts
            .get_mut(&t.name)
            .expect("every table has a count entry");
        // Asking would abort the transaction (or, under row-level security, count only the
        // rows this role may see): say why there is no count instead of giving a wrong one.
        if !t.can_select {
            entry.exact_error = Some("permission denied (no SELECT privilege)".into());
            continue;
        }
        if t.rls_active {
            entry.exact_error = Some("row-level security policies hide rows from this role".into());
            continue;
        }
        let sql = format!("SELECT count(*) FROM {}", t.sql_name);
        let n: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| query_error(&format!("counting rows of {}", t.name), e))?;
        entry.exact = Some(n);
    }
    Ok(counts)
}

/// After a lock timeout: which sessions hold ACCESS EXCLUSIVE locks in this database.
pub async fn describe_lock_holders(conn: &mut sqlx::PgConnection) -> Option<String> {
    let rows: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT format('%s.%s', n.nspname, c.relname), l.mode, l.pid, a.application_name \
         FROM pg_locks l \
         JOIN pg_class c ON c.oid = l.relation \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid() \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         ORDER BY 1, 3",
    )
    .fetch_all(conn)
    .await
    .ok()?;
    if rows.is_empty() {
        return None;
    }
    let parts: Vec<String> = rows
        .into_iter()
        .map(|(rel, mode, pid, app)| {
            let app = app
                .filter(|a| !a.is_empty())
                .map(|a| format!(", application \"{}\"", crate::model::visible(&a)))
                .unwrap_or_default();
            let rel = crate::model::visible(&rel);
            format!("relation {rel} is locked ({mode}) by pid {pid}{app}")
        })
        .collect();
    Some(parts.join("; "))
}
