//! One ALTER per field family of each schema-object kind beyond tables and routines (rules,
//! operators, casts, …), and of the table, column, index, view and type details pg_dump
//! prints with ALTER statements (issue 13): a real server, `tests/fixtures/every_field.sql` and
//! `every_kind.sql` loaded, a snapshot before and after the statement, and the diff must
//! report the object with the field the statement changed (or the object added or
//! removed), and the default policy must BLOCK. `everyfield.rs` proves every stored field is
//! compared; this proves the reader sees each change PostgreSQL can make, on the version
//! under test (`DRIFTGATE_TEST_PG_BIN`).

mod support;

use driftgate::catalog::{self, CaptureOptions, ConnectTarget};
use driftgate::diff::{self, ChangeType};
use driftgate::gate::{GateReport, Policy, Verdict};
use driftgate::model::{CatalogSnapshot, ObjectDef, ObjectKind};

const EVERY_FIELD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/every_field.sql"
);
const EVERY_KIND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/every_kind.sql");

/// What one statement must do to one key.
enum Expect {
    /// Changed, naming at least these top-level fields (or full field paths:
    /// `columns.body.statistics`).
    Changed(&'static [&'static str]),
    Added,
    Removed,
}

struct Fixture {
    db: support::TestDb,
    runtime: tokio::runtime::Runtime,
    snapshot: CatalogSnapshot,
}

impl Fixture {
    fn new(hint: &str) -> Fixture {
        Fixture::on(support::cluster(), hint)
    }

    /// The fixture in a database of `cluster`.
    fn on(cluster: &'static support::Cluster, hint: &str) -> Fixture {
        let db = cluster.create_db(hint);
        {
            // The fixture creates and alters cluster-wide objects (roles, their comments and
            // memberships, ALTER SYSTEM): two tests loading it at once race on them
            // ("duplicate key … pg_authid_rolname_index"), so one loads at a time.
            static LOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _one = LOADING.lock().unwrap_or_else(|e| e.into_inner());
            db.sql(&std::fs::read_to_string(EVERY_FIELD).expect("every_field.sql"));
            db.sql(&std::fs::read_to_string(EVERY_KIND).expect("every_kind.sql"));
        }
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let snapshot = capture(&runtime, &db);
        Fixture {
            db,
            runtime,
            snapshot,
        }
    }

    /// Run `sql`, capture again, and hold the diff against the previous capture to `expect`
    /// for `key`; the new capture is the base of the next statement.
    fn alter(&mut self, sql: &str, key: &str, expect: Expect) {
        self.db.sql(sql);
        let head = capture(&self.runtime, &self.db);
        let d = diff::diff(&self.snapshot, &head);
        let report = GateReport::evaluate(&d, &Policy::default(), "base", "head");
        let seen: Vec<String> = d
            .changes
            .iter()
            .map(|c| format!("{} {} {:?}", c.change, c.key, c.field_paths()))
            .collect();
        let change = d.changes.iter().find(|c| c.key.as_str() == key);
        let ok = match (&expect, change) {
            (Expect::Added, Some(c)) => c.change == ChangeType::Added,
            (Expect::Removed, Some(c)) => c.change == ChangeType::Removed,
            (Expect::Changed(fields), Some(c)) => {
                matches!(c.change, ChangeType::Changed | ChangeType::WhitespaceOnly)
                    && fields
                        .iter()
                        .all(|f| c.fields.iter().any(|x| x.top_field() == *f || x.path == *f))
            }
            (_, None) => false,
        };
        assert!(
            ok,
            "{sql}\nexpected {} of {key}; the diff has {seen:?}",
            match expect {
                Expect::Added => "an addition".to_string(),
                Expect::Removed => "a removal".to_string(),
                Expect::Changed(f) => format!("a change of {f:?}"),
            }
        );
        assert_eq!(
            report.verdict,
            Verdict::Block,
            "{sql}: not BLOCK under the default policy: {seen:?}"
        );
        self.snapshot = head;
    }
}

fn capture(runtime: &tokio::runtime::Runtime, db: &support::TestDb) -> CatalogSnapshot {
    let target = ConnectTarget::resolve(Some(&db.dsn)).expect("the test DSN resolves");
    runtime
        .block_on(catalog::capture(&target, &CaptureOptions::default()))
        .unwrap_or_else(|e| panic!("capturing the fixture: {e}"))
}

#[test]
fn rules() {
    let mut f = Fixture::new("objkinds_rules");
    f.alter(
        "CREATE OR REPLACE RULE ledger_no_zero AS ON INSERT TO ef_core.ledger \
         WHERE NEW.amount < 0 DO INSTEAD NOTHING",
        "rule:ef_core.ledger.ledger_no_zero",
        Expect::Changed(&["definition"]),
    );
    f.alter(
        "CREATE OR REPLACE RULE ledger_no_zero AS ON INSERT TO ef_core.ledger \
         WHERE NEW.amount < 0 DO ALSO INSERT INTO ef_core.audit_log (what) VALUES ('negative')",
        "rule:ef_core.ledger.ledger_no_zero",
        Expect::Changed(&["instead", "definition"]),
    );
    f.alter(
        "CREATE OR REPLACE RULE ledger_no_zero AS ON UPDATE TO ef_core.ledger \
         WHERE NEW.amount < 0 DO ALSO INSERT INTO ef_core.audit_log (what) VALUES ('negative')",
        "rule:ef_core.ledger.ledger_no_zero",
        Expect::Changed(&["event"]),
    );
    f.alter(
        "ALTER TABLE ef_core.ledger ENABLE REPLICA RULE ledger_log_update",
        "rule:ef_core.ledger.ledger_log_update",
        Expect::Changed(&["enabled"]),
    );
    f.alter(
        "COMMENT ON RULE ledger_no_zero ON ef_core.ledger IS 'changed'",
        "rule:ef_core.ledger.ledger_no_zero",
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "ALTER RULE ledger_log_delete ON ef_core.ledger RENAME TO ledger_log_removal",
        "rule:ef_core.ledger.ledger_log_removal",
        Expect::Added,
    );
    f.alter(
        "DROP RULE active_account_delete ON ef_app.active_account",
        "rule:ef_app.active_account.active_account_delete",
        Expect::Removed,
    );
}

#[test]
fn casts() {
    let mut f = Fixture::new("objkinds_casts");
    let key = "cast:(ef_core.mood AS integer)";
    f.alter(
        "DROP CAST (ef_core.mood AS integer); \
         CREATE CAST (ef_core.mood AS integer) WITH FUNCTION ef_core.mood_rank(ef_core.mood) AS IMPLICIT",
        key,
        Expect::Changed(&["context"]),
    );
    f.alter(
        "DROP CAST (ef_core.mood AS integer); \
         CREATE CAST (ef_core.mood AS integer) WITH INOUT AS IMPLICIT",
        key,
        Expect::Changed(&["method", "function"]),
    );
    f.alter(
        "COMMENT ON CAST (ef_core.mood AS integer) IS 'changed'",
        key,
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "CREATE CAST (ef_core.mood AS text) WITH INOUT",
        "cast:(ef_core.mood AS text)",
        Expect::Added,
    );
    f.alter(
        "DROP CAST (ef_core.address AS text)",
        "cast:(ef_core.address AS text)",
        Expect::Removed,
    );
}

#[test]
fn transforms() {
    let mut f = Fixture::new("objkinds_transforms");
    let key = "transform:(integer LANGUAGE plpgsql)";
    f.alter(
        "CREATE OR REPLACE TRANSFORM FOR integer LANGUAGE plpgsql \
         (FROM SQL WITH FUNCTION ef_core.int4_from_sql(internal))",
        key,
        Expect::Changed(&["to_sql"]),
    );
    f.alter(
        "COMMENT ON TRANSFORM FOR integer LANGUAGE plpgsql IS 'changed'",
        key,
        Expect::Changed(&["comment"]),
    );
}

#[test]
fn languages() {
    let mut f = Fixture::new("objkinds_languages");
    let key = "language:ef_pl";
    f.alter(
        "ALTER LANGUAGE ef_pl OWNER TO ef_writer",
        key,
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "GRANT USAGE ON LANGUAGE ef_pl TO ef_owner",
        key,
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "CREATE OR REPLACE LANGUAGE ef_pl HANDLER ef_core.pl_handler VALIDATOR ef_core.pl_validator",
        key,
        Expect::Changed(&["trusted", "inline"]),
    );
    f.alter(
        "COMMENT ON LANGUAGE ef_pl IS 'changed'",
        key,
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "ALTER LANGUAGE ef_pl RENAME TO ef_pl2",
        "language:ef_pl2",
        Expect::Added,
    );
}

#[test]
fn access_methods() {
    let mut f = Fixture::new("objkinds_access_methods");
    f.alter(
        "DROP ACCESS METHOD ef_btree; CREATE ACCESS METHOD ef_btree TYPE INDEX HANDLER hashhandler",
        "access_method:ef_btree",
        Expect::Changed(&["handler"]),
    );
    f.alter(
        "COMMENT ON ACCESS METHOD ef_heap IS 'changed'",
        "access_method:ef_heap",
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "CREATE ACCESS METHOD ef_hash TYPE INDEX HANDLER hashhandler",
        "access_method:ef_hash",
        Expect::Added,
    );
}

#[test]
fn operators() {
    let mut f = Fixture::new("objkinds_operators");
    let key = "operator:ef_core.=~=(integer,integer)";
    f.alter(
        "ALTER OPERATOR ef_core.=~= (integer, integer) SET (RESTRICT = scalarltsel, JOIN = scalarltjoinsel)",
        key,
        Expect::Changed(&["restrict", "join"]),
    );
    f.alter(
        "ALTER OPERATOR ef_core.=~= (integer, integer) OWNER TO ef_writer",
        key,
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "COMMENT ON OPERATOR ef_core.=~= (integer, integer) IS 'changed'",
        key,
        Expect::Changed(&["comment"]),
    );
    // Function, commutator, negator, HASHES and MERGES cannot be altered: a new definition
    // is a drop and a create.
    f.alter(
        "DROP OPERATOR ef_core.~~~ (NONE, integer); \
         CREATE OPERATOR ef_core.~~~ (RIGHTARG = integer, FUNCTION = int4um)",
        "operator:ef_core.~~~(NONE,integer)",
        Expect::Changed(&["function"]),
    );
    f.alter(
        "DROP OPERATOR ef_core.!~= (integer, integer); \
         CREATE OPERATOR ef_core.!~= (LEFTARG = integer, RIGHTARG = integer, \
           FUNCTION = ef_core.int_far, HASHES)",
        "operator:ef_core.!~=(integer,integer)",
        Expect::Changed(&["negator", "hashes"]),
    );
}

#[test]
fn collations() {
    let mut f = Fixture::new("objkinds_collations");
    let key = "collation:ef_core.split_c";
    f.alter(
        "DROP COLLATION ef_core.split_c; \
         CREATE COLLATION ef_core.split_c (provider = libc, lc_collate = 'POSIX', lc_ctype = 'POSIX')",
        key,
        Expect::Changed(&["locale"]),
    );
    f.alter(
        "ALTER COLLATION ef_core.posix_c OWNER TO ef_writer",
        "collation:ef_core.posix_c",
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "COMMENT ON COLLATION ef_core.posix_c IS 'changed'",
        "collation:ef_core.posix_c",
        Expect::Changed(&["comment"]),
    );
}

#[test]
fn conversions() {
    let mut f = Fixture::new("objkinds_conversions");
    let key = "conversion:ef_core.latin1_utf8";
    f.alter(
        "DROP CONVERSION ef_core.latin1_utf8; \
         CREATE CONVERSION ef_core.latin1_utf8 FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8",
        key,
        Expect::Changed(&["default"]),
    );
    f.alter(
        "DROP CONVERSION ef_core.latin1_utf8; \
         CREATE CONVERSION ef_core.latin1_utf8 FOR 'LATIN1' TO 'MULE_INTERNAL' FROM latin1_to_mic",
        key,
        Expect::Changed(&["to_encoding", "function"]),
    );
    f.alter(
        "ALTER CONVERSION ef_core.latin1_utf8 OWNER TO ef_writer",
        key,
        Expect::Changed(&["owner"]),
    );
}

#[test]
fn text_search() {
    let mut f = Fixture::new("objkinds_text_search");
    f.alter(
        "ALTER TEXT SEARCH CONFIGURATION ef_core.ef_cfg ALTER MAPPING FOR word WITH simple",
        "text_search_configuration:ef_core.ef_cfg",
        Expect::Changed(&["mappings"]),
    );
    f.alter(
        "ALTER TEXT SEARCH CONFIGURATION ef_core.ef_cfg ADD MAPPING FOR numword WITH simple",
        "text_search_configuration:ef_core.ef_cfg",
        Expect::Changed(&["mappings"]),
    );
    f.alter(
        "ALTER TEXT SEARCH DICTIONARY ef_core.ef_dict (ACCEPT = true)",
        "text_search_dictionary:ef_core.ef_dict",
        Expect::Changed(&["options"]),
    );
    f.alter(
        "ALTER TEXT SEARCH DICTIONARY ef_core.ef_dict OWNER TO ef_writer",
        "text_search_dictionary:ef_core.ef_dict",
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "COMMENT ON TEXT SEARCH PARSER ef_core.ef_parser IS 'changed'",
        "text_search_parser:ef_core.ef_parser",
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "CREATE TEXT SEARCH PARSER ef_core.ef_parser2 (START = prsd_start, \
           GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype)",
        "text_search_parser:ef_core.ef_parser2",
        Expect::Added,
    );
    f.alter(
        "DROP TEXT SEARCH CONFIGURATION ef_core.ef_cfg; DROP TEXT SEARCH DICTIONARY ef_core.ef_dict; \
         DROP TEXT SEARCH TEMPLATE ef_core.ef_template; \
         CREATE TEXT SEARCH TEMPLATE ef_core.ef_template (LEXIZE = dsimple_lexize)",
        "text_search_template:ef_core.ef_template",
        Expect::Changed(&["init"]),
    );
}

#[test]
fn statistics() {
    let mut f = Fixture::new("objkinds_statistics");
    let key = "statistics:ef_core.account_credit_mood";
    f.alter(
        "ALTER STATISTICS ef_core.account_credit_mood SET STATISTICS 50",
        key,
        Expect::Changed(&["statistics_target"]),
    );
    f.alter(
        "ALTER STATISTICS ef_core.account_credit_mood OWNER TO ef_writer",
        key,
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "DROP STATISTICS ef_core.account_credit_mood; \
         CREATE STATISTICS ef_core.account_credit_mood (ndistinct) ON credit, mood FROM ef_core.account",
        key,
        Expect::Changed(&["kinds", "definition"]),
    );
    f.alter(
        "DROP STATISTICS ef_core.account_credit_mood; \
         CREATE STATISTICS ef_core.account_credit_mood (ndistinct) ON credit, name FROM ef_core.account",
        key,
        Expect::Changed(&["definition"]),
    );
}

#[test]
fn default_acls() {
    let mut f = Fixture::new("objkinds_default_acls");
    f.alter(
        "ALTER DEFAULT PRIVILEGES FOR ROLE ef_owner IN SCHEMA ef_app GRANT INSERT ON TABLES TO ef_writer",
        "default_acl:ef_owner.ef_app.tables",
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "ALTER DEFAULT PRIVILEGES FOR ROLE ef_owner GRANT USAGE ON SEQUENCES TO ef_writer",
        "default_acl:ef_owner.*.sequences",
        Expect::Added,
    );
    f.alter(
        "ALTER DEFAULT PRIVILEGES FOR ROLE ef_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
        "default_acl:ef_owner.*.functions",
        Expect::Removed,
    );
}

#[test]
fn large_objects() {
    let mut f = Fixture::new("objkinds_large_objects");
    let plain = f
        .snapshot
        .objects
        .keys()
        .find(|k| {
            k.as_str().starts_with("large_object:")
                && f.snapshot.objects[*k].owner.as_deref() != Some("ef_owner")
        })
        .expect("the fixture's ungranted large objects")
        .to_string();
    f.alter(
        "SELECT lo_create(424204)",
        &plain,
        Expect::Changed(&["count", "oids_md5"]),
    );
    f.alter(
        "SELECT lo_unlink(424204); SELECT lo_create(424205)",
        &plain,
        Expect::Changed(&["oids_md5"]),
    );
    // A grant, an owner or a comment moves the object to another group: its old group
    // shrinks, and a new one (its own key) appears.
    f.alter(
        "ALTER LARGE OBJECT 424205 OWNER TO ef_writer",
        &plain,
        Expect::Changed(&["count", "oids_md5"]),
    );
    f.alter(
        "SELECT lo_unlink(424201); SELECT lo_unlink(424202)",
        &plain,
        Expect::Removed,
    );
}

#[test]
fn shell_types() {
    let mut f = Fixture::new("objkinds_shell_types");
    f.alter(
        "CREATE TYPE ef_core.pending2",
        "type:ef_core.pending2",
        Expect::Added,
    );
    f.alter(
        "DROP TYPE ef_core.pending",
        "type:ef_core.pending",
        Expect::Removed,
    );
}

#[test]
fn publications() {
    let mut f = Fixture::new("objkinds_publications");
    f.alter(
        "ALTER PUBLICATION ef_all SET (publish = 'insert, delete, truncate')",
        "publication:ef_all",
        Expect::Changed(&["publish"]),
    );
    f.alter(
        "ALTER PUBLICATION ef_all SET (publish_via_partition_root = false)",
        "publication:ef_all",
        Expect::Changed(&["via_root"]),
    );
    f.alter(
        "ALTER PUBLICATION ef_all OWNER TO ef_writer",
        "publication:ef_all",
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "ALTER PUBLICATION ef_some DROP TABLE ef_core.account",
        "publication:ef_some",
        Expect::Changed(&["tables"]),
    );
    if f.snapshot.meta.server_version_num >= 150000 {
        f.alter(
            "ALTER PUBLICATION ef_some SET TABLE ef_core.audit_log (at) WHERE (what IS NOT NULL)",
            "publication:ef_some",
            Expect::Changed(&["tables"]),
        );
        f.alter(
            "ALTER PUBLICATION ef_schemas ADD TABLES IN SCHEMA ef_core",
            "publication:ef_schemas",
            Expect::Changed(&["schemas"]),
        );
    }
}

/// Table details pg_dump prints with ALTER TABLE (issue 13): access method, tablespace,
/// replica identity, CLUSTER ON, a foreign table's server and options.
#[test]
fn table_details() {
    let mut f = Fixture::new("objkinds_table_details");
    let version = f.snapshot.meta.server_version_num;
    let key = "table:ef_core.detail";
    // SET ACCESS METHOD is 15+; before, a table made again with another method is the
    // same key with that field changed.
    if version >= 150000 {
        f.alter(
            "ALTER TABLE ef_core.detail SET ACCESS METHOD heap",
            key,
            Expect::Changed(&["access_method"]),
        );
    } else {
        f.alter(
            "DROP TABLE ef_core.pair_table; \
             CREATE TABLE ef_core.pair_table OF ef_core.pair USING ef_heap",
            "table:ef_core.pair_table",
            Expect::Changed(&["access_method"]),
        );
    }
    f.alter(
        "ALTER TABLE ef_core.detail SET TABLESPACE pg_default",
        key,
        Expect::Changed(&["tablespace"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail REPLICA IDENTITY FULL",
        key,
        Expect::Changed(&["replica_identity", "replica_identity_index"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail REPLICA IDENTITY NOTHING",
        key,
        Expect::Changed(&["replica_identity"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail REPLICA IDENTITY DEFAULT",
        key,
        Expect::Changed(&["replica_identity"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail CLUSTER ON detail_score_key",
        key,
        Expect::Changed(&["clustered_on"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail SET WITHOUT CLUSTER",
        key,
        Expect::Changed(&["clustered_on"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail SET (toast.autovacuum_enabled = true)",
        key,
        Expect::Changed(&["options"]),
    );
    f.alter(
        "ALTER TABLE ef_core.pair_table NOT OF",
        "table:ef_core.pair_table",
        Expect::Changed(&["of_type"]),
    );
    let remote = "table:ef_core.remote_detail";
    f.alter(
        "ALTER FOREIGN TABLE ef_core.remote_detail OPTIONS (SET table_name 'detail_v2')",
        remote,
        Expect::Changed(&["foreign_options"]),
    );
    // A foreign table's server cannot be altered: made again on another one.
    f.alter(
        "CREATE SERVER ef_detail_server2 FOREIGN DATA WRAPPER ef_detail_fdw; \
         DROP FOREIGN TABLE ef_core.remote_detail; \
         CREATE FOREIGN TABLE ef_core.remote_detail ( \
             id integer OPTIONS (column_name 'remote_id'), note text \
         ) SERVER ef_detail_server2 OPTIONS (schema_name 'far', table_name 'detail_v2')",
        remote,
        Expect::Changed(&["foreign_server"]),
    );
}

/// Column details pg_dump prints (issue 13): statistics target, storage, compression (14+),
/// options (ALTER TABLE … ALTER COLUMN), an inherited column declared on the child too, a
/// foreign table column's options.
#[test]
fn column_details() {
    let mut f = Fixture::new("objkinds_column_details");
    let version = f.snapshot.meta.server_version_num;
    let key = "table:ef_core.detail";
    f.alter(
        "ALTER TABLE ef_core.detail ALTER body SET STATISTICS 10",
        key,
        Expect::Changed(&["columns.body.statistics"]),
    );
    // Back to the default: -1 before 17, NULL after; either way the field goes.
    f.alter(
        "ALTER TABLE ef_core.detail ALTER body SET STATISTICS -1",
        key,
        Expect::Changed(&["columns.body.statistics"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail ALTER tag SET STATISTICS 0",
        key,
        Expect::Changed(&["columns.tag.statistics"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail ALTER body SET STORAGE extended",
        key,
        Expect::Changed(&["columns.body.storage"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail ALTER tag SET STORAGE external",
        key,
        Expect::Changed(&["columns.tag.storage"]),
    );
    if version >= 140000 {
        f.alter(
            "ALTER TABLE ef_core.detail ALTER tag SET COMPRESSION pglz",
            key,
            Expect::Changed(&["columns.tag.compression"]),
        );
        f.alter(
            "ALTER TABLE ef_core.detail ALTER tag SET COMPRESSION default",
            key,
            Expect::Changed(&["columns.tag.compression"]),
        );
    }
    f.alter(
        "ALTER TABLE ef_core.detail ALTER score SET (n_distinct = -0.5)",
        key,
        Expect::Changed(&["columns.score.options"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail ALTER score RESET (n_distinct)",
        key,
        Expect::Changed(&["columns.score.options"]),
    );
    // Declared on the child too: the column stays when the parent's goes.
    f.alter(
        "ALTER TABLE ef_core.vip_account NO INHERIT ef_core.account; \
         ALTER TABLE ef_core.vip_account INHERIT ef_core.account",
        "table:ef_core.vip_account",
        Expect::Changed(&["columns.name.inherited_only"]),
    );
    f.alter(
        "ALTER FOREIGN TABLE ef_core.remote_detail ALTER id OPTIONS (SET column_name 'rid')",
        "table:ef_core.remote_detail",
        Expect::Changed(&["columns.id.fdw_options"]),
    );
    f.alter(
        "ALTER FOREIGN TABLE ef_core.remote_detail ALTER note OPTIONS (ADD column_name 'n')",
        "table:ef_core.remote_detail",
        Expect::Changed(&["columns.note.fdw_options"]),
    );
}

/// PostgreSQL 18's not-null constraints (issue 13): a rename, NOT VALID and its
/// validation, NO INHERIT, a comment. Before 18 a not-null has none of these; there the
/// test holds that SET/DROP NOT NULL still is a change, and that the fixture's 18-only
/// details left the columns as on any version.
#[test]
fn not_null_constraints() {
    let mut f = Fixture::new("objkinds_not_null");
    let version = f.snapshot.meta.server_version_num;
    let key = "table:ef_core.detail";
    if version < 180000 {
        let detail = f
            .snapshot
            .objects_of(ObjectKind::Table)
            .find(|o| o.key.as_str() == key)
            .expect("the fixture's ef_core.detail");
        let ObjectDef::Table(table) = &detail.def else {
            panic!("{key} is not a table")
        };
        assert!(
            table.columns.values().all(|c| c.not_null_name.is_none()
                && !c.not_null_not_valid
                && !c.not_null_no_inherit
                && c.not_null_comment.is_none()),
            "PostgreSQL {version} has no named not-null constraints"
        );
        f.alter(
            "ALTER TABLE ef_core.detail ALTER tag SET NOT NULL",
            key,
            Expect::Changed(&["columns.tag.not_null"]),
        );
        return;
    }
    f.alter(
        "ALTER TABLE ef_core.detail RENAME CONSTRAINT detail_score_present TO detail_score_given",
        key,
        Expect::Changed(&["columns.score.not_null_name"]),
    );
    // Renamed to the default name: pg_dump leaves it out, so does the snapshot.
    f.alter(
        "ALTER TABLE ef_core.detail RENAME CONSTRAINT detail_score_given TO detail_score_not_null",
        key,
        Expect::Changed(&["columns.score.not_null_name"]),
    );
    f.alter(
        "COMMENT ON CONSTRAINT detail_score_not_null ON ef_core.detail IS 'changed'",
        key,
        Expect::Changed(&["columns.score.not_null_comment"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail VALIDATE CONSTRAINT detail_body_nn",
        key,
        Expect::Changed(&["columns.body.not_null_not_valid"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail ALTER CONSTRAINT detail_tag_nn INHERIT",
        key,
        Expect::Changed(&["columns.tag.not_null_no_inherit"]),
    );
    f.alter(
        "ALTER TABLE ef_core.detail ALTER body DROP NOT NULL",
        key,
        Expect::Changed(&["columns.body.not_null", "columns.body.not_null_name"]),
    );
}

/// Comments, defaults and grants on parts of objects (issue 13): view and matview columns,
/// composite type attributes, domain constraints.
#[test]
fn sub_object_comments() {
    let mut f = Fixture::new("objkinds_sub_object_comments");
    let view = "view:ef_app.active_account";
    f.alter(
        "COMMENT ON COLUMN ef_app.active_account.name IS 'changed'",
        view,
        Expect::Changed(&["columns.name.comment"]),
    );
    f.alter(
        "COMMENT ON COLUMN ef_app.active_account.id IS 'added'",
        view,
        Expect::Changed(&["columns"]),
    );
    f.alter(
        "ALTER VIEW ef_app.active_account ALTER COLUMN credit SET DEFAULT 1",
        view,
        Expect::Changed(&["columns.credit.default"]),
    );
    f.alter(
        "GRANT SELECT (name) ON ef_app.active_account TO ef_reader",
        view,
        Expect::Changed(&["columns.name.acl"]),
    );
    f.alter(
        "ALTER VIEW ef_app.active_account ALTER COLUMN credit DROP DEFAULT",
        view,
        Expect::Changed(&["columns"]),
    );
    f.alter(
        "COMMENT ON COLUMN ef_app.credit_total.total IS 'changed'",
        "matview:ef_app.credit_total",
        Expect::Changed(&["columns.total.comment"]),
    );
    f.alter(
        "REVOKE SELECT (account_id) ON ef_app.credit_total FROM ef_writer",
        "matview:ef_app.credit_total",
        Expect::Changed(&["columns"]),
    );
    f.alter(
        "COMMENT ON COLUMN ef_core.address.street IS 'changed'",
        "type:ef_core.address",
        Expect::Changed(&["attributes"]),
    );
    f.alter(
        "COMMENT ON COLUMN ef_core.address.street IS NULL",
        "type:ef_core.address",
        Expect::Changed(&["attributes"]),
    );
    f.alter(
        "COMMENT ON CONSTRAINT code_shape ON DOMAIN ef_core.code IS 'changed'",
        "type:ef_core.code",
        Expect::Changed(&["constraint_comments"]),
    );
    f.alter(
        "COMMENT ON CONSTRAINT code_short ON DOMAIN ef_core.code IS 'added'",
        "type:ef_core.code",
        Expect::Changed(&["constraint_comments"]),
    );
}

/// Tablespaces and access methods of what is not a table (issue 13): an index (and its
/// expression column's statistics target), a constraint's index, a materialized view (and
/// its columns' details).
#[test]
fn index_and_matview_storage() {
    let mut f = Fixture::new("objkinds_index_and_matview_storage");
    let version = f.snapshot.meta.server_version_num;
    f.alter(
        "ALTER INDEX ef_core.detail_tag_idx SET TABLESPACE pg_default",
        "index:ef_core.detail_tag_idx",
        Expect::Changed(&["tablespace"]),
    );
    f.alter(
        "ALTER INDEX ef_core.detail_pkey SET TABLESPACE pg_default",
        "constraint:ef_core.detail.detail_pkey",
        Expect::Changed(&["tablespace"]),
    );
    f.alter(
        "ALTER INDEX ef_core.detail_lower_tag ALTER COLUMN 1 SET STATISTICS 40",
        "index:ef_core.detail_lower_tag",
        Expect::Changed(&["column_statistics"]),
    );
    f.alter(
        "ALTER MATERIALIZED VIEW ef_app.detail_scores SET TABLESPACE pg_default",
        "matview:ef_app.detail_scores",
        Expect::Changed(&["tablespace"]),
    );
    let matview = "matview:ef_app.detail_scores";
    f.alter(
        "ALTER MATERIALIZED VIEW ef_app.detail_scores ALTER COLUMN score SET STATISTICS 12",
        matview,
        Expect::Changed(&["columns.score.statistics"]),
    );
    f.alter(
        "ALTER MATERIALIZED VIEW ef_app.detail_scores ALTER COLUMN body SET STORAGE external",
        matview,
        Expect::Changed(&["columns.body.storage"]),
    );
    f.alter(
        "ALTER MATERIALIZED VIEW ef_app.detail_scores ALTER COLUMN id RESET (n_distinct)",
        matview,
        // Its only detail: the column's entry goes.
        Expect::Changed(&["columns.id"]),
    );
    if version >= 140000 {
        f.alter(
            "ALTER MATERIALIZED VIEW ef_app.detail_scores ALTER COLUMN body SET COMPRESSION default",
            matview,
            Expect::Changed(&["columns.body.compression"]),
        );
    }
    // SET ACCESS METHOD is 15+; before, the same matview made again with the other one.
    f.alter(
        if version >= 150000 {
            "ALTER MATERIALIZED VIEW ef_app.detail_scores SET ACCESS METHOD heap"
        } else {
            "DROP MATERIALIZED VIEW ef_app.detail_scores; \
             CREATE MATERIALIZED VIEW ef_app.detail_scores USING heap AS \
                 SELECT id, score, body FROM ef_core.detail WITH NO DATA"
        },
        "matview:ef_app.detail_scores",
        Expect::Changed(&["access_method"]),
    );
}

/// A domain's NOT NULL (issue 13): a named constraint on 17+ (renamed, commented); before,
/// a flag only.
#[test]
fn domain_not_null() {
    let mut f = Fixture::new("objkinds_domain_not_null");
    let key = "type:ef_core.code";
    if f.snapshot.meta.server_version_num >= 170000 {
        f.alter(
            "ALTER DOMAIN ef_core.code RENAME CONSTRAINT code_present TO code_given",
            key,
            Expect::Changed(&["not_null_name"]),
        );
        f.alter(
            "COMMENT ON CONSTRAINT code_given ON DOMAIN ef_core.code IS 'changed'",
            key,
            Expect::Changed(&["not_null_comment"]),
        );
        // Renamed to the default name: pg_dump leaves it out, so does the snapshot.
        f.alter(
            "ALTER DOMAIN ef_core.code RENAME CONSTRAINT code_given TO code_not_null",
            key,
            Expect::Changed(&["not_null_name"]),
        );
    }
    f.alter(
        "ALTER DOMAIN ef_core.code DROP NOT NULL",
        key,
        Expect::Changed(&["not_null"]),
    );
}

/// A CHECK constraint inherited from a parent and not declared on the child (issue 13):
/// made local by leaving the parent and joining it again.
#[test]
fn inherited_constraints() {
    let mut f = Fixture::new("objkinds_inherited_constraints");
    f.alter(
        "ALTER TABLE ef_core.vip_account NO INHERIT ef_core.account; \
         ALTER TABLE ef_core.vip_account INHERIT ef_core.account",
        "constraint:ef_core.vip_account.account_credit_check",
        Expect::Changed(&["inherited_only"]),
    );
}

#[test]
fn builtin_and_extension_privileges() {
    let mut f = Fixture::new("objkinds_builtin_acl");
    f.alter(
        "GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text) TO ef_writer",
        "builtin_acl:function/pg_catalog.pg_ls_dir(text)",
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text) TO ef_reader",
        "builtin_acl:function/pg_catalog.pg_stat_file(text)",
        Expect::Added,
    );
    f.alter(
        "GRANT SELECT (relacl) ON pg_catalog.pg_class TO ef_reader",
        "builtin_acl:column/pg_catalog.pg_class.relacl",
        Expect::Added,
    );
    f.alter(
        "REVOKE SELECT ON pg_catalog.pg_roles FROM PUBLIC",
        "builtin_acl:table/pg_catalog.pg_roles",
        Expect::Added,
    );
    f.alter(
        "GRANT SELECT ON information_schema.tables TO ef_writer",
        "builtin_acl:table/information_schema.tables",
        Expect::Added,
    );
    // information_schema starts with SELECT (and USAGE on the schema) granted to PUBLIC:
    // taking that away is drift, and so is a grant on a relation initdb granted nothing on.
    f.alter(
        "REVOKE SELECT ON information_schema.columns FROM PUBLIC",
        "builtin_acl:table/information_schema.columns",
        Expect::Added,
    );
    f.alter(
        "GRANT SELECT ON information_schema.sql_parts TO PUBLIC",
        "builtin_acl:table/information_schema.sql_parts",
        Expect::Added,
    );
    f.alter(
        "REVOKE USAGE ON SCHEMA information_schema FROM PUBLIC",
        "builtin_acl:schema/information_schema",
        Expect::Added,
    );
    f.alter(
        "GRANT USAGE ON SCHEMA pg_catalog TO ef_writer",
        "builtin_acl:schema/pg_catalog",
        Expect::Added,
    );
    f.alter(
        "GRANT USAGE ON TYPE pg_catalog.int4 TO ef_writer",
        "builtin_acl:type/pg_catalog.int4",
        Expect::Added,
    );
    f.alter(
        "REVOKE USAGE ON LANGUAGE sql FROM PUBLIC",
        "builtin_acl:language/sql",
        Expect::Added,
    );
    // An extension's member: back to its initial privileges is no longer a change.
    f.alter(
        "GRANT EXECUTE ON FUNCTION ef_app.similarity(text, text) TO PUBLIC",
        "builtin_acl:function/ef_app.similarity(text,text)",
        Expect::Removed,
    );
    f.alter(
        "REVOKE EXECUTE ON FUNCTION ef_app.word_similarity(text, text) FROM PUBLIC",
        "builtin_acl:function/ef_app.word_similarity(text,text)",
        Expect::Added,
    );
}

/// Which `information_schema` relations initdb leaves without PUBLIC's SELECT is what the
/// reader takes as their starting privileges: checked on a new database of this version.
#[test]
fn information_schema_starts_as_the_reader_assumes() {
    let db = support::empty_db("objkinds_information_schema");
    let ungranted = db.query(
        "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'information_schema' AND c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') \
           AND NOT coalesce(c.relacl @> makeaclitem(0, c.relowner, 'SELECT', false), false)",
    );
    let mut expected = driftgate::catalog::INFORMATION_SCHEMA_UNGRANTED.to_vec();
    expected.sort();
    assert_eq!(ungranted, expected.join(","));
    // And the others hold exactly the owner's default and PUBLIC's SELECT.
    assert_eq!(
        db.query(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'information_schema' AND c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') \
               AND c.relacl IS NOT NULL AND NOT (c.relacl @> (acldefault('r', c.relowner) \
                 || makeaclitem(0, c.relowner, 'SELECT', false)) AND c.relacl <@ \
                 (acldefault('r', c.relowner) || makeaclitem(0, c.relowner, 'SELECT', false)))"
        ),
        "0"
    );
}

#[test]
fn parameter_privileges() {
    let mut f = Fixture::new("objkinds_parameter_acl");
    if f.snapshot.meta.server_version_num < 150000 {
        // GRANT … ON PARAMETER is 15+: the reader must list none there.
        assert!(
            f.snapshot
                .objects_of(driftgate::model::ObjectKind::ParameterAcl)
                .next()
                .is_none(),
            "parameter privileges listed on a server older than 15"
        );
        return;
    }
    f.alter(
        "GRANT ALTER SYSTEM ON PARAMETER log_statement TO ef_writer",
        "parameter_acl:log_statement",
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "GRANT SET ON PARAMETER work_mem TO ef_writer",
        "parameter_acl:work_mem",
        Expect::Added,
    );
    f.alter(
        "REVOKE SET ON PARAMETER work_mem FROM ef_writer",
        "parameter_acl:work_mem",
        Expect::Removed,
    );
}

/// The JSON of `key` in `snapshot` (as `show --format json` prints it).
fn json_of(snapshot: &CatalogSnapshot, key: &str) -> serde_json::Value {
    let key = driftgate::model::ObjectKey::parse(key).expect("a valid key");
    let object = snapshot
        .objects
        .get(&key)
        .unwrap_or_else(|| panic!("{key} is not in the snapshot"));
    serde_json::to_value(object).expect("objects serialize")
}

#[test]
fn operator_classes_and_families() {
    let mut f = Fixture::new("objkinds_opclasses");
    let class = "operator_class:ef_core.ef_int_ops USING brin";
    let family = "operator_family:ef_core.ef_int_fam USING brin";
    let c = json_of(&f.snapshot, class);
    assert_eq!(c["default"], true, "{c:#}");
    assert_eq!(c["storage"], "integer", "{c:#}");
    assert_eq!(c["family"], "ef_core.ef_int_fam", "{c:#}");
    assert_eq!(
        c["operators"],
        serde_json::json!(["OPERATOR 3 ef_core.=~=(integer,integer) FOR SEARCH"]),
        "the class's own member, not the family's loose one: {c:#}"
    );
    let fam = json_of(&f.snapshot, family);
    assert_eq!(
        fam["functions"],
        serde_json::json!([
            "FUNCTION 3 (integer,bigint) pg_catalog.brin_minmax_consistent(internal,internal,internal)"
        ]),
        "{fam:#}"
    );
    f.alter(
        "ALTER OPERATOR FAMILY ef_core.ef_int_fam USING brin ADD OPERATOR 2 <= (integer, bigint)",
        family,
        Expect::Changed(&["operators"]),
    );
    f.alter(
        "ALTER OPERATOR FAMILY ef_core.ef_int_fam USING brin \
         DROP FUNCTION 3 (integer, bigint)",
        family,
        Expect::Changed(&["functions"]),
    );
    f.alter(
        "ALTER OPERATOR FAMILY ef_core.ef_int_fam USING brin OWNER TO ef_writer",
        family,
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "COMMENT ON OPERATOR FAMILY ef_core.ef_int_fam USING brin IS 'changed'",
        family,
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "ALTER OPERATOR CLASS ef_core.ef_int_ops USING brin OWNER TO ef_writer",
        class,
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "COMMENT ON OPERATOR CLASS ef_core.ef_int_ops USING brin IS 'changed'",
        class,
        Expect::Changed(&["comment"]),
    );
    // What only CREATE OPERATOR CLASS sets: the class made again without DEFAULT, with
    // another storage type, operator and routine.
    f.alter(
        "DROP OPERATOR CLASS ef_core.ef_int_ops USING brin; \
         CREATE OPERATOR CLASS ef_core.ef_int_ops FOR TYPE ef_core.mood USING brin \
           FAMILY ef_core.ef_int_fam AS STORAGE bigint, \
           OPERATOR 4 ef_core.=~= (integer, integer), \
           FUNCTION 1 brin_minmax_opcinfo(internal); \
         ALTER OPERATOR CLASS ef_core.ef_int_ops USING brin OWNER TO ef_writer; \
         COMMENT ON OPERATOR CLASS ef_core.ef_int_ops USING brin IS 'changed'",
        class,
        Expect::Changed(&["default", "storage", "operators", "functions"]),
    );
    f.alter(
        "ALTER OPERATOR CLASS ef_core.ef_int_ops USING brin RENAME TO ef_int_ops2",
        "operator_class:ef_core.ef_int_ops2 USING brin",
        Expect::Added,
    );
    // An ordering operator's sort family is part of the member (FOR ORDER BY).
    f.alter(
        "CREATE OPERATOR FAMILY ef_core.ef_gist_fam USING gist",
        "operator_family:ef_core.ef_gist_fam USING gist",
        Expect::Added,
    );
    f.alter(
        "ALTER OPERATOR FAMILY ef_core.ef_gist_fam USING gist \
         ADD OPERATOR 15 <-> (point, point) FOR ORDER BY pg_catalog.float_ops",
        "operator_family:ef_core.ef_gist_fam USING gist",
        Expect::Changed(&["operators"]),
    );
    assert_eq!(
        json_of(
            &f.snapshot,
            "operator_family:ef_core.ef_gist_fam USING gist"
        )["operators"],
        serde_json::json!([
            "OPERATOR 15 pg_catalog.<->(point,point) FOR ORDER BY pg_catalog.float_ops"
        ])
    );
}

#[test]
fn foreign_data_wrappers_servers_and_user_mappings() {
    let mut f = Fixture::new("objkinds_foreign_data");
    f.alter(
        "ALTER FOREIGN DATA WRAPPER ef_fdw NO VALIDATOR",
        "foreign_data_wrapper:ef_fdw",
        Expect::Changed(&["validator"]),
    );
    f.alter(
        "ALTER FOREIGN DATA WRAPPER ef_fdw NO HANDLER",
        "foreign_data_wrapper:ef_fdw",
        Expect::Changed(&["handler"]),
    );
    f.alter(
        "ALTER FOREIGN DATA WRAPPER ef_fdw_free OPTIONS (SET mode 'strict')",
        "foreign_data_wrapper:ef_fdw_free",
        Expect::Changed(&["options"]),
    );
    f.alter(
        "GRANT USAGE ON FOREIGN DATA WRAPPER ef_fdw TO ef_writer",
        "foreign_data_wrapper:ef_fdw",
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "COMMENT ON FOREIGN DATA WRAPPER ef_fdw IS 'changed'",
        "foreign_data_wrapper:ef_fdw",
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "ALTER SERVER ef_srv VERSION '16'",
        "server:ef_srv",
        Expect::Changed(&["version"]),
    );
    f.alter(
        "ALTER SERVER ef_srv OPTIONS (SET host 'db2.internal')",
        "server:ef_srv",
        Expect::Changed(&["options"]),
    );
    f.alter(
        "ALTER SERVER ef_srv OWNER TO ef_writer",
        "server:ef_srv",
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "REVOKE USAGE ON FOREIGN SERVER ef_srv FROM ef_reader",
        "server:ef_srv",
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "COMMENT ON SERVER ef_srv IS 'changed'",
        "server:ef_srv",
        Expect::Changed(&["comment"]),
    );
    // TYPE and the wrapper are set by CREATE SERVER only.
    f.alter(
        "DROP SERVER ef_srv_free; \
         CREATE SERVER ef_srv_free TYPE 'archive' FOREIGN DATA WRAPPER ef_fdw \
           OPTIONS (host 'archive.internal')",
        "server:ef_srv_free",
        Expect::Changed(&["server_type", "wrapper", "options"]),
    );
    f.alter(
        "ALTER USER MAPPING FOR ef_reader SERVER ef_srv OPTIONS (SET user 'other_reader')",
        "user_mapping:ef_srv/ef_reader",
        Expect::Changed(&["options"]),
    );
    f.alter(
        "ALTER USER MAPPING FOR PUBLIC SERVER ef_srv OPTIONS (ADD connect_timeout '5')",
        "user_mapping:ef_srv/PUBLIC",
        Expect::Changed(&["options"]),
    );
    f.alter(
        "CREATE USER MAPPING FOR ef_writer SERVER ef_srv",
        "user_mapping:ef_srv/ef_writer",
        Expect::Added,
    );
    f.alter(
        "DROP USER MAPPING FOR PUBLIC SERVER ef_srv",
        "user_mapping:ef_srv/PUBLIC",
        Expect::Removed,
    );
}

#[test]
fn subscriptions() {
    let mut f = Fixture::new("objkinds_subscriptions");
    let key = "subscription:ef_sub";
    let v = f.snapshot.meta.server_version_num;
    let s = json_of(&f.snapshot, key);
    assert_eq!(s["publications"], serde_json::json!(["ef_all", "ef_some"]));
    assert_eq!(s["enabled"], false, "{s:#}");
    assert_eq!(s["binary"], v >= 140000, "{s:#}");
    assert_eq!(s["streaming"], if v >= 140000 { "on" } else { "off" });
    assert_eq!(s["two_phase"], v >= 150000, "{s:#}");
    assert_eq!(s["origin"], if v >= 160000 { "none" } else { "any" });
    assert_eq!(s["failover"], v >= 170000, "{s:#}");
    f.alter(
        "ALTER SUBSCRIPTION ef_sub SET PUBLICATION ef_all WITH (refresh = false)",
        key,
        Expect::Changed(&["publications"]),
    );
    f.alter(
        "ALTER SUBSCRIPTION ef_sub SET (synchronous_commit = 'off')",
        key,
        Expect::Changed(&["synchronous_commit"]),
    );
    f.alter(
        "ALTER SUBSCRIPTION ef_sub CONNECTION 'host=127.0.0.1 port=2 dbname=nowhere'",
        key,
        Expect::Changed(&["conninfo"]),
    );
    f.alter(
        "COMMENT ON SUBSCRIPTION ef_sub IS 'changed'",
        key,
        Expect::Changed(&["comment"]),
    );
    if v >= 140000 {
        f.alter(
            "ALTER SUBSCRIPTION ef_sub SET (binary = false)",
            key,
            Expect::Changed(&["binary"]),
        );
        f.alter(
            "ALTER SUBSCRIPTION ef_sub SET (streaming = false)",
            key,
            Expect::Changed(&["streaming"]),
        );
    }
    if v >= 150000 {
        f.alter(
            "ALTER SUBSCRIPTION ef_sub SET (disable_on_error = false)",
            key,
            Expect::Changed(&["disable_on_error"]),
        );
    }
    if v >= 160000 {
        f.alter(
            "ALTER SUBSCRIPTION ef_sub SET (origin = any)",
            key,
            Expect::Changed(&["origin"]),
        );
        f.alter(
            "ALTER SUBSCRIPTION ef_sub SET (password_required = true, run_as_owner = false)",
            key,
            Expect::Changed(&["password_required", "run_as_owner"]),
        );
    }
    // two_phase (18+) and failover (17+) are altered on the publisher's slot too, so
    // their ALTER connects: this never-connected subscription cannot; everyfield.rs
    // holds their comparison. Without a slot, DROP does not connect either.
    f.alter(
        "ALTER SUBSCRIPTION ef_sub SET (slot_name = NONE)",
        key,
        Expect::Changed(&["slot_name"]),
    );
    f.alter("DROP SUBSCRIPTION ef_sub", key, Expect::Removed);
}

#[test]
fn tablespaces() {
    // A cluster of its own: tablespaces are the cluster's, and every capture of the shared
    // cluster would read again each time one of these ALTERs commits (the read is
    // stamped with pg_tablespace), often enough to give up.
    let mut f = Fixture::on(support::private_cluster(None), "objkinds_tablespaces");
    let t = json_of(&f.snapshot, "tablespace:ef_space");
    assert_eq!(t["owner"], "ef_owner", "{t:#}");
    assert_eq!(
        t["options"],
        serde_json::json!(["random_page_cost=3", "seq_page_cost=2"])
    );
    assert!(
        t["location"].as_str().unwrap().ends_with("/ef_space"),
        "{t:#}"
    );
    // One made here, so the fixture's own stays as everyfield.rs expects it.
    let key = "tablespace:ef_space_alter";
    f.alter(
        "SELECT format('COPY (SELECT WHERE false) TO PROGRAM %L', 'mkdir -p ' || \
           regexp_replace(current_setting('data_directory'), '/[^/]+$', '') || '/ef_space_alter') \\gexec
         SELECT format('CREATE TABLESPACE ef_space_alter LOCATION %L', \
           regexp_replace(current_setting('data_directory'), '/[^/]+$', '') || '/ef_space_alter') \\gexec",
        key,
        Expect::Added,
    );
    f.alter(
        "ALTER TABLESPACE ef_space_alter SET (effective_io_concurrency = 4)",
        key,
        Expect::Changed(&["options"]),
    );
    f.alter(
        "ALTER TABLESPACE ef_space_alter OWNER TO ef_writer",
        key,
        Expect::Changed(&["owner"]),
    );
    f.alter(
        "GRANT CREATE ON TABLESPACE ef_space_alter TO ef_reader",
        key,
        Expect::Changed(&["acl"]),
    );
    f.alter(
        "COMMENT ON TABLESPACE ef_space_alter IS 'changed'",
        key,
        Expect::Changed(&["comment"]),
    );
    f.alter(
        "ALTER TABLESPACE ef_space_alter RENAME TO ef_space_renamed",
        "tablespace:ef_space_renamed",
        Expect::Added,
    );
    f.alter(
        "DROP TABLESPACE ef_space_renamed",
        "tablespace:ef_space_renamed",
        Expect::Removed,
    );
}

/// Secrets in options and connection strings are removed before storing: the fixture's
/// `S3CRET` values are in no object, the names beside them are.
#[test]
fn secrets_in_options_and_conninfo_are_not_stored() {
    let f = Fixture::new("objkinds_secrets");
    let all = serde_json::to_string(&f.snapshot.objects.values().collect::<Vec<_>>()).unwrap();
    assert!(!all.contains("S3CRET"), "a secret reached the snapshot");
    let srv = json_of(&f.snapshot, "server:ef_srv_free");
    assert_eq!(srv["options"]["password"], "(removed)", "{srv:#}");
    assert_eq!(srv["options"]["region"], "eu", "{srv:#}");
    let fdw = json_of(&f.snapshot, "foreign_data_wrapper:ef_fdw_free");
    assert_eq!(fdw["options"]["api_key"], "(removed)", "{fdw:#}");
    let um = json_of(&f.snapshot, "user_mapping:ef_srv/ef_reader");
    assert_eq!(um["options"]["password"], "(removed)", "{um:#}");
    assert_eq!(um["options"]["user"], "remote_reader", "{um:#}");
    let sub = json_of(&f.snapshot, "subscription:ef_sub");
    assert_eq!(
        sub["conninfo"],
        "host=127.0.0.1 port=1 dbname=nowhere user=rep password=(removed)"
    );
}

/// What a role without the privileges cannot see is recorded as not readable, never as
/// empty, and a diff against a superuser's snapshot calls it readability, not drift.
#[test]
fn hidden_user_mapping_options_and_conninfo_are_not_readable() {
    let db = support::empty_db("objkinds_not_readable");
    let plain = format!("ok_plain_{}", std::process::id());
    db.sql(&format!(
        "CREATE ROLE {plain} LOGIN; \
         CREATE FOREIGN DATA WRAPPER ok_fdw; \
         CREATE SERVER ok_srv FOREIGN DATA WRAPPER ok_fdw; \
         GRANT USAGE ON FOREIGN SERVER ok_srv TO {plain}; \
         CREATE USER MAPPING FOR PUBLIC SERVER ok_srv OPTIONS (user 'anyone'); \
         CREATE USER MAPPING FOR postgres SERVER ok_srv; \
         CREATE USER MAPPING FOR {plain} SERVER ok_srv OPTIONS (user 'me'); \
         CREATE SUBSCRIPTION ok_sub CONNECTION 'host=127.0.0.1 port=1 dbname=x' \
           PUBLICATION p WITH (connect = false); \
         COMMENT ON SUBSCRIPTION ok_sub IS 'subscribed';"
    ));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let as_super = capture(&runtime, &db);
    let target = ConnectTarget::resolve(Some(&db.dsn_as(&plain))).unwrap();
    let as_plain = runtime
        .block_on(catalog::capture(&target, &CaptureOptions::default()))
        .unwrap_or_else(|e| panic!("capturing as {plain}: {e}"));
    let nr = driftgate::model::redact::NOT_READABLE;
    let public = "user_mapping:ok_srv/PUBLIC";
    let other = "user_mapping:ok_srv/postgres";
    let own = format!("user_mapping:ok_srv/{plain}");
    assert_eq!(json_of(&as_super, public)["options"]["user"], "anyone");
    assert_eq!(json_of(&as_super, other)["options"], serde_json::json!({}));
    assert_eq!(json_of(&as_plain, public)["options"], nr);
    assert_eq!(json_of(&as_plain, other)["options"], nr);
    assert_eq!(json_of(&as_plain, &own)["options"]["user"], "me");
    assert_eq!(
        json_of(&as_super, "subscription:ok_sub")["conninfo"],
        "host=127.0.0.1 port=1 dbname=x"
    );
    assert_eq!(json_of(&as_plain, "subscription:ok_sub")["conninfo"], nr);
    // 13 grants no role `subsynccommit`, nor the `oid` a comment is found by.
    let plain_sub = json_of(&as_plain, "subscription:ok_sub");
    if as_plain.meta.server_version_num < 140000 {
        assert_eq!(plain_sub["synchronous_commit"], nr, "{plain_sub:#}");
        assert_eq!(plain_sub["comment"], nr, "{plain_sub:#}");
    } else {
        assert_eq!(plain_sub["synchronous_commit"], "off", "{plain_sub:#}");
        assert_eq!(plain_sub["comment"], "subscribed", "{plain_sub:#}");
    }

    let d = diff::diff(&as_super, &as_plain);
    for key in [public, other, "subscription:ok_sub"] {
        assert!(
            d.changes.iter().all(|c| c.key.as_str() != key),
            "{key}: drift where only readability differs: {:?}",
            d.changes
        );
        assert!(
            d.readability.iter().any(|r| r.key.as_str() == key),
            "{key}: no readability note: {:?}",
            d.readability
        );
    }
    db.sql("ALTER SUBSCRIPTION ok_sub SET (slot_name = NONE); DROP SUBSCRIPTION ok_sub");
}

/// A partition's copies of its parent's constraints, indexes attached partition by
/// partition, and comments on a constraint's index: each is something pg_dump prints, and
/// a rename of a partition's key index once changed nothing a snapshot showed.
#[test]
fn partition_copies_and_constraint_indexes() {
    let mut f = Fixture::new("objkinds_partition_copies");
    f.alter(
        "ALTER INDEX ef_core.shipment_2024_pkey RENAME TO shipment_2024_key",
        "constraint:ef_core.shipment_2024.shipment_2024_key",
        Expect::Added,
    );
    f.alter(
        "ALTER TABLE ef_core.shipment_2024 RENAME CONSTRAINT shipment_acct_fkey TO shipment_2024_acct_fk",
        "constraint:ef_core.shipment_2024.shipment_acct_fkey",
        Expect::Removed,
    );
    f.alter(
        "CREATE TABLE ef_core.shipment_2025 PARTITION OF ef_core.shipment \
         FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "constraint:ef_core.shipment_2025.shipment_2025_pkey",
        Expect::Added,
    );
    f.alter(
        "ALTER TABLE ef_core.shipment DETACH PARTITION ef_core.shipment_2025",
        "constraint:ef_core.shipment_2025.shipment_2025_pkey",
        Expect::Changed(&["clone_of"]),
    );
    f.alter(
        "CREATE INDEX shipment_at_idx ON ONLY ef_core.shipment (at); \
         CREATE INDEX shipment_2024_at_idx ON ef_core.shipment_2024 (at)",
        "index:ef_core.shipment_2024_at_idx",
        Expect::Added,
    );
    f.alter(
        "ALTER INDEX ef_core.shipment_at_idx ATTACH PARTITION ef_core.shipment_2024_at_idx",
        "index:ef_core.shipment_2024_at_idx",
        Expect::Changed(&["attached_to"]),
    );
    f.alter(
        "COMMENT ON INDEX ef_core.shipment_pkey IS 'one row per shipment, day and carrier'",
        "constraint:ef_core.shipment.shipment_pkey",
        Expect::Changed(&["index_comment"]),
    );
    f.alter(
        "ALTER TABLE ef_core.parcel DETACH PARTITION ef_core.parcel_2024",
        "constraint:ef_core.parcel_2024.parcel_2024_pkey",
        Expect::Changed(&["index_attached_to"]),
    );
}

/// Security labels on a column, a schema, a role and the database, as a label provider
/// writes them (no provider is loaded in a test server; see every_kind.sql): a changed
/// masking rule, a label removed or added, and one on an object of a schema left out.
#[test]
fn security_labels() {
    let mut f = Fixture::new("objkinds_security_labels");
    let column = "security_label:anon/table_column/ef_core.audit_log.what";
    for key in [
        column,
        "security_label:anon/schema/ef_core",
        "security_label:anon/role/ef_reader",
    ] {
        assert!(
            f.snapshot
                .objects
                .contains_key(&driftgate::model::ObjectKey::parse(key).expect("a valid key")),
            "{key} not captured"
        );
    }
    let database = f
        .snapshot
        .objects
        .keys()
        .find(|k| k.as_str().starts_with("security_label:anon/database/"))
        .map(|k| k.as_str().to_string())
        .expect("the database's label is captured");
    let provider = |sql: &str| {
        format!("SET allow_system_table_mods = on; {sql}; RESET allow_system_table_mods")
    };
    f.alter(
        &provider(
            "UPDATE pg_catalog.pg_seclabel SET label = 'MASKED WITH FUNCTION anon.fake_email()' \
             WHERE objoid = 'ef_core.audit_log'::regclass AND objsubid = 2",
        ),
        column,
        Expect::Changed(&["label"]),
    );
    f.alter(
        &provider(
            "UPDATE pg_catalog.pg_shseclabel SET label = 'NOT MASKED' \
             WHERE objoid = 'ef_reader'::regrole AND provider = 'anon'",
        ),
        "security_label:anon/role/ef_reader",
        Expect::Changed(&["label"]),
    );
    f.alter(
        &provider(
            "UPDATE pg_catalog.pg_shseclabel SET label = 'public' \
             WHERE classoid = 'pg_database'::regclass AND provider = 'anon' \
               AND objoid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        ),
        &database,
        Expect::Changed(&["label"]),
    );
    f.alter(
        &provider(
            "DELETE FROM pg_catalog.pg_seclabel WHERE objoid = 'ef_core'::regnamespace \
               AND classoid = 'pg_namespace'::regclass",
        ),
        "security_label:anon/schema/ef_core",
        Expect::Removed,
    );
    f.alter(
        &provider(
            "INSERT INTO pg_catalog.pg_seclabel \
             VALUES ('ef_core.audit_log'::regclass, 'pg_class'::regclass, 0, 'selinux', \
                     'system_u:object_r:sepgsql_table_t:s0')",
        ),
        "security_label:selinux/table/ef_core.audit_log",
        Expect::Added,
    );
    // A schema left out leaves out the labels of its objects and its own.
    let target = ConnectTarget::resolve(Some(&f.db.dsn)).expect("the test DSN resolves");
    let opts = CaptureOptions {
        exclude_schemas: vec!["ef_core".into()],
        ..CaptureOptions::default()
    };
    let partial = f
        .runtime
        .block_on(catalog::capture(&target, &opts))
        .expect("capture without ef_core");
    let left: Vec<&str> = partial
        .objects
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("security_label:") && k.contains("ef_core"))
        .collect();
    assert!(left.is_empty(), "labels of a schema left out: {left:?}");
}
