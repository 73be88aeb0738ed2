//! Collations (`collation:SCHEMA.NAME`).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SPEC: KindSpec = KindSpec {
    name: "collation",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: false,
};

impl KindDef for CollationDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollationDef {
    pub schema: String,
    pub name: String,
    /// `libc`, `icu`, `builtin` (17+) or `default`.
    pub provider: String,
    /// `DETERMINISTIC = false` (ICU only) is `false`.
    pub deterministic: bool,
    /// The encoding it is for; absent when it serves any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// What the provider is given, as stored: `collate` and `ctype` (`LC_COLLATE`,
    /// `LC_CTYPE`), `locale` (ICU and builtin, 15+), `rules` (ICU, 16+). Which columns
    /// exist depends on the server version, so they are entries, present when set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locale: BTreeMap<String, String>,
}
