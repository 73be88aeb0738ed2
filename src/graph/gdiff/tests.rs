//! The graph diff over small hand-made snapshots: each change shows as exactly itself.

use super::*;
use crate::graph::firing::tests::trigger;
use crate::graph::firing::{Event, Timing};
use crate::graph::testkit::{plpgsql, snapshot_with, table, trigger_object};
use crate::model::{CatalogObject, TriggerDef};

fn trig_def(name: &str, timing: Timing, function: &str) -> TriggerDef {
    let mut t = trigger(name, timing, &[Event::Insert, Event::Update]);
    t.function = format!("public.{function}()");
    t
}

fn trig(name: &str, timing: Timing, function: &str) -> CatalogObject {
    trigger_object(trig_def(name, timing, function))
}

/// `public.t` INSERT/UPDATE: a gate reading NEW.code, an autocode writer sorting after it
/// (a hazard), an AFTER trigger logging and notifying.
fn base() -> Vec<CatalogObject> {
    vec![
        table("public", "t"),
        table("public", "log"),
        table("public", "audit"),
        table("public", "other"),
        plpgsql(
            "fn_gate",
            "BEGIN IF NEW.code IS NULL THEN RAISE EXCEPTION 'no code'; END IF; RETURN NEW; END",
        ),
        plpgsql("fn_code", "BEGIN NEW.code := 'X'; RETURN NEW; END"),
        plpgsql(
            "fn_log",
            "BEGIN INSERT INTO log VALUES (1); PERFORM pg_notify('evt', 'x'); RETURN NULL; END",
        ),
        trig("a_gate", Timing::Before, "fn_gate"),
        trig("b_code", Timing::Before, "fn_code"),
        trig("m_log", Timing::After, "fn_log"),
    ]
}

fn replace(mut objects: Vec<CatalogObject>, new: CatalogObject) -> Vec<CatalogObject> {
    objects.retain(|o| o.key != new.key);
    objects.push(new);
    objects
}

fn without_key(mut objects: Vec<CatalogObject>, name: &str) -> Vec<CatalogObject> {
    objects.retain(|o| o.key.name() != name);
    objects
}

fn gdiff(base: Vec<CatalogObject>, head: Vec<CatalogObject>, events: &[Event]) -> GraphDiff {
    let (b, h) = (snapshot_with(base), snapshot_with(head));
    graph_diff(&b, &h, "t", events, None, &WalkOptions::default()).expect("diff")
}

fn insert(base: Vec<CatalogObject>, head: Vec<CatalogObject>) -> EventDiff {
    let d = gdiff(base, head, &[Event::Insert]);
    assert_eq!(d.events.len(), 1);
    d.events.into_iter().next().unwrap()
}

fn kinds(edges: &[Value]) -> Vec<String> {
    edges
        .iter()
        .map(|e| {
            format!(
                "{} {} -> {}",
                e["kind"].as_str().unwrap(),
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap()
            )
        })
        .collect()
}

/// Nothing in the diff but what the caller checked: the other sections are empty.
fn only(d: &EventDiff, sections: &[&str]) {
    let empty = |s: &str| match s {
        "firing_order" => d.firing_order.is_empty(),
        "edges.added" => d.edges.added.is_empty(),
        "edges.removed" => d.edges.removed.is_empty(),
        "edges.changed" => d.edges.changed.is_empty(),
        "opaque" => d.opaque.is_empty(),
        "tables" => d.tables.is_empty(),
        "channels" => d.channels.is_empty(),
        "nodes_changed" => d.nodes_changed.is_empty(),
        "hazards" => d.hazards.is_empty(),
        "cycles" => d.cycles.is_empty(),
        "unanalysable" => d.unanalysable.is_empty() && d.unanalysable_changed.is_empty(),
        "incomplete" => d.incomplete.is_empty(),
        _ => unreachable!("{s}"),
    };
    for s in [
        "firing_order",
        "edges.added",
        "edges.removed",
        "edges.changed",
        "opaque",
        "tables",
        "channels",
        "nodes_changed",
        "hazards",
        "cycles",
        "unanalysable",
        "incomplete",
    ] {
        assert_eq!(
            empty(s),
            !sections.contains(&s),
            "section {s} (expected changes only in {sections:?}): {d:#?}"
        );
    }
    assert_eq!(d.changed, !sections.is_empty());
}

#[test]
fn identical_snapshots_have_no_difference_on_any_event() {
    let d = gdiff(base(), base(), &Event::ALL);
    assert!(!d.changed);
    assert_eq!(d.events.len(), 4);
    for e in &d.events {
        only(e, &[]);
    }
    assert!(d.base_has_table && d.head_has_table);
}

#[test]
fn a_function_that_writes_another_table_adds_that_write_and_that_table() {
    let head = replace(
        base(),
        plpgsql(
            "fn_log",
            "BEGIN INSERT INTO log VALUES (1); INSERT INTO audit VALUES (2); PERFORM pg_notify('evt', 'x'); RETURN NULL; END",
        ),
    );
    let d = insert(base(), head);
    only(&d, &["edges.added", "tables"]);
    assert_eq!(
        kinds(&d.edges.added),
        ["writes function:public.fn_log() -> table:public.audit"]
    );
    assert_eq!(d.edges.added[0]["op"], "insert");
    assert_eq!(d.tables.added, ["public.audit"]);
    assert!(d.tables.removed.is_empty());
}

#[test]
fn an_added_trigger_is_added_at_its_place_and_shifts_no_one_else() {
    // `0_first` sorts before every other BEFORE trigger: all later positions shift, which is
    // not a move and not an edge change.
    let head = {
        let mut h = base();
        h.push(trig("0_first", Timing::Before, "fn_code"));
        h
    };
    let d = insert(base(), head);
    only(&d, &["firing_order", "edges.added", "hazards"]);
    assert_eq!(d.firing_order.len(), 1);
    let o = &d.firing_order[0];
    assert_eq!(o.table, "public.t");
    assert_eq!(
        o.added,
        [Place {
            trigger: "0_first".into(),
            order: 1,
            phase: "before_row".into()
        }]
    );
    assert!(o.removed.is_empty() && o.moved.is_empty(), "{o:#?}");
    assert_eq!(
        kinds(&d.edges.added),
        [
            "fires table:public.t -> trigger:public.t.\"0_first\"",
            "calls trigger:public.t.\"0_first\" -> function:public.fn_code()"
        ]
    );
    // fn_code now fires twice per INSERT: that hazard appears; the read-before-assigned one
    // stays although its positions moved.
    assert_eq!(d.hazards.added.len(), 1, "{:#?}", d.hazards);
    assert!(matches!(
        d.hazards.added[0],
        Hazard::RoutineFiredTwice { .. }
    ));
    assert!(d.hazards.removed.is_empty());
}

#[test]
fn a_rename_that_reorders_is_a_rename_with_both_positions_and_the_hazard_goes() {
    // b_code renamed to 0_code: it now assigns NEW.code before a_gate reads it.
    let mut renamed = trig_def("0_code", Timing::Before, "fn_code");
    renamed.function = "public.fn_code()".into();
    let head = replace(
        without_key(base(), "public.t.b_code"),
        trigger_object(renamed),
    );
    let d = insert(base(), head);
    only(
        &d,
        &["firing_order", "edges.added", "edges.removed", "hazards"],
    );
    let o = &d.firing_order[0];
    assert_eq!(
        o.renamed,
        [Rename {
            base_trigger: "b_code".into(),
            head_trigger: "0_code".into(),
            base_order: 2,
            head_order: 1,
            phase: "before_row".into(),
        }]
    );
    assert!(o.added.is_empty() && o.removed.is_empty(), "{o:#?}");
    // a_gate went from #1 to #2 only because 0_code now sorts first: not a move.
    assert!(o.moved.is_empty(), "{o:#?}");
    // The edges are by name: the old trigger's go, the new one's come.
    assert_eq!(
        kinds(&d.edges.removed),
        [
            "fires table:public.t -> trigger:public.t.b_code",
            "calls trigger:public.t.b_code -> function:public.fn_code()"
        ]
    );
    assert_eq!(d.hazards.removed.len(), 1);
    assert!(matches!(
        d.hazards.removed[0],
        Hazard::ReadBeforeAssigned { .. }
    ));
    assert!(d.hazards.added.is_empty());
}

#[test]
fn a_trigger_replaced_by_another_calling_a_different_function_is_no_rename() {
    let head = replace(
        without_key(base(), "public.t.b_code"),
        trig("0_code", Timing::Before, "fn_gate"),
    );
    let d = insert(base(), head);
    let o = &d.firing_order[0];
    assert!(o.renamed.is_empty(), "{o:#?}");
    assert_eq!(o.removed[0].trigger, "b_code");
    assert_eq!(o.added[0].trigger, "0_code");
}

#[test]
fn a_when_edited_in_place_is_a_change_of_one_edge() {
    let mut t = trig_def("m_log", Timing::After, "fn_log");
    t.when = Some("(new.code IS NOT NULL)".into());
    let head = replace(base(), trigger_object(t));
    let d = insert(base(), head);
    // The WHEN makes the edge conditional, and what it leads to is reached conditionally.
    only(&d, &["edges.changed", "nodes_changed"]);
    assert!(d
        .nodes_changed
        .iter()
        .all(|n| n.changes.keys().all(|k| k == "reached")));
    let c = &d.edges.changed[0];
    assert_eq!(c.identity["kind"], "fires");
    assert_eq!(c.identity["to"], "trigger:public.t.m_log");
    assert_eq!(
        c.changes.keys().collect::<Vec<_>>(),
        ["certainty", "guard", "when"]
    );
    assert_eq!(c.changes["when"].base, Value::Null);
    assert_eq!(c.changes["when"].head, "(new.code IS NOT NULL)");
}

#[test]
fn a_trigger_that_changes_phase_is_moved() {
    // m_log from AFTER to BEFORE: it now fires first among... its phase says where.
    let head = replace(base(), trig("m_log", Timing::Before, "fn_log"));
    let d = insert(base(), head);
    let o = &d.firing_order[0];
    assert_eq!(o.moved.len(), 1, "{o:#?}");
    assert_eq!(o.moved[0].trigger, "m_log");
    assert_eq!((o.moved[0].base_order, o.moved[0].head_order), (3, 3));
    assert_eq!(o.moved[0].base_phase, "after_row");
    assert_eq!(o.moved[0].head_phase, "before_row");
    let fires = &d.edges.changed[0];
    assert!(fires.changes.contains_key("phase") && fires.changes.contains_key("timing"));
}

#[test]
fn a_swap_of_relative_order_reports_one_move() {
    // Two triggers swap places by the phase of a third: a_gate AFTER, so b_code now fires
    // before it; the longest common order keeps the others still.
    let head = replace(base(), trig("a_gate", Timing::After, "fn_gate"));
    let d = insert(base(), head);
    let o = &d.firing_order[0];
    assert_eq!(
        o.moved
            .iter()
            .map(|m| m.trigger.as_str())
            .collect::<Vec<_>>(),
        ["a_gate"]
    );
    assert_eq!((o.moved[0].base_order, o.moved[0].head_order), (1, 2));
}

#[test]
fn a_change_the_fan_out_does_not_reach_is_no_difference() {
    let mut head = base();
    head.push(plpgsql(
        "fn_other",
        "BEGIN INSERT INTO audit VALUES (1); RETURN NULL; END",
    ));
    let mut t = trig_def("x_other", Timing::After, "fn_other");
    t.table = "public.other".into();
    head.push(trigger_object(t));
    let d = gdiff(base(), head, &Event::ALL);
    assert!(!d.changed, "{d:#?}");
}

#[test]
fn dynamic_sql_and_a_computed_channel_are_opaque_edges_added() {
    let head = replace(
        base(),
        plpgsql(
            "fn_log",
            "BEGIN INSERT INTO log VALUES (1); PERFORM pg_notify('evt', 'x'); EXECUTE 'DELETE FROM ' || TG_ARGV[0]; PERFORM pg_notify(TG_TABLE_NAME, 'y'); RETURN NULL; END",
        ),
    );
    let d = insert(base(), head);
    only(&d, &["edges.added", "opaque", "channels"]);
    assert_eq!(d.opaque.added.len(), 2, "{:#?}", d.opaque);
    assert!(d.opaque.added.iter().any(|e| e["kind"] == "dynamic"));
    assert!(d.opaque.added.iter().any(|e| e["to"] == "channel:?"));
    assert_eq!(d.channels.added, ["?"]);
}

#[test]
fn a_channel_renamed_is_one_removed_and_one_added() {
    let head = replace(
        base(),
        plpgsql(
            "fn_log",
            "BEGIN INSERT INTO log VALUES (1); PERFORM pg_notify('evt2', 'x'); RETURN NULL; END",
        ),
    );
    let d = insert(base(), head);
    only(&d, &["edges.added", "edges.removed", "channels"]);
    assert_eq!(d.channels.added, ["evt2"]);
    assert_eq!(d.channels.removed, ["evt"]);
}

#[test]
fn a_dropped_function_changes_its_node_and_loses_its_edges() {
    let head = without_key(base(), "public.fn_log()");
    let d = insert(base(), head);
    only(
        &d,
        &["edges.removed", "tables", "channels", "nodes_changed"],
    );
    assert_eq!(d.tables.removed, ["public.log"]);
    let n = &d.nodes_changed[0];
    assert_eq!(n.identity["id"], "function:public.fn_log()");
    assert_eq!(n.changes["missing"].head, true);
}

#[test]
fn a_table_on_one_side_only_is_reported_and_counts_as_a_difference() {
    let mut head = base();
    head.retain(|o| o.key.name() != "public.t" && !o.key.name().starts_with("public.t."));
    let d = gdiff(base(), head, &[Event::Insert]);
    assert!(d.changed && d.base_has_table && !d.head_has_table);
    let e = &d.events[0];
    assert!(e.changed);
    assert_eq!(e.firing_order[0].removed.len(), 3);
    assert!(e.edges.added.is_empty() && !e.edges.removed.is_empty());
}

#[test]
fn a_table_in_neither_snapshot_is_an_error() {
    let (b, h) = (snapshot_with(base()), snapshot_with(base()));
    let err = graph_diff(
        &b,
        &h,
        "nosuch",
        &[Event::Insert],
        None,
        &WalkOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GraphDiffError::UnknownTable { .. }), "{err}");
    assert!(err.to_string().contains("either snapshot"), "{err}");
}

#[test]
fn a_bare_name_meaning_different_tables_is_an_error() {
    let b = snapshot_with(vec![table("public", "x")]);
    let h = snapshot_with(vec![table("gov", "x")]);
    let err = graph_diff(&b, &h, "x", &[Event::Insert], None, &WalkOptions::default()).unwrap_err();
    assert!(
        matches!(err, GraphDiffError::DifferentTables { .. }),
        "{err}"
    );
}

#[test]
fn the_diff_is_deterministic() {
    let head = {
        let mut h = replace(base(), trig("a_gate", Timing::After, "fn_gate"));
        h.push(trig("0_first", Timing::Before, "fn_log"));
        h
    };
    let a = serde_json::to_string(&gdiff(base(), head.clone(), &Event::ALL)).unwrap();
    for _ in 0..5 {
        assert_eq!(
            a,
            serde_json::to_string(&gdiff(base(), head.clone(), &Event::ALL)).unwrap()
        );
    }
}
