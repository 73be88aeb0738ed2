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
        db.sql(&std::fs::read_to_string(EVERY_FIELD).expect("every_field.sql"));
        db.sql(&std::fs::read_to_string(EVERY_KIND).expect("every_kind.sql"));
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
