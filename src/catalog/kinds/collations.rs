//! Collations (`collation:schema.name`) in the selected schemas. The locale columns differ
//! by version (15 added the ICU locale, 16 ICU rules, 17 renamed the locale column for the
//! builtin provider): each is read where it exists and stored as an entry when set.

use super::refs::user_made;
use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, CollationDef, ObjectDef, ObjectKey, ObjectKind};
use sqlx::postgres::types::Oid;
use std::collections::BTreeMap;

/// Few per schema: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    provider: String,
    deterministic: bool,
    encoding: Option<String>,
    lc_collate: Option<String>,
    lc_ctype: Option<String>,
    locale: Option<String>,
    rules: Option<String>,
    owner: String,
    comment: Option<String>,
}

pub async fn read_collations(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let v = caps.version_num;
    let locale = match v {
        ..150000 => "NULL::text",
        150000..170000 => "c.colliculocale",
        _ => "c.colllocale",
    };
    let rules = if v >= 160000 {
        "c.collicurules"
    } else {
        "NULL::text"
    };
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.collname::text AS name, c.collprovider::text AS provider, \
           c.collisdeterministic AS deterministic, \
           CASE WHEN c.collencoding = -1 THEN NULL ELSE pg_encoding_to_char(c.collencoding)::text END AS encoding, \
           c.collcollate::text AS lc_collate, c.collctype::text AS lc_ctype, {locale}::text AS locale, \
           {rules}::text AS rules, pg_get_userbyid(c.collowner)::text AS owner, {comment} AS comment \
         FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace \
         WHERE n.oid = ANY($1) AND {user}",
        comment = comment_of("pg_collation", "c.oid"),
        user = user_made("pg_collation", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading collations", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let locale: BTreeMap<String, String> = [
                ("collate", r.lc_collate),
                ("ctype", r.lc_ctype),
                ("locale", r.locale),
                ("rules", r.rules),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect();
            CatalogObject {
                key: ObjectKey::qualified(ObjectKind::Collation, &r.schema, &r.name),
                owner: Some(r.owner),
                acl: None,
                comment: r.comment,
                def: ObjectDef::Collation(CollationDef {
                    provider: match r.provider.as_str() {
                        "c" => "libc",
                        "i" => "icu",
                        "b" => "builtin",
                        _ => "default",
                    }
                    .to_string(),
                    deterministic: r.deterministic,
                    encoding: r.encoding,
                    locale,
                    schema: r.schema,
                    name: r.name,
                }),
            }
        })
        .collect())
}
