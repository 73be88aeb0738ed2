//! Security labels (`security_label:PROVIDER/TYPE/OBJECT`, see `model::kinds::security_label`).
//!
//! Labels on the database's objects (`pg_seclabel`) are read for the selected schemas: an
//! object in a schema left out (`--include-schema`, `--exclude-schema`) leaves its label out,
//! and so does a schema left out; objects of no schema (languages, event triggers, …) are
//! always read. Extension members are left out as their objects are. Labels on roles,
//! tablespaces and this database (`pg_shseclabel`) are the cluster's and the database's
//! around the schema: the globals reader reads them ([`read_shared_labels`]), so
//! `--no-globals` leaves them out with the roles.

use super::{fetch, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, SecurityLabelDef};
use sqlx::postgres::types::Oid;

/// Database-wide and nearly always empty: one light task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    provider: String,
    object_type: String,
    object: String,
    label: String,
}

const COLUMNS: &str = "l.provider::text AS provider, o.type::text AS object_type, \
    o.identity::text AS object, l.label::text AS label";

pub async fn read_security_labels(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pg_seclabel l \
           CROSS JOIN LATERAL pg_identify_object(l.classoid, l.objoid, l.objsubid) o \
         WHERE CASE WHEN o.schema IS NOT NULL \
                 THEN o.schema IN (SELECT nspname FROM pg_namespace WHERE oid = ANY($1)) \
               WHEN l.classoid = 'pg_namespace'::regclass THEN l.objoid = ANY($1) \
               ELSE true END \
           AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = l.classoid \
                 AND dep.objid = l.objoid AND dep.deptype = 'e')"
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading security labels", &sql, nsp).await?;
    Ok(rows.into_iter().map(object).collect())
}

/// Labels on roles, tablespaces and the connected database (`pg_shseclabel`).
pub async fn read_shared_labels(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pg_shseclabel l \
           CROSS JOIN LATERAL pg_identify_object(l.classoid, l.objoid, 0) o \
         WHERE l.classoid <> 'pg_database'::regclass \
            OR l.objoid = (SELECT oid FROM pg_database WHERE datname = current_database())"
    );
    let rows: Vec<Row> = fetch(
        conn,
        "reading security labels of roles and tablespaces",
        &sql,
    )
    .await?;
    Ok(rows.into_iter().map(object).collect())
}

fn object(mut r: Row) -> CatalogObject {
    // `table column`, `materialized view`: with `_` as in other keys' object types.
    r.object_type = r.object_type.replace(' ', "_");
    CatalogObject {
        key: ObjectKey::new(
            ObjectKind::SecurityLabel,
            &format!("{}/{}/{}", r.provider, r.object_type, r.object),
        ),
        owner: None,
        acl: None,
        comment: None,
        def: ObjectDef::SecurityLabel(SecurityLabelDef {
            provider: r.provider,
            object_type: r.object_type,
            object: r.object,
            label: r.label,
        }),
    }
}
