//! Tests of body analysis over hand-made routines: writes, calls, notifications, dynamic
//! SQL, `NEW` fields and how sure each is.

use super::plpgsql::{assignment_value, string_literal};
use super::*;
use crate::graph::testkit::{routine, snapshot_with, table};
use crate::model::{ObjectDef, ObjectKind};

fn analyse_one(f: CatalogObject, mut others: Vec<CatalogObject>) -> BodyFacts {
    others.push(f.clone());
    let snap = snapshot_with(others);
    let index = SnapshotIndex::new(&snap);
    analyse(&index, &f)
}

fn writes(b: &BodyFacts) -> Vec<String> {
    b.writes
        .iter()
        .map(|w| {
            let mut s = format!("{} {}", w.op.event(), w.table);
            if let Some(c) = &w.columns {
                s.push_str(&format!(" ({})", c.join(",")));
            }
            if let Some(v) = w.via {
                s.push_str(&format!(" via {v}"));
            }
            s
        })
        .collect()
}

#[test]
fn plpgsql_writes_calls_notifies_and_new_fields() {
    let f = routine(
        "fn_x",
        "plpgsql",
        &[],
        "DECLARE v_ok boolean := helper(1);\nBEGIN\n\
           IF NEW.code IS NULL THEN NEW.code := 'DOT-' || lpad(NEW.id::text, 4, '0'); END IF;\n\
           UPDATE dot_counts SET n = n + 1 WHERE status = NEW.status;\n\
           INSERT INTO audit.log (c) VALUES (NEW.code) ON CONFLICT (c) DO UPDATE SET n = 2;\n\
           IF NEW.status = 'active' THEN\n\
             PERFORM pg_notify('context_pack_event', json_build_object('c', NEW.code)::text);\n\
           END IF;\n\
           PERFORM pg_notify(TG_ARGV[0], 'x');\n\
           RETURN NEW;\nEND",
    );
    let helper = routine("helper", "plpgsql", &[], "BEGIN RETURN 1; END");
    let b = analyse_one(
        f,
        vec![helper, table("public", "dot_counts"), table("audit", "log")],
    );
    assert_eq!(b.status, BodyStatus::Analysed);
    assert_eq!(
        writes(&b),
        [
            "insert audit.log",
            "update audit.log (n) via on_conflict",
            "update public.dot_counts (n)"
        ]
    );
    assert_eq!(
        b.calls,
        vec![ObjectKey::new(ObjectKind::Function, "public.helper()")]
    );
    assert_eq!(
        b.notifies,
        vec![
            Notify {
                channel: None,
                sure: Sure::always()
            },
            Notify {
                channel: Some("context_pack_event".into()),
                sure: Sure::guarded(&["IF NEW.status = 'active'".into()])
            }
        ]
    );
    assert_eq!(b.new_assigned, set(&["code"]));
    assert_eq!(b.new_read, set(&["code", "id", "status"]));
    assert!(b.dynamic.is_empty());
}

/// `op table: certainty [guard]` per write, and the same for calls and notifications.
fn sures(b: &BodyFacts) -> Vec<String> {
    let show = |s: &Sure| match &s.guard {
        Some(g) => format!("{} [{g}]", s.certainty.as_str()),
        None => s.certainty.as_str().to_string(),
    };
    let mut out: Vec<String> = b
        .writes
        .iter()
        .map(|w| format!("{} {}: {}", w.op.event(), w.table, show(&w.sure)))
        .collect();
    out.extend(
        b.call_sures
            .iter()
            .map(|(k, s)| format!("call {}: {}", k.name(), show(s))),
    );
    out.extend(b.notifies.iter().map(|n| {
        format!(
            "notify {}: {}",
            n.channel.as_deref().unwrap_or("?"),
            show(&n.sure)
        )
    }));
    out
}

fn guards_fixture() -> Vec<CatalogObject> {
    ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .map(|t| table("public", t))
        .chain(
            ["h1", "h2", "h3"]
                .iter()
                .map(|f| routine(f, "plpgsql", &[], "BEGIN RETURN 1; END")),
        )
        .collect()
}

#[test]
fn branches_loops_and_handlers_make_statements_conditional_with_their_guards() {
    let f = routine(
        "fn_guards",
        "plpgsql",
        &[],
        "DECLARE r record;\nBEGIN\n\
           INSERT INTO a VALUES (1);\n\
           PERFORM h1();\n\
           IF TG_OP = 'INSERT' THEN\n\
             INSERT INTO b VALUES (1);\n\
             IF NEW.x > 0 THEN PERFORM pg_notify('deep', 'x'); END IF;\n\
           ELSIF TG_OP = 'UPDATE' THEN INSERT INTO c VALUES (1);\n\
           ELSE INSERT INTO d VALUES (1);\n\
           END IF;\n\
           CASE NEW.kind WHEN 'k' THEN PERFORM h2(); ELSE NULL; END CASE;\n\
           FOR r IN SELECT * FROM a LOOP INSERT INTO e VALUES (1); END LOOP;\n\
           BEGIN INSERT INTO f VALUES (1);\n\
           EXCEPTION WHEN unique_violation THEN INSERT INTO g VALUES (1); END;\n\
           IF NEW.y THEN RETURN NEW; END IF;\n\
           INSERT INTO h VALUES (1);\n\
           PERFORM h3();\n\
           RETURN NEW;\nEND",
    );
    let b = analyse_one(f, guards_fixture());
    assert_eq!(b.status, BodyStatus::Analysed);
    let got = sures(&b);
    for want in [
        "insert public.a: always",
        "insert public.b: conditional [IF TG_OP = 'INSERT']",
        "insert public.c: conditional [ELSIF TG_OP = 'UPDATE']",
        "insert public.d: conditional [ELSE of IF TG_OP = 'INSERT']",
        "insert public.e: conditional [FOR … IN SELECT * FROM a]",
        "insert public.f: always",
        "insert public.g: conditional [EXCEPTION WHEN unique_violation]",
        "insert public.h: conditional [after a RETURN that may run first (line 16)]",
        "call public.h1(): always",
        "call public.h2(): conditional [CASE NEW.kind WHEN 'k']",
        "call public.h3(): conditional [after a RETURN that may run first (line 16)]",
        "notify deep: conditional [IF TG_OP = 'INSERT'; IF NEW.x > 0]",
    ] {
        assert!(got.contains(&want.to_string()), "{want} not in {got:#?}");
    }
}

#[test]
fn the_same_write_in_two_places_keeps_its_surest_occurrence() {
    let f = routine(
        "fn_twice",
        "plpgsql",
        &[],
        "BEGIN IF NEW.x THEN INSERT INTO a VALUES (1); END IF;\n\
           INSERT INTO a VALUES (2);\n\
           IF NEW.y THEN INSERT INTO b VALUES (1); ELSE INSERT INTO b VALUES (2); END IF;\n\
           RETURN NEW; END",
    );
    let got = sures(&analyse_one(f, guards_fixture()));
    assert_eq!(
        got,
        [
            "insert public.a: always",
            "insert public.b: conditional [ELSE of IF NEW.y | IF NEW.y]"
        ]
    );
}

#[test]
fn statements_whose_rows_depend_on_data_are_maybe_no_rows() {
    let f = routine(
        "fn_rows",
        "plpgsql",
        &[],
        "BEGIN UPDATE a SET v = 1 WHERE id = NEW.id;\n\
           DELETE FROM b WHERE id = NEW.id;\n\
           INSERT INTO c SELECT * FROM a;\n\
           INSERT INTO d VALUES (1) ON CONFLICT DO NOTHING;\n\
           INSERT INTO e SELECT 1;\n\
           PERFORM h1() FROM a;\n\
           IF NEW.z THEN UPDATE f SET v = 2; END IF;\n\
           RETURN NEW; END",
    );
    let got = sures(&analyse_one(f, guards_fixture()));
    for want in [
        "update public.a: maybe-no-rows",
        "delete public.b: maybe-no-rows",
        "insert public.c: maybe-no-rows",
        "insert public.d: maybe-no-rows",
        "insert public.e: always",
        "call public.h1(): maybe-no-rows",
        "update public.f: conditional [IF NEW.z]",
    ] {
        assert!(got.contains(&want.to_string()), "{want} not in {got:#?}");
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn search_path_setting_resolves_unqualified_names() {
    let f = routine(
        "fn_y",
        "plpgsql",
        &["search_path=gov, public, pg_temp"],
        "BEGIN INSERT INTO birth_registry VALUES (1); DELETE FROM only_public; PERFORM gov_helper(); RETURN NULL; END",
    );
    let mut helper = routine("gov_helper", "plpgsql", &[], "BEGIN RETURN 1; END");
    helper.key = ObjectKey::new(ObjectKind::Function, "gov.gov_helper()");
    if let ObjectDef::Function(r) = &mut helper.def {
        r.schema = "gov".into();
    }
    let b = analyse_one(
        f,
        vec![
            helper,
            table("gov", "birth_registry"),
            table("public", "birth_registry"),
            table("public", "only_public"),
        ],
    );
    assert_eq!(
        writes(&b),
        ["insert gov.birth_registry", "delete public.only_public"]
    );
    assert_eq!(
        b.calls,
        vec![ObjectKey::new(ObjectKind::Function, "gov.gov_helper()")]
    );
    assert!(b.writes.iter().all(|w| w.in_snapshot));
}

#[test]
fn unknown_tables_default_to_the_first_schema_and_are_marked() {
    let f = routine(
        "fn_z",
        "plpgsql",
        &[],
        "BEGIN INSERT INTO tmp_x VALUES (1); RETURN NULL; END",
    );
    let b = analyse_one(f, vec![]);
    assert_eq!(writes(&b), ["insert public.tmp_x"]);
    assert!(!b.writes[0].in_snapshot);
}

#[test]
fn dynamic_sql_is_opaque_unless_a_plain_literal() {
    let f = routine(
        "fn_dyn",
        "plpgsql",
        &[],
        "DECLARE r record;\nBEGIN\n\
           EXECUTE 'DELETE FROM ' || quote_ident(TG_ARGV[0]);\n\
           EXECUTE 'TRUNCATE public.t_lit';\n\
           FOR r IN EXECUTE format('SELECT * FROM %I', TG_TABLE_NAME) LOOP END LOOP;\n\
           RETURN NULL;\nEND",
    );
    let b = analyse_one(f, vec![table("public", "t_lit")]);
    assert_eq!(b.dynamic.len(), 3, "{:?}", b.dynamic);
    assert_eq!(b.dynamic.iter().filter(|d| d.literal).count(), 1);
    assert!(b.dynamic.iter().all(|d| d.line.is_some()));
    assert_eq!(writes(&b), ["truncate public.t_lit via execute"]);
}

#[test]
fn select_into_new_fields_and_whole_row_assignment_count_as_assigned() {
    let f = routine(
        "fn_into",
        "plpgsql",
        &[],
        "BEGIN SELECT max(x), 2 INTO NEW.code, NEW.\"Tier\" FROM t; NEW := NEW; RETURN NEW; END",
    );
    let b = analyse_one(f, vec![]);
    assert_eq!(b.new_assigned, set(&["*", "Tier", "code"]));
    assert!(
        b.new_read.is_empty() || b.new_read == set(&["*"]),
        "{:?}",
        b.new_read
    );
}

#[test]
fn return_new_is_not_a_read_but_to_jsonb_new_is() {
    let f = routine("fn_ret", "plpgsql", &[], "BEGIN RETURN NEW; END");
    assert!(analyse_one(f, vec![]).new_read.is_empty());
    let g = routine(
        "fn_json",
        "plpgsql",
        &[],
        "BEGIN PERFORM pg_notify('c', to_jsonb(NEW)::text); RETURN NEW; END",
    );
    assert_eq!(analyse_one(g, vec![]).new_read, set(&["*"]));
}

#[test]
fn a_body_that_does_not_parse_is_unanalysable_not_dropped() {
    let f = routine(
        "fn_bad",
        "plpgsql",
        &[],
        "BEGIN INSRT INTO t VALUES (1); RETURN NULL; END",
    );
    let b = analyse_one(f, vec![]);
    assert!(
        matches!(b.status, BodyStatus::Unanalysable { .. }),
        "{:?}",
        b.status
    );
    assert!(b.status.problem().unwrap().contains("unanalysable"));
}

/// Issue 14: a 99 MB body took `graph` to 24 GB in the parser. Past the budget it is not
/// parsed and says why; at the budget it still is.
#[test]
fn a_body_over_the_budget_is_unanalysable_for_its_size() {
    let filler = "PERFORM 1; ";
    let wrap = |n: usize| format!("BEGIN {} RETURN NEW; END", filler.repeat(n));
    let fits = (MAX_ANALYSED_BODY_BYTES - 400) / filler.len();
    let ok = analyse_one(routine("fn_fits", "plpgsql", &[], &wrap(fits)), vec![]);
    assert_eq!(ok.status, BodyStatus::Analysed);
    let big = analyse_one(routine("fn_big", "plpgsql", &[], &wrap(fits + 100)), vec![]);
    let problem = big.status.problem().unwrap();
    assert!(
        problem.starts_with(&format!(
            "unanalysable: body larger than {MAX_ANALYSED_BODY_BYTES} bytes"
        )),
        "{problem}"
    );
    let sql = format!("SELECT 1;{}", " ".repeat(MAX_ANALYSED_BODY_BYTES));
    let sql = analyse_one(routine("fn_sql", "sql", &[], &sql), vec![]);
    assert!(matches!(sql.status, BodyStatus::Unanalysable { .. }));
}

#[test]
fn sql_language_bodies_with_several_statements() {
    let mut f = routine(
        "sp_rebuild",
        "sql",
        &[],
        "DELETE FROM dot_counts;\nINSERT INTO dot_counts (status, n) SELECT status, count(*) FROM dot_tools GROUP BY status;\nCALL other_proc();",
    );
    f.def = match f.def {
        ObjectDef::Function(r) => ObjectDef::Procedure(r),
        d => d,
    };
    let mut p = routine("other_proc", "sql", &[], "SELECT 1");
    p.key = ObjectKey::new(ObjectKind::Procedure, "public.other_proc()");
    let b = analyse_one(f, vec![p, table("public", "dot_counts")]);
    assert_eq!(
        writes(&b),
        ["insert public.dot_counts", "delete public.dot_counts"]
    );
    assert_eq!(
        b.calls,
        vec![ObjectKey::new(ObjectKind::Procedure, "public.other_proc()")]
    );
}

#[test]
fn sql_standard_bodies_are_read_from_the_definition() {
    let mut f = routine(
        "fn_atomic",
        "sql",
        &[],
        "BEGIN ATOMIC\n INSERT INTO t VALUES (1);\nEND",
    );
    if let ObjectDef::Function(r) = &mut f.def {
        r.definition = Some(
            "CREATE OR REPLACE FUNCTION public.fn_atomic()\n RETURNS void\n LANGUAGE sql\nBEGIN ATOMIC\n INSERT INTO t VALUES (1);\nEND\n".into(),
        );
    }
    let b = analyse_one(f, vec![table("public", "t")]);
    assert_eq!(b.status, BodyStatus::Analysed);
    assert_eq!(writes(&b), ["insert public.t"]);
}

#[test]
fn other_languages_are_opaque() {
    let f = routine("fn_py", "plpython3u", &[], "return 1");
    assert!(matches!(
        analyse_one(f, vec![]).status,
        BodyStatus::NotAnalysed { .. }
    ));
}

#[test]
fn search_path_parsing() {
    let mut r = match routine("f", "plpgsql", &[], "").def {
        ObjectDef::Function(r) => r,
        _ => unreachable!(),
    };
    assert_eq!(search_path(&r, None), ["public"]);
    r.config = vec!["search_path=\"$user\", \"My Schema\", pg_temp, public".into()];
    assert_eq!(
        search_path(&r, Some("alice")),
        ["alice", "My Schema", "public"]
    );
    r.config = vec!["search_path=\"\"".into()];
    assert!(search_path(&r, None).is_empty());
}

#[test]
fn assignment_value_splits_at_the_first_top_level_assignment() {
    assert_eq!(assignment_value("v := a = b"), Some(" a = b"));
    assert_eq!(assignment_value("v = f(x)"), Some(" f(x)"));
    assert_eq!(assignment_value("arr[i = 1] := 2"), Some(" 2"));
    assert_eq!(assignment_value("NEW.\"a:=b\" := 3"), Some(" 3"));
    assert_eq!(assignment_value("nothing"), None);
}

#[test]
fn string_literals_only_when_plain() {
    assert_eq!(
        string_literal(" 'TRUNCATE t' ").as_deref(),
        Some("TRUNCATE t")
    );
    assert_eq!(string_literal("'it''s'").as_deref(), Some("it's"));
    assert_eq!(string_literal("'a' || 'b'"), None);
    assert_eq!(string_literal("format('x')"), None);
}
