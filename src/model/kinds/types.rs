//! User-defined types (`type:SCHEMA.NAME`): enums, composites, domains, ranges, base types.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SPEC: KindSpec = KindSpec {
    name: "type",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: false,
};

impl KindDef for TypeDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDef {
    pub schema: String,
    pub name: String,
    /// `enum`, `composite`, `domain`, `range`, `base`, `multirange` or `shell`.
    pub type_kind: String,
    /// Enum labels in their sort order (the order is part of the type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Composite attributes in column order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<TypeAttribute>,
    /// Domain: the base type; range: the subtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null: bool,
    /// A domain's NOT NULL is a named constraint on PostgreSQL 17+: its name, kept only when
    /// not the one PostgreSQL chooses by default (`DOMAIN_not_null`), so 13–16 and 17+ give
    /// the same type for the same SQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null_name: Option<String>,
    /// `COMMENT ON CONSTRAINT` of a domain's NOT NULL (17+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null_comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Domain CHECK constraints: name → definition.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraints: BTreeMap<String, String>,
    /// `COMMENT ON CONSTRAINT … ON DOMAIN`: constraint name → comment, for those that have
    /// one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraint_comments: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN type.attribute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}
