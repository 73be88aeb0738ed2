//! Object kinds and OID-free object keys (`KIND:NAME`, e.g. `trigger:public.dot_tools.trg_x`).
//!
//! Names are schema-qualified; a part that is not a plain lower-case identifier is
//! double-quoted the way PostgreSQL's `quote_ident` does, so a key is never ambiguous even
//! when a name holds dots, quotes or spaces. Routine keys carry the identity argument types
//! exactly as `oid::regprocedure::text` prints them with `search_path = pg_catalog`.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use super::kinds::ObjectKind;
use super::names::{qualify, quote_ident, routine_signature};

/// `KIND:NAME`. Ordered by bytes, so sorting keys never depends on a collation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ObjectKey(String);

/// Keys read from a file (a snapshot file, a stored tree) are checked like keys a user
/// types: an unknown kind is a decoding error naming it, never a panic later on
/// ([`ObjectKey::kind`] relies on it; fuzzing found a hand-edited kind crashing it).
impl<'de> Deserialize<'de> for ObjectKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (kind, _) = s.split_once(':').ok_or_else(|| {
            serde::de::Error::custom(format!("object key {s:?} has no KIND: prefix"))
        })?;
        kind.parse::<ObjectKind>()
            .map_err(serde::de::Error::custom)?;
        Ok(ObjectKey(s))
    }
}

impl ObjectKey {
    pub fn new(kind: ObjectKind, name: &str) -> Self {
        ObjectKey(format!("{}:{}", kind.as_str(), name))
    }

    /// `kind:schema.name` with each part quoted when needed.
    pub fn qualified(kind: ObjectKind, schema: &str, name: &str) -> Self {
        Self::new(kind, &qualify(schema, name))
    }

    /// `kind:schema.table.name`, for objects that live on a table (constraints, triggers, policies).
    pub fn on_table(kind: ObjectKind, schema: &str, table: &str, name: &str) -> Self {
        Self::new(
            kind,
            &format!("{}.{}", qualify(schema, table), quote_ident(name)),
        )
    }

    /// `function:schema.name(argtype,argtype)` (also `procedure:`, `aggregate:`).
    pub fn routine(kind: ObjectKind, schema: &str, name: &str, arg_types: &[String]) -> Self {
        Self::new(kind, &routine_signature(schema, name, arg_types))
    }

    /// Parse and validate a key given by a user (a `--scope`, a policy rule).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, name) = s
            .split_once(':')
            .ok_or_else(|| format!("object key {s:?} has no KIND: prefix"))?;
        let kind: ObjectKind = kind.parse()?;
        if name.is_empty() {
            return Err(format!("object key {s:?} has an empty name"));
        }
        Ok(ObjectKey::new(kind, name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> ObjectKind {
        let prefix = self.0.split(':').next().unwrap_or_default();
        prefix
            .parse()
            .expect("ObjectKey is only built with a valid kind prefix")
    }

    /// The part after `KIND:`.
    pub fn name(&self) -> &str {
        self.0.split_once(':').map(|(_, n)| n).unwrap_or_default()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_an_unknown_kind_do_not_decode() {
        let ok: ObjectKey = serde_json::from_str("\"table:public.t\"").unwrap();
        assert_eq!(ok.kind(), ObjectKind::Table);
        for bad in ["\"tabel:public.t\"", "\"no prefix\"", "\":x\""] {
            let err = serde_json::from_str::<ObjectKey>(bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("object kind") || err.contains("KIND:"),
                "{err}"
            );
        }
        let map: Result<std::collections::BTreeMap<ObjectKey, u8>, _> =
            serde_json::from_str("{\"x:y\": 1}");
        assert!(map.is_err());
    }

    #[test]
    fn keys_carry_their_kind() {
        let k = ObjectKey::on_table(ObjectKind::Trigger, "public", "dot_tools", "trg_x");
        assert_eq!(k.as_str(), "trigger:public.dot_tools.trg_x");
        assert_eq!(k.kind(), ObjectKind::Trigger);
        assert_eq!(k.name(), "public.dot_tools.trg_x");
        let e = ObjectKey::new(ObjectKind::EventTrigger, "trg_ddl_guard");
        assert_eq!(e.kind(), ObjectKind::EventTrigger);
    }

    #[test]
    fn parse_rejects_unknown_kinds_and_empty_names() {
        assert!(ObjectKey::parse("function:public.f()").is_ok());
        assert!(ObjectKey::parse("widget:x").is_err());
        assert!(ObjectKey::parse("table:").is_err());
        assert!(ObjectKey::parse("nocolon").is_err());
    }
}
