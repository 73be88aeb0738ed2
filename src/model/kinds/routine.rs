//! Functions, procedures and aggregates (`function:SCHEMA.NAME(ARGTYPES)`, `procedure:…`,
//! `aggregate:…`): three kinds of one shape, keyed by identity argument types.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const FUNCTION: KindSpec = KindSpec {
    name: "function",
    key: KeyShape::Routine,
    set_scope: None,
    relation: false,
};

pub const PROCEDURE: KindSpec = KindSpec {
    name: "procedure",
    ..FUNCTION
};

pub const AGGREGATE: KindSpec = KindSpec {
    name: "aggregate",
    ..FUNCTION
};

impl KindDef for RoutineDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutineDef {
    pub schema: String,
    pub name: String,
    /// Identity argument types as in the key, e.g. `text, integer`.
    pub identity_args: String,
    /// Full argument list with names, modes and defaults.
    pub arguments: String,
    /// Result type (`trigger`, `SETOF record`, …); absent for procedures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    pub language: String,
    /// `immutable`, `stable` or `volatile`.
    pub volatility: String,
    pub strict: bool,
    pub security_definer: bool,
    pub leakproof: bool,
    /// `safe`, `restricted` or `unsafe`.
    pub parallel: String,
    /// `SET` clauses (`search_path=public, pg_temp`), in catalog order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Planner cost estimate (`COST`), as the server prints it. Empty only in objects
    /// stored before it was captured, which then keep their bytes and hash.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cost: String,
    /// Estimated result rows (`ROWS`) of a set-returning function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    /// Planner support function (`SUPPORT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<String>,
    /// A window function (`WINDOW`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub window: bool,
    /// `TRANSFORM FOR TYPE` types, in catalog order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<String>,
    /// `pg_get_functiondef` output; absent for aggregates, which it cannot print.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// The body exactly as stored (`prosrc`, or the SQL-standard body).
    pub source: String,
    /// BLAKE3 of `source`, byte for byte.
    pub body_hash: String,
    /// BLAKE3 of the body's token stream: insensitive to whitespace and comments, sensitive
    /// to every literal and identifier.
    pub token_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateDef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateDef {
    pub transition_function: String,
    pub state_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_operator: Option<String>,
    /// `normal`, `ordered_set` or `hypothetical`.
    pub aggregate_kind: String,
}
