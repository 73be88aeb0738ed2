//! Trigger fan-out for people (an indented tree with the numbered firing order), for Graphviz
//! (DOT) and for GitHub Markdown (Mermaid), plus the whole-database ranking table.
//!
//! Identifiers come from the catalog and can hold anything a quoted PostgreSQL name can:
//! quotes, newlines, `<script>`, `-->`, `|`, backticks. Each format escapes them its own way:
//! control characters made visible in the tree, backslash escapes inside DOT's quoted IDs,
//! numeric entity codes in Mermaid labels, whose node IDs are generated and never a name.
//!
//! Every format shows how sure an edge is (issue 18): the tree appends the mark
//! (`[IF TG_OP = 'INSERT']`, `(maybe no rows)`), DOT draws the edge dashed with the mark in
//! its label, Mermaid draws it dotted (`-.->`) with the mark; JSON has `certainty`/`guard`.

use super::table::{self, cell};
use crate::graph::body::{DynamicSql, Notify};
use crate::graph::certainty::Sure;
use crate::graph::database::DatabaseFanout;
use crate::graph::fanout::{
    skip_guard, CascadeVisit, EdgeKind, Fanout, FanoutGraph, FunctionVisit, GraphEdge, GraphNode,
    Hazard, NodeKind, RowCallVisit, RuleVisit, TableVisit, TriggerVisit, ViewWrite, VisitOutcome,
    WriteVisit,
};
use crate::graph::firing::{Enabled, Event, Level, Timing};
use crate::graph::FiringEntry;
use std::collections::HashSet;
use std::io::{self, Write};

const DYNAMIC_EXPR_MAX: usize = 100;
/// Guards longer than this are cut in the tree; the JSON keeps them whole.
const TREE_GUARD_MAX: usize = 100;
/// Guards longer than this are cut in DOT and Mermaid edge labels.
const LABEL_GUARD_MAX: usize = 60;

/// ` [guard]` / ` (maybe no rows)` for a line or label, empty for `always`; the guard cut
/// at `max` characters.
fn mark_suffix(sure: &Sure, max: usize) -> String {
    let mut cut = sure.clone();
    if let Some(g) = &cut.guard {
        if g.chars().count() > max {
            cut.guard = Some(g.chars().take(max).collect::<String>() + "…");
        }
    }
    cut.mark().map(|m| format!(" {m}")).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Tree

/// The fan-out tree of one table and event, then hazards, cycles and opaque routines.
pub fn write_tree<W: Write>(out: &mut W, f: &Fanout) -> io::Result<()> {
    let mut lines = Vec::new();
    table_lines(&mut lines, &f.tree, "", true);
    for l in lines {
        writeln!(out, "{l}")?;
    }
    if f.depth_limited {
        writeln!(
            out,
            "\n(some tables were not expanded: --depth {} reached)",
            f.depth
                .map_or_else(|| "limit".to_string(), |d| d.to_string())
        )?;
    }
    if f.truncated {
        writeln!(
            out,
            "\n(the walk stopped early: the call graph multiplies paths beyond its budget)"
        )?;
    }
    writeln!(out)?;
    if f.hazards.is_empty() {
        writeln!(out, "Hazards: none")?;
    } else {
        writeln!(out, "Hazards:")?;
        for h in &f.hazards {
            writeln!(out, "  ! {}", cell(&h.describe()))?;
        }
    }
    if f.cycles.is_empty() {
        writeln!(out, "Cycles: none")?;
    } else {
        writeln!(out, "Cycles:")?;
        for c in &f.cycles {
            writeln!(out, "  ⟲ {} cycle: {}", c.kind, cell(&c.path.join(" → ")))?;
        }
    }
    if !f.unanalysable.is_empty() {
        writeln!(out, "Opaque routines:")?;
        for u in &f.unanalysable {
            writeln!(out, "  ? {}: {}", cell(&u.function), cell(&u.problem))?;
        }
    }
    Ok(())
}

fn state(t: &TableVisit) -> String {
    let cols = match &t.columns {
        Some(c) if t.event == Event::Update => format!(" OF {}", c.join(", ")),
        _ => String::new(),
    };
    format!("{}{cols} on {}", t.event.label(), cell(&t.table))
}

/// Why a table state has nothing under it, if it has nothing under it.
fn leaf_note(t: &TableVisit) -> Option<&'static str> {
    match t.outcome {
        VisitOutcome::ShownAbove => Some("fan-out shown above"),
        VisitOutcome::Cycle => Some("CYCLE: already being expanded above"),
        VisitOutcome::DepthLimit => Some("not expanded: --depth reached"),
        VisitOutcome::Missing => Some("not in the snapshot, cannot be followed"),
        VisitOutcome::Expanded
            if t.triggers.is_empty()
                && t.cascades.is_empty()
                && t.rules.is_empty()
                && t.through_view.is_none()
                && t.view_refused.is_none() =>
        {
            Some("no triggers")
        }
        VisitOutcome::Expanded => None,
    }
}

enum Item<'a> {
    Rule(&'a RuleVisit),
    Replaced(&'a str),
    ThroughView(&'a ViewWrite),
    ViewRefused(&'a str),
    RowCall(&'a RowCallVisit),
    Trigger(&'a TriggerVisit),
    Cascade(&'a CascadeVisit),
}

/// The lines of one table state. `root` prints the header line; nested states are
/// introduced by the line of the write or cascade that reaches them.
fn table_lines(lines: &mut Vec<String>, t: &TableVisit, prefix: &str, root: bool) {
    if root {
        let firing = t.triggers.iter().filter(|x| x.skipped.is_none()).count();
        let mut head = format!(
            "{}: {} trigger{}",
            state(t),
            t.triggers.len(),
            plural(t.triggers.len())
        );
        if firing != t.triggers.len() {
            head.push_str(&format!(" ({firing} fire)"));
        }
        if !t.cascades.is_empty() {
            head.push_str(&format!(
                ", {} cascade{}",
                t.cascades.len(),
                plural(t.cascades.len())
            ));
        }
        if let Some(note) = leaf_note(t) {
            head.push_str(&format!(" ({note})"));
        }
        lines.push(head);
    }
    let items: Vec<Item> = t
        .rules
        .iter()
        .map(Item::Rule)
        .chain(t.replaced_by.as_deref().map(Item::Replaced))
        .chain(t.through_view.as_deref().map(Item::ThroughView))
        .chain(t.view_refused.as_deref().map(Item::ViewRefused))
        .chain(t.row_calls.iter().map(Item::RowCall))
        .chain(t.triggers.iter().map(Item::Trigger))
        .chain(t.cascades.iter().map(Item::Cascade))
        .collect();
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        let last = i + 1 == n;
        let (branch, cont) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let child_prefix = format!("{prefix}{cont}");
        match item {
            Item::Rule(r) => {
                let mut line = format!(
                    "{prefix}{branch}RULE {} DO {}",
                    cell(&r.name),
                    if r.instead { "INSTEAD" } else { "ALSO" }
                );
                if let Some(c) = &r.condition {
                    line.push_str(&format!(" [rule WHERE {}]", cell(c)));
                }
                if let Some(why) = &r.skipped {
                    line.push_str(&format!(" — does not apply: {}", cell(why)));
                }
                lines.push(line);
                if let Some(a) = &r.actions {
                    function_lines(lines, a, &format!("{child_prefix}   "));
                }
            }
            Item::Replaced(r) => lines.push(format!(
                "{prefix}{branch}(not written: DO INSTEAD rule {} replaces the write, so no trigger of {} fires)",
                cell(r),
                cell(&t.table)
            )),
            Item::ThroughView(w) => {
                let check = w
                    .check_option
                    .as_deref()
                    .map(|c| format!(" [WITH {} CHECK OPTION]", c.to_uppercase()))
                    .unwrap_or_default();
                lines.push(format!(
                    "{prefix}{branch}writes through the view (automatically updatable){check}: {}",
                    state(&w.base)
                ));
                table_lines(lines, &w.base, &child_prefix, false);
            }
            Item::ViewRefused(why) => lines.push(format!(
                "{prefix}{branch}(PostgreSQL refuses this write: {})",
                cell(why)
            )),
            Item::RowCall(rc) => {
                let what = match rc.via {
                    "default" => "DEFAULT of column",
                    "generated" => "GENERATED column",
                    "check" => "CHECK",
                    "domain" => "DOMAIN CHECK of column",
                    _ => "POLICY",
                };
                lines.push(format!(
                    "{prefix}{branch}{what} {} calls (every row): {}{}",
                    cell(&rc.name),
                    cell(&rc.function.name),
                    cell(&mark_suffix(&rc.function.sure, TREE_GUARD_MAX))
                ));
                function_lines(lines, &rc.function, &format!("{child_prefix}   "));
            }
            Item::Trigger(tv) => {
                lines.push(format!("{prefix}{branch}{}", trigger_line_marked(tv)));
                if let Some(when) = &tv.entry.when {
                    lines.push(format!("{child_prefix}   WHEN {}", cell(when)));
                }
                for wc in &tv.when_calls {
                    lines.push(format!(
                        "{child_prefix}   WHEN calls (every row): {}",
                        cell(&wc.name)
                    ));
                    function_lines(lines, wc, &format!("{child_prefix}      "));
                }
                if let Some(fv) = &tv.function {
                    function_lines(lines, fv, &format!("{child_prefix}   "));
                }
            }
            Item::Cascade(c) => {
                let mut line = format!(
                    "{prefix}{branch}{} {}: {} {}",
                    cell(&c.constraint),
                    c.action.to_uppercase().replace('_', " "),
                    state(&c.child),
                    leaf_note(&c.child)
                        .map(|n| format!("({n})"))
                        .unwrap_or_default()
                );
                truncate_trailing(&mut line);
                lines.push(line);
                table_lines(lines, &c.child, &child_prefix, false);
            }
        }
    }
}

fn truncate_trailing(s: &mut String) {
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn trigger_line(e: &FiringEntry, skipped: Option<&str>) -> String {
    let mut s = format!(
        "{}. {} {} → {}",
        e.order,
        e.phase.label(),
        cell(&e.trigger),
        cell(&e.function)
    );
    if !e.arguments.is_empty() {
        let args: Vec<String> = e
            .arguments
            .iter()
            .map(|a| format!("'{}'", cell(a)))
            .collect();
        s.push_str(&format!(" args ({})", args.join(", ")));
    }
    let mut tags = Vec::new();
    for c in &e.conditions {
        tags.push(cell(c));
    }
    if e.events.len() > 1 || !e.update_columns.is_empty() {
        tags.push(format!("on {}", cell(&e.events_clause())));
    }
    if e.constraint_trigger {
        let mut t = "constraint trigger".to_string();
        if e.deferrable {
            t.push_str(", deferrable");
        }
        if e.initially_deferred {
            t.push_str(", initially deferred");
        }
        tags.push(t);
    }
    if e.enabled == Enabled::Always {
        tags.push("enabled always".into());
    }
    if !tags.is_empty() {
        s.push_str(&format!(" [{}]", tags.join("; ")));
    }
    if let Some(why) = skipped {
        s.push_str(&format!(" — does not fire: {}", cell(why)));
    }
    s
}

/// The trigger line with its certainty mark beyond what the line already says (WHEN has
/// its own line, routing its tag): an earlier BEFORE trigger that may skip the row.
fn trigger_line_marked(tv: &TriggerVisit) -> String {
    let mut s = trigger_line(&tv.entry, tv.skipped.as_deref());
    if let (None, Some(by)) = (&tv.skipped, &tv.unless_skipped_by) {
        s.push_str(&format!(" [{}]", cell(&skip_guard(by))));
    }
    s
}

fn function_lines(lines: &mut Vec<String>, f: &FunctionVisit, prefix: &str) {
    if f.missing {
        lines.push(format!(
            "{prefix}? {} is not in the snapshot",
            cell(&f.name)
        ));
    }
    if let Some(p) = &f.problem {
        lines.push(format!("{prefix}? {}", cell(p)));
    }
    if f.recursion {
        lines.push(format!(
            "{prefix}⟲ recursion: {} is already being called",
            cell(&f.name)
        ));
        return;
    }
    if !f.assigns.is_empty() {
        let cols: Vec<String> = f
            .assigns
            .iter()
            .map(|c| format!("NEW.{}", cell(c)))
            .collect();
        lines.push(format!("{prefix}assigns {}", cols.join(", ")));
    }
    for w in &f.writes {
        write_lines(lines, w, prefix);
    }
    for n in &f.notifies {
        lines.push(format!("{prefix}{}", notify_text(n)));
    }
    for d in &f.dynamic {
        lines.push(format!("{prefix}{}", dynamic_text(d)));
    }
    for c in &f.calls {
        lines.push(format!(
            "{prefix}calls {}{}",
            cell(&c.name),
            cell(&mark_suffix(&c.sure, TREE_GUARD_MAX))
        ));
        function_lines(lines, c, &format!("{prefix}   "));
    }
}

fn write_lines(lines: &mut Vec<String>, w: &WriteVisit, prefix: &str) {
    let mut s = format!(
        "{prefix}writes {} {}",
        w.write.op.event().label(),
        cell(&w.write.table)
    );
    if let Some(cols) = &w.write.columns {
        s.push_str(&format!(
            " SET {}",
            cols.iter().map(|c| cell(c)).collect::<Vec<_>>().join(", ")
        ));
    }
    match w.write.via {
        Some("on_conflict") => s.push_str(" (ON CONFLICT DO UPDATE)"),
        Some("execute") => s.push_str(" (literal EXECUTE)"),
        Some(v) => s.push_str(&format!(" (via {v})")),
        None => {}
    }
    s.push_str(&cell(&mark_suffix(&w.write.sure, TREE_GUARD_MAX)));
    match leaf_note(&w.target) {
        Some(note) => s.push_str(&format!(" — {note}")),
        None => {
            let n = w.target.triggers.len();
            s.push_str(&format!(" → fires {n} trigger{}", plural(n)));
            if !w.target.cascades.is_empty() {
                s.push_str(&format!(
                    ", {} cascade{}",
                    w.target.cascades.len(),
                    plural(w.target.cascades.len())
                ));
            }
        }
    }
    lines.push(s);
    table_lines(lines, &w.target, &format!("{prefix}  "), false);
}

fn notify_text(n: &Notify) -> String {
    let what = match &n.channel {
        Some(c) => format!("notifies {}", cell(c)),
        None => "notifies a channel computed at run time (opaque)".to_string(),
    };
    format!("{what}{}", cell(&mark_suffix(&n.sure, TREE_GUARD_MAX)))
}

fn dynamic_text(d: &DynamicSql) -> String {
    let mut expr: String = cell(&d.expression);
    if expr.chars().count() > DYNAMIC_EXPR_MAX {
        expr = expr.chars().take(DYNAMIC_EXPR_MAX).collect::<String>() + "…";
    }
    let mut line = d.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    line.push_str(&cell(&mark_suffix(&d.sure, TREE_GUARD_MAX)));
    if d.literal {
        format!("EXECUTE of a literal, analysed{line}: {expr}")
    } else {
        format!("dynamic SQL (opaque){line}: EXECUTE {expr}")
    }
}

// ---------------------------------------------------------------------------------------
// Whole database

/// The ranking table, then the database's cycles, hazards and opaque routines.
pub fn write_ranking<W: Write>(out: &mut W, db: &DatabaseFanout) -> io::Result<()> {
    if db.tables.is_empty() {
        writeln!(out, "No table has triggers or cascading foreign keys.")?;
        return Ok(());
    }
    let rows = db
        .tables
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                cell(&r.table),
                r.events
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                r.direct_triggers.to_string(),
                r.triggers.to_string(),
                r.tables.to_string(),
                r.channels.to_string(),
                r.cycles.to_string(),
                r.hazards.to_string(),
                r.opaque.to_string(),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        table::render(
            &[
                "RANK",
                "TABLE",
                "EVENTS",
                "OWN TRIGGERS",
                "TRIGGERS REACHED",
                "TABLES REACHED",
                "CHANNELS",
                "CYCLES",
                "HAZARDS",
                "OPAQUE"
            ],
            rows
        )
    )?;
    for c in &db.cycles {
        writeln!(out, "⟲ {} cycle: {}", c.kind, cell(&c.path.join(" → ")))?;
    }
    for h in &db.hazards {
        writeln!(out, "! {}", cell(&h.describe()))?;
    }
    for u in &db.unanalysable {
        writeln!(out, "? {}: {}", cell(&u.function), cell(&u.problem))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Shared labels

pub(crate) fn node_label(n: &GraphNode) -> String {
    let mut s = n.name.clone();
    match n.kind {
        NodeKind::Trigger => {
            if let Some(t) = &n.table {
                s = format!("{s}\non {t}");
            }
        }
        NodeKind::Function if n.problem.is_some() => s.push_str("\n(opaque: not fully analysed)"),
        _ => {}
    }
    if n.missing {
        s.push_str("\n(not in snapshot)");
    }
    s
}

pub(crate) fn edge_label(e: &GraphEdge) -> String {
    let upper = |s: &Option<String>| {
        s.as_deref()
            .unwrap_or_default()
            .to_uppercase()
            .replace('_', " ")
    };
    let mut s = match e.kind {
        EdgeKind::Fires => {
            // When it fires as the tree says it (a deferred constraint trigger AT COMMIT,
            // not AFTER ROW); timing and level for an edge that carries no phase.
            let when = match e.phase {
                Some(p) => p.label().to_string(),
                None => format!(
                    "{} {}",
                    e.timing.map(Timing::label).unwrap_or_default(),
                    e.level.map(Level::label).unwrap_or_default()
                ),
            };
            let mut l = format!(
                "{} #{} {when}",
                e.event.map(Event::label).unwrap_or_default(),
                e.order.unwrap_or_default(),
            );
            // `UPDATE OF` narrows the UPDATE event only: on an INSERT edge of a trigger for
            // INSERT OR UPDATE OF c, the columns say nothing.
            if !e.update_columns.is_empty() && e.event == Some(Event::Update) {
                l.push_str(&format!(" OF {}", e.update_columns.join(", ")));
            }
            if let Some(why) = &e.skipped {
                l.push_str(&format!(" (does not fire: {why})"));
            }
            l
        }
        EdgeKind::Calls if !e.arguments.is_empty() => {
            format!(
                "args ({})",
                e.arguments
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        EdgeKind::Calls if e.via == Some("when") => "WHEN calls".to_string(),
        EdgeKind::Calls if e.via.is_some() => format!(
            "{} {} calls",
            e.via.unwrap_or_default().to_uppercase(),
            e.constraint.as_deref().unwrap_or_default()
        ),
        EdgeKind::Calls => "calls".to_string(),
        EdgeKind::Writes => {
            let mut l =
                e.op.map(|o| o.event().label().to_string())
                    .unwrap_or_default();
            if let Some(c) = &e.columns {
                l.push_str(&format!(" SET {}", c.join(", ")));
            }
            if let Some(v) = e.via {
                l.push_str(&format!(" ({})", v.replace('_', " ")));
            }
            l
        }
        EdgeKind::Notifies if e.opaque => "NOTIFY (computed channel)".to_string(),
        EdgeKind::Notifies => "NOTIFY".to_string(),
        EdgeKind::Dynamic => "EXECUTE (opaque)".to_string(),
        EdgeKind::Cascade => format!(
            "ON {} {}",
            e.event.map(Event::label).unwrap_or_default(),
            upper(&e.action)
        ),
        EdgeKind::Rule => {
            let mut l = format!(
                "ON {} DO {}",
                e.event.map(Event::label).unwrap_or_default(),
                if e.instead { "INSTEAD" } else { "ALSO" }
            );
            if let Some(why) = &e.skipped {
                l.push_str(&format!(" (does not apply: {why})"));
            }
            l
        }
    };
    if let Some(c) = &e.check_option {
        s.push_str(&format!(" WITH {} CHECK OPTION", c.to_uppercase()));
    }
    if e.kind == EdgeKind::Dynamic && !e.opaque {
        s = "EXECUTE (literal)".to_string();
    }
    s.push_str(&mark_suffix(&e.sure(), LABEL_GUARD_MAX));
    s
}

// ---------------------------------------------------------------------------------------
// DOT

/// A DOT quoted string: backslashes and quotes escaped, line breaks as `\n`, other control
/// characters dropped (Graphviz has no escape for them).
pub(crate) fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The nodes a hazard is about: the triggers it names on its table, and the routine fired
/// twice. Drawn red in DOT and Mermaid, as the tree calls the hazards out.
pub(crate) fn hazard_nodes<'g>(g: &'g FanoutGraph, hazards: &[Hazard]) -> HashSet<&'g str> {
    let mut marked = HashSet::new();
    for n in g.nodes() {
        let hit = hazards.iter().any(|h| match h {
            Hazard::ReadBeforeAssigned {
                table,
                reader,
                writer,
                ..
            } => {
                n.kind == NodeKind::Trigger
                    && n.table.as_deref() == Some(table.as_str())
                    && (&n.name == reader || &n.name == writer)
            }
            Hazard::RoutineFiredTwice {
                table,
                function,
                triggers,
                ..
            } => {
                (n.kind == NodeKind::Function && &n.name == function)
                    || (n.kind == NodeKind::Trigger
                        && n.table.as_deref() == Some(table.as_str())
                        && triggers.contains(&n.name))
            }
        });
        if hit {
            marked.insert(n.id.as_str());
        }
    }
    marked
}

/// What the shapes, line styles and colours of the DOT and Mermaid pictures mean.
const LEGEND: &[(&str, &str)] = &[
    ("table", "table"),
    ("trigger", "trigger (firing order on its edge)"),
    ("function", "function"),
    ("channel", "NOTIFY channel"),
    ("dynamic", "dynamic SQL (opaque)"),
    ("rule", "rule"),
];

/// A Graphviz digraph of the fan-out; `root` (a node id) is drawn bold, the nodes of
/// `hazards` red with the hazards under the title, and a legend says what is drawn how.
pub fn write_dot<W: Write>(
    out: &mut W,
    g: &FanoutGraph,
    title: &str,
    root: Option<&str>,
    hazards: &[Hazard],
) -> io::Result<()> {
    writeln!(out, "digraph fanout {{")?;
    // Under the title, each hazard on a line of its own (dot_quote turns the line breaks
    // into DOT's `\n`).
    let mut label = title.to_string();
    for h in hazards {
        label.push_str(&format!("\nhazard: {}", h.describe()));
    }
    writeln!(out, "  label={};", dot_quote(&label))?;
    writeln!(out, "  labelloc=t;")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [fontname=\"Helvetica\", fontsize=10];")?;
    writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];")?;
    let marked = hazard_nodes(g, hazards);
    for n in g.nodes() {
        let shape = dot_shape(match n.kind {
            NodeKind::Table => "table",
            NodeKind::Trigger => "trigger",
            NodeKind::Function => "function",
            NodeKind::Channel => "channel",
            NodeKind::Dynamic => "dynamic",
            NodeKind::Rule => "rule",
        });
        let mut attrs = vec![
            format!("label={}", dot_quote(&node_label(n))),
            format!("shape={shape}"),
        ];
        let mut styles = Vec::new();
        if root == Some(n.id.as_str()) {
            styles.push("bold");
        }
        if n.missing || n.problem.is_some() || n.kind == NodeKind::Dynamic {
            styles.push("dashed");
        }
        if !styles.is_empty() {
            attrs.push(format!("style={}", dot_quote(&styles.join(","))));
        }
        if marked.contains(n.id.as_str()) {
            attrs.push("color=red, fontcolor=red, penwidth=2".into());
        }
        writeln!(out, "  {} [{}];", dot_quote(&n.id), attrs.join(", "))?;
    }
    for e in g.edges() {
        let mut attrs = vec![format!("label={}", dot_quote(&edge_label(e)))];
        if e.skipped.is_some() || e.opaque || !e.sure().is_always() {
            attrs.push("style=dashed".into());
        }
        if e.kind == EdgeKind::Cascade {
            attrs.push("color=red".into());
        }
        writeln!(
            out,
            "  {} -> {} [{}];",
            dot_quote(&e.from),
            dot_quote(&e.to),
            attrs.join(", ")
        )?;
    }
    write_dot_legend(out)?;
    writeln!(out, "}}")
}

/// The legend: one node per shape, and the three kinds of line, in a box of their own.
fn write_dot_legend<W: Write>(out: &mut W) -> io::Result<()> {
    writeln!(out, "  subgraph cluster_legend {{")?;
    writeln!(out, "    label=\"legend\"; fontsize=9; color=gray;")?;
    for (kind, text) in LEGEND {
        writeln!(
            out,
            "    \"legend:{kind}\" [label={}, shape={}, fontsize=8];",
            dot_quote(text),
            dot_shape(kind)
        )?;
    }
    writeln!(out, "    \"legend:a\" [label=\"\", shape=point];")?;
    writeln!(out, "    \"legend:b\" [label=\"\", shape=point];")?;
    writeln!(out, "    \"legend:c\" [label=\"\", shape=point];")?;
    writeln!(out, "    \"legend:d\" [label=\"\", shape=point];")?;
    writeln!(
        out,
        "    \"legend:a\" -> \"legend:b\" [label=\"always runs\", fontsize=8];"
    )?;
    writeln!(
        out,
        "    \"legend:b\" -> \"legend:c\" [label=\"conditional, maybe no rows, opaque or does not fire\", style=dashed, fontsize=8];"
    )?;
    writeln!(
        out,
        "    \"legend:c\" -> \"legend:d\" [label=\"foreign-key action\", color=red, fontsize=8];"
    )?;
    writeln!(
        out,
        "    \"legend:hazard\" [label=\"red: named by a hazard\", shape=note, color=red, fontcolor=red, fontsize=8];"
    )?;
    writeln!(out, "  }}")
}

/// The DOT shape of a node kind (by its legend name).
fn dot_shape(kind: &str) -> &'static str {
    match kind {
        "table" => "box",
        "trigger" => "ellipse",
        "function" => "component",
        "channel" => "cds",
        "dynamic" => "octagon",
        _ => "hexagon",
    }
}

// ---------------------------------------------------------------------------------------
// Mermaid

/// Text inside a Mermaid `"…"` label: anything but letters, digits and a few harmless
/// punctuation marks becomes a `#code;` entity, so no name can close the label, start a
/// comment (`%%`), an edge (`-->`), a pipe label or HTML.
pub(crate) fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() || " _.,:()'=+/@$*?!".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("#{};", c as u32));
        }
    }
    out
}

/// A Mermaid title line (`title: "…"` in the front matter): a JSON string, which YAML
/// reads as a double-quoted scalar, so no name ends the front matter or the line; `<`, `>`
/// and `&` as `\u` escapes too, so the text holds no markup before YAML reads it.
fn mermaid_title(title: &str) -> String {
    serde_json::to_string(title)
        .unwrap_or_else(|_| "\"\"".to_string())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A Mermaid flowchart of the fan-out, titled; node ids are generated (`n0`, `n1`, …).
/// The nodes of `hazards` are red and each hazard is a red note; a legend subgraph says
/// what the shapes and lines mean.
pub fn write_mermaid<W: Write>(
    out: &mut W,
    g: &FanoutGraph,
    title: &str,
    root: Option<&str>,
    hazards: &[Hazard],
) -> io::Result<()> {
    writeln!(out, "---")?;
    writeln!(out, "title: {}", mermaid_title(title))?;
    writeln!(out, "---")?;
    writeln!(out, "flowchart LR")?;
    let mut ids = std::collections::HashMap::new();
    for (i, n) in g.nodes().enumerate() {
        let id = format!("n{i}");
        let label = mermaid_text(&node_label(n).replace('\n', " "));
        let shaped = match n.kind {
            NodeKind::Table => format!("[\"{label}\"]"),
            NodeKind::Trigger => format!("([\"{label}\"])"),
            NodeKind::Function => format!("[[\"{label}\"]]"),
            NodeKind::Channel => format!(">\"{label}\"]"),
            NodeKind::Dynamic => format!("{{{{\"{label}\"}}}}"),
            NodeKind::Rule => format!("{{{{\"{label}\"}}}}"),
        };
        writeln!(out, "  {id}{shaped}")?;
        ids.insert(n.id.as_str(), id);
    }
    for e in g.edges() {
        let (Some(a), Some(b)) = (ids.get(e.from.as_str()), ids.get(e.to.as_str())) else {
            continue;
        };
        let arrow = if e.skipped.is_some() || e.opaque || !e.sure().is_always() {
            "-.->"
        } else {
            "-->"
        };
        writeln!(
            out,
            "  {a} {arrow}|\"{}\"| {b}",
            mermaid_text(&edge_label(e))
        )?;
    }
    if let Some(r) = root.and_then(|r| ids.get(r)) {
        writeln!(out, "  style {r} stroke-width:3px")?;
    }
    let marked = hazard_nodes(g, hazards);
    let mut red: Vec<&String> = g
        .nodes()
        .filter(|n| marked.contains(n.id.as_str()))
        .filter_map(|n| ids.get(n.id.as_str()))
        .collect();
    for (i, h) in hazards.iter().enumerate() {
        writeln!(
            out,
            "  hazard{i}[\"{}\"]",
            mermaid_text(&format!("hazard: {}", h.describe()))
        )?;
    }
    let notes: Vec<String> = (0..hazards.len()).map(|i| format!("hazard{i}")).collect();
    red.extend(notes.iter());
    if !red.is_empty() {
        writeln!(
            out,
            "  classDef hazard stroke:#c00,color:#c00,stroke-width:2px"
        )?;
        let list: Vec<&str> = red.iter().map(|s| s.as_str()).collect();
        writeln!(out, "  class {} hazard", list.join(","))?;
    }
    write_mermaid_legend(out)
}

/// The legend: one node per shape and the two kinds of line, in a subgraph of their own.
fn write_mermaid_legend<W: Write>(out: &mut W) -> io::Result<()> {
    writeln!(out, "  subgraph legend[\"legend\"]")?;
    for (i, (kind, text)) in LEGEND.iter().enumerate() {
        let text = mermaid_text(text);
        let shaped = match *kind {
            "table" => format!("[\"{text}\"]"),
            "trigger" => format!("([\"{text}\"])"),
            "function" => format!("[[\"{text}\"]]"),
            "channel" => format!(">\"{text}\"]"),
            _ => format!("{{{{\"{text}\"}}}}"),
        };
        writeln!(out, "    legend{i}{shaped}")?;
    }
    writeln!(out, "    legend0 -->|\"always runs\"| legend1")?;
    writeln!(
        out,
        "    legend1 -.->|\"conditional, maybe no rows, opaque or does not fire\"| legend2"
    )?;
    writeln!(out, "  end")
}

/// `mermaid` as a fenced block for Markdown (a GitHub issue, a pull request, a wiki page),
/// under a heading with the title: `--format markdown`.
pub fn write_fenced<W: Write>(
    out: &mut W,
    title: &str,
    mermaid: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let mut body = Vec::new();
    mermaid(&mut body)?;
    // The title as Markdown text: characters Markdown or HTML would read as markup are
    // escaped with a backslash (inline HTML, links, emphasis, code).
    let mut heading = String::new();
    for c in title.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '&' => {
                heading.push('\\');
                heading.push(c);
            }
            '\n' | '\r' => heading.push(' '),
            c => heading.push(c),
        }
    }
    writeln!(out, "### {heading}")?;
    writeln!(out)?;
    writeln!(out, "```mermaid")?;
    out.write_all(&body)?;
    writeln!(out, "```")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::firing::FiringPhase;

    #[test]
    fn uncertain_edges_are_dashed_dotted_and_labelled_and_long_guards_cut() {
        let long = Sure::guarded(&["IF ".to_string() + &"x".repeat(200)]);
        let m = mark_suffix(&long, LABEL_GUARD_MAX);
        assert!(m.starts_with(" [IF xxx") && m.ends_with("…]"), "{m}");
        assert_eq!(m.chars().count(), LABEL_GUARD_MAX + 4);
        assert_eq!(mark_suffix(&Sure::always(), 10), "");
        let mut g = FanoutGraph::default();
        g.node(GraphNode::table("public.a", false));
        g.node(GraphNode::table("public.b", false));
        g.node(GraphNode::table("public.c", false));
        let cascade = |to: &str| GraphEdge {
            from: "table:public.a".into(),
            to: format!("table:public.{to}"),
            kind: EdgeKind::Cascade,
            event: Some(Event::Delete),
            action: Some("cascade".into()),
            ..GraphEdge::default()
        };
        g.edge(cascade("b").with_sure(&Sure::maybe_no_rows()));
        g.edge(cascade("c"));
        let mut dot = Vec::new();
        write_dot(&mut dot, &g, "t", None, &[]).unwrap();
        let dot = String::from_utf8(dot).unwrap();
        let line = |to: &str| dot.lines().find(|l| l.contains(to)).unwrap().to_string();
        let b = line("-> \"table:public.b\"");
        assert!(
            b.contains("style=dashed") && b.contains("(maybe no rows)"),
            "{b}"
        );
        assert!(!line("-> \"table:public.c\"").contains("dashed"));
        let mut mm = Vec::new();
        write_mermaid(&mut mm, &g, "t", None, &[]).unwrap();
        let mm = String::from_utf8(mm).unwrap();
        assert!(
            mm.contains("n0 -.->|\"ON DELETE CASCADE (maybe no rows)\"| n1"),
            "{mm}"
        );
        assert!(mm.contains("n0 -->|\"ON DELETE CASCADE\"| n2"), "{mm}");
    }

    #[test]
    fn fires_edges_say_when_they_fire_and_update_of_only_on_update() {
        let fires = |event: Event, phase: FiringPhase| GraphEdge {
            from: "table:public.a".into(),
            to: "trigger:public.a.t".into(),
            kind: EdgeKind::Fires,
            event: Some(event),
            order: Some(1),
            phase: Some(phase),
            timing: Some(Timing::After),
            level: Some(Level::Row),
            update_columns: vec!["script_path".into()],
            ..GraphEdge::default()
        };
        assert_eq!(
            edge_label(&fires(Event::Insert, FiringPhase::BeforeRow)),
            "INSERT #1 BEFORE ROW"
        );
        assert_eq!(
            edge_label(&fires(Event::Update, FiringPhase::BeforeRow)),
            "UPDATE #1 BEFORE ROW OF script_path"
        );
        assert_eq!(
            edge_label(&fires(Event::Insert, FiringPhase::AtCommit)),
            "INSERT #1 AT COMMIT (deferred)"
        );
    }

    /// The "fires twice" hazard in red with its line under the title, a legend, and a
    /// Mermaid title and fenced form whose text cannot break out.
    #[test]
    fn hazards_are_red_with_a_legend_and_mermaid_has_a_title_and_a_fenced_form() {
        let mut g = FanoutGraph::default();
        g.node(GraphNode::table("public.a", false));
        for t in ["t1", "t2", "t3"] {
            g.node(GraphNode {
                id: format!("trigger:public.a.{t}"),
                kind: NodeKind::Trigger,
                name: t.into(),
                table: Some("public.a".into()),
                missing: false,
                problem: None,
                reached: None,
            });
        }
        let twice = Hazard::RoutineFiredTwice {
            table: "public.a".into(),
            event: Event::Insert,
            function: "public.f()".into(),
            triggers: vec!["t1".into(), "t2".into()],
            arguments: vec![vec![], vec![]],
        };
        let mut dot = Vec::new();
        write_dot(
            &mut dot,
            &g,
            "INSERT on public.a",
            None,
            std::slice::from_ref(&twice),
        )
        .unwrap();
        let dot = String::from_utf8(dot).unwrap();
        let node = |id: &str| {
            dot.lines()
                .find(|l| l.trim_start().starts_with(&format!("\"{id}\" [")))
                .unwrap_or_else(|| panic!("{id} in {dot}"))
                .to_string()
        };
        assert!(node("trigger:public.a.t1").contains("color=red"), "{dot}");
        assert!(node("trigger:public.a.t2").contains("color=red"), "{dot}");
        assert!(!node("trigger:public.a.t3").contains("color=red"), "{dot}");
        assert!(dot.contains("\\nhazard: "), "{dot}");
        assert!(dot.contains("subgraph cluster_legend"), "{dot}");
        let mut mm = Vec::new();
        write_mermaid(&mut mm, &g, "INSERT \"on\"\n---\npublic.a", None, &[twice]).unwrap();
        let mm = String::from_utf8(mm).unwrap();
        let lines: Vec<&str> = mm.lines().collect();
        assert_eq!(lines[0], "---");
        assert_eq!(lines[1], r#"title: "INSERT \"on\"\n---\npublic.a""#);
        assert_eq!(lines[2], "---");
        assert_eq!(lines[3], "flowchart LR");
        assert!(mm.contains("class n1,n2,hazard0 hazard"), "{mm}");
        assert!(mm.contains("subgraph legend"), "{mm}");
        let mut md = Vec::new();
        write_fenced(&mut md, "INSERT on <b>a</b>", |w| {
            w.extend_from_slice(b"flowchart LR\n");
            Ok(())
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(md).unwrap(),
            "### INSERT on \\<b\\>a\\</b\\>\n\n```mermaid\nflowchart LR\n```\n"
        );
    }

    #[test]
    fn dot_strings_cannot_break_out() {
        assert_eq!(dot_quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(dot_quote("x\\"), "\"x\\\\\"");
        assert_eq!(dot_quote("<script>-->|`"), "\"<script>-->|`\"");
    }

    #[test]
    fn mermaid_labels_are_entity_encoded() {
        let m = mermaid_text("t\"]; click n0 call x()\n<script>--> | `%%");
        // Drop the entities themselves, then nothing dangerous may remain.
        let mut bare = String::new();
        let mut rest = m.as_str();
        while let Some(i) = rest.find('#') {
            bare.push_str(&rest[..i]);
            let end = rest[i..].find(';').expect("entities end with ;");
            assert!(rest[i + 1..i + end].chars().all(|c| c.is_ascii_digit()));
            rest = &rest[i + end + 1..];
        }
        bare.push_str(rest);
        let m = bare;
        for bad in ['"', ']', ';', '<', '>', '|', '`', '%', '\n', '[', '-'] {
            assert!(!m.contains(bad), "{bad:?} survived in {m}");
        }
        assert_eq!(mermaid_text("public.dot_tools"), "public.dot_tools");
    }
}
