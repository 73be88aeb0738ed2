//! The page shell every HTML report shares: doctype, the Content-Security-Policy that
//! forbids every fetch and every script (styles inline only, images only as `data:`), the
//! one stylesheet, a heading, and the verdict banner.

use super::Html;
use crate::gate::Verdict;
use std::io::{self, Write};

/// Forbids everything but the inline stylesheet and `data:` images: no script runs, no
/// request leaves the page, whatever a name smuggled in.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const CSS: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--pass:#1a7f37;--warn:#9a6700;--block:#cf222e;--add:#dafbe1;--del:#ffebe9;--hunk:#ddf4ff}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:1.5em;max-width:90em}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1em;margin:1.2em 0 .4em}
.meta{color:var(--muted);margin:0 0 1em}
.name,td,li,text,h1,h2,h3,.meta{unicode-bidi:isolate}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.6em .8em;overflow:auto;white-space:pre}
table{border-collapse:collapse;margin:.4em 0 1em}th,td{border:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f6f8fa}
tr.added td:first-child,tr.pass td:first-child{color:var(--pass)}tr.removed td:first-child,tr.block td:first-child{color:var(--block)}tr.changed td:first-child,tr.warn td:first-child{color:var(--warn)}
.banner{border-radius:6px;padding:.7em 1em;margin:.5em 0 1em;color:#fff;font-weight:600}
.banner.pass{background:var(--pass)}.banner.warn{background:var(--warn)}.banner.block{background:var(--block)}
.banner ul{margin:.3em 0 0;font-weight:normal}
.udiff span{display:inline-block;min-width:100%}.udiff .add{background:var(--add)}.udiff .del{background:var(--del)}.udiff .hunk{background:var(--hunk);color:var(--muted)}.udiff .file{font-weight:600}
ul.hazards li.hazard,.hazard-text{color:var(--block);font-weight:600}
.note{color:var(--muted);font-style:italic}
figure{margin:.5em 0 1.5em;overflow:auto;border:1px solid var(--line);border-radius:6px;padding:.5em}
figcaption{color:var(--muted);font-size:.9em}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;fill:var(--fg)}
svg .node rect,svg .node ellipse,svg .node polygon{fill:#f6f8fa;stroke:#57606a;stroke-width:1}
svg .node.table rect{fill:#ddf4ff}svg .node.trigger rect{fill:#fff8c5}svg .node.function rect{fill:#fbefff}svg .node.channel rect{fill:#dafbe1}svg .node.dynamic rect,svg .node.rule rect{fill:#eee}
svg .node.root rect{stroke-width:2.5}svg .node.dashed rect{stroke-dasharray:4 3}
svg .node rect.hazard{stroke:var(--block);stroke-width:2.5}svg .node.hazard-node text{fill:var(--block)}
svg .edge path{fill:none;stroke:#57606a;stroke-width:1}svg .edge.dashed path{stroke-dasharray:5 3}svg .edge.cascade path{stroke:var(--block)}
svg .edge text{font-size:9.5px;fill:var(--muted)}
svg .arrow{fill:#57606a}
"#;

/// A whole page: `title` in `<title>` and `<h1>`, `meta` under it, then `body`.
pub fn write_page<W: Write>(out: &mut W, title: &str, meta: &str, body: Html) -> io::Result<()> {
    let mut h = Html::new();
    h.markup("<!DOCTYPE html>\n")
        .open("html", &[("lang", "en")])
        .markup("\n")
        .open("head", &[])
        .empty("meta", &[("charset", "utf-8")])
        .empty(
            "meta",
            &[("http-equiv", "Content-Security-Policy"), ("content", CSP)],
        )
        .empty(
            "meta",
            &[
                ("name", "viewport"),
                ("content", "width=device-width, initial-scale=1"),
            ],
        )
        .empty("meta", &[("name", "generator"), ("content", "driftgate")])
        .el("title", &[], title)
        .open("style", &[])
        .markup(CSS)
        .close("style")
        .close("head")
        .markup("\n")
        .open("body", &[])
        .el("h1", &[], title);
    if !meta.is_empty() {
        h.el("p", &[("class", "meta")], meta);
    }
    h.append(body).close("body").close("html").markup("\n");
    out.write_all(h.finish().as_bytes())
}

/// The CSS class of a verdict (`pass`, `warn`, `block`).
pub fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Block => "block",
    }
}

/// The verdict in its colour, with the reasons under it.
pub fn banner(h: &mut Html, verdict: Verdict, headline: &str, reasons: &[String]) {
    let class = match verdict {
        Verdict::Pass => "banner verdict pass",
        Verdict::Warn => "banner verdict warn",
        Verdict::Block => "banner verdict block",
    };
    h.open("div", &[("class", class), ("role", "status")])
        .el("span", &[("class", "verdict-word")], verdict_word(verdict))
        .text(" — ")
        .text(headline);
    if !reasons.is_empty() {
        h.open("ul", &[]);
        for r in reasons {
            h.el("li", &[], r);
        }
        h.close("ul");
    }
    h.close("div");
}

pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "WARN",
        Verdict::Block => "BLOCK",
    }
}
