//! Rewrite rules (`CREATE RULE … ON INSERT TO t [WHERE …] DO [ALSO | INSTEAD] …`): their
//! definition parsed with `pg_query`, the actions read like a body (what they write, call
//! and notify), so the walk follows them as it follows a trigger's function.
//!
//! A rule's actions run only for the rows its `WHERE` accepts, so every action fact is
//! `conditional` on it; the condition itself is evaluated for every row, so what it calls
//! is as sure as the write. A definition the PG17 grammar cannot parse is unanalysable with
//! the parser's reason, never taken for a rule that does nothing.

use super::{resolve, within_budget, BodyFacts, BodyStatus, RawBody};
use crate::graph::certainty::Sure;
use crate::graph::index::SnapshotIndex;
use crate::model::{CatalogObject, ObjectDef};
use pg_query::{protobuf, NodeEnum};

/// What a rule's actions do; its `routine` is the rule's key.
pub fn analyse_rule(index: &SnapshotIndex<'_>, obj: &CatalogObject) -> BodyFacts {
    let ObjectDef::Rule(rule) = &obj.def else {
        return BodyFacts::empty(
            obj.key.clone(),
            BodyStatus::Unanalysable {
                reason: "not a rule".into(),
            },
        );
    };
    let parsed = within_budget(&rule.definition)
        .and_then(|text| pg_query::parse(text).map_err(|e| e.to_string()));
    let stmt = match parsed {
        Ok(p) => p
            .protobuf
            .stmts
            .into_iter()
            .find_map(|raw| match raw.stmt?.node? {
                NodeEnum::RuleStmt(r) => Some(r),
                _ => None,
            }),
        Err(reason) => {
            return BodyFacts::empty(obj.key.clone(), BodyStatus::Unanalysable { reason })
        }
    };
    let Some(stmt) = stmt else {
        return BodyFacts::empty(
            obj.key.clone(),
            BodyStatus::Unanalysable {
                reason: "the definition is not a CREATE RULE statement".into(),
            },
        );
    };
    let mut raw = RawBody::default();
    if let Some(cond) = &stmt.where_clause {
        raw.sql.add_node(cond, Sure::always());
    }
    let actions_sure = match rule_condition(&rule.definition) {
        Some(cond) => Sure::guarded(&[format!("rule WHERE {cond}")]),
        None if stmt.where_clause.is_some() => Sure::guarded(&["rule WHERE".to_string()]),
        None => Sure::always(),
    };
    for action in &stmt.actions {
        raw.sql.add_node(action, actions_sure.clone());
    }
    // The rule's names are as `pg_get_ruledef` printed them with `search_path` at
    // `pg_catalog`: user relations and routines are qualified.
    resolve(index, &obj.key, &["public".to_string()], raw)
}

/// The `WHERE` condition of a rule, printed back from its parse tree; `None` without one
/// (or when the definition does not parse: the rule is then unanalysable anyway).
pub fn rule_condition(definition: &str) -> Option<String> {
    let parsed = pg_query::parse(definition).ok()?;
    let cond = parsed
        .protobuf
        .stmts
        .into_iter()
        .find_map(|raw| match raw.stmt?.node? {
            NodeEnum::RuleStmt(r) => r.where_clause,
            _ => None,
        })?;
    // The parser prints statements, not expressions: print `SELECT cond` and drop the
    // keyword.
    let select = NodeEnum::SelectStmt(Box::new(protobuf::SelectStmt {
        target_list: vec![protobuf::Node {
            node: Some(NodeEnum::ResTarget(Box::new(protobuf::ResTarget {
                val: Some(cond),
                ..Default::default()
            }))),
        }],
        // Enum fields default to 0, `UNDEFINED`, which the printer asserts against.
        op: protobuf::SetOperation::SetopNone as i32,
        limit_option: protobuf::LimitOption::Default as i32,
        ..Default::default()
    }));
    let text = select.deparse().ok()?;
    Some(text.strip_prefix("SELECT ").unwrap_or(&text).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_condition_is_read_off_the_printed_definition() {
        let def = "CREATE RULE r AS\n    ON INSERT TO public.t\n   WHERE (new.a > public.f('x)')) DO INSTEAD  INSERT INTO public.log (a)\n  VALUES (new.a);";
        assert_eq!(
            rule_condition(def).as_deref(),
            Some("new.a > public.f('x)')")
        );
        assert_eq!(
            rule_condition("CREATE RULE r AS ON INSERT TO t DO ALSO NOTIFY c"),
            None
        );
    }
}
