//! Text search parsers, templates, dictionaries and configurations
//! (`text_search_parser:SCHEMA.NAME`, …): four kinds, one module, as in PostgreSQL's
//! `CREATE TEXT SEARCH …`.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PARSER: KindSpec = KindSpec {
    name: "text_search_parser",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: false,
};

pub const TEMPLATE: KindSpec = KindSpec {
    name: "text_search_template",
    ..PARSER
};

pub const DICTIONARY: KindSpec = KindSpec {
    name: "text_search_dictionary",
    ..PARSER
};

pub const CONFIGURATION: KindSpec = KindSpec {
    name: "text_search_configuration",
    ..PARSER
};

impl KindDef for TsParserDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}
impl KindDef for TsTemplateDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}
impl KindDef for TsDictionaryDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}
impl KindDef for TsConfigurationDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

/// A parser's functions, by signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TsParserDef {
    pub schema: String,
    pub name: String,
    pub start: String,
    pub gettoken: String,
    pub end: String,
    pub lextypes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TsTemplateDef {
    pub schema: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    pub lexize: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TsDictionaryDef {
    pub schema: String,
    pub name: String,
    /// The template, qualified.
    pub template: String,
    /// The options as stored (`stopwords = 'english', accept = 'false'`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TsConfigurationDef {
    pub schema: String,
    pub name: String,
    /// The parser, qualified.
    pub parser: String,
    /// Token type (the parser's alias) → dictionaries, qualified, in the order tried.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mappings: BTreeMap<String, Vec<String>>,
}
