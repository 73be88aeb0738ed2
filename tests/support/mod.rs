//! Test harness: a real throwaway PostgreSQL per test binary (initdb + pg_ctl in a temp dir,
//! a free port on 127.0.0.1 and a unix socket), one fresh database per test, and a runner
//! for the built `driftgate` binary. Also: private clusters for tests that stop the server
//! or compare versions, the server's statement log parsed per session, helpers to park a
//! snapshot on a held lock, and a wire proxy that rewrites SQL ([`proxy`]). Certificates and
//! TLS servers are in [`tls`]; a private cluster can be started with extra settings, its own
//! `pg_hba.conf` and files in its data directory ([`ClusterSetup`]); a streaming standby of
//! one is in [`replica`].
//!
//! Server binaries: `DRIFTGATE_TEST_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`,
//! else the directory of `initdb` on PATH. No PostgreSQL means a failing test with a clear
//! message, never a skipped one. As root, the server runs as the `postgres` user (created if
//! missing), because PostgreSQL refuses to run as root. A watchdog process stops the server
//! and removes its directory when the test binary exits.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod browser;
pub mod oracle;
pub mod proxy;
pub mod replica;
pub mod s3;
pub mod tls;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/governance.sql");

/// Every variable that would change where or how a run of driftgate or psql connects (the
/// libpq environment, the system trust store, the store): a test that compares the two
/// clears them all and sets its own.
pub const CONN_VARS: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLCRL",
    "PGSSLCRLDIR",
    "PGSSLNEGOTIATION",
    "PGREQUIRESSL",
    "PGTARGETSESSIONATTRS",
    "PGCONNECT_TIMEOUT",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGGSSENCMODE",
    "PGCHANNELBINDING",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "DRIFTGATE_STORE",
    "PGLOADBALANCEHOSTS",
];

pub struct Cluster {
    pub bin_dir: PathBuf,
    pub base: PathBuf,
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub port: u16,
    pub log: PathBuf,
    /// OS user the server runs as, when the tests run as root.
    pub run_as: Option<String>,
    pub version_num: u32,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The shared cluster of this test binary, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| start_cluster(find_bin_dir()))
}

/// A cluster of its own, for a test that stops the server or needs another PostgreSQL
/// version. `bin_dir` defaults to the one the shared cluster uses. It lives until the test
/// binary exits (then its watchdog stops it and removes its directory), unless stopped.
pub fn private_cluster(bin_dir: Option<PathBuf>) -> &'static Cluster {
    private_cluster_with(bin_dir, ClusterSetup::default())
}

/// How a private cluster differs from the default one.
#[derive(Clone, Debug, Default)]
pub struct ClusterSetup {
    /// Lines appended to `postgresql.auto.conf` (e.g. `ssl = on`).
    pub conf: String,
    /// The whole `pg_hba.conf`, instead of the default (trust on 127.0.0.1 and the socket,
    /// scram for `pwuser`). Keep a `local all all trust` line: the harness's setup SQL may
    /// use the socket.
    pub hba: Option<String>,
    /// Files written into the data directory before the server starts, mode 0600 and owned
    /// by the server's OS user (as PostgreSQL wants of a key file): (file name, contents).
    pub files: Vec<(String, Vec<u8>)>,
    /// `listen_addresses` instead of `127.0.0.1` (e.g. `127.0.0.1,127.0.0.2`).
    pub listen: Option<String>,
}

/// A private cluster started with `setup` (see [`private_cluster`]).
pub fn private_cluster_with(bin_dir: Option<PathBuf>, setup: ClusterSetup) -> &'static Cluster {
    Box::leak(Box::new(start_cluster_with(
        bin_dir.unwrap_or_else(find_bin_dir),
        &setup,
    )))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub fn find_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DRIFTGATE_TEST_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("initdb").exists() && dir.join("pg_ctl").exists(),
            "DRIFTGATE_TEST_PG_BIN={} has no initdb/pg_ctl",
            dir.display()
        );
        return dir;
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, dir)) = candidates.pop() {
        return dir;
    }
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !p.is_empty() {
            let real = std::fs::canonicalize(&p).unwrap_or_else(|_| PathBuf::from(&p));
            return real.parent().unwrap().to_path_buf();
        }
    }
    panic!(
        "no PostgreSQL server binaries found (initdb, pg_ctl): run scripts/test.sh, which installs \
         them (apt-get install postgresql), or set DRIFTGATE_TEST_PG_BIN to a directory holding them"
    );
}

fn ensure_user(name: &str) {
    let exists = Command::new("id")
        .arg(name)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let st = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/bin/sh", name])
            .status()
            .expect("useradd");
        assert!(
            st.success(),
            "could not create the unprivileged user {name} for PostgreSQL"
        );
    }
}

impl Cluster {
    /// A command for a server binary, run as the unprivileged user when we are root.
    pub fn server_cmd(&self, program: &str) -> Command {
        server_cmd(&self.bin_dir, self.run_as.as_deref(), program)
    }

    /// psql: the cluster's own, else the one on PATH (any recent client talks to 13–18).
    pub fn psql_path(&self) -> PathBuf {
        let own = self.bin_dir.join("psql");
        if own.exists() {
            own
        } else {
            PathBuf::from("psql")
        }
    }

    pub fn dsn(&self, db: &str) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{}", self.port, db)
    }

    /// Run SQL against `db` as the superuser; panic with psql's stderr on failure.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = self.psql_raw(db, sql, &[]);
        assert!(
            out.status.success(),
            "SQL failed on {db}:\n{sql}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn psql_raw(&self, db: &str, sql: &str, extra: &[&str]) -> Output {
        let mut child = Command::new(self.psql_path())
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-d",
                &self.dsn(db),
                "-f",
                "-",
            ])
            .args(extra)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("psql");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn unique_name(hint: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        format!("{clean}_{}_{n}", std::process::id())
    }

    pub fn create_db(&'static self, hint: &str) -> TestDb {
        let name = Self::unique_name(hint);
        self.sql("postgres", &format!("CREATE DATABASE \"{name}\""));
        TestDb {
            name: name.clone(),
            dsn: self.dsn(&name),
            cluster: self,
        }
    }

    /// `pg_ctl stop` with a shutdown mode (`smart`, `fast`, `immediate`).
    pub fn stop(&self, mode: &str) {
        let out = self
            .server_cmd("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", mode, "-w", "-t", "60", "stop"])
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl stop");
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The server log so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

fn server_cmd(bin_dir: &Path, run_as: Option<&str>, program: &str) -> Command {
    let path = bin_dir.join(program);
    match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(path);
            c
        }
        None => Command::new(path),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_cluster(bin_dir: PathBuf) -> Cluster {
    start_cluster_with(bin_dir, &ClusterSetup::default())
}

/// A server's directories: a fresh temporary base (kept until the watchdog removes it),
/// its data directory and socket directory inside, the log file; owned by the server's
/// OS user when the tests run as root.
pub struct ServerDirs {
    pub base: PathBuf,
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub log: PathBuf,
}

pub fn server_dirs(prefix: &str, run_as: Option<&str>) -> ServerDirs {
    let base = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap()
        .keep();
    let data = base.join("data");
    let socket_dir = base.join("sock");
    std::fs::create_dir_all(&socket_dir).unwrap();
    let log = base.join("server.log");
    if let Some(user) = run_as {
        let st = Command::new("chown")
            .args(["-R", user])
            .arg(&base)
            .status()
            .unwrap();
        assert!(st.success(), "chown of {} failed", base.display());
    }
    ServerDirs {
        base,
        data,
        socket_dir,
        log,
    }
}

fn start_cluster_with(bin_dir: PathBuf, setup: &ClusterSetup) -> Cluster {
    let run_as = if is_root() {
        ensure_user("postgres");
        Some("postgres".to_string())
    } else {
        None
    };
    let ServerDirs {
        base,
        data,
        socket_dir,
        log,
    } = server_dirs("driftgate-pg-", run_as.as_deref());
    let out = server_cmd(&bin_dir, run_as.as_deref(), "initdb")
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ])
        .output()
        .expect("initdb");
    assert!(
        out.status.success(),
        "initdb failed ({}):\n{}",
        bin_dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        data.join("pg_hba.conf"),
        setup.hba.as_deref().unwrap_or(
            "local all all trust\n\
             host all pwuser 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 trust\n\
             host all all ::1/128 trust\n",
        ),
    )
    .unwrap();
    for (name, contents) in &setup.files {
        use std::os::unix::fs::PermissionsExt;
        let path = data.join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Some(user) = &run_as {
            let st = Command::new("chown").arg(user).arg(&path).status().unwrap();
            assert!(st.success(), "chown of {} failed", path.display());
        }
    }
    let extra_conf = std::env::var("DRIFTGATE_TEST_PG_CONF").unwrap_or_default();
    std::fs::write(
        data.join("postgresql.auto.conf"),
        format!(
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n\
             password_encryption = 'scram-sha-256'\n\
             log_line_prefix = '%m [%p] app=%a db=%d '\n{extra_conf}\n{}\n",
            setup.conf
        ),
    )
    .unwrap();
    let port = start_server(
        &bin_dir,
        run_as.as_deref(),
        &data,
        &socket_dir,
        &log,
        &base,
        setup.listen.as_deref().unwrap_or("127.0.0.1"),
        "PostgreSQL",
    );
    let mut cluster = Cluster {
        bin_dir,
        base,
        data,
        socket_dir,
        port,
        log,
        run_as,
        version_num: 0,
    };
    cluster.version_num = cluster
        .sql("postgres", "SHOW server_version_num")
        .trim()
        .parse()
        .unwrap();
    cluster
}

/// Start the server of `data` with `pg_ctl` on a free port (three tries: another process
/// may take the port first) and its watchdog; the port. `what` names it if it never starts.
// The directories come apart from `ServerDirs` at the callers, which move them on.
#[allow(clippy::too_many_arguments)]
pub fn start_server(
    bin_dir: &Path,
    run_as: Option<&str>,
    data: &Path,
    socket_dir: &Path,
    log: &Path,
    base: &Path,
    listen: &str,
    what: &str,
) -> u16 {
    let mut last_err = String::new();
    for _attempt in 0..3 {
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses={listen}",
            socket_dir.display()
        );
        let out = server_cmd(bin_dir, run_as, "pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-o", &opts, "-l"])
            .arg(log)
            .args(["-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl");
        if out.status.success() {
            spawn_watchdog(bin_dir, run_as, data, base);
            return port;
        }
        last_err = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
    panic!("{what} did not start:\n{last_err}");
}

/// Stop the server and remove its directory once this test process is gone.
fn spawn_watchdog(bin_dir: &Path, run_as: Option<&str>, data: &Path, base: &Path) {
    let pg_ctl = bin_dir.join("pg_ctl");
    let stop = match run_as {
        Some(u) => format!(
            "runuser -u {u} -- {} -D {} -m immediate stop",
            pg_ctl.display(),
            data.display()
        ),
        None => format!(
            "{} -D {} -m immediate stop",
            pg_ctl.display(),
            data.display()
        ),
    };
    run_when_done(&format!(
        "{stop} >/dev/null 2>&1; rm -rf {base}",
        base = base.display()
    ));
}

/// Remove `path` (a directory of this test binary's) once this test process is gone.
pub fn remove_when_done(path: &Path) {
    run_when_done(&format!("rm -rf '{}'", path.display()));
}

/// Run the shell command `cleanup` once this test process is gone, however it ends (a
/// panic, a kill): the one watchdog that stops the servers and removes the directories a
/// test binary made.
// The watchdog must outlive this process, so it is deliberately never waited on.
#[allow(clippy::zombie_processes)]
pub fn run_when_done(cleanup: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {cleanup}",
        pid = std::process::id(),
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog");
}

/// One database of a cluster (the shared one unless made with a private cluster).
pub struct TestDb {
    pub name: String,
    pub dsn: String,
    pub cluster: &'static Cluster,
}

impl TestDb {
    /// Run SQL (a script: several statements, `BEGIN … ROLLBACK` allowed); panic on error.
    pub fn sql(&self, sql: &str) -> String {
        self.cluster.sql(&self.name, sql)
    }

    /// First column of the first row, trimmed.
    pub fn query(&self, sql: &str) -> String {
        self.sql(sql)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// A DSN for another role on this database.
    pub fn dsn_as(&self, user_info: &str) -> String {
        format!(
            "postgresql://{user_info}@127.0.0.1:{}/{}",
            self.cluster.port, self.name
        )
    }

    /// An open psql session that keeps running (e.g. to hold a lock) until dropped.
    pub fn session(&self) -> Session {
        let child = Command::new(self.cluster.psql_path())
            .args(["-X", "-q", "-At", "-d", &self.dsn])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql session");
        Session { child }
    }
}

pub struct Session {
    child: Child,
}

impl TestDb {
    /// A session holding ACCESS EXCLUSIVE on `table` (granted when this returns) until it
    /// is dropped.
    pub fn lock_exclusive(&self, table: &str) -> Session {
        let mut holder = self.session();
        holder.send(&format!(
            "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;"
        ));
        wait_until(Duration::from_secs(20), "the lock to be held", || {
            self.query(&format!(
                "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' \
                 AND relation = '{table}'::regclass"
            )) == "1"
        });
        holder
    }

    /// Wait until a driftgate session of this database waits on a lock; its pid.
    pub fn wait_for_driftgate_parked_on_a_lock(&self) -> String {
        let mut pid = String::new();
        wait_until(
            Duration::from_secs(30),
            "driftgate to wait on the lock",
            || {
                pid = self.query(&format!(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'driftgate' \
                     AND datname = '{}' AND wait_event_type = 'Lock'",
                    self.name
                ));
                !pid.is_empty()
            },
        );
        pid
    }

    /// Wait until `n` driftgate sessions on this database are inside their read-only
    /// transaction (a snapshot's helper sessions connect while its leader already reads):
    /// a fault injected after this meets sessions that are reading, not still connecting.
    pub fn wait_for_driftgate_sessions_in_transaction(&self, n: usize) {
        wait_until(
            Duration::from_secs(30),
            &format!("{n} driftgate sessions to be reading"),
            || {
                self.query(&format!(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'driftgate' \
                     AND datname = '{}' AND xact_start IS NOT NULL \
                     AND NOT (state = 'active' AND query LIKE '%transaction_read_only%')",
                    self.name
                )) == n.to_string()
            },
        );
    }

    /// Every SQL statement driftgate sessions sent to this database, in order, as the server
    /// logged it (needs `log_statement = 'all'` for the database).
    pub fn driftgate_statements(&self) -> Vec<LoggedStatement> {
        logged_statements(&self.cluster.log_text())
            .into_iter()
            .filter(|s| s.application == "driftgate" && s.database == self.name)
            .collect()
    }
}

/// One statement from the server log.
#[derive(Clone, Debug)]
pub struct LoggedStatement {
    pub pid: u32,
    pub application: String,
    pub database: String,
    pub sql: String,
}

/// Statements in a server log written with `log_line_prefix = '%m [%p] app=%a db=%d '` and
/// `log_statement = 'all'`: `statement: …` (simple protocol) and `execute NAME: …`
/// (extended protocol) entries, with their continuation lines.
pub fn logged_statements(log: &str) -> Vec<LoggedStatement> {
    let mut entries: Vec<(u32, String, String, String, String)> = Vec::new();
    for line in log.lines() {
        let header = (|| {
            // 2026-01-01 00:00:00.000 UTC [123] app=driftgate db=x LOG:  statement: …
            let (_, rest) = line.split_once(" [")?;
            if !line.as_bytes().first()?.is_ascii_digit() {
                return None;
            }
            let (pid, rest) = rest.split_once("] app=")?;
            let pid: u32 = pid.parse().ok()?;
            let (app, rest) = rest.split_once(" db=")?;
            let (db, rest) = rest.split_once(' ')?;
            let (level, message) = rest.split_once(":  ")?;
            Some((
                pid,
                app.to_string(),
                db.to_string(),
                level.to_string(),
                message.to_string(),
            ))
        })();
        match header {
            Some(entry) => entries.push(entry),
            None => {
                if let Some(last) = entries.last_mut() {
                    last.4.push('\n');
                    last.4.push_str(line);
                }
            }
        }
    }
    entries
        .into_iter()
        .filter(|e| e.3 == "LOG")
        .filter_map(|(pid, application, database, _, message)| {
            let sql = if let Some(sql) = message.strip_prefix("statement: ") {
                sql.to_string()
            } else if let Some(rest) = message.strip_prefix("execute ") {
                rest.split_once(": ")?.1.to_string()
            } else {
                return None;
            };
            Some(LoggedStatement {
                pid,
                application,
                database,
                sql,
            })
        })
        .collect()
}

impl Session {
    pub fn send(&mut self, sql: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(sql.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh empty database.
pub fn empty_db(hint: &str) -> TestDb {
    cluster().create_db(hint)
}

/// A fresh database loaded from the seeds-shaped fixture SQL.
pub fn fixture_db(hint: &str) -> TestDb {
    fixture_db_on(cluster(), hint)
}

/// A fresh database of `cluster` loaded from the fixture SQL.
pub fn fixture_db_on(cluster: &'static Cluster, hint: &str) -> TestDb {
    let db = cluster.create_db(hint);
    db.sql(&std::fs::read_to_string(FIXTURE).unwrap());
    db
}

/// Wait until `check` returns true (polling), or panic after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Everything the command printed.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

pub fn driftgate_cmd(store: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    c.arg("--store").arg(store.as_ref()).args(args);
    for var in [
        "DATABASE_URL",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGPASSWORD",
        "PGSERVICE",
        "DRIFTGATE_STORE",
    ] {
        c.env_remove(var);
    }
    c.env("NO_COLOR", "1").stdin(Stdio::null());
    c
}

/// Run driftgate with `--store STORE ARGS…`; a run still going after 120 s is killed and fails
/// the test (driftgate must never hang).
pub fn driftgate(store: impl AsRef<Path>, args: &[&str]) -> Run {
    run_cmd(driftgate_cmd(store, args))
}

pub fn run_cmd(mut cmd: Command) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn driftgate");
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
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!(
                "driftgate {:?} hung for 120 s",
                cmd.get_args().collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

/// Run driftgate on a thread (for a test that acts while it runs).
pub fn driftgate_in_background(
    store: impl AsRef<Path>,
    args: &[&str],
) -> std::thread::JoinHandle<Run> {
    let cmd = driftgate_cmd(store, args);
    std::thread::spawn(move || run_cmd(cmd))
}

/// A port nothing listens on (connection refused).
/// The findings of one section of a `doctor --format json` report, as (level, text).
pub fn doctor_findings(section: &serde_json::Value) -> Vec<(String, String)> {
    section["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {section:#}"))
        .iter()
        .map(|f| {
            (
                f["level"].as_str().unwrap().to_string(),
                f["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn unused_port() -> u16 {
    free_port()
}

/// Every file under `dir` with its bytes, to show that a command changed nothing.
pub fn store_state(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A `driftgate.toml` in `dir` with one target, `prod`, reading `dsn`.
pub fn one_target_config(dir: &Path, dsn: &str) -> PathBuf {
    let config = dir.join("driftgate.toml");
    std::fs::write(
        &config,
        format!("[[target]]\nname = \"prod\"\ndsn = \"{dsn}\"\n"),
    )
    .expect("writing driftgate.toml");
    config
}

/// PostgreSQL's INSERT firing order on the governance sample's `dot_tools` (BEFORE ROW by
/// name, AFTER ROW by name, then the statement trigger), as tests/graph.rs checks it against
/// what the server ran.
pub const INSERT_ORDER: [&str; 13] = [
    "trg_auto_code_dot_tools",
    "trg_before_birth_gate_dot_tools",
    "trg_description_birth_guard",
    "trg_normalize_dot_filepath",
    "trg_validate_dot_origin",
    "trg_auto_label_assignment",
    "trg_auto_label_provenance",
    "trg_birth_registry_auto",
    "trg_birth_registry_auto_name",
    "trg_context_pack_dot_register",
    "trg_refresh_dot_count",
    "trg_refresh_orphan_dot",
    "trg_refresh_registry_count",
];
