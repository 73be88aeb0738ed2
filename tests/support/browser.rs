//! A real browser for the HTML pages: Debian's Chromium (`/usr/bin/chromium`, installed by
//! scripts/setup.sh) run headless on a `file://` page, once for the DOM as it stands after
//! load (`--dump-dom`) and once for a screenshot kept under `target/browser/`, each with a
//! network log (`--log-net-log`) that is parsed for every URL the browser asked for.
//!
//! Each run has a fresh profile directory, no sandbox (the tests run as root), no GPU, no
//! /dev/shm, no first-run or background networking, and a time limit. Chromium missing is a
//! failing test with the way to install it, never a skipped one.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
/// A page that has not loaded by then is a failure (a hung browser must not hang the test).
const LIMIT: Duration = Duration::from_secs(90);

/// What the browser made of a page.
pub struct Page {
    /// The serialized DOM after load (scripts, had any run, would show here).
    pub dom: String,
    /// The screenshot, under `target/browser/`.
    pub screenshot: PathBuf,
    /// Every request either run's network log shows started, sorted, deduplicated.
    pub requests: Vec<Request>,
    /// The page's own URL (`file:///…`).
    pub url: String,
}

impl Page {
    /// The text of the `<title>` element in the DOM after load (entities decoded).
    pub fn title(&self) -> String {
        title_text(&self.dom)
    }

    /// URLs the page asked for (its own load is not a network request): a self-contained
    /// page asks for none.
    pub fn page_requests(&self) -> Vec<&str> {
        self.requests
            .iter()
            .filter(|r| r.by_page())
            .map(|r| r.url.as_str())
            .collect()
    }
}

fn chromium() -> &'static str {
    let ok = Command::new(CHROMIUM)
        .arg("--version")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{CHROMIUM} is missing or does not run (`{CHROMIUM} --version` failed): run \
         scripts/setup.sh (as root) to install Debian's chromium"
    );
    CHROMIUM
}

/// The directory screenshots are kept in.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run chromium headless on `url` with `extra` arguments; returns stdout and the URLs its
/// network log shows requested.
fn run(url: &str, extra: &[String], what: &str) -> (String, Vec<Request>) {
    let exe = chromium();
    let profile = tempfile::tempdir().unwrap();
    let netlog = profile.path().join("netlog.json");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-gpu",
        "--hide-scrollbars",
        // The browser's own traffic (component updates, its clock, sign-in, spelling
        // dictionaries) is off where a switch exists, and no host name resolves but the
        // loopback address, so nothing leaves the machine whatever the browser tries.
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-default-browser-check",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-pings",
        "--disable-features=Translate,OptimizationHints,MediaRouter,SpellcheckService,AutofillServerCommunication",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ])
    .arg(format!(
        "--user-data-dir={}",
        profile.path().join("profile").display()
    ))
    .arg(format!("--log-net-log={}", netlog.display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium ({what}) did not finish {url} in {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out_t.join().unwrap();
    let err = err_t.join().unwrap();
    assert!(
        status.success(),
        "chromium ({what}) failed on {url}: {status}\n{err}"
    );
    let log = std::fs::read_to_string(&netlog)
        .unwrap_or_else(|e| panic!("chromium ({what}) wrote no net log ({e}):\n{err}"));
    (out, requests_of(&log))
}

/// One request of a network log (a `URL_REQUEST_START_JOB` event).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub url: String,
    /// The origin that asked: `null` for a `file://` page, `not an origin` for the browser
    /// itself (its component updater, its clock), else the requesting site's origin.
    pub initiator: String,
}

impl Request {
    /// Asked for by a page (a `file://` page's origin is opaque, `null`), not by the browser.
    pub fn by_page(&self) -> bool {
        self.initiator != "not an origin"
    }
}

/// Every request a network log shows started. A log cut short by the browser's exit is
/// closed first. A `file://` page's own load does not pass the network stack (it is not in
/// the log); everything it asks for does, under its origin.
pub fn requests_of(log: &str) -> Vec<Request> {
    let v: Value = serde_json::from_str(log)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", log.trim_end().trim_end_matches(','))))
        .unwrap_or_else(|e| {
            panic!(
                "the net log is not JSON ({e}): {}",
                &log[..log.len().min(500)]
            )
        });
    let start_job = v["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names its event types");
    let events = v["events"].as_array().expect("a net log has events");
    assert!(!events.is_empty(), "an empty net log proves nothing");
    let mut out: Vec<Request> = events
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter_map(|e| {
            Some(Request {
                url: e["params"]["url"].as_str()?.to_string(),
                initiator: e["params"]["initiator"]
                    .as_str()
                    .unwrap_or("none")
                    .to_string(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Open `file` (an HTML page) in the browser: the DOM after load, a screenshot saved as
/// `target/browser/<name>.png` at `width`×`height`, and every URL requested.
pub fn open(file: &Path, name: &str, width: u32, height: u32) -> Page {
    let file = file.canonicalize().unwrap();
    let url = url::Url::from_file_path(&file).unwrap().to_string();
    let (dom, mut requests) = run(&url, &["--dump-dom".into()], "dump-dom");
    assert!(
        dom.contains("<html") || dom.contains("<body"),
        "chromium dumped no DOM for {url}: {dom}"
    );
    let screenshot = screenshot_dir().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&screenshot);
    let (_, more) = run(
        &url,
        &[
            format!("--screenshot={}", screenshot.display()),
            format!("--window-size={width},{height}"),
        ],
        "screenshot",
    );
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|e| panic!("no screenshot {} ({e})", screenshot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 1000,
        "{} is not a PNG of the page",
        screenshot.display()
    );
    requests.extend(more);
    requests.sort();
    requests.dedup();
    Page {
        dom,
        screenshot,
        requests,
        url,
    }
}

/// A TCP listener on 127.0.0.1 that counts who connects: the `http://127.0.0.1:PORT/x` of a
/// hostile `<img>` must never be fetched.
pub struct Tripwire {
    pub port: u16,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Tripwire {
    pub fn new() -> Tripwire {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            // Bounded: the thread ends with the test binary; each connection is counted and
            // dropped (a browser that connects gets no page).
            for stream in l.incoming() {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        Tripwire { port, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The text of the first `<title>` of an HTML document, its entities decoded (a browser
/// serializes `"` as itself where the page may have written `&quot;`).
pub fn title_text(html: &str) -> String {
    let start = html.find("<title>").map(|i| i + "<title>".len());
    let end = html.find("</title>");
    let raw = match (start, end) {
        (Some(s), Some(e)) if s <= e => &html[s..e],
        _ => "",
    };
    raw.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
