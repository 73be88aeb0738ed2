//! The catalog tree (git-like: root → per-schema trees → objects) and scoped fingerprints.
//!
//! The tree is what the store persists and what makes a re-snapshot of an unchanged catalog
//! cost nothing: equal schemas have equal tree hashes. Fingerprint scopes (`catalog`,
//! `schema:NAME`, `triggers:TABLE`, one object by key, …) hash the relevant slice of it.

use super::canonical::{canonical_bytes, hash_of, ContentHash};
use super::globals::{database_key, GlobalGroup};
use super::key::{ObjectKey, ObjectKind};
use super::names::{quote_ident, split_qualified};
use super::object::CatalogObject;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub const CATALOG_FORMAT: &str = "driftgate.catalog/v1";
pub const TREE_FORMAT: &str = "driftgate.tree/v1";

/// The objects of one schema, by key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaTree {
    pub format: String,
    pub objects: BTreeMap<ObjectKey, ContentHash>,
}

impl SchemaTree {
    /// The canonical JSON of the tree, written directly: its fields are declared in key
    /// order and its objects are a map ordered by key bytes, so this is what
    /// `canonical_bytes` gives, without building a `serde_json::Value` of thousands of
    /// entries (tested below).
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a schema tree always serializes")
    }

    pub fn hash(&self) -> ContentHash {
        ContentHash::of(&self.canonical())
    }
}

/// The root: database-wide objects (schemas, extensions, event triggers) and one tree per schema.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRoot {
    pub format: String,
    pub globals: BTreeMap<ObjectKey, ContentHash>,
    pub schemas: BTreeMap<String, ContentHash>,
}

/// A whole catalog as hashes: the root, each schema tree, each object's hash and bytes.
#[derive(Clone, Debug)]
pub struct CatalogTree {
    pub root: CatalogRoot,
    pub schemas: BTreeMap<String, SchemaTree>,
    /// Every object's hash, by key.
    pub object_hashes: BTreeMap<ObjectKey, ContentHash>,
}

impl CatalogTree {
    /// Hash every object (on several threads for large catalogs) and assemble the tree.
    pub fn build<'a>(objects: impl IntoIterator<Item = &'a CatalogObject>) -> Self {
        let objects: Vec<&CatalogObject> = objects.into_iter().collect();
        let hash_all = |chunk: &[&CatalogObject]| -> Vec<ContentHash> {
            chunk
                .iter()
                .map(|o| ContentHash::of(&canonical_bytes(*o)))
                .collect()
        };
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        let hashes: Vec<ContentHash> = if objects.len() < 4096 || threads < 2 {
            hash_all(&objects)
        } else {
            let size = objects.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = objects
                    .chunks(size)
                    .map(|chunk| scope.spawn(move || hash_all(chunk)))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("hashing never panics"))
                    .collect()
            })
        };
        Self::from_hashes(
            objects
                .iter()
                .zip(hashes)
                .map(|(o, h)| (o.key.clone(), o.schema().map(str::to_string), h)),
        )
    }

    /// Assemble the tree from each object's key, schema (`None` for database-wide objects)
    /// and hash.
    pub fn from_hashes(
        entries: impl IntoIterator<Item = (ObjectKey, Option<String>, ContentHash)>,
    ) -> Self {
        let mut globals = BTreeMap::new();
        let mut schemas: BTreeMap<String, SchemaTree> = BTreeMap::new();
        let mut object_hashes = BTreeMap::new();
        for (key, schema, hash) in entries {
            object_hashes.insert(key.clone(), hash);
            match schema {
                None => {
                    globals.insert(key, hash);
                }
                Some(schema) => {
                    schemas
                        .entry(schema)
                        .or_insert_with(|| SchemaTree {
                            format: TREE_FORMAT.to_string(),
                            objects: BTreeMap::new(),
                        })
                        .objects
                        .insert(key, hash);
                }
            }
        }
        let root = CatalogRoot {
            format: CATALOG_FORMAT.to_string(),
            globals,
            schemas: schemas
                .iter()
                .map(|(name, tree)| (name.clone(), tree.hash()))
                .collect(),
        };
        CatalogTree {
            root,
            schemas,
            object_hashes,
        }
    }

    pub fn root_hash(&self) -> ContentHash {
        hash_of(&self.root)
    }
}

/// A fingerprint scope, as given to `--scope`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole catalog (the root hash).
    Catalog,
    /// Everything in one schema, including the schema object itself.
    Schema(String),
    /// One object by key.
    Object(ObjectKey),
    /// The set of objects of one kind on one table: the kind's `set_scope` prefix
    /// (`triggers:`, `constraints:`, `indexes:`, `policies:`) followed by a table name
    /// (`public.t`, or `t` for `public.t`).
    TableSet { kind: ObjectKind, table: String },
    /// The cluster and database around the schema (`roles`, `settings`, `database`, `tablespaces`).
    Global(GlobalGroup),
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, String> {
        if s == "catalog" {
            return Ok(Scope::Catalog);
        }
        if let Some(group) = GlobalGroup::parse(s) {
            return Ok(Scope::Global(group));
        }
        let (prefix, rest) = s.split_once(':').ok_or_else(|| {
            let sets: Vec<String> = ObjectKind::ALL
                .iter()
                .filter_map(|k| k.spec().set_scope)
                .map(|p| format!("`{p}:TABLE`"))
                .collect();
            format!(
                "scope {s:?} is not `catalog`, `roles`, `settings`, `database`, `tablespaces`, `schema:NAME`, {} or `KIND:KEY`",
                sets.join(", ")
            )
        })?;
        if rest.is_empty() {
            return Err(format!("scope {s:?} names nothing after the colon"));
        }
        let set_kind = ObjectKind::ALL
            .into_iter()
            .find(|k| k.spec().set_scope == Some(prefix));
        if let Some(kind) = set_kind {
            return Ok(Scope::TableSet {
                kind,
                table: normalize_table_name(rest),
            });
        }
        if prefix == "schema" {
            return Ok(Scope::Schema(unquote_ident(rest)));
        }
        ObjectKey::parse(s).map(Scope::Object)
    }

    /// The hash of this scope's slice of the catalog. `None` when the scope matches nothing
    /// in this snapshot: an object it does not have, a schema it does not have, or the
    /// trigger (constraint, index, policy) set of a relation it does not have. A relation
    /// that exists with an empty set has the empty set's hash. A typo must never hash as an
    /// empty set equal on both sides.
    pub fn hash(
        &self,
        tree: &CatalogTree,
        objects: &BTreeMap<ObjectKey, CatalogObject>,
    ) -> Option<ContentHash> {
        match self {
            Scope::Catalog => Some(tree.root_hash()),
            Scope::Schema(name) => {
                let schema_key = ObjectKey::new(ObjectKind::Schema, &quote_ident(name));
                if !tree.object_hashes.contains_key(&schema_key) && !tree.schemas.contains_key(name)
                {
                    return None;
                }
                let members = tree.schemas.get(name).cloned().unwrap_or_default();
                #[derive(Serialize)]
                struct SchemaScope<'a> {
                    schema: Option<&'a ContentHash>,
                    objects: &'a BTreeMap<ObjectKey, ContentHash>,
                }
                Some(hash_of(&SchemaScope {
                    schema: tree.object_hashes.get(&schema_key),
                    objects: &members.objects,
                }))
            }
            Scope::Object(key) => tree.object_hashes.get(key).copied(),
            Scope::TableSet { kind, table } => {
                if !self.relation_exists(tree, table) {
                    return None;
                }
                let set: BTreeMap<&ObjectKey, &ContentHash> = objects
                    .values()
                    .filter(|o| o.kind() == *kind && o.table() == Some(table.as_str()))
                    .filter_map(|o| tree.object_hashes.get_key_value(&o.key))
                    .collect();
                Some(hash_of(&set))
            }
            // A snapshot taken without the globals has no such slice: matching nothing,
            // never an empty set equal to another (the database object marks it).
            Scope::Global(group) => {
                if !tree.object_hashes.contains_key(&database_key()) {
                    return None;
                }
                let set: BTreeMap<&ObjectKey, &ContentHash> = tree
                    .object_hashes
                    .iter()
                    .filter(|(k, _)| GlobalGroup::of(k.kind()) == Some(*group))
                    .collect();
                Some(hash_of(&set))
            }
        }
    }

    /// Whether the snapshot has the relation a set scope is about (a table, a view with
    /// INSTEAD OF triggers, a materialized view with indexes).
    fn relation_exists(&self, tree: &CatalogTree, table: &str) -> bool {
        ObjectKind::ALL
            .into_iter()
            .filter(|kind| kind.spec().relation)
            .any(|kind| {
                tree.object_hashes
                    .contains_key(&ObjectKey::new(kind, table))
            })
    }

    /// For a set scope, how many objects it holds here (`None` for other scopes or when
    /// the relation is absent): so an empty set can be said to be empty.
    pub fn member_count(
        &self,
        tree: &CatalogTree,
        objects: &BTreeMap<ObjectKey, CatalogObject>,
    ) -> Option<usize> {
        match self {
            Scope::TableSet { kind, table } if self.relation_exists(tree, table) => Some(
                objects
                    .values()
                    .filter(|o| o.kind() == *kind && o.table() == Some(table.as_str()))
                    .count(),
            ),
            _ => None,
        }
    }

    /// The keys this scope covers, for telling the user what differs.
    pub fn covers(&self, obj: &CatalogObject) -> bool {
        match self {
            Scope::Catalog => true,
            Scope::Schema(name) => {
                obj.schema() == Some(name.as_str())
                    || obj.key == ObjectKey::new(ObjectKind::Schema, &quote_ident(name))
            }
            Scope::Object(key) => &obj.key == key,
            Scope::TableSet { kind, table } => {
                obj.kind() == *kind && obj.table() == Some(table.as_str())
            }
            Scope::Global(group) => GlobalGroup::of(obj.kind()) == Some(*group),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Catalog => f.write_str("catalog"),
            Scope::Global(group) => write!(f, "{group}"),
            Scope::Schema(name) => write!(f, "schema:{}", quote_ident(name)),
            Scope::Object(key) => write!(f, "{key}"),
            Scope::TableSet { kind, table } => {
                let prefix = kind
                    .spec()
                    .set_scope
                    .expect("a set scope is only parsed for a kind that declares one");
                write!(f, "{prefix}:{table}")
            }
        }
    }
}

/// `dot_tools` → `public.dot_tools`; an already qualified (possibly quoted) name is kept.
pub fn normalize_table_name(name: &str) -> String {
    let parts = split_qualified(name);
    match parts.as_slice() {
        [table] => format!("public.{}", quote_ident(table)),
        [schema, table] => format!("{}.{}", quote_ident(schema), quote_ident(table)),
        _ => name.to_string(),
    }
}

fn unquote_ident(s: &str) -> String {
    split_qualified(s).join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyShape;

    #[test]
    fn a_schema_tree_written_directly_is_its_canonical_json() {
        let mut objects = BTreeMap::new();
        for key in [
            "table:public.t",
            "trigger:public.\"Odd \"\"name\"\".tr\u{e9}",
            "function:public.f(integer, text)",
            "constraint:public.t.x\u{1}y",
            "index:Z.upper_first",
        ] {
            let key: ObjectKey =
                serde_json::from_value(serde_json::Value::String(key.into())).expect("a valid key");
            objects.insert(key, ContentHash::of(key_bytes(&objects)));
        }
        let tree = SchemaTree {
            format: TREE_FORMAT.to_string(),
            objects,
        };
        assert_eq!(tree.canonical(), canonical_bytes(&tree));
        assert_eq!(tree.hash(), hash_of(&tree));
    }

    fn key_bytes(m: &BTreeMap<ObjectKey, ContentHash>) -> &'static [u8] {
        if m.len() % 2 == 0 {
            b"even"
        } else {
            b"odd"
        }
    }

    /// Every kind's keys resolve as a `KIND:KEY` scope, and every set scope parses back to
    /// its kind and prints as it was given.
    #[test]
    fn every_kind_is_scoped() {
        for kind in ObjectKind::ALL {
            let spec = kind.spec();
            let name = match spec.key {
                KeyShape::Name => "x",
                KeyShape::Qualified => "public.x",
                KeyShape::OnTable => "public.t.x",
                KeyShape::Routine => "public.x(integer,public.\"a.b\")",
                KeyShape::Path => "@db/x/app.y",
                KeyShape::Pair(sep) => &format!("(public.\"a.b\"{sep}integer)"),
                KeyShape::Using => "public.x USING btree",
            };
            let name: &str = name;
            assert!(spec.key.matches(name), "{kind}: {name}");
            let key = format!("{}:{name}", spec.name);
            // `schema:NAME` is the scope of the schema with everything in it.
            let expected = match kind {
                ObjectKind::Schema => Scope::Schema(name.into()),
                _ => Scope::Object(ObjectKey::parse(&key).unwrap()),
            };
            assert_eq!(Scope::parse(&key), Ok(expected), "{key}");
            if let Some(prefix) = spec.set_scope {
                let text = format!("{prefix}:public.t");
                let scope = Scope::parse(&text).unwrap();
                assert_eq!(
                    scope,
                    Scope::TableSet {
                        kind,
                        table: "public.t".into()
                    }
                );
                assert_eq!(scope.to_string(), text);
            }
        }
        let set_kinds = ObjectKind::ALL
            .iter()
            .filter(|k| k.spec().set_scope.is_some());
        for kind in set_kinds {
            assert!(
                matches!(kind.spec().key, KeyShape::OnTable | KeyShape::Qualified),
                "{kind}: a set scope is about objects that belong to a relation"
            );
        }
    }

    #[test]
    fn scopes_parse() {
        assert_eq!(Scope::parse("catalog").unwrap(), Scope::Catalog);
        assert_eq!(
            Scope::parse("triggers:dot_tools").unwrap(),
            Scope::TableSet {
                kind: ObjectKind::Trigger,
                table: "public.dot_tools".into()
            }
        );
        assert_eq!(
            Scope::parse("constraints:\"My Schema\".t").unwrap(),
            Scope::TableSet {
                kind: ObjectKind::Constraint,
                table: "\"My Schema\".t".into()
            }
        );
        assert_eq!(
            Scope::parse("schema:public").unwrap(),
            Scope::Schema("public".into())
        );
        assert!(matches!(
            Scope::parse("function:public.f()").unwrap(),
            Scope::Object(_)
        ));
        assert!(Scope::parse("bogus").is_err());
        assert!(Scope::parse("widget:x").is_err());
        assert!(Scope::parse("triggers:").is_err());
    }
}
