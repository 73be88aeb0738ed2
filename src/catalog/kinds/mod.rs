//! One reader per object kind. Each runs one set-based query for the whole database and
//! builds model objects; SQL casts every catalog type to a plain one (`::text`, `::int2[]`)
//! so decoding never depends on the server version.

mod constraints;
pub mod deparse;
mod event_triggers;
mod extensions;
mod indexes;
mod policies;
mod routines;
mod schemas;
mod sequences;
mod tables;
mod triggers;
mod types;
mod views;

pub use constraints::read_constraints;
pub use event_triggers::read_event_triggers;
pub use extensions::read_extensions;
pub use indexes::read_indexes;
pub use policies::read_policies;
pub use routines::read_routines;
pub use schemas::read_schemas;
pub(super) use schemas::user_schema;
pub use sequences::read_sequences;
pub use tables::{read_tables, TableRow};
pub(super) use tables::{RLS_ACTIVE, SCHEMA_USAGE, TABLE_RELKINDS, TABLE_SELECT};
pub use triggers::read_triggers;
pub use types::read_types;
pub use views::read_views;

use super::{query_error, CatalogError};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgRow;

/// Run a catalog query bound to an oid array: the selected schemas, or relations.
pub(crate) async fn fetch_by_oids<T>(
    conn: &mut sqlx::PgConnection,
    what: &str,
    sql: &str,
    nsp: &[Oid],
) -> Result<Vec<T>, CatalogError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .bind(nsp)
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(what, e))
}

/// Run a catalog query with no parameters.
pub(super) async fn fetch<T>(
    conn: &mut sqlx::PgConnection,
    what: &str,
    sql: &str,
) -> Result<Vec<T>, CatalogError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(what, e))
}

/// SQL: true when the object is a member of an extension (left out of snapshots).
pub(super) fn ext_member(catalog: &str, oid_expr: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{catalog}'::regclass \
         AND dep.objid = {oid_expr} AND dep.deptype = 'e')"
    )
}

/// SQL: the comment on an object (sub-id 0).
pub(super) fn comment_of(catalog: &str, oid_expr: &str) -> String {
    format!(
        "(SELECT description FROM pg_description ds WHERE ds.classoid = '{catalog}'::regclass \
         AND ds.objoid = {oid_expr} AND ds.objsubid = 0)"
    )
}

/// SQL: the input argument types of routine `{alias}` as a text array, in order.
pub(super) fn arg_types_of(alias: &str) -> String {
    format!(
        "ARRAY(SELECT format_type(u.t, NULL) FROM unnest({alias}.proargtypes::oid[]) WITH ORDINALITY u(t, i) ORDER BY u.i)"
    )
}

/// ACL items sorted by bytes (the server's order is grant order, not meaningful).
pub(super) fn sorted(acl: Option<Vec<String>>) -> Option<Vec<String>> {
    acl.map(|mut v| {
        v.sort();
        v
    })
}

/// Column names of `rel` for attnums `keys`, in order (attnums the map lacks are skipped:
/// an expression's 0).
pub(super) fn names(attrs: &deparse::AttrMap, rel: Oid, keys: &[i16]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| attrs.get(&(rel.0, *k)).map(|a| a.name.clone()))
        .collect()
}

/// Definitions the client did not build, asked of the server in one query (`sql` selects
/// `oid, definition` for `oid = ANY($1)`): for each `(row index, oid)` of `ask`, the row
/// index and the server's definition. No query when `ask` is empty.
pub(super) async fn server_defs(
    conn: &mut sqlx::PgConnection,
    what: &str,
    sql: &str,
    ask: &[(usize, Oid)],
) -> Result<Vec<(usize, Option<String>)>, CatalogError> {
    if ask.is_empty() {
        return Ok(Vec::new());
    }
    let oids: Vec<Oid> = ask.iter().map(|(_, oid)| *oid).collect();
    let rows: Vec<(Oid, Option<String>)> = sqlx::query_as(sql)
        .bind(&oids)
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(what, e))?;
    let mut defs: std::collections::HashMap<u32, String> = rows
        .into_iter()
        .filter_map(|(oid, def)| def.map(|d| (oid.0, d)))
        .collect();
    Ok(ask
        .iter()
        .map(|(n, oid)| (*n, defs.remove(&oid.0)))
        .collect())
}
