//! Connection settings and connection setup, as libpq has them. One builder reads every
//! form — `--dsn` (URL or `key=value` conninfo), `DATABASE_URL`, `-h/-p/-U/-d`, a
//! `pg_service.conf` service (`service=NAME`, `PGSERVICE`, see [`super::service`]) and the
//! libpq environment — with libpq's precedence, and refuses what it cannot honour exactly.
//! [`connect`] then runs its own host loop (host lists, `target_session_attrs`), its own TLS
//! ([`super::tls`]), and hands the driver a stream that is already what was asked for.
//! Every session is made read-only and time-bounded at startup.

use super::service::{self, ServiceFiles};
use super::tls::{self, Roots, TlsFailure, TlsPlan, Verify};
use super::CatalogError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

/// Timeouts applied to every session.
#[derive(Clone, Debug)]
pub struct SessionLimits {
    /// As asked for (`--connect-timeout`, a check target's `connect_timeout`); `None`: the
    /// connection string's `connect_timeout` or `PGCONNECT_TIMEOUT`, else
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Option<Duration>,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub idle_in_transaction_timeout: Duration,
}

/// How long to wait for a connection when nothing says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            connect_timeout: None,
            statement_timeout: Duration::from_secs(300),
            lock_timeout: Duration::from_secs(5),
            idle_in_transaction_timeout: Duration::from_secs(60),
        }
    }
}

/// Where to connect: every host of the list with its port, and how. `Debug` never shows
/// the password.
#[derive(Clone)]
pub struct ConnectTarget {
    hosts: Vec<Endpoint>,
    user: String,
    password: Option<String>,
    passfile: Option<PathBuf>,
    dbname: Option<String>,
    sslmode: SslMode,
    tls: TlsPlan,
    session_attrs: SessionAttrs,
    load_balance: bool,
    /// `connect_timeout` of the connection string or service, else `PGCONNECT_TIMEOUT`.
    connect_timeout: Option<Duration>,
    /// The host the first session chose; every later session (`--jobs`, a retry) goes
    /// there too, so that one snapshot never mixes servers. Shared by clones.
    pinned: Arc<Mutex<Option<Chosen>>>,
}

/// One entry of the host list.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    /// A host name, an IP address, or (starting with `/`) a unix socket directory.
    host: String,
    /// libpq's `hostaddr`: the address to connect to, `host` staying the name the
    /// certificate is checked against.
    hostaddr: Option<String>,
    port: u16,
}

impl Endpoint {
    fn is_socket(&self) -> bool {
        self.hostaddr.is_none() && self.host.starts_with('/')
    }
    fn shown(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('/') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{host}:{}", self.port)
    }
}

/// The server a session went to.
#[derive(Clone, Copy, Debug)]
struct Chosen {
    index: usize,
    /// Known when the host was chosen by its role; else the capture reads it.
    in_recovery: Option<bool>,
}

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// libpq's `target_session_attrs`, decided with `pg_is_in_recovery()`: driftgate makes its
/// own sessions read-only, so `transaction_read_only` (what libpq asks) would call every
/// server read-only. Here `read-write` means the same as `primary` (a server not in
/// recovery), and `read-only` the same as `standby`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionAttrs {
    Any,
    Primary,
    Standby,
    PreferStandby,
}

impl SessionAttrs {
    fn as_str(self) -> &'static str {
        match self {
            SessionAttrs::Any => "any",
            SessionAttrs::Primary => "primary",
            SessionAttrs::Standby => "standby",
            SessionAttrs::PreferStandby => "prefer-standby",
        }
    }
    fn parse(s: &str) -> Option<SessionAttrs> {
        Some(match s {
            "any" => SessionAttrs::Any,
            "read-write" | "primary" => SessionAttrs::Primary,
            "read-only" | "standby" => SessionAttrs::Standby,
            "prefer-standby" => SessionAttrs::PreferStandby,
            _ => return None,
        })
    }
}

impl fmt::Debug for ConnectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectTarget")
            .field("target", &self.describe())
            .field("sslmode", &self.sslmode)
            .field("tls", &self.tls)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// pg_dump's and psql's connection flags (`-h`, `-p`, `-U`, `-d`). As in psql, a `-d` that
/// holds a connection string (`key=value` or a URL) is expanded, and its values override the
/// other flags.
#[derive(Clone, Debug, Default)]
pub struct ConnFlags {
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub dbname: Option<String>,
}

/// A connection URL, as libpq recognises one.
fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A connection string (not a bare database name), as libpq's `expand_dbname` decides it.
fn is_conninfo(s: &str) -> bool {
    s.contains('=') || is_url(s)
}

impl ConnectTarget {
    /// Resolve the connection from an explicit DSN, else `DATABASE_URL`, else `PGSERVICE`,
    /// else libpq variables.
    pub fn resolve(dsn: Option<&str>) -> Result<ConnectTarget, CatalogError> {
        Self::resolve_with(dsn, &ConnFlags::default())
    }

    /// Resolve with libpq's precedence, later layers winning: the libpq environment, then a
    /// service (`service=` or `PGSERVICE`), then what was given: `DATABASE_URL` (only when no
    /// connection string was given), the `-h/-p/-U/-d` flags, and last the connection string
    /// of `--dsn` or of `-d` (as psql expands `-d "host=… dbname=…"` over `-h`).
    pub fn resolve_with(
        dsn: Option<&str>,
        flags: &ConnFlags,
    ) -> Result<ConnectTarget, CatalogError> {
        let mut dbname_flag = flags.dbname.as_deref();
        let conninfo = match (dbname_flag, dsn) {
            (Some(d), Some(_)) if is_conninfo(d) => {
                return Err(CatalogError::BadDsn(
                    "both --dsn and -d/--dbname hold a connection string; give only one".into(),
                ))
            }
            (Some(d), None) if is_conninfo(d) => {
                dbname_flag = None;
                Some(d)
            }
            (_, dsn) => dsn,
        };
        let mut explicit = Vec::new();
        if conninfo.is_none() {
            if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()) {
                explicit.extend(
                    dsn_pairs(&url)
                        .map_err(|e| CatalogError::BadDsn(format!("DATABASE_URL: {e}")))?,
                );
            }
        }
        for (key, value) in [
            ("host", &flags.host),
            ("port", &flags.port),
            ("user", &flags.user),
        ] {
            if let Some(v) = value {
                explicit.push((key.to_string(), v.clone()));
            }
        }
        if let Some(d) = dbname_flag {
            explicit.push(("dbname".to_string(), d.to_string()));
        }
        if let Some(c) = conninfo {
            explicit.extend(dsn_pairs(c).map_err(CatalogError::BadDsn)?);
        }
        options_from_pairs(explicit, &ServiceFiles::from_env(), pgservice())
    }

    /// The connection a `pg_service.conf` service describes (like `--dsn service=NAME`).
    pub fn from_service(name: &str) -> Result<ConnectTarget, CatalogError> {
        options_from_pairs(
            vec![("service".into(), name.to_string())],
            &ServiceFiles::from_env(),
            None,
        )
    }

    /// The connect timeout the connection string, service or `PGCONNECT_TIMEOUT` asked for.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    fn chosen(&self) -> Option<Chosen> {
        *self.pinned.lock().expect("pin lock")
    }

    /// The host list, or the host chosen once a session has connected.
    fn shown_hosts(&self) -> String {
        match self.chosen() {
            Some(c) => self.hosts[c.index].shown(),
            None => self
                .hosts
                .iter()
                .map(Endpoint::shown)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// `user@host:port/database` (every host of a list until one is chosen), never the
    /// password.
    pub fn describe(&self) -> String {
        format!(
            "{}@{}/{}",
            self.user,
            self.shown_hosts(),
            self.dbname.as_deref().unwrap_or(&self.user)
        )
    }

    /// The sslmode the target was resolved with, in libpq's spelling.
    pub fn sslmode(&self) -> &'static str {
        self.sslmode.as_str()
    }

    /// What a TLS session to this target checks of the server's certificate: under
    /// verify-ca and verify-full (and, as in libpq, under require and prefer once a root
    /// certificate is given) the certificate is checked; otherwise it is only encrypted.
    pub fn certificate_check(&self) -> Verify {
        self.tls.verify
    }

    /// Unix sockets or loopback addresses only: traffic that never leaves the machine,
    /// where plain text is no exposure.
    pub fn is_local(&self) -> bool {
        self.hosts.iter().all(|e| {
            let addr = e.hostaddr.as_deref().unwrap_or(&e.host);
            e.is_socket()
                || addr == "localhost"
                || addr
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
    }

    /// Where the snapshot was read: the host chosen, and whether it was a standby.
    pub fn source_info(&self) -> crate::model::SourceInfo {
        let chosen = self.chosen();
        let e = &self.hosts[chosen.map_or(0, |c| c.index)];
        crate::model::SourceInfo {
            host: Some(e.host.clone()),
            port: Some(e.port),
            database: self.dbname.clone().unwrap_or_else(|| self.user.clone()),
            user: Some(self.user.clone()),
            in_recovery: chosen.and_then(|c| c.in_recovery),
        }
    }

    /// The driver's options for a session that speaks to `endpoint` through the relay at
    /// `socket_dir` (or straight to a unix socket): read-only by default, bounded by
    /// timeouts, `search_path = pg_catalog` so every name the server prints is
    /// schema-qualified, and fixed output settings so deparsed constants print the same on
    /// every machine.
    fn session_options(
        &self,
        socket_dir: &Path,
        port: u16,
        password: Option<&str>,
        limits: &SessionLimits,
    ) -> PgConnectOptions {
        let ms = |d: Duration| format!("{}ms", d.as_millis());
        let mut o = PgConnectOptions::new_without_pgpass()
            .socket(socket_dir)
            .port(port)
            .username(&self.user)
            .database(self.dbname.as_deref().unwrap_or(&self.user))
            // TLS, when asked for, is ours and already done (see `tls`).
            .ssl_mode(PgSslMode::Disable);
        if let Some(pw) = password {
            o = o.password(pw);
        }
        o.application_name("driftgate")
            .extra_float_digits(3)
            .options([
                ("default_transaction_read_only", "on".to_string()),
                ("statement_timeout", ms(limits.statement_timeout)),
                ("lock_timeout", ms(limits.lock_timeout)),
                (
                    "idle_in_transaction_session_timeout",
                    ms(limits.idle_in_transaction_timeout),
                ),
                ("search_path", "pg_catalog".to_string()),
                // A query row-level security would filter fails instead (as in pg_dump):
                // an exact count is all rows or none.
                ("row_security", "off".to_string()),
                // JIT-compiling catalog queries costs more than running them (0.45 s of
                // compilation for a 30 ms query on a 10,000-table catalog).
                ("jit", "off".to_string()),
                // Parallel workers start as fresh backends with cold catalog caches, and
                // take server cores a watcher should leave to the database's own work; the
                // reads are spread over driftgate's own sessions (--jobs) instead.
                ("max_parallel_workers_per_gather", "0".to_string()),
                // The catalog reads look rows up by oid lists (`= ANY($1)`) in catalogs the
                // server keeps cached. At the default random_page_cost of 4 the planner
                // prices those index probes as disk reads and instead scans and hashes
                // whole catalogs (all of pg_class, pg_proc and pg_trigger for each chunk of
                // tables); priced as cached pages, the probes win: 10-15 % less server time
                // for a 5,000-table snapshot (PostgreSQL 15).
                ("random_page_cost", "1.1".to_string()),
                ("TimeZone", "UTC".to_string()),
                ("DateStyle", "ISO".to_string()),
                ("IntervalStyle", "postgres".to_string()),
            ])
            .log_statements(tracing::log::LevelFilter::Debug)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(30))
    }
}

/// The parameters of a `postgres://` URL or of a libpq `key=value …` connection string, in
/// order. Errors never quote the string (it may hold a password).
fn dsn_pairs(dsn: &str) -> Result<Vec<(String, String)>, String> {
    if is_url(dsn) {
        url_pairs(dsn)
    } else {
        crate::conninfo::parse(dsn)
    }
}

/// libpq's URI form: `postgresql://[user[:password]@][host][:port][/dbname][?key=value&…]`,
/// every part percent-decoded; query parameters are conninfo keywords.
fn url_pairs(dsn: &str) -> Result<Vec<(String, String)>, String> {
    // Several hosts (`postgresql://a:1,b:2/db`) are libpq's, not a URL's: the list is
    // read here and a placeholder host goes to the URL parser.
    let (dsn, host_list) = split_host_list(dsn)?;
    let url = url::Url::parse(&dsn).map_err(|e| {
        let msg = e.to_string().replace(&dsn, "<dsn>");
        format!("cannot parse the connection URL: {msg}")
    })?;
    let decode = |s: &str| -> Result<String, String> {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| {
                "the connection URL holds a percent-encoded part that is not UTF-8".to_string()
            })
    };
    let mut pairs = Vec::new();
    if let Some(list) = host_list {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for (host, port) in list {
            hosts.push(decode(&host)?);
            ports.push(port);
        }
        pairs.push(("host".to_string(), hosts.join(",")));
        if ports.iter().any(|p| !p.is_empty()) {
            pairs.push(("port".to_string(), ports.join(",")));
        }
    } else {
        if let Some(host) = url.host_str().filter(|h| !h.is_empty()) {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            pairs.push(("host".to_string(), decode(host)?));
        }
        if let Some(port) = url.port() {
            pairs.push(("port".to_string(), port.to_string()));
        }
    }
    if !url.username().is_empty() {
        pairs.push(("user".to_string(), decode(url.username())?));
    }
    if let Some(pw) = url.password() {
        pairs.push(("password".to_string(), decode(pw)?));
    }
    let path = url.path().trim_start_matches('/');
    if !path.is_empty() {
        pairs.push(("dbname".to_string(), decode(path)?));
    }
    for (k, v) in url.query_pairs() {
        pairs.push((k.into_owned(), v.into_owned()));
    }
    Ok(pairs)
}

/// (host, port) pairs of a URL's authority, ports as written.
type HostList = Vec<(String, String)>;

/// A URL whose authority lists several hosts: the URL with one placeholder host instead,
/// and the (host, port) list (ports as written, possibly empty). Other URLs unchanged.
fn split_host_list(dsn: &str) -> Result<(String, Option<HostList>), String> {
    let Some(scheme_end) = dsn.find("://") else {
        return Ok((dsn.to_string(), None));
    };
    let rest = &dsn[scheme_end + 3..];
    let auth_len = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    if !hosts.contains(',') {
        return Ok((dsn.to_string(), None));
    }
    let mut list = Vec::new();
    for item in hosts.split(',') {
        let (host, port) = if let Some(v6) = item.strip_prefix('[') {
            let close = v6
                .find(']')
                .ok_or("cannot parse the connection URL: unclosed [ in a host")?;
            let after = &v6[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p,
                None if after.is_empty() => "",
                None => return Err("cannot parse the connection URL: text after ]".into()),
            };
            (v6[..close].to_string(), port.to_string())
        } else {
            match item.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.to_string()),
                None => (item.to_string(), String::new()),
            }
        };
        if !port.is_empty() && port.parse::<u16>().is_err() {
            return Err("cannot parse the connection URL: a port is not a number".into());
        }
        list.push((host, port));
    }
    let placeholder = format!(
        "{}{}placeholder{}",
        &dsn[..scheme_end + 3],
        userinfo,
        &rest[auth_len..]
    );
    Ok((placeholder, Some(list)))
}

/// libpq's environment variables as (variable, conninfo keyword, value), in an order where a
/// later one wins (`PGHOSTADDR` over `PGHOST`, as the driver had it). Every variable libpq
/// reads as a connection parameter is here, so that one driftgate cannot honour is refused
/// like the same keyword in a connection string, never ignored. Unset and empty ones are
/// left out. (`PGSERVICE`, `PGSERVICEFILE` and `PGPASSFILE` are read where they are used.)
fn libpq_env() -> Vec<(&'static str, &'static str, String)> {
    const VARS: [(&str, &str); 30] = [
        ("PGHOST", "host"),
        ("PGHOSTADDR", "hostaddr"),
        ("PGPORT", "port"),
        ("PGDATABASE", "dbname"),
        ("PGUSER", "user"),
        ("PGPASSWORD", "password"),
        ("PGOPTIONS", "options"),
        ("PGAPPNAME", "application_name"),
        ("PGCLIENTENCODING", "client_encoding"),
        ("PGCONNECT_TIMEOUT", "connect_timeout"),
        ("PGSSLMODE", "sslmode"),
        ("PGSSLNEGOTIATION", "sslnegotiation"),
        ("PGSSLCOMPRESSION", "sslcompression"),
        ("PGSSLCERT", "sslcert"),
        ("PGSSLKEY", "sslkey"),
        ("PGSSLROOTCERT", "sslrootcert"),
        ("PGSSLCRL", "sslcrl"),
        ("PGSSLCRLDIR", "sslcrldir"),
        ("PGSSLSNI", "sslsni"),
        ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
        ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
        ("PGREQUIREPEER", "requirepeer"),
        ("PGREQUIREAUTH", "require_auth"),
        ("PGCHANNELBINDING", "channel_binding"),
        ("PGGSSENCMODE", "gssencmode"),
        ("PGKRBSRVNAME", "krbsrvname"),
        ("PGGSSLIB", "gsslib"),
        ("PGTARGETSESSIONATTRS", "target_session_attrs"),
        ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
        ("PGGSSDELEGATION", "gssdelegation"),
    ];
    VARS.iter()
        .filter_map(|(var, key)| {
            let value = std::env::var(var).ok().filter(|v| !v.is_empty())?;
            Some((*var, *key, value))
        })
        .collect()
}

fn pgservice() -> Option<String> {
    std::env::var("PGSERVICE").ok().filter(|s| !s.is_empty())
}

/// Options from conninfo pairs. As in libpq, a service (`service=NAME`, else `PGSERVICE`)
/// supplies what the pairs leave out, and the environment what both leave out.
fn options_from_pairs(
    pairs: Vec<(String, String)>,
    files: &ServiceFiles,
    env_service: Option<String>,
) -> Result<ConnectTarget, CatalogError> {
    let bad = |reason: String| CatalogError::BadDsn(reason);
    let service_name = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.clone())
        .or(env_service);
    // (key, value, where it came from, for errors), lowest layer first: the libpq
    // environment, the service, then what was given.
    let mut all: Vec<(String, String, String)> = libpq_env()
        .into_iter()
        .map(|(var, key, value)| (key.to_string(), value, format!(" ({var})")))
        .collect();
    if let Some(name) = &service_name {
        let svc = service::lookup(name, files).map_err(|reason| CatalogError::Service {
            name: name.clone(),
            reason,
        })?;
        for p in svc.params {
            let origin = format!(" (service file {}:{})", svc.file.display(), p.line);
            all.push((p.key, p.value, origin));
        }
    }
    all.extend(
        pairs
            .into_iter()
            .filter(|(k, _)| k != "service")
            .map(|(k, v)| (k, v, String::new())),
    );
    // Each key once, the last layer winning.
    let mut chosen: Vec<(String, String, String)> = Vec::new();
    for (key, value, origin) in all {
        chosen.retain(|(k, _, _)| *k != key);
        chosen.push((key, value, origin));
    }
    // libpq: whole seconds; 0 or less waits forever, which a watcher must not, so it is
    // refused; values below 2 count as 2.
    let seconds = |value: &str, at: &str| -> Result<Duration, CatalogError> {
        match value.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(Duration::from_secs(n.max(2) as u64)),
            Ok(_) => Err(bad(format!(
                "connect_timeout {value:?}{at} would wait forever; give a number of seconds above 0"
            ))),
            Err(_) => Err(bad(format!(
                "connect_timeout {value:?}{at} is not a number of seconds"
            ))),
        }
    };
    let list = |value: &str| -> Vec<String> { value.split(',').map(str::to_string).collect() };
    let mut hosts: Vec<String> = Vec::new();
    let mut hostaddrs: Vec<String> = Vec::new();
    let mut ports: Vec<(String, String)> = Vec::new();
    let mut user = None;
    let mut password = None;
    let mut passfile = None;
    let mut dbname = None;
    let mut sslmode: Option<(SslMode, String)> = None;
    let mut rootcert: Option<(String, String)> = None;
    let mut sslcert = None;
    let mut sslkey = None;
    let mut sni = true;
    let mut session_attrs = SessionAttrs::Any;
    let mut load_balance = false;
    let mut connect_timeout = None;
    for (key, value, at) in chosen {
        // A security setting driftgate cannot carry out exactly is refused: connecting
        // without it would be a weaker connection than the one asked for.
        let refuse = |what: &str| {
            bad(format!(
                "connection parameter {key}={value:?}{at} asks for {what}, which driftgate cannot honour exactly; refusing rather than connecting without it"
            ))
        };
        match key.as_str() {
            "host" => hosts = list(&value),
            "hostaddr" => hostaddrs = list(&value),
            "port" => ports = list(&value).into_iter().map(|p| (p, at.clone())).collect(),
            "user" => user = Some(value),
            "password" => password = Some(value),
            "passfile" => passfile = Some(PathBuf::from(value)),
            "dbname" => dbname = Some(value),
            "sslmode" => {
                let mode = SslMode::parse(&value)
                    .ok_or_else(|| bad(format!("unknown sslmode {value:?}{at}")))?;
                sslmode = Some((mode, at));
            }
            "sslrootcert" => rootcert = Some((value, at)),
            "sslcert" => sslcert = Some(PathBuf::from(value)),
            "sslkey" => sslkey = Some(PathBuf::from(value)),
            "sslsni" => sni = value != "0",
            "connect_timeout" => connect_timeout = Some(seconds(&value, &at)?),
            "target_session_attrs" => {
                session_attrs = SessionAttrs::parse(&value).ok_or_else(|| {
                    bad(format!(
                        "unknown target_session_attrs {value:?}{at} (any, read-write, read-only, primary, standby, prefer-standby)"
                    ))
                })?
            }
            "load_balance_hosts" => {
                load_balance = match value.as_str() {
                    "disable" => false,
                    "random" => true,
                    _ => {
                        return Err(bad(format!(
                            "unknown load_balance_hosts {value:?}{at} (disable, random)"
                        )))
                    }
                }
            }
            // Set by driftgate itself (application_name=driftgate, its own session options,
            // UTF8).
            "application_name" | "options" | "client_encoding" => {}
            // Harmless: they tune the TCP connection or name a fallback; listed so that they
            // are not refused as unknown.
            "keepalives"
            | "keepalives_idle"
            | "keepalives_interval"
            | "keepalives_count"
            | "tcp_user_timeout"
            | "fallback_application_name"
            | "sslcompression" => {}
            "channel_binding" | "gssencmode" if matches!(value.as_str(), "disable" | "prefer") => {}
            "channel_binding" => return Err(refuse("SCRAM channel binding")),
            "gssencmode" => return Err(refuse("GSSAPI encryption")),
            "sslnegotiation" if value == "postgres" => {}
            "sslnegotiation" => return Err(refuse("direct TLS negotiation")),
            // rustls never speaks a TLS older than 1.2, and offers 1.2 and 1.3.
            "ssl_min_protocol_version"
                if matches!(value.as_str(), "TLSv1" | "TLSv1.1" | "TLSv1.2") => {}
            "ssl_max_protocol_version" if value == "TLSv1.3" => {}
            "ssl_min_protocol_version" | "ssl_max_protocol_version" => {
                return Err(refuse("a TLS protocol version bound"))
            }
            "sslcrl" | "sslcrldir" => return Err(refuse("certificate revocation lists")),
            "sslpassword" => return Err(refuse("an encrypted client key")),
            "require_auth" => return Err(refuse("a required authentication method")),
            "requirepeer" => return Err(refuse("a check of the server process's user")),
            "krbsrvname" | "gsslib" | "gssdelegation" => {
                return Err(refuse("GSSAPI authentication"))
            }
            other => return Err(bad(format!("unknown connection parameter {other:?}{at}"))),
        }
    }

    // The host list, as libpq pairs it: hosts and hostaddrs of equal length (or one of them
    // absent), one port for all or one per entry; an empty entry is the default.
    let n = hosts.len().max(hostaddrs.len()).max(1);
    if hosts.len() > 1 && hostaddrs.len() > 1 && hosts.len() != hostaddrs.len() {
        return Err(bad(format!(
            "{} hosts but {} hostaddrs: give as many of each",
            hosts.len(),
            hostaddrs.len()
        )));
    }
    if ports.len() > 1 && ports.len() != n {
        return Err(bad(format!(
            "{} ports for {n} hosts: give one port, or one per host",
            ports.len()
        )));
    }
    if n > MAX_HOSTS {
        return Err(bad(format!(
            "{n} hosts in one connection; at most {MAX_HOSTS}"
        )));
    }
    let pick = |v: &Vec<String>, i: usize| -> Option<String> {
        let s = if v.len() == 1 { v.first() } else { v.get(i) };
        s.filter(|s| !s.is_empty()).cloned()
    };
    let mut endpoints = Vec::with_capacity(n);
    for i in 0..n {
        let port = match if ports.len() == 1 {
            ports.first()
        } else {
            ports.get(i)
        } {
            Some((p, _)) if p.is_empty() => 5432,
            Some((p, at)) => p
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad(format!("port {p:?} is not a number{at}")))?,
            None => 5432,
        };
        let hostaddr = pick(&hostaddrs, i);
        let host = match (pick(&hosts, i), &hostaddr) {
            (Some(h), _) => h,
            (None, Some(addr)) => addr.clone(),
            (None, None) => default_socket_dir(port),
        };
        if let Some(addr) = &hostaddr {
            if addr.parse::<std::net::IpAddr>().is_err() {
                return Err(bad(format!(
                    "hostaddr {addr:?} is not a numeric IP address"
                )));
            }
        }
        endpoints.push(Endpoint {
            host,
            hostaddr,
            port,
        });
    }

    // TLS as libpq means it (the driver's meaning differs: see `tls`).
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let in_home = |name: &str| {
        home.as_ref()
            .map(|h| h.join(".postgresql").join(name))
            .filter(|p| p.is_file())
    };
    let roots = match &rootcert {
        Some((v, _)) if v == "system" => Some(Roots::System),
        Some((v, _)) => Some(Roots::File(PathBuf::from(v))),
        None => in_home("root.crt").map(Roots::File),
    };
    let sslmode = match (sslmode, &roots) {
        // sslrootcert=system trusts every public CA: only a host name check makes that a
        // check of *this* server, so libpq allows nothing weaker.
        (None, Some(Roots::System)) => SslMode::VerifyFull,
        (Some((mode, at)), Some(Roots::System)) if mode != SslMode::VerifyFull => {
            return Err(bad(format!(
                "sslmode={}{at} with sslrootcert=system: the system's roots trust any public certificate, so only verify-full is allowed",
                mode.as_str()
            )))
        }
        (Some((mode, _)), _) => mode,
        (None, _) => SslMode::Prefer,
    };
    let verify = match sslmode {
        SslMode::VerifyFull => Verify::ChainAndName,
        SslMode::VerifyCa => Verify::Chain,
        // With a root certificate, libpq checks the chain under every TLS mode.
        _ if roots.is_some() => Verify::Chain,
        _ => Verify::Nothing,
    };
    if verify != Verify::Nothing && roots.is_none() {
        return Err(bad(
            "sslmode verify-ca or verify-full needs a root certificate: give sslrootcert=FILE \
             (or PGSSLROOTCERT, or put it in ~/.postgresql/root.crt), or sslrootcert=system"
                .into(),
        ));
    }
    // A client certificate: the one given, else libpq's default if it exists; its key is
    // the one given, else the default beside it.
    let client = match sslcert.or_else(|| in_home("postgresql.crt")) {
        Some(cert) => {
            let key = sslkey
                .or_else(|| home.as_ref().map(|h| h.join(".postgresql/postgresql.key")))
                .ok_or_else(|| {
                    bad("sslcert without sslkey, and no HOME for the default key".into())
                })?;
            Some((cert, key))
        }
        None => None,
    };
    let user = user.unwrap_or_else(whoami::username);
    Ok(ConnectTarget {
        hosts: endpoints,
        user,
        password,
        passfile,
        dbname,
        sslmode,
        tls: TlsPlan {
            verify,
            roots,
            client,
            sni,
        },
        session_attrs,
        load_balance,
        connect_timeout,
        pinned: Arc::new(Mutex::new(None)),
    })
}

/// A host list longer than this is a mistake, not a cluster.
const MAX_HOSTS: usize = 64;

/// libpq's default host: the socket directory that holds the server's socket (Debian's,
/// then the upstream default), else `localhost`.
fn default_socket_dir(port: u16) -> String {
    for dir in ["/var/run/postgresql", "/tmp"] {
        if Path::new(dir).join(format!(".s.PGSQL.{port}")).exists() {
            return dir.to_string();
        }
    }
    "localhost".to_string()
}

/// A session on the target: the host already chosen by an earlier session of this target,
/// else the first host of the list (shuffled under `load_balance_hosts=random`) that
/// accepts the connection and whose role (`pg_is_in_recovery()`) suits
/// `target_session_attrs`; `prefer-standby` takes any host when none is a standby. Each
/// host has the whole connect timeout. The host chosen is pinned for every later session.
pub async fn connect(
    target: &ConnectTarget,
    limits: &SessionLimits,
) -> Result<sqlx::PgConnection, CatalogError> {
    let timeout = limits
        .connect_timeout
        .or(target.connect_timeout)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let fail = |reason: String| CatalogError::Connect {
        target: target.describe(),
        reason,
    };
    if let Some(chosen) = target.chosen() {
        return connect_to(target, chosen.index, limits, timeout)
            .await
            .map_err(fail);
    }
    let mut order: Vec<usize> = (0..target.hosts.len()).collect();
    if target.load_balance {
        shuffle(&mut order);
    }
    let passes: &[fn(bool) -> bool] = match target.session_attrs {
        SessionAttrs::Any => &[|_| true],
        SessionAttrs::Primary => &[|r| !r],
        SessionAttrs::Standby => &[|r| r],
        SessionAttrs::PreferStandby => &[|r| r, |_| true],
    };
    let several = target.hosts.len() > 1;
    let mut reasons: Vec<String> = Vec::new();
    let mut connected_any = false;
    for (pass, accepts) in passes.iter().enumerate() {
        for &i in &order {
            let endpoint = &target.hosts[i];
            let mut conn = match connect_to(target, i, limits, timeout).await {
                Ok(conn) => conn,
                Err(reason) => {
                    if pass == 0 {
                        reasons.push(format!("{}: {reason}", endpoint.shown()));
                    }
                    continue;
                }
            };
            connected_any = true;
            // One host and no role asked for: nothing to choose, and no statement sent
            // before the caller's own checks (the capture reads the role itself).
            if !several && target.session_attrs == SessionAttrs::Any {
                *target.pinned.lock().expect("pin lock") = Some(Chosen {
                    index: i,
                    in_recovery: None,
                });
                return Ok(conn);
            }
            let in_recovery = in_recovery(&mut conn).await.map_err(&fail)?;
            if accepts(in_recovery) {
                *target.pinned.lock().expect("pin lock") = Some(Chosen {
                    index: i,
                    in_recovery: Some(in_recovery),
                });
                return Ok(conn);
            }
            let _ = sqlx::Connection::close(conn).await;
            if pass == 0 {
                reasons.push(format!(
                    "{}: {} (target_session_attrs asks for {})",
                    endpoint.shown(),
                    if in_recovery {
                        "is a standby (in recovery)"
                    } else {
                        "is a primary (not in recovery)"
                    },
                    match target.session_attrs {
                        SessionAttrs::Primary => "a primary",
                        _ => "a standby",
                    }
                ));
            }
        }
    }
    Err(fail(if connected_any {
        format!(
            "no server of the list suits target_session_attrs={}: {}",
            target.session_attrs.as_str(),
            reasons.join("; ")
        )
    } else if several {
        format!("no server of the list answered: {}", reasons.join("; "))
    } else {
        // One host: its reason alone, without the host repeated.
        reasons
            .pop()
            .map(|r| r.split_once(": ").map_or(r.clone(), |(_, r)| r.to_string()))
            .unwrap_or_default()
    }))
}

async fn in_recovery(conn: &mut sqlx::PgConnection) -> Result<bool, String> {
    sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(conn)
        .await
        .map_err(|e| super::describe_sqlx_error(&e))
}

/// Fisher–Yates with the standard library's per-process random hash keys as the source.
fn shuffle(v: &mut [usize]) {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    for i in (1..v.len()).rev() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        let j = (h.finish() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// One session on host `i`, within `timeout`: TCP, then TLS as the sslmode says (see
/// [`tls`](super::tls)), then the driver's startup over the relay.
async fn connect_to(
    target: &ConnectTarget,
    i: usize,
    limits: &SessionLimits,
    timeout: Duration,
) -> Result<sqlx::PgConnection, String> {
    match tokio::time::timeout(timeout, session_on(target, i, limits)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer within the connect timeout ({}s)",
            timeout.as_secs_f64()
        )),
    }
}

async fn session_on(
    target: &ConnectTarget,
    i: usize,
    limits: &SessionLimits,
) -> Result<sqlx::PgConnection, String> {
    let e = &target.hosts[i];
    let dbname = target.dbname.as_deref().unwrap_or(&target.user);
    let password = match &target.password {
        Some(pw) => Some(pw.clone()),
        None => {
            // libpq's password file matches a socket connection as `localhost`.
            let host = if e.is_socket() { "localhost" } else { &e.host };
            super::pgpass::lookup(
                target.passfile.as_deref(),
                host,
                e.port,
                dbname,
                &target.user,
            )
        }
    };
    let startup = |dir: &Path, port: u16| {
        let options = target.session_options(dir, port, password.as_deref(), limits);
        async move { options.connect().await }
    };
    let driver_error = |e: sqlx::Error| super::describe_sqlx_error(&e);
    if e.is_socket() {
        // No TLS over a unix socket, as in libpq: the traffic never leaves the machine.
        return startup(Path::new(&e.host), e.port)
            .await
            .map_err(driver_error);
    }
    let addr = e.hostaddr.as_deref().unwrap_or(&e.host).to_string();
    let tcp = || async {
        TcpStream::connect((addr.trim_matches(['[', ']']), e.port))
            .await
            .map_err(|err| format!("network error: {err}"))
    };
    let over = |stream: tls::Stream| async {
        let dir = tls::hand_over(stream).map_err(|err| format!("local relay: {err}"))?;
        startup(&dir, tls::RELAY_PORT).await.map_err(driver_error)
    };
    let mode = target.sslmode;
    let tls_first = |tcp: TcpStream| tls::start_tls(tcp, &e.host, &target.tls);
    match mode {
        SslMode::Disable => over(tls::Stream::Plain(tcp().await?)).await,
        SslMode::Allow => {
            // Plain text first; TLS only when the server refused that.
            match over(tls::Stream::Plain(tcp().await?)).await {
                Ok(conn) => Ok(conn),
                Err(plain_reason) => match tls_first(tcp().await?).await {
                    Ok(stream) => over(stream).await,
                    Err(TlsFailure::NotOffered(_)) => Err(plain_reason),
                    Err(TlsFailure::Failed(r)) => Err(format!("{plain_reason}; with TLS: {r}")),
                },
            }
        }
        SslMode::Prefer => match tls_first(tcp().await?).await {
            // As libpq: a server that refuses the TLS session at startup (its pg_hba.conf
            // wants a client certificate, say) is asked again in plain text.
            Ok(stream) => match over(stream).await {
                Ok(conn) => Ok(conn),
                Err(tls_reason) => match over(tls::Stream::Plain(tcp().await?)).await {
                    Ok(conn) => Ok(conn),
                    Err(r) => Err(format!("{tls_reason}; without TLS: {r}")),
                },
            },
            Err(TlsFailure::NotOffered(tcp)) => over(tls::Stream::Plain(tcp)).await,
            // As libpq: a failed TLS session is retried in plain text.
            Err(TlsFailure::Failed(tls_reason)) => {
                match over(tls::Stream::Plain(tcp().await?)).await {
                    Ok(conn) => Ok(conn),
                    Err(r) => Err(format!("{tls_reason}; without TLS: {r}")),
                }
            }
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            match tls_first(tcp().await?).await {
                Ok(stream) => over(stream).await,
                Err(TlsFailure::NotOffered(_)) => Err(format!(
                    "the server does not support TLS, but sslmode={} requires it",
                    mode.as_str()
                )),
                Err(TlsFailure::Failed(r)) => Err(r),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_parses_quotes_and_escapes() {
        let kv =
            crate::conninfo::parse("host=/tmp port=5433 dbname='my db' password='it\\'s'").unwrap();
        assert_eq!(
            kv,
            vec![
                ("host".into(), "/tmp".into()),
                ("port".into(), "5433".into()),
                ("dbname".into(), "my db".into()),
                ("password".into(), "it's".into()),
            ]
        );
        assert!(crate::conninfo::parse("just-a-word").is_err());
        assert!(crate::conninfo::parse("password='open").is_err());
    }

    #[test]
    fn debug_and_describe_hide_the_password() {
        let t =
            ConnectTarget::resolve(Some("postgresql://u:s3cr3t-pw@db.example:6543/app")).unwrap();
        assert_eq!(t.describe(), "u@db.example:6543/app");
        assert!(!format!("{t:?}").contains("s3cr3t-pw"));
        let kv = ConnectTarget::resolve(Some("host=h user=u password=s3cr3t-pw dbname=d")).unwrap();
        assert!(!format!("{kv:?}").contains("s3cr3t-pw"));
        assert_eq!(kv.describe(), "u@h:5432/d");
    }

    #[test]
    fn a_service_fills_in_what_the_dsn_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pg_service.conf");
        std::fs::write(
            &file,
            "[prod]\nhost=db.internal\nport=6432\ndbname=directus\nuser=ro\npassword=s3rv1ce-pw\n\
             [broken]\nhost=h\nsslcrl=/x\n",
        )
        .unwrap();
        let files = ServiceFiles {
            user: Some(file.clone()),
            system: dir.path().join("absent.conf"),
        };
        let pairs = |s: &str| crate::conninfo::parse(s).unwrap();
        let t = options_from_pairs(pairs("service=prod port=7000"), &files, None).unwrap();
        assert_eq!(
            t.describe(),
            "ro@db.internal:7000/directus",
            "explicit keys win"
        );
        assert!(!format!("{t:?}").contains("s3rv1ce-pw"));
        let env = options_from_pairs(pairs("dbname=other"), &files, Some("prod".into())).unwrap();
        assert_eq!(
            env.describe(),
            "ro@db.internal:6432/other",
            "PGSERVICE applies too"
        );

        let e = options_from_pairs(pairs("service=nope"), &files, None).unwrap_err();
        assert!(e.to_string().contains("\"nope\" not found"), "{e}");
        let e = options_from_pairs(pairs("service=broken"), &files, None).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("sslcrl") && msg.contains("pg_service.conf:9"),
            "{msg}"
        );
    }

    /// Regression: with no password in a conninfo string, the options were rebuilt from a
    /// URL of host, port, user and database to read ~/.pgpass, and `sslmode=verify-full`
    /// fell back to `prefer` (any certificate, or none) while an IPv6 host became its
    /// percent-encoded text.
    #[test]
    fn regression_conninfo_without_a_password_keeps_sslmode_and_an_ipv6_host() {
        let r = |dsn: &str| ConnectTarget::resolve(Some(dsn)).unwrap();
        let t = r("host=db.example sslmode=verify-full sslrootcert=/etc/ca-dg.pem");
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        assert_eq!(t.tls.roots, Some(Roots::File("/etc/ca-dg.pem".into())));
        assert_eq!(
            r("host=db.example sslmode=disable").sslmode,
            SslMode::Disable
        );
        let t = r("host=::1 port=6000");
        assert_eq!(t.hosts[0].host, "::1");
        assert_eq!(t.hosts[0].port, 6000);
        assert_eq!(t.describe(), format!("{}@[::1]:6000/{}", t.user, t.user));
    }

    #[test]
    fn host_lists_pair_hosts_hostaddrs_and_ports_as_libpq_does() {
        let r = |dsn: &str| ConnectTarget::resolve(Some(dsn));
        let t = r("host=a,b port=5432,5433 target_session_attrs=prefer-standby").unwrap();
        assert_eq!(
            t.describe().split('@').nth(1).unwrap().split('/').next(),
            Some("a:5432,b:5433")
        );
        assert_eq!(t.session_attrs, SessionAttrs::PreferStandby);
        let t = r("host=a,b,c port=6000").unwrap();
        assert!(t.hosts.iter().all(|e| e.port == 6000));
        let t = r("postgresql://u@[::1]:6001,db.example,10.0.0.1:6003/app?target_session_attrs=read-write").unwrap();
        let got: Vec<(String, u16)> = t.hosts.iter().map(|e| (e.host.clone(), e.port)).collect();
        assert_eq!(
            got,
            vec![
                ("::1".into(), 6001),
                ("db.example".into(), 5432),
                ("10.0.0.1".into(), 6003)
            ]
        );
        assert_eq!(t.session_attrs, SessionAttrs::Primary);
        assert_eq!(t.dbname.as_deref(), Some("app"));
        let t = r("host=h1,h2 hostaddr=10.0.0.1,10.0.0.2").unwrap();
        assert_eq!(t.hosts[1].hostaddr.as_deref(), Some("10.0.0.2"));
        for bad in [
            "host=a,b port=1,2,3",
            "host=a,b hostaddr=10.0.0.1,10.0.0.2,10.0.0.3",
            "host=a target_session_attrs=whatever",
            "hostaddr=db.example",
            "postgresql://a:1,b:x/d",
        ] {
            assert!(r(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sslmode_says_what_the_certificate_check_is() {
        let check = |dsn: &str| {
            let t = ConnectTarget::resolve(Some(dsn)).unwrap();
            (t.sslmode(), t.certificate_check())
        };
        assert_eq!(
            check("host=h sslmode=verify-full sslrootcert=/ca.pem"),
            ("verify-full", Verify::ChainAndName)
        );
        assert_eq!(
            check("postgresql://u@h/d?sslmode=verify-ca&sslrootcert=/ca.pem"),
            ("verify-ca", Verify::Chain)
        );
        assert_eq!(
            // libpq checks the chain under `require` once a root certificate is given.
            check("host=h sslmode=require sslrootcert=/ca.pem"),
            ("require", Verify::Chain)
        );
        assert_eq!(
            check("host=h sslmode=disable"),
            ("disable", Verify::Nothing)
        );
    }

    #[test]
    fn only_sockets_and_loopback_addresses_are_local() {
        let local = |dsn: &str| ConnectTarget::resolve(Some(dsn)).unwrap().is_local();
        assert!(local("host=/var/run/postgresql"));
        assert!(local("host=127.0.0.1"));
        assert!(local("host=127.0.0.2"));
        assert!(local("host=localhost"));
        assert!(local("host=::1"));
        assert!(!local("host=db.example"));
        assert!(!local("host=10.0.0.5"));
    }

    #[test]
    fn a_url_is_read_parameter_by_parameter_and_an_unknown_one_is_refused() {
        let pairs = url_pairs("postgresql://r%40o:p%2Fw@db.example:6543/my%20db?sslmode=verify-full&sslrootcert=/ca.crt").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("host".into(), "db.example".into()),
                ("port".into(), "6543".into()),
                ("user".into(), "r@o".into()),
                ("password".into(), "p/w".into()),
                ("dbname".into(), "my db".into()),
                ("sslmode".into(), "verify-full".into()),
                ("sslrootcert".into(), "/ca.crt".into()),
            ]
        );
        // A misspelt parameter is an error naming it, never a warning and a plaintext connection.
        let e =
            ConnectTarget::resolve(Some("postgresql://u@h/d?ssl_mode=verify-full")).unwrap_err();
        assert!(e.to_string().contains("ssl_mode"), "{e}");
        let e = ConnectTarget::resolve(Some("postgresql://u@h/d?sslmode=verify-fool")).unwrap_err();
        assert!(e.to_string().contains("verify-fool"), "{e}");
    }

    #[test]
    fn connect_timeout_of_a_connection_string_is_kept_as_libpq_reads_it() {
        let t = |dsn: &str| ConnectTarget::resolve(Some(dsn)).map(|t| t.connect_timeout());
        assert_eq!(
            t("host=h connect_timeout=7").unwrap(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            t("postgresql://h/d?connect_timeout=1").unwrap(),
            Some(Duration::from_secs(2))
        );
        assert!(
            t("host=h connect_timeout=0").is_err(),
            "0 would wait forever"
        );
        assert!(t("host=h connect_timeout=soon").is_err());
    }

    #[test]
    fn security_parameters_are_honoured_as_libpq_means_them_or_refused() {
        let r = |dsn: &str| ConnectTarget::resolve(Some(dsn));
        let plan = |dsn: &str| {
            let t = r(dsn).unwrap();
            (t.sslmode, t.tls.verify)
        };
        assert_eq!(
            plan("host=h sslmode=require sslrootcert=/ca.crt"),
            (SslMode::Require, Verify::Chain),
            "libpq checks the chain under require once a root certificate is given"
        );
        assert_eq!(
            plan("host=h sslmode=allow"),
            (SslMode::Allow, Verify::Nothing)
        );
        assert_eq!(
            plan("host=h sslmode=verify-full sslrootcert=/ca.crt"),
            (SslMode::VerifyFull, Verify::ChainAndName)
        );
        assert_eq!(
            plan("host=h sslrootcert=system"),
            (SslMode::VerifyFull, Verify::ChainAndName),
            "sslrootcert=system implies verify-full"
        );
        assert_eq!(
            plan("hostaddr=10.0.0.1 host=h sslmode=verify-full sslrootcert=/ca.crt"),
            (SslMode::VerifyFull, Verify::ChainAndName),
            "the certificate is checked against host, the connection goes to hostaddr"
        );
        for refused in [
            "host=h sslcrl=/crl.pem",
            "host=h sslcrldir=/crl",
            "host=h channel_binding=require",
            "host=h require_auth=scram-sha-256",
            "host=h gssencmode=require",
            "host=h sslnegotiation=direct",
            "host=h sslrootcert=system sslmode=require",
            "host=h ssl_min_protocol_version=TLSv1.3",
            "host=h sslmode=verify-ca",
        ] {
            let e = r(refused).unwrap_err().to_string();
            assert!(
                e.contains("refusing")
                    || e.contains("needs a root")
                    || e.contains("only verify-full"),
                "{refused}: {e}"
            );
        }
        for harmless in [
            "host=h keepalives=1 keepalives_idle=30 fallback_application_name=x",
            "host=h channel_binding=prefer gssencmode=disable target_session_attrs=any",
            "host=h load_balance_hosts=random sslsni=0",
        ] {
            assert!(r(harmless).is_ok(), "{harmless}");
        }
    }

    #[test]
    fn a_bad_url_error_does_not_echo_it() {
        let err =
            ConnectTarget::resolve(Some("postgresql://u:s3cr3t-pw@h:notaport/d")).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t-pw"), "{err}");
    }
}
