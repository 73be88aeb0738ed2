//! Bounded mutation fuzzing of everything driftgate reads from files or the command line:
//! snapshot files (`store::parse_bundle`), snapshot records, pack files and their indexes,
//! whole stores (markers, refs, reflogs, packs, records read through `Store`), gate policies
//! (`Policy::parse`), ref names and connection strings.
//!
//! cargo-fuzz needs a nightly toolchain; this is a stable, dependency-free mutation loop:
//! byte mutations (flips, inserts, deletes, duplicated and spliced ranges, truncation,
//! interesting numbers and tokens) and structure-aware ones (JSON values replaced, dropped
//! or duplicated; pack-index checksums recomputed so the parser behind the checksum is
//! reached; snapshot-file hashes recomputed so the consumers behind them are reached).
//! What parses is then pushed through diff, gate, graph and every renderer. A panic, or an
//! input that takes over a second, is a finding: it is saved under `target/fuzz-findings/`
//! and fails the test.
//!
//! The plain suite runs each target for `DRIFTGATE_FUZZ_SECS` (default 1) seconds;
//! `scripts/fuzz.sh` runs it longer. `DRIFTGATE_FUZZ_SEED` replays a run;
//! `DRIFTGATE_FUZZ_DEBUG` prints why snapshot-file mutants were refused (to tune mutators).
//! The seed corpus (`tests/fixtures/fuzz/`) comes from `scripts/fuzz-corpus.sh`.

use driftgate::gate::{GateReport, Policy};
use driftgate::model::CatalogSnapshot;
use driftgate::store::{self, pack, Bundle, Store};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz");

/// xorshift64*: small, fast, reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const INTERESTING: &[&[u8]] = &[
    b"0",
    b"-1",
    b"18446744073709551615",
    b"18446744073709551616",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"1e999",
    b"-0.0",
    b"null",
    b"true",
    b"\"\"",
    b"{}",
    b"[]",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"\\",
    b"\"",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xff\xfe",
    "漢字ü".as_bytes(),
    b"<script>",
    b"-->",
    b"|`",
    b"..",
    b"/",
    b"%",
    b"*",
    b"[",
    b"]]",
    b"'''",
    b"\"\"\"",
    b"=",
];

/// One to four byte-level mutations of `input`, sometimes spliced with `other`.
fn mutate_bytes(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 => {
                let at = rng.below(len + 1);
                let token = rng.pick(INTERESTING);
                data.splice(at..at, token.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                data.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = data[a..b].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            5 => data.truncate(rng.below(len + 1)),
            6 if !other.is_empty() => {
                let a = rng.below(other.len());
                let b = (a + 1 + rng.below(512)).min(other.len());
                let at = rng.below(len + 1);
                data.splice(at..at, other[a..b].iter().copied());
            }
            7 if len > 0 => {
                // Replace a run of digits with an interesting number.
                if let Some(start) = (0..8)
                    .map(|_| rng.below(len))
                    .find(|&i| data[i].is_ascii_digit())
                {
                    let end = data[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(len, |p| start + p);
                    let token = rng.pick(&INTERESTING[..8]);
                    data.splice(start..end, token.iter().copied());
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, junk);
            }
        }
    }
    data
}

fn random_string(rng: &mut Rng) -> String {
    let parts: Vec<String> = (0..rng.below(4))
        .map(|_| {
            let token: &[u8] = INTERESTING[rng.below(INTERESTING.len())];
            String::from_utf8_lossy(token).into_owned()
        })
        .collect();
    format!("x{}", parts.join(""))
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => Value::from(rng.next() as i64 >> rng.below(64)),
        3 => Value::from(-(rng.below(1000) as i64)),
        4 => Value::String(random_string(rng)),
        5 => Value::Array(
            (0..rng.below(3))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(3))
                .map(|_| (random_string(rng), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// Replace, drop or duplicate one node somewhere in a JSON document. With `keep_types`,
/// a leaf is replaced by another of its type and only array items are dropped or
/// duplicated, so the document still decodes and reaches the code behind the decoder.
fn mutate_json(rng: &mut Rng, v: &mut Value, depth: usize, keep_types: bool) {
    let descend = depth < 7 && rng.chance(85);
    if keep_types {
        match v {
            Value::Object(m) if !m.is_empty() => {
                let key = m.keys().nth(rng.below(m.len())).unwrap().clone();
                return mutate_json(rng, m.get_mut(&key).unwrap(), depth + 1, true);
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                if descend {
                    return mutate_json(rng, &mut a[i], depth + 1, true);
                }
                if rng.chance(50) {
                    a.remove(i);
                } else {
                    let copy = a[i].clone();
                    a.push(copy);
                }
                return;
            }
            Value::String(s) => {
                *s = if rng.chance(50) {
                    random_string(rng)
                } else {
                    let mut t = s.clone();
                    let at = t
                        .char_indices()
                        .map(|(i, _)| i)
                        .chain([t.len()])
                        .nth(rng.below(t.chars().count() + 1))
                        .unwrap();
                    t.insert_str(at, &random_string(rng));
                    t
                };
                return;
            }
            Value::Number(_) => {
                *v = match rng.below(4) {
                    0 => Value::from(0),
                    1 => Value::from(-1),
                    2 => Value::from(i64::MAX),
                    _ => Value::from(i64::MIN),
                };
                return;
            }
            Value::Bool(b) => {
                *b = !*b;
                return;
            }
            _ => return,
        }
    }
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(rng.below(m.len())).unwrap().clone();
            if descend {
                return mutate_json(rng, m.get_mut(&key).unwrap(), depth + 1, false);
            }
            match rng.below(3) {
                0 => {
                    m.remove(&key);
                }
                1 => {
                    m.insert(key, random_value(rng, 0));
                }
                _ => {
                    let copy = m[&key].clone();
                    m.insert(random_string(rng), copy);
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.below(a.len());
            if descend {
                return mutate_json(rng, &mut a[i], depth + 1, false);
            }
            match rng.below(3) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let copy = a[i].clone();
                    a.push(copy);
                }
                _ => a[i] = random_value(rng, 0),
            }
        }
        _ => *v = random_value(rng, 0),
    }
}

/// What one target's run found.
#[derive(Default)]
struct Stats {
    iterations: u64,
    accepted: u64,
    slowest: Duration,
    findings: Vec<String>,
}

struct Fuzzer {
    rng: Rng,
    budget: Duration,
    findings_dir: PathBuf,
}

impl Fuzzer {
    /// Run `one` on generated inputs until the budget is spent. `one` returns whether the
    /// input was accepted (parsed) and panics on a bug.
    fn run(
        &mut self,
        target: &str,
        mut generate: impl FnMut(&mut Rng) -> Vec<u8>,
        mut one: impl FnMut(&[u8]) -> bool,
    ) -> Stats {
        let mut stats = Stats::default();
        let start = Instant::now();
        while start.elapsed() < self.budget {
            let input = generate(&mut self.rng);
            let t = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| one(&input)));
            let took = t.elapsed();
            stats.iterations += 1;
            stats.slowest = stats.slowest.max(took);
            let problem = match outcome {
                Ok(true) => {
                    stats.accepted += 1;
                    None
                }
                Ok(false) => None,
                Err(panic) => Some(
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".into()),
                ),
            }
            .or_else(|| (took > Duration::from_secs(1)).then(|| format!("took {took:?}")));
            if let Some(problem) = problem {
                std::fs::create_dir_all(&self.findings_dir).unwrap();
                let file = self
                    .findings_dir
                    .join(format!("{target}-{}.bin", stats.findings.len()));
                std::fs::write(&file, &input).unwrap();
                stats
                    .findings
                    .push(format!("{target}: {problem} (input: {})", file.display()));
                if stats.findings.len() >= 10 {
                    break;
                }
            }
        }
        eprintln!(
            "fuzz {target:8} {:>8} iterations in {:>5.1}s, {:>7} accepted, slowest {:>7.1?}, {} finding(s)",
            stats.iterations,
            start.elapsed().as_secs_f64(),
            stats.accepted,
            stats.slowest,
            stats.findings.len()
        );
        stats
    }
}

fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn corpus_file(dir: &str, ext: &str) -> PathBuf {
    std::fs::read_dir(Path::new(CORPUS).join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap()
}

/// Everything downstream of a parsed snapshot must work on it without panicking.
fn exercise(seed: &CatalogSnapshot, snap: &CatalogSnapshot, policy: &Policy) {
    use driftgate::render;
    let tree = snap.tree();
    assert_eq!(tree.root_hash(), snap.catalog_hash());
    assert!(driftgate::diff::diff(snap, snap).changes.is_empty());
    let d = driftgate::diff::diff(seed, snap);
    let report = GateReport::evaluate(&d, policy, "seed", "fuzzed");
    let mut out = Vec::new();
    render::gate::write_gate_json(&mut out, &report).unwrap();
    render::gate::write_gate_table(&mut out, &report).unwrap();
    let side = |spec: &str| render::diff::SideInfo {
        spec: spec.into(),
        id: None,
        catalog: snap.catalog_hash().to_hex(),
        source: snap.meta.source.describe(),
        created_at: snap.meta.created_at.clone(),
        server_version: snap.meta.server_version.clone(),
    };
    let (a, b) = (side("seed"), side("fuzzed"));
    let doc = render::diff::DiffDocument::new(&a, &b, &d);
    render::diff::write_diff_table(&mut out, &doc).unwrap();
    render::diff::write_diff_json(&mut out, &doc).unwrap();
    render::diff::write_diff_markdown(&mut out, &doc).unwrap();
    let opts = driftgate::graph::WalkOptions {
        depth: Some(3),
        database_graph: true,
    };
    let db = driftgate::graph::database_fanout(snap, &opts);
    render::graph::write_dot(&mut out, &db.graph, "fuzz", None, &db.hazards).unwrap();
    render::graph::write_mermaid(&mut out, &db.graph, "fuzz", None, &db.hazards).unwrap();
    render::graph::write_ranking(&mut out, &db).unwrap();
    // A snapshot written out reads back as itself.
    let again = store::parse_bundle(Path::new("again.json"), &store::bundle_bytes(snap))
        .expect("a snapshot driftgate wrote reads back");
    assert_eq!(again.catalog_hash(), snap.catalog_hash());
    assert_eq!(again.counts, snap.counts);
}

/// Make a mutated bundle consistent again (its claimed hashes match its objects), so the
/// mutation reaches the code behind the hash check. `None` when it no longer decodes.
fn rehash_bundle(v: &Value) -> Option<Vec<u8>> {
    let mut bundle: Bundle = serde_json::from_value(v.clone()).ok()?;
    let snap = CatalogSnapshot {
        meta: bundle.snapshot.meta.clone(),
        objects: bundle
            .objects
            .iter()
            .map(|o| (o.key.clone(), o.clone()))
            .collect(),
        counts: bundle.counts.clone(),
    };
    bundle.snapshot.catalog = snap.catalog_hash();
    bundle.snapshot.counts = snap.counts_hash();
    serde_json::to_vec(&bundle).ok()
}

/// Copy the seed store into `dir`.
fn copy_store(from: &Path, to: &Path) {
    for entry in walk(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fuzz_parsers() {
    let secs: f64 = std::env::var("DRIFTGATE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let seed: u64 = std::env::var("DRIFTGATE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("fuzz seed {seed} ({secs} s per target; DRIFTGATE_FUZZ_SEED={seed} replays)");
    let mut fuzzer = Fuzzer {
        rng: Rng(seed),
        budget: Duration::from_secs_f64(secs),
        findings_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("../fuzz-findings"),
    };
    // Panics are expected and caught: keep their messages out of the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    let store_dir = Path::new(CORPUS).join("store");
    let bundle_seed = read(Path::new(CORPUS).join("bundle.json"));
    let bundle_value: Value = serde_json::from_slice(&bundle_seed).unwrap();
    let seed_snapshot = store::parse_bundle(Path::new("seed"), &bundle_seed).unwrap();
    let record_seed = read(corpus_file("store/snapshots", "json"));
    let pack_seed = read(corpus_file("store/packs", "pack"));
    let idx_seed = read(corpus_file("store/packs", "idx"));
    let policies: Vec<Vec<u8>> = ["policy-full.toml", "policy-small.toml", "policy-empty.toml"]
        .iter()
        .map(|f| read(Path::new(CORPUS).join(f)))
        .collect();
    let full_policy = Policy::parse(
        std::str::from_utf8(&policies[0]).unwrap(),
        "policy-full.toml",
    )
    .unwrap();
    let mut all = Vec::new();

    // Snapshot files: bytes mutated (parser), JSON mutated and re-hashed (consumers).
    all.push(fuzzer.run(
        "bundle",
        |rng| {
            if rng.chance(50) {
                mutate_bytes(rng, &bundle_seed, &record_seed)
            } else {
                let mut v = bundle_value.clone();
                let keep_types = rng.chance(70);
                for _ in 0..1 + rng.below(3) {
                    // Mostly the objects (where the names and bodies are), sometimes the
                    // counts or the whole file.
                    let part = match rng.below(10) {
                        0..=6 => &mut v["objects"],
                        7 => &mut v["counts"],
                        _ => &mut v,
                    };
                    mutate_json(rng, part, 0, keep_types);
                }
                match rehash_bundle(&v) {
                    Some(bytes) if rng.chance(80) => bytes,
                    _ => serde_json::to_vec(&v).unwrap(),
                }
            }
        },
        |input| match store::parse_bundle(Path::new("fuzzed.json"), input) {
            Ok(snap) => {
                exercise(&seed_snapshot, &snap, &full_policy);
                true
            }
            Err(e) => {
                assert!(e.to_string().contains("fuzzed.json"), "names the file: {e}");
                if std::env::var_os("DRIFTGATE_FUZZ_DEBUG").is_some() {
                    eprintln!("{}", e.to_string().chars().take(150).collect::<String>());
                }
                false
            }
        },
    ));

    all.push(fuzzer.run(
        "record",
        |rng| mutate_bytes(rng, &record_seed, &bundle_seed),
        |input| store::parse_record(Path::new("r.json"), input).is_ok(),
    ));

    all.push(fuzzer.run(
        "pack",
        |rng| mutate_bytes(rng, &pack_seed, &record_seed),
        |input| pack::verify_pack(Path::new("p.pack"), input).is_ok(),
    ));

    // Indexes: most mutants get a valid checksum so the entries are parsed and used.
    let idx_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(idx_file.path(), &pack_seed).unwrap();
    let pack_dir = idx_file.path().parent().unwrap();
    let pack_name = idx_file.path().file_name().unwrap().to_str().unwrap();
    let pack_file = driftgate::store::backend::FsBackend::new(pack_dir);
    let pack_file = driftgate::store::backend::Backend::open_reader(&pack_file, pack_name).unwrap();
    all.push(fuzzer.run(
        "index",
        |rng| {
            let mut m = mutate_bytes(rng, &idx_seed[..idx_seed.len() - 32], &[]);
            if rng.chance(80) {
                let sum = *blake3::hash(&m).as_bytes();
                m.extend_from_slice(&sum);
            } else {
                m.extend_from_slice(&idx_seed[idx_seed.len() - 32..]);
            }
            m
        },
        |input| match pack::parse_idx(Path::new("p.idx"), input) {
            Ok(entries) => {
                for e in entries.iter().take(50) {
                    let _ = pack::read_blob(Path::new("p.pack"), pack_file.as_ref(), e);
                }
                true
            }
            Err(_) => false,
        },
    ));

    // Whole stores: one file mutated, then everything a command would read.
    let work = tempfile::tempdir().unwrap();
    let seed_files: Vec<PathBuf> = walk(&store_dir)
        .into_iter()
        .map(|p| p.strip_prefix(&store_dir).unwrap().to_path_buf())
        .collect();
    let mut round = 0u64;
    all.push(fuzzer.run(
        "store",
        |rng| {
            let rel = rng.pick(&seed_files).clone();
            let original = read(store_dir.join(&rel));
            let mut input = rel.to_string_lossy().into_owned().into_bytes();
            input.push(0);
            input.extend(mutate_bytes(rng, &original, &record_seed));
            input
        },
        |input| {
            let split = input.iter().position(|&b| b == 0).unwrap();
            let rel = std::str::from_utf8(&input[..split]).unwrap();
            round += 1;
            let root = work.path().join(round.to_string());
            copy_store(&store_dir, &root);
            std::fs::write(root.join(rel), &input[split + 1..]).unwrap();
            let ok = (|| -> Result<(), store::StoreError> {
                let s = Store::open(&root)?;
                let _ = s.list_refs();
                let _ = s.reflog("good");
                let _ = s.list_snapshots();
                let _ = s.fsck()?;
                match s.resolve("good")? {
                    store::Resolved::Stored(id) => {
                        let snap = s.load_snapshot(&id)?;
                        exercise(&seed_snapshot, &snap, &full_policy);
                    }
                    store::Resolved::File(_) => {}
                }
                Ok(())
            })()
            .is_ok();
            let _ = std::fs::remove_dir_all(&root);
            ok
        },
    ));

    all.push(fuzzer.run(
        "policy",
        |rng| {
            let a = rng.pick(&policies).clone();
            let b = rng.pick(&policies).clone();
            mutate_bytes(rng, &a, &b)
        },
        |input| {
            let text = String::from_utf8_lossy(input);
            match Policy::parse(&text, "fuzz.toml") {
                Ok(policy) => {
                    let d = driftgate::diff::diff(&seed_snapshot, &seed_snapshot);
                    GateReport::evaluate(&d, &policy, "a", "b");
                    true
                }
                Err(e) => {
                    let e = e.to_string();
                    assert!(e.starts_with("fuzz.toml:"), "names the file and line: {e}");
                    false
                }
            }
        },
    ));

    // Ref names: whatever is accepted stays inside the refs directory.
    all.push(fuzzer.run(
        "refname",
        |rng| {
            let seeds: [&[u8]; 4] = [b"prod/nightly", b"baseline", b"a/b/c-1.2_x", b"../../x"];
            let seed = *rng.pick(&seeds);
            mutate_bytes(rng, seed, b"/..")
        },
        |input| {
            let name = String::from_utf8_lossy(input);
            let ok = store::refs::validate_ref_name(&name).is_ok();
            if ok {
                let p = Path::new(name.as_ref());
                assert!(p.is_relative(), "{name:?}");
                assert!(
                    p.components()
                        .all(|c| matches!(c, std::path::Component::Normal(_))),
                    "{name:?} escapes"
                );
            }
            ok
        },
    ));

    // Connection strings: never a panic; a password given never shows in what driftgate
    // prints about the target or the error.
    all.push(fuzzer.run(
        "dsn",
        |rng| {
            let host = random_string(rng).replace(['@', '/', ':', '?', ' ', '\'', '\\', '='], "");
            let user = random_string(rng).replace(['@', '/', ':', '?', ' ', '\'', '\\', '='], "");
            let forms = [
                format!("postgresql://{user}:S3cr3tPw@{host}:5432/db"),
                format!("host={host} user={user} password=S3cr3tPw dbname=d"),
                format!("host='{host}' password='S3cr3tPw' port=x"),
                format!("postgres://{user}:S3cr3tPw@[{host}]/d?sslmode=bogus"),
            ];
            let dsn = rng.pick(&forms).clone();
            let mutated = rng.chance(30);
            let mut out = vec![u8::from(mutated)];
            out.extend(if mutated {
                mutate_bytes(rng, dsn.as_bytes(), b"")
            } else {
                dsn.into_bytes()
            });
            out
        },
        |input| {
            let intact = input[0] == 0;
            let dsn = String::from_utf8_lossy(&input[1..]);
            let shown = match driftgate::catalog::ConnectTarget::resolve(Some(&dsn)) {
                Ok(t) => format!("{} {t:?}", t.describe()),
                Err(e) => e.to_string(),
            };
            if intact {
                assert!(!shown.contains("S3cr3tPw"), "password shown: {shown}");
            }
            true
        },
    ));

    std::panic::set_hook(default_hook);
    let findings: Vec<String> = all.iter().flat_map(|s| s.findings.clone()).collect();
    let total: u64 = all.iter().map(|s| s.iterations).sum();
    eprintln!(
        "fuzz total: {total} iterations, {} finding(s)",
        findings.len()
    );
    assert!(
        findings.is_empty(),
        "fuzz findings (seed {seed}):\n{}",
        findings.join("\n")
    );
}
