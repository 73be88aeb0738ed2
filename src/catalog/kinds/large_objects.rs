//! Large objects, one group per (owner, ACL, comment) with a count and an MD5 of the OID
//! list (see `model::kinds::large_object` for why OIDs are used here).

use super::{fetch, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{quote_ident, CatalogObject, LargeObjectsDef, ObjectDef, ObjectKey, ObjectKind};

/// Database-wide: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
    count: i64,
    oids_md5: String,
}

pub async fn read_large_objects(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    // Grouped by the ACL's text so equal ACLs group whatever their item order; the items
    // are sorted again in Rust, by bytes.
    let sql = "SELECT pg_get_userbyid(m.lomowner)::text AS owner, m.lomacl::text[] AS acl, \
                 ds.description AS comment, count(*) AS count, \
                 md5(string_agg(m.oid::text, ',' ORDER BY m.oid)) AS oids_md5 \
               FROM pg_largeobject_metadata m \
               LEFT JOIN pg_description ds ON ds.classoid = 'pg_largeobject'::regclass \
                 AND ds.objoid = m.oid AND ds.objsubid = 0 \
               GROUP BY m.lomowner, m.lomacl::text[], ds.description";
    let rows: Vec<Row> = fetch(conn, "reading large objects", sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let acl = sorted(r.acl);
            let group = serde_json::to_vec(&(&acl, &r.comment)).expect("strings serialize");
            let hash = blake3::hash(&group).to_hex();
            CatalogObject {
                key: ObjectKey::new(
                    ObjectKind::LargeObject,
                    &format!("{}/{}", quote_ident(&r.owner), &hash[..16]),
                ),
                owner: Some(r.owner),
                acl,
                comment: r.comment,
                def: ObjectDef::LargeObject(LargeObjectsDef {
                    count: r.count.max(0) as u64,
                    oids_md5: r.oids_md5,
                }),
            }
        })
        .collect())
}
