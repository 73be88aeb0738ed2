//! Writes through a view: whether a view is automatically updatable (PostgreSQL rewrites an
//! INSERT, UPDATE or DELETE on it into one on its base relation) and onto which relation,
//! read off the view's definition with `pg_query`.
//!
//! PostgreSQL's rules (`CREATE VIEW`, "Updatable Views"): exactly one entry in `FROM`, a
//! table or another updatable view; no `WITH`, `DISTINCT`, `GROUP BY`, `HAVING`, `LIMIT`,
//! `OFFSET`, set operation, aggregate, window or set-returning function at the top level.
//! Aggregates and set-returning functions are known by name only (built-in ones and the
//! snapshot's aggregates): a view misjudged updatable shows a write that PostgreSQL would
//! refuse, never hides one that happens.

use pg_query::protobuf;
use pg_query::NodeEnum;
use std::collections::BTreeMap;

/// Built-in aggregates and set-returning functions that make a view not updatable when its
/// select list calls them.
const NOT_UPDATABLE_CALLS: &[&str] = &[
    "array_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bool_and",
    "bool_or",
    "count",
    "every",
    "generate_series",
    "json_agg",
    "json_object_agg",
    "jsonb_agg",
    "jsonb_array_elements",
    "jsonb_each",
    "jsonb_object_agg",
    "max",
    "min",
    "regexp_matches",
    "string_agg",
    "sum",
    "unnest",
    "xmlagg",
];

/// What a write on an automatically updatable view writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseRelation {
    /// The base relation as written in the view's `FROM` (`schema`, `name`); the schema is
    /// always there, as `pg_get_viewdef` prints with `search_path` at `pg_catalog`.
    pub schema: Option<String>,
    pub name: String,
    /// View column → base column, for the view's columns that are plain column references
    /// (the only ones an UPDATE may set).
    pub columns: BTreeMap<String, String>,
}

/// The base relation of `definition` (a view's `SELECT`) when the view is automatically
/// updatable; `Err` with why it is not. `aggregates` are the snapshot's aggregate names.
pub fn auto_updatable_base(
    definition: &str,
    aggregates: &dyn Fn(&str) -> bool,
) -> Result<BaseRelation, String> {
    let parsed = pg_query::parse(definition).map_err(|e| format!("unparsable definition: {e}"))?;
    let stmt = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| s.node.as_ref());
    let Some(NodeEnum::SelectStmt(s)) = stmt else {
        return Err("the definition is not a SELECT".into());
    };
    if s.op != protobuf::SetOperation::SetopNone as i32 {
        return Err("UNION, INTERSECT or EXCEPT".into());
    }
    let refused = [
        (s.with_clause.is_some(), "WITH"),
        (!s.distinct_clause.is_empty(), "DISTINCT"),
        (!s.group_clause.is_empty(), "GROUP BY"),
        (s.having_clause.is_some(), "HAVING"),
        (
            s.limit_count.is_some() || s.limit_offset.is_some(),
            "LIMIT or OFFSET",
        ),
        (!s.values_lists.is_empty(), "VALUES"),
    ];
    if let Some((_, what)) = refused.iter().find(|(hit, _)| *hit) {
        return Err(format!("{what} at the top level"));
    }
    let [from] = s.from_clause.as_slice() else {
        return Err(format!(
            "{} relations in FROM, not exactly one",
            s.from_clause.len()
        ));
    };
    let Some(NodeEnum::RangeVar(rv)) = &from.node else {
        return Err("FROM is a join, subquery or function, not one relation".into());
    };
    let mut columns = BTreeMap::new();
    for t in &s.target_list {
        let Some(NodeEnum::ResTarget(rt)) = &t.node else {
            continue;
        };
        match rt.val.as_ref().and_then(|v| v.node.as_ref()) {
            Some(NodeEnum::ColumnRef(c)) => {
                let base = c.fields.last().and_then(|f| match &f.node {
                    Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                    _ => None,
                });
                if let Some(base) = base {
                    let name = if rt.name.is_empty() {
                        base.clone()
                    } else {
                        rt.name.clone()
                    };
                    columns.insert(name, base);
                }
            }
            Some(NodeEnum::FuncCall(f)) => {
                let name = f
                    .funcname
                    .last()
                    .and_then(|n| match &n.node {
                        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
                        _ => None,
                    })
                    .unwrap_or_default();
                if f.over.is_some() {
                    return Err(format!("window function {name} in the select list"));
                }
                if NOT_UPDATABLE_CALLS.contains(&name) || aggregates(name) {
                    return Err(format!(
                        "aggregate or set-returning {name} in the select list"
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(BaseRelation {
        schema: (!rv.schemaname.is_empty()).then(|| rv.schemaname.clone()),
        name: rv.relname.clone(),
        columns,
    })
}

/// `WITH [LOCAL | CASCADED] CHECK OPTION` of a view, from its options (`check_option=local`).
pub fn check_option(options: &[String]) -> Option<String> {
    options
        .iter()
        .find_map(|o| o.strip_prefix("check_option="))
        .map(|v| v.trim_matches('\'').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(def: &str) -> Result<BaseRelation, String> {
        auto_updatable_base(def, &|n| n == "my_agg")
    }

    #[test]
    fn a_simple_view_writes_its_base_with_its_column_names_mapped() {
        let b =
            base(" SELECT t.id,\n    t.a AS alias\n   FROM public.t\n  WHERE t.a > 0;").unwrap();
        assert_eq!(
            (b.schema.as_deref(), b.name.as_str()),
            (Some("public"), "t")
        );
        assert_eq!(b.columns.get("alias").map(String::as_str), Some("a"));
        assert_eq!(b.columns.get("id").map(String::as_str), Some("id"));
    }

    #[test]
    fn what_postgresql_refuses_is_not_updatable() {
        for def in [
            "SELECT a FROM public.t UNION SELECT a FROM public.u",
            "SELECT DISTINCT a FROM public.t",
            "SELECT a, count(*) AS n FROM public.t GROUP BY a",
            "SELECT a FROM public.t LIMIT 1",
            "SELECT t.a FROM public.t JOIN public.u ON t.a = u.a",
            "SELECT a FROM public.t, public.u",
            "SELECT my_agg(a) FROM public.t",
            "SELECT row_number() OVER () FROM public.t",
            "WITH w AS (SELECT 1) SELECT a FROM public.t",
        ] {
            assert!(base(def).is_err(), "{def}");
        }
    }

    #[test]
    fn check_option_is_read_from_the_options() {
        assert_eq!(
            check_option(&["check_option=cascaded".to_string()]).as_deref(),
            Some("cascaded")
        );
        assert_eq!(check_option(&["security_barrier=true".to_string()]), None);
    }
}
