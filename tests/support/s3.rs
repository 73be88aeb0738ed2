//! A real S3 API server for the tests: moto's standalone server (`moto_server`, pinned and
//! installed by `scripts/setup.sh`) on 127.0.0.1 and a free port, one per test binary, with
//! a watchdog that stops it when the binary exits, like the PostgreSQL servers.
//!
//! Before any test uses it, a preflight checks with raw HTTP requests (no driftgate code)
//! that the server's conditional writes hold under concurrency: of N simultaneous
//! `If-None-Match: *` puts of one key exactly one succeeds, and of N simultaneous
//! `If-Match: <ETag>` puts exactly one does. A server that races fails here, so its race is
//! never blamed on driftgate.
//!
//! The server is found as `DRIFTGATE_TEST_MOTO` or `moto_server` on PATH; missing, the test
//! fails and says how to install it (never skips).
//!
//! [`server`] also sets this process's AWS variables (endpoint, test credentials,
//! `AWS_ALLOW_HTTP`), so driftgate processes the tests start inherit them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

/// The credentials the tests use: moto accepts any; the tests check none of them leaks.
pub const ACCESS_KEY: &str = "AKIADRIFTGATETEST01";
pub const SECRET_KEY: &str = "dg-test-Secret/Key+never-shown-9f3";
pub const BUCKET: &str = "driftgate-test";

pub struct S3Server {
    pub port: u16,
    pub endpoint: String,
    /// What the preflight measured, for the report.
    pub preflight: String,
}

static SERVER: OnceLock<S3Server> = OnceLock::new();
static PREFIXES: AtomicUsize = AtomicUsize::new(0);

/// The moto server of this test binary, started and preflighted on first use.
pub fn server() -> &'static S3Server {
    SERVER.get_or_init(start)
}

/// A fresh, empty store location on the test server: `s3://driftgate-test/<unique prefix>`.
pub fn store_url(hint: &str) -> String {
    server();
    format!(
        "s3://{BUCKET}/{hint}-{}-{}",
        std::process::id(),
        PREFIXES.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where scripts/setup.sh installs the pinned moto (a virtualenv of its own, so no other
/// Python package can change it).
pub const MOTO_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/moto/bin/moto_server");

fn moto_path() -> String {
    let path = std::env::var("DRIFTGATE_TEST_MOTO").unwrap_or_else(|_| MOTO_SERVER.to_string());
    assert!(
        Path::new(&path).is_file(),
        "no moto_server at {path}: run scripts/setup.sh (it installs the pinned moto[server] there), or set DRIFTGATE_TEST_MOTO"
    );
    path
}

fn start() -> S3Server {
    let port = spawn_moto(None);
    let endpoint = format!("http://127.0.0.1:{port}");
    set_env(&endpoint);
    let preflight = preflight(port);
    S3Server {
        port,
        endpoint,
        preflight,
    }
}

/// A second moto server speaking HTTPS with `cert`/`key` (PEM files), and its port: the
/// S3 half of the test that one process uses TLS to PostgreSQL and to S3. Its bucket is
/// made over HTTPS by a driftgate write, so nothing here speaks plain HTTP to it.
pub fn tls_server(cert: &std::path::Path, key: &std::path::Path, ca: &std::path::Path) -> u16 {
    static TLS: OnceLock<u16> = OnceLock::new();
    *TLS.get_or_init(|| {
        let port = spawn_moto(Some((cert, key)));
        create_bucket_over_tls(port, ca);
        port
    })
}

/// `PUT /BUCKET` over TLS (rustls, trusting only `ca`), with a retry while moto starts.
fn create_bucket_over_tls(port: u16, ca: &std::path::Path) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    for cert in rustls_pki_types_certs(&pem) {
        roots.add(cert).unwrap();
    }
    let config = std::sync::Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let start = Instant::now();
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let conn = rustls::ClientConnection::new(config.clone(), name)
                .map_err(std::io::Error::other)?;
            let tcp = TcpStream::connect(("127.0.0.1", port))?;
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            write!(
                tls,
                "PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n"
            )?;
            let mut resp = Vec::new();
            let _ = tls.read_to_end(&mut resp);
            Ok(String::from_utf8_lossy(&resp).to_string())
        })();
        match attempt {
            Ok(resp) if resp.split_whitespace().nth(1) == Some("200") => return,
            other => assert!(
                start.elapsed() < Duration::from_secs(30),
                "creating the bucket over TLS: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rustls_pki_types_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.unwrap())
        .collect()
}

// The server and its watchdog outlive this call by design (the watchdog ends both when the
// test binary exits), so neither is waited on here.
#[allow(clippy::zombie_processes)]
fn spawn_moto(ssl: Option<(&std::path::Path, &std::path::Path)>) -> u16 {
    let moto = moto_path();
    let port = super::unused_port();
    let log =
        std::env::temp_dir().join(format!("driftgate-moto-{}-{port}.log", std::process::id()));
    // moto_server's own interpreter runs moto_serial.py (one request at a time: see there).
    let shebang = std::fs::read_to_string(&moto)
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .and_then(|l| l.strip_prefix("#!").map(|p| p.trim().to_string()))
        .unwrap_or_else(|| panic!("{moto} is not a Python script with a #! line"));
    let mut cmd = Command::new(&shebang);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/moto_serial.py"
    ));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    if let Some((cert, key)) = ssl {
        cmd.arg("-c").arg(cert).arg("-k").arg(key);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {moto}: {e}"));
    // Stopped when this test binary exits, however it exits.
    super::run_when_done(&format!(
        "kill {child} 2>/dev/null; rm -f '{log}'",
        child = child.id(),
        log = log.display()
    ));
    let start = Instant::now();
    loop {
        if ssl.is_some() {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
        } else if let Ok((code, _, _)) = request(port, "PUT", &format!("/{BUCKET}"), &[], b"") {
            assert_eq!(code, 200, "creating the test bucket");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto_server did not answer on port {port} within 30 s: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    port
}

/// This process's AWS variables, pointing at the plain test server.
fn set_env(endpoint: &str) {
    // SAFETY (of the environment): set once, before any driftgate client of this process
    // reads it; every test reaches the server through here first.
    for (k, v) in [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ALLOW_HTTP", "true"),
    ] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
}

/// Raw conditional writes, `THREADS` at once, `ROUNDS` times: exactly one winner each time.
fn preflight(port: u16) -> String {
    const THREADS: usize = 8;
    const ROUNDS: usize = 10;
    for round in 0..ROUNDS {
        let key = format!("/{BUCKET}/preflight/{}-{round}", std::process::id());
        let create = race(port, &key, None);
        assert_eq!(
            create.iter().filter(|c| **c == 200).count(),
            1,
            "the S3 test server let {create:?} simultaneous If-None-Match: * puts of {key} through: its conditional writes race, so no test of driftgate's could mean anything"
        );
        assert!(
            create.iter().all(|c| matches!(c, 200 | 409 | 412)),
            "{create:?}"
        );
        let (_, headers, _) = request(port, "HEAD", &key, &[], b"").unwrap();
        let etag = header(&headers, "etag").expect("an ETag");
        let update = race(port, &key, Some(&etag));
        assert_eq!(
            update.iter().filter(|c| **c == 200).count(),
            1,
            "the S3 test server let {update:?} simultaneous If-Match puts of {key} through"
        );
        assert!(
            update.iter().all(|c| matches!(c, 200 | 409 | 412)),
            "{update:?}"
        );
    }
    format!("{ROUNDS} rounds of {THREADS} simultaneous If-None-Match and If-Match puts: one winner each")
}

fn race(port: u16, key: &str, etag: Option<&str>) -> Vec<u16> {
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    let cond = match etag {
                        None => ("If-None-Match", "*".to_string()),
                        Some(e) => ("If-Match", e.to_string()),
                    };
                    // Unique to this put: a writer that rewrote the bytes already there
                    // would leave the ETag as it was, and a second If-Match on it would
                    // rightly succeed (S3 behaves the same).
                    let body = format!("writer {i} of {key} {}", cond.0);
                    barrier.wait();
                    request(port, "PUT", key, &[(cond.0, &cond.1)], body.as_bytes())
                        .unwrap()
                        .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

pub fn header(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// One raw HTTP/1.1 request to the test server: (status, headers, body). moto checks no
/// signature, but wants an Authorization header to apply S3's rules (preconditions).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nAuthorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut body = resp[split + 4..].to_vec();
    if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Ok((code, head, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[pos + 2..pos + 2 + size]);
        data = &data[pos + 2 + size + 2..];
    }
    out
}

/// Every key under `prefix` (of the test bucket) with its bytes, read with raw requests:
/// what an `aws s3 sync` down would copy.
pub fn objects(prefix: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let port = server().port;
    let mut out = std::collections::BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("/{BUCKET}?list-type=2&prefix={prefix}/");
        if let Some(t) = &token {
            path.push_str(&format!("&continuation-token={}", urlencode(t)));
        }
        let (code, _, body) = request(port, "GET", &path, &[], b"").unwrap();
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
        let text = String::from_utf8_lossy(&body).to_string();
        for part in text.split("<Key>").skip(1) {
            let key = part.split("</Key>").next().unwrap().replace("&amp;", "&");
            let (code, _, bytes) =
                request(port, "GET", &format!("/{BUCKET}/{key}"), &[], b"").unwrap();
            assert_eq!(code, 200, "{key}");
            out.insert(key[prefix.len() + 1..].to_string(), bytes);
        }
        token = text
            .split("<NextContinuationToken>")
            .nth(1)
            .map(|t| t.split('<').next().unwrap().to_string());
        if token.is_none() {
            break;
        }
    }
    out
}

/// Put `bytes` as `key` under `prefix` with a raw request (an `aws s3 sync` up).
pub fn put_object(prefix: &str, key: &str, bytes: &[u8]) {
    let (code, _, body) = request(
        server().port,
        "PUT",
        &format!("/{BUCKET}/{prefix}/{key}"),
        &[],
        bytes,
    )
    .unwrap();
    assert_eq!(code, 200, "{key}: {}", String::from_utf8_lossy(&body));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The prefix (below the bucket) of a store URL made by [`store_url`].
pub fn prefix_of(url: &str) -> &str {
    url.strip_prefix(&format!("s3://{BUCKET}/")).unwrap()
}
