//! Connection settings: `--dsn` (URL or `key=value` conninfo), else `DATABASE_URL`, else the
//! libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`)
//! and `~/.pgpass`; `service=NAME` and `PGSERVICE` read `pg_service.conf` (see [`super::service`]).
//! Every session is made read-only and time-bounded at startup.

use super::service::{self, ServiceFiles};
use super::CatalogError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

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

/// How much of the server's certificate a TLS session verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateCheck {
    /// Encrypted (when TLS is in use), but any certificate is accepted.
    None,
    /// Signed by a trusted root CA; the host name is not compared.
    Ca,
    /// Signed by a trusted root CA and issued for the host connected to.
    CaAndHostName,
}

/// Where to connect. `Debug` never shows the password.
#[derive(Clone)]
pub struct ConnectTarget {
    options: PgConnectOptions,
    /// `connect_timeout` of the connection string or service, else `PGCONNECT_TIMEOUT`.
    connect_timeout: Option<Duration>,
}

impl fmt::Debug for ConnectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectTarget")
            .field("target", &self.describe())
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

    /// `user@host:port/database`, never the password.
    pub fn describe(&self) -> String {
        let o = &self.options;
        let host = match o.get_socket() {
            Some(dir) => dir.display().to_string(),
            None => o.get_host().to_string(),
        };
        format!(
            "{}@{}:{}/{}",
            o.get_username(),
            host,
            o.get_port(),
            o.get_database().unwrap_or(o.get_username())
        )
    }

    /// The sslmode the target was resolved with, in libpq's spelling.
    pub fn sslmode(&self) -> &'static str {
        match self.options.get_ssl_mode() {
            PgSslMode::Disable => "disable",
            PgSslMode::Allow => "allow",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
    }

    /// What a TLS session to this target checks of the server's certificate: under
    /// verify-ca and verify-full (which `require` with a root certificate resolves to, as in
    /// libpq) the certificate is checked; under require and prefer it is only encrypted.
    pub fn certificate_check(&self) -> CertificateCheck {
        match self.options.get_ssl_mode() {
            PgSslMode::VerifyFull => CertificateCheck::CaAndHostName,
            PgSslMode::VerifyCa => CertificateCheck::Ca,
            _ => CertificateCheck::None,
        }
    }

    /// A unix socket or a loopback address: traffic that never leaves the machine, where
    /// plain text is no exposure.
    pub fn is_local(&self) -> bool {
        self.options.get_socket().is_some()
            || self.options.get_host() == "localhost"
            || self
                .options
                .get_host()
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    pub fn source_info(&self) -> crate::model::SourceInfo {
        let o = &self.options;
        crate::model::SourceInfo {
            host: Some(match o.get_socket() {
                Some(dir) => dir.display().to_string(),
                None => o.get_host().to_string(),
            }),
            port: Some(o.get_port()),
            database: o.get_database().unwrap_or(o.get_username()).to_string(),
            user: Some(o.get_username().to_string()),
        }
    }

    /// The options for a driftgate session: read-only by default, bounded by timeouts,
    /// `search_path = pg_catalog` so every name the server prints is schema-qualified, and
    /// fixed output settings so deparsed constants print the same on every machine.
    pub fn session_options(&self, limits: &SessionLimits) -> PgConnectOptions {
        let ms = |d: Duration| format!("{}ms", d.as_millis());
        self.options
            .clone()
            .application_name("driftgate")
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
        parse_conninfo(dsn)
    }
}

/// libpq's URI form: `postgresql://[user[:password]@][host][:port][/dbname][?key=value&…]`,
/// every part percent-decoded; query parameters are conninfo keywords.
fn url_pairs(dsn: &str) -> Result<Vec<(String, String)>, String> {
    let url = url::Url::parse(dsn).map_err(|e| {
        let msg = e.to_string().replace(dsn, "<dsn>");
        if dsn
            .split('@')
            .next_back()
            .is_some_and(|rest| rest.split('/').next().is_some_and(|h| h.contains(',')))
        {
            "cannot parse the connection URL: several hosts in one URL are not supported"
                .to_string()
        } else {
            format!("cannot parse the connection URL: {msg}")
        }
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
    if let Some(host) = url.host_str().filter(|h| !h.is_empty()) {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        pairs.push(("host".to_string(), decode(host)?));
    }
    if let Some(port) = url.port() {
        pairs.push(("port".to_string(), port.to_string()));
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
    // Each key once, the last layer winning, so that a socket directory from one layer and
    // a TCP host from a later one cannot both end up in the options.
    let mut chosen: Vec<(String, String, String)> = Vec::new();
    let mut hostaddr_given = false;
    for (key, value, origin) in all {
        hostaddr_given |= key == "hostaddr";
        let key = if key == "hostaddr" {
            "host".to_string()
        } else {
            key
        };
        chosen.retain(|(k, _, _)| *k != key);
        chosen.push((key, value, origin));
    }
    // The driver reads some PG* variables itself, leniently (a bad PGPORT becomes 5432);
    // each of them is among the pairs above and set again from there.
    let mut o = PgConnectOptions::new_without_pgpass();
    let mut password_given = false;
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
    let mut connect_timeout = None;
    let root_cert_given = chosen.iter().any(|(k, _, _)| k == "sslrootcert");
    for (key, value, at) in chosen {
        // A security setting driftgate cannot carry out exactly is refused: connecting
        // without it would be a weaker connection than the one asked for.
        let refuse = |what: &str| {
            bad(format!(
                "connection parameter {key}={value:?}{at} asks for {what}, which driftgate cannot honour exactly; refusing rather than connecting without it"
            ))
        };
        if matches!(key.as_str(), "host" | "port") && value.contains(',') {
            return Err(bad(format!(
                "{key}={value:?}{at}: several hosts in one connection are not supported yet; give one"
            )));
        }
        o = match key.as_str() {
            "host" => {
                // libpq reads a host that starts with `/` as a socket directory.
                if value.starts_with('/') {
                    o.socket(&value)
                } else {
                    o.host(&value)
                }
            }
            "port" => o.port(
                value
                    .parse()
                    .map_err(|_| bad(format!("port {value:?} is not a number{at}")))?,
            ),
            "user" => o.username(&value),
            "password" => {
                password_given = true;
                o.password(&value)
            }
            "dbname" => o.database(&value),
            "sslmode" => o.ssl_mode(
                PgSslMode::from_str(&value)
                    .map_err(|_| bad(format!("unknown sslmode {value:?}{at}")))?,
            ),
            "sslrootcert" if value == "system" => {
                return Err(refuse("the operating system's trust store"))
            }
            "sslrootcert" => o.ssl_root_cert(&value),
            "sslcert" => o.ssl_client_cert(&value),
            "sslkey" => o.ssl_client_key(&value),
            "connect_timeout" => {
                connect_timeout = Some(seconds(&value, &at)?);
                o
            }
            // Set by driftgate itself (application_name=driftgate, its own session options,
            // UTF8).
            "application_name" | "options" | "client_encoding" => o,
            // Harmless: they tune the TCP connection or name a fallback; listed so that they
            // are not refused as unknown.
            "keepalives"
            | "keepalives_idle"
            | "keepalives_interval"
            | "keepalives_count"
            | "tcp_user_timeout"
            | "fallback_application_name"
            | "sslsni"
            | "sslcompression" => o,
            "channel_binding" | "gssencmode" if matches!(value.as_str(), "disable" | "prefer") => o,
            "channel_binding" => return Err(refuse("SCRAM channel binding")),
            "gssencmode" => return Err(refuse("GSSAPI encryption")),
            "sslnegotiation" if value == "postgres" => o,
            "sslnegotiation" => return Err(refuse("direct TLS negotiation")),
            // rustls never speaks a TLS older than 1.2.
            "ssl_min_protocol_version"
                if matches!(value.as_str(), "TLSv1" | "TLSv1.1" | "TLSv1.2") =>
            {
                o
            }
            "ssl_min_protocol_version" | "ssl_max_protocol_version" => {
                return Err(refuse("a TLS protocol version bound"))
            }
            "target_session_attrs" if value == "any" => o,
            "target_session_attrs" => {
                return Err(refuse("a choice of server by role (not supported yet)"))
            }
            "load_balance_hosts" if value == "disable" => o,
            "sslcrl" | "sslcrldir" => return Err(refuse("certificate revocation lists")),
            "sslpassword" => return Err(refuse("an encrypted client key")),
            "require_auth" => return Err(refuse("a required authentication method")),
            "requirepeer" => return Err(refuse("a check of the server process's user")),
            "krbsrvname" | "gsslib" => return Err(refuse("GSSAPI authentication")),
            other => return Err(bad(format!("unknown connection parameter {other:?}{at}"))),
        };
    }
    // libpq's meaning of the TLS modes where the driver's differs:
    let default_root = std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".postgresql/root.crt"))
        .filter(|p| p.is_file());
    match o.get_ssl_mode() {
        // The driver never tries TLS under `allow`; `prefer` (TLS first) is never weaker.
        PgSslMode::Allow => o = o.ssl_mode(PgSslMode::Prefer),
        // With a root certificate, libpq verifies `require` as `verify-ca`.
        PgSslMode::Require if root_cert_given || default_root.is_some() => {
            if !root_cert_given {
                o = o.ssl_root_cert(default_root.as_deref().expect("checked above"));
            }
            o = o.ssl_mode(PgSslMode::VerifyCa);
        }
        // libpq refuses to verify without a root certificate; the driver would fall back
        // to the public web's certificate authorities.
        PgSslMode::VerifyCa | PgSslMode::VerifyFull if !root_cert_given => match &default_root {
            Some(root) => o = o.ssl_root_cert(root),
            None => return Err(bad(
                "sslmode verify-ca or verify-full needs a root certificate: give sslrootcert=FILE \
                     (or PGSSLROOTCERT, or put it in ~/.postgresql/root.crt)"
                    .into(),
            )),
        },
        _ => {}
    }
    if hostaddr_given && matches!(o.get_ssl_mode(), PgSslMode::VerifyFull) {
        return Err(bad(
            "hostaddr with sslmode=verify-full: driftgate cannot check the certificate against \
             host while connecting to hostaddr; give host alone"
                .into(),
        ));
    }
    if !password_given {
        if let Some(pw) = super::pgpass::lookup(&o) {
            o = o.password(&pw);
        }
    }
    Ok(ConnectTarget {
        options: o,
        connect_timeout,
    })
}

/// libpq conninfo: `key=value` pairs separated by spaces; values may be single-quoted with
/// `\'` and `\\` escapes.
fn parse_conninfo(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "connection string is neither a postgres:// URL nor key=value pairs (missing `=` after {key:?})"
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.push(chars.next().ok_or("unterminated quoted value")?),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted value in connection string".into()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value));
    }
    Ok(out)
}

pub async fn connect(
    target: &ConnectTarget,
    limits: &SessionLimits,
) -> Result<sqlx::PgConnection, CatalogError> {
    let options = target.session_options(limits);
    let timeout = limits
        .connect_timeout
        .or(target.connect_timeout)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(CatalogError::Connect {
            target: target.describe(),
            reason: super::describe_sqlx_error(&e),
        }),
        Err(_) => Err(CatalogError::Connect {
            target: target.describe(),
            reason: format!(
                "no answer within the connect timeout ({}s)",
                timeout.as_secs_f64()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_parses_quotes_and_escapes() {
        let kv = parse_conninfo("host=/tmp port=5433 dbname='my db' password='it\\'s'").unwrap();
        assert_eq!(
            kv,
            vec![
                ("host".into(), "/tmp".into()),
                ("port".into(), "5433".into()),
                ("dbname".into(), "my db".into()),
                ("password".into(), "it's".into()),
            ]
        );
        assert!(parse_conninfo("just-a-word").is_err());
        assert!(parse_conninfo("password='open").is_err());
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
        let pairs = |s: &str| parse_conninfo(s).unwrap();
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
        let parse_dsn = |dsn: &str| ConnectTarget::resolve(Some(dsn)).map(|t| t.options);
        let o =
            parse_dsn("host=db.example sslmode=verify-full sslrootcert=/etc/ca-dg.pem").unwrap();
        assert!(matches!(o.get_ssl_mode(), PgSslMode::VerifyFull));
        assert!(format!("{o:?}").contains("/etc/ca-dg.pem"), "{o:?}");
        let o = parse_dsn("host=db.example sslmode=disable").unwrap();
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Disable));
        let o = parse_dsn("host=::1 port=6000").unwrap();
        assert_eq!(o.get_host().trim_matches(['[', ']']), "::1");
        assert_eq!(o.get_port(), 6000);
    }

    #[test]
    fn the_sslmode_says_what_the_certificate_check_is() {
        let check = |dsn: &str| {
            let t = ConnectTarget::resolve(Some(dsn)).unwrap();
            (t.sslmode(), t.certificate_check())
        };
        assert_eq!(
            check("host=h sslmode=verify-full sslrootcert=/ca.pem"),
            ("verify-full", CertificateCheck::CaAndHostName)
        );
        assert_eq!(
            check("postgresql://u@h/d?sslmode=verify-ca&sslrootcert=/ca.pem"),
            ("verify-ca", CertificateCheck::Ca)
        );
        assert_eq!(
            // libpq verifies `require` as `verify-ca` once a root certificate is given.
            check("host=h sslmode=require sslrootcert=/ca.pem"),
            ("verify-ca", CertificateCheck::Ca)
        );
        assert_eq!(
            check("host=h sslmode=disable"),
            ("disable", CertificateCheck::None)
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
        let mode = |dsn: &str| r(dsn).unwrap().options.get_ssl_mode();
        assert!(matches!(
            mode("host=h sslmode=require sslrootcert=/ca.crt"),
            PgSslMode::VerifyCa
        ));
        assert!(matches!(mode("host=h sslmode=allow"), PgSslMode::Prefer));
        assert!(matches!(
            mode("host=h sslmode=verify-full sslrootcert=/ca.crt"),
            PgSslMode::VerifyFull
        ));
        for refused in [
            "host=h sslcrl=/crl.pem",
            "host=h sslcrldir=/crl",
            "host=h channel_binding=require",
            "host=h require_auth=scram-sha-256",
            "host=h gssencmode=require",
            "host=h sslnegotiation=direct",
            "host=h sslrootcert=system",
            "host=h target_session_attrs=prefer-standby",
            "host=h ssl_min_protocol_version=TLSv1.3",
            "hostaddr=10.0.0.1 host=h sslmode=verify-full sslrootcert=/ca.crt",
            "host=a,b port=5432,5433",
        ] {
            let e = r(refused).unwrap_err().to_string();
            assert!(
                e.contains("refusing") || e.contains("cannot") || e.contains("not supported"),
                "{refused}: {e}"
            );
        }
        for harmless in [
            "host=h keepalives=1 keepalives_idle=30 fallback_application_name=x",
            "host=h channel_binding=prefer gssencmode=disable target_session_attrs=any",
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
