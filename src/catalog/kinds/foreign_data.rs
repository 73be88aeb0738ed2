//! SQL/MED: foreign data wrappers, foreign servers and user mappings of the connected
//! database, database-wide. `pg_foreign_data_wrapper` and `pg_foreign_server` are
//! readable by every role, options included (hence the secret removal after the read,
//! `model::redact`). User mapping options come from `pg_user_mappings`, which shows them
//! only to some roles and NULL to the rest; NULL also means "no options", so the view's
//! own rule for showing them is evaluated beside it to tell the two apart.

use super::refs::{routine, routine_ref, user_made};
use super::{acl_sql, comment_of, fetch, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    quote_ident, CatalogObject, ForeignDataWrapperDef, MappingOptions, ObjectDef, ObjectKey,
    ObjectKind, ServerDef, UserMappingDef, PUBLIC_MAPPING,
};
use std::collections::BTreeMap;

/// Database-wide: one light task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct WrapperRow {
    name: String,
    handler: Option<Vec<String>>,
    validator: Option<Vec<String>>,
    options: Vec<String>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ServerRow {
    name: String,
    wrapper: String,
    server_type: Option<String>,
    version: Option<String>,
    options: Vec<String>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MappingRow {
    server: String,
    role: Option<String>,
    options: Option<Vec<String>>,
    readable: bool,
}

/// `name=value` items as PostgreSQL stores options (split at the first `=`, as
/// `pg_options_to_table` does) as a map.
fn option_map(items: Vec<String>) -> BTreeMap<String, String> {
    items
        .into_iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (item, String::new()),
        })
        .collect()
}

pub async fn read_foreign_data(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT w.fdwname::text AS name, {handler} AS handler, {validator} AS validator, \
           COALESCE(w.fdwoptions, '{{}}')::text[] AS options, \
           pg_get_userbyid(w.fdwowner)::text AS owner, {acl} AS acl, {comment} AS comment \
         FROM pg_foreign_data_wrapper w WHERE {user}",
        handler = routine_ref("w.fdwhandler"),
        validator = routine_ref("w.fdwvalidator"),
        acl = acl_sql("w.fdwacl", "F", "w.fdwowner"),
        comment = comment_of("pg_foreign_data_wrapper", "w.oid"),
        user = user_made("pg_foreign_data_wrapper", "w.oid"),
    );
    let wrappers: Vec<WrapperRow> = fetch(conn, "reading foreign data wrappers", &sql).await?;
    let sql = format!(
        "SELECT s.srvname::text AS name, w.fdwname::text AS wrapper, s.srvtype::text AS server_type, \
           s.srvversion::text AS version, COALESCE(s.srvoptions, '{{}}')::text[] AS options, \
           pg_get_userbyid(s.srvowner)::text AS owner, {acl} AS acl, {comment} AS comment \
         FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw \
         WHERE {user}",
        acl = acl_sql("s.srvacl", "S", "s.srvowner"),
        comment = comment_of("pg_foreign_server", "s.oid"),
        user = user_made("pg_foreign_server", "s.oid"),
    );
    let servers: Vec<ServerRow> = fetch(conn, "reading foreign servers", &sql).await?;
    // `readable` is `pg_user_mappings`' own condition for showing `umoptions` (the same on
    // 13–18), over `pg_roles` since `pg_authid` is not readable by every role.
    let sql = "SELECT m.srvname::text AS server, \
           CASE WHEN m.umuser = 0 THEN NULL ELSE m.usename::text END AS role, \
           m.umoptions::text[] AS options, \
           COALESCE((m.umuser <> 0 AND m.umuser = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
                     AND (pg_has_role(s.srvowner, 'USAGE') OR has_server_privilege(s.oid, 'USAGE'))) \
                 OR (m.umuser = 0 AND pg_has_role(s.srvowner, 'USAGE')) \
                 OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS readable \
         FROM pg_user_mappings m JOIN pg_foreign_server s ON s.oid = m.srvid";
    let mappings: Vec<MappingRow> = fetch(conn, "reading user mappings", sql).await?;

    let mut out = Vec::with_capacity(wrappers.len() + servers.len() + mappings.len());
    for w in wrappers {
        out.push(CatalogObject {
            key: ObjectKey::new(ObjectKind::ForeignDataWrapper, &quote_ident(&w.name)),
            owner: Some(w.owner),
            acl: sorted(w.acl),
            comment: w.comment,
            def: ObjectDef::ForeignDataWrapper(ForeignDataWrapperDef {
                name: w.name,
                handler: routine(w.handler),
                validator: routine(w.validator),
                options: option_map(w.options),
            }),
        });
    }
    for s in servers {
        out.push(CatalogObject {
            key: ObjectKey::new(ObjectKind::Server, &quote_ident(&s.name)),
            owner: Some(s.owner),
            acl: sorted(s.acl),
            comment: s.comment,
            def: ObjectDef::Server(ServerDef {
                name: s.name,
                wrapper: s.wrapper,
                server_type: s.server_type,
                version: s.version,
                options: option_map(s.options),
            }),
        });
    }
    for m in mappings {
        let role = match &m.role {
            Some(r) => quote_ident(r),
            None => PUBLIC_MAPPING.to_string(),
        };
        let options = match (m.options, m.readable) {
            (Some(items), _) => MappingOptions::Readable(option_map(items)),
            (None, true) => MappingOptions::Readable(BTreeMap::new()),
            // Hidden from this role: not the same as none.
            (None, false) => MappingOptions::NotReadable,
        };
        out.push(CatalogObject {
            key: ObjectKey::new(
                ObjectKind::UserMapping,
                &format!("{}/{role}", quote_ident(&m.server)),
            ),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::UserMapping(UserMappingDef {
                server: m.server,
                role: m.role,
                options,
            }),
        });
    }
    Ok(out)
}
