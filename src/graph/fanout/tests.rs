//! Tests of the fan-out walk over small hand-made snapshots.

use super::*;
use crate::graph::firing::tests::trigger;
use crate::graph::firing::{Event, Timing};
use crate::graph::testkit::{foreign_key, plpgsql, snapshot_with, table, trigger_object};
use crate::model::CatalogObject;

fn trig(name: &str, timing: Timing, events: &[Event], function: &str) -> CatalogObject {
    let mut t = trigger(name, timing, events);
    t.function = format!("public.{function}()");
    trigger_object(t)
}

/// `public.t` with a reader that sorts before the auto-code writer, a function fired
/// twice that UPDATEs its own table, and a child with a cascading FK.
fn base() -> Vec<CatalogObject> {
    vec![
        table("public", "t"),
        table("public", "child"),
        table("public", "log"),
        plpgsql(
            "fn_gate",
            "BEGIN IF NEW.code IS NULL THEN RAISE EXCEPTION 'no code'; END IF; RETURN NEW; END",
        ),
        plpgsql(
            "fn_autocode",
            "BEGIN NEW.code := 'X-' || NEW.id; RETURN NEW; END",
        ),
        plpgsql(
            "fn_touch",
            "BEGIN UPDATE t SET touched = now() WHERE id = NEW.id; RETURN NULL; END",
        ),
        plpgsql(
            "fn_log",
            "BEGIN INSERT INTO log VALUES (1); PERFORM pg_notify('evt', 'x'); RETURN NULL; END",
        ),
        trig("a_gate", Timing::Before, &[Event::Insert], "fn_gate"),
        trig(
            "b_autocode",
            Timing::Before,
            &[Event::Insert],
            "fn_autocode",
        ),
        trig("c_touch", Timing::After, &[Event::Insert], "fn_touch"),
        trig("d_touch_again", Timing::After, &[Event::Insert], "fn_touch"),
        trig("e_child_delete", Timing::After, &[Event::Delete], "fn_log"),
        foreign_key("child", "t_id", "t", "cascade"),
    ]
}

fn walk(
    objects: Vec<CatalogObject>,
    table: &str,
    event: Event,
    columns: Option<Vec<String>>,
    depth: Option<usize>,
) -> Fanout {
    let snap = snapshot_with(objects);
    table_fanout(
        &snap,
        table,
        event,
        columns,
        &WalkOptions {
            depth,
            ..WalkOptions::default()
        },
    )
    .unwrap()
}

fn has_edge(f: &Fanout, from: &str, to: &str, kind: EdgeKind) -> bool {
    f.graph
        .edges()
        .any(|e| e.from == from && e.to == to && e.kind == kind)
}

#[test]
fn updating_its_own_table_after_insert_is_not_a_cycle() {
    let f = walk(base(), "public.t", Event::Insert, None, None);
    assert!(f.cycles.is_empty(), "{:?}", f.cycles);
    assert!(has_edge(
        &f,
        "function:public.fn_touch()",
        "table:public.t",
        EdgeKind::Writes
    ));
    let write = &f.tree.triggers[2].function.as_ref().unwrap().writes[0];
    assert_eq!(write.target.event, Event::Update);
    assert_eq!(
        write.target.columns.as_deref(),
        Some(&["touched".to_string()][..])
    );
}

#[test]
fn inserting_into_its_own_table_after_insert_is_a_cycle() {
    let mut objects = base();
    objects.push(plpgsql(
        "fn_clone",
        "BEGIN INSERT INTO t (code) VALUES (NEW.code || '-copy'); RETURN NULL; END",
    ));
    objects.push(trig("f_clone", Timing::After, &[Event::Insert], "fn_clone"));
    let f = walk(objects, "public.t", Event::Insert, None, None);
    assert_eq!(f.cycles.len(), 1, "{:?}", f.cycles);
    assert_eq!(
        f.cycles[0].path,
        [
            "public.t INSERT",
            "f_clone",
            "public.fn_clone()",
            "public.t INSERT"
        ]
    );
}

#[test]
fn read_before_assigned_and_fired_twice_hazards() {
    let f = walk(base(), "public.t", Event::Insert, None, None);
    assert!(f.hazards.contains(&Hazard::ReadBeforeAssigned {
        table: "public.t".into(),
        event: Event::Insert,
        column: "code".into(),
        reader: "a_gate".into(),
        reader_order: 1,
        writer: "b_autocode".into(),
        writer_order: 2,
    }));
    assert!(f.hazards.iter().any(
        |h| matches!(h, Hazard::RoutineFiredTwice { function, triggers, .. }
        if function == "public.fn_touch()" && triggers == &["c_touch", "d_touch_again"])
    ));

    // Renamed to sort after the writer: no ordering hazard.
    let renamed: Vec<CatalogObject> = base()
        .into_iter()
        .filter(|o| !o.key.as_str().ends_with(".a_gate"))
        .chain([trig("z_gate", Timing::Before, &[Event::Insert], "fn_gate")])
        .collect();
    let f = walk(renamed, "public.t", Event::Insert, None, None);
    assert!(
        !f.hazards
            .iter()
            .any(|h| matches!(h, Hazard::ReadBeforeAssigned { .. })),
        "{:?}",
        f.hazards
    );
}

#[test]
fn update_of_columns_decide_which_triggers_fire() {
    let mut objects = base();
    let mut upd_of = trigger("u_status", Timing::After, &[Event::Update]);
    upd_of.update_columns = vec!["status".into()];
    upd_of.function = "public.fn_log()".into();
    objects.push(trigger_object(upd_of));
    // fn_touch sets only `touched`: u_status must not fire on its UPDATE.
    let f = walk(objects.clone(), "public.t", Event::Insert, None, None);
    let touch = f
        .tree
        .triggers
        .iter()
        .find(|t| t.entry.trigger == "c_touch")
        .unwrap();
    let target = &touch.function.as_ref().unwrap().writes[0].target;
    assert_eq!(target.triggers.len(), 1);
    assert!(target.triggers[0]
        .skipped
        .as_deref()
        .unwrap()
        .contains("UPDATE OF status"));
    // An UPDATE of unknown columns, or of status, fires it.
    let f = walk(objects.clone(), "public.t", Event::Update, None, None);
    assert!(f.firing_order[0].skipped.is_none());
    let f = walk(
        objects,
        "public.t",
        Event::Update,
        Some(vec!["status".into()]),
        None,
    );
    assert!(f.firing_order[0].skipped.is_none());
    assert!(has_edge(
        &f,
        "function:public.fn_log()",
        "channel:evt",
        EdgeKind::Notifies
    ));
}

#[test]
fn delete_cascades_to_the_child_and_fires_its_triggers() {
    let mut objects = base();
    objects.push(trig(
        "g_child_del",
        Timing::Before,
        &[Event::Delete],
        "fn_log",
    ));
    let mut child_trigger = trigger("h_on_child", Timing::After, &[Event::Delete]);
    child_trigger.table = "public.child".into();
    child_trigger.function = "public.fn_log()".into();
    objects.push(trigger_object(child_trigger));
    let f = walk(objects, "public.t", Event::Delete, None, None);
    assert!(has_edge(
        &f,
        "table:public.t",
        "table:public.child",
        EdgeKind::Cascade
    ));
    let c = &f.tree.cascades[0];
    assert_eq!(
        (c.action.as_str(), c.child.event.as_str()),
        ("cascade", "delete")
    );
    assert_eq!(c.child.triggers[0].entry.trigger, "h_on_child");
    // SET NULL becomes an UPDATE of the FK column.
    let objects: Vec<CatalogObject> = base()
        .into_iter()
        .map(|o| {
            if o.kind() == ObjectKind::Constraint {
                foreign_key("child", "t_id", "t", "set_null")
            } else {
                o
            }
        })
        .collect();
    let f = walk(objects, "public.t", Event::Delete, None, None);
    assert_eq!(f.tree.cascades[0].child.event, Event::Update);
    assert_eq!(
        f.tree.cascades[0].child.columns.as_deref(),
        Some(&["t_id".to_string()][..])
    );
}

#[test]
fn depth_bounds_the_walk() {
    let mut objects = base();
    let mut on_log = trigger("on_log", Timing::After, &[Event::Insert]);
    on_log.table = "public.log".into();
    on_log.function = "public.fn_autocode()".into();
    objects.push(trigger_object(on_log));
    objects.push(trig("i_log", Timing::After, &[Event::Insert], "fn_log"));
    let deep = walk(objects.clone(), "public.t", Event::Insert, None, None);
    assert!(!deep.depth_limited);
    assert!(deep.graph.node_by_id("trigger:public.log.on_log").is_some());
    let shallow = walk(objects, "public.t", Event::Insert, None, Some(1));
    assert!(shallow.depth_limited);
    assert!(shallow.graph.node_by_id("table:public.log").is_some());
    assert!(shallow
        .graph
        .node_by_id("trigger:public.log.on_log")
        .is_none());
}

#[test]
fn disabled_and_replica_triggers_are_listed_but_not_followed() {
    let mut objects = base();
    let mut off = trigger("j_off", Timing::After, &[Event::Insert]);
    off.enabled = crate::model::Enabled::Disabled;
    off.function = "public.fn_log()".into();
    objects.push(trigger_object(off));
    let f = walk(objects, "public.t", Event::Insert, None, None);
    let step = f
        .firing_order
        .iter()
        .find(|s| s.entry.trigger == "j_off")
        .unwrap();
    assert_eq!(step.skipped.as_deref(), Some("disabled"));
    assert!(!has_edge(
        &f,
        "function:public.fn_log()",
        "table:public.log",
        EdgeKind::Writes
    ));
}

#[test]
fn resolve_table_accepts_bare_qualified_and_key_forms() {
    let snap = snapshot_with(vec![
        table("public", "t"),
        table("gov", "dup"),
        table("public", "dup"),
    ]);
    assert_eq!(resolve_table(&snap, "t").unwrap(), "public.t");
    assert_eq!(resolve_table(&snap, "table:public.t").unwrap(), "public.t");
    assert_eq!(resolve_table(&snap, "gov.dup").unwrap(), "gov.dup");
    assert_eq!(resolve_table(&snap, "dup").unwrap(), "public.dup");
    assert!(matches!(
        resolve_table(&snap, "nope"),
        Err(GraphError::UnknownTable { .. })
    ));
    assert!(parse_event("DELETE").is_ok());
    assert!(parse_event("select").is_err());
}

#[test]
fn the_whole_database_is_ranked_by_fan_out() {
    let snap = snapshot_with(base());
    let db = crate::graph::database_fanout(&snap, &WalkOptions::default());
    assert_eq!(db.tables[0].table, "public.t");
    assert_eq!(db.tables[0].rank, 1);
    assert!(db.tables[0].triggers >= 5);
    assert!(db.tables[0].channels == 1);
}

/// A routine a WHEN condition calls runs for every row, before the condition decides: it
/// is a node with a `calls` edge from the trigger, its writes are followed, and the
/// whole-database walk reaches what it writes too. (It was left out: only the `NEW` fields
/// a WHEN reads were extracted.)
#[test]
fn routines_called_in_a_when_condition_are_walked() {
    let mut objects = vec![
        table("public", "t"),
        table("public", "audit"),
        plpgsql("fn_noop", "BEGIN RETURN NEW; END"),
        plpgsql(
            "hpred",
            "BEGIN INSERT INTO audit VALUES (1); RETURN true; END",
        ),
    ];
    let mut t = trigger("a_when", Timing::Before, &[Event::Insert]);
    t.function = "public.fn_noop()".into();
    t.when = Some("(public.hpred(new.code) AND lower(new.code) <> ''::text)".into());
    objects.push(trigger_object(t));
    let f = walk(objects.clone(), "public.t", Event::Insert, None, None);
    let edge = f
        .graph
        .edges()
        .find(|e| e.from == "trigger:public.t.a_when" && e.to == "function:public.hpred()")
        .expect("trigger —calls→ the WHEN routine");
    assert_eq!((edge.kind, edge.via), (EdgeKind::Calls, Some("when")));
    let tv = &f.tree.triggers[0];
    assert_eq!(tv.when_calls.len(), 1, "only the user routine, not lower()");
    assert_eq!(tv.when_calls[0].writes[0].target.table, "public.audit");

    let snap = snapshot_with(objects);
    let db = crate::graph::database_fanout(&snap, &WalkOptions::default());
    let t = db.tables.iter().find(|r| r.table == "public.t").unwrap();
    assert_eq!(
        t.tables, 1,
        "public.t reaches public.audit through the WHEN routine"
    );
}

fn edge_of<'a>(f: &'a Fanout, from: &str, to: &str, kind: EdgeKind) -> &'a GraphEdge {
    f.graph
        .edges()
        .find(|e| e.from == from && e.to == to && e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} edge {from} → {to}"))
}

fn reached(f: &Fanout, id: &str) -> Option<Certainty> {
    f.graph.node_by_id(id).and_then(|n| n.reached)
}

use crate::graph::certainty::Certainty;

/// Issue 18: each edge says how sure it is, and a node reached only through a weaker edge
/// is reached that weakly, even when its own edges are `always`.
#[test]
fn certainty_is_per_edge_and_the_weakest_on_a_path_wins() {
    let mut objects = base();
    objects.push(plpgsql(
        "fn_branch",
        "BEGIN IF TG_OP = 'INSERT' THEN INSERT INTO child VALUES (1); END IF; \
         DELETE FROM log WHERE id = NEW.id; RETURN NULL; END",
    ));
    objects.push(plpgsql(
        "fn_child",
        "BEGIN INSERT INTO log VALUES (2); RETURN NULL; END",
    ));
    objects.push(trig(
        "f_branch",
        Timing::After,
        &[Event::Insert],
        "fn_branch",
    ));
    objects.push(trig("g_child", Timing::After, &[Event::Insert], "fn_child"));
    // g_child is on child: rename its table.
    if let Some(crate::model::ObjectDef::Trigger(t)) = objects.last_mut().map(|o| &mut o.def) {
        t.table = "public.child".into();
    }
    let snap = snapshot_with(objects);
    let f = table_fanout(
        &snap,
        "public.t",
        Event::Insert,
        None,
        &WalkOptions::default(),
    )
    .unwrap();
    let w = edge_of(
        &f,
        "function:public.fn_branch()",
        "table:public.child",
        EdgeKind::Writes,
    );
    assert_eq!(w.certainty, Certainty::Conditional);
    assert_eq!(w.guard.as_deref(), Some("IF TG_OP = 'INSERT'"));
    let d = edge_of(
        &f,
        "function:public.fn_branch()",
        "table:public.log",
        EdgeKind::Writes,
    );
    assert_eq!(d.certainty, Certainty::MaybeNoRows);
    assert_eq!(d.guard, None);
    // fn_child's INSERT INTO log is always, but fn_child runs only through child's
    // trigger, which a conditional write reaches.
    let inner = edge_of(
        &f,
        "function:public.fn_child()",
        "table:public.log",
        EdgeKind::Writes,
    );
    assert_eq!(inner.certainty, Certainty::Always, "its own certainty");
    assert_eq!(
        reached(&f, "function:public.fn_child()"),
        Some(Certainty::Conditional),
        "reached through the conditional write"
    );
    assert_eq!(reached(&f, "table:public.t"), Some(Certainty::Always));
    assert_eq!(
        reached(&f, "function:public.fn_touch()"),
        Some(Certainty::Always)
    );
    // log: maybe-no-rows through fn_branch's DELETE, conditional through child: the surest.
    assert_eq!(
        reached(&f, "table:public.log"),
        Some(Certainty::MaybeNoRows)
    );
    // The JSON carries both.
    let v = serde_json::to_value(&f).unwrap();
    let e = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["to"] == "table:public.child")
        .unwrap();
    assert_eq!(e["certainty"], "conditional");
    assert_eq!(e["guard"], "IF TG_OP = 'INSERT'");
    let n = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "function:public.fn_child()")
        .unwrap();
    assert_eq!(n["reached"], "conditional");
}

#[test]
fn when_and_a_before_trigger_that_may_skip_the_row_make_later_fires_conditional() {
    let mut objects = base();
    let mut when = trigger("h_when", Timing::After, &[Event::Insert]);
    when.function = "public.fn_log()".into();
    when.when = Some("(new.code IS NOT NULL)".into());
    objects.push(trigger_object(when));
    objects.push(plpgsql(
        "fn_maybe_null",
        "BEGIN IF NEW.id < 0 THEN RETURN NULL; END IF; RETURN NEW; END",
    ));
    objects.push(trig(
        "c0_skipper",
        Timing::Before,
        &[Event::Insert],
        "fn_maybe_null",
    ));
    let objects_again = objects.clone();
    let f = walk(objects, "public.t", Event::Insert, None, None);
    let fires = |t: &str| {
        edge_of(
            &f,
            "table:public.t",
            &format!("trigger:public.t.{t}"),
            EdgeKind::Fires,
        )
    };
    assert!(fires("a_gate").sure().is_always(), "before the skipper");
    assert!(fires("b_autocode").sure().is_always());
    assert!(
        fires("c0_skipper").sure().is_always(),
        "the skipper itself runs"
    );
    let after = fires("c_touch");
    assert_eq!(after.certainty, Certainty::Conditional);
    assert_eq!(
        after.guard.as_deref(),
        Some("unless BEFORE trigger c0_skipper skips the row")
    );
    let w = fires("h_when");
    assert_eq!(w.certainty, Certainty::Conditional);
    assert_eq!(
        w.guard.as_deref(),
        Some("unless BEFORE trigger c0_skipper skips the row; WHEN (new.code IS NOT NULL)")
    );
    let tv = f
        .tree
        .triggers
        .iter()
        .find(|t| t.entry.trigger == "c_touch")
        .unwrap();
    assert_eq!(tv.unless_skipped_by.as_deref(), Some("c0_skipper"));
    // The whole-database graph draws the same fires edges.
    let db = crate::graph::database_fanout(
        &snapshot_with(objects_again),
        &WalkOptions {
            database_graph: true,
            ..WalkOptions::default()
        },
    );
    let in_db = db
        .graph
        .edges()
        .find(|e| e.to == "trigger:public.t.c_touch" && e.kind == EdgeKind::Fires)
        .unwrap();
    assert_eq!(in_db.sure(), after.sure());
    // fn_gate returns NEW only (its other exit raises): it does not make others conditional.
    let snap_f = walk(base(), "public.t", Event::Insert, None, None);
    assert!(snap_f
        .graph
        .edges()
        .filter(|e| e.kind == EdgeKind::Fires)
        .all(|e| e.sure().is_always()));
}

#[test]
fn cascades_are_maybe_no_rows() {
    let f = walk(base(), "public.t", Event::Delete, None, None);
    let c = edge_of(
        &f,
        "table:public.t",
        "table:public.child",
        EdgeKind::Cascade,
    );
    assert_eq!(c.certainty, Certainty::MaybeNoRows);
}
