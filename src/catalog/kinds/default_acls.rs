//! Default privileges (`default_acl:role.schema.objects`): those of the selected schemas,
//! and those for every schema (`*`).

use super::{fetch_by_oids, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{quote_ident, CatalogObject, DefaultAclDef, ObjectDef, ObjectKey, ObjectKind};
use sqlx::postgres::types::Oid;

/// Few: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    role: String,
    schema: Option<String>,
    objtype: String,
    acl: Option<Vec<String>>,
}

pub async fn read_default_acls(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = "SELECT pg_get_userbyid(d.defaclrole)::text AS role, n.nspname::text AS schema, \
                 d.defaclobjtype::text AS objtype, d.defaclacl::text[] AS acl \
               FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
               WHERE d.defaclnamespace = 0 OR d.defaclnamespace = ANY($1)";
    let rows: Vec<Row> = fetch_by_oids(conn, "reading default privileges", sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let objects = match r.objtype.as_str() {
                "r" => "tables",
                "S" => "sequences",
                "f" => "functions",
                "T" => "types",
                "n" => "schemas",
                "L" => "large_objects",
                other => other,
            }
            .to_string();
            let schema_part = r.schema.as_deref().map_or("*".to_string(), quote_ident);
            CatalogObject {
                key: ObjectKey::new(
                    ObjectKind::DefaultAcl,
                    &format!("{}.{schema_part}.{objects}", quote_ident(&r.role)),
                ),
                owner: None,
                acl: sorted(r.acl),
                comment: None,
                def: ObjectDef::DefaultAcl(DefaultAclDef {
                    role: r.role,
                    schema: r.schema,
                    objects,
                }),
            }
        })
        .collect())
}
