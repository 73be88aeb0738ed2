//! SQL/MED, database-wide in the catalog root: foreign data wrappers
//! (`foreign_data_wrapper:NAME`), foreign servers (`server:NAME`) and user mappings
//! (`user_mapping:SERVER/ROLE`, `PUBLIC` for `FOR PUBLIC`; a role named `PUBLIC` is quoted,
//! `"PUBLIC"`, as identifiers are, so the two cannot be confused).
//!
//! Options are `name → value` maps (their order in the catalog is the order of the ALTERs
//! that set them, which means nothing), so a diff names the option that changed
//! (`options.host`). Values under secret-looking names (`model::redact`) are replaced by
//! `(removed)` before storing, never hashed. A user mapping's options are shown only to a
//! superuser, the mapping's role, or the server's owner (with USAGE on it): for any other
//! role they are [`crate::model::redact::NOT_READABLE`], never an empty map.

use super::{KeyShape, KindDef, KindSpec};
use crate::model::redact::NOT_READABLE;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

pub const WRAPPER: KindSpec = KindSpec {
    name: "foreign_data_wrapper",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

pub const SERVER: KindSpec = KindSpec {
    name: "server",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

pub const USER_MAPPING: KindSpec = KindSpec {
    name: "user_mapping",
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

/// The role part of a user mapping's key for `FOR PUBLIC`.
pub const PUBLIC_MAPPING: &str = "PUBLIC";

impl KindDef for ForeignDataWrapperDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

impl KindDef for ServerDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

impl KindDef for UserMappingDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

/// `CREATE FOREIGN DATA WRAPPER`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignDataWrapperDef {
    pub name: String,
    /// `HANDLER`, by signature; absent for `NO HANDLER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// `VALIDATOR`, by signature; absent for `NO VALIDATOR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `CREATE SERVER`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDef {
    pub name: String,
    pub wrapper: String,
    /// `TYPE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_type: Option<String>,
    /// `VERSION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `CREATE USER MAPPING`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMappingDef {
    pub server: String,
    /// The role; absent for `FOR PUBLIC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub options: MappingOptions,
}

/// A user mapping's options, or that the connected role may not read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingOptions {
    Readable(BTreeMap<String, String>),
    /// Stored as the string [`NOT_READABLE`] in place of the map, so a diff against a
    /// snapshot that could read them is a readability change, not drift.
    NotReadable,
}

/// What the deserializer of [`MappingOptions`] expects: also how the every-field test tells
/// that it is asked for this type.
pub const MAPPING_OPTIONS_EXPECTING: &str = "a map of options, or \"not readable by this role\"";

impl Serialize for MappingOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MappingOptions::Readable(map) => map.serialize(s),
            MappingOptions::NotReadable => s.serialize_str(NOT_READABLE),
        }
    }
}

impl<'de> Deserialize<'de> for MappingOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MappingOptions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(MAPPING_OPTIONS_EXPECTING)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MappingOptions, E> {
                // Only the one marker: any other string is not a value this model writes.
                if v == NOT_READABLE {
                    Ok(MappingOptions::NotReadable)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<MappingOptions, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<String, String>()? {
                    map.insert(k, v);
                }
                Ok(MappingOptions::Readable(map))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_options_round_trip_in_both_forms_and_reject_other_strings() {
        let readable = MappingOptions::Readable(BTreeMap::from([("user".into(), "a".into())]));
        for o in [readable, MappingOptions::NotReadable] {
            let json = serde_json::to_value(&o).unwrap();
            assert_eq!(serde_json::from_value::<MappingOptions>(json).unwrap(), o);
        }
        assert_eq!(
            serde_json::to_value(MappingOptions::NotReadable).unwrap(),
            NOT_READABLE
        );
        assert!(serde_json::from_value::<MappingOptions>("".into()).is_err());
    }
}
