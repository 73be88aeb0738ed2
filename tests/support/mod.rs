//! Test harness: a real throwaway PostgreSQL per test binary (initdb + pg_ctl in a temp dir,
//! a free port on 127.0.0.1 and a unix socket), one fresh database per test, and a runner
//! for the built `driftgate` binary.
//!
//! Server binaries: `DRIFTGATE_TEST_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`,
//! else the directory of `initdb` on PATH. No PostgreSQL means a failing test with a clear
//! message, never a skipped one. As root, the server runs as the `postgres` user (created if
//! missing), because PostgreSQL refuses to run as root. A watchdog process stops the server
//! and removes its directory when the test binary exits.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/governance.sql");

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
    CLUSTER.get_or_init(start_cluster)
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

    pub fn create_db(&self, hint: &str) -> TestDb {
        let name = Self::unique_name(hint);
        self.sql("postgres", &format!("CREATE DATABASE \"{name}\""));
        TestDb {
            name: name.clone(),
            dsn: self.dsn(&name),
        }
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

fn start_cluster() -> Cluster {
    let bin_dir = find_bin_dir();
    let run_as = if is_root() {
        ensure_user("postgres");
        Some("postgres".to_string())
    } else {
        None
    };
    let base = tempfile::Builder::new()
        .prefix("driftgate-pg-")
        .tempdir()
        .unwrap()
        .keep();
    let data = base.join("data");
    let socket_dir = base.join("sock");
    std::fs::create_dir_all(&socket_dir).unwrap();
    let log = base.join("server.log");
    if let Some(user) = &run_as {
        let st = Command::new("chown")
            .args(["-R", user])
            .arg(&base)
            .status()
            .unwrap();
        assert!(st.success(), "chown of {} failed", base.display());
    }
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
        "local all all trust\n\
         host all pwuser 127.0.0.1/32 scram-sha-256\n\
         host all all 127.0.0.1/32 trust\n\
         host all all ::1/128 trust\n",
    )
    .unwrap();
    let extra_conf = std::env::var("DRIFTGATE_TEST_PG_CONF").unwrap_or_default();
    std::fs::write(
        data.join("postgresql.auto.conf"),
        format!(
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n\
             password_encryption = 'scram-sha-256'\n\
             log_line_prefix = '%m [%p] %a '\n{extra_conf}\n"
        ),
    )
    .unwrap();
    let mut last_err = String::new();
    for _attempt in 0..3 {
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            socket_dir.display()
        );
        let out = server_cmd(&bin_dir, run_as.as_deref(), "pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(&log)
            .args(["-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl");
        if out.status.success() {
            spawn_watchdog(&bin_dir, run_as.as_deref(), &data, &base);
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
            return cluster;
        }
        last_err = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    panic!("PostgreSQL did not start:\n{last_err}");
}

/// Stop the server and remove its directory once this test process is gone.
// The watchdog must outlive this process, so it is deliberately never waited on.
#[allow(clippy::zombie_processes)]
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
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {base}",
        pid = std::process::id(),
        base = base.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog");
}

/// One database of the shared cluster.
pub struct TestDb {
    pub name: String,
    pub dsn: String,
}

impl TestDb {
    /// Run SQL (a script: several statements, `BEGIN … ROLLBACK` allowed); panic on error.
    pub fn sql(&self, sql: &str) -> String {
        cluster().sql(&self.name, sql)
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
            cluster().port,
            self.name
        )
    }

    /// An open psql session that keeps running (e.g. to hold a lock) until dropped.
    pub fn session(&self) -> Session {
        let child = Command::new(cluster().psql_path())
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
    let db = cluster().create_db(hint);
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
