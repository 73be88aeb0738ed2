//! Fail closed on TLS (issue 12): driftgate never makes a weaker connection than the one
//! asked for, and accepts and refuses exactly where libpq does. psql is the oracle: every
//! sslmode × way of giving it (URL, key=value, service file, PG* environment, pg_dump-style
//! flags, `-d conninfo` with `-h`) × trust (right CA, wrong CA, no CA, client certificate,
//! the cert-authenticated role without one, a host name the certificate does not carry) ×
//! server (TLS only, plaintext only, and one that takes both) is run through `psql` and `driftgate fingerprint live`,
//! and the two must agree on accept/refuse and, on refusal, on the reason class. Cells psql
//! 15 cannot judge (`sslrootcert=system`) have explicit expectations.
//!
//! No cell sees a real `~/.postgresql` (libpq reads `root.crt` there): HOME is a temp dir.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use support::tls::*;
use support::*;

const MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    TlsOnly,
    PlainOnly,
    /// `ssl = on` with `host` lines: where libpq's `allow` stays plaintext and `prefer` falls
    /// back to it.
    TlsOrPlain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `--dsn postgresql://…?sslmode=…`
    Url,
    /// `--dsn "host=… sslmode=…"`
    KeyValue,
    /// `PGSERVICEFILE` + `--dsn service=x`
    Service,
    /// `PGHOST`, `PGPORT`, `PGSSLMODE`, … and no `--dsn`
    Env,
    /// `-h H -p P -U U -d DB` with `PGSSLMODE`, `PGSSLROOTCERT`, …
    Flags,
    /// `-h H -d "port=… sslmode=…"`
    DConninfo,
}

const FORMS: [Form; 6] = [
    Form::Url,
    Form::KeyValue,
    Form::Service,
    Form::Env,
    Form::Flags,
    Form::DConninfo,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Trust {
    /// sslrootcert = CA1, which signed the TLS server's certificate.
    RightCa,
    /// sslrootcert = CA2.
    WrongCa,
    /// No sslrootcert (and no `~/.postgresql/root.crt`).
    NoCa,
    /// sslrootcert = CA1, sslcert/sslkey of CA1's client certificate, user certuser.
    ClientCert,
    /// sslrootcert = CA1, user certuser, no client certificate.
    CertUserNoCert,
    /// sslrootcert = CA1, host 127.0.0.2, which the certificate does not name.
    OtherName,
}

const TRUSTS: [Trust; 6] = [
    Trust::RightCa,
    Trust::WrongCa,
    Trust::NoCa,
    Trust::ClientCert,
    Trust::CertUserNoCert,
    Trust::OtherName,
];

#[derive(Clone, Copy, Debug)]
struct Cell {
    server: Server,
    mode: &'static str,
    form: Form,
    trust: Trust,
}

impl Cell {
    fn name(&self) -> String {
        let server = match self.server {
            Server::TlsOnly => "tls-only",
            Server::PlainOnly => "plain-only",
            Server::TlsOrPlain => "tls-or-plain",
        };
        let form = match self.form {
            Form::Url => "url",
            Form::KeyValue => "key=value",
            Form::Service => "service",
            Form::Env => "env",
            Form::Flags => "flags",
            Form::DConninfo => "-d conninfo -h",
        };
        let trust = match self.trust {
            Trust::RightCa => "right-ca",
            Trust::WrongCa => "wrong-ca",
            Trust::NoCa => "no-ca",
            Trust::ClientCert => "client-cert",
            Trust::CertUserNoCert => "certuser-no-cert",
            Trust::OtherName => "other-name",
        };
        format!("{server} {} {form} {trust}", self.mode)
    }
}

/// What both programs are given for one cell: a connection string for `--dsn` (psql: `-d`),
/// other arguments, and environment variables.
#[derive(Clone, Debug, Default)]
struct Invocation {
    dsn: Option<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// Directories every run shares: an empty HOME, an empty PGSYSCONFDIR, and one for service
/// files.
struct Ctx {
    home: PathBuf,
    sysconf: PathBuf,
    work: PathBuf,
    store: PathBuf,
    _dir: tempfile::TempDir,
}

impl Ctx {
    fn new() -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx {
            home: dir.path().join("home"),
            sysconf: dir.path().join("sysconf"),
            work: dir.path().join("work"),
            store: dir.path().join("store"),
            _dir: dir,
        };
        for d in [&ctx.home, &ctx.sysconf, &ctx.work] {
            std::fs::create_dir_all(d).unwrap();
        }
        ctx
    }

    /// The environment of every run: nothing of the caller's, HOME and PGSYSCONFDIR empty.
    fn isolate(&self, cmd: &mut Command) {
        for v in CONN_VARS {
            cmd.env_remove(v);
        }
        cmd.env("HOME", &self.home)
            .env("PGSYSCONFDIR", &self.sysconf)
            .env("PGCONNECT_TIMEOUT", "10");
    }
}

/// The connection parameters of a cell, in libpq's keywords.
fn params(cell: &Cell, port: u16, db: &str) -> Vec<(&'static str, String)> {
    let pki = pki();
    let host = if cell.trust == Trust::OtherName {
        OTHER_HOST
    } else {
        "127.0.0.1"
    };
    let user = match cell.trust {
        Trust::ClientCert | Trust::CertUserNoCert => CERT_USER,
        _ => "postgres",
    };
    let mut p = vec![
        ("host", host.to_string()),
        ("port", port.to_string()),
        ("dbname", db.to_string()),
        ("user", user.to_string()),
        ("sslmode", cell.mode.to_string()),
    ];
    match cell.trust {
        Trust::NoCa => {}
        Trust::WrongCa => p.push(("sslrootcert", pki.ca2.display().to_string())),
        _ => p.push(("sslrootcert", pki.ca1.display().to_string())),
    }
    if cell.trust == Trust::ClientCert {
        p.push(("sslcert", pki.client_cert.display().to_string()));
        p.push(("sslkey", pki.client_key.display().to_string()));
    }
    p
}

fn env_var(key: &str) -> &'static str {
    match key {
        "host" => "PGHOST",
        "port" => "PGPORT",
        "dbname" => "PGDATABASE",
        "user" => "PGUSER",
        "sslmode" => "PGSSLMODE",
        "sslrootcert" => "PGSSLROOTCERT",
        "sslcert" => "PGSSLCERT",
        "sslkey" => "PGSSLKEY",
        other => panic!("no variable for {other}"),
    }
}

fn key_value(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn invocation(cell: &Cell, port: u16, db: &str, ctx: &Ctx, n: usize) -> Invocation {
    let p = params(cell, port, db);
    let get = |key: &str| p.iter().find(|(k, _)| *k == key).unwrap().1.clone();
    let ssl: Vec<(&str, String)> = p
        .iter()
        .filter(|(k, _)| k.starts_with("ssl"))
        .cloned()
        .collect();
    match cell.form {
        Form::Url => {
            let query = ssl
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            Invocation {
                dsn: Some(format!(
                    "postgresql://{}@{}:{}/{}?{query}",
                    get("user"),
                    get("host"),
                    get("port"),
                    get("dbname")
                )),
                ..Invocation::default()
            }
        }
        Form::KeyValue => Invocation {
            dsn: Some(key_value(&p)),
            ..Invocation::default()
        },
        Form::Service => {
            let file = ctx.work.join(format!("pg_service_{n}.conf"));
            let body: String = p.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            std::fs::write(&file, format!("[x]\n{body}")).unwrap();
            Invocation {
                dsn: Some("service=x".into()),
                env: vec![("PGSERVICEFILE".into(), file.display().to_string())],
                ..Invocation::default()
            }
        }
        Form::Env => Invocation {
            env: p
                .iter()
                .map(|(k, v)| (env_var(k).to_string(), v.clone()))
                .collect(),
            ..Invocation::default()
        },
        Form::Flags => Invocation {
            args: vec![
                "-h".into(),
                get("host"),
                "-p".into(),
                get("port"),
                "-U".into(),
                get("user"),
                "-d".into(),
                get("dbname"),
            ],
            env: ssl
                .iter()
                .map(|(k, v)| (env_var(k).to_string(), v.clone()))
                .collect(),
            ..Invocation::default()
        },
        Form::DConninfo => {
            let rest: Vec<(&str, String)> =
                p.iter().filter(|(k, _)| *k != "host").cloned().collect();
            Invocation {
                args: vec!["-h".into(), get("host"), "-d".into(), key_value(&rest)],
                ..Invocation::default()
            }
        }
    }
}

/// Why a connection was refused, from either program's stderr. The first class that
/// matches wins, in this order, so that a fallback attempt's error (libpq's `prefer` retries
/// without TLS after a failed handshake, `allow` with TLS after a refused plaintext) does not
/// hide the certificate problem of the other attempt.
fn classify(stderr: &str) -> String {
    let s = stderr.to_lowercase();
    let classes: [(&str, &[&str]); 6] = [
        (
            "untrusted-certificate",
            &["certificate verify failed", "certificate is not trusted"],
        ),
        (
            "name-mismatch",
            &["does not match host name", "certificate is not valid for"],
        ),
        ("no-root-cert", &["needs a root certificate"]),
        (
            "client-cert-required",
            &[
                "connection requires a valid client certificate",
                "certificate authentication failed",
            ],
        ),
        (
            "no-tls-on-server",
            &["server does not support ssl", "server does not support tls"],
        ),
        ("hba-rejected", &["no pg_hba.conf entry"]),
    ];
    if s.contains("root certificate file") && s.contains("does not exist") {
        // libpq names the missing file; checked before the list so that nothing else in
        // the message decides.
        return "no-root-cert".into();
    }
    for (class, needles) in classes {
        if needles.iter().any(|n| s.contains(n)) {
            return class.into();
        }
    }
    let first = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    format!("other:{first}")
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Refused(String),
    /// driftgate refused with an exit code other than 2.
    WrongExit(i32, String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Accepted => write!(f, "accept"),
            Outcome::Refused(c) => write!(f, "refuse {c}"),
            Outcome::WrongExit(code, c) => write!(f, "exit {code} {c}"),
        }
    }
}

fn psql_bin() -> PathBuf {
    let own = find_bin_dir().join("psql");
    if own.exists() {
        own
    } else {
        PathBuf::from("psql")
    }
}

fn run_psql(inv: &Invocation, ctx: &Ctx) -> (Outcome, String) {
    let mut cmd = Command::new(psql_bin());
    ctx.isolate(&mut cmd);
    cmd.args(["-X", "-w", "-At", "-c", "select 1"]);
    if let Some(dsn) = &inv.dsn {
        cmd.args(["-d", dsn]);
    }
    cmd.args(&inv.args)
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    let out = cmd.output().expect("psql");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let outcome = if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1" {
        Outcome::Accepted
    } else {
        Outcome::Refused(classify(&stderr))
    };
    (outcome, stderr)
}

fn run_driftgate(inv: &Invocation, ctx: &Ctx, extra_env: &[(&str, &Path)]) -> (Outcome, Run) {
    let mut args: Vec<&str> = vec!["fingerprint", "live"];
    if let Some(dsn) = &inv.dsn {
        args.extend(["--dsn", dsn]);
    }
    args.extend(inv.args.iter().map(String::as_str));
    let mut cmd = driftgate_cmd(&ctx.store, &args);
    ctx.isolate(&mut cmd);
    cmd.envs(inv.env.iter().map(|(k, v)| (k, v)));
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let r = run_cmd(cmd);
    let outcome = match r.code {
        0 => Outcome::Accepted,
        2 => Outcome::Refused(classify(&r.stderr)),
        code => Outcome::WrongExit(code, classify(&r.stderr)),
    };
    (outcome, r)
}

/// Two refusals that differ only in when the problem was found: driftgate may refuse
/// verify-ca/verify-full without a root certificate before connecting, where libpq only
/// finds out after the server has answered the TLS request — with "server does not support
/// SSL" from a server without TLS.
fn equivalent(driftgate: &Outcome, psql: &Outcome) -> bool {
    matches!(
        (driftgate, psql),
        (Outcome::Refused(d), Outcome::Refused(p))
            if d == "no-root-cert" && p == "no-tls-on-server"
    )
}

struct Row {
    cell: Cell,
    driftgate: Outcome,
    psql: Outcome,
    /// On the server that takes both: `tls` or `plain` (`mixed` if the connections of one
    /// run differed), from its log; None elsewhere and when nothing connected.
    driftgate_transport: Option<&'static str>,
    psql_transport: Option<&'static str>,
    driftgate_stderr: String,
    psql_stderr: String,
}

/// A database for each (sslmode, trust) on `cluster`, each with the same one table.
fn one_db_per_group(
    cluster: &'static Cluster,
) -> std::collections::HashMap<(&'static str, Trust), String> {
    let template = cluster.create_db("tls_template");
    template.sql("CREATE TABLE t (id int PRIMARY KEY)");
    let mut dbs = std::collections::HashMap::new();
    let mut sql = String::new();
    for (i, mode) in MODES.iter().enumerate() {
        for (j, trust) in TRUSTS.iter().enumerate() {
            let name = format!("{}_m{i}_t{j}", template.name);
            sql.push_str(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{}\";\n",
                template.name
            ));
            dbs.insert((*mode, *trust), name);
        }
    }
    cluster.sql("postgres", &sql);
    dbs
}

/// For each connection to `db` that the server authorized for application `app`, in order:
/// whether it was TLS (needs `log_connections = on`).
fn transports(log: &str, db: &str, app: &str) -> Vec<bool> {
    let database = format!(" database={db} ");
    let application = format!(" application_name={app}");
    log.lines()
        .filter(|l| {
            l.contains("connection authorized:")
                && l.contains(&database)
                && l.contains(&application)
        })
        .map(|l| l.contains("SSL enabled"))
        .collect()
}

fn summarize(tls: &[bool]) -> Option<&'static str> {
    match (tls.iter().all(|t| *t), tls.iter().any(|t| *t)) {
        _ if tls.is_empty() => None,
        (true, _) => Some("tls"),
        (false, false) => Some("plain"),
        (false, true) => Some("mixed"),
    }
}

fn with_transport(outcome: &Outcome, transport: Option<&str>) -> String {
    match transport {
        Some(t) => format!("{outcome} over {t}"),
        None => outcome.to_string(),
    }
}

/// Run `f` on every item with two threads (the machine has two cores); results in order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= items.len() {
                    break;
                }
                let r = f(i, &items[i]);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn driftgate_accepts_and_refuses_tls_where_psql_does() {
    let (tls, plain, both) = std::thread::scope(|s| {
        let t = s.spawn(tls_server);
        let p = s.spawn(plain_server);
        let b = s.spawn(tls_or_plain_server);
        (t.join().unwrap(), p.join().unwrap(), b.join().unwrap())
    });
    let tls_db = tls.create_db("tls_matrix");
    let plain_db = plain.create_db("tls_matrix");
    for db in [&tls_db, &plain_db] {
        db.sql("CREATE TABLE t (id int PRIMARY KEY)");
    }
    // On the server that takes both, each (sslmode, trust) has a database of its own, so
    // that its log tells which connections of a cell were TLS and which plaintext.
    let both_dbs = one_db_per_group(both);
    let ctx = Ctx::new();
    let mut groups: Vec<Vec<Cell>> = Vec::new();
    for server in [Server::TlsOnly, Server::PlainOnly, Server::TlsOrPlain] {
        for mode in MODES {
            for trust in TRUSTS {
                groups.push(
                    FORMS
                        .iter()
                        .map(|&form| Cell {
                            server,
                            mode,
                            form,
                            trust,
                        })
                        .collect(),
                );
            }
        }
    }
    let rows: Vec<Row> = parallel(&groups, |n, group| {
        group
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let (port, db) = match cell.server {
                    Server::TlsOnly => (tls.port, tls_db.name.clone()),
                    Server::PlainOnly => (plain.port, plain_db.name.clone()),
                    Server::TlsOrPlain => (both.port, both_dbs[&(cell.mode, cell.trust)].clone()),
                };
                let inv = invocation(cell, port, &db, &ctx, n * FORMS.len() + i);
                let watch = cell.server == Server::TlsOrPlain;
                let seen = |app: &str| transports(&both.log_text(), &db, app).len();
                let since = |app: &str, before: usize| -> Option<&'static str> {
                    watch.then(|| summarize(&transports(&both.log_text(), &db, app)[before..]))?
                };
                let before = if watch { seen("psql") } else { 0 };
                let (psql, psql_stderr) = run_psql(&inv, &ctx);
                let psql_transport = since("psql", before);
                let before = if watch { seen("driftgate") } else { 0 };
                let (driftgate, r) = run_driftgate(&inv, &ctx, &[]);
                let driftgate_transport = since("driftgate", before);
                Row {
                    cell: *cell,
                    driftgate,
                    psql,
                    driftgate_transport,
                    psql_transport,
                    driftgate_stderr: r.stderr,
                    psql_stderr,
                }
            })
            .collect::<Vec<Row>>()
    })
    .into_iter()
    .flatten()
    .collect();

    let width = rows.iter().map(|r| r.cell.name().len()).max().unwrap_or(0);
    let mut table = format!(
        "{:width$} | {:40} | {:40} | agree\n",
        "cell", "driftgate", "psql"
    );
    let mut failures = Vec::new();
    for r in &rows {
        let same = r.driftgate == r.psql && r.driftgate_transport == r.psql_transport;
        let agree = same || equivalent(&r.driftgate, &r.psql);
        table.push_str(&format!(
            "{:width$} | {:40} | {:40} | {}\n",
            r.cell.name(),
            with_transport(&r.driftgate, r.driftgate_transport),
            with_transport(&r.psql, r.psql_transport),
            match (same, agree) {
                (true, _) => "yes",
                (false, true) => "yes*",
                _ => "NO",
            }
        ));
        if !agree {
            failures.push(format!(
                "{}: driftgate {} (stderr: {}), psql {} (stderr: {})",
                r.cell.name(),
                with_transport(&r.driftgate, r.driftgate_transport),
                one_line(&r.driftgate_stderr),
                with_transport(&r.psql, r.psql_transport),
                one_line(&r.psql_stderr)
            ));
        }
    }
    eprintln!(
        "{table}{} cells (yes*: both refuse, driftgate before connecting: see `equivalent`)",
        rows.len()
    );

    // A broken harness could make everything agree by refusing everything: the obvious
    // cells must connect, psql first (the harness), then driftgate.
    let find = |server, mode: &str, form, trust| {
        rows.iter()
            .find(|r| {
                r.cell.server == server
                    && r.cell.mode == mode
                    && r.cell.form == form
                    && r.cell.trust == trust
            })
            .unwrap()
    };
    for form in FORMS {
        for (server, mode, trust) in [
            (Server::TlsOnly, "verify-full", Trust::RightCa),
            (Server::TlsOnly, "verify-full", Trust::ClientCert),
            (Server::PlainOnly, "disable", Trust::RightCa),
        ] {
            let r = find(server, mode, form, trust);
            assert_eq!(
                r.psql,
                Outcome::Accepted,
                "harness: psql must connect in {}: {}",
                r.cell.name(),
                r.psql_stderr
            );
            if r.driftgate != Outcome::Accepted {
                failures.push(format!(
                    "{}: must connect, driftgate {}: {}",
                    r.cell.name(),
                    r.driftgate,
                    one_line(&r.driftgate_stderr)
                ));
            }
        }
        // The server log tells TLS from plaintext (else every transport would be None on
        // both sides and agree).
        for (mode, transport) in [("disable", "plain"), ("verify-full", "tls")] {
            let r = find(Server::TlsOrPlain, mode, form, Trust::RightCa);
            assert_eq!(
                r.psql_transport,
                Some(transport),
                "harness: psql's connection in {} as the server logged it",
                r.cell.name()
            );
        }
        // Fail closed: a CA asked for, TLS required, and a server without TLS, or one that
        // would also take plaintext: never a plaintext fallback.
        for (server, mode) in [
            (Server::PlainOnly, "require"),
            (Server::TlsOrPlain, "require"),
            (Server::TlsOrPlain, "verify-ca"),
            (Server::TlsOrPlain, "verify-full"),
        ] {
            let r = find(server, mode, form, Trust::WrongCa);
            assert_ne!(r.psql, Outcome::Accepted, "harness: {}", r.cell.name());
            if !matches!(r.driftgate, Outcome::Refused(_)) {
                failures.push(format!(
                    "{}: must be refused with exit 2, driftgate {}: {}",
                    r.cell.name(),
                    r.driftgate,
                    one_line(&r.driftgate_stderr)
                ));
            }
        }
    }
    // The certificate checks of the harness work: psql itself refuses these.
    for (server, mode, trust, class) in [
        (
            Server::TlsOnly,
            "verify-ca",
            Trust::WrongCa,
            "untrusted-certificate",
        ),
        (
            Server::TlsOnly,
            "verify-full",
            Trust::OtherName,
            "name-mismatch",
        ),
        (Server::TlsOnly, "disable", Trust::RightCa, "hba-rejected"),
        (
            Server::TlsOnly,
            "verify-full",
            Trust::CertUserNoCert,
            "client-cert-required",
        ),
        (
            Server::PlainOnly,
            "require",
            Trust::NoCa,
            "no-tls-on-server",
        ),
        (Server::TlsOnly, "verify-full", Trust::NoCa, "no-root-cert"),
    ] {
        let r = find(server, mode, Form::KeyValue, trust);
        assert_eq!(
            r.psql,
            Outcome::Refused(class.into()),
            "harness: psql in {}: {}",
            r.cell.name(),
            r.psql_stderr
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cells disagree or miss their expectation:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// `sslrootcert=system`: the operating system's store, which driftgate (rustls) reads from
/// `SSL_CERT_FILE`/`SSL_CERT_DIR`; it means verify-full, and a weaker explicit sslmode with
/// it is an error, as in libpq 16+. psql 15 reads `system` as a file name, so these cells have
/// explicit expectations instead of an oracle.
#[test]
fn sslrootcert_system_reads_the_os_store_alone_and_means_verify_full() {
    let server = ca2_server();
    let pki = pki();
    let ctx = Ctx::new();
    let empty_dir = ctx.work.join("empty-cert-dir");
    std::fs::create_dir_all(&empty_dir).unwrap();
    let port = server.port;
    let base = format!("host=127.0.0.1 port={port} dbname=postgres user=postgres");
    let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let kv = |more: &str| Invocation {
        dsn: Some(format!("{base} {more}")),
        ..Invocation::default()
    };
    let env = |more: &[(&str, &str)]| Invocation {
        env: [
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", &port.to_string()),
            ("PGDATABASE", "postgres"),
            ("PGUSER", "postgres"),
        ]
        .iter()
        .chain(more)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Invocation::default()
    };
    let url_inv = |query: &str| Invocation {
        dsn: Some(format!("{url}?{query}")),
        ..Invocation::default()
    };
    let ca1 = pki.ca1.display().to_string();
    // (what, invocation, the OS store, expected)
    let cases: Vec<(&str, Invocation, &Path, Option<&str>)> = vec![
        (
            "sslrootcert=CA1 against a CA2 certificate, CA2 in the OS store: not added to CA1",
            kv(&format!("sslmode=verify-full sslrootcert={ca1}")),
            &pki.ca2,
            Some("untrusted-certificate"),
        ),
        (
            "sslrootcert=system, OS store CA2",
            kv("sslrootcert=system"),
            &pki.ca2,
            None,
        ),
        (
            "sslrootcert=system sslmode=verify-full, OS store CA2",
            kv("sslrootcert=system sslmode=verify-full"),
            &pki.ca2,
            None,
        ),
        (
            "URL sslrootcert=system, OS store CA2",
            url_inv("sslrootcert=system"),
            &pki.ca2,
            None,
        ),
        (
            "PGSSLROOTCERT=system, OS store CA2",
            env(&[("PGSSLROOTCERT", "system")]),
            &pki.ca2,
            None,
        ),
        (
            "sslrootcert=system, OS store CA1 (not the server's CA)",
            kv("sslrootcert=system"),
            &pki.ca1,
            Some("untrusted-certificate"),
        ),
    ];
    let mut failures = Vec::new();
    for (what, inv, store, expected) in &cases {
        let (outcome, r) = run_driftgate(
            inv,
            &ctx,
            &[("SSL_CERT_FILE", store), ("SSL_CERT_DIR", &empty_dir)],
        );
        let want = match expected {
            None => Outcome::Accepted,
            Some(class) => Outcome::Refused(class.to_string()),
        };
        eprintln!("{what}: driftgate {outcome}, expected {want}");
        if outcome != want {
            failures.push(format!(
                "{what}: driftgate {outcome}, expected {want}: {r:?}"
            ));
        }
    }
    // A weaker explicit sslmode with system is an error before connecting (exit 2, naming
    // sslrootcert=system), in every form.
    for mode in ["disable", "allow", "prefer", "require", "verify-ca"] {
        for (form, inv) in [
            (
                "key=value",
                kv(&format!("sslrootcert=system sslmode={mode}")),
            ),
            (
                "url",
                url_inv(&format!("sslrootcert=system&sslmode={mode}")),
            ),
            (
                "env",
                env(&[("PGSSLROOTCERT", "system"), ("PGSSLMODE", mode)]),
            ),
        ] {
            let (outcome, r) = run_driftgate(
                &inv,
                &ctx,
                &[("SSL_CERT_FILE", &pki.ca2), ("SSL_CERT_DIR", &empty_dir)],
            );
            eprintln!("sslrootcert=system sslmode={mode} ({form}): driftgate {outcome}");
            let names_it = r.stderr.contains("system") && r.stderr.contains(mode);
            if r.code != 2 || !names_it {
                failures.push(format!(
                    "sslrootcert=system sslmode={mode} ({form}): want exit 2 naming both: {r:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} sslrootcert=system cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
