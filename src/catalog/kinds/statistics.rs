//! Extended statistics (`statistics:schema.name`) in the selected schemas, with the
//! definition pg_dump prints (`pg_get_statisticsobjdef`) and the statistics target.

use super::refs::user_made;
use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{qualify, CatalogObject, ObjectDef, ObjectKey, ObjectKind, StatisticsDef};
use sqlx::postgres::types::Oid;

/// Few per schema: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    table_schema: String,
    table_name: String,
    kinds: Vec<String>,
    target: Option<i32>,
    definition: Option<String>,
    owner: String,
    comment: Option<String>,
}

pub async fn read_statistics(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    // The default target is -1 up to 16 and NULL from 17: both read as no target.
    let sql = format!(
        "SELECT n.nspname::text AS schema, s.stxname::text AS name, tn.nspname::text AS table_schema, \
           c.relname::text AS table_name, s.stxkind::text[] AS kinds, \
           CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget::int4 END AS target, \
           pg_get_statisticsobjdef(s.oid) AS definition, pg_get_userbyid(s.stxowner)::text AS owner, \
           {comment} AS comment \
         FROM pg_statistic_ext s \
         JOIN pg_namespace n ON n.oid = s.stxnamespace \
         JOIN pg_class c ON c.oid = s.stxrelid \
         JOIN pg_namespace tn ON tn.oid = c.relnamespace \
         WHERE n.oid = ANY($1) AND {user}",
        comment = comment_of("pg_statistic_ext", "s.oid"),
        user = user_made("pg_statistic_ext", "s.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading extended statistics", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut kinds: Vec<String> = r
                .kinds
                .iter()
                .map(|k| {
                    match k.as_str() {
                        "d" => "ndistinct",
                        "f" => "dependencies",
                        "m" => "mcv",
                        "e" => "expressions",
                        other => other,
                    }
                    .to_string()
                })
                .collect();
            kinds.sort();
            CatalogObject {
                key: ObjectKey::qualified(ObjectKind::Statistics, &r.schema, &r.name),
                owner: Some(r.owner),
                acl: None,
                comment: r.comment,
                def: ObjectDef::Statistics(StatisticsDef {
                    table: qualify(&r.table_schema, &r.table_name),
                    kinds,
                    statistics_target: r.target,
                    definition: r.definition.unwrap_or_default(),
                    schema: r.schema,
                    name: r.name,
                }),
            }
        })
        .collect())
}
