//! Tests of the whole-database ranking over small hand-made snapshots.

use super::*;
use crate::graph::firing::tests::trigger;
use crate::graph::firing::{Event, Timing};
use crate::graph::testkit::{plpgsql, snapshot_with, table, trigger_object};
use crate::model::CatalogObject;

fn trig(
    table: &str,
    name: &str,
    timing: Timing,
    events: &[Event],
    function: &str,
) -> CatalogObject {
    let mut t = trigger(name, timing, events);
    t.table = format!("public.{table}");
    t.function = format!("public.{function}()");
    trigger_object(t)
}

fn objects() -> Vec<CatalogObject> {
    vec![
        table("public", "a"),
        table("public", "b"),
        table("public", "c"),
        plpgsql(
            "fn_a",
            "BEGIN INSERT INTO b VALUES (1); PERFORM pg_notify('ch', 'x'); RETURN NULL; END",
        ),
        plpgsql("fn_b", "BEGIN UPDATE c SET v = 1; RETURN NULL; END"),
        plpgsql("fn_c", "BEGIN INSERT INTO b VALUES (2); RETURN NULL; END"),
        trig("a", "ta", Timing::After, &[Event::Insert], "fn_a"),
        trig("b", "tb", Timing::After, &[Event::Insert], "fn_b"),
        trig("c", "tc", Timing::After, &[Event::Update], "fn_c"),
    ]
}

#[test]
fn tables_are_ranked_and_cycles_found_once() {
    let snap = snapshot_with(objects());
    let opts = WalkOptions {
        database_graph: true,
        ..WalkOptions::default()
    };
    let db = database_fanout(&snap, &opts);
    let order: Vec<&str> = db.tables.iter().map(|r| r.table.as_str()).collect();
    assert_eq!(order, ["public.a", "public.b", "public.c"]);
    let a = &db.tables[0];
    assert_eq!((a.triggers, a.tables, a.channels, a.cycles), (3, 2, 1, 1));
    assert_eq!(db.cycles.len(), 1, "{:?}", db.cycles);
    assert_eq!(
        db.cycles[0].path,
        [
            "public.b INSERT",
            "tb",
            "public.fn_b()",
            "public.c UPDATE OF v",
            "tc",
            "public.fn_c()",
            "public.b INSERT"
        ]
    );
    assert!(db.graph.node_by_id("channel:ch").is_some());
}

#[test]
fn depth_bounds_the_counts() {
    let snap = snapshot_with(objects());
    let db = database_fanout(
        &snap,
        &WalkOptions {
            depth: Some(1),
            ..WalkOptions::default()
        },
    );
    let a = db.tables.iter().find(|r| r.table == "public.a").unwrap();
    assert_eq!((a.triggers, a.tables), (1, 1));
}

#[test]
fn agrees_with_the_single_table_walk() {
    let snap = snapshot_with(objects());
    let db = database_fanout(&snap, &WalkOptions::default());
    let single = crate::graph::table_fanout(
        &snap,
        "public.a",
        Event::Insert,
        None,
        &WalkOptions::default(),
    )
    .unwrap();
    let triggers = single
        .graph
        .nodes()
        .filter(|n| n.kind == NodeKind::Trigger)
        .count();
    assert_eq!(db.tables[0].triggers, triggers);
    assert_eq!(db.tables[0].cycles, single.cycles.len());
}

#[test]
fn unreached_unanalysable_routines_are_still_reported() {
    let mut objects = objects();
    objects.push(plpgsql("fn_lonely", "BEGIN INSRT INTO a VALUES (1); END"));
    let snap = snapshot_with(objects);
    let db = database_fanout(&snap, &WalkOptions::default());
    assert_eq!(db.unanalysable.len(), 1, "{:?}", db.unanalysable);
    assert_eq!(db.unanalysable[0].function, "public.fn_lonely()");
}

#[test]
fn the_union_graph_is_only_drawn_when_asked_for() {
    let snap = snapshot_with(objects());
    let bare = database_fanout(&snap, &WalkOptions::default());
    assert_eq!(bare.graph.nodes().count(), 0);
    let drawn = database_fanout(
        &snap,
        &WalkOptions {
            database_graph: true,
            ..WalkOptions::default()
        },
    );
    assert_eq!(bare.tables, drawn.tables);
    assert!(drawn.graph.node_by_id("trigger:public.c.tc").is_some());
}

#[test]
fn routines_calling_each_other_are_a_call_cycle() {
    let mut objects = objects();
    objects.push(plpgsql("ping", "BEGIN PERFORM pong(); END"));
    objects.push(plpgsql("pong", "BEGIN PERFORM ping(); END"));
    let snap = snapshot_with(objects);
    let db = database_fanout(&snap, &WalkOptions::default());
    let calls: Vec<&Cycle> = db.cycles.iter().filter(|c| c.kind == "call").collect();
    assert_eq!(calls.len(), 1, "{:?}", db.cycles);
    assert_eq!(
        calls[0].path,
        ["public.ping()", "public.pong()", "public.ping()"]
    );
}
