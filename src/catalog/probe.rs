//! What `driftgate doctor` asks the server before a first snapshot: its version, primary or
//! standby, the session's TLS, whether driftgate's session settings make it read-only, and
//! what this role cannot read that a snapshot needs (catalogs, catalog columns, tables it
//! cannot count exactly).
//!
//! The probe runs on a normal driftgate session, inside its own `READ ONLY` transaction, so
//! it cannot write even when the session default failed to make it read-only (which it
//! reports: a snapshot would refuse such a session).

use super::connect::{self, ConnectTarget, SessionLimits};
use super::kinds::{user_schema, RLS_ACTIVE, SCHEMA_USAGE, TABLE_RELKINDS, TABLE_SELECT};
use super::{query_error, CatalogError};
use sqlx::{Connection, Row};

/// Every system catalog and view the SQL under `src/catalog/` reads (a unit test fails when
/// one is referenced there and missing here). PUBLIC may read all of them by default; a
/// database that revoked one makes snapshots fail or miss what it holds.
pub const CATALOGS_READ: &[&str] = &[
    "pg_aggregate",
    "pg_am",
    "pg_amop",
    "pg_amproc",
    "pg_attrdef",
    "pg_auth_members",
    "pg_attribute",
    "pg_cast",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_conversion",
    "pg_database",
    "pg_db_role_setting",
    "pg_default_acl",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_event_trigger",
    "pg_extension",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_foreign_table",
    "pg_index",
    "pg_inherits",
    "pg_init_privs",
    "pg_language",
    "pg_largeobject_metadata",
    "pg_locks",
    "pg_namespace",
    "pg_opclass",
    "pg_operator",
    "pg_opfamily",
    "pg_parameter_acl",
    "pg_partitioned_table",
    "pg_policy",
    "pg_proc",
    "pg_publication",
    "pg_publication_namespace",
    "pg_publication_rel",
    "pg_range",
    "pg_rewrite",
    "pg_seclabel",
    "pg_roles",
    "pg_sequence",
    "pg_shseclabel",
    "pg_settings",
    "pg_stat_activity",
    "pg_stat_ssl",
    "pg_tablespace",
    "pg_statistic_ext",
    "pg_transform",
    "pg_trigger",
    "pg_ts_config",
    "pg_ts_config_map",
    "pg_ts_dict",
    "pg_ts_parser",
    "pg_ts_template",
    "pg_type",
    "pg_user_mappings",
];

/// Catalogs a complete snapshot of the cluster needs that PostgreSQL keeps from PUBLIC, in
/// whole or in part, each with what it holds. Which columns are hidden is asked of the
/// server, not assumed, so a grant (or a version that differs) shows as it is: on 13–18
/// all of `pg_authid`, `pg_statistic` and `pg_user_mapping` (`umoptions` included), and
/// `pg_subscription.subconninfo`.
pub const RESTRICTED_CATALOGS: &[(&str, &str)] = &[
    ("pg_authid", "role attributes beyond pg_roles"),
    ("pg_statistic", "column statistics"),
    ("pg_subscription", "subscriptions' connection strings"),
    ("pg_user_mapping", "user mappings and their options"),
];

/// What a restricted catalog holds for a complete snapshot (`None` for the others).
pub fn restricted_holds(catalog: &str) -> Option<&'static str> {
    RESTRICTED_CATALOGS
        .iter()
        .find(|(name, _)| *name == catalog)
        .map(|(_, holds)| *holds)
}

/// What the server said about itself and this session's role.
#[derive(Clone, Debug)]
pub struct ServerProbe {
    pub database: String,
    pub user: String,
    pub server_version: String,
    pub server_version_num: u32,
    /// `pg_is_in_recovery()`: a standby (or a server still replaying WAL).
    pub in_recovery: bool,
    /// This session's TLS, if it uses TLS (`pg_stat_ssl`).
    pub tls: Option<TlsSession>,
    /// `transaction_read_only` with driftgate's session settings and no explicit
    /// transaction: what a snapshot checks before it reads anything.
    pub session_read_only: bool,
    /// Whether the database name matches `--expect-database` (when one was given).
    pub expected_database: Option<bool>,
    pub privileges: RolePrivileges,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSession {
    pub version: Option<String>,
    pub cipher: Option<String>,
}

/// What this role may read, as far as a snapshot is concerned.
#[derive(Clone, Debug, Default)]
pub struct RolePrivileges {
    pub superuser: bool,
    pub read_all_settings: bool,
    pub read_all_stats: bool,
    /// Catalogs (of [`CATALOGS_READ`] and [`RESTRICTED_CATALOGS`]) with no column readable.
    pub unreadable_catalogs: Vec<String>,
    /// `catalog.column` of the others, for each column it may not read.
    pub unreadable_columns: Vec<String>,
    /// Tables a snapshot lists (user schemas, no extension's).
    pub tables: usize,
    /// Those whose exact count this role cannot take, sorted by name.
    pub uncountable: Vec<UncountableTable>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UncountableTable {
    /// As in the `table:` key.
    pub table: String,
    pub reason: CountBlocker,
}

/// Why an exact `count(*)` is refused (the first that applies, in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountBlocker {
    NoSchemaUsage,
    NoSelect,
    RowLevelSecurity,
}

impl CountBlocker {
    pub fn describe(self) -> &'static str {
        match self {
            CountBlocker::NoSchemaUsage => "no USAGE on the schema",
            CountBlocker::NoSelect => "no SELECT on the table",
            CountBlocker::RowLevelSecurity => "row-level security hides rows",
        }
    }
}

/// Connect as a snapshot would and ask what [`ServerProbe`] holds. An error means the probe
/// could not connect or a query failed.
pub async fn probe(
    target: &ConnectTarget,
    limits: &SessionLimits,
    expect_database: Option<&str>,
) -> Result<ServerProbe, CatalogError> {
    let mut conn = connect::connect(target, limits).await?;
    let result = read_probe(&mut conn, expect_database).await;
    let _ = conn.close().await;
    result
}

async fn read_probe(
    conn: &mut sqlx::PgConnection,
    expect_database: Option<&str>,
) -> Result<ServerProbe, CatalogError> {
    // Asked before BEGIN: inside an explicit READ ONLY transaction it would always say on.
    let session_read_only: String =
        sqlx::query_scalar("SELECT current_setting('transaction_read_only')")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| query_error("checking that the session is read-only", e))?;
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *conn)
        .await
        .map_err(|e| query_error("starting the read-only transaction", e))?;

    let row = sqlx::query(
        "SELECT current_database()::text AS database, current_user::text AS usr, \
           current_setting('server_version') AS version, \
           current_setting('server_version_num')::int4 AS version_num, \
           pg_is_in_recovery() AS in_recovery, \
           (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) AS superuser, \
           pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS read_all_settings, \
           pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| query_error("reading the server version and the role", e))?;

    let tls: Option<(bool, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| query_error("reading this session's TLS (pg_stat_ssl)", e))?;

    let expected_database = match expect_database {
        Some(pattern) => Some(
            sqlx::query_scalar("SELECT current_database() LIKE $1")
                .bind(pattern)
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| query_error("checking --expect-database", e))?,
        ),
        None => None,
    };

    let mut privileges = RolePrivileges {
        superuser: row.get::<Option<bool>, _>("superuser").unwrap_or(false),
        read_all_settings: row.get("read_all_settings"),
        read_all_stats: row.get("read_all_stats"),
        ..RolePrivileges::default()
    };
    read_catalog_privileges(conn, &mut privileges).await?;
    read_countable_tables(conn, &mut privileges).await?;

    sqlx::raw_sql("COMMIT")
        .execute(&mut *conn)
        .await
        .map_err(|e| query_error("ending the read-only transaction", e))?;

    Ok(ServerProbe {
        database: row.get("database"),
        user: row.get("usr"),
        server_version: row.get("version"),
        server_version_num: row.get::<i32, _>("version_num") as u32,
        in_recovery: row.get("in_recovery"),
        tls: tls
            .filter(|(ssl, _, _)| *ssl)
            .map(|(_, version, cipher)| TlsSession { version, cipher }),
        session_read_only: session_read_only == "on",
        expected_database,
        privileges,
    })
}

async fn read_catalog_privileges(
    conn: &mut sqlx::PgConnection,
    privileges: &mut RolePrivileges,
) -> Result<(), CatalogError> {
    let names: Vec<&str> = CATALOGS_READ
        .iter()
        .copied()
        .chain(RESTRICTED_CATALOGS.iter().map(|(name, _)| *name))
        .collect();
    // A catalog this server lacks is skipped: every supported version has them all, and an
    // unsupported version is reported on its own.
    let rows: Vec<(String, bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT c.name, has_table_privilege(x.r, 'SELECT'), \
           has_any_column_privilege(x.r, 'SELECT'), \
           ARRAY(SELECT a.attname::text FROM pg_attribute a \
                 WHERE a.attrelid = x.r AND a.attnum > 0 AND NOT a.attisdropped \
                   AND NOT has_column_privilege(x.r, a.attnum, 'SELECT') ORDER BY a.attnum) \
         FROM unnest($1::text[]) c(name) \
         CROSS JOIN LATERAL (SELECT to_regclass('pg_catalog.' || c.name)::oid) x(r) \
         WHERE x.r IS NOT NULL",
    )
    .bind(&names)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| query_error("checking which catalogs this role may read", e))?;
    for (catalog, whole, some_columns, hidden) in rows {
        if !some_columns {
            privileges.unreadable_catalogs.push(catalog);
        } else if !whole {
            privileges
                .unreadable_columns
                .extend(hidden.into_iter().map(|col| format!("{catalog}.{col}")));
        }
    }
    privileges.unreadable_catalogs.sort();
    privileges.unreadable_columns.sort();
    Ok(())
}

async fn read_countable_tables(
    conn: &mut sqlx::PgConnection,
    privileges: &mut RolePrivileges,
) -> Result<(), CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, {SCHEMA_USAGE}, {TABLE_SELECT}, {RLS_ACTIVE} \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN {TABLE_RELKINDS} AND {schema} AND NOT {ext}",
        schema = user_schema("n"),
        ext = super::kinds::ext_member("pg_class", "c.oid"),
    );
    let rows: Vec<(String, String, bool, bool, bool)> = sqlx::query_as(&sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| query_error("checking which tables this role may count", e))?;
    privileges.tables = rows.len();
    privileges.uncountable = rows
        .into_iter()
        .filter_map(|(schema, name, usage, select, rls)| {
            let reason = blocker(usage, select, rls)?;
            Some(UncountableTable {
                table: crate::model::qualify(&schema, &name),
                reason,
            })
        })
        .collect();
    // By bytes, not by the server's collation.
    privileges.uncountable.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(())
}

/// The same order of reasons as the snapshot's counts: no privilege before row-level security.
fn blocker(schema_usage: bool, select: bool, rls_active: bool) -> Option<CountBlocker> {
    if !schema_usage {
        Some(CountBlocker::NoSchemaUsage)
    } else if !select {
        Some(CountBlocker::NoSelect)
    } else if rls_active {
        Some(CountBlocker::RowLevelSecurity)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The contents of every string literal in Rust source `src` (comments and char
    /// literals skipped). Escapes are kept as written: only identifiers matter here.
    fn string_literals(src: &str) -> Vec<String> {
        let b = src.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                        i += 1;
                    }
                    i += 2;
                }
                // A char literal ('x', '\n', '"'); a lifetime ('a) has no closing quote.
                b'\'' => {
                    if b.get(i + 1) == Some(&b'\\') {
                        i += 3;
                        while i < b.len() && b[i] != b'\'' {
                            i += 1;
                        }
                        i += 1;
                    } else if b.get(i + 2) == Some(&b'\'') {
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
                b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                    && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
                {
                    let mut j = i + 1;
                    let mut hashes = 0;
                    while b.get(j) == Some(&b'#') {
                        hashes += 1;
                        j += 1;
                    }
                    if b.get(j) != Some(&b'"') {
                        i += 1;
                        continue;
                    }
                    let close = format!("\"{}", "#".repeat(hashes));
                    let start = j + 1;
                    let end = src[start..].find(&close).map_or(src.len(), |k| start + k);
                    out.push(src[start..end].to_string());
                    i = end + close.len();
                }
                b'"' => {
                    let start = i + 1;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    out.push(src[start..i.min(src.len())].to_string());
                    i += 1;
                }
                _ => i += 1,
            }
        }
        out
    }

    /// `pg_*` names in SQL text used as relations: not a function (followed by `(`), not a
    /// schema (followed by `.`, or a system schema's name), not inside a SQL string (a
    /// schema or role name compared as text).
    fn relations_in_sql(sql: &str) -> Vec<String> {
        let b = sql.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        let mut in_quote = false;
        while i < b.len() {
            let c = b[i];
            if c == b'\'' {
                in_quote = !in_quote;
                i += 1;
                continue;
            }
            let starts_word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if !in_quote && starts_word && b[i..].starts_with(b"pg_") {
                let end = b[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map_or(b.len(), |k| i + k);
                let next = sql[end..].trim_start().chars().next();
                // The system schemas are never relations, even standing alone (as the value
                // of `search_path`).
                let schema = matches!(&sql[i..end], "pg_catalog" | "pg_toast");
                if !schema && !matches!(next, Some('(' | '.')) {
                    out.push(sql[i..end].to_string());
                }
                i = end;
                continue;
            }
            i += 1;
        }
        out
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_catalog_the_catalog_sql_reads_is_probed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/catalog");
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        let probed: BTreeSet<&str> = CATALOGS_READ
            .iter()
            .copied()
            .chain(RESTRICTED_CATALOGS.iter().map(|(name, _)| *name))
            .collect();
        let mut seen = BTreeSet::new();
        let mut missing = Vec::new();
        for file in &files {
            let mut src = std::fs::read_to_string(file).unwrap();
            if file.ends_with("probe.rs") {
                // The lists themselves prove nothing, and this file's tests name catalogs
                // in examples of the scanner: only the probe's own SQL counts.
                for list in ["pub const CATALOGS_READ", "pub const RESTRICTED_CATALOGS"] {
                    let start = src.find(list).unwrap();
                    let end = start + src[start..].find("];").unwrap();
                    src.replace_range(start..end, "");
                }
                src.truncate(src.find("#[cfg(test)]").unwrap());
            }
            for lit in string_literals(&src) {
                for rel in relations_in_sql(&lit) {
                    if !probed.contains(rel.as_str()) {
                        missing.push(format!("{rel} ({})", file.display()));
                    }
                    seen.insert(rel);
                }
            }
        }
        assert!(
            missing.is_empty(),
            "catalogs read in src/catalog/ but not in CATALOGS_READ: {missing:?}"
        );
        // The scan must see the catalogs it exists for, or it proves nothing.
        for known in [
            "pg_class",
            "pg_trigger",
            "pg_roles",
            "pg_locks",
            "pg_stat_ssl",
        ] {
            assert!(seen.contains(known), "the scan missed {known}: {seen:?}");
        }
        let stale: Vec<&&str> = CATALOGS_READ
            .iter()
            .filter(|c| !seen.contains(**c))
            .collect();
        assert!(
            stale.is_empty(),
            "in CATALOGS_READ but read nowhere: {stale:?}"
        );
    }

    #[test]
    fn the_scanner_tells_relations_from_functions_schemas_and_strings() {
        let lits = string_literals(
            "let a = \"SELECT pg_get_expr(x) FROM pg_catalog.pg_class c\"; // \"pg_fake\"\n\
             let q = '\"'; let r = r#\"JOIN pg_index i\"#; /* \"pg_gone\" */ let s = \"pg_type\";",
        );
        assert_eq!(
            lits,
            vec![
                "SELECT pg_get_expr(x) FROM pg_catalog.pg_class c",
                "JOIN pg_index i",
                "pg_type"
            ]
        );
        assert_eq!(
            relations_in_sql(
                "SELECT pg_get_expr (x) FROM pg_catalog.pg_class WHERE n IN ('pg_toast') \
                 AND n NOT LIKE 'pg\\_temp\\_%' AND EXISTS (SELECT 1 FROM pg_depend) -- é pg_am"
            ),
            vec!["pg_class", "pg_depend", "pg_am"]
        );
        assert!(relations_in_sql("pg_catalog").is_empty());
    }

    #[test]
    fn a_missing_privilege_is_named_before_row_level_security() {
        assert_eq!(
            blocker(false, false, true),
            Some(CountBlocker::NoSchemaUsage)
        );
        assert_eq!(blocker(true, false, true), Some(CountBlocker::NoSelect));
        assert_eq!(
            blocker(true, true, true),
            Some(CountBlocker::RowLevelSecurity)
        );
        assert_eq!(blocker(true, true, false), None);
    }
}
