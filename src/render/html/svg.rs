//! The fan-out graph as inline SVG, drawn by us from a [`Layouter`]'s coordinates whatever
//! laid it out (Graphviz's own SVG is never pasted in), so every name goes through the one
//! escaping of [`Html`].
//!
//! What a browser test (and a reader) can rely on: each trigger is a
//! `<g class="node trigger" data-order="N" data-table="…">` whose text is the trigger's
//! name; the walked table's triggers come first in the document, in firing order; a node a
//! hazard names has a `<rect class="hazard">`; tables, functions, channels, dynamic SQL and
//! rules are `node table`, `node function`, …; edges are `<g class="edge KIND">`.

use super::layout::{Builtin, Layout, LayoutGraph, Layouter};
use super::Html;
use crate::graph::fanout::{EdgeKind, FanoutGraph, GraphNode, Hazard, NodeKind};
use crate::render::graph::{edge_label, hazard_nodes, node_label};
use std::collections::HashMap;

/// Pixels per character of the 11px label font (an average; boxes are a little wide
/// rather than cut).
const CHAR_W: f64 = 6.8;
const LINE_H: f64 = 14.0;
const PAD: f64 = 8.0;

/// The picture of `g`: `root` (a node id) first and bold, its triggers next in firing
/// order, the nodes `hazards` name marked. `figure` numbers the picture on its page (its
/// arrow marker's id). Falls back to [`Builtin`] when the layouter fails, and says so.
pub fn fanout_svg(
    g: &FanoutGraph,
    root: Option<&str>,
    hazards: &[Hazard],
    layouter: &dyn Layouter,
    figure: usize,
    caption: &str,
) -> Html {
    let nodes = ordered_nodes(g, root);
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let labels: Vec<Vec<String>> = nodes.iter().map(|n| label_lines(n)).collect();
    let edges: Vec<_> = g
        .edges()
        .filter(|e| index.contains_key(e.from.as_str()) && index.contains_key(e.to.as_str()))
        .collect();
    let lg = LayoutGraph {
        nodes: labels
            .iter()
            .map(|lines| {
                let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1);
                (
                    (chars as f64 * CHAR_W + 2.0 * PAD).ceil(),
                    lines.len() as f64 * LINE_H + PAD,
                )
            })
            .collect(),
        edges: edges
            .iter()
            .map(|e| (index[e.from.as_str()], index[e.to.as_str()]))
            .collect(),
    };
    let (layout, used, note) = match layouter.layout(&lg) {
        Ok(l) if l.nodes.len() == lg.nodes.len() && l.edges.len() == lg.edges.len() => {
            (l, layouter.name(), None)
        }
        Ok(_) => fallback(&lg, layouter, "its layout did not match the graph"),
        Err(why) => fallback(&lg, layouter, &why),
    };
    let marked = hazard_nodes(g, hazards);
    let order = fire_orders(g);
    let mut h = Html::new();
    h.open("figure", &[("class", "fanout"), ("data-layout", used)]);
    let (w, ht) = (fmt(layout.width), fmt(layout.height));
    let view = format!("0 0 {w} {ht}");
    h.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", &w),
            ("height", &ht),
            ("viewBox", &view),
            ("role", "img"),
            ("aria-label", caption),
        ],
    );
    let marker = format!("arrow-{figure}");
    let marker_ref = format!("url(#{marker})");
    h.open("defs", &[])
        .open(
            "marker",
            &[
                ("id", &marker),
                ("viewBox", "0 0 10 10"),
                ("refX", "10"),
                ("refY", "5"),
                ("markerWidth", "7"),
                ("markerHeight", "7"),
                ("orient", "auto"),
            ],
        )
        .empty("path", &[("d", "M0,0 L10,5 L0,10 z"), ("class", "arrow")])
        .close("marker")
        .close("defs");
    h.open("g", &[("class", "edges")]);
    for (e, pts) in edges.iter().zip(&layout.edges) {
        let mut class = format!("edge {}", e.kind.as_str());
        if e.skipped.is_some() || e.opaque || !e.sure().is_always() {
            class.push_str(" dashed");
        }
        h.open("g", &[("class", &class)]);
        h.empty(
            "path",
            &[
                ("d", &path_d(pts, layout.curved)),
                ("marker-end", &marker_ref),
            ],
        );
        if let Some((x, y)) = label_point(pts, layout.curved) {
            let label = edge_label(e);
            if !label.is_empty() {
                h.el(
                    "text",
                    &[
                        ("x", &fmt(x)),
                        ("y", &fmt(y - 3.0)),
                        ("text-anchor", "middle"),
                    ],
                    &label,
                );
            }
        }
        h.close("g");
    }
    h.close("g");
    h.open("g", &[("class", "nodes")]);
    for (i, n) in nodes.iter().enumerate() {
        let (cx, cy) = layout.nodes[i];
        let (bw, bh) = lg.nodes[i];
        let mut class = format!("node {}", kind_name(n.kind));
        if root == Some(n.id.as_str()) {
            class.push_str(" root");
        }
        if n.missing || n.problem.is_some() || n.kind == NodeKind::Dynamic {
            class.push_str(" dashed");
        }
        let hazard = marked.contains(n.id.as_str());
        if hazard && n.kind != NodeKind::Trigger {
            // Triggers keep exactly `node trigger` (what tests select); every marked node
            // has its `rect.hazard`.
            class.push_str(" hazard-node");
        }
        let order_s = order.get(n.id.as_str()).map(|o| o.to_string());
        let mut attrs: Vec<(&'static str, &str)> = vec![("class", &class)];
        if n.kind == NodeKind::Trigger {
            if let Some(o) = &order_s {
                attrs.push(("data-order", o));
            }
            if let Some(t) = &n.table {
                attrs.push(("data-table", t));
            }
        }
        h.open("g", &attrs);
        let (x, y) = (cx - bw / 2.0, cy - bh / 2.0);
        let rect_class = if hazard { "hazard" } else { "box" };
        h.empty(
            "rect",
            &[
                ("class", rect_class),
                ("x", &fmt(x)),
                ("y", &fmt(y)),
                ("width", &fmt(bw)),
                ("height", &fmt(bh)),
                ("rx", if n.kind == NodeKind::Table { "2" } else { "8" }),
            ],
        );
        let lines = &labels[i];
        let first = cy - (lines.len() as f64 - 1.0) * LINE_H / 2.0 + 4.0;
        h.open(
            "text",
            &[
                ("x", &fmt(cx)),
                ("y", &fmt(first)),
                ("text-anchor", "middle"),
            ],
        );
        for (li, line) in lines.iter().enumerate() {
            if li == 0 {
                h.text(line);
            } else {
                h.el("tspan", &[("x", &fmt(cx)), ("dy", &fmt(LINE_H))], line);
            }
        }
        h.close("text").close("g");
    }
    h.close("g").close("svg");
    let mut cap = format!("{caption} (laid out by {used})");
    if let Some(n) = note {
        cap.push_str(&format!("; {n}"));
    }
    h.el("figcaption", &[], &cap).close("figure");
    h
}

fn fallback(
    lg: &LayoutGraph,
    failed: &dyn Layouter,
    why: &str,
) -> (Layout, &'static str, Option<String>) {
    let l = Builtin
        .layout(lg)
        .expect("the built-in layout does not fail");
    let note = format!(
        "{} failed ({why}), the built-in layout was used",
        failed.name()
    );
    (l, Builtin.name(), Some(note))
}

/// The root first, then its triggers in firing order, then everything else as the walk
/// met it: the order of the document and the layout's tie-break.
fn ordered_nodes<'g>(g: &'g FanoutGraph, root: Option<&str>) -> Vec<&'g GraphNode> {
    let mut first: Vec<(usize, &GraphNode)> = Vec::new();
    if let Some(r) = root {
        for e in g
            .edges()
            .filter(|e| e.from == r && e.kind == EdgeKind::Fires)
        {
            if let Some(n) = g.node_by_id(&e.to) {
                first.push((e.order.unwrap_or(usize::MAX), n));
            }
        }
    }
    first.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    first.dedup_by(|a, b| a.1.id == b.1.id);
    let mut out: Vec<&GraphNode> = Vec::new();
    if let Some(n) = root.and_then(|r| g.node_by_id(r)) {
        out.push(n);
    }
    out.extend(first.into_iter().map(|(_, n)| n));
    for n in g.nodes() {
        if !out.iter().any(|o| o.id == n.id) {
            out.push(n);
        }
    }
    out
}

/// Each trigger's place in its own table's firing order (the lowest, if it fires on
/// several events).
fn fire_orders(g: &FanoutGraph) -> HashMap<&str, usize> {
    let mut m: HashMap<&str, usize> = HashMap::new();
    for e in g.edges().filter(|e| e.kind == EdgeKind::Fires) {
        let on_own_table = g
            .node_by_id(&e.to)
            .and_then(|n| n.table.as_deref())
            .is_some_and(|t| e.from == format!("table:{t}"));
        if let (true, Some(o)) = (on_own_table, e.order) {
            let slot = m.entry(e.to.as_str()).or_insert(o);
            *slot = (*slot).min(o);
        }
    }
    m
}

/// A trigger's box says its name only (its table is `data-table`, its order the edge's
/// label); other nodes as DOT labels them, line by line.
fn label_lines(n: &GraphNode) -> Vec<String> {
    if n.kind == NodeKind::Trigger {
        return vec![n.name.clone()];
    }
    node_label(n).split('\n').map(str::to_string).collect()
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Table => "table",
        NodeKind::Trigger => "trigger",
        NodeKind::Function => "function",
        NodeKind::Channel => "channel",
        NodeKind::Dynamic => "dynamic",
        NodeKind::Rule => "rule",
    }
}

/// Where an edge's label goes: along the last leg of a polyline (edges fanning out of one
/// table part there), mid-spline for Graphviz's curves.
fn label_point(pts: &[(f64, f64)], curved: bool) -> Option<(f64, f64)> {
    let n = pts.len();
    if n < 2 {
        return pts.first().copied();
    }
    let (a, b, t) = if curved {
        (pts[n / 2 - 1], pts[n / 2], 0.5)
    } else {
        (pts[n - 2], pts[n - 1], 0.55)
    };
    Some((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t))
}

/// An SVG path: a polyline, or Bézier segments (3k+1 points) for Graphviz splines.
fn path_d(pts: &[(f64, f64)], curved: bool) -> String {
    let mut d = String::new();
    for (i, (x, y)) in pts.iter().enumerate() {
        let cmd = match (i, curved) {
            (0, _) => "M",
            (_, true) if i % 3 == 1 => " C",
            (_, true) => " ",
            (_, false) => " L",
        };
        d.push_str(&format!("{cmd}{},{}", fmt(*x), fmt(*y)));
    }
    d
}

/// A coordinate with at most one decimal, the same bytes on every machine.
pub(crate) fn fmt(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}
