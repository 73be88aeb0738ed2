//! One reader per object kind, and the registry of readers: which reader reads each kind
//! ([`reader_of`]), how its task is scheduled ([`Reader::schedule`], declared by the
//! reader's module as its `SCHEDULE`), and how it runs ([`Reader::read`]).
//!
//! Each reader runs one set-based query (the relations' reader, a few) for the whole
//! database, or a chunk of its schemas or relations, and builds model objects; SQL casts
//! every catalog type to a plain one (`::text`, `::int2[]`) so decoding never depends on the
//! server version, and a reader branches on `ServerCaps` where the catalog differs.
//!
//! What a kind is, and how to add one, is in `model::kinds`: here, a new kind is its reader
//! module (query and `SCHEDULE`) and the arm of [`reader_of`] the compiler asks for. The
//! planner (`plan.rs`) schedules the readers of `ObjectKind::ALL`, so a kind cannot be left
//! out of the read while it is in the model.

mod access_methods;
mod builtin_acls;
pub use builtin_acls::INFORMATION_SCHEMA_UNGRANTED;
mod casts;
mod collations;
mod constraints;
mod conversions;
mod default_acls;
pub mod deparse;
mod event_triggers;
mod extensions;
mod foreign_data;
mod globals;
mod indexes;
mod languages;
mod large_objects;
mod operator_classes;
mod operators;
mod policies;
mod publications;
mod refs;
mod routines;
mod rules;
mod schemas;
mod security_labels;
mod sequences;
mod statistics;
mod subscriptions;
mod tables;
mod text_search;
mod transforms;
mod triggers;
mod types;
mod views;

pub use schemas::read_schemas;
pub(super) use schemas::user_schema;
pub use tables::TableRow;
pub(super) use tables::{RLS_ACTIVE, SCHEMA_USAGE, TABLE_RELKINDS, TABLE_SELECT};

use super::{query_error, CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectKind};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgRow;

/// A read task's query (or, for [`Reader::Relations`], queries): each reads the objects of
/// one or more kinds. Declared in the order the planner queues them before weighing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reader {
    Routines,
    Sequences,
    Types,
    Views,
    Policies,
    Extensions,
    EventTriggers,
    /// The cluster and database around the schema (roles, settings, the database,
    /// tablespaces).
    Globals,
    Rules,
    Casts,
    Transforms,
    Languages,
    AccessMethods,
    Operators,
    Collations,
    Conversions,
    TextSearch,
    Statistics,
    DefaultAcls,
    LargeObjects,
    Publications,
    OperatorClasses,
    /// Foreign data wrappers, servers and user mappings.
    ForeignData,
    Subscriptions,
    BuiltinAcls,
    SecurityLabels,
    /// Tables with their columns, constraints, indexes and triggers, read by one session:
    /// the definitions are built from the columns it read, and the server's caches warmed
    /// for a table (to deparse a CHECK or a WHEN clause) serve every kind of that table.
    Relations,
    /// The schemas, read by the leading session before any other task: the selected
    /// schemas are every other reader's input.
    Schemas,
}

/// The reader `--no-globals` leaves out of the plan.
pub const GLOBALS_READER: Reader = Reader::Globals;

/// Which reader reads each kind. Exhaustive on purpose (no `_` arm): a kind added to the
/// model does not compile until something reads it.
pub const fn reader_of(kind: ObjectKind) -> Reader {
    match kind {
        ObjectKind::Schema => Reader::Schemas,
        ObjectKind::Extension => Reader::Extensions,
        ObjectKind::Type => Reader::Types,
        ObjectKind::Table | ObjectKind::Constraint | ObjectKind::Index | ObjectKind::Trigger => {
            Reader::Relations
        }
        ObjectKind::View | ObjectKind::Matview => Reader::Views,
        ObjectKind::Sequence => Reader::Sequences,
        ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Aggregate => Reader::Routines,
        ObjectKind::EventTrigger => Reader::EventTriggers,
        ObjectKind::Policy => Reader::Policies,
        ObjectKind::Role
        | ObjectKind::RoleMembership
        | ObjectKind::Setting
        | ObjectKind::Database
        | ObjectKind::ServerSetting
        | ObjectKind::Tablespace
        | ObjectKind::ParameterAcl => Reader::Globals,
        ObjectKind::Rule => Reader::Rules,
        ObjectKind::Cast => Reader::Casts,
        ObjectKind::Transform => Reader::Transforms,
        ObjectKind::Language => Reader::Languages,
        ObjectKind::AccessMethod => Reader::AccessMethods,
        ObjectKind::Operator => Reader::Operators,
        ObjectKind::Collation => Reader::Collations,
        ObjectKind::Conversion => Reader::Conversions,
        ObjectKind::TextSearchParser
        | ObjectKind::TextSearchTemplate
        | ObjectKind::TextSearchDictionary
        | ObjectKind::TextSearchConfiguration => Reader::TextSearch,
        ObjectKind::Statistics => Reader::Statistics,
        ObjectKind::DefaultAcl => Reader::DefaultAcls,
        ObjectKind::LargeObject => Reader::LargeObjects,
        ObjectKind::Publication => Reader::Publications,
        ObjectKind::OperatorClass | ObjectKind::OperatorFamily => Reader::OperatorClasses,
        ObjectKind::ForeignDataWrapper | ObjectKind::Server | ObjectKind::UserMapping => {
            Reader::ForeignData
        }
        ObjectKind::Subscription => Reader::Subscriptions,
        ObjectKind::BuiltinAcl => Reader::BuiltinAcls,
        ObjectKind::SecurityLabel => Reader::SecurityLabels,
    }
}

/// What a reader's task is given, and how it is split over parallel sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Nothing: it runs on the leading session before the plan is made.
    First,
    /// The selected schemas' oids; `split`: in chunks of schemas when the read is parallel
    /// (kinds whose cost grows with the catalog). A database-wide reader takes them unsplit
    /// and reads what the database has.
    Schemas { split: bool },
    /// The oids of the selected schemas' relations, in chunks of equal count.
    Relations,
}

/// How a reader's task is scheduled: declared by each reader's module as `SCHEDULE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub input: Input,
    /// Rough relative cost per schema in a chunk, for longest-first scheduling.
    pub weight: u32,
}

/// What a reader's task produced.
pub enum ReadOutput {
    Objects(Vec<CatalogObject>),
    /// The relations' reader: objects, and what the row counts need of each table.
    Tables(Vec<CatalogObject>, Vec<TableRow>),
}

impl Reader {
    pub const fn schedule(self) -> Schedule {
        match self {
            Reader::Routines => routines::SCHEDULE,
            Reader::Sequences => sequences::SCHEDULE,
            Reader::Types => types::SCHEDULE,
            Reader::Views => views::SCHEDULE,
            Reader::Policies => policies::SCHEDULE,
            Reader::Extensions => extensions::SCHEDULE,
            Reader::EventTriggers => event_triggers::SCHEDULE,
            Reader::Globals => globals::SCHEDULE,
            Reader::Rules => rules::SCHEDULE,
            Reader::Casts => casts::SCHEDULE,
            Reader::Transforms => transforms::SCHEDULE,
            Reader::Languages => languages::SCHEDULE,
            Reader::AccessMethods => access_methods::SCHEDULE,
            Reader::Operators => operators::SCHEDULE,
            Reader::Collations => collations::SCHEDULE,
            Reader::Conversions => conversions::SCHEDULE,
            Reader::TextSearch => text_search::SCHEDULE,
            Reader::Statistics => statistics::SCHEDULE,
            Reader::DefaultAcls => default_acls::SCHEDULE,
            Reader::LargeObjects => large_objects::SCHEDULE,
            Reader::Publications => publications::SCHEDULE,
            Reader::OperatorClasses => operator_classes::SCHEDULE,
            Reader::ForeignData => foreign_data::SCHEDULE,
            Reader::Subscriptions => subscriptions::SCHEDULE,
            Reader::BuiltinAcls => builtin_acls::SCHEDULE,
            Reader::SecurityLabels => security_labels::SCHEDULE,
            Reader::Relations => tables::SCHEDULE,
            Reader::Schemas => schemas::SCHEDULE,
        }
    }

    /// Run this reader on `oids` (schemas or relations, as its [`Input`] says).
    pub async fn read(
        self,
        conn: &mut sqlx::PgConnection,
        caps: &ServerCaps,
        oids: &[Oid],
    ) -> Result<ReadOutput, CatalogError> {
        let objects = match self {
            Reader::Routines => routines::read_routines(conn, caps, oids).await?,
            Reader::Sequences => sequences::read_sequences(conn, caps, oids).await?,
            Reader::Types => types::read_types(conn, caps, oids).await?,
            Reader::Views => views::read_views(conn, caps, oids).await?,
            Reader::Policies => policies::read_policies(conn, caps, oids).await?,
            Reader::Extensions => extensions::read_extensions(conn, caps).await?,
            Reader::EventTriggers => event_triggers::read_event_triggers(conn, caps).await?,
            Reader::Globals => globals::read_globals(conn, caps).await?,
            Reader::Rules => rules::read_rules(conn, caps, oids).await?,
            Reader::Casts => casts::read_casts(conn, caps).await?,
            Reader::Transforms => transforms::read_transforms(conn, caps).await?,
            Reader::Languages => languages::read_languages(conn, caps).await?,
            Reader::AccessMethods => access_methods::read_access_methods(conn, caps).await?,
            Reader::Operators => operators::read_operators(conn, caps, oids).await?,
            Reader::Collations => collations::read_collations(conn, caps, oids).await?,
            Reader::Conversions => conversions::read_conversions(conn, caps, oids).await?,
            Reader::TextSearch => text_search::read_text_search(conn, caps, oids).await?,
            Reader::Statistics => statistics::read_statistics(conn, caps, oids).await?,
            Reader::DefaultAcls => default_acls::read_default_acls(conn, caps, oids).await?,
            Reader::LargeObjects => large_objects::read_large_objects(conn, caps).await?,
            Reader::Publications => publications::read_publications(conn, caps).await?,
            Reader::OperatorClasses => {
                operator_classes::read_operator_classes(conn, caps, oids).await?
            }
            Reader::ForeignData => foreign_data::read_foreign_data(conn, caps).await?,
            Reader::Subscriptions => subscriptions::read_subscriptions(conn, caps).await?,
            Reader::BuiltinAcls => builtin_acls::read_builtin_acls(conn, caps, oids).await?,
            Reader::SecurityLabels => {
                security_labels::read_security_labels(conn, caps, oids).await?
            }
            Reader::Relations => {
                let (mut objects, rows, mut attrs) = tables::read_tables(conn, caps, oids).await?;
                objects.extend(constraints::read_constraints(conn, caps, oids, &mut attrs).await?);
                objects.extend(indexes::read_indexes(conn, caps, oids, &attrs).await?);
                objects.extend(triggers::read_triggers(conn, caps, oids, &attrs).await?);
                return Ok(ReadOutput::Tables(objects, rows));
            }
            Reader::Schemas => {
                unreachable!("the schemas are read before the plan, by read_schemas")
            }
        };
        Ok(ReadOutput::Objects(objects))
    }
}

/// Run a catalog query bound to an oid array: the selected schemas, or relations.
pub(crate) async fn fetch_by_oids<T>(
    conn: &mut sqlx::PgConnection,
    what: &str,
    sql: &str,
    nsp: &[Oid],
) -> Result<Vec<T>, CatalogError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .bind(nsp)
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(what, e))
}

/// Run a catalog query with no parameters.
pub(super) async fn fetch<T>(
    conn: &mut sqlx::PgConnection,
    what: &str,
    sql: &str,
) -> Result<Vec<T>, CatalogError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(what, e))
}

/// SQL: true when the object is a member of an extension (left out of snapshots).
pub(super) fn ext_member(catalog: &str, oid_expr: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{catalog}'::regclass \
         AND dep.objid = {oid_expr} AND dep.deptype = 'e')"
    )
}

/// SQL: the comment on an object (sub-id 0).
pub(super) fn comment_of(catalog: &str, oid_expr: &str) -> String {
    format!(
        "(SELECT description FROM pg_description ds WHERE ds.classoid = '{catalog}'::regclass \
         AND ds.objoid = {oid_expr} AND ds.objsubid = 0)"
    )
}

/// PostgreSQL's `makeObjectName(name1, name2, label)`, the name it gives what is created
/// without one (a not-null constraint: `TABLE_COLUMN_not_null`, `DOMAIN_not_null`): the
/// parts joined by `_` within NAMEDATALEN - 1 bytes, shortening the longer name first, each
/// cut at a character boundary.
pub(super) fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    const MAX_NAME_BYTES: usize = 63;
    let name2 = name2.unwrap_or_default();
    let overhead = label.len() + 1 + usize::from(!name2.is_empty());
    let avail = MAX_NAME_BYTES.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        n
    };
    let (n1, n2) = (clip(name1, n1), clip(name2, n2));
    if name2.is_empty() {
        format!("{}_{label}", &name1[..n1])
    } else {
        format!("{}_{}_{label}", &name1[..n1], &name2[..n2])
    }
}

/// The name of a column's `attstorage` code, as `SET STORAGE` takes it. A code this
/// driftgate does not know is kept as it is, never dropped: it still compares.
pub(super) fn storage_name(code: &str) -> String {
    match code {
        "p" => "plain",
        "e" => "external",
        "m" => "main",
        "x" => "extended",
        other => other,
    }
    .to_string()
}

/// The name of a column's `attcompression` code, as `SET COMPRESSION` takes it (unknown
/// codes kept as they are).
pub(super) fn compression_name(code: &str) -> String {
    match code {
        "p" => "pglz",
        "l" => "lz4",
        other => other,
    }
    .to_string()
}

/// SQL: the `SET COMPRESSION` code of column `a` (`pg_attribute`), `NULL` when unset or
/// before PostgreSQL 14, which added it.
pub(super) fn column_compression_sql(caps: &ServerCaps) -> &'static str {
    if caps.version_num >= 140000 {
        "NULLIF(a.attcompression::text, '')"
    } else {
        "NULL::text"
    }
}

/// SQL: the storage parameters of relation `{alias}` (`pg_class`) as a text array, its TOAST
/// table's among them as pg_dump writes them in `WITH (…)`: `toast.autovacuum_enabled=false`.
/// `NULL` when there are none.
pub(super) fn reloptions_sql(alias: &str) -> String {
    format!(
        "NULLIF(coalesce({alias}.reloptions::text[], '{{}}') || \
           coalesce((SELECT array_agg('toast.' || o) FROM pg_class tc, unnest(tc.reloptions) o \
                     WHERE tc.oid = {alias}.reltoastrelid), '{{}}'), '{{}}')"
    )
}

/// SQL: the input argument types of routine `{alias}` as a text array, in order.
pub(super) fn arg_types_of(alias: &str) -> String {
    format!(
        "ARRAY(SELECT format_type(u.t, NULL) FROM unnest({alias}.proargtypes::oid[]) WITH ORDINALITY u(t, i) ORDER BY u.i)"
    )
}

/// SQL: an object's ACL as text, `NULL` when it holds exactly the owner's default
/// privileges (`acldefault(objtype, owner)`, compared as sets). PostgreSQL stores `NULL`
/// until the first GRANT or REVOKE, but after a REVOKE and a re-GRANT back to the default,
/// or a dump and restore, it stores the default explicitly: the same privileges, so the
/// same value here.
pub(super) fn acl_sql(acl_expr: &str, objtype: &str, owner_expr: &str) -> String {
    format!(
        "CASE WHEN {acl_expr} IS NOT NULL \
           AND {acl_expr}::text[] @> acldefault('{objtype}', {owner_expr})::text[] \
           AND {acl_expr}::text[] <@ acldefault('{objtype}', {owner_expr})::text[] \
         THEN NULL ELSE {acl_expr}::text[] END"
    )
}

/// ACL items sorted by bytes (the server's order is grant order, not meaningful).
pub(super) fn sorted(acl: Option<Vec<String>>) -> Option<Vec<String>> {
    acl.map(|mut v| {
        v.sort();
        v
    })
}

/// Column names of `rel` for attnums `keys`, in order (attnums the map lacks are skipped:
/// an expression's 0).
pub(super) fn names(attrs: &deparse::AttrMap, rel: Oid, keys: &[i16]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| attrs.get(&(rel.0, *k)).map(|a| a.name.clone()))
        .collect()
}

/// Definitions the client did not build, asked of the server in one query (`sql` selects
/// `oid, definition` for `oid = ANY($1)`): for each `(row index, oid)` of `ask`, the row
/// index and the server's definition. No query when `ask` is empty.
pub(super) async fn server_defs(
    conn: &mut sqlx::PgConnection,
    what: &str,
    sql: &str,
    ask: &[(usize, Oid)],
) -> Result<Vec<(usize, Option<String>)>, CatalogError> {
    if ask.is_empty() {
        return Ok(Vec::new());
    }
    let oids: Vec<Oid> = ask.iter().map(|(_, oid)| *oid).collect();
    let rows: Vec<(Oid, Option<String>)> = sqlx::query_as(sql)
        .bind(&oids)
        .fetch_all(conn)
        .await
        .map_err(|e| query_error(what, e))?;
    let mut defs: std::collections::HashMap<u32, String> = rows
        .into_iter()
        .filter_map(|(oid, def)| def.map(|d| (oid.0, d)))
        .collect();
    Ok(ask
        .iter()
        .map(|(n, oid)| (*n, defs.remove(&oid.0)))
        .collect())
}
