//! Graphviz as a [`Layouter`]: `dot -Tplain` computes coordinates only. It is fed DOT with
//! opaque node ids (`n0`, `n1`, …) and box sizes, never a name, and its output is parsed
//! into numbers; the SVG is drawn by `render::html::svg` as for the built-in layout, so
//! nothing Graphviz writes reaches a page. The run is bounded (a timeout, an output cap);
//! when it fails the renderer falls back to the built-in layout and says why.
//!
//! This is the only place that spawns Graphviz; the command line finds it on `PATH` and
//! hands it to the renderers.

use crate::render::html::{Layout, LayoutGraph, Layouter};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Points per inch: DOT sizes and `-Tplain` coordinates are in inches.
const PT: f64 = 72.0;
const MARGIN: f64 = 12.0;

#[derive(Clone, Debug)]
pub struct Graphviz {
    /// The `dot` program.
    pub program: PathBuf,
    /// A run longer than this is killed.
    pub timeout: Duration,
    /// More output than this is refused (a sane layout is a few bytes per node and edge).
    pub max_output: usize,
}

impl Graphviz {
    pub fn new(program: PathBuf) -> Graphviz {
        Graphviz {
            program,
            timeout: Duration::from_secs(20),
            max_output: 16 << 20,
        }
    }

    /// `dot` on `PATH`, if there is one (looked up, not run).
    pub fn on_path() -> Option<Graphviz> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("dot"))
            .find(|p| is_executable(p))
            .map(Graphviz::new)
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The DOT given to Graphviz: only generated ids, sizes and edges.
pub fn dot_input(g: &LayoutGraph) -> String {
    let mut s = String::from(
        "digraph g {\n  rankdir=LR; ordering=out; nodesep=0.2; ranksep=1.9; splines=spline;\n  node [shape=box, fixedsize=true, label=\"\"];\n",
    );
    for (i, (w, h)) in g.nodes.iter().enumerate() {
        let _ = writeln!(s, "  n{i} [width={:.3}, height={:.3}];", w / PT, h / PT);
    }
    for (i, (a, b)) in g.edges.iter().enumerate() {
        let _ = writeln!(s, "  n{a} -> n{b} [id=e{i}];");
    }
    s.push_str("}\n");
    s
}

impl Layouter for Graphviz {
    fn name(&self) -> &'static str {
        "graphviz"
    }

    fn layout(&self, g: &LayoutGraph) -> Result<Layout, String> {
        let plain = self.run(&dot_input(g))?;
        parse_plain(&plain, g)
    }
}

impl Graphviz {
    fn run(&self, input: &str) -> Result<String, String> {
        let mut child = Command::new(&self.program)
            .arg("-Tplain")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let mut stdin = child.stdin.take().expect("piped");
        let input = input.to_string();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let mut stdout = child.stdout.take().expect("piped");
        let cap = self.max_output;
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let r = (&mut stdout).take(cap as u64 + 1).read_to_end(&mut buf);
            r.map(|_| buf)
        });
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if start.elapsed() > self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("no layout within {} s", self.timeout.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(format!("waiting for dot: {e}")),
            }
        };
        let _ = writer.join();
        let out = reader
            .join()
            .map_err(|_| "reading dot's output failed".to_string())?
            .map_err(|e| format!("reading dot's output: {e}"))?;
        if out.len() > cap {
            return Err(format!("dot wrote over {} MiB", cap >> 20));
        }
        if !status.success() {
            return Err(format!("dot exited with {status}"));
        }
        String::from_utf8(out).map_err(|_| "dot's output is not UTF-8".to_string())
    }
}

/// One edge's points.
type Points = Vec<(f64, f64)>;

/// `-Tplain` (`graph S W H`, `node nI X Y W H …`, `edge nA nB K x1 y1 … …`, `stop`) as a
/// layout in pixels, y pointing down. Anything else is an error, not a guess.
pub fn parse_plain(plain: &str, g: &LayoutGraph) -> Result<Layout, String> {
    let bad = |l: &str| {
        format!(
            "unexpected line in dot's output: {:?}",
            l.chars().take(80).collect::<String>()
        )
    };
    let num = |t: Option<&str>, l: &str| -> Result<f64, String> {
        t.and_then(|t| t.parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(l))
    };
    let id = |t: Option<&str>, l: &str| -> Result<usize, String> {
        t.and_then(|t| t.strip_prefix('n'))
            .and_then(|t| t.parse::<usize>().ok())
            .filter(|&i| i < g.nodes.len())
            .ok_or_else(|| bad(l))
    };
    let mut height = None;
    let mut width = 0.0;
    let mut nodes: Vec<Option<(f64, f64)>> = vec![None; g.nodes.len()];
    // Edges in output order, matched back to ours by their ends (parallel edges in order).
    let mut by_ends: std::collections::BTreeMap<(usize, usize), Vec<Points>> = Default::default();
    for line in plain.lines() {
        let mut t = line.split_whitespace();
        match t.next() {
            Some("graph") => {
                let _scale = num(t.next(), line)?;
                width = num(t.next(), line)? * PT;
                height = Some(num(t.next(), line)? * PT);
            }
            Some("node") => {
                let h = height.ok_or_else(|| bad(line))?;
                let i = id(t.next(), line)?;
                let x = num(t.next(), line)? * PT;
                let y = h - num(t.next(), line)? * PT;
                nodes[i] = Some((x + MARGIN, y + MARGIN));
            }
            Some("edge") => {
                let h = height.ok_or_else(|| bad(line))?;
                let a = id(t.next(), line)?;
                let b = id(t.next(), line)?;
                let k = num(t.next(), line)? as usize;
                if k > 100_000 {
                    return Err(bad(line));
                }
                let mut pts = Vec::with_capacity(k);
                for _ in 0..k {
                    let x = num(t.next(), line)? * PT;
                    let y = h - num(t.next(), line)? * PT;
                    pts.push((x + MARGIN, y + MARGIN));
                }
                by_ends.entry((a, b)).or_default().push(pts);
            }
            Some("stop") => break,
            Some(_) => return Err(bad(line)),
            None => {}
        }
    }
    let height = height.ok_or("dot wrote no graph line")?;
    let nodes = nodes
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or("dot left out a node")?;
    for v in by_ends.values_mut() {
        v.reverse();
    }
    let mut edges = Vec::with_capacity(g.edges.len());
    for ends in &g.edges {
        let pts = by_ends
            .get_mut(ends)
            .and_then(Vec::pop)
            .ok_or("dot left out an edge")?;
        edges.push(pts);
    }
    // A spline's points count 3k+1; a self-loop or odd output is drawn straight.
    let curved = edges.iter().all(|e| e.len() >= 4 && e.len() % 3 == 1);
    Ok(Layout {
        width: width + 2.0 * MARGIN,
        height: height + 2.0 * MARGIN,
        nodes,
        edges,
        curved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_becomes_pixels_with_y_down() {
        let g = LayoutGraph {
            nodes: vec![(72.0, 36.0), (72.0, 36.0)],
            edges: vec![(0, 1)],
        };
        let plain = "graph 1 3 1\nnode n0 0.5 0.5 1 0.5 \"\" solid box black lightgrey\nnode n1 2.5 0.5 1 0.5 \"\" solid box black lightgrey\nedge n0 n1 4 1 0.5 1.5 0.5 1.5 0.5 2 0.5 solid black\nstop\n";
        let l = parse_plain(plain, &g).unwrap();
        assert_eq!(
            l.nodes,
            vec![
                (36.0 + MARGIN, 36.0 + MARGIN),
                (180.0 + MARGIN, 36.0 + MARGIN)
            ]
        );
        assert_eq!(l.edges[0].len(), 4);
        assert!(l.curved);
        assert!(parse_plain("graph 1 3 1\nnode x 1 1\n", &g).is_err());
        assert!(parse_plain("graph 1 3 1\nnode n7 1 1\n", &g).is_err());
        assert!(
            parse_plain("graph 1 3 1\nnode n0 1 1\nstop\n", &g).is_err(),
            "n1 missing"
        );
    }

    #[test]
    fn the_input_names_nothing_but_generated_ids() {
        let g = LayoutGraph {
            nodes: vec![(10.0, 10.0); 3],
            edges: vec![(0, 1), (1, 2)],
        };
        let dot = dot_input(&g);
        assert!(dot.contains("n0 -> n1"));
        assert!(!dot.contains("label=\"x"));
    }
}
