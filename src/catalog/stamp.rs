//! Catching DDL that commits while a snapshot is being read.
//!
//! The catalog rows a snapshot selects are read through its `REPEATABLE READ` snapshot, but
//! PostgreSQL's deparse and lookup functions (`pg_get_functiondef`, `pg_get_triggerdef`,
//! `pg_get_constraintdef`, `pg_get_indexdef`, `pg_get_expr`, `format_type`,
//! `pg_get_userbyid`, `::regprocedure`, …) read the catalog caches, which always hold the
//! latest committed state. pg_dump has the same gap and closes it by locking every table it
//! dumps; driftgate must not lock user tables. So it detects instead: a stamp of the
//! catalogs those functions read (per catalog: row count and a sum of hashes of each row's
//! `xmin`, the transaction that wrote it) is taken inside the snapshot, and again in a fresh
//! one after the last read. DDL that commits in between writes new row versions (a new
//! `xmin`) or deletes rows, so the stamps differ, and the read is thrown away and taken
//! again. Equal stamps mean every cached lookup saw the snapshot's own state: the catalog
//! is the one before or the one after, never a mix.

use super::{query_error, CatalogError};

/// Catalogs whose rows reach a snapshot through the catalog caches (deparsed definitions,
/// type, role, routine and operator names), each with the condition that leaves out rows of
/// temporary objects: other sessions create and drop temp tables all day, a snapshot never
/// reads them (nothing permanent can depend on them), and counting them would make a busy
/// database look like one whose DDL never stops.
const CACHED_CATALOGS: &[(&str, &str)] = &[
    (
        "pg_namespace",
        "nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'",
    ),
    ("pg_class", "relpersistence <> 't'"),
    ("pg_attribute", "attrelid NOT IN (SELECT oid FROM temp_rel)"),
    ("pg_attrdef", "adrelid NOT IN (SELECT oid FROM temp_rel)"),
    (
        "pg_constraint",
        "connamespace NOT IN (SELECT oid FROM temp_ns)",
    ),
    ("pg_index", "indrelid NOT IN (SELECT oid FROM temp_rel)"),
    ("pg_trigger", "tgrelid NOT IN (SELECT oid FROM temp_rel)"),
    ("pg_proc", "pronamespace NOT IN (SELECT oid FROM temp_ns)"),
    ("pg_type", "typnamespace NOT IN (SELECT oid FROM temp_ns)"),
    ("pg_rewrite", "ev_class NOT IN (SELECT oid FROM temp_rel)"),
    ("pg_policy", "polrelid NOT IN (SELECT oid FROM temp_rel)"),
    ("pg_operator", "true"),
    ("pg_opclass", "true"),
    ("pg_collation", "true"),
    ("pg_language", "true"),
    (
        "pg_partitioned_table",
        "partrelid NOT IN (SELECT oid FROM temp_rel)",
    ),
    ("pg_event_trigger", "true"),
    ("pg_sequence", "seqrelid NOT IN (SELECT oid FROM temp_rel)"),
    ("pg_aggregate", "true"),
    ("pg_extension", "true"),
];

/// The stamp query: one text per catalog, plus role names (`pg_roles` hides `xmin`; a
/// rename is what would show, so hash the names).
fn stamp_sql() -> String {
    let parts: Vec<String> = CACHED_CATALOGS
        .iter()
        .map(|(c, only)| {
            format!(
                "(SELECT count(*)::text || '/' || coalesce(sum(hashtext(xmin::text)::int8), 0)::text \
                 FROM pg_catalog.{c} WHERE {only})"
            )
        })
        .chain(std::iter::once(
            "(SELECT count(*)::text || '/' || coalesce(sum(hashtext(oid::text || ':' || rolname)::int8), 0)::text \
             FROM pg_catalog.pg_roles)"
                .to_string(),
        ))
        .collect();
    format!(
        "WITH temp_ns AS (SELECT oid FROM pg_catalog.pg_namespace \
           WHERE nspname LIKE 'pg\\_temp\\_%' OR nspname LIKE 'pg\\_toast\\_temp\\_%'), \
         temp_rel AS (SELECT oid FROM pg_catalog.pg_class WHERE relpersistence = 't') \
         SELECT ARRAY[{}]",
        parts.join(", ")
    )
}

/// The stamp of the catalog as the session's current snapshot sees it.
pub async fn catalog_stamp(conn: &mut sqlx::PgConnection) -> Result<Vec<String>, CatalogError> {
    sqlx::query_scalar(&stamp_sql())
        .fetch_one(conn)
        .await
        .map_err(|e| query_error("checking whether the catalog changed during the read", e))
}

/// Which catalogs differ between two stamps (for the message when DDL never stops).
pub fn changed_catalogs(before: &[String], after: &[String]) -> Vec<&'static str> {
    CACHED_CATALOGS
        .iter()
        .map(|(name, _)| *name)
        .chain(std::iter::once("pg_roles"))
        .zip(before.iter().zip(after))
        .filter(|(_, (a, b))| a != b)
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_covers_every_cached_catalog_and_role_names() {
        let sql = stamp_sql();
        for (c, only) in CACHED_CATALOGS {
            assert!(
                sql.contains(&format!("pg_catalog.{c} WHERE {only})")),
                "{c}"
            );
        }
        assert!(sql.contains("pg_catalog.pg_roles"));
        let before: Vec<String> = (0..=CACHED_CATALOGS.len()).map(|i| i.to_string()).collect();
        let mut after = before.clone();
        after[2] = "x".into();
        assert_eq!(changed_catalogs(&before, &after), vec!["pg_attribute"]);
    }
}
