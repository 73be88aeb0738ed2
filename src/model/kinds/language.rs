//! Procedural languages (`language:NAME`) created outside an extension: database-wide.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "language",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for LanguageDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageDef {
    pub name: String,
    /// `CREATE TRUSTED LANGUAGE`: unprivileged roles may create functions in it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted: bool,
    /// Call handler, inline (`DO`) handler and validator, by signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
}
