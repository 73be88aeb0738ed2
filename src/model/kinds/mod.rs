//! The registry of object kinds: the one list every kind is declared in.
//!
//! # What a kind is
//!
//! A kind is one module here (what it is) and its reader in `catalog/kinds/` (how it is
//! read from PostgreSQL, the only room that talks to the server). The module here declares:
//!
//! - its [`KindSpec`]: the name (the `KIND:` of its keys, the JSON `kind` tag, what
//!   `show --kind`, policy rules and `--scope KIND:KEY` take), the shape of its keys, and the
//!   fingerprint set scope it forms on its table (`triggers:TABLE`), if any;
//! - its model type (the definition struct: its fields are the JSON fields `show` prints and
//!   `diff` compares leaf by leaf), and through [`KindDef`] where it is stored (its
//!   schema's tree, or the database-wide root) and which table it belongs to.
//!
//! The reader module in `catalog/kinds/` declares the catalog query by server version and
//! how its task is scheduled (split by schema or not, its weight); `catalog::kinds::reader_of`
//! says which reader reads each kind.
//!
//! # What proves a kind is read, stored, diffed, shown and scoped
//!
//! - [`registry!`] below generates [`ObjectKind`], [`ObjectKind::ALL`], [`ObjectDef`] and
//!   every per-kind dispatch from the one list, so nothing else lists the kinds.
//! - `catalog::kinds::reader_of` is an exhaustive `match` on [`ObjectKind`] (no `_` arm):
//!   a kind without a reader does not compile, and the planner schedules the readers of
//!   [`ObjectKind::ALL`], not a list of its own (a test holds the plan to every kind).
//! - Tests over the registry hold every entry's name to its serde tag and to `FromStr` (what
//!   `show --kind` and policies parse) here, its keys and set scope to `Scope::parse` and
//!   `Display` (`fingerprint.rs`), and `show --kind NAME` to every name (`tests/sample.rs`).
//! - `tests/everyfield.rs` captures `tests/fixtures/every_field.sql` and requires objects of
//!   every kind in it, keys of the declared shape, a store round trip that gives them back,
//!   a scope that resolves for each, and a BLOCK for a change of any of their fields.
//!
//! # Adding a kind
//!
//! 1. A module here: its definition struct (serde, canonical: sorted or meaningful order, no
//!    floats), `impl KindDef`, and `pub const SPEC: KindSpec`.
//! 2. One line in the `registry!` call below (`Rule => rule::SPEC(rule::RuleDef)`).
//! 3. Its reader in `catalog/kinds/` with a `SCHEDULE`, and the arm of `reader_of` the
//!    compiler then asks for (plus, for a new reader, the arms of `Reader`'s two matches).
//! 4. Objects of it in `tests/fixtures/every_field.sql` or `every_kind.sql` (the every-field
//!    test fails by name until every leaf of the new type is populated and blocks), and its
//!    ALTERs in `tests/objkinds.rs`.

mod access_method;
mod builtin_acl;
mod cast;
mod collation;
mod constraint;
mod conversion;
mod database;
mod default_acl;
mod event_trigger;
mod extension;
mod foreign_data;
mod index;
mod language;
mod large_object;
mod operator;
mod operator_class;
mod parameter_acl;
mod policy;
mod publication;
mod role;
mod role_membership;
mod routine;
mod rule;
mod schema;
mod security_label;
mod sequence;
mod server_setting;
mod setting;
mod statistics;
mod subscription;
mod table;
mod tablespace;
mod text_search;
mod transform;
mod trigger;
mod types;
mod view;

pub use access_method::AccessMethodDef;
pub use builtin_acl::BuiltinAclDef;
pub use cast::CastDef;
pub use collation::CollationDef;
pub use constraint::{ConstraintDef, ForeignKeyDef};
pub use conversion::ConversionDef;
pub use database::{DatabaseDef, DATABASE_KEY_NAME};
pub use default_acl::DefaultAclDef;
pub use event_trigger::EventTriggerDef;
pub use extension::ExtensionDef;
pub use foreign_data::{
    ForeignDataWrapperDef, MappingOptions, ServerDef, UserMappingDef, MAPPING_OPTIONS_EXPECTING,
    PUBLIC_MAPPING,
};
pub use index::IndexDef;
pub use language::LanguageDef;
pub use large_object::LargeObjectsDef;
pub use operator::OperatorDef;
pub use operator_class::{OperatorClassDef, OperatorFamilyDef};
pub use parameter_acl::ParameterAclDef;
pub use policy::PolicyDef;
pub use publication::{PublicationDef, PublishedTable};
pub use role::RoleDef;
pub use role_membership::RoleMembershipDef;
pub use routine::{AggregateDef, RoutineDef};
pub use rule::RuleDef;
pub use schema::SchemaDef;
pub use security_label::SecurityLabelDef;
pub use sequence::SequenceDef;
pub use server_setting::ServerSettingDef;
pub use setting::SettingDef;
pub use statistics::StatisticsDef;
pub use subscription::SubscriptionDef;
pub use table::{Column, TableDef};
pub use tablespace::TablespaceDef;
pub use text_search::{TsConfigurationDef, TsDictionaryDef, TsParserDef, TsTemplateDef};
pub use transform::TransformDef;
pub use trigger::{Enabled, Event, Level, Timing, TriggerDef};
pub use types::{TypeAttribute, TypeDef};
pub use view::{ViewColumn, ViewDef};

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the registry knows of a kind besides its model type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindSpec {
    /// The `KIND:` of its keys, its JSON `kind` tag, its name for `--kind` and policies.
    pub name: &'static str,
    /// How the part of its keys after `KIND:` is built.
    pub key: KeyShape,
    /// The prefix of the fingerprint scope of all objects of this kind on one relation
    /// (`triggers` for `triggers:public.t`); `None` when it forms no such set.
    pub set_scope: Option<&'static str>,
    /// A relation other kinds' set scopes are about (a table, a view with INSTEAD OF
    /// triggers, a materialized view with indexes).
    pub relation: bool,
}

/// The shape of a key's name part; every part quoted like an identifier when needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyShape {
    /// `NAME`: database-wide objects (`schema:public`, `extension:pgcrypto`).
    Name,
    /// `SCHEMA.NAME`.
    Qualified,
    /// `SCHEMA.TABLE.NAME`: objects named within their table (constraints, triggers, policies).
    OnTable,
    /// `SCHEMA.NAME(ARGTYPE,ARGTYPE)`: routines, by identity argument types.
    Routine,
    /// `PART/PART…`: one or more non-empty parts joined by `/`, for what is not named by
    /// SQL identifiers alone (settings: `@db/app.mode`; memberships: `a/b/by:c`).
    Path,
    /// `(LEFT SEP RIGHT)`: objects named by two other names, not their own
    /// (`cast:(public.mood AS text)`, `transform:(integer LANGUAGE plpgsql)`).
    Pair(&'static str),
    /// `SCHEMA.NAME USING METHOD`: objects named within their schema and index access
    /// method (operator classes and families), as `ALTER OPERATOR CLASS … USING` names them.
    Using,
}

impl KeyShape {
    /// Whether `name` (a key without its `KIND:`) has this shape.
    pub fn matches(self, name: &str) -> bool {
        let parts = |s: &str| super::names::split_qualified(s).len();
        match self {
            KeyShape::Name => parts(name) == 1,
            KeyShape::Qualified => parts(name) == 2,
            KeyShape::OnTable => parts(name) == 3,
            // The argument list may hold dots (`public.mood`, `numeric(10,2)`): the name
            // is what comes before the first `(` outside quotes.
            KeyShape::Routine => {
                name.ends_with(')')
                    && routine_name_end(name).is_some_and(|end| parts(&name[..end]) == 2)
            }
            KeyShape::Path => !name.is_empty() && name.split('/').all(|p| !p.is_empty()),
            KeyShape::Pair(sep) => name
                .strip_prefix('(')
                .and_then(|n| n.strip_suffix(')'))
                .and_then(|inner| inner.split_once(sep))
                .is_some_and(|(left, right)| !left.is_empty() && !right.is_empty()),
            KeyShape::Using => using_split(name)
                .is_some_and(|(object, method)| parts(object) == 2 && parts(method) == 1),
        }
    }
}

/// A `SCHEMA.NAME USING METHOD` key name split at its ` USING ` outside quotes.
pub fn using_split(name: &str) -> Option<(&str, &str)> {
    const SEP: &str = " USING ";
    let mut quoted = false;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted && name[i..].starts_with(SEP) => {
                return Some((&name[..i], &name[i + SEP.len()..]));
            }
            _ => {}
        }
    }
    None
}

/// The byte offset of the `(` that opens a routine key's argument list.
fn routine_name_end(name: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// What every definition type tells of where its objects live.
pub trait KindDef {
    /// The schema the object lives in (its tree in the store); `None` for database-wide
    /// objects, which live in the catalog root (schemas themselves, extensions, event
    /// triggers).
    fn schema(&self) -> Option<&str>;
    /// For objects that belong to a relation (constraints, indexes, triggers, policies), its
    /// qualified name as in its `table:` key: what their set scope is about.
    fn table(&self) -> Option<&str> {
        None
    }
}

/// The one list. Each line: `Variant => module::SPEC(DefinitionType)`. It generates the
/// kind enum, the list of all kinds, the definition enum tagged by `kind`, and every match
/// on them, so a kind is added here once and nowhere else in the model.
macro_rules! registry {
    ($($kind:ident => $module:ident :: $spec:ident ($def:ty)),+ $(,)?) => {
        /// Every kind of object a snapshot holds.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ObjectKind {
            $($kind),+
        }

        /// How many kinds there are.
        const KIND_COUNT: usize = [$(ObjectKind::$kind),+].len();

        impl ObjectKind {
            pub const ALL: [ObjectKind; KIND_COUNT] = [$(ObjectKind::$kind),+];

            /// The kind's declaration.
            pub const fn spec(self) -> &'static KindSpec {
                match self {
                    $(ObjectKind::$kind => &$module::$spec),+
                }
            }
        }

        /// The kind-specific part, tagged by `kind` in JSON.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum ObjectDef {
            $($kind($def)),+
        }

        impl ObjectDef {
            pub fn kind(&self) -> ObjectKind {
                match self {
                    $(ObjectDef::$kind(_) => ObjectKind::$kind),+
                }
            }

            /// The definition as what every kind's type tells.
            pub fn as_kind_def(&self) -> &dyn KindDef {
                match self {
                    $(ObjectDef::$kind(d) => d),+
                }
            }

            /// A definition of `kind` read from any deserializer (its fields, without the
            /// `kind` tag).
            pub fn deserialize_as<'de, D: Deserializer<'de>>(
                kind: ObjectKind,
                d: D,
            ) -> Result<ObjectDef, D::Error> {
                Ok(match kind {
                    $(ObjectKind::$kind => ObjectDef::$kind(<$def>::deserialize(d)?)),+
                })
            }
        }
    };
}

registry! {
    Schema => schema::SPEC(SchemaDef),
    Extension => extension::SPEC(ExtensionDef),
    Type => types::SPEC(TypeDef),
    Table => table::SPEC(TableDef),
    Constraint => constraint::SPEC(ConstraintDef),
    Index => index::SPEC(IndexDef),
    View => view::VIEW(ViewDef),
    Matview => view::MATVIEW(ViewDef),
    Sequence => sequence::SPEC(SequenceDef),
    Function => routine::FUNCTION(RoutineDef),
    Procedure => routine::PROCEDURE(RoutineDef),
    Aggregate => routine::AGGREGATE(RoutineDef),
    Trigger => trigger::SPEC(TriggerDef),
    EventTrigger => event_trigger::SPEC(EventTriggerDef),
    Policy => policy::SPEC(PolicyDef),
    // The cluster and database around the schema (`model::globals`).
    Role => role::SPEC(RoleDef),
    RoleMembership => role_membership::SPEC(RoleMembershipDef),
    Setting => setting::SPEC(SettingDef),
    Database => database::SPEC(DatabaseDef),
    ServerSetting => server_setting::SPEC(ServerSettingDef),
    Rule => rule::SPEC(RuleDef),
    Cast => cast::SPEC(CastDef),
    Transform => transform::SPEC(TransformDef),
    Language => language::SPEC(LanguageDef),
    AccessMethod => access_method::SPEC(AccessMethodDef),
    Operator => operator::SPEC(OperatorDef),
    Collation => collation::SPEC(CollationDef),
    Conversion => conversion::SPEC(ConversionDef),
    TextSearchParser => text_search::PARSER(TsParserDef),
    TextSearchTemplate => text_search::TEMPLATE(TsTemplateDef),
    TextSearchDictionary => text_search::DICTIONARY(TsDictionaryDef),
    TextSearchConfiguration => text_search::CONFIGURATION(TsConfigurationDef),
    Statistics => statistics::SPEC(StatisticsDef),
    DefaultAcl => default_acl::SPEC(DefaultAclDef),
    LargeObject => large_object::SPEC(LargeObjectsDef),
    Publication => publication::SPEC(PublicationDef),
    // Issue 13's remaining kinds pg_dump knows.
    OperatorClass => operator_class::CLASS(OperatorClassDef),
    OperatorFamily => operator_class::FAMILY(OperatorFamilyDef),
    ForeignDataWrapper => foreign_data::WRAPPER(ForeignDataWrapperDef),
    Server => foreign_data::SERVER(ServerDef),
    UserMapping => foreign_data::USER_MAPPING(UserMappingDef),
    Subscription => subscription::SPEC(SubscriptionDef),
    Tablespace => tablespace::SPEC(TablespaceDef),
    BuiltinAcl => builtin_acl::SPEC(BuiltinAclDef),
    ParameterAcl => parameter_acl::SPEC(ParameterAclDef),
    SecurityLabel => security_label::SPEC(SecurityLabelDef),
}

impl ObjectKind {
    pub const fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Routines (functions, procedures, aggregates) share one definition shape.
    pub fn is_routine(self) -> bool {
        matches!(
            self,
            ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Aggregate
        )
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObjectKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ObjectKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown object kind {s:?} (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One spelling per kind: the key prefix, `--kind`, policies and the JSON tag.
    #[test]
    fn every_kind_has_one_name_for_keys_json_and_kind_arguments() {
        let mut names = std::collections::BTreeSet::new();
        for kind in ObjectKind::ALL {
            let name = kind.spec().name;
            assert!(names.insert(name), "{name} declared twice");
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                name,
                "serde tag of {kind:?}"
            );
            assert_eq!(name.parse::<ObjectKind>(), Ok(kind), "--kind {name}");
            assert_eq!(kind.to_string(), name);
        }
    }

    #[test]
    fn key_shapes() {
        assert!(KeyShape::Name.matches("\"a.b\""));
        assert!(!KeyShape::Name.matches("a.b"));
        assert!(KeyShape::OnTable.matches("public.\"t.x\".c"));
        assert!(KeyShape::Routine.matches("public.f()"));
        assert!(KeyShape::Routine.matches("\"a(b\".f(numeric(10,2))"));
        assert!(!KeyShape::Routine.matches("f()"));
        assert!(!KeyShape::Routine.matches("public.f"));
        assert!(KeyShape::Pair(" AS ").matches("(public.mood AS text)"));
        assert!(!KeyShape::Pair(" AS ").matches("public.mood AS text"));
        assert!(!KeyShape::Pair(" AS ").matches("( AS text)"));
        assert!(KeyShape::Using.matches("public.my_ops USING btree"));
        assert!(KeyShape::Using.matches("public.\"a USING b\" USING gist"));
        assert!(!KeyShape::Using.matches("my_ops USING btree"));
        assert!(!KeyShape::Using.matches("public.my_ops"));
        assert_eq!(
            using_split("public.\"a USING b\" USING gist"),
            Some(("public.\"a USING b\"", "gist"))
        );
    }
}
