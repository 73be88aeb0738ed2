//! One ALTER per field family of each schema-object kind beyond tables and routines (rules,
//! operators, casts, …): a real server, `tests/fixtures/every_field.sql` and
//! `every_kind.sql` loaded, a snapshot before and after the statement, and the diff must
//! report the object with the field the statement changed (or the object added or
//! removed), and the default policy must BLOCK. `everyfield.rs` proves every stored field is
//! compared; this proves the reader sees each change PostgreSQL can make, on the version
//! under test (`DRIFTGATE_TEST_PG_BIN`).

mod support;

use driftgate::catalog::{self, CaptureOptions, ConnectTarget};
use driftgate::diff::{self, ChangeType};
use driftgate::gate::{GateReport, Policy, Verdict};
use driftgate::model::CatalogSnapshot;

const EVERY_FIELD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/every_field.sql"
);
const EVERY_KIND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/every_kind.sql");

/// What one statement must do to one key.
enum Expect {
    /// Changed, naming at least these top-level fields.
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
        let db = support::empty_db(hint);
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
                        .all(|f| c.fields.iter().any(|x| x.top_field() == *f))
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
