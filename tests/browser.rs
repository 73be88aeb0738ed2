//! The HTML pages in a real browser (issue 16 item 7): headless Chromium opens each page from
//! a `file://` URL and the test reads the DOM after load, the network log and a screenshot.
//!
//! First the harness proves it can see what it must catch: a page that puts hostile names in
//! as markup runs their script (the title changes) and fetches their image (the tripwire
//! listener on 127.0.0.1 is hit and the net log shows it), while the same names escaped stay
//! text nodes, the title stays, and the page asks the network for nothing. (A `file://`
//! page's own load does not pass the network stack, so the net log shows every request
//! *of* the page, under its origin, apart from the browser's own, which have none.)

mod support;

use support::browser::{open, Tripwire};
use support::INSERT_ORDER;

/// The hostile names of the issue, with the tripwire's port.
fn hostile(port: u16) -> [String; 3] {
    [
        "<script>document.title='pwned'</script>".to_string(),
        format!("<img src=http://127.0.0.1:{port}/x>"),
        "</svg>".to_string(),
    ]
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <title>driftgate test page</title></head><body><h1>names</h1>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"200\">{body}</svg>\
         <ul>{}</ul></body></html>",
        body.replace("<text", "<li").replace("</text>", "</li>")
    )
}

#[test]
fn the_harness_catches_markup_and_passes_text() {
    let dir = tempfile::tempdir().unwrap();

    // Escaped: text nodes, nothing ran, nothing fetched.
    let wire = Tripwire::new();
    let names = hostile(wire.port);
    let body: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("<text x=\"10\" y=\"{}\">{}</text>", 30 + 40 * i, escape(n)))
        .collect();
    let safe = dir.path().join("safe.html");
    std::fs::write(&safe, page(&body)).unwrap();
    let p = open(&safe, "harness-safe", 800, 400);
    assert_eq!(p.title(), "driftgate test page", "{}", p.dom);
    for n in &names {
        assert!(
            p.dom.contains(
                &n.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            ),
            "{n} is not a text node in the DOM:\n{}",
            p.dom
        );
    }
    assert!(!p.dom.contains("<img"), "{}", p.dom);
    assert_eq!(p.page_requests(), Vec::<&str>::new(), "{:?}", p.requests);
    assert_eq!(wire.hits(), 0, "the hostile <img> was fetched");

    // As markup: the browser runs the script and fetches the image, and the harness sees both.
    let wire = Tripwire::new();
    let names = hostile(wire.port);
    let body: String = names
        .iter()
        .map(|n| format!("<text x=\"10\" y=\"30\">{n}</text>"))
        .collect();
    let unsafe_page = dir.path().join("unsafe.html");
    std::fs::write(&unsafe_page, page(&body)).unwrap();
    let p = open(&unsafe_page, "harness-unsafe", 800, 400);
    assert_eq!(
        p.title(),
        "pwned",
        "the control page's script did not run:\n{}",
        p.dom
    );
    let img = format!("http://127.0.0.1:{}/x", wire.port);
    assert!(
        p.page_requests().contains(&img.as_str()),
        "the net log does not show the image fetched: {:?}",
        p.requests
    );
    assert!(wire.hits() > 0, "the tripwire saw no connection");
}

/// The "fires twice" hazard: one function behind two triggers.
const HAZARD: [&str; 2] = ["trg_birth_registry_auto", "trg_birth_registry_auto_name"];

const SAMPLE_STORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots");

/// A trigger node of the SVG as the browser has it: `<g class="node trigger" data-order=N
/// data-table=T>`, its box (`rect class="box"` or `"hazard"`) and its name as text.
#[derive(Debug)]
struct TriggerNode {
    order: usize,
    table: String,
    hazard: bool,
    name: String,
}

/// The trigger nodes inside the page's `<svg>`s, in document order.
fn trigger_nodes(dom: &str) -> Vec<TriggerNode> {
    let mut nodes = Vec::new();
    let mut rest = dom;
    let open = "<g class=\"node trigger\"";
    while let Some(at) = rest.find(open) {
        let node = &rest[at..];
        let end = node.find("</g>").expect("a node group is closed");
        let node = &node[..end];
        let attr = |name: &str| -> String {
            let key = format!("{name}=\"");
            let i = node.find(&key).map(|i| i + key.len()).unwrap_or(0);
            node[i..].split('"').next().unwrap_or("").to_string()
        };
        let text_at = node.find("<text").expect("a node has its name as text");
        let text = &node[text_at..];
        let name = &text[text.find('>').unwrap() + 1..text.find("</text>").unwrap()];
        nodes.push(TriggerNode {
            order: attr("data-order").parse().unwrap_or(0),
            table: attr("data-table"),
            hazard: node.contains("class=\"hazard\""),
            name: name.to_string(),
        });
        rest = &rest[at + end..];
    }
    assert!(
        dom[..dom.find("<g class=\"node trigger\"").unwrap_or(0)].contains("<svg"),
        "trigger nodes outside an <svg>"
    );
    nodes
}

/// The 13 triggers of dot_tools are SVG nodes in firing order, and the two behind the
/// "fires twice" hazard (and only they) are marked.
fn assert_dot_tools_fanout(dom: &str, what: &str) {
    let nodes: Vec<TriggerNode> = trigger_nodes(dom)
        .into_iter()
        .filter(|n| n.table == "public.dot_tools")
        .collect();
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names, INSERT_ORDER,
        "{what}: trigger nodes in document order"
    );
    let orders: Vec<usize> = nodes.iter().map(|n| n.order).collect();
    assert_eq!(orders, (1..=13).collect::<Vec<_>>(), "{what}: data-order");
    let marked: Vec<&str> = nodes
        .iter()
        .filter(|n| n.hazard)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(marked, HAZARD, "{what}: hazard marks");
    assert!(
        dom.contains("class=\"hazards\"") && dom.contains("fires 2 times"),
        "{what}: the hazard is called out in words too"
    );
}

/// Run driftgate on the sample store and keep its stdout as a page.
fn page_of(dir: &std::path::Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let r = support::driftgate(SAMPLE_STORE, args);
    assert!(
        r.code == 0 || r.code == 1,
        "driftgate {args:?} failed: {r:?}"
    );
    assert!(r.stdout.starts_with("<!DOCTYPE html>"), "not a page: {r:?}");
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, &r.stdout).unwrap();
    path
}

/// `graph entry dot_tools --format html` with either layout: the browser shows the 13
/// triggers in firing order with the hazard marked, and the page fetches nothing.
#[test]
fn graph_page_of_dot_tools_in_the_browser_with_and_without_graphviz() {
    let dir = tempfile::tempdir().unwrap();
    for layout in ["graphviz", "builtin"] {
        let file = page_of(
            dir.path(),
            &format!("graph-{layout}"),
            &[
                "--layout",
                layout,
                "graph",
                "entry",
                "dot_tools",
                "--format",
                "html",
            ],
        );
        let p = open(&file, &format!("graph-{layout}"), 1600, 1000);
        assert!(
            p.dom.contains(&format!("data-layout=\"{layout}\"")),
            "laid out by {layout}"
        );
        assert_dot_tools_fanout(&p.dom, &format!("graph, {layout} layout"));
        assert_eq!(
            p.title(),
            "Trigger fan-out: INSERT on public.dot_tools",
            "{layout}"
        );
        assert_eq!(p.page_requests(), Vec::<&str>::new(), "{:?}", p.requests);
    }
    // No Graphviz on PATH at all: `--layout auto` (the default) falls back to the built-in
    // layout, and the page is as good.
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = support::driftgate_cmd(
        SAMPLE_STORE,
        &["graph", "entry", "dot_tools", "--format", "html"],
    );
    cmd.env("PATH", empty.path());
    let r = support::run_cmd(cmd);
    assert_eq!(r.code, 0, "{r:?}");
    let file = dir.path().join("graph-no-dot.html");
    std::fs::write(&file, &r.stdout).unwrap();
    let p = open(&file, "graph-no-graphviz", 1600, 1000);
    assert!(
        p.dom.contains("data-layout=\"builtin\""),
        "no dot on PATH: built-in layout"
    );
    assert_dot_tools_fanout(&p.dom, "graph without Graphviz on PATH");
    assert_eq!(p.page_requests(), Vec::<&str>::new(), "{:?}", p.requests);
}

/// The `<title>` a page was written with.
fn source_title(html: &str) -> String {
    support::browser::title_text(html)
}

/// `diff` and `gate entry after-change --format html` of the sample store: the changed
/// trigger's table is drawn, so the 13 triggers of dot_tools are there in firing order with
/// the hazard marked; with either layout and with no dot on PATH.
#[test]
fn diff_and_gate_pages_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    for command in ["diff", "gate"] {
        for layout in ["graphviz", "builtin", "no-dot"] {
            let name = format!("{command}-{layout}");
            let args = [
                "--layout",
                if layout == "no-dot" { "auto" } else { layout },
                command,
                "entry",
                "after-change",
                "--format",
                "html",
            ];
            let mut cmd = support::driftgate_cmd(SAMPLE_STORE, &args);
            if layout == "no-dot" {
                cmd.env("PATH", empty.path());
            }
            let r = support::run_cmd(cmd);
            assert_eq!(r.code, 1, "entry -> after-change drifts: {r:?}");
            let file = dir.path().join(format!("{name}.html"));
            std::fs::write(&file, &r.stdout).unwrap();
            let p = open(&file, &name, 1600, 1400);
            let expect = if layout == "graphviz" {
                "graphviz"
            } else {
                "builtin"
            };
            assert!(
                p.dom.contains(&format!("data-layout=\"{expect}\"")),
                "{name}"
            );
            assert_dot_tools_fanout(&p.dom, &name);
            assert_eq!(p.title(), source_title(&r.stdout), "{name}");
            assert!(
                p.title().starts_with(&format!("driftgate {command}")),
                "{name}: {}",
                p.title()
            );
            assert!(
                p.dom.contains("trg_refresh_orphan_dot") && p.dom.contains("fn_birth_gate"),
                "{name}: the changes are listed"
            );
            assert_eq!(
                p.page_requests(),
                Vec::<&str>::new(),
                "{name}: {:?}",
                p.requests
            );
        }
    }
}

/// `check --html FILE` on a real server whose trigger was disabled after its baseline: the
/// page of the run shows the drifted target's fan-out like the others, and a hostile table
/// added beside it stays text.
#[test]
fn check_page_in_the_browser() {
    let wire = Tripwire::new();
    let [script, img, svg] = hostile(wire.port);
    let db = support::fixture_db("browser_check");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = support::one_target_config(dir.path(), &db.dsn);
    let cfg = config.to_str().unwrap();
    let r = support::driftgate(
        &store,
        &["baseline", "accept", "prod", "--config", cfg, "-q"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    db.sql(&format!(
        "ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;
         CREATE TABLE public.{} (id int);
         COMMENT ON TABLE dot_tools IS '{}';
         CREATE TABLE public.{} (id int);",
        q(&svg),
        script.replace('\'', "''"),
        q(&img)
    ));
    let page = dir.path().join("check.html");
    let r = support::driftgate(
        &store,
        &["check", "--config", cfg, "--html", page.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let source = std::fs::read_to_string(&page).unwrap();
    let p = open(&page, "check", 1600, 1400);
    assert_dot_tools_fanout(&p.dom, "check --html");
    assert_eq!(p.title(), source_title(&source));
    assert!(!p.title().contains("pwned"));
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    for n in [&svg, &img] {
        assert!(p.dom.contains(&esc(n)), "{n} is not text in the DOM");
    }
    assert!(
        !p.dom.contains("<script") && !p.dom.contains("<img"),
        "{}",
        p.dom
    );
    assert_eq!(p.page_requests(), Vec::<&str>::new(), "{:?}", p.requests);
    assert_eq!(wire.hits(), 0, "the hostile <img> was fetched");
}

/// A catalog whose names are the hostile strings: in the graph page they are text
/// nodes, the title stays, no script of theirs runs and nothing is fetched, either layout.
#[test]
fn hostile_names_are_text_in_graph_diff_and_gate_pages() {
    let wire = Tripwire::new();
    let [script, img, svg] = hostile(wire.port);
    let db = support::empty_db("browser_hostile");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let r = support::driftgate(
        &store,
        &["snapshot", "--dsn", &db.dsn, "--ref", "empty", "-q"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    db.sql(&format!(
        "CREATE TABLE public.{t} (id int);
         CREATE TABLE public.{img_t} (id int);
         CREATE FUNCTION public.{f}() RETURNS trigger LANGUAGE plpgsql AS
           $$BEGIN INSERT INTO public.{img_t} VALUES (1); RETURN NEW; END$$;
         CREATE TRIGGER {trg} AFTER INSERT ON public.{t} FOR EACH ROW EXECUTE FUNCTION public.{f}();
         CREATE TRIGGER {trg2} BEFORE INSERT ON public.{t} FOR EACH ROW EXECUTE FUNCTION public.{f}();",
        t = q(&svg),
        img_t = q(&img),
        f = q(&format!("{svg}f")),
        trg = q(&script),
        trg2 = q(&img),
    ));
    let r = support::driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "h", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    let table = format!("public.{}", q(&svg));
    let pages: [(&str, Vec<&str>, i32); 3] = [
        ("graph", vec!["graph", "h", &table], 0),
        ("diff", vec!["diff", "empty", "h"], 1),
        ("gate", vec!["gate", "empty", "h"], 1),
    ];
    for ((command, args, exit), layout) in pages
        .iter()
        .flat_map(|p| ["graphviz", "builtin"].map(move |l| (p, l)))
    {
        let mut a = vec!["--layout", layout];
        a.extend(args.iter().copied());
        a.extend(["--format", "html"]);
        let r = support::driftgate(&store, &a);
        assert_eq!(r.code, *exit, "{r:?}");
        let layout = format!("{command}-{layout}");
        let file = dir.path().join(format!("hostile-{layout}.html"));
        std::fs::write(&file, &r.stdout).unwrap();
        let p = open(&file, &format!("hostile-{layout}"), 1400, 900);
        assert!(
            !p.title().contains("pwned") && p.title() == source_title(&r.stdout),
            "{layout}: the title changed (a hostile script ran): {}",
            p.title()
        );
        let nodes = trigger_nodes(&p.dom);
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        // BEFORE fires first: the <img> trigger, then the <script> one; each a text node.
        assert_eq!(names, [esc(&img), esc(&script)], "{layout}: {nodes:?}");
        for n in [&script, &img, &svg] {
            assert!(
                p.dom.contains(&esc(n)),
                "{layout}: {n} is not text in the DOM"
            );
        }
        assert!(
            !p.dom.contains("<script") && !p.dom.contains("<img"),
            "{layout}: a hostile name became an element:\n{}",
            p.dom
        );
        assert_eq!(
            p.page_requests(),
            Vec::<&str>::new(),
            "{layout}: {:?}",
            p.requests
        );
    }
    assert_eq!(wire.hits(), 0, "the hostile <img> was fetched");
}
