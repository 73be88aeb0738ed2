//! Functions, procedures and aggregates (`function:schema.name(argtypes)`, …) with their
//! full definition, exact body and the two body hashes.

use super::{arg_types_of, comment_of, ext_member, fetch_by_oids, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{AggregateDef, CatalogObject, ObjectDef, ObjectKey, ObjectKind, RoutineDef};
use crate::sqltext;
use sqlx::postgres::types::Oid;

/// Grows with the catalog (every routine is deparsed): split by schema, weighed double.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: true },
    weight: 2,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    prokind: String,
    arg_types: Vec<String>,
    arguments: String,
    result: Option<String>,
    language: String,
    volatility: String,
    strict: bool,
    security_definer: bool,
    leakproof: bool,
    parallel: String,
    config: Option<Vec<String>>,
    cost: String,
    rows: Option<String>,
    support: Option<String>,
    transforms: Option<Vec<String>>,
    definition: Option<String>,
    source: Option<String>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
    agg_transfn: Option<String>,
    agg_transtype: Option<String>,
    agg_finalfn: Option<String>,
    agg_combinefn: Option<String>,
    agg_initval: Option<String>,
    agg_sortop: Option<String>,
    agg_kind: Option<String>,
}

/// Functions that exist only as part of another object (a range type's constructors, and on
/// 14+ its multirange constructors: an internal dependency) are left out, as pg_dump leaves
/// them out: the type stands for them, and 13 would otherwise differ from 14+ by three
/// functions per range type.
pub async fn read_routines(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS prokind, \
           {args} AS arg_types, pg_get_function_arguments(p.oid) AS arguments, \
           CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS result, \
           l.lanname::text AS language, p.provolatile::text AS volatility, p.proisstrict AS strict, \
           p.prosecdef AS security_definer, p.proleakproof AS leakproof, p.proparallel::text AS parallel, \
           p.proconfig AS config, p.procost::text AS cost, \
           CASE WHEN p.proretset THEN p.prorows::text END AS rows, \
           NULLIF(p.prosupport, 0)::regproc::text AS support, \
           (SELECT array_agg(format_type(t.oid, NULL) ORDER BY t.ord) \
              FROM unnest(p.protrftypes) WITH ORDINALITY AS t(oid, ord)) AS transforms, \
           CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition, \
           {source} AS source, \
           pg_get_userbyid(p.proowner)::text AS owner, {acl} AS acl, {comment} AS comment, \
           ag.aggtransfn::regprocedure::text AS agg_transfn, format_type(ag.aggtranstype, NULL) AS agg_transtype, \
           NULLIF(ag.aggfinalfn, 0)::regprocedure::text AS agg_finalfn, \
           NULLIF(ag.aggcombinefn, 0)::regprocedure::text AS agg_combinefn, \
           ag.agginitval AS agg_initval, NULLIF(ag.aggsortop, 0)::regoperator::text AS agg_sortop, \
           ag.aggkind::text AS agg_kind \
         FROM pg_proc p \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         JOIN pg_language l ON l.oid = p.prolang \
         LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid \
         WHERE n.oid = ANY($1) AND NOT {ext} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend idep WHERE idep.classid = 'pg_proc'::regclass \
                           AND idep.objid = p.oid AND idep.deptype = 'i')",
        args = arg_types_of("p"),
        source = caps.routine_source_sql(),
        acl = super::acl_sql("p.proacl", "f", "p.proowner"),
        comment = comment_of("pg_proc", "p.oid"),
        ext = ext_member("pg_proc", "p.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading functions", &sql, nsp).await?;
    Ok(rows.into_iter().map(routine_object).collect())
}

fn routine_object(r: Row) -> CatalogObject {
    let kind = match r.prokind.as_str() {
        "p" => ObjectKind::Procedure,
        "a" => ObjectKind::Aggregate,
        _ => ObjectKind::Function,
    };
    let source = r.source.unwrap_or_default();
    let aggregate = r.agg_transfn.map(|transfn| AggregateDef {
        transition_function: transfn,
        state_type: r.agg_transtype.unwrap_or_default(),
        final_function: r.agg_finalfn,
        combine_function: r.agg_combinefn,
        initial_value: r.agg_initval,
        sort_operator: r.agg_sortop,
        aggregate_kind: match r.agg_kind.as_deref() {
            Some("o") => "ordered_set",
            Some("h") => "hypothetical",
            _ => "normal",
        }
        .to_string(),
    });
    let def = RoutineDef {
        identity_args: r.arg_types.join(", "),
        arguments: r.arguments,
        result: r.result,
        volatility: match r.volatility.as_str() {
            "i" => "immutable",
            "s" => "stable",
            _ => "volatile",
        }
        .to_string(),
        strict: r.strict,
        security_definer: r.security_definer,
        leakproof: r.leakproof,
        parallel: match r.parallel.as_str() {
            "s" => "safe",
            "r" => "restricted",
            _ => "unsafe",
        }
        .to_string(),
        config: r.config.unwrap_or_default(),
        cost: r.cost,
        rows: r.rows,
        support: r.support,
        window: r.prokind == "w",
        transforms: r.transforms.unwrap_or_default(),
        definition: r.definition,
        body_hash: sqltext::exact_hash(&source),
        token_hash: sqltext::token_hash(&r.language, &source),
        source,
        language: r.language,
        aggregate,
        schema: r.schema.clone(),
        name: r.name.clone(),
    };
    CatalogObject {
        key: ObjectKey::routine(kind, &r.schema, &r.name, &r.arg_types),
        owner: Some(r.owner),
        acl: sorted(r.acl),
        comment: r.comment,
        def: match kind {
            ObjectKind::Procedure => ObjectDef::Procedure(def),
            ObjectKind::Aggregate => ObjectDef::Aggregate(def),
            _ => ObjectDef::Function(def),
        },
    }
}
