//! Tests of one parse tree's facts: DML targets, MERGE, NOTIFY, nested calls, the generic
//! fallback and whole-row `NEW` reads.

use super::*;

fn facts(sql: &str) -> SqlFacts {
    let mut f = SqlFacts::default();
    f.add_parse_result(&pg_query::parse(sql).unwrap().protobuf);
    f
}

fn ops(f: &SqlFacts) -> Vec<(String, WriteOp, Option<Vec<String>>)> {
    f.writes
        .iter()
        .map(|w| {
            let name = match &w.schema {
                Some(s) => format!("{s}.{}", w.name),
                None => w.name.clone(),
            };
            (name, w.op, w.columns.clone())
        })
        .collect()
}

#[test]
fn dml_targets_and_update_columns() {
    let f = facts(
        "INSERT INTO s.t (a) SELECT f(x) FROM u ON CONFLICT (a) DO UPDATE SET b = 2, c = g(1); \
         UPDATE dot_counts SET n = n + 1 WHERE status = NEW.status; \
         WITH d AS (DELETE FROM q RETURNING *) SELECT * FROM d; TRUNCATE a, b.c",
    );
    assert_eq!(
        ops(&f),
        vec![
            ("s.t".into(), WriteOp::Insert, None),
            (
                "s.t".into(),
                WriteOp::Update,
                Some(vec!["b".into(), "c".into()])
            ),
            ("dot_counts".into(), WriteOp::Update, Some(vec!["n".into()])),
            ("q".into(), WriteOp::Delete, None),
            ("a".into(), WriteOp::Truncate, None),
            ("b.c".into(), WriteOp::Truncate, None),
        ]
    );
    assert_eq!(f.calls, vec![vec!["g".to_string()], vec!["f".to_string()]]);
    assert_eq!(f.new_reads, BTreeSet::from(["status".to_string()]));
}

#[test]
fn merge_actions_are_writes() {
    let f = facts(
        "MERGE INTO m USING src ON m.id = src.id WHEN MATCHED AND h() THEN UPDATE SET v = 1 \
         WHEN NOT MATCHED THEN INSERT VALUES (1) WHEN MATCHED THEN DELETE",
    );
    let got: Vec<WriteOp> = f.writes.iter().map(|w| w.op).collect();
    assert_eq!(got, [WriteOp::Update, WriteOp::Insert, WriteOp::Delete]);
    assert_eq!(f.calls, vec![vec!["h".to_string()]]);
}

#[test]
fn notify_channels_literal_or_not() {
    let f = facts(
        "SELECT pg_notify(v_chan, 'x'), pg_catalog.pg_notify('lit'::text, 'y'); NOTIFY chan_a",
    );
    let chans: Vec<Option<&str>> = f.notifies.iter().map(|n| n.channel.as_deref()).collect();
    assert_eq!(chans, [None, Some("lit"), Some("chan_a")]);
    assert!(
        f.calls.is_empty(),
        "pg_notify is a channel, not a call: {:?}",
        f.calls
    );
}

#[test]
fn nested_calls_are_found_everywhere() {
    let f = facts(
        "SELECT CASE WHEN a(NEW.x) THEN coalesce(b(), (SELECT c() FROM t WHERE d(1))) END \
         FROM e() AS r ORDER BY s.f(); CALL s.p(q())",
    );
    let mut names: Vec<String> = f.calls.iter().map(|c| c.join(".")).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d", "e", "q", "s.f", "s.p"]);
    assert!(f.new_reads.contains("x"));
}

#[test]
fn generic_fallback_still_sees_calls_and_new_fields() {
    // JSON constructors have no typed arm.
    let f = facts("SELECT json_object('k': hidden(NEW.code))");
    assert!(
        f.calls.iter().any(|c| c == &["hidden".to_string()]),
        "{:?}",
        f.calls
    );
    assert!(f.new_reads.contains("code"));
}

#[test]
fn whole_row_new_reads_are_marked() {
    let f = facts("SELECT to_jsonb(NEW), NEW.*");
    assert_eq!(f.new_reads, BTreeSet::from(["*".to_string()]));
}
