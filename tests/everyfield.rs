//! The every-field test: a field the diff does not compare, or the gate does not weigh, is a
//! silent PASS. For every kind and every JSON leaf of every object captured from
//! `tests/fixtures/every_field.sql` and `every_kind.sql`, a snapshot pair that differs in
//! that leaf alone must give a non-empty diff naming the field and a BLOCK under the default
//! policy.
//!
//! The field list is derived from the model, not written down: [`Fullest`] builds the
//! fullest value of every definition type through serde (the field names serde hands to
//! `deserialize_struct`), and its JSON leaves are what a snapshot of that kind can hold. A
//! field added to the model and not populated by the fixture fails the test by name; so
//! does a leaf the generic mutations cannot change.
//!
//! The snapshot is captured and stored through the library (capture, store writer, store
//! read), not the CLI binary: the binary in a shared target directory may be another
//! checkout's build, and the library path is the same code the `snapshot` command runs.

mod support;

use driftgate::catalog::{self, CaptureOptions, ConnectTarget};
use driftgate::diff::{self, ChangeType, Diff};
use driftgate::gate::{GateReport, Policy, Verdict};
use driftgate::model::fingerprint::Scope;
use driftgate::model::{
    CatalogObject, CatalogSnapshot, ObjectDef, ObjectKey, ObjectKind, MAPPING_OPTIONS_EXPECTING,
};
use driftgate::store::writer::SnapshotWriter;
use driftgate::store::Store;
use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const EVERY_FIELD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/every_field.sql"
);

/// The schema-object kinds beyond tables and routines (rules, operators, casts, …), loaded
/// after [`EVERY_FIELD`], whose schemas and roles it uses.
const EVERY_KIND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/every_kind.sql");

/// Leaves a kind cannot have, whatever the fixture does: PostgreSQL has no such property
/// for that kind, or driftgate reads it from another object. A path listed here that the
/// fixture does populate fails the test, so the list cannot go stale.
const NOT_APPLICABLE: &[(ObjectKind, &str, &str)] = &[
    (ObjectKind::Extension, "acl[]", "extensions have no ACL"),
    (
        ObjectKind::Constraint,
        "owner",
        "a constraint belongs to its table's owner",
    ),
    (ObjectKind::Constraint, "acl[]", "constraints have no ACL"),
    (
        ObjectKind::Index,
        "owner",
        "an index belongs to its table's owner",
    ),
    (ObjectKind::Index, "acl[]", "indexes have no ACL"),
    (
        ObjectKind::Trigger,
        "owner",
        "a trigger belongs to its table's owner",
    ),
    (ObjectKind::Trigger, "acl[]", "triggers have no ACL"),
    (
        ObjectKind::Policy,
        "owner",
        "a policy belongs to its table's owner",
    ),
    (ObjectKind::Policy, "acl[]", "policies have no ACL"),
    (
        ObjectKind::EventTrigger,
        "acl[]",
        "event triggers have no ACL",
    ),
    (
        ObjectKind::Rule,
        "owner",
        "a rule belongs to its relation's owner",
    ),
    (ObjectKind::Rule, "acl[]", "rules have no ACL"),
    (ObjectKind::Cast, "owner", "casts have no owner"),
    (ObjectKind::Cast, "acl[]", "casts have no ACL"),
    (ObjectKind::Transform, "owner", "transforms have no owner"),
    (ObjectKind::Transform, "acl[]", "transforms have no ACL"),
    (
        ObjectKind::AccessMethod,
        "owner",
        "access methods have no owner",
    ),
    (
        ObjectKind::AccessMethod,
        "acl[]",
        "access methods have no ACL",
    ),
    (ObjectKind::Operator, "acl[]", "operators have no ACL"),
    (ObjectKind::Collation, "acl[]", "collations have no ACL"),
    (ObjectKind::Conversion, "acl[]", "conversions have no ACL"),
    (
        ObjectKind::TextSearchParser,
        "owner",
        "text search parsers have no owner",
    ),
    (ObjectKind::TextSearchParser, "acl[]", "no ACL"),
    (
        ObjectKind::TextSearchTemplate,
        "owner",
        "text search templates have no owner",
    ),
    (ObjectKind::TextSearchTemplate, "acl[]", "no ACL"),
    (ObjectKind::TextSearchDictionary, "acl[]", "no ACL"),
    (ObjectKind::TextSearchConfiguration, "acl[]", "no ACL"),
    (ObjectKind::Publication, "acl[]", "publications have no ACL"),
    (
        ObjectKind::Statistics,
        "acl[]",
        "statistics objects have no ACL",
    ),
    (
        ObjectKind::DefaultAcl,
        "owner",
        "the role it is for is a field",
    ),
    (
        ObjectKind::DefaultAcl,
        "comment",
        "default privileges take no comment",
    ),
    (
        ObjectKind::Function,
        "aggregate.*",
        "only aggregates have it",
    ),
    (
        ObjectKind::Procedure,
        "aggregate.*",
        "only aggregates have it",
    ),
    (ObjectKind::Procedure, "result", "procedures return nothing"),
    (ObjectKind::Role, "owner", "roles have no owner"),
    (ObjectKind::Role, "acl[]", "roles have no ACL"),
    (ObjectKind::RoleMembership, "owner", "a grant has no owner"),
    (ObjectKind::RoleMembership, "acl[]", "a grant has no ACL"),
    (
        ObjectKind::RoleMembership,
        "comment",
        "a grant has no comment",
    ),
    (
        ObjectKind::BuiltinAcl,
        "owner",
        "PostgreSQL's or the extension's; the object's owner is not the drift",
    ),
    (
        ObjectKind::BuiltinAcl,
        "comment",
        "a privilege has no comment",
    ),
    (
        ObjectKind::ParameterAcl,
        "owner",
        "a parameter has no owner",
    ),
    (
        ObjectKind::ParameterAcl,
        "comment",
        "a parameter has no comment",
    ),
    (
        ObjectKind::SecurityLabel,
        "owner",
        "a label belongs to its object's owner",
    ),
    (ObjectKind::SecurityLabel, "acl[]", "a label has no ACL"),
    (
        ObjectKind::SecurityLabel,
        "comment",
        "a label has no comment",
    ),
    (ObjectKind::Setting, "owner", "a setting has no owner"),
    (ObjectKind::Setting, "acl[]", "a setting has no ACL"),
    (ObjectKind::Setting, "comment", "a setting has no comment"),
    (ObjectKind::ServerSetting, "owner", "a setting has no owner"),
    (ObjectKind::ServerSetting, "acl[]", "a setting has no ACL"),
    (
        ObjectKind::ServerSetting,
        "comment",
        "a setting has no comment",
    ),
    (
        ObjectKind::Database,
        "locale",
        "the harness creates libc databases, and no ALTER sets an ICU locale",
    ),
    (
        ObjectKind::Database,
        "icu_rules",
        "the harness creates libc databases, and no ALTER sets ICU rules",
    ),
    (
        ObjectKind::View,
        "access_method",
        "views store nothing: no access method",
    ),
    (
        ObjectKind::View,
        "tablespace",
        "views store nothing: no tablespace",
    ),
    (
        ObjectKind::View,
        "columns.*.statistics",
        "views have no statistics",
    ),
    (ObjectKind::View, "columns.*.storage", "views store nothing"),
    (
        ObjectKind::View,
        "columns.*.compression",
        "views store nothing",
    ),
    (
        ObjectKind::View,
        "columns.*.options[]",
        "views take no attribute options",
    ),
    (
        ObjectKind::Matview,
        "columns.*.default",
        "a materialized view's columns take no default",
    ),
    (ObjectKind::Procedure, "rows", "procedures return no set"),
    (
        ObjectKind::OperatorClass,
        "acl[]",
        "operator classes have no ACL",
    ),
    (
        ObjectKind::OperatorFamily,
        "acl[]",
        "operator families have no ACL",
    ),
    (
        ObjectKind::UserMapping,
        "owner",
        "a user mapping has no owner",
    ),
    (
        ObjectKind::UserMapping,
        "acl[]",
        "a user mapping has no ACL",
    ),
    (
        ObjectKind::UserMapping,
        "comment",
        "user mappings take no comment",
    ),
    (
        ObjectKind::Subscription,
        "acl[]",
        "subscriptions have no ACL",
    ),
    (
        ObjectKind::Procedure,
        "support",
        "CREATE PROCEDURE has no SUPPORT",
    ),
    (
        ObjectKind::Procedure,
        "window",
        "procedures are not windows",
    ),
    (
        ObjectKind::Aggregate,
        "definition",
        "pg_get_functiondef cannot print aggregates",
    ),
    (
        ObjectKind::Aggregate,
        "config[]",
        "CREATE AGGREGATE has no SET",
    ),
    (ObjectKind::Aggregate, "rows", "aggregates return no set"),
    (
        ObjectKind::Aggregate,
        "support",
        "CREATE AGGREGATE has no SUPPORT",
    ),
    (
        ObjectKind::Aggregate,
        "transforms[]",
        "CREATE AGGREGATE has no TRANSFORM",
    ),
    (
        ObjectKind::Aggregate,
        "window",
        "aggregates are not windows",
    ),
];

/// Leaves a server older than the version given cannot have: the catalog has no such
/// property there (checked as "never populated" only on that version and later).
const NOT_BEFORE: &[(ObjectKind, &str, u32, &str)] = &[
    (
        ObjectKind::Matview,
        "columns.*.compression",
        140000,
        "SET COMPRESSION is 14+",
    ),
    (
        ObjectKind::Type,
        "not_null_name",
        170000,
        "a domain's NOT NULL is named on 17+",
    ),
    (
        ObjectKind::Type,
        "not_null_comment",
        170000,
        "a domain's NOT NULL takes a comment on 17+",
    ),
    (
        ObjectKind::Table,
        "columns.*.compression",
        140000,
        "SET COMPRESSION is 14+",
    ),
    (
        ObjectKind::Table,
        "columns.*.not_null_name",
        180000,
        "not-null constraints are named on 18+",
    ),
    (
        ObjectKind::Table,
        "columns.*.not_null_not_valid",
        180000,
        "NOT VALID not-null constraints are 18+",
    ),
    (
        ObjectKind::Table,
        "columns.*.not_null_no_inherit",
        180000,
        "NO INHERIT not-null constraints are 18+",
    ),
    (
        ObjectKind::Table,
        "columns.*.not_null_comment",
        180000,
        "not-null constraints take comments on 18+",
    ),
    (
        ObjectKind::Publication,
        "tables.*.columns[]",
        150000,
        "column lists are 15+",
    ),
    (
        ObjectKind::Publication,
        "tables.*.row_filter",
        150000,
        "row filters are 15+",
    ),
    (
        ObjectKind::Publication,
        "schemas[]",
        150000,
        "TABLES IN SCHEMA is 15+",
    ),
];

/// Kinds a server older than the version given cannot have at all.
const KIND_NOT_BEFORE: &[(ObjectKind, u32, &str)] = &[(
    ObjectKind::ParameterAcl,
    150000,
    "GRANT … ON PARAMETER is 15+",
)];

/// Whether a [`NOT_APPLICABLE`] pattern (a leaf, or `field.*` for all below a field) covers
/// a leaf path.
fn covers(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(field) => path
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == path,
    }
}

/// The `kind` tag names the definition's variant rather than holding a field: it is what
/// the key starts with, and a different kind is a different key (the `key` mutation). It
/// cannot take "a character more" and still decode, so instead it is switched to every
/// other kind whose definition has the same shape (view ↔ matview, function ↔ procedure ↔
/// aggregate) where there is one.
const KIND_TAG: &str = "kind";

// ---------------------------------------------------------------------------------------
// The fullest value of a model type, through serde.

/// JSON name of the one entry [`Fullest`] puts in every map (columns by name, domain
/// constraints): it marks a map in the fullest JSON, so real entries are named `*`.
const MAP_ENTRY: &str = "<entry>";

type DeError = de::value::Error;

/// A `Deserializer` that builds the fullest value of a model type: every struct field
/// present (it hands the derived visitor each name serde lists in `deserialize_struct`),
/// every `Option` `Some`, every sequence and map with one element, every bool `true` (the
/// model leaves `false` flags out of its JSON), every number 1 and every string `"x"`.
/// A type it does not know how to build (one asking for `deserialize_any`) is an error
/// naming it, never a silent gap.
struct Fullest;

impl<'de> Deserializer<'de> for Fullest {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // A user mapping's options: a map, or the one "not readable" string; the fullest
        // is the map.
        if Expecting(&visitor).to_string() == MAPPING_OPTIONS_EXPECTING {
            return visitor.visit_map(OneEntry { done: false });
        }
        Err(de::Error::custom(format!(
            "Fullest cannot tell what to build for a value expecting {}: teach it that type",
            Expecting(&visitor)
        )))
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_bool(true)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i64(1)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i64(1)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i64(1)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i64(1)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u64(1)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u64(1)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u64(1)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u64(1)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str("x")
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str("x")
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_seq(OneElement { done: false })
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(OneEntry { done: false })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_map(EveryField { fields, next: 0 })
    }

    /// A unit-variant enum (a trigger's timing, level, events): its first variant.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let first = variants
            .first()
            .ok_or_else(|| de::Error::custom("an enum without variants"))?;
        visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(*first))
    }

    serde::forward_to_deserialize_any! {
        f32 f64 char bytes byte_buf unit unit_struct tuple tuple_struct identifier
        ignored_any
    }
}

/// What a visitor expects, for [`Fullest`]'s error.
struct Expecting<'a, V>(&'a V);

impl<'de, V: Visitor<'de>> std::fmt::Display for Expecting<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.expecting(f)
    }
}

struct OneElement {
    done: bool,
}

impl<'de> SeqAccess<'de> for OneElement {
    type Error = DeError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        seed.deserialize(Fullest).map(Some)
    }
}

struct OneEntry {
    done: bool,
}

impl<'de> MapAccess<'de> for OneEntry {
    type Error = DeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(MAP_ENTRY))
            .map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        seed.deserialize(Fullest)
    }
}

struct EveryField {
    fields: &'static [&'static str],
    next: usize,
}

impl<'de> MapAccess<'de> for EveryField {
    type Error = DeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(name) = self.fields.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(*name))
            .map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        seed.deserialize(Fullest)
    }
}

/// The fullest object of `kind`, as JSON.
fn fullest_object(kind: ObjectKind) -> Value {
    // The registry builds the definition of every kind: a new kind is covered here with
    // nothing to add.
    let def = ObjectDef::deserialize_as(kind, Fullest)
        .unwrap_or_else(|e| panic!("building the fullest {kind} definition: {e}"));
    // CatalogObject flattens its definition, so serde gives it no field list; a struct
    // literal (no `..`) does the same job: a field added to it does not compile until it
    // gets its fullest value here.
    let object = CatalogObject {
        key: ObjectKey::new(kind, "x"),
        owner: Some("x".into()),
        acl: Some(vec!["x".into()]),
        comment: Some("x".into()),
        def,
    };
    serde_json::to_value(&object).expect("model values serialize")
}

// ---------------------------------------------------------------------------------------
// Sites: the places of an object's JSON a mutation can touch.

/// One place in an object's JSON, by JSON pointer, with its path pattern: field names
/// joined by `.`, `[]` for an array element, `*` for a map entry (`columns.*.type`).
#[derive(Clone, Debug)]
struct Site {
    pattern: String,
    pointer: String,
    what: SiteKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SiteKind {
    /// A string, bool or number.
    Leaf,
    /// A JSON type no generic mutation knows (null): a failure by itself.
    Unknown,
    /// A struct field or map entry that can be left out.
    Field,
    /// An array: remove its first element, add one.
    Array,
    /// A map (columns, domain constraints): add an entry.
    Map,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The sites of `value`; `shape` is the fullest JSON at the same place (maps are told
/// from structs by it).
fn sites(value: &Value, shape: Option<&Value>, pattern: &str, pointer: &str, out: &mut Vec<Site>) {
    match value {
        Value::Object(fields) => {
            let map_shape = shape
                .and_then(Value::as_object)
                .filter(|s| s.len() == 1 && s.contains_key(MAP_ENTRY));
            if map_shape.is_some() {
                out.push(Site {
                    pattern: join(pattern, "*"),
                    pointer: pointer.to_string(),
                    what: SiteKind::Map,
                });
            }
            for (name, child) in fields {
                let (child_pattern, child_shape) = match map_shape {
                    Some(s) => (join(pattern, "*"), s.get(MAP_ENTRY)),
                    None => (join(pattern, name), shape.and_then(|s| s.get(name))),
                };
                let child_pointer = format!("{pointer}/{}", pointer_escape(name));
                out.push(Site {
                    pattern: child_pattern.clone(),
                    pointer: child_pointer.clone(),
                    what: SiteKind::Field,
                });
                sites(child, child_shape, &child_pattern, &child_pointer, out);
            }
        }
        Value::Array(items) => {
            let element = format!("{pattern}[]");
            out.push(Site {
                pattern: element.clone(),
                pointer: pointer.to_string(),
                what: SiteKind::Array,
            });
            let element_shape = shape.and_then(|s| s.get(0));
            for (i, item) in items.iter().enumerate() {
                sites(
                    item,
                    element_shape,
                    &element,
                    &format!("{pointer}/{i}"),
                    out,
                );
            }
        }
        Value::String(_) | Value::Bool(_) | Value::Number(_) => out.push(Site {
            pattern: pattern.to_string(),
            pointer: pointer.to_string(),
            what: SiteKind::Leaf,
        }),
        Value::Null => out.push(Site {
            pattern: pattern.to_string(),
            pointer: pointer.to_string(),
            what: SiteKind::Unknown,
        }),
    }
}

fn leaf_patterns(value: &Value, shape: &Value) -> BTreeSet<String> {
    let mut out = Vec::new();
    sites(value, Some(shape), "", "", &mut out);
    out.into_iter()
        .filter(|s| matches!(s.what, SiteKind::Leaf | SiteKind::Unknown))
        .map(|s| s.pattern)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Mutations.

/// A scalar one step away: a string with a character more, a flipped bool, a number ± 1.
fn mutate_scalar(v: &mut Value) -> Result<(), String> {
    match v {
        Value::String(s) => s.push('x'),
        Value::Bool(b) => *b = !*b,
        Value::Number(n) => {
            *v = if let Some(i) = n.as_i64() {
                Value::from(i.checked_add(1).unwrap_or(i - 1))
            } else if let Some(u) = n.as_u64() {
                Value::from(u.checked_add(1).unwrap_or(u - 1))
            } else {
                return Err(format!("a float ({n}) in canonical JSON"));
            }
        }
        other => return Err(format!("no mutation for {other}")),
    }
    Ok(())
}

/// For a decode error "unknown variant `bad`, expected one of `a`, `b`" (or "expected `a`
/// or `b`"): put another variant than the one `bad` was made from in place of `bad` in `v`.
/// False when the error is of another kind.
fn other_variant(v: &mut Value, error: &str) -> bool {
    let Some(rest) = error.strip_prefix("unknown variant `") else {
        return false;
    };
    let Some((bad, expected)) = rest.split_once('`') else {
        return false;
    };
    let was = bad.strip_suffix('x').unwrap_or(bad);
    let Some(other) = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|name| *name != was)
    else {
        return false;
    };
    fn replace(v: &mut Value, bad: &str, other: &str) -> bool {
        match v {
            Value::String(s) if s == bad => {
                *s = other.to_string();
                true
            }
            Value::Object(m) => m.values_mut().any(|x| replace(x, bad, other)),
            Value::Array(a) => a.iter_mut().any(|x| replace(x, bad, other)),
            _ => false,
        }
    }
    replace(v, bad, other)
}

/// Every leaf of `v` one step away (for an added array element or map entry, so it is not
/// a copy of one already there).
fn mutate_all(v: &mut Value) -> Result<(), String> {
    match v {
        Value::Object(m) => m.values_mut().try_for_each(mutate_all),
        Value::Array(a) => a.iter_mut().try_for_each(mutate_all),
        other => mutate_scalar(other),
    }
}

/// The JSON values a site's mutations make of `object`, each with what was done.
fn mutations(object: &Value, site: &Site) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    match site.what {
        SiteKind::Unknown => {
            return Err(format!(
                "{} is {}, a JSON type no mutation knows",
                site.pattern,
                object.pointer(&site.pointer).unwrap_or(&Value::Null)
            ))
        }
        SiteKind::Leaf if site.pattern == KIND_TAG => {
            let own = object[KIND_TAG].as_str().unwrap_or_default().to_string();
            for other in ObjectKind::ALL {
                if other.as_str() != own {
                    let mut v = object.clone();
                    v[KIND_TAG] = Value::from(other.as_str());
                    out.push((format!("kind → {other}"), v));
                }
            }
        }
        SiteKind::Leaf => {
            let mut v = object.clone();
            mutate_scalar(v.pointer_mut(&site.pointer).expect("site exists"))?;
            out.push(("changed".to_string(), v));
        }
        SiteKind::Field => {
            let (parent, name) = site.pointer.rsplit_once('/').expect("a field has a parent");
            let name = name.replace("~1", "/").replace("~0", "~");
            let mut v = object.clone();
            let parent = if parent.is_empty() {
                &mut v
            } else {
                v.pointer_mut(parent).expect("site exists")
            };
            parent
                .as_object_mut()
                .expect("a field's parent is an object")
                .remove(&name);
            out.push(("left out".to_string(), v));
        }
        SiteKind::Array => {
            let items = object
                .pointer(&site.pointer)
                .and_then(Value::as_array)
                .expect("site exists");
            if let Some(first) = items.first() {
                let mut v = object.clone();
                v.pointer_mut(&site.pointer)
                    .and_then(Value::as_array_mut)
                    .expect("site exists")
                    .remove(0);
                out.push(("first element removed".to_string(), v));
                let mut added = first.clone();
                mutate_all(&mut added)?;
                let mut v = object.clone();
                v.pointer_mut(&site.pointer)
                    .and_then(Value::as_array_mut)
                    .expect("site exists")
                    .push(added);
                out.push(("element added".to_string(), v));
            }
        }
        SiteKind::Map => {
            let entries = object
                .pointer(&site.pointer)
                .and_then(Value::as_object)
                .expect("site exists");
            if let Some((name, first)) = entries.iter().next() {
                let mut added = first.clone();
                mutate_all(&mut added)?;
                let mut v = object.clone();
                v.pointer_mut(&site.pointer)
                    .and_then(Value::as_object_mut)
                    .expect("site exists")
                    .insert(format!("{name}_added"), added);
                out.push(("entry added".to_string(), v));
            }
        }
    }
    Ok(out)
}

/// What a diff and its verdict said, for a failure message.
fn describe(d: &Diff, verdict: Verdict) -> String {
    let changes: Vec<String> = d
        .changes
        .iter()
        .map(|c| format!("{} {} {:?}", c.change, c.key, c.field_paths()))
        .collect();
    format!("verdict {verdict}, changes [{}]", changes.join("; "))
}

/// Whether the diff of `base` against `head` (one object mutated) is a BLOCK that names the
/// mutated field; `None` when it is, else what went wrong.
fn check_pair(
    base: &CatalogSnapshot,
    original: &CatalogObject,
    mutated: &CatalogObject,
    top_field: &str,
) -> Option<String> {
    if mutated == original {
        return Some("the mutation changed nothing once decoded".into());
    }
    let mut head = base.clone();
    head.objects.remove(&original.key);
    head.objects.insert(mutated.key.clone(), mutated.clone());
    let d = diff::diff(base, &head);
    let report = GateReport::evaluate(&d, &Policy::default(), "base", "head");
    if d.changes.is_empty() {
        return Some(format!("empty diff, {}", describe(&d, report.verdict)));
    }
    if report.verdict != Verdict::Block {
        return Some(format!("not BLOCK: {}", describe(&d, report.verdict)));
    }
    if mutated.key == original.key {
        // Same key: the change must point at the field that was touched (derived fields are
        // folded into what they derive from only when that changed too, so never here).
        let named = d.changes.iter().any(|c| {
            c.key == original.key
                && matches!(c.change, ChangeType::Changed | ChangeType::WhitespaceOnly)
                && c.fields.iter().any(|f| f.top_field() == top_field)
        });
        if !named {
            return Some(format!(
                "the diff does not name field {top_field}: {}",
                describe(&d, report.verdict)
            ));
        }
    }
    None
}

/// Load the fixture, capture it read-only, store it and read it back.
fn captured_fixture() -> CatalogSnapshot {
    let db = support::empty_db("everyfield");
    db.sql(&std::fs::read_to_string(EVERY_FIELD).expect("every_field.sql"));
    // ALTER SYSTEM reaches new sessions once the postmaster has reloaded its configuration.
    support::wait_until(
        std::time::Duration::from_secs(10),
        "the fixture's ALTER SYSTEM to be reloaded",
        || db.query("SELECT current_setting('work_mem')") == "8MB",
    );
    db.sql(&std::fs::read_to_string(EVERY_KIND).expect("every_kind.sql"));
    let target = ConnectTarget::resolve(Some(&db.dsn)).expect("the test DSN resolves");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let captured = runtime
        .block_on(catalog::capture(&target, &CaptureOptions::default()))
        .unwrap_or_else(|e| panic!("capturing the every-field fixture: {e}"));
    let store_dir = tempfile::tempdir().unwrap();
    let root = store_dir.path().join("store");
    let mut writer = SnapshotWriter::owned(&root).expect("a writer for a new store");
    for object in captured.objects.values() {
        writer.add(object);
    }
    let written = writer
        .finish(captured.meta.clone(), &captured.counts)
        .expect("storing the snapshot");
    let loaded = Store::open(&root)
        .and_then(|s| s.load_snapshot(&written.id))
        .expect("reading the snapshot back");
    // What the rest checks is what the store holds; a field lost on the way in or out of
    // the store shows here first.
    assert_eq!(
        loaded.objects, captured.objects,
        "the store gave back other objects than were captured"
    );
    // Canonical bytes are defined as serde_json's Value form; the direct writer that makes
    // them must agree on every field of every kind (tests/canonical.rs holds it to the
    // bytes earlier builds stored).
    for (key, object) in &loaded.objects {
        let by_value = serde_json::to_vec(&serde_json::to_value(object).unwrap()).unwrap();
        assert!(
            driftgate::model::canonical::canonical_bytes(object) == by_value,
            "{}: canonical bytes differ from the Value form",
            key.as_str()
        );
    }
    loaded
}

#[test]
fn every_field_of_every_kind_is_compared_and_blocks() {
    let snapshot = captured_fixture();
    let version = snapshot.meta.server_version_num;
    let mut problems: Vec<String> = Vec::new();

    // Every kind of the registry is read (the fixture has objects of it), keyed as its
    // module declares, and scoped: its objects resolve as `KIND:KEY` scopes, and a kind
    // that forms a set scope on its table resolves as one there.
    let tree = snapshot.tree();
    for kind in ObjectKind::ALL {
        let spec = kind.spec();
        let impossible = KIND_NOT_BEFORE
            .iter()
            .any(|(k, since, _)| *k == kind && version < *since);
        if snapshot.objects_of(kind).next().is_none() && !impossible {
            problems.push(format!(
                "{kind}: no object of this kind in every_field.sql or every_kind.sql"
            ));
        }
        for object in snapshot.objects_of(kind) {
            if !spec.key.matches(object.key.name()) {
                problems.push(format!(
                    "{kind}: key {} is not of the declared shape {:?}",
                    object.key, spec.key
                ));
            }
            let mut scopes = vec![Scope::Object(object.key.clone())];
            if let (Some(prefix), Some(table)) = (spec.set_scope, object.table()) {
                match Scope::parse(&format!("{prefix}:{table}")) {
                    Ok(scope) => scopes.push(scope),
                    Err(e) => problems.push(format!("{kind}: {}: {e}", object.key)),
                }
            }
            for scope in scopes {
                if scope.hash(&tree, &snapshot.objects).is_none() || !scope.covers(object) {
                    problems.push(format!(
                        "{kind}: scope {scope} does not resolve to {}",
                        object.key
                    ));
                }
            }
            if spec.set_scope.is_some() && object.table().is_none() {
                problems.push(format!(
                    "{kind}: {} forms a set scope but names no table",
                    object.key
                ));
            }
        }
    }

    // Mechanical completeness: the leaves the fixture populates are the leaves the model
    // declares, less what the kind cannot have.
    let mut shapes: BTreeMap<ObjectKind, Value> = BTreeMap::new();
    for kind in ObjectKind::ALL {
        let shape = fullest_object(kind);
        let declared = leaf_patterns(&shape, &shape);
        let seen: BTreeSet<String> = snapshot
            .objects_of(kind)
            .flat_map(|o| leaf_patterns(&serde_json::to_value(o).unwrap(), &shape))
            .collect();
        for (_, pattern, _) in NOT_APPLICABLE.iter().filter(|(k, _, _)| *k == kind) {
            if !declared.iter().any(|d| covers(pattern, d)) {
                problems.push(format!(
                    "{kind}: {pattern} is listed as not applicable but the model has no such leaf"
                ));
            }
            for path in seen.iter().filter(|s| covers(pattern, s)) {
                problems.push(format!(
                    "{kind}: {path} is listed as not applicable but the fixture populates it"
                ));
            }
        }
        for path in declared.difference(&seen) {
            let too_old = NOT_BEFORE.iter().any(|(k, pattern, since, _)| {
                *k == kind && version < *since && covers(pattern, path)
            }) || KIND_NOT_BEFORE
                .iter()
                .any(|(k, since, _)| *k == kind && version < *since);
            if !too_old
                && !NOT_APPLICABLE
                    .iter()
                    .any(|(k, pattern, _)| *k == kind && covers(pattern, path))
            {
                problems.push(format!(
                    "{kind}: leaf {path} is never populated by every_field.sql (PostgreSQL {version}): no mutation covers it"
                ));
            }
        }
        for path in seen.difference(&declared) {
            problems.push(format!(
                "{kind}: leaf {path} is in the snapshot but not in the model's fullest value"
            ));
        }
        shapes.insert(kind, shape);
    }

    // Every site of every object, mutated.
    let mut checked: BTreeSet<(ObjectKind, String, String)> = BTreeSet::new();
    let mut mutated_leaves: BTreeSet<(ObjectKind, String)> = BTreeSet::new();
    let mut pairs = 0usize;
    for original in snapshot.objects.values() {
        let kind = original.kind();
        let json = serde_json::to_value(original).unwrap();
        let mut all = Vec::new();
        sites(&json, shapes.get(&kind), "", "", &mut all);
        for site in &all {
            let variants = match mutations(&json, site) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!(
                        "{kind} {}: {} cannot be mutated: {e}",
                        original.key, site.pattern
                    ));
                    continue;
                }
            };
            let top_field = site
                .pattern
                .split(['.', '['])
                .next()
                .unwrap_or_default()
                .to_string();
            let mut decoded_any = false;
            for (what, mut value) in variants {
                let mut decoded = serde_json::from_value::<CatalogObject>(value.clone());
                // A string one character longer is no value of an enum (a trigger's timing,
                // its events): the mutation of an enum leaf is another of its variants.
                if let Err(e) = &decoded {
                    if other_variant(&mut value, &e.to_string()) {
                        decoded = serde_json::from_value(value);
                    }
                }
                let mutated: CatalogObject = match decoded {
                    Ok(m) => m,
                    // Leaving out a field the model requires, or switching the kind tag to a
                    // kind of another shape, makes no object: not a mutation a snapshot
                    // can hold.
                    Err(_) if matches!(site.what, SiteKind::Field) || site.pattern == KIND_TAG => {
                        continue
                    }
                    Err(e) => {
                        problems.push(format!(
                            "{kind} {} {} ({what}): the mutated JSON does not decode: {e}",
                            original.key, site.pattern
                        ));
                        continue;
                    }
                };
                decoded_any = true;
                pairs += 1;
                checked.insert((kind, site.pattern.clone(), what.clone()));
                if let Some(problem) = check_pair(&snapshot, original, &mutated, &top_field) {
                    problems.push(format!(
                        "{kind} {} {} ({what}): {problem}",
                        original.key, site.pattern
                    ));
                }
            }
            if site.what == SiteKind::Leaf && decoded_any {
                mutated_leaves.insert((kind, site.pattern.clone()));
            }
        }
    }

    // A leaf seen but never mutated (other than the kind tag of a kind with no sibling
    // shape) is a field this test would let through.
    for (kind, shape) in &shapes {
        for path in snapshot
            .objects_of(*kind)
            .flat_map(|o| leaf_patterns(&serde_json::to_value(o).unwrap(), shape))
            .collect::<BTreeSet<_>>()
        {
            if path != KIND_TAG && !mutated_leaves.contains(&(*kind, path.clone())) {
                problems.push(format!("{kind}: leaf {path} was never mutated"));
            }
        }
    }

    let kind_paths: BTreeSet<(ObjectKind, String)> =
        checked.iter().map(|(k, p, _)| (*k, p.clone())).collect();
    println!(
        "every-field (PostgreSQL {version}): {} objects, {} (kind, path) pairs, {} (kind, path, mutation) cases, {pairs} snapshot pairs diffed and gated",
        snapshot.objects.len(),
        kind_paths.len(),
        checked.len(),
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
