//! The cluster and database around the schema, read in the snapshot's transaction like
//! every other kind: roles (`pg_roles`, never the password), memberships
//! (`pg_auth_members`), database and role settings (`pg_db_role_setting`), the database's
//! properties (`pg_database`), the server's configured settings (`pg_settings`) and the
//! tablespaces (`pg_tablespace`). All are readable by any role. Secret values are removed after the read, before any sink
//! sees them (`model::redact`, applied by `catalog::capture_with`).

use super::fetch;
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::globals::database_key;
use crate::model::redact::NOT_READABLE;
use crate::model::{
    quote_ident, CatalogObject, DatabaseDef, ObjectDef, ObjectKey, ObjectKind, ParameterAclDef,
    RoleDef, RoleMembershipDef, ServerSettingDef, SettingDef, TablespaceDef,
};

/// Database-wide: one light task, whatever the schemas.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

/// Server settings that say where this server runs, not how it behaves: they differ
/// between two servers of the same configuration (a test server on a free port, a clone's
/// data directory) and are left out.
pub const PER_SERVER: &[&str] = &[
    "config_file",
    "data_directory",
    "external_pid_file",
    "hba_file",
    "ident_file",
    "port",
    "unix_socket_directories",
];

pub async fn read_globals(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let mut out = read_roles(conn).await?;
    out.extend(read_memberships(conn, caps).await?);
    out.extend(read_settings(conn).await?);
    out.push(read_database(conn, caps).await?);
    out.extend(read_server_settings(conn).await?);
    out.extend(read_tablespaces(conn).await?);
    out.extend(read_parameter_acls(conn, caps).await?);
    out.extend(super::security_labels::read_shared_labels(conn).await?);
    Ok(out)
}

/// Built-in roles (`pg_*`, reserved since 9.6) are initdb's, not the cluster's design.
const NOT_BUILT_IN: &str = "rolname !~ '^pg_'";

#[derive(sqlx::FromRow)]
struct RoleRow {
    name: String,
    login: bool,
    superuser: bool,
    createdb: bool,
    createrole: bool,
    replication: bool,
    bypassrls: bool,
    inherit: bool,
    connection_limit: i32,
    valid_until: Option<String>,
    comment: Option<String>,
}

async fn read_roles(conn: &mut sqlx::PgConnection) -> Result<Vec<CatalogObject>, CatalogError> {
    // `rolpassword` is never selected. VALID UNTIL is printed in UTC by the query, so the
    // session's TimeZone and DateStyle do not change it.
    let sql = format!(
        "SELECT rolname::text AS name, rolcanlogin AS login, rolsuper AS superuser, \
           rolcreatedb AS createdb, rolcreaterole AS createrole, rolreplication AS replication, \
           rolbypassrls AS bypassrls, rolinherit AS inherit, rolconnlimit AS connection_limit, \
           CASE WHEN rolvaliduntil IS NULL THEN NULL \
                WHEN isfinite(rolvaliduntil) \
                THEN to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
                ELSE rolvaliduntil::text END AS valid_until, \
           shobj_description(oid, 'pg_authid') AS comment \
         FROM pg_roles WHERE {NOT_BUILT_IN}"
    );
    let rows: Vec<RoleRow> = fetch(conn, "reading roles", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(ObjectKind::Role, &quote_ident(&r.name)),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::Role(RoleDef {
                name: r.name,
                login: r.login,
                superuser: r.superuser,
                createdb: r.createdb,
                createrole: r.createrole,
                replication: r.replication,
                bypassrls: r.bypassrls,
                inherit: r.inherit,
                connection_limit: r.connection_limit,
                valid_until: r.valid_until,
            }),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    role: String,
    member: String,
    grantor: String,
    admin_option: bool,
    inherit_option: bool,
    set_option: bool,
}

async fn read_memberships(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    // 13–15 have no per-grant INHERIT / SET: there the member's INHERIT attribute decides
    // and SET ROLE is always allowed (see `model::kinds::role_membership`).
    let options = if caps.version_num >= 160000 {
        "a.inherit_option, a.set_option"
    } else {
        "m.rolinherit AS inherit_option, true AS set_option"
    };
    // Grants of built-in roles to user roles are the cluster's design and kept; grants
    // among built-in roles (pg_monitor's) are initdb's.
    let sql = format!(
        "SELECT r.rolname::text AS role, m.rolname::text AS member, \
           pg_get_userbyid(a.grantor)::text AS grantor, a.admin_option, {options} \
         FROM pg_auth_members a \
         JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member \
         WHERE m.rolname !~ '^pg_'"
    );
    let rows: Vec<MembershipRow> = fetch(conn, "reading role memberships", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(
                ObjectKind::RoleMembership,
                &format!(
                    "{}/{}/by:{}",
                    quote_ident(&r.role),
                    quote_ident(&r.member),
                    quote_ident(&r.grantor)
                ),
            ),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::RoleMembership(RoleMembershipDef {
                role: r.role,
                member: r.member,
                grantor: r.grantor,
                admin_option: r.admin_option,
                inherit_option: r.inherit_option,
                set_option: r.set_option,
            }),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct SettingRow {
    role: Option<String>,
    in_database: bool,
    config: Vec<String>,
}

async fn read_settings(conn: &mut sqlx::PgConnection) -> Result<Vec<CatalogObject>, CatalogError> {
    let rows: Vec<SettingRow> = fetch(
        conn,
        "reading database and role settings",
        "SELECT r.rolname::text AS role, s.setdatabase <> 0 AS in_database, \
           COALESCE(s.setconfig, '{}')::text[] AS config \
         FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole \
         WHERE s.setdatabase = 0 \
            OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let (applies_to, prefix) = match (&row.role, row.in_database) {
            (None, true) => ("database", "@db".to_string()),
            (Some(role), true) => ("role_in_database", format!("@db/{}", quote_ident(role))),
            (Some(role), false) => ("role", quote_ident(role)),
            (None, false) => ("all_roles", "@all".to_string()),
        };
        for item in row.config {
            // PostgreSQL stores `name=value`; a name never holds `=`.
            let (name, value) = item.split_once('=').unwrap_or((item.as_str(), ""));
            out.push(CatalogObject {
                key: ObjectKey::new(ObjectKind::Setting, &format!("{prefix}/{name}")),
                owner: None,
                acl: None,
                comment: None,
                def: ObjectDef::Setting(SettingDef {
                    applies_to: applies_to.to_string(),
                    role: row.role.clone(),
                    name: name.to_string(),
                    value: Some(value.to_string()),
                    value_removed: false,
                }),
            });
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct DatabaseRow {
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
    encoding: String,
    locale_provider: String,
    collate: String,
    ctype: String,
    locale: Option<String>,
    icu_rules: Option<String>,
    connection_limit: i32,
    is_template: bool,
    allow_connections: bool,
    tablespace: String,
}

async fn read_database(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<CatalogObject, CatalogError> {
    let v = caps.version_num;
    let provider = if v >= 150000 {
        "CASE d.datlocprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END"
    } else {
        "'libc'"
    };
    let locale = match v {
        170000.. => "d.datlocale::text",
        150000.. => "d.daticulocale::text",
        _ => "NULL::text",
    };
    let rules = if v >= 160000 {
        "d.daticurules::text"
    } else {
        "NULL::text"
    };
    let sql = format!(
        "SELECT pg_get_userbyid(d.datdba)::text AS owner, d.datacl::text[] AS acl, \
           shobj_description(d.oid, 'pg_database') AS comment, \
           pg_encoding_to_char(d.encoding)::text AS encoding, {provider} AS locale_provider, \
           d.datcollate::text AS collate, d.datctype::text AS ctype, {locale} AS locale, \
           {rules} AS icu_rules, d.datconnlimit AS connection_limit, \
           d.datistemplate AS is_template, d.datallowconn AS allow_connections, \
           t.spcname::text AS tablespace \
         FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace \
         WHERE d.datname = current_database()"
    );
    let mut rows: Vec<DatabaseRow> = fetch(conn, "reading the database's properties", &sql).await?;
    let r = rows.pop().ok_or_else(|| CatalogError::Query {
        what: "reading the database's properties".into(),
        reason: "pg_database has no row for current_database()".into(),
    })?;
    Ok(CatalogObject {
        key: database_key(),
        owner: Some(r.owner),
        acl: super::sorted(r.acl),
        comment: r.comment,
        def: ObjectDef::Database(DatabaseDef {
            encoding: r.encoding,
            locale_provider: r.locale_provider,
            collate: r.collate,
            ctype: r.ctype,
            locale: r.locale,
            icu_rules: r.icu_rules,
            connection_limit: r.connection_limit,
            is_template: r.is_template,
            allow_connections: r.allow_connections,
            tablespace: r.tablespace,
        }),
    })
}

#[derive(sqlx::FromRow)]
struct ServerSettingRow {
    name: String,
    value: String,
    source: String,
}

async fn read_server_settings(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<CatalogObject>, CatalogError> {
    // Which file set a value is shown only to roles with pg_read_all_settings; for the
    // others it is recorded as not readable, never guessed.
    let per_server = PER_SERVER
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT s.name::text AS name, current_setting(s.name) AS value, \
           CASE WHEN s.source <> 'configuration file' THEN s.source \
                WHEN s.sourcefile IS NULL THEN '{NOT_READABLE}' \
                WHEN s.sourcefile ~ '(^|/)postgresql\\.auto\\.conf$' THEN 'alter system' \
                ELSE 'configuration file' END AS source \
         FROM pg_settings s \
         WHERE s.source IN ('configuration file', 'command line') \
           AND s.name NOT IN ({per_server})"
    );
    let rows: Vec<ServerSettingRow> = fetch(conn, "reading server settings", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(ObjectKind::ServerSetting, &r.name),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::ServerSetting(ServerSettingDef {
                name: r.name,
                value: Some(r.value),
                value_removed: false,
                source: r.source,
            }),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct TablespaceRow {
    oid: sqlx::postgres::types::Oid,
    name: String,
    #[sqlx(skip)]
    location: String,
    options: Vec<String>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

/// What a tablespace's location reads as when its directory went away during the read.
const DROPPED_DURING_READ: &str = "(dropped during the read)";

async fn read_tablespaces(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<CatalogObject>, CatalogError> {
    // `pg_default` and `pg_global` are initdb's, as `pg_dumpall` leaves them out.
    let sql = format!(
        "SELECT t.oid, t.spcname::text AS name, \
           COALESCE(t.spcoptions, '{{}}')::text[] AS options, \
           pg_get_userbyid(t.spcowner)::text AS owner, {acl} AS acl, \
           shobj_description(t.oid, 'pg_tablespace') AS comment \
         FROM pg_tablespace t WHERE t.spcname NOT IN ('pg_default', 'pg_global')",
        acl = super::acl_sql("t.spcacl", "t", "t.spcowner"),
    );
    let mut rows: Vec<TablespaceRow> = fetch(conn, "reading tablespaces", &sql).await?;
    // `pg_tablespace_location` reads the symbolic link, the latest state: a DROP
    // TABLESPACE committed after the snapshot began has removed it, and the call fails
    // (`could not stat file`, SQLSTATE 58P01), which would end the whole read. So each is
    // asked under a savepoint (allowed in a read-only transaction), and such a tablespace
    // reads as dropped. The stamp counts `pg_tablespace`, so that read is thrown away and
    // taken again: the placeholder is never stored.
    for r in &mut rows {
        r.location = tablespace_location(conn, r.oid).await?;
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut options = r.options;
            options.sort();
            CatalogObject {
                key: ObjectKey::new(ObjectKind::Tablespace, &quote_ident(&r.name)),
                owner: Some(r.owner),
                acl: super::sorted(r.acl),
                comment: r.comment,
                def: ObjectDef::Tablespace(TablespaceDef {
                    name: r.name,
                    location: r.location,
                    options,
                }),
            }
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ParameterAclRow {
    name: String,
    acl: Vec<String>,
}

/// `GRANT SET / ALTER SYSTEM ON PARAMETER` (PostgreSQL 15+). A row whose grants were all
/// revoked may stay behind with none: such a parameter holds no privilege and is not listed.
async fn read_parameter_acls(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    if caps.version_num < 150000 {
        return Ok(Vec::new());
    }
    let sql = "SELECT parname::text AS name, paracl::text[] AS acl FROM pg_parameter_acl \
               WHERE cardinality(paracl) > 0";
    let rows: Vec<ParameterAclRow> = fetch(conn, "reading parameter privileges", sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut acl = r.acl;
            acl.sort();
            CatalogObject {
                key: ObjectKey::new(ObjectKind::ParameterAcl, &r.name),
                owner: None,
                acl: Some(acl),
                comment: None,
                def: ObjectDef::ParameterAcl(ParameterAclDef { name: r.name }),
            }
        })
        .collect())
}

/// The location of tablespace `oid`, or [`DROPPED_DURING_READ`] when its directory is gone.
async fn tablespace_location(
    conn: &mut sqlx::PgConnection,
    oid: sqlx::postgres::types::Oid,
) -> Result<String, CatalogError> {
    let what = "reading tablespaces";
    let exec = |sql: &'static str| sqlx::query(sql);
    exec("SAVEPOINT driftgate_tablespace")
        .execute(&mut *conn)
        .await
        .map_err(|e| crate::catalog::query_error(what, e))?;
    let read: Result<String, sqlx::Error> =
        sqlx::query_scalar("SELECT pg_tablespace_location($1)::text")
            .bind(oid)
            .fetch_one(&mut *conn)
            .await;
    match read {
        Ok(location) => {
            exec("RELEASE SAVEPOINT driftgate_tablespace")
                .execute(&mut *conn)
                .await
                .map_err(|e| crate::catalog::query_error(what, e))?;
            Ok(location)
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("58P01") => {
            exec("ROLLBACK TO SAVEPOINT driftgate_tablespace")
                .execute(&mut *conn)
                .await
                .map_err(|e| crate::catalog::query_error(what, e))?;
            Ok(DROPPED_DURING_READ.to_string())
        }
        Err(e) => Err(crate::catalog::query_error(what, e)),
    }
}
