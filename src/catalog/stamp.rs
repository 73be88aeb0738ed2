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
const CACHED_CATALOGS: &[(&str, Rows)] = &[
    (
        "pg_namespace",
        Rows::Where(
            "nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'",
        ),
    ),
    ("pg_class", Rows::Where("relpersistence <> 't'")),
    ("pg_attribute", Rows::NotOf("attrelid", "temp_rel")),
    ("pg_attrdef", Rows::NotOf("adrelid", "temp_rel")),
    ("pg_constraint", Rows::NotOf("connamespace", "temp_ns")),
    ("pg_index", Rows::NotOf("indrelid", "temp_rel")),
    ("pg_trigger", Rows::NotOf("tgrelid", "temp_rel")),
    ("pg_proc", Rows::NotOf("pronamespace", "temp_ns")),
    ("pg_type", Rows::NotOf("typnamespace", "temp_ns")),
    ("pg_rewrite", Rows::NotOf("ev_class", "temp_rel")),
    ("pg_policy", Rows::NotOf("polrelid", "temp_rel")),
    ("pg_operator", Rows::Where("true")),
    ("pg_opclass", Rows::Where("true")),
    ("pg_collation", Rows::Where("true")),
    ("pg_language", Rows::Where("true")),
    ("pg_partitioned_table", Rows::NotOf("partrelid", "temp_rel")),
    ("pg_event_trigger", Rows::Where("true")),
    ("pg_sequence", Rows::NotOf("seqrelid", "temp_rel")),
    ("pg_aggregate", Rows::Where("true")),
    ("pg_extension", Rows::Where("true")),
    // Not through a cache but the file system: `pg_tablespace_location` reads the
    // tablespace's symbolic link, the latest state. A tablespace made, dropped or moved
    // during the read makes it read again.
    ("pg_tablespace", Rows::Where("true")),
    // pg_get_statisticsobjdef reads the statistics object through the system cache.
    ("pg_statistic_ext", Rows::NotOf("stxnamespace", "temp_ns")),
];

/// Which rows of a catalog the stamp counts.
enum Rows {
    Where(&'static str),
    /// Rows whose column is not one of the temporary objects (`temp_rel`, `temp_ns`):
    /// computed as all rows minus those objects' rows (found through the catalog's index on
    /// the column), the same count and sum without probing a hash table for each of
    /// hundreds of thousands of rows.
    NotOf(&'static str, &'static str),
}

/// The stamp query: one text per catalog, plus role names (`pg_roles` hides `xmin`; a
/// rename is what would show, so hash the names).
fn stamp_sql(part: Option<usize>) -> String {
    const ROW: &str = "count(*) AS n, coalesce(sum(hashtext(xmin::text)::int8), 0) AS h";
    let parts: Vec<String> = CACHED_CATALOGS
        .iter()
        .filter(|(c, _)| part.is_none_or(|p| part_of(c) == p))
        .map(|(c, rows)| match rows {
            Rows::NotOf(col, temp) => format!(
                "(SELECT (a.n - t.n)::text || '/' || (a.h - t.h)::text \
                 FROM (SELECT {ROW} FROM pg_catalog.{c}) a, \
                      (SELECT {ROW} FROM pg_catalog.{c} WHERE {col} IN (SELECT oid FROM {temp})) t)"
            ),
            Rows::Where(only) => format!(
                "(SELECT a.n::text || '/' || a.h::text \
                 FROM (SELECT {ROW} FROM pg_catalog.{c} WHERE {only}) a)"
            ),
        })
        .chain(
            part.is_none_or(|p| part_of("pg_roles") == p).then(|| {
                "(SELECT count(*)::text || '/' || coalesce(sum(hashtext(oid::text || ':' || rolname)::int8), 0)::text \
                 FROM pg_catalog.pg_roles)"
                    .to_string()
            }),
        )
        .collect();
    format!(
        "WITH temp_ns AS (SELECT oid FROM pg_catalog.pg_namespace \
           WHERE nspname LIKE 'pg\\_temp\\_%' OR nspname LIKE 'pg\\_toast\\_temp\\_%'), \
         temp_rel AS (SELECT oid FROM pg_catalog.pg_class WHERE relpersistence = 't') \
         SELECT ARRAY[{}]",
        parts.join(", ")
    )
}

/// The stamp is taken in two parts of about equal cost (pg_attribute, the largest catalog,
/// and the rest), so two sessions can take it side by side.
pub const STAMP_PARTS: usize = 2;

fn part_of(catalog: &str) -> usize {
    usize::from(catalog != "pg_attribute")
}

/// One part of the stamp of the catalog, as the session's current snapshot sees it.
pub async fn catalog_stamp_part(
    conn: &mut sqlx::PgConnection,
    part: usize,
) -> Result<Vec<String>, CatalogError> {
    sqlx::query_scalar(&stamp_sql(Some(part)))
        .fetch_one(conn)
        .await
        .map_err(|e| query_error("checking whether the catalog changed during the read", e))
}

/// The whole stamp from its parts (indexed by part number), in catalog order.
pub fn merge_parts(parts: &[Vec<String>]) -> Option<Vec<String>> {
    let mut next = vec![0usize; parts.len()];
    CACHED_CATALOGS
        .iter()
        .map(|(name, _)| *name)
        .chain(std::iter::once("pg_roles"))
        .map(|name| {
            let p = part_of(name);
            let value = parts.get(p)?.get(next[p])?.clone();
            next[p] += 1;
            Some(value)
        })
        .collect()
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
        let sql = stamp_sql(None);
        for (c, rows) in CACHED_CATALOGS {
            let expected = match rows {
                Rows::NotOf(col, temp) => {
                    format!("pg_catalog.{c} WHERE {col} IN (SELECT oid FROM {temp}))")
                }
                Rows::Where(cond) => format!("pg_catalog.{c} WHERE {cond})"),
            };
            assert!(sql.contains(&expected), "{c}: {expected}");
        }
        assert!(sql.contains("pg_catalog.pg_roles"));
        let before: Vec<String> = (0..=CACHED_CATALOGS.len()).map(|i| i.to_string()).collect();
        let mut after = before.clone();
        after[2] = "x".into();
        assert_eq!(changed_catalogs(&before, &after), vec!["pg_attribute"]);
        // The parts cover every catalog once, and merge back in catalog order.
        let split: Vec<Vec<String>> = (0..STAMP_PARTS)
            .map(|p| {
                let n = stamp_sql(Some(p)).matches("FROM pg_catalog.").count();
                let own: Vec<&str> = CACHED_CATALOGS
                    .iter()
                    .map(|(c, _)| *c)
                    .chain(std::iter::once("pg_roles"))
                    .filter(|c| part_of(c) == p)
                    .collect();
                assert!(n >= own.len(), "part {p}");
                own.iter().map(|c| c.to_string()).collect()
            })
            .collect();
        let merged = merge_parts(&split).unwrap();
        assert_eq!(merged.len(), CACHED_CATALOGS.len() + 1);
        assert_eq!(merged[2], "pg_attribute");
        assert_eq!(merged.last().unwrap(), "pg_roles");
        assert!(merge_parts(&split[..1]).is_none());
    }
}
