//! The README tells the truth: every ```console block is run and its output compared with
//! the real one. Blocks that work offline run against a copy of the committed `snapshots/`
//! store exactly as written; a block that needs a server is marked `<!-- needs-server: NAME -->`
//! on the line before its fence and is run here against a throwaway PostgreSQL in the
//! scenario NAME, compared after masking what differs between runs (ports, ids, times). No
//! console block is left unchecked: an unmarked block runs offline, a marked one with an
//! unknown scenario fails.
//!
//! `DRIFTGATE_BLESS=1 cargo test --test readme` rewrites the outputs in README.md with the
//! real ones (scripts/regen-samples.sh does this after regenerating the sample store).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The tables in the README are drawn for this terminal width.
const COLUMNS: &str = "200";

struct Block {
    /// Line index of the opening fence.
    fence: usize,
    /// Line index of the closing fence.
    end: usize,
    scenario: Option<String>,
    commands: Vec<Cmd>,
}

struct Cmd {
    line: String,
    expected: Vec<String>,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap()
}

fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start() == "```console" {
            let scenario = i
                .checked_sub(1)
                .and_then(|p| lines[p].trim().strip_prefix("<!-- needs-server:"))
                .map(|rest| rest.trim_end_matches("-->").trim().to_string());
            let fence = i;
            let mut commands: Vec<Cmd> = Vec::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start() != "```" {
                match lines[i].strip_prefix("$ ") {
                    Some(cmd) => commands.push(Cmd {
                        line: cmd.to_string(),
                        expected: Vec::new(),
                    }),
                    None => commands
                        .last_mut()
                        .unwrap_or_else(|| {
                            panic!("README.md:{}: output before any `$ ` command", i + 1)
                        })
                        .expected
                        .push(lines[i].to_string()),
                }
                i += 1;
            }
            assert!(
                i < lines.len(),
                "README.md:{}: unclosed console block",
                fence + 1
            );
            blocks.push(Block {
                fence,
                end: i,
                scenario,
                commands,
            });
        }
        i += 1;
    }
    blocks
}

/// Run a block's commands in one bash session (so `echo $?` sees the command before it),
/// in `dir`, with the built driftgate first on PATH; the output of each command.
fn run_block(block: &Block, dir: &Path, env: &[(&str, String)]) -> Vec<Vec<String>> {
    const MARK: &str = "\u{1}driftgate-readme-command";
    let mut script = String::from("set +e\n");
    for (n, c) in block.commands.iter().enumerate() {
        // Print the marker without losing the previous command's exit status.
        script.push_str(&format!(
            "__s=$?; printf '{MARK} {n}\\n'; (exit $__s); {} 2>&1\n",
            c.line
        ));
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_driftgate")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(&script).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG")
            || k.starts_with("DRIFTGATE_")
            || k == "DATABASE_URL"
            || k == "GITHUB_ACTIONS"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("PATH", path)
        .env("NO_COLOR", "1")
        .env("COLUMNS", COLUMNS)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("HOME", dir)
        // No session bus: the doctor sample says so, on every machine.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("XDG_RUNTIME_DIR")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    let out = cmd.output().expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut outputs: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line.starts_with(MARK) {
            outputs.push(Vec::new());
        } else if let Some(cur) = outputs.last_mut() {
            cur.push(line.trim_end().to_string());
        }
    }
    assert_eq!(outputs.len(), block.commands.len(), "{text}");
    outputs
}

fn trimmed(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| l.trim_end().to_string()).collect()
}

/// A temp directory holding a copy of the committed sample store as `snapshots/`.
fn copy_of_the_sample_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(ROOT).join("snapshots"),
        &dir.path().join("snapshots"),
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// What differs from run to run on a server: ports, ids and hashes, times, durations, sizes,
/// pids and the server's version; and table padding that follows from them.
fn masked(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            // The server's version string, e.g. "(PostgreSQL 15.18 (Debian 15.18-0+deb12u1)): ".
            let l = match l.find("(PostgreSQL ") {
                Some(start) => match l[start..].find("): ") {
                    Some(len) => {
                        format!("{}(PostgreSQL <v>){}", &l[..start], &l[start + len + 1..])
                    }
                    None => l.clone(),
                },
                None => l.clone(),
            };
            let mut out = String::new();
            let mut word = String::new();
            let flush = |word: &mut String, out: &mut String| {
                let w = std::mem::take(word);
                let hexish = w.len() >= 12 && w.chars().all(|c| c.is_ascii_hexdigit());
                let digits = !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.');
                out.push_str(if hexish {
                    "<hex>"
                } else if digits {
                    "<n>"
                } else {
                    &w
                });
            };
            for c in l.chars() {
                if c.is_ascii_alphanumeric() || c == '.' {
                    word.push(c);
                } else {
                    flush(&mut word, &mut out);
                    out.push(c);
                }
            }
            flush(&mut word, &mut out);
            // Column widths follow the masked values' lengths; compare without padding.
            let mut squeezed = String::new();
            for part in out.split_whitespace() {
                let part = if part.chars().all(|c| c == '-' || c == '+') {
                    "-"
                } else {
                    part
                };
                if !squeezed.is_empty() {
                    squeezed.push(' ');
                }
                squeezed.push_str(part);
            }
            squeezed
        })
        .filter(|l| !l.is_empty())
        .collect()
}

fn bless() -> bool {
    std::env::var_os("DRIFTGATE_BLESS").is_some_and(|v| v == "1")
}

/// Both tests may bless at once; each rewrite reads the README afresh under this lock.
static README_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Write new outputs for the given blocks into README.md.
fn write_outputs(updates: Vec<(usize, Vec<Vec<String>>)>) {
    let _guard = README_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let text = readme();
    let blocks = parse(&text);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // From the last block up, so earlier line numbers stay valid.
    let mut updates = updates;
    updates.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
    for (index, outputs) in updates {
        let b = &blocks[index];
        let mut body = Vec::new();
        for (c, out) in b.commands.iter().zip(outputs) {
            body.push(format!("$ {}", c.line));
            body.extend(out);
        }
        lines.splice(b.fence + 1..b.end, body);
    }
    std::fs::write(Path::new(ROOT).join("README.md"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn every_console_block_is_checked_and_the_offline_ones_match_exactly() {
    let text = readme();
    let blocks = parse(&text);
    let known = ["snapshot", "check", "doctor"];
    let mut offline = 0;
    let mut server = 0;
    let mut updates = Vec::new();
    let mut failures = Vec::new();
    for (index, b) in blocks.iter().enumerate() {
        if let Some(s) = &b.scenario {
            assert!(
                known.contains(&s.as_str()),
                "README.md:{}: unknown scenario {s:?} (known: {known:?})",
                b.fence + 1
            );
            server += 1;
            continue;
        }
        offline += 1;
        let dir = copy_of_the_sample_store();
        let outputs = run_block(b, dir.path(), &[]);
        for (c, got) in b.commands.iter().zip(&outputs) {
            if trimmed(&c.expected) != *got {
                failures.push(format!(
                    "README.md:{}: `$ {}`\n--- README ---\n{}\n--- real ---\n{}",
                    b.fence + 1,
                    c.line,
                    c.expected.join("\n"),
                    got.join("\n")
                ));
            }
        }
        updates.push((index, outputs));
    }
    println!(
        "{} console blocks: {offline} run offline, {server} need a server",
        blocks.len()
    );
    assert!(
        offline >= 8,
        "only {offline} offline blocks found: is the parser broken?"
    );
    assert_eq!(offline + server, blocks.len());
    if bless() {
        write_outputs(updates);
        return;
    }
    assert!(
        failures.is_empty(),
        "{} README sample(s) differ from the real output (DRIFTGATE_BLESS=1 cargo test --test readme rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The governance sample in a database of the README's name, on a cluster of its own (the
/// name is fixed, so it cannot be shared).
fn demo_database(cluster: &'static Cluster) -> String {
    let name = "directus_gov_test_20260602";
    cluster.sql("postgres", &format!("CREATE DATABASE {name}"));
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    cluster.sql(name, &fixture);
    cluster.dsn(name)
}

/// Commands of a server block pointed at the test server: every `127.0.0.1:PORT` in them
/// gets the test server's port.
fn pointed_at(block: &Block, port: u16) -> Vec<Cmd> {
    block
        .commands
        .iter()
        .map(|c| {
            let mut line = String::new();
            let mut rest = c.line.as_str();
            while let Some(at) = rest.find("127.0.0.1:") {
                let (head, tail) = rest.split_at(at + "127.0.0.1:".len());
                line.push_str(head);
                line.push_str(&port.to_string());
                rest = tail.trim_start_matches(|ch: char| ch.is_ascii_digit());
            }
            line.push_str(rest);
            Cmd {
                line,
                expected: c.expected.clone(),
            }
        })
        .collect()
}

/// The scenario a `needs-server` block names: what is set up before its commands run.
fn prepare(scenario: &str, cluster: &'static Cluster, dir: &Path, dsn: &str) {
    match scenario {
        "snapshot" => {}
        "doctor" => {
            // A monitoring role that may count all tables of public but one, and read the
            // statistics views; a store with one snapshot in it.
            cluster.sql(
                "directus_gov_test_20260602",
                "CREATE ROLE driftgate_ro LOGIN; GRANT pg_read_all_stats TO driftgate_ro; \
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO driftgate_ro; \
                 REVOKE SELECT ON birth_registry FROM driftgate_ro;",
            );
            let r = run_cmd(driftgate_cmd(
                dir.join("snapshots"),
                &["snapshot", "-q", "--dsn", dsn],
            ));
            assert_eq!(r.code, 0, "{r:?}");
        }
        "check" => {
            // prod: the sample as loaded; clone: a copy missing one trigger since its
            // baseline; staging: a server that is down.
            cluster.sql(
                "postgres",
                "CREATE DATABASE directus_clone TEMPLATE directus_gov_test_20260602",
            );
            let clone = cluster.dsn("directus_clone");
            std::fs::write(
                dir.join("driftgate.toml"),
                format!(
                    "[[target]]\nname = \"prod\"\ndsn = \"{dsn}\"\n\n\
                     [[target]]\nname = \"clone\"\ndsn = \"{clone}\"\n\n\
                     [[target]]\nname = \"staging\"\ndsn = \"postgresql://postgres@127.0.0.1:1/directus\"\n"
                ),
            )
            .unwrap();
            for target in ["prod", "clone"] {
                let mut c = driftgate_cmd(dir.join("snapshots"), &["baseline", "accept", target]);
                c.current_dir(dir);
                let r = run_cmd(c);
                assert_eq!(r.code, 0, "{r:?}");
            }
            cluster.sql(
                "directus_clone",
                "DROP TRIGGER trg_refresh_orphan_dot ON dot_tools",
            );
        }
        other => panic!("no scenario {other:?}"),
    }
}

#[test]
fn the_blocks_that_need_a_server_match_a_real_run() {
    let text = readme();
    let blocks = parse(&text);
    let server_blocks: Vec<(usize, &Block)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.scenario.is_some())
        .collect();
    assert!(!server_blocks.is_empty(), "no needs-server block found");
    let mut failures = Vec::new();
    let mut updates = Vec::new();
    for (index, b) in server_blocks {
        let scenario = b.scenario.as_deref().unwrap();
        let cluster = private_cluster(None);
        let dsn = demo_database(cluster);
        let dir = tempfile::tempdir().unwrap();
        prepare(scenario, cluster, dir.path(), &dsn);
        let commands = pointed_at(b, cluster.port);
        let pointed = Block {
            fence: b.fence,
            end: b.end,
            scenario: b.scenario.clone(),
            commands,
        };
        let outputs = run_block(&pointed, dir.path(), &[]);
        for (c, got) in b.commands.iter().zip(&outputs) {
            if masked(&c.expected) != masked(got) {
                failures.push(format!(
                    "README.md:{} ({scenario}): `$ {}`\n--- README ---\n{}\n--- real ---\n{}",
                    b.fence + 1,
                    c.line,
                    c.expected.join("\n"),
                    got.join("\n")
                ));
            }
        }
        updates.push((index, outputs));
        cluster.stop("fast");
    }
    if bless() {
        write_outputs(updates);
        return;
    }
    assert!(
        failures.is_empty(),
        "{} server sample(s) differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
