//! Hostile identifiers: schema, table, column, trigger, function and channel names with
//! quotes, spaces, newlines, `<script>`, `-->`, `|`, backticks, Mermaid syntax, non-ASCII,
//! and names of exactly 63 bytes (PostgreSQL's limit). They round-trip exactly through the
//! store, and every output format escapes them: no name can add a line to a table, a row
//! or cell to Markdown, HTML to a PR comment, or statements to DOT and Mermaid.

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use support::*;

const SCHEMA: &str = "sch \"q\" <script>alert(1)</script> -->|`x`\nINJECTED schema ü";
const TABLE: &str = "tbl \"q\" <script>|`-->\nINJECTED table 漢字";
const COLUMN: &str = "col \"q\" <b>|```-->\nINJECTED column é";
const TRIGGER: &str = "trg \"q\" ]; click n0 call alert()|`-->\nINJECTED trigger";
const FUNCTION: &str = "fn \"q\" <i>|``` %%-->\nINJECTED function ü";
const CHANNEL: &str = "chan \"q\" <script>|`-->\nINJECTED channel ü";

/// 63 bytes, the longest name PostgreSQL keeps: multi-byte characters and a pipe.
fn table_63() -> String {
    format!("{}<|>", "ü".repeat(30))
}

/// 63 bytes with quotes and a space.
fn trigger_63() -> String {
    format!("trg \"{}\"", "x".repeat(57))
}

/// As in SQL and in driftgate keys: double-quoted, `"` doubled.
fn qi(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn table_key() -> String {
    format!("{}.{}", qi(SCHEMA), qi(TABLE))
}

fn setup() -> (TestDb, tempfile::TempDir) {
    assert_eq!(table_63().len(), 63);
    assert_eq!(trigger_63().len(), 63);
    let db = fixture_db("hostile");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "base"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let (s, t, c, f) = (qi(SCHEMA), qi(TABLE), qi(COLUMN), qi(FUNCTION));
    let (t63, trg63) = (qi(&table_63()), qi(&trigger_63()));
    db.sql(&format!(
        "CREATE SCHEMA {s};
         CREATE TABLE {s}.{t} ({c} int, plain int);
         CREATE TABLE {s}.{t63} (id int);
         CREATE FUNCTION {s}.{f}() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN
             PERFORM pg_notify('{CHANNEL}', 'x');
             INSERT INTO {s}.{t63} (id) VALUES (1);
             RETURN NEW;
         END $fn$;
         CREATE TRIGGER {trg} AFTER INSERT ON {s}.{t} FOR EACH ROW EXECUTE FUNCTION {s}.{f}();
         CREATE TRIGGER {trg63} BEFORE UPDATE OF {c} ON {s}.{t} FOR EACH ROW
             WHEN (OLD.{c} IS DISTINCT FROM NEW.{c}) EXECUTE FUNCTION {s}.{f}();
         COMMENT ON TABLE {s}.{t} IS 'comment <script> -->|`\nINJECTED comment';",
        trg = qi(TRIGGER),
    ));
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--ref",
            "head",
            "--label",
            "label <script>|`\nINJECTED label",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    (db, store)
}

fn run_ok(store: &std::path::Path, args: &[&str], code: i32) -> String {
    let r = driftgate(store, args);
    assert_eq!(r.code, code, "{args:?}: {r:?}");
    r.stdout
}

/// No line of `text` starts with what follows a newline inside a name.
fn assert_no_forged_lines(what: &str, text: &str) {
    for line in text.lines() {
        assert!(
            !line
                .trim_start_matches(['|', ' ', '+', '-', '`'])
                .starts_with("INJECTED"),
            "{what}: a name broke out of its line: {line:?}\n{text}"
        );
    }
}

#[test]
fn hostile_names_round_trip_exactly_through_the_store_and_a_snapshot_file() {
    let (_db, store) = setup();
    let s = store.path();
    let objects: Vec<Value> =
        serde_json::from_str(&run_ok(s, &["show", "head", "--format", "json"], 0)).unwrap();
    let find = |kind: &str, name: &str| -> &Value {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} named {name:?}"))
    };
    assert_eq!(
        find("schema", SCHEMA)["key"],
        format!("schema:{}", qi(SCHEMA))
    );
    let table = find("table", TABLE);
    assert_eq!(table["schema"], SCHEMA);
    assert_eq!(table["key"], format!("table:{}", table_key()));
    assert!(table["columns"][COLUMN].is_object(), "{table:#}");
    assert_eq!(table["comment"], "comment <script> -->|`\nINJECTED comment");
    assert_eq!(find("table", &table_63())["schema"], SCHEMA);
    let trigger = find("trigger", TRIGGER);
    assert_eq!(
        trigger["key"],
        format!("trigger:{}.{}", table_key(), qi(TRIGGER))
    );
    let long = find("trigger", &trigger_63());
    assert_eq!(long["update_columns"], serde_json::json!([COLUMN]));
    let function = find("function", FUNCTION);
    assert_eq!(
        function["key"],
        format!("function:{}.{}()", qi(SCHEMA), qi(FUNCTION))
    );
    assert!(function["source"].as_str().unwrap().contains(CHANNEL));

    // Through a snapshot file and back: the same fingerprints.
    let file = s.join("head.json");
    run_ok(s, &["export", "head", "-o", file.to_str().unwrap()], 0);
    let scope = format!("triggers:{}", table_key());
    let args = |snap: &str| {
        vec![
            "fingerprint".to_string(),
            snap.to_string(),
            "--scope".into(),
            "catalog".into(),
            "--scope".into(),
            scope.clone(),
        ]
    };
    let from_store = run_ok(
        s,
        &args("head").iter().map(String::as_str).collect::<Vec<_>>(),
        0,
    );
    let from_file = run_ok(
        s,
        &args(file.to_str().unwrap())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        0,
    );
    assert_eq!(from_store, from_file);
    assert_eq!(
        from_store.lines().count(),
        2,
        "one line per scope: {from_store}"
    );
    assert_no_forged_lines("fingerprint", &from_store);

    // The channel, read from the stored body, is the exact literal.
    let graph: Value = serde_json::from_str(&run_ok(
        s,
        &["graph", "head", &table_key(), "--format", "json"],
        0,
    ))
    .unwrap();
    let channel = format!("channel:{CHANNEL}");
    assert!(
        graph["nodes"]
            .to_string()
            .contains(&serde_json::to_string(&channel).unwrap()),
        "{graph:#}"
    );
}

#[test]
fn hostile_names_cannot_forge_lines_in_tables() {
    let (_db, store) = setup();
    let s = store.path();
    let triggers = format!("triggers:{}", table_key());
    let shown = run_ok(s, &["show", "head"], 0);
    let entries: Vec<Value> =
        serde_json::from_str(&run_ok(s, &["show", "head", "--format", "json"], 0)).unwrap();
    assert_eq!(
        shown.lines().count(),
        entries.len() + 2,
        "one line per object:\n{shown}"
    );
    assert!(shown.contains(&format!("table:{}", table_key()).replace('\n', "\\n")));
    for (what, args, code) in [
        ("show", vec!["show", "head", "--kind", "trigger"], 0),
        ("diff", vec!["diff", "base", "head"], 1),
        ("gate", vec!["gate", "base", "head"], 1),
        (
            "verify",
            vec!["verify", "base", "--against", "head", "--scope", &triggers],
            1,
        ),
        ("log", vec!["log"], 0),
        ("graph tree", vec!["graph", "head", &table_key()], 0),
        // The hostile table is only in head: every trigger, edge and channel is added.
        ("graph diff", vec!["graph", "base", "head", &table_key()], 1),
    ] {
        let out = run_ok(s, &args, code);
        assert_no_forged_lines(what, &out);
    }
    let log = run_ok(s, &["log"], 0);
    assert!(log.contains("label <script>|`\\nINJECTED label"), "{log}");
}

#[test]
fn hostile_names_are_exact_in_json() {
    let (_db, store) = setup();
    let s = store.path();
    let diff: Value =
        serde_json::from_str(&run_ok(s, &["diff", "base", "head", "--format", "json"], 1)).unwrap();
    let keys: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&format!("table:{}", table_key()).as_str()),
        "{keys:?}"
    );
    let gate: Value =
        serde_json::from_str(&run_ok(s, &["gate", "base", "head", "--format", "json"], 1)).unwrap();
    assert_eq!(gate["verdict"], "BLOCK");
    assert!(gate["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["key"] == format!("trigger:{}.{}", table_key(), qi(TRIGGER))));
}

/// Markdown with the fenced blocks and code spans taken out: what GitHub would render as
/// Markdown and HTML.
fn markdown_outside_code(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<usize> = None;
    for line in md.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match fence {
            Some(n) if ticks >= n && line.trim_start_matches('`').trim().is_empty() => {
                fence = None;
                continue;
            }
            Some(_) => continue,
            None if ticks >= 3 => {
                fence = Some(ticks);
                continue;
            }
            None => {}
        }
        // Drop code spans: a run of n backticks up to the next run of exactly n.
        let mut text = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '`' {
                let n = chars[i..].iter().take_while(|c| **c == '`').count();
                let mut j = i + n;
                let mut closed = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let m = chars[j..].iter().take_while(|c| **c == '`').count();
                        if m == n {
                            closed = Some(j + m);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                match closed {
                    Some(end) => {
                        text.push_str("CODE");
                        i = end;
                    }
                    None => {
                        text.extend(&chars[i..i + n]);
                        i += n;
                    }
                }
            } else {
                text.push(chars[i]);
                i += 1;
            }
        }
        out.push(text);
    }
    assert!(fence.is_none(), "an unclosed fence:\n{md}");
    out
}

/// Markdown a hostile name must not break: no forged line, no raw HTML outside code (a
/// backslash-escaped character is text), no extra table cell. Returns its table rows.
fn assert_safe_markdown(md: &str, cells: &[usize]) -> usize {
    assert_no_forged_lines("markdown", md);
    let mut rows = 0;
    for line in markdown_outside_code(md) {
        let mut unescaped = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                chars.next();
                unescaped.push('_');
            } else {
                unescaped.push(c);
            }
        }
        let html = unescaped
            .replace("<details>", "")
            .replace("</details>", "")
            .replace("<summary>", "")
            .replace("</summary>", "")
            .replace("<code>", "")
            .replace("</code>", "");
        assert!(
            !html.contains('<') && !html.contains("-->") && !html.contains("]("),
            "raw HTML or a link outside code: {line:?}\n{md}"
        );
        if line.starts_with('|') {
            rows += 1;
            let pipes = unescaped.matches('|').count();
            assert!(
                cells.contains(&(pipes - 1)),
                "a name split a table row: {line:?}\n{md}"
            );
        }
    }
    rows
}

#[test]
fn hostile_names_are_escaped_in_markdown() {
    let (db, store) = setup();
    let s = store.path();
    let md = run_ok(s, &["diff", "base", "head", "--format", "markdown"], 1);
    assert!(assert_safe_markdown(&md, &[3, 4]) >= 6, "{md}");
    // The names are there, escaped, not lost.
    assert!(md.contains("INJECTED table 漢字"), "{md}");

    // check's summary (for $GITHUB_STEP_SUMMARY) and its table on stdout.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftgate.toml");
    std::fs::write(
        &config,
        format!("[[target]]\nname = \"h\"\ndsn = \"{}\"\n", db.dsn),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    run_ok(
        s,
        &["baseline", "accept", "h", "base", "--config", config],
        0,
    );
    let summary = dir.path().join("summary.md");
    let out = run_ok(
        s,
        &[
            "check",
            "--config",
            config,
            "--markdown",
            summary.to_str().unwrap(),
        ],
        1,
    );
    assert_no_forged_lines("check", &out);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(assert_safe_markdown(&md, &[5, 6]) >= 3, "{md}");
    assert!(md.contains("INJECTED"), "{md}");
}

fn graphviz(dot: &str) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` must be installed (scripts/setup.sh)");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), dot.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "dot rejected:\n{stderr}\n{dot}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hostile_names_are_escaped_in_dot_and_mermaid() {
    let (_db, store) = setup();
    let s = store.path();
    for args in [
        vec!["graph", "head", &table_key(), "--format", "dot"],
        vec![
            "graph",
            "head",
            &table_key(),
            "--format",
            "dot",
            "--event",
            "update",
        ],
        vec!["graph", "head", "--format", "dot"],
        vec!["graph", "base", "head", &table_key(), "--format", "dot"],
    ] {
        let code = if args[2] == "head" { 1 } else { 0 };
        let dot = run_ok(s, &args, code);
        assert_no_forged_lines("dot", &dot);
        let svg = graphviz(&dot);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{args:?}: {svg}");
    }
    for args in [
        vec!["graph", "head", &table_key(), "--format", "mermaid"],
        vec!["graph", "head", "--format", "mermaid"],
        vec!["graph", "base", "head", &table_key(), "--format", "mermaid"],
    ] {
        let code = if args[2] == "head" { 1 } else { 0 };
        let mermaid = run_ok(s, &args, code);
        let mut lines: Vec<&str> = mermaid.lines().collect();
        // A fan-out picture's front matter: its title is one JSON string (a YAML
        // double-quoted scalar) whatever the names hold.
        if lines[0] == "---" {
            let title = lines[1].strip_prefix("title: ").expect("a title line");
            let _: String = serde_json::from_str(title).expect("the title is one JSON string");
            assert_eq!(lines[2], "---", "{mermaid}");
            lines.drain(..3);
        }
        assert_eq!(lines[0], "flowchart LR");
        for l in &lines[1..] {
            assert!(
                l.starts_with("  n")
                    || l.starts_with("  style n")
                    || l.starts_with("  linkStyle")
                    || l.starts_with("  hazard")
                    || l.starts_with("  class")
                    || l.starts_with("  subgraph legend[")
                    || l.starts_with("    legend")
                    || *l == "  end",
                "injected line: {l:?}\n{mermaid}"
            );
            assert!(l.matches('"').count() <= 2, "{l}");
            let label = l.split('"').nth(1).unwrap_or_default();
            for bad in ["<", ">|", "`", "%%", "\n"] {
                assert!(!label.contains(bad), "{bad:?} in label {label:?}");
            }
        }
        assert!(!mermaid.contains("<script>"), "{mermaid}");
    }
}

/// ESC, BEL and a newline in a relation's name: no raw control byte reaches a terminal or a
/// CI log — not the lock-timeout error of `snapshot`, nor diff, gate or check (table,
/// Markdown, GitHub annotations).
#[test]
fn control_bytes_in_a_name_never_reach_a_terminal_or_a_ci_log() {
    let db = fixture_db("ctlbytes");
    let name = "format('t' || chr(27) || '[2J' || chr(27) || ']0;pwn' || chr(7) || chr(10) || 'X')";
    db.sql(&format!(
        "CREATE TABLE base_t (id int);
         DO $$ BEGIN
           EXECUTE format('CREATE VIEW public.%I AS SELECT id FROM base_t WHERE id > 0', {name});
           EXECUTE format('CREATE TABLE public.%I (id int)', {name} || '_tbl');
           EXECUTE format('CREATE FUNCTION public.f_ctl() RETURNS trigger LANGUAGE plpgsql AS %L',
                          'BEGIN RETURN NEW; END');
           EXECUTE format('CREATE TRIGGER trg_ctl BEFORE INSERT ON public.%I FOR EACH ROW EXECUTE FUNCTION public.f_ctl()',
                          {name} || '_tbl');
         END $$;"
    ));
    let raw = |what: &str, text: &str| {
        let bad: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
            .collect();
        assert!(
            bad.is_empty(),
            "{what} printed raw control characters {bad:?}:\n{text}"
        );
        assert!(
            !text.contains("\nX"),
            "{what}: a name forged a line:\n{text}"
        );
    };
    let store = tempfile::tempdir().unwrap();
    let s = store.path();
    let r = driftgate(s, &["snapshot", "--dsn", &db.dsn, "--ref", "before"]);
    assert_eq!(r.code, 0, "{r:?}");
    raw("snapshot", &r.all());

    // A lock on the hostile view: the error names it, escaped.
    let mut holder = db.session();
    holder.send(&format!(
        "BEGIN; DO $$ BEGIN EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', {name}); END $$;"
    ));
    wait_until(
        std::time::Duration::from_secs(20),
        "the lock to be held",
        || {
            db.query(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND c.relname LIKE 't%pwn%'",
            ) == "1"
        },
    );
    let r = driftgate(
        s,
        &["snapshot", "--dsn", &db.dsn, "--lock-timeout", "500ms"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("lock timeout"), "{r:?}");
    assert!(
        r.stderr.contains("\\u{1b}[2J"),
        "the name is shown escaped: {r:?}"
    );
    raw("snapshot (lock timeout)", &r.all());
    drop(holder);

    db.sql(&format!(
        "DO $$ BEGIN EXECUTE format('ALTER TABLE public.%I DISABLE TRIGGER trg_ctl', {name} || '_tbl'); END $$;"
    ));
    let r = driftgate(s, &["snapshot", "--dsn", &db.dsn, "--ref", "after"]);
    assert_eq!(r.code, 0, "{r:?}");
    for format in ["table", "markdown", "json"] {
        let r = driftgate(s, &["diff", "before", "after", "--format", format]);
        assert_eq!(r.code, 1, "{r:?}");
        if format != "json" {
            raw(&format!("diff --format {format}"), &r.all());
        }
    }
    let r = driftgate(s, &["gate", "before", "after"]);
    assert_eq!(r.code, 1, "{r:?}");
    raw("gate", &r.all());

    let dir = tempfile::tempdir().unwrap();
    let config = support::one_target_config(dir.path(), &db.dsn);
    let cfg = config.to_str().unwrap();
    let r = driftgate(
        s,
        &["baseline", "accept", "prod", "before", "--config", cfg],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let md = dir.path().join("summary.md");
    let mut cmd = driftgate_cmd(
        s,
        &["check", "--config", cfg, "--markdown", md.to_str().unwrap()],
    );
    cmd.env("GITHUB_ACTIONS", "true");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 1, "{r:?}");
    let annotation = r
        .stdout
        .lines()
        .find(|l| l.starts_with("::error"))
        .unwrap_or_else(|| panic!("no annotation: {r:?}"));
    assert!(
        annotation.contains("\\u{1b}[2J"),
        "escaped in the annotation: {annotation}"
    );
    raw("check (table and annotations)", &r.all());
    raw("check --markdown", &std::fs::read_to_string(&md).unwrap());
}
