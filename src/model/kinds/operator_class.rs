//! Operator classes (`operator_class:SCHEMA.NAME USING AM`) and operator families
//! (`operator_family:SCHEMA.NAME USING AM`), in their schema's tree. The access method is
//! part of the key: two classes (or families) of one name may live in one schema under two
//! access methods, as `CREATE OPERATOR CLASS … USING` allows.
//!
//! Members are what pg_dump prints inside `CREATE OPERATOR CLASS … AS` (the class's own
//! members) and in `ALTER OPERATOR FAMILY … ADD` (a family's loose members, added to the
//! family and not owned by a class): operators with their strategy number and purpose
//! (`FOR SEARCH`, `FOR ORDER BY family`), support routines with their support number, each
//! with the left and right types it is registered for. Built-in classes and families
//! (initdb's) and extension members are left out, as in pg_dump.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const CLASS: KindSpec = KindSpec {
    name: "operator_class",
    key: KeyShape::Using,
    set_scope: None,
    relation: false,
};

pub const FAMILY: KindSpec = KindSpec {
    name: "operator_family",
    key: KeyShape::Using,
    set_scope: None,
    relation: false,
};

impl KindDef for OperatorClassDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

impl KindDef for OperatorFamilyDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

/// `CREATE OPERATOR CLASS`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorClassDef {
    pub schema: String,
    pub name: String,
    /// The index access method (`btree`, `hash`, `gist`, …).
    pub method: String,
    /// `DEFAULT`: the class indexes of its input type use when none is named.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// `FOR TYPE`, as `format_type` prints it.
    pub input_type: String,
    /// `STORAGE`: the type stored in the index when it is not the input type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// `FAMILY`, qualified (the family of the class's own name when none was given).
    pub family: String,
    /// The class's operators: `OPERATOR n schema.op(left,right) FOR SEARCH` or `… FOR
    /// ORDER BY schema.family`, in strategy order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<String>,
    /// The class's support routines: `FUNCTION n (left,right) schema.f(args)`, in support
    /// number order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}

/// `CREATE OPERATOR FAMILY` and its loose members (`ALTER OPERATOR FAMILY … ADD`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorFamilyDef {
    pub schema: String,
    pub name: String,
    pub method: String,
    /// Loose operators, as in [`OperatorClassDef::operators`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<String>,
    /// Loose support routines, as in [`OperatorClassDef::functions`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}
