//! Operators (`operator:SCHEMA.NAME(LEFT,RIGHT)`, `NONE` for a prefix operator's left side,
//! as `regoperator` prints it; the name bare: operator names hold no dots, quotes or
//! parentheses). Shell operators (named by a COMMUTATOR or NEGATOR, never defined) are not
//! objects of their own, as in pg_dump.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "operator",
    key: KeyShape::Routine,
    set_scope: None,
    relation: false,
};

impl KindDef for OperatorDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorDef {
    pub schema: String,
    pub name: String,
    /// Absent for a prefix operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<String>,
    pub right: String,
    pub result: String,
    /// The function it calls, by signature.
    pub function: String,
    /// Other operators, by key name (`schema.name(left,right)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commutator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negator: Option<String>,
    /// Selectivity estimators, by signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hashes: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merges: bool,
}
