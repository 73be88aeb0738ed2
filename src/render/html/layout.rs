//! Where the fan-out picture's boxes and lines go. A [`Layouter`] turns a graph of sized
//! boxes (opaque indices, never names) into coordinates; the SVG is drawn from those by
//! [`super::svg`] whichever layouter ran, so escaping stays in one place.
//!
//! [`Builtin`] is a small Sugiyama-style layered layout in pure Rust, so a page never
//! depends on a tool the user lacks: cycles broken by a depth-first search, longest-path
//! layering left to right, long edges split by dummy points, a few barycentre sweeps to
//! order each layer by its left neighbours (ties keep the input order, so a table's
//! triggers stay in firing order: they all hang off the one table), then columns and rows. The Graphviz layouter (`crate::graphviz`) implements the
//! same trait; the command line chooses one and hands it to the renderer.

use std::collections::BTreeMap;
use std::fmt::Debug;

/// Boxes (width, height in px) and directed edges between them, by index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayoutGraph {
    pub nodes: Vec<(f64, f64)>,
    pub edges: Vec<(usize, usize)>,
}

/// Where everything goes: each node's centre, each edge's points (first at its source,
/// last at its target; 3k+1 points are a cubic Bézier path when `curved`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<(f64, f64)>,
    pub edges: Vec<Vec<(f64, f64)>>,
    /// Edge points are Bézier control points (Graphviz splines), not a polyline.
    pub curved: bool,
}

/// Lays out a graph. Must be deterministic: the same graph gives the same layout.
pub trait Layouter: Debug + Sync {
    /// `graphviz`, `builtin`: said on the page under the picture.
    fn name(&self) -> &'static str;
    /// The layout, or why there is none (the renderer then falls back to [`Builtin`]).
    fn layout(&self, g: &LayoutGraph) -> Result<Layout, String>;
}

/// The built-in layered layout.
#[derive(Clone, Copy, Debug, Default)]
pub struct Builtin;

/// The one built-in layouter, for callers that need a `&'static dyn Layouter`.
pub static BUILTIN: Builtin = Builtin;

/// Room between columns for the edges' labels (`INSERT #10 AFTER ROW`).
const LAYER_GAP: f64 = 150.0;
const ROW_GAP: f64 = 14.0;
const MARGIN: f64 = 12.0;
/// Left-to-right sweeps only: a right-to-left one would pull a table's triggers out of
/// firing order towards the routines they call.
const SWEEPS: usize = 3;

impl Layouter for Builtin {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn layout(&self, g: &LayoutGraph) -> Result<Layout, String> {
        Ok(layered(g))
    }
}

/// One position in a layer: a real node or a dummy point of a long edge.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Node(usize),
    Dummy(usize),
}

fn layered(g: &LayoutGraph) -> Layout {
    let n = g.nodes.len();
    if n == 0 {
        return Layout {
            width: 2.0 * MARGIN,
            height: 2.0 * MARGIN,
            ..Layout::default()
        };
    }
    // 1. Break cycles: edges that close a cycle in a DFS (input order) are laid reversed.
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(a, b)) in g.edges.iter().enumerate() {
        if a != b && a < n && b < n {
            out[a].push((b, i));
        }
    }
    let mut reversed = vec![false; g.edges.len()];
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&(w, ei)) = out[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[ei] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<(usize, usize, usize)> = g
        .edges
        .iter()
        .enumerate()
        .filter(|(_, &(a, b))| a != b && a < n && b < n)
        .map(|(i, &(a, b))| if reversed[i] { (b, a, i) } else { (a, b, i) })
        .collect();
    // 2. Longest-path layering: a node sits one layer right of its furthest predecessor.
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b, _) in &dag {
        indeg[b] += 1;
        succ[a].push(b);
    }
    let mut layer = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).rev().filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = ready.pop() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                ready.push(w);
            }
        }
    }
    let layers_n = layer.iter().max().copied().unwrap_or(0) + 1;
    // 3. Layers in input order, long edges split into dummies (one per layer crossed).
    let mut layers: Vec<Vec<Slot>> = vec![Vec::new(); layers_n];
    for v in 0..n {
        layers[layer[v]].push(Slot::Node(v));
    }
    // chain[e]: the slots an edge passes, source to target (in DAG direction).
    let mut chains: Vec<(usize, Vec<Slot>)> = Vec::new();
    let mut dummies = 0usize;
    for &(a, b, ei) in &dag {
        let mut chain = vec![Slot::Node(a)];
        for crossed in &mut layers[layer[a] + 1..layer[b]] {
            let d = Slot::Dummy(dummies);
            dummies += 1;
            crossed.push(d);
            chain.push(d);
        }
        chain.push(Slot::Node(b));
        chains.push((ei, chain));
    }
    // Neighbours of each slot in the layer left of it and right of it.
    let mut left: BTreeMap<SlotKey, Vec<Slot>> = BTreeMap::new();
    let mut right: BTreeMap<SlotKey, Vec<Slot>> = BTreeMap::new();
    for (_, chain) in &chains {
        for w in chain.windows(2) {
            right.entry(key(w[0])).or_default().push(w[1]);
            left.entry(key(w[1])).or_default().push(w[0]);
        }
    }
    // 4. Barycentre sweeps; a stable sort keeps ties in their order.
    for _ in 0..SWEEPS {
        let forward = true;
        let order: Vec<usize> = if forward {
            (1..layers_n).collect()
        } else {
            (0..layers_n.saturating_sub(1)).rev().collect()
        };
        for l in order {
            let neighbour_layer = if forward { l - 1 } else { l + 1 };
            let pos: BTreeMap<SlotKey, usize> = layers[neighbour_layer]
                .iter()
                .enumerate()
                .map(|(i, s)| (key(*s), i))
                .collect();
            let adj = if forward { &left } else { &right };
            let mut keyed: Vec<(f64, usize, Slot)> = layers[l]
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let ps: Vec<usize> = adj
                        .get(&key(*s))
                        .map(|v| {
                            v.iter()
                                .filter_map(|x| pos.get(&key(*x)).copied())
                                .collect()
                        })
                        .unwrap_or_default();
                    let bary = if ps.is_empty() {
                        i as f64
                    } else {
                        ps.iter().sum::<usize>() as f64 / ps.len() as f64
                    };
                    (bary, i, *s)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[l] = keyed.into_iter().map(|(_, _, s)| s).collect();
        }
    }
    // 5. Coordinates: columns as wide as their widest box, rows stacked and centred.
    let size = |s: Slot| match s {
        Slot::Node(v) => g.nodes[v],
        Slot::Dummy(_) => (0.0, 8.0),
    };
    let mut x = MARGIN;
    let mut col_x = Vec::with_capacity(layers_n);
    for l in &layers {
        let w = l.iter().map(|s| size(*s).0).fold(0.0, f64::max);
        col_x.push(x + w / 2.0);
        x += w + LAYER_GAP;
    }
    let width = x - LAYER_GAP + MARGIN;
    let heights: Vec<f64> = layers
        .iter()
        .map(|l| {
            l.iter().map(|s| size(*s).1).sum::<f64>() + ROW_GAP * l.len().saturating_sub(1) as f64
        })
        .collect();
    let tallest = heights.iter().copied().fold(0.0, f64::max);
    let height = tallest + 2.0 * MARGIN;
    let mut centre: BTreeMap<SlotKey, (f64, f64)> = BTreeMap::new();
    for (li, l) in layers.iter().enumerate() {
        let mut y = MARGIN + (tallest - heights[li]) / 2.0;
        for s in l {
            let h = size(*s).1;
            centre.insert(key(*s), (col_x[li], y + h / 2.0));
            y += h + ROW_GAP;
        }
    }
    let nodes: Vec<(f64, f64)> = (0..n).map(|v| centre[&key(Slot::Node(v))]).collect();
    // 6. Edges: from the source's right side through the dummies to the target's left.
    let mut edges: Vec<Vec<(f64, f64)>> = vec![Vec::new(); g.edges.len()];
    for (ei, chain) in chains {
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(chain.len());
        let last = chain.len() - 1;
        for (i, s) in chain.iter().enumerate() {
            let (cx, cy) = centre[&key(*s)];
            let (w, _) = size(*s);
            let px = if i == 0 {
                cx + w / 2.0
            } else if i == last {
                cx - w / 2.0
            } else {
                cx
            };
            pts.push((px, cy));
        }
        if reversed[ei] {
            pts.reverse();
        }
        edges[ei] = pts;
    }
    // Self-loops: a small loop over the box.
    for (ei, &(a, b)) in g.edges.iter().enumerate() {
        if a == b && a < n {
            let (cx, cy) = nodes[a];
            let (w, h) = g.nodes[a];
            let top = cy - h / 2.0;
            edges[ei] = vec![
                (cx + w / 4.0, top),
                (cx + w / 4.0, top - 10.0),
                (cx - w / 4.0, top - 10.0),
                (cx - w / 4.0, top),
            ];
        }
    }
    Layout {
        width,
        height: height + 10.0,
        nodes: nodes.into_iter().map(|(x, y)| (x, y + 10.0)).collect(),
        edges: edges
            .into_iter()
            .map(|e| e.into_iter().map(|(x, y)| (x, y + 10.0)).collect())
            .collect(),
        curved: false,
    }
}

/// A slot as a map key (dummies after nodes).
type SlotKey = (u8, usize);

fn key(s: Slot) -> SlotKey {
    match s {
        Slot::Node(v) => (0, v),
        Slot::Dummy(d) => (1, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(usize, usize)]) -> LayoutGraph {
        LayoutGraph {
            nodes: vec![(60.0, 20.0); n],
            edges: edges.to_vec(),
        }
    }

    #[test]
    fn layers_go_left_to_right_and_ties_keep_input_order() {
        // 0 → 1, 2, 3 (a table's triggers in firing order), 1 → 4, 3 → 4.
        let l = Builtin
            .layout(&graph(5, &[(0, 1), (0, 2), (0, 3), (1, 4), (3, 4)]))
            .unwrap();
        assert!(l.nodes[0].0 < l.nodes[1].0);
        assert!(l.nodes[1].0 < l.nodes[4].0);
        assert_eq!(l.nodes[1].0, l.nodes[2].0);
        assert!(l.nodes[1].1 < l.nodes[2].1 && l.nodes[2].1 < l.nodes[3].1);
        for (e, &(a, b)) in l
            .edges
            .iter()
            .zip(&[(0, 1), (0, 2), (0, 3), (1, 4), (3, 4)])
        {
            assert_eq!(e.first().unwrap().0, l.nodes[a].0 + 30.0);
            assert_eq!(e.last().unwrap().0, l.nodes[b].0 - 30.0);
        }
    }

    #[test]
    fn cycles_long_edges_and_self_loops_are_laid_out() {
        let g = graph(3, &[(0, 1), (1, 2), (2, 0), (0, 2), (1, 1)]);
        let l = Builtin.layout(&g).unwrap();
        assert_eq!(l.nodes.len(), 3);
        assert!(l.edges.iter().all(|e| e.len() >= 2), "{l:?}");
        // 0 → 2 crosses the middle layer: a dummy point between.
        assert_eq!(l.edges[3].len(), 3);
        // The closing edge 2 → 0 is drawn from 2 to 0.
        assert_eq!(l.edges[2].first().unwrap().0, l.nodes[2].0 - 30.0);
        assert_eq!(Builtin.layout(&g).unwrap(), l, "deterministic");
        assert!(l.width > 0.0 && l.height > 0.0);
    }
}
