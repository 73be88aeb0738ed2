//! The real-execution test of the fan-out graph (issue 18, item 5): random trigger networks
//! ([`trignet`]), each statement on each relation run inside `BEGIN … ROLLBACK` with
//! PostgreSQL's transaction statistics as the oracle, then committed with a `LISTEN`
//! session for the notifications.
//!
//! What it holds the graph to, per (table, event):
//! - every function that ran and every table written is in the graph, unless an opaque
//!   dynamic-SQL edge of a function that ran could account for it;
//! - an `always` step whose source ran has its target run too, and a node reached `always`
//!   ran (so a graph that marks everything possible cannot pass);
//! - the first-level firing order (`pg_trigger_depth() = 1`) agrees with the graph's in
//!   every pair;
//! - on a committed statement, every channel notified is in the graph (or a computed
//!   channel is), and every channel the graph reaches `always` through a function that ran
//!   was received.
//!
//! `DRIFTGATE_GRAPH_SEEDS` (default 30) seeds are run, or one with `DRIFTGATE_GRAPH_SEED=N`.
//! A failure names the seed, the generated SQL (`target/graphexec/seed-N.sql`) and the
//! statement.

mod support;
#[path = "graphexec/trignet.rs"]
mod trignet;

use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use support::*;
use trignet::{Network, Rel, Statement};

/// What the checks looked at, over every seed: a run that checked nothing proves nothing.
static FUNCTIONS_SEEN: AtomicUsize = AtomicUsize::new(0);
static ALWAYS_HELD: AtomicUsize = AtomicUsize::new(0);
static ORDER_PAIRS: AtomicUsize = AtomicUsize::new(0);
static MOVED_ROWS: AtomicUsize = AtomicUsize::new(0);
static CHILD_ROWS: AtomicUsize = AtomicUsize::new(0);
/// Where the time goes: database, setup SQL and snapshot; the graph walks; the committed
/// pass with its LISTEN session.
static SETUP_MS: AtomicUsize = AtomicUsize::new(0);
static GRAPH_MS: AtomicUsize = AtomicUsize::new(0);
static NOTIFY_MS: AtomicUsize = AtomicUsize::new(0);

/// What PostgreSQL ran for one statement.
#[derive(Debug, Default)]
struct Ran {
    functions: BTreeSet<String>,
    /// table → (inserted, updated, deleted).
    tables: BTreeMap<String, (i64, i64, i64)>,
    /// The triggers that fired, in order.
    order: Vec<Fired>,
}

/// One trigger firing as the trigger function recorded it.
#[derive(Debug)]
struct Fired {
    /// `pg_trigger_depth()`: 1 for the statement's own triggers.
    depth: u32,
    table: String,
    trigger: String,
    /// `TG_OP`, lower case: a row moved between partitions fires `delete` and `insert`.
    op: String,
}

fn seeds() -> Vec<u64> {
    if let Ok(one) = std::env::var("DRIFTGATE_GRAPH_SEED") {
        return vec![one.parse().expect("DRIFTGATE_GRAPH_SEED is a number")];
    }
    let n: u64 = std::env::var("DRIFTGATE_GRAPH_SEEDS")
        .ok()
        .map(|s| s.parse().expect("DRIFTGATE_GRAPH_SEEDS is a number"))
        .unwrap_or(30);
    (1..=n).collect()
}

fn sql_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/graphexec");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run `stmt` in a transaction and read what ran before rolling back (or committing).
async fn run_statement(c: &mut PgConnection, stmt: &str, commit: bool) -> Result<Ran, String> {
    c.execute("BEGIN").await.map_err(|e| e.to_string())?;
    let result = async {
        c.execute("SET LOCAL track_functions = 'all'; SELECT set_config('dg.order', '', true)")
            .await?;
        // The transaction statistics may still hold counts of earlier transactions of this
        // session that were not flushed yet (PostgreSQL 15+): what the statement did is the
        // difference.
        let before = counts(c).await?;
        c.execute(stmt).await?;
        c.execute("SET CONSTRAINTS ALL IMMEDIATE").await?;
        let after = counts(c).await?;
        let mut ran = Ran::default();
        for (key, (i, u, d)) in &after {
            let (i0, u0, d0) = before.get(key).copied().unwrap_or_default();
            match key.strip_prefix("F|") {
                Some(f) if i > &i0 => {
                    ran.functions.insert(f.to_string());
                }
                Some(_) => {}
                None if (i - i0, u - u0, d - d0) != (0, 0, 0) => {
                    ran.tables
                        .insert(key[2..].to_string(), (i - i0, u - u0, d - d0));
                }
                None => {}
            }
        }
        let order: String = sqlx::query("SELECT current_setting('dg.order')")
            .fetch_one(&mut *c)
            .await?
            .get(0);
        for e in order.split(',').filter(|e| !e.is_empty()) {
            let p: Vec<&str> = e.split(':').collect();
            ran.order.push(Fired {
                depth: p[0].parse().unwrap(),
                table: format!("public.{}", p[1]),
                trigger: p[2].to_string(),
                op: p[3].to_string(),
            });
        }
        Ok::<_, sqlx::Error>(ran)
    }
    .await;
    let end = if commit && result.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    c.execute(end).await.map_err(|e| e.to_string())?;
    result.map_err(|e| format!("{stmt}: {e}"))
}

/// The transaction's counts: `F|function` → (calls, 0, 0), `T|schema.table` → (inserted,
/// updated, deleted).
async fn counts(c: &mut PgConnection) -> Result<BTreeMap<String, (i64, i64, i64)>, sqlx::Error> {
    let mut out = BTreeMap::new();
    for r in sqlx::query(
        "SELECT 'F|' || funcname, calls, 0::bigint, 0::bigint FROM pg_stat_xact_user_functions
         UNION ALL
         SELECT 'T|' || schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_del
           FROM pg_stat_xact_user_tables",
    )
    .fetch_all(&mut *c)
    .await?
    {
        out.insert(r.get(0), (r.get(1), r.get(2), r.get(3)));
    }
    Ok(out)
}

/// The graph as the CLI's JSON has it.
struct Graph {
    v: Value,
}

impl Graph {
    fn edges(&self) -> impl Iterator<Item = &Value> {
        self.v["edges"].as_array().unwrap().iter()
    }

    fn nodes(&self) -> impl Iterator<Item = &Value> {
        self.v["nodes"].as_array().unwrap().iter()
    }

    fn has_node(&self, id: &str) -> bool {
        self.nodes().any(|n| n["id"] == id)
    }
}

fn function_name(id: &str) -> Option<&str> {
    let f = id.strip_prefix("function:")?;
    Some(f.split('(').next()?.rsplit('.').next().unwrap())
}

fn rank(c: &Value) -> u8 {
    match c.as_str() {
        Some("always") => 2,
        Some("maybe-no-rows") => 1,
        Some("conditional") => 0,
        other => panic!("unknown certainty {other:?}"),
    }
}

/// The tables of `root`'s tree (partitions and inheritance children at any depth).
fn family(rels: &[Rel], root: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([format!("public.{root}")]);
    loop {
        let more: Vec<String> = rels
            .iter()
            .filter(|r| {
                r.parent
                    .as_ref()
                    .is_some_and(|p| out.contains(&format!("public.{p}")))
            })
            .map(|r| format!("public.{}", r.name))
            .filter(|n| !out.contains(n))
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

/// The ancestors of a relation, itself first.
fn ancestors(rels: &[Rel], table: &str) -> Vec<String> {
    let mut out = vec![table.to_string()];
    let mut at = table.trim_start_matches("public.").to_string();
    while let Some(p) = rels
        .iter()
        .find(|r| r.name == at)
        .and_then(|r| r.parent.clone())
    {
        out.push(format!("public.{p}"));
        at = p;
    }
    out
}

/// Issue 18's checks of one statement against what ran; the problems found.
fn check(net: &Network, st: &Statement, g: &Graph, ran: &Ran) -> Vec<String> {
    let mut bad = Vec::new();
    let root = format!("public.{}", st.table);
    let root_id = format!("table:{root}");
    let live = |e: &&Value| e["skipped"].is_null();
    // Functions that ran whose opaque dynamic SQL could have done anything.
    let opaque_ran = g.edges().any(|e| {
        e["kind"] == "dynamic"
            && e["opaque"] == true
            && function_name(e["from"].as_str().unwrap()).is_some_and(|f| ran.functions.contains(f))
    });

    FUNCTIONS_SEEN.fetch_add(ran.functions.len(), Relaxed);
    if st.event == "update" && ran.order.iter().any(|f| f.depth == 1 && f.op != "update") {
        MOVED_ROWS.fetch_add(1, Relaxed);
    }
    // An inheritance child's trigger fired for a statement on its parent.
    let inherits = net
        .rels
        .iter()
        .any(|r| r.name == st.table && r.parent.is_none() && !r.partitioned);
    let reaches_rows = matches!(st.event, "update" | "delete");
    if inherits && reaches_rows && ran.order.iter().any(|f| f.depth == 1 && f.table != root) {
        CHILD_ROWS.fetch_add(1, Relaxed);
    }
    // 1. Every function that ran is a node.
    let graph_functions: BTreeSet<&str> = g
        .nodes()
        .filter(|n| !n["reached"].is_null())
        .filter_map(|n| function_name(n["id"].as_str().unwrap()))
        .collect();
    for f in &ran.functions {
        if !graph_functions.contains(f.as_str()) && !opaque_ran {
            bad.push(format!("function {f} ran but is not in the graph"));
        }
    }

    // 2. Every table written, for the event it was written with, is a state the graph
    // reaches: the root (its partitions and children for the root's statement), a writes
    // edge, a cascade. A write to a partitioned table or a parent lands in a partition.
    let mut states: BTreeSet<(String, &str)> = BTreeSet::new();
    for t in family(&net.rels, &st.table) {
        states.insert((t, st.event));
    }
    for e in g.edges().filter(live) {
        let to = e["to"].as_str().unwrap().trim_start_matches("table:");
        match e["kind"].as_str().unwrap() {
            "writes" => {
                let op = e["op"].as_str().unwrap();
                states.insert((to.to_string(), op_static(op)));
                // ON CONFLICT-free INSERT/UPDATE only; an UPDATE moving a row is a DELETE
                // and an INSERT.
            }
            "cascade" => {
                let ev = match (e["event"].as_str(), e["action"].as_str()) {
                    (Some("delete"), Some("cascade")) => "delete",
                    (_, Some("truncate")) | (Some("truncate"), _) => "truncate",
                    _ => "update",
                };
                states.insert((to.to_string(), ev));
            }
            _ => {}
        }
    }
    for (t, (i, u, d)) in &ran.tables {
        for (n, ev) in [(i, "insert"), (u, "update"), (d, "delete")] {
            if *n == 0 {
                continue;
            }
            let covered = ancestors(&net.rels, t).iter().any(|a| {
                states.contains(&(a.clone(), ev))
                    // A row moved between partitions by an UPDATE is deleted from one and
                    // inserted into another.
                    || (ev != "update" && a != t && states.contains(&(a.clone(), "update")))
            });
            if !covered && !opaque_ran {
                bad.push(format!(
                    "table {t} had {n} row(s) {ev}d but the graph has no {ev} of it"
                ));
            }
        }
    }

    // 3. What the graph marks `always` ran. A trigger is not observable: its fires and calls
    // edges are taken together.
    // TRUNCATE zeroes the counts of the rows written earlier in the transaction to the
    // tables it truncates: those cannot be seen.
    let mut truncated: BTreeSet<String> = BTreeSet::new();
    if st.event == "truncate" {
        truncated.extend(family(&net.rels, &st.table));
        for e in g
            .edges()
            .filter(|e| e["kind"] == "cascade" && e["event"] == "truncate")
        {
            let to = e["to"]
                .as_str()
                .unwrap()
                .trim_start_matches("table:public.");
            truncated.extend(family(&net.rels, to));
        }
    }
    // As a source, a table ran when rows of its own were written (a write to a partition
    // is no statement on its parent); as the target of a write, a partitioned table or an
    // inheritance parent counts what landed in its partitions or children.
    let node_ran = |id: &str, event: Option<&str>, as_target: bool| -> Option<bool> {
        if let Some(f) = function_name(id) {
            return Some(ran.functions.contains(f));
        }
        let t = id.strip_prefix("table:")?;
        let members = if as_target {
            if truncated.contains(t) {
                return None;
            }
            family(&net.rels, t.trim_start_matches("public."))
        } else {
            BTreeSet::from([t.to_string()])
        };
        let (mut i, mut u, mut d) = (0, 0, 0);
        for member in members {
            let (a, b, c) = ran.tables.get(&member).copied().unwrap_or_default();
            (i, u, d) = (i + a, u + b, d + c);
        }
        Some(match event {
            Some("insert") => i > 0,
            Some("update") => u > 0,
            Some("delete") => d > 0,
            _ => return None,
        })
    };
    let edges: Vec<&Value> = g.edges().filter(live).collect();
    for e in &edges {
        let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
        if from.starts_with("trigger:") {
            continue;
        }
        let mut steps: Vec<(String, Option<&str>, u8)> = Vec::new();
        if to.starts_with("trigger:") {
            for c in edges
                .iter()
                .filter(|c| c["from"] == to && c["kind"] == "calls")
            {
                steps.push((
                    c["to"].as_str().unwrap().to_string(),
                    None,
                    rank(&e["certainty"]).min(rank(&c["certainty"])),
                ));
            }
        } else {
            let tev = (e["kind"] == "writes").then(|| e["op"].as_str().unwrap());
            steps.push((to.to_string(), tev, rank(&e["certainty"])));
        }
        let src = if from == root_id {
            Some(true)
        } else {
            node_ran(from, e["event"].as_str(), false)
        };
        for (target, tev, r) in steps {
            if r == 2 && src == Some(true) {
                match node_ran(&target, tev, true) {
                    Some(false) => bad.push(format!("always edge {from} → {target} did not run")),
                    Some(true) => {
                        ALWAYS_HELD.fetch_add(1, Relaxed);
                    }
                    None => {}
                }
            }
        }
    }
    for n in g.nodes() {
        let id = n["id"].as_str().unwrap();
        if n["reached"] == "always"
            && function_name(id).is_some()
            && !ran.functions.contains(function_name(id).unwrap())
        {
            bad.push(format!("{id} is reached always but did not run"));
        }
    }

    // 4. The first-level firing order agrees with the graph's in every pair.
    let graph_order: Vec<(String, Option<String>, String)> = g.v["firing_order"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["skipped"].is_null())
        .map(|e| {
            (
                e["trigger"].as_str().unwrap().to_string(),
                e["routed_to"].as_str().map(str::to_string),
                e["fires_as"].as_str().unwrap_or(st.event).to_string(),
            )
        })
        .collect();
    let fam = family(&net.rels, &st.table);
    let first: Vec<&Fired> = ran
        .order
        .iter()
        .filter(|f| f.depth == 1 && fam.contains(&f.table))
        .collect();
    // A trigger shown routed to a partition fires on that partition or, when it is
    // partitioned itself, on the leaf under it the row lands in; a moved row's triggers
    // fire as the DELETE or INSERT they are shown as.
    let position = |f: &Fired| {
        let up = ancestors(&net.rels, &f.table);
        graph_order.iter().position(|(name, routed, op)| {
            *name == f.trigger && *op == f.op && routed.as_ref().is_none_or(|r| up.contains(r))
        })
    };
    let mut last: Option<(usize, String)> = None;
    for f in first {
        let (table, trigger) = (&f.table, &f.trigger);
        match position(f) {
            None => bad.push(format!(
                "trigger {trigger} fired on {table} but is not in the firing order {graph_order:?}"
            )),
            Some(p) => {
                if let Some((q, prev)) = &last {
                    ORDER_PAIRS.fetch_add(1, Relaxed);
                    if p < *q {
                        bad.push(format!(
                            "{trigger} fired after {prev} but the graph orders it before"
                        ));
                    }
                }
                last = Some((p, trigger.clone()));
            }
        }
    }
    bad
}

fn op_static(op: &str) -> &'static str {
    match op {
        "insert" => "insert",
        "update" => "update",
        "delete" => "delete",
        "truncate" => "truncate",
        other => panic!("unknown write op {other}"),
    }
}

/// The notification check of a committed statement.
fn check_notify(g: &Graph, ran: &Ran, received: &BTreeSet<String>) -> Vec<String> {
    let mut bad = Vec::new();
    let computed = g.has_node("channel:?");
    for ch in received {
        if !g.has_node(&format!("channel:{ch}")) && !computed {
            bad.push(format!("channel {ch} was notified but is not in the graph"));
        }
    }
    for e in g
        .edges()
        .filter(|e| e["kind"] == "notifies" && e["certainty"] == "always")
    {
        let from = function_name(e["from"].as_str().unwrap());
        let ch = e["to"].as_str().unwrap().trim_start_matches("channel:");
        if from.is_some_and(|f| ran.functions.contains(f)) && ch != "?" && !received.contains(ch) {
            bad.push(format!(
                "{} always notifies {ch} and ran, but {ch} was not received",
                from.unwrap()
            ));
        }
    }
    bad
}

/// The snapshot `s` of a store, with the kinds the graph reads.
fn load_snapshot(store: &std::path::Path) -> driftgate::model::CatalogSnapshot {
    let st = driftgate::store::Store::open(store).unwrap();
    let driftgate::store::Resolved::Stored(id) = st.resolve("s").unwrap() else {
        panic!("ref s is not stored")
    };
    st.load_snapshot_kinds(&id, Some(&driftgate::graph::KINDS_USED))
        .unwrap()
}

/// The fan-out of `event` on `public.TABLE` (an UPDATE setting `columns`) as the CLI's
/// JSON has it (`graph … --format json` walks with the same options).
fn fanout_json(
    snap: &driftgate::model::CatalogSnapshot,
    table: &str,
    event: &str,
    columns: &[String],
) -> Graph {
    let e = driftgate::graph::parse_event(event).unwrap();
    let columns = (event == "update").then(|| columns.to_vec());
    let f = driftgate::graph::table_fanout(
        snap,
        &format!("public.{table}"),
        e,
        columns,
        &driftgate::graph::WalkOptions {
            depth: None,
            database_graph: true,
        },
    )
    .unwrap();
    Graph {
        v: serde_json::to_value(&f).unwrap(),
    }
}

struct SeedResult {
    pairs: usize,
    notified: usize,
    problems: Vec<String>,
}

async fn run_seed(seed: u64) -> SeedResult {
    let net = Network::generate(seed);
    let path = sql_dir().join(format!("seed-{seed}.sql"));
    std::fs::write(&path, &net.sql).unwrap();
    let t0 = Instant::now();
    let db = cluster().create_db(&format!("gx_{seed}"));
    let out = cluster().psql_raw(&db.name, &net.sql, &[]);
    assert!(
        out.status.success(),
        "seed {seed}: the generated SQL {} fails:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // The store is kept next to the SQL, so that a failing seed's graph can be looked at
    // with `driftgate --store target/graphexec/store-N graph s TABLE`.
    let store = sql_dir().join(format!("store-{seed}"));
    let _ = std::fs::remove_dir_all(&store);
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "s"]);
    assert_eq!(r.code, 0, "seed {seed}: {r:?}");
    let snap = load_snapshot(&store);
    SETUP_MS.fetch_add(t0.elapsed().as_millis() as usize, Relaxed);
    let graph_of = |s: &Statement| fanout_json(&snap, &s.table, s.event, &s.columns);
    let url = format!("{}?sslmode=disable", db.dsn);
    let mut c = PgConnection::connect(&url).await.unwrap();
    let statements = net.statements();
    let mut problems = Vec::new();
    let mut graphs: HashMap<usize, Graph> = HashMap::new();
    let context = |s: &Statement| {
        format!(
            "seed {seed} ({}), {} on {}: {}",
            path.display(),
            s.event,
            s.table,
            s.sql
        )
    };
    for (i, s) in statements.iter().enumerate() {
        let t = Instant::now();
        let g = graph_of(s);
        GRAPH_MS.fetch_add(t.elapsed().as_millis() as usize, Relaxed);
        match run_statement(&mut c, &s.sql, false).await {
            Ok(ran) => {
                for p in check(&net, s, &g, &ran) {
                    problems.push(format!("{}: {p}", context(s)));
                }
            }
            Err(e) => problems.push(format!("{}: the statement failed: {e}", context(s))),
        }
        graphs.insert(i, g);
    }

    // Committed, with a LISTEN session: each statement in its own transaction, and a
    // sentinel notification after it so that everything it sent has arrived.
    let t = Instant::now();
    let mut listener = sqlx::postgres::PgListener::connect(&url).await.unwrap();
    let mut channels: Vec<&str> = net.channels.iter().map(String::as_str).collect();
    channels.push("dg_sentinel");
    listener.listen_all(channels).await.unwrap();
    let mut notified = 0;
    for (i, s) in statements.iter().enumerate() {
        let ran = match run_statement(&mut c, &s.sql, true).await {
            Ok(r) => r,
            // The committed state has moved on (a row deleted, a table truncated); a
            // statement the rolled-back pass ran is allowed to fail here only for a key
            // collision, which the generator avoids: report anything.
            Err(e) => {
                problems.push(format!(
                    "{}: the committed statement failed: {e}",
                    context(s)
                ));
                continue;
            }
        };
        c.execute(format!("NOTIFY dg_sentinel, '{i}'").as_str())
            .await
            .unwrap();
        let mut received = BTreeSet::new();
        loop {
            let n = tokio::time::timeout(Duration::from_secs(20), listener.recv())
                .await
                .expect("notifications arrive")
                .unwrap();
            if n.channel() == "dg_sentinel" {
                if n.payload() == i.to_string() {
                    break;
                }
                continue;
            }
            received.insert(n.channel().to_string());
        }
        notified += received.len();
        for p in check_notify(&graphs[&i], &ran, &received) {
            problems.push(format!("{} (committed): {p}", context(s)));
        }
    }
    listener.unlisten_all().await.ok();
    drop(listener);
    c.close().await.ok();
    NOTIFY_MS.fetch_add(t.elapsed().as_millis() as usize, Relaxed);
    cluster().sql(
        "postgres",
        &format!("DROP DATABASE \"{}\" WITH (FORCE)", db.name),
    );
    SeedResult {
        pairs: statements.len(),
        notified,
        problems,
    }
}

#[test]
fn random_trigger_networks_do_what_the_graph_says() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let mut pairs = 0;
    let mut notified = 0;
    let mut failures = Vec::new();
    let seeds = seeds();
    for &seed in &seeds {
        let r = rt.block_on(run_seed(seed));
        pairs += r.pairs;
        notified += r.notified;
        if !r.problems.is_empty() {
            failures.push((seed, r.problems));
        }
    }
    let (functions, always, order) = (
        FUNCTIONS_SEEN.load(Relaxed),
        ALWAYS_HELD.load(Relaxed),
        ORDER_PAIRS.load(Relaxed),
    );
    let (moved, children) = (MOVED_ROWS.load(Relaxed), CHILD_ROWS.load(Relaxed));
    eprintln!(
        "graphexec: {} seeds, {pairs} (table, event) pairs, {functions} functions run, {always} \
         always steps held, {order} firing-order pairs, {moved} UPDATEs moving a row, {children} \
         statements reaching inheritance children, {notified} notifications, PostgreSQL {}, {:.1} s \
         (setup and snapshots {} ms, graph walks {} ms, committed pass {} ms)",
        seeds.len(),
        cluster().version_num,
        start.elapsed().as_secs_f64(),
        SETUP_MS.load(Relaxed),
        GRAPH_MS.load(Relaxed),
        NOTIFY_MS.load(Relaxed),
    );
    if !failures.is_empty() {
        let mut msg = String::new();
        for (seed, problems) in &failures {
            msg.push_str(&format!(
                "\n== seed {seed} (replay: DRIFTGATE_GRAPH_SEED={seed}), {} problem(s):\n",
                problems.len()
            ));
            for p in problems.iter().take(12) {
                msg.push_str(&format!("  {p}\n"));
            }
        }
        panic!(
            "{} of {} seeds disagree with PostgreSQL:{msg}",
            failures.len(),
            seeds.len()
        );
    }
    assert!(pairs >= seeds.len() * 12, "every seed ran its statements");
    // The default run must have exercised each kind of check (a replayed seed need not).
    if seeds.len() >= 30 {
        assert!(
            functions > 1000 && always > 500 && order > 200 && moved > 0 && children > 0 && notified > 50,
            "the networks exercised too little: {functions} functions, {always} always steps, \
             {order} order pairs, {moved} moves, {children} inheritance statements, {notified} notifications"
        );
    }
}

/// An UPDATE moving a row between partitions of a table that a foreign key references: to
/// the key it is a DELETE and an INSERT before PostgreSQL 15 (its ON DELETE CASCADE deletes
/// the referencing row), an UPDATE of the key from 15 on (its ON UPDATE CASCADE updates it).
/// The graph branches on the snapshot's server version; PostgreSQL says which ran.
#[test]
fn a_row_moved_between_partitions_is_a_delete_to_foreign_keys_before_15_and_an_update_after() {
    let db = empty_db("gx_move");
    db.sql(
        "CREATE TABLE pp (id int, k int, v text NOT NULL DEFAULT '', PRIMARY KEY (id, k))
             PARTITION BY RANGE (k);
         CREATE TABLE pp0 PARTITION OF pp FOR VALUES FROM (MINVALUE) TO (10);
         CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (10) TO (MAXVALUE);
         CREATE TABLE ch (id int PRIMARY KEY, pid int, pk int,
             FOREIGN KEY (pid, pk) REFERENCES pp (id, k) ON DELETE CASCADE ON UPDATE CASCADE);
         DO $$
         DECLARE f text;
         BEGIN
             FOREACH f IN ARRAY ARRAY['fn_ch_del', 'fn_ch_upd', 'fn_pp_del', 'fn_pp_ins', 'fn_pp_upd']
             LOOP
                 EXECUTE format('CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS
                     $b$BEGIN RETURN NULL; END$b$', f);
             END LOOP;
         END $$;
         CREATE TRIGGER ch_del AFTER DELETE ON ch FOR EACH ROW EXECUTE FUNCTION fn_ch_del();
         CREATE TRIGGER ch_upd AFTER UPDATE ON ch FOR EACH ROW EXECUTE FUNCTION fn_ch_upd();
         CREATE TRIGGER pp_del AFTER DELETE ON pp FOR EACH ROW EXECUTE FUNCTION fn_pp_del();
         CREATE TRIGGER pp_ins AFTER INSERT ON pp FOR EACH ROW EXECUTE FUNCTION fn_pp_ins();
         CREATE TRIGGER pp_upd AFTER UPDATE ON pp FOR EACH ROW EXECUTE FUNCTION fn_pp_upd();
         INSERT INTO pp VALUES (1, 3), (2, 4);
         INSERT INTO ch VALUES (1, 1, 3);",
    );
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", "s"]);
    assert_eq!(r.code, 0, "{r:?}");
    let snap = load_snapshot(store.path());
    let before_15 = cluster().version_num < 150_000;
    assert_eq!(snap.meta.server_version_num, cluster().version_num);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("{}?sslmode=disable", db.dsn);
    let mut c = rt.block_on(PgConnection::connect(&url)).unwrap();
    let ran = |c: &mut PgConnection, sql: &str| rt.block_on(run_statement(c, sql, false)).unwrap();
    let reached = |g: &Graph, f: &str| {
        g.nodes()
            .find(|n| function_name(n["id"].as_str().unwrap()) == Some(f))
            .map(|n| n["reached"].as_str().unwrap_or("unreached").to_string())
    };

    // The key moves: pp0 → pp1.
    let g = fanout_json(&snap, "pp", "update", &["k".to_string()]);
    let moved = ran(&mut c, "UPDATE pp SET k = 15 WHERE id = 1");
    let (fk_ran, fk_not) = if before_15 {
        ("fn_ch_del", "fn_ch_upd")
    } else {
        ("fn_ch_upd", "fn_ch_del")
    };
    // Drawn, and not as `always`: only a row whose key moves runs them.
    for f in ["fn_pp_del", "fn_pp_ins", fk_ran] {
        assert!(
            moved.functions.contains(f),
            "{f} ran: {:?}",
            moved.functions
        );
        let r = reached(&g, f);
        assert!(
            r.is_some() && r.as_deref() != Some("always"),
            "{f}: {r:?} {:#}",
            g.v
        );
    }
    for f in ["fn_pp_upd", fk_not] {
        assert!(
            !moved.functions.contains(f),
            "{f} did not run: {:?}",
            moved.functions
        );
    }
    if before_15 {
        // The ON DELETE action is drawn for the move, and only for it.
        let e = g
            .edges()
            .find(|e| {
                e["kind"] == "cascade" && e["to"] == "table:public.ch" && e["columns"].is_null()
            })
            .unwrap_or_else(|| panic!("no delete cascade for the move: {:#}", g.v));
        assert_eq!(e["certainty"], "conditional");
        assert!(e["guard"].as_str().unwrap().contains("moves a row"), "{e}");
    } else {
        assert_eq!(reached(&g, "fn_ch_del"), None, "no DELETE of ch from 15 on");
    }
    // The AFTER UPDATE row trigger does not fire for a moved row.
    let upd = g.v["firing_order"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["trigger"] == "pp_upd" && e["fires_as"].is_null())
        .unwrap();
    assert!(
        upd["conditions"]
            .to_string()
            .contains("unless the UPDATE moves the row"),
        "{upd}"
    );

    // The key stays: no move, the UPDATE triggers and nothing of the moved row's.
    let g = fanout_json(&snap, "pp", "update", &["v".to_string()]);
    let stayed = ran(&mut c, "UPDATE pp SET v = 'x' WHERE id = 1");
    assert!(stayed.functions.contains("fn_pp_upd"));
    assert_eq!(reached(&g, "fn_pp_upd").as_deref(), Some("always"));
    for f in ["fn_pp_del", "fn_pp_ins", "fn_ch_del", "fn_ch_upd"] {
        assert!(!stayed.functions.contains(f), "{f}");
        assert_eq!(
            reached(&g, f),
            None,
            "{f} is not reached when the key is not set"
        );
    }
}
