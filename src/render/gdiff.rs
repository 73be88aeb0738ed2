//! The graph diff for people (text, one section per event), for programs (JSON, the
//! [`GraphDiff`] as it is), and as a picture of what differs (DOT and Mermaid: added edges
//! green, removed red and dashed, changed orange; unchanged edges are left out so the
//! picture is the review, not the whole graph).
//!
//! Catalog names are escaped the way the single-graph renderers escape them: control
//! characters made visible in text, DOT's quoted IDs, Mermaid entity codes.

use super::graph::{dot_quote, mermaid_text};
use super::table::cell;
use crate::graph::gdiff::{EventDiff, FieldChanges, GraphDiff, OrderDiff};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The two sides: as the command was given them, and the snapshot id when stored.
#[derive(Clone, Debug, Serialize)]
pub struct Sides {
    pub base: SideRef,
    pub head: SideRef,
}

#[derive(Clone, Debug, Serialize)]
pub struct SideRef {
    pub spec: String,
    pub id: Option<String>,
}

impl std::fmt::Display for SideRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) if *id != self.spec => {
                write!(f, "{} ({})", cell(&self.spec), &id[..id.len().min(12)])
            }
            _ => f.write_str(&cell(&self.spec)),
        }
    }
}

#[derive(Serialize)]
struct Doc<'a> {
    #[serde(flatten)]
    sides: &'a Sides,
    #[serde(flatten)]
    diff: &'a GraphDiff,
}

pub fn write_json<W: Write>(out: &mut W, sides: &Sides, d: &GraphDiff) -> io::Result<()> {
    super::write_json_doc(out, "driftgate.graph-diff/v1", &Doc { sides, diff: d })
}

/// `table:public.t` → `public.t`; channels and dynamic SQL keep their prefix, which says
/// what they are.
fn short(id: &str) -> String {
    let s = [
        "table:",
        "trigger:",
        "function:",
        "procedure:",
        "aggregate:",
    ]
    .iter()
    .find_map(|p| id.strip_prefix(p))
    .unwrap_or(id);
    cell(s)
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_string(),
        Value::String(s) => cell(s),
        other => cell(&other.to_string()),
    }
}

fn edge_text(e: &serde_json::Map<String, Value>) -> String {
    let get = |k: &str| e.get(k).filter(|v| !v.is_null());
    let mut s = format!(
        "{} {} → {}",
        get("kind").map(scalar).unwrap_or_default(),
        get("from")
            .and_then(Value::as_str)
            .map(short)
            .unwrap_or_default(),
        get("to")
            .and_then(Value::as_str)
            .map(short)
            .unwrap_or_default()
    );
    let quals: Vec<String> = ["event", "op", "via", "constraint"]
        .iter()
        .filter_map(|k| get(k).map(|v| format!("{k} {}", scalar(v))))
        .collect();
    if !quals.is_empty() {
        s.push_str(&format!(" ({})", quals.join(", ")));
    }
    s
}

fn whole_edge_text(e: &Value) -> String {
    let Some(m) = e.as_object() else {
        return scalar(e);
    };
    let mut s = edge_text(m);
    if let Some(x) = m.get("expression").and_then(Value::as_str) {
        s.push_str(&format!(": {}", cell(x)));
    }
    if let Some(w) = m.get("when").and_then(Value::as_str) {
        s.push_str(&format!(" WHEN {}", cell(w)));
    }
    s
}

fn changes_text(c: &FieldChanges) -> String {
    let fields: Vec<String> = c
        .changes
        .iter()
        .map(|(k, v)| format!("{k}: {} → {}", scalar(&v.base), scalar(&v.head)))
        .collect();
    fields.join("; ")
}

fn phase(v: &Value) -> String {
    v.as_str().unwrap_or("?").replace('_', " ")
}

fn order_lines(lines: &mut Vec<String>, o: &OrderDiff) {
    lines.push(format!(
        "  firing order of {} {}:",
        cell(&o.table),
        o.event.label()
    ));
    for (sign, placed) in [("-", &o.removed), ("+", &o.added)] {
        for p in placed {
            lines.push(format!(
                "    {sign} #{} {} ({})",
                p.order,
                cell(&p.trigger),
                phase(&p.phase)
            ));
        }
    }
    for r in &o.renamed {
        lines.push(format!(
            "    ~ {} renamed {} (#{} → #{}, {})",
            cell(&r.base_trigger),
            cell(&r.head_trigger),
            r.base_order,
            r.head_order,
            phase(&r.phase)
        ));
    }
    for m in &o.moved {
        let ph = if m.base_phase == m.head_phase {
            format!("({})", phase(&m.head_phase))
        } else {
            format!("({} → {})", phase(&m.base_phase), phase(&m.head_phase))
        };
        lines.push(format!(
            "    ~ {} moved #{} → #{} {ph}",
            cell(&m.trigger),
            m.base_order,
            m.head_order
        ));
    }
}

fn event_lines(d: &GraphDiff, e: &EventDiff) -> Vec<String> {
    let event = e.event.map(|e| e.label()).unwrap_or("?");
    let mut lines = Vec::new();
    let columns = e
        .columns
        .as_ref()
        .map(|c| format!(" OF {}", cell(&c.join(", "))))
        .unwrap_or_default();
    lines.push(format!(
        "{event}{columns} on {}: {}",
        cell(&d.table),
        if e.changed {
            "changed"
        } else {
            "no difference"
        }
    ));
    for o in &e.firing_order {
        order_lines(&mut lines, o);
    }
    let ed = &e.edges;
    if !(ed.added.is_empty() && ed.removed.is_empty() && ed.changed.is_empty()) {
        lines.push("  edges:".into());
        for x in &ed.removed {
            lines.push(format!("    - {}", whole_edge_text(x)));
        }
        for x in &ed.added {
            lines.push(format!("    + {}", whole_edge_text(x)));
        }
        for c in &ed.changed {
            lines.push(format!(
                "    ~ {}: {}",
                edge_text(&c.identity),
                changes_text(c)
            ));
        }
    }
    let list = |lines: &mut Vec<String>, title: &str, added: &[String], removed: &[String]| {
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let mut items: Vec<String> = removed.iter().map(|t| format!("- {}", cell(t))).collect();
        items.extend(added.iter().map(|t| format!("+ {}", cell(t))));
        lines.push(format!("  {title}: {}", items.join(", ")));
    };
    list(
        &mut lines,
        "tables reached",
        &e.tables.added,
        &e.tables.removed,
    );
    list(
        &mut lines,
        "channels",
        &e.channels.added,
        &e.channels.removed,
    );
    if !e.opaque.is_empty() {
        lines.push("  opaque edges (dynamic SQL, computed channels):".into());
        for x in &e.opaque.removed {
            lines.push(format!("    - {}", whole_edge_text(x)));
        }
        for x in &e.opaque.added {
            lines.push(format!("    + {}", whole_edge_text(x)));
        }
    }
    for n in &e.nodes_changed {
        let id = n.identity.get("id").map(scalar).unwrap_or_default();
        lines.push(format!("  node {id}: {}", changes_text(n)));
    }
    if !e.hazards.is_empty() {
        lines.push("  hazards:".into());
        for h in &e.hazards.removed {
            lines.push(format!("    - {}", cell(&h.describe())));
        }
        for h in &e.hazards.added {
            lines.push(format!("    + {}", cell(&h.describe())));
        }
    }
    if !e.cycles.is_empty() {
        lines.push("  cycles:".into());
        for (sign, c) in e
            .cycles
            .removed
            .iter()
            .map(|c| ('-', c))
            .chain(e.cycles.added.iter().map(|c| ('+', c)))
        {
            lines.push(format!(
                "    {sign} {} cycle: {}",
                c.kind,
                cell(&c.path.join(" → "))
            ));
        }
    }
    for (sign, u) in e
        .unanalysable
        .removed
        .iter()
        .map(|u| ('-', u))
        .chain(e.unanalysable.added.iter().map(|u| ('+', u)))
    {
        lines.push(format!(
            "  {sign} not analysable: {} ({})",
            cell(&u.function),
            cell(&u.problem)
        ));
    }
    for f in &e.unanalysable_changed {
        lines.push(format!(
            "  ~ {} changed and cannot be analysed: its edges may have changed unseen",
            cell(f)
        ));
    }
    for r in &e.incomplete {
        lines.push(format!("  ! incomplete: {}", cell(r)));
    }
    if e.depth_limited {
        lines.push("  (--depth reached: tables past it are not compared)".into());
    }
    lines
}

pub fn write_text<W: Write>(out: &mut W, sides: &Sides, d: &GraphDiff) -> io::Result<()> {
    writeln!(
        out,
        "Graph diff of {}: {} → {}",
        cell(&d.table),
        sides.base,
        sides.head
    )?;
    match (d.base_has_table, d.head_has_table) {
        (true, false) => writeln!(out, "The table is only in the base snapshot.")?,
        (false, true) => writeln!(out, "The table is only in the head snapshot.")?,
        _ => {}
    }
    for e in &d.events {
        writeln!(out)?;
        for l in event_lines(d, e) {
            writeln!(out, "{l}")?;
        }
    }
    writeln!(out)?;
    let changed = d.events.iter().filter(|e| e.changed).count();
    writeln!(
        out,
        "{}",
        if d.changed {
            format!(
                "Fan-out changed on {changed} of {} event(s).",
                d.events.len()
            )
        } else {
            "No fan-out difference.".to_string()
        }
    )
}

/// Added, removed and changed edges of every event, once each: (from, to, kind) → status.
fn picture(d: &GraphDiff) -> BTreeMap<(String, String, String), &'static str> {
    let mut out = BTreeMap::new();
    let key = |e: &serde_json::Map<String, Value>| {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        (s("from"), s("to"), s("kind"))
    };
    for e in &d.events {
        for x in e.edges.removed.iter().filter_map(Value::as_object) {
            out.insert(key(x), "removed");
        }
        for x in e.edges.added.iter().filter_map(Value::as_object) {
            // An edge removed with some qualifiers and added with others is a change.
            let k = key(x);
            let v = if out.get(&k) == Some(&"removed") {
                "changed"
            } else {
                "added"
            };
            out.insert(k, v);
        }
        for c in &e.edges.changed {
            out.insert(key(&c.identity), "changed");
        }
    }
    out
}

/// `fan-out diff of TABLE: BASE → HEAD`, the DOT label and the Markdown heading.
pub fn title(sides: &Sides, d: &GraphDiff) -> String {
    format!(
        "fan-out diff of {}: {} → {}",
        d.table, sides.base, sides.head
    )
}

pub fn write_dot<W: Write>(out: &mut W, sides: &Sides, d: &GraphDiff) -> io::Result<()> {
    let title = title(sides, d);
    writeln!(out, "digraph gdiff {{")?;
    writeln!(out, "  label={};", dot_quote(&title))?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box];")?;
    for ((from, to, kind), status) in picture(d) {
        let style = match status {
            "added" => "color=green, fontcolor=green",
            "removed" => "color=red, fontcolor=red, style=dashed",
            _ => "color=orange, fontcolor=orange",
        };
        writeln!(
            out,
            "  {} -> {} [label={}, {style}];",
            dot_quote(&from),
            dot_quote(&to),
            dot_quote(&format!("{kind} ({status})"))
        )?;
    }
    writeln!(out, "}}")
}

pub fn write_mermaid<W: Write>(out: &mut W, d: &GraphDiff) -> io::Result<()> {
    writeln!(out, "flowchart LR")?;
    let edges = picture(d);
    // Node IDs are generated, never a name: a name can hold anything.
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (from, to, _) in edges.keys() {
        for n in [from.as_str(), to.as_str()] {
            let next = ids.len();
            ids.entry(n).or_insert(next);
        }
    }
    for (name, i) in &ids {
        writeln!(out, "  n{i}[\"{}\"]", mermaid_text(name))?;
    }
    let mut styles = Vec::new();
    for (i, ((from, to, kind), status)) in edges.iter().enumerate() {
        let arrow = if *status == "removed" { "-.->" } else { "-->" };
        writeln!(
            out,
            "  n{} {arrow}|\"{}\"| n{}",
            ids[from.as_str()],
            mermaid_text(&format!("{kind} ({status})")),
            ids[to.as_str()]
        )?;
        let color = match *status {
            "added" => "green",
            "removed" => "red",
            _ => "orange",
        };
        styles.push(format!("  linkStyle {i} stroke:{color}"));
    }
    for s in styles {
        writeln!(out, "{s}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::firing::tests::trigger;
    use crate::graph::firing::{Event, Timing};
    use crate::graph::gdiff::graph_diff;
    use crate::graph::testkit::{plpgsql, snapshot_with, table, trigger_object};
    use crate::graph::WalkOptions;

    /// A trigger named to break lines and DOT strings, added on the head side.
    fn hostile() -> GraphDiff {
        let objects = || {
            vec![
                table("public", "t"),
                plpgsql("fn_a", "BEGIN RETURN NEW; END"),
            ]
        };
        let mut head = objects();
        let mut t = trigger("x\"\n] -> evil", Timing::Before, &[Event::Insert]);
        t.function = "public.fn_a()".into();
        head.push(trigger_object(t));
        let (b, h) = (snapshot_with(objects()), snapshot_with(head));
        let ev = [crate::graph::firing::Event::Insert];
        graph_diff(&b, &h, "t", &ev, None, &WalkOptions::default()).unwrap()
    }

    fn sides() -> Sides {
        let side = |s: &str| SideRef {
            spec: s.into(),
            id: None,
        };
        Sides {
            base: side("a"),
            head: side("b"),
        }
    }

    #[test]
    fn text_keeps_one_item_per_line_whatever_the_names() {
        let mut out = Vec::new();
        write_text(&mut out, &sides(), &hostile()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let added: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with('+'))
            .collect();
        // The firing-order entry and the fires and calls edges, each on one line.
        assert_eq!(added.len(), 3, "{text}");
        assert!(added.iter().all(|l| l.contains("evil")), "{text}");
        assert!(
            text.contains("Fan-out changed on 1 of 1 event(s)."),
            "{text}"
        );
    }

    #[test]
    fn dot_quotes_names_and_colours_by_change() {
        let mut out = Vec::new();
        write_dot(&mut out, &sides(), &hostile()).unwrap();
        let dot = String::from_utf8(out).unwrap();
        // Every edge line is whole: the name's quote and newline are escaped.
        let edges: Vec<&str> = dot.lines().filter(|l| l.contains(" -> \"")).collect();
        assert_eq!(edges.len(), 2, "{dot}");
        assert!(
            edges
                .iter()
                .all(|l| l.ends_with("color=green, fontcolor=green];")),
            "{dot}"
        );
        assert!(dot.contains("\\\"\\n] -> evil"), "{dot}");
    }

    #[test]
    fn mermaid_nodes_are_generated_ids() {
        let mut out = Vec::new();
        write_mermaid(&mut out, &hostile()).unwrap();
        let m = String::from_utf8(out).unwrap();
        assert!(!m.contains("evil\""), "{m}");
        assert_eq!(m.matches("linkStyle").count(), 2, "{m}");
    }
}
