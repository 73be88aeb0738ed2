//! Operator classes and families (`operator_class:` / `operator_family:schema.name USING
//! am`) in the selected schemas, with their members. A member (`pg_amop`, `pg_amproc`)
//! belongs to the class or family its internal or auto dependency points at, which is how
//! pg_dump tells a class's members (printed in `CREATE OPERATOR CLASS`) from a family's
//! loose ones (`ALTER OPERATOR FAMILY … ADD`); an ordering operator's normal dependency on
//! its sort family is not membership.

use super::refs::{
    operator, operator_ref, qualified, qualified_ref, routine, routine_ref, user_made,
};
use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, quote_ident, CatalogObject, ObjectDef, ObjectKey, ObjectKind, OperatorClassDef,
    OperatorFamilyDef,
};
use sqlx::postgres::types::Oid;
use std::collections::HashMap;

/// Few per schema: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct ClassRow {
    oid: Oid,
    schema: String,
    name: String,
    method: String,
    is_default: bool,
    input_type: String,
    storage: Option<String>,
    family: Option<Vec<String>>,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FamilyRow {
    oid: Oid,
    schema: String,
    name: String,
    method: String,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    /// The class's or family's oid.
    of: Oid,
    is_operator: bool,
    number: i32,
    left_type: String,
    right_type: String,
    /// The operator (`operator_ref`) or routine (`routine_ref`).
    target: Option<Vec<String>>,
    purpose: String,
    sort_family: Option<Vec<String>>,
}

/// A class's or family's members, rendered and in number order.
#[derive(Default)]
struct Members {
    operators: Vec<(i32, String)>,
    functions: Vec<(i32, String)>,
}

impl Members {
    fn sorted(mut v: Vec<(i32, String)>) -> Vec<String> {
        v.sort();
        v.into_iter().map(|(_, s)| s).collect()
    }
}

pub async fn read_operator_classes(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text AS schema, c.opcname::text AS name, am.amname::text AS method, \
           c.opcdefault AS is_default, format_type(c.opcintype, NULL) AS input_type, \
           CASE WHEN c.opckeytype = 0 THEN NULL ELSE format_type(c.opckeytype, NULL) END AS storage, \
           {family} AS family, pg_get_userbyid(c.opcowner)::text AS owner, {comment} AS comment \
         FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace \
         JOIN pg_am am ON am.oid = c.opcmethod \
         WHERE n.oid = ANY($1) AND {user}",
        family = qualified_ref("pg_opfamily", "opfnamespace", "opfname", "c.opcfamily"),
        comment = comment_of("pg_opclass", "c.oid"),
        user = user_made("pg_opclass", "c.oid"),
    );
    let classes: Vec<ClassRow> = fetch_by_oids(conn, "reading operator classes", &sql, nsp).await?;
    let sql = format!(
        "SELECT f.oid, n.nspname::text AS schema, f.opfname::text AS name, am.amname::text AS method, \
           pg_get_userbyid(f.opfowner)::text AS owner, {comment} AS comment \
         FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace \
         JOIN pg_am am ON am.oid = f.opfmethod \
         WHERE n.oid = ANY($1) AND {user}",
        comment = comment_of("pg_opfamily", "f.oid"),
        user = user_made("pg_opfamily", "f.oid"),
    );
    let families: Vec<FamilyRow> =
        fetch_by_oids(conn, "reading operator families", &sql, nsp).await?;
    // Members of the classes and families of the selected schemas, by the dependency that
    // makes them members.
    let member_of = "d.deptype IN ('a', 'i') AND (\
           (d.refclassid = 'pg_opclass'::regclass AND d.refobjid IN \
              (SELECT oid FROM pg_opclass WHERE opcnamespace = ANY($1))) \
        OR (d.refclassid = 'pg_opfamily'::regclass AND d.refobjid IN \
              (SELECT oid FROM pg_opfamily WHERE opfnamespace = ANY($1))))";
    let sql = format!(
        "SELECT d.refobjid AS of, true AS is_operator, ao.amopstrategy::int4 AS number, \
           format_type(ao.amoplefttype, NULL) AS left_type, format_type(ao.amoprighttype, NULL) AS right_type, \
           {op} AS target, ao.amoppurpose::text AS purpose, {sort} AS sort_family \
         FROM pg_amop ao JOIN pg_depend d ON d.classid = 'pg_amop'::regclass AND d.objid = ao.oid \
         WHERE {member_of} \
         UNION ALL \
         SELECT d.refobjid AS of, false AS is_operator, ap.amprocnum::int4 AS number, \
           format_type(ap.amproclefttype, NULL) AS left_type, format_type(ap.amprocrighttype, NULL) AS right_type, \
           {proc} AS target, 's' AS purpose, NULL::text[] AS sort_family \
         FROM pg_amproc ap JOIN pg_depend d ON d.classid = 'pg_amproc'::regclass AND d.objid = ap.oid \
         WHERE {member_of}",
        op = operator_ref("ao.amopopr"),
        sort = qualified_ref("pg_opfamily", "opfnamespace", "opfname", "ao.amopsortfamily"),
        proc = routine_ref("ap.amproc"),
    );
    let rows: Vec<MemberRow> =
        fetch_by_oids(conn, "reading operator class and family members", &sql, nsp).await?;
    let mut members: HashMap<u32, Members> = HashMap::new();
    for r in rows {
        let m = members.entry(r.of.0).or_default();
        if r.is_operator {
            let purpose = match qualified(r.sort_family) {
                Some(family) if r.purpose == "o" => format!("FOR ORDER BY {family}"),
                _ => "FOR SEARCH".to_string(),
            };
            let op = operator(r.target).unwrap_or_default();
            m.operators
                .push((r.number, format!("OPERATOR {} {op} {purpose}", r.number)));
        } else {
            let f = routine(r.target).unwrap_or_default();
            m.functions.push((
                r.number,
                format!(
                    "FUNCTION {} ({},{}) {f}",
                    r.number, r.left_type, r.right_type
                ),
            ));
        }
    }
    let mut out = Vec::with_capacity(classes.len() + families.len());
    for c in classes {
        let m = members.remove(&c.oid.0).unwrap_or_default();
        let name = format!(
            "{} USING {}",
            qualify(&c.schema, &c.name),
            quote_ident(&c.method)
        );
        out.push(CatalogObject {
            key: ObjectKey::new(ObjectKind::OperatorClass, &name),
            owner: Some(c.owner),
            acl: None,
            comment: c.comment,
            def: ObjectDef::OperatorClass(OperatorClassDef {
                schema: c.schema,
                name: c.name,
                method: c.method,
                default: c.is_default,
                input_type: c.input_type,
                storage: c.storage,
                family: qualified(c.family).unwrap_or_default(),
                operators: Members::sorted(m.operators),
                functions: Members::sorted(m.functions),
            }),
        });
    }
    for f in families {
        let m = members.remove(&f.oid.0).unwrap_or_default();
        let name = format!(
            "{} USING {}",
            qualify(&f.schema, &f.name),
            quote_ident(&f.method)
        );
        out.push(CatalogObject {
            key: ObjectKey::new(ObjectKind::OperatorFamily, &name),
            owner: Some(f.owner),
            acl: None,
            comment: f.comment,
            def: ObjectDef::OperatorFamily(OperatorFamilyDef {
                schema: f.schema,
                name: f.name,
                method: f.method,
                operators: Members::sorted(m.operators),
                functions: Members::sorted(m.functions),
            }),
        });
    }
    Ok(out)
}
