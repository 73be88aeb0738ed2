//! Operators (`operator:schema.name(left,right)`) in the selected schemas, as pg_dump prints
//! them; shell operators (no function) are left out, as pg_dump does.

use super::refs::{operator, operator_ref, operator_signature, routine, routine_ref, user_made};
use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, OperatorDef};
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
    left_type: Option<String>,
    right_type: String,
    result: String,
    function: Option<Vec<String>>,
    commutator: Option<Vec<String>>,
    negator: Option<Vec<String>>,
    restrict: Option<Vec<String>>,
    join_fn: Option<Vec<String>>,
    hashes: bool,
    merges: bool,
    owner: String,
    comment: Option<String>,
}

pub async fn read_operators(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, o.oprname::text AS name, \
           CASE WHEN o.oprleft = 0 THEN NULL ELSE format_type(o.oprleft, NULL) END AS left_type, \
           format_type(o.oprright, NULL) AS right_type, format_type(o.oprresult, NULL) AS result, \
           {function} AS function, {commutator} AS commutator, {negator} AS negator, \
           {restrict} AS restrict, {join} AS join_fn, o.oprcanhash AS hashes, o.oprcanmerge AS merges, \
           pg_get_userbyid(o.oprowner)::text AS owner, {comment} AS comment \
         FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace \
         WHERE n.oid = ANY($1) AND o.oprcode <> 0 AND {user}",
        function = routine_ref("o.oprcode"),
        commutator = operator_ref("o.oprcom"),
        negator = operator_ref("o.oprnegate"),
        restrict = routine_ref("o.oprrest"),
        join = routine_ref("o.oprjoin"),
        comment = comment_of("pg_operator", "o.oid"),
        user = user_made("pg_operator", "o.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading operators", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(
                ObjectKind::Operator,
                &operator_signature(
                    &r.schema,
                    &r.name,
                    r.left_type.as_deref().unwrap_or("NONE"),
                    &r.right_type,
                ),
            ),
            owner: Some(r.owner),
            acl: None,
            comment: r.comment,
            def: ObjectDef::Operator(OperatorDef {
                left: r.left_type,
                right: r.right_type,
                result: r.result,
                function: routine(r.function).unwrap_or_default(),
                commutator: operator(r.commutator),
                negator: operator(r.negator),
                restrict: routine(r.restrict),
                join: routine(r.join_fn),
                hashes: r.hashes,
                merges: r.merges,
                schema: r.schema,
                name: r.name,
            }),
        })
        .collect())
}
