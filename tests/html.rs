//! HTML pages (issue 16 items 2 and 3): `graph`, `diff` and `gate --format html` and
//! `check --html`, parsed with an HTML5 parser as a browser would.
//!
//! What is proven: each page is one file whose Content-Security-Policy forbids scripts and
//! fetches; it holds no `<script>`, no element or attribute but the ones driftgate writes,
//! and hostile catalog names (`<script>`, `</svg>`, `]]>`, `&amp;`, quotes, newlines, a
//! right-to-left override, non-ASCII) only as text; the 13 triggers of `dot_tools` are SVG
//! nodes in firing order with the hazard marked, laid out by Graphviz and by the built-in
//! layout; the same input gives the same bytes.

mod support;

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The elements and attributes driftgate writes; anything else came from a name.
const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "p",
    "div",
    "span",
    "ul",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "pre",
    "figure",
    "figcaption",
    "section",
    "svg",
    "defs",
    "marker",
    "path",
    "g",
    "rect",
    "text",
    "tspan",
];
const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "class",
    "role",
    "data-layout",
    "data-order",
    "data-table",
    "xmlns",
    "width",
    "height",
    "viewBox",
    "aria-label",
    "id",
    "refX",
    "refY",
    "markerWidth",
    "markerHeight",
    "orient",
    "d",
    "marker-end",
    "x",
    "y",
    "text-anchor",
    "rx",
    "dy",
];

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn sample_store() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

/// A PATH with everything of this one but Graphviz's `dot`.
fn path_without_dot() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut dirs = vec![dir.path().to_path_buf()];
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        if !d.join("dot").exists() {
            dirs.push(d);
        }
    }
    let joined = std::env::join_paths(dirs).unwrap();
    (dir, joined.to_string_lossy().into_owned())
}

/// Every check that holds for any page: one document, the CSP, no script, no image, and
/// only driftgate's own elements and attributes.
fn parse_page(page: &str) -> Html {
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..80.min(page.len())]
    );
    let doc = Html::parse_document(page);
    let csp: Vec<_> = doc
        .select(&sel("meta[http-equiv=\"Content-Security-Policy\"]"))
        .map(|m| m.value().attr("content").unwrap_or_default().to_string())
        .collect();
    assert_eq!(csp, vec![CSP.to_string()], "one CSP meta");
    for forbidden in [
        "script",
        "img",
        "iframe",
        "object",
        "embed",
        "link",
        "foreignObject",
    ] {
        assert_eq!(doc.select(&sel(forbidden)).count(), 0, "no <{forbidden}>");
    }
    for node in doc.root_element().descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let name = el.value().name();
        assert!(
            ELEMENTS.contains(&name),
            "element <{name}> is not driftgate's"
        );
        for (attr, value) in el.value().attrs() {
            assert!(
                ATTRIBUTES.contains(&attr),
                "attribute {attr}={value:?} on <{name}>"
            );
            assert!(
                !value.contains("url(") || value.starts_with("url(#arrow-"),
                "no reference but the arrow marker: {value:?}"
            );
        }
    }
    doc
}

/// The trigger nodes of `table` in document order: (data-order, text).
fn trigger_nodes(doc: &Html, table: &str) -> Vec<(usize, String)> {
    doc.select(&sel("g.node.trigger"))
        .filter(|g| g.value().attr("data-table") == Some(table))
        .map(|g| {
            assert_eq!(g.value().attr("class"), Some("node trigger"));
            let order = g.value().attr("data-order").unwrap().parse().unwrap();
            let text: String = g.select(&sel("text")).flat_map(|t| t.text()).collect();
            (order, text)
        })
        .collect()
}

fn firing_order(store: &Path, snap: &str) -> Vec<String> {
    let r = driftgate(store, &["graph", snap, "dot_tools", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["firing_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["trigger"].as_str().unwrap().to_string())
        .collect()
}

/// The 13 triggers of dot_tools, in firing order, with the hazard marked.
fn assert_dot_tools(doc: &Html, order: &[String], layout: &str, page: &str) {
    let nodes = trigger_nodes(doc, "public.dot_tools");
    let expected: Vec<(usize, String)> = order
        .iter()
        .enumerate()
        .map(|(i, t)| (i + 1, t.clone()))
        .collect();
    assert_eq!(nodes, expected, "{page} ({layout})");
    assert_eq!(nodes.len(), 13);
    let layouts: Vec<_> = doc
        .select(&sel("figure.fanout"))
        .map(|f| f.value().attr("data-layout").unwrap().to_string())
        .collect();
    assert!(
        !layouts.is_empty() && layouts.iter().all(|l| l == layout),
        "{layouts:?}"
    );
    // The routine fired twice and its two triggers are marked, and the hazard is said.
    let marked: Vec<String> = doc
        .select(&sel("g.node"))
        .filter(|g| g.select(&sel("rect.hazard")).next().is_some())
        .map(|g| g.text().collect())
        .collect();
    assert!(
        marked.contains(&"trg_birth_registry_auto".to_string())
            && marked.contains(&"trg_birth_registry_auto_name".to_string()),
        "{marked:?}"
    );
    let said: Vec<String> = doc
        .select(&sel("li.hazard"))
        .map(|l| l.text().collect())
        .collect();
    assert!(said.iter().any(|h| h.contains("fires 2 times")), "{said:?}");
}

/// Must show 1 on the sample store: graph, diff and gate pages, by Graphviz and built in
/// (asked for, and found lacking on PATH), the same bytes twice.
#[test]
fn sample_pages_draw_dot_tools_in_firing_order_with_and_without_graphviz() {
    let store = sample_store();
    let order = firing_order(&store, "entry");
    assert_eq!(order.len(), 13);
    let (_empty, no_dot) = path_without_dot();
    let pages: [(&str, &[&str], i32); 3] = [
        ("graph", &["graph", "entry", "dot_tools"], 0),
        ("diff", &["diff", "entry", "after-change"], 1),
        ("gate", &["gate", "entry", "after-change"], 1),
    ];
    for (name, args, code) in pages {
        for (layout, path) in [
            ("graphviz", None),
            ("builtin", None),
            ("auto", Some(no_dot.as_str())),
        ] {
            let render = || {
                let mut a = vec!["--layout", layout];
                a.extend(args);
                a.extend(["--format", "html"]);
                let mut c = driftgate_cmd(&store, &a);
                if let Some(p) = path {
                    c.env("PATH", p);
                }
                let r = run_cmd(c);
                assert_eq!(r.code, code, "{name} {layout}: {r:?}");
                r.stdout
            };
            let page = render();
            assert_eq!(page, render(), "{name} {layout}: the same bytes twice");
            let doc = parse_page(&page);
            let used = if layout == "auto" { "builtin" } else { layout };
            assert_dot_tools(&doc, &order, used, name);
            if name == "gate" {
                let banner = doc.select(&sel("div.banner.verdict.block")).next();
                let text: String = banner.expect("a BLOCK banner").text().collect();
                assert!(
                    text.contains("BLOCK") && text.contains("trg_refresh_orphan_dot"),
                    "{text}"
                );
                assert_eq!(doc.select(&sel("table.findings tr.block")).count(), 2);
            }
            if name != "graph" {
                let del: Vec<String> = doc
                    .select(&sel("pre.udiff span.del"))
                    .map(|s| s.text().collect())
                    .collect();
                let add: Vec<String> = doc
                    .select(&sel("pre.udiff span.add"))
                    .map(|s| s.text().collect())
                    .collect();
                assert!(del.iter().any(|l| l.contains("'warning'")), "{del:?}");
                assert!(add.iter().any(|l| l.contains("'blocking'")), "{add:?}");
            }
        }
    }
    // Graphviz asked for and not there is an error, not a silent other layout.
    let mut c = driftgate_cmd(
        &store,
        &[
            "--layout",
            "graphviz",
            "graph",
            "entry",
            "dot_tools",
            "--format",
            "html",
        ],
    );
    c.env("PATH", &no_dot);
    let r = run_cmd(c);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not on PATH"), "{r:?}");
    // A command without a page says so.
    let r = driftgate(&store, &["log", "--format", "html"]);
    assert_eq!(r.code, 2, "{r:?}");
}

// Hostile names, each within PostgreSQL's 63 bytes.
const SCHEMA: &str = "s<script>alert(1)</script>\u{202e}é";
const TABLE: &str = "t</svg><img src=http://127.0.0.1:9/x>]]>&amp;\"'\nz漢";
const TRIGGER: &str = "g<script>document.title='pwned'</script></svg>]]>&amp;\"'\u{202e}";
const FUNCTION: &str = "f<img src=x onerror=alert(1)></svg>\n]]>";
const CHANNEL: &str = "c</svg><script>x</script>";

fn qi(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every text of the page, element by element.
fn texts(doc: &Html) -> Vec<String> {
    doc.root_element()
        .descendants()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect()
}

/// Hostile names on a real server, in every page (graph, diff, gate, check), both layouts.
#[test]
fn hostile_names_are_only_ever_text_in_every_page() {
    for name in [SCHEMA, TABLE, TRIGGER, FUNCTION, CHANNEL] {
        assert!(name.len() <= 63, "{name:?} is {} bytes", name.len());
    }
    let db = fixture_db("html_hostile");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = support::one_target_config(dir.path(), &db.dsn);
    for r in ["base", "history"] {
        let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", r]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = driftgate(
        &store,
        &[
            "baseline",
            "accept",
            "prod",
            "--config",
            config.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let (s, t, f, trg) = (qi(SCHEMA), qi(TABLE), qi(FUNCTION), qi(TRIGGER));
    db.sql(&format!(
        "CREATE SCHEMA {s};
         CREATE TABLE {s}.{t} (id int);
         CREATE FUNCTION {s}.{f}() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN
             PERFORM pg_notify('{CHANNEL}', 'x');
             INSERT INTO public.dot_counts (n) VALUES (1);
             RETURN NEW;
         END $fn$;
         CREATE TRIGGER {trg} AFTER INSERT ON {s}.{t} FOR EACH ROW EXECUTE FUNCTION {s}.{f}();
         ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;"
    ));
    for r in ["head", "history"] {
        let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", r]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let qualified = format!("{s}.{t}");
    let order = firing_order(&store, "head");
    let html = dir.path().join("check.html");
    for layout in ["graphviz", "builtin"] {
        let mut pages = Vec::new();
        for args in [
            vec!["graph", "head", qualified.as_str()],
            vec!["diff", "base", "head"],
            vec!["gate", "base", "head"],
        ] {
            let mut a = vec!["--layout", layout];
            a.extend(&args);
            a.extend(["--format", "html"]);
            let r = driftgate(&store, &a);
            assert!(r.code == 0 || r.code == 1, "{args:?}: {r:?}");
            pages.push((args[0].to_string(), r.stdout));
        }
        let r = driftgate(
            &store,
            &[
                "--layout",
                layout,
                "check",
                "--config",
                config.to_str().unwrap(),
                "--html",
                html.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 1, "BLOCK: {r:?}");
        pages.push(("check".into(), std::fs::read_to_string(&html).unwrap()));
        // `report REF`: the ref's two positions, the second with what changed.
        let report = || {
            let r = driftgate(
                &store,
                &["--layout", layout, "report", "history", "--format", "html"],
            );
            assert_eq!(r.code, 0, "{r:?}");
            r.stdout
        };
        let page = report();
        assert_eq!(page, report(), "report: the same bytes twice");
        let doc = parse_page(&page);
        assert_eq!(doc.select(&sel("table.timeline tbody tr")).count(), 2);
        let changed: String = doc
            .select(&sel("table.changes"))
            .flat_map(|t| t.text())
            .collect();
        let trigger_key = format!("trigger:{qualified}.{trg}");
        assert!(changed.contains(&trigger_key), "{changed}");
        let all = texts(&doc).join("\u{0}");
        assert!(all.contains(&qi(TABLE)), "report: the table's key is text");
        for (what, page) in &pages {
            let doc = parse_page(page);
            // The hostile trigger is a node whose text is exactly its name.
            let nodes = trigger_nodes(&doc, &qualified);
            assert_eq!(
                nodes,
                vec![(1, TRIGGER.to_string())],
                "{what} ({layout}): the hostile trigger's node"
            );
            let all = texts(&doc).join("\u{0}");
            // Tables and routines are shown qualified, quoted as SQL quotes them (a `"`
            // doubled); the trigger and channel by their bare names.
            for name in [qi(SCHEMA), qi(TABLE), qi(FUNCTION), CHANNEL.to_string()] {
                assert!(all.contains(&name), "{what} ({layout}): {name:?} is text");
            }
            assert!(
                !page.contains("<script"),
                "{what}: no script tag in the bytes"
            );
            assert!(!page.contains("<img"), "{what}: no img tag in the bytes");
            if what != "graph" {
                // The changed dot_tools triggers are drawn too: 13, in firing order.
                assert_dot_tools(&doc, &order, layout, what);
            }
        }
    }
}

/// A `dot` that answers nonsense (or dies) is not trusted: the picture falls back to the
/// built-in layout and the caption says why; nothing it wrote reaches the page.
#[test]
fn a_failing_graphviz_falls_back_to_the_builtin_layout_and_says_so() {
    let store = sample_store();
    let order = firing_order(&store, "entry");
    let (fake, no_dot) = path_without_dot();
    for (script, why) in [
        ("echo '<script>alert(1)</script>'", "unexpected line"),
        ("exit 3", "exited with"),
    ] {
        let dot = fake.path().join("dot");
        std::fs::write(&dot, format!("#!/bin/sh\ncat >/dev/null\n{script}\n")).unwrap();
        std::fs::set_permissions(&dot, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut c = driftgate_cmd(
            &store,
            &[
                "--layout",
                "graphviz",
                "graph",
                "entry",
                "dot_tools",
                "--format",
                "html",
            ],
        );
        c.env("PATH", &no_dot);
        let r = run_cmd(c);
        assert_eq!(r.code, 0, "{r:?}");
        let doc = parse_page(&r.stdout);
        assert_dot_tools(&doc, &order, "builtin", "graph");
        let caption: String = doc
            .select(&sel("figcaption"))
            .flat_map(|c| c.text())
            .collect();
        assert!(
            caption.contains("graphviz failed") && caption.contains(why),
            "{caption}"
        );
    }
}
