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
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub idle_in_transaction_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            connect_timeout: Duration::from_secs(10),
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
}

impl fmt::Debug for ConnectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectTarget")
            .field("target", &self.describe())
            .field("password", &"<redacted>")
            .finish()
    }
}

impl ConnectTarget {
    /// Resolve the connection from an explicit DSN, else `DATABASE_URL`, else `PGSERVICE`,
    /// else libpq variables.
    pub fn resolve(dsn: Option<&str>) -> Result<ConnectTarget, CatalogError> {
        let from_env = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
        let options = match dsn.map(str::to_string).or(from_env) {
            Some(dsn) => parse_dsn(&dsn)?,
            None if pgservice().is_some() => {
                options_from_pairs(Vec::new(), &ServiceFiles::from_env(), pgservice())?
            }
            None => {
                let mut o = PgConnectOptions::new();
                // libpq treats a PGHOST that starts with `/` as a socket directory.
                if let Ok(host) = std::env::var("PGHOST") {
                    if host.starts_with('/') {
                        o = o.socket(host);
                    }
                }
                o
            }
        };
        Ok(ConnectTarget { options })
    }

    /// The connection a `pg_service.conf` service describes (like `--dsn service=NAME`).
    pub fn from_service(name: &str) -> Result<ConnectTarget, CatalogError> {
        Ok(ConnectTarget {
            options: options_from_pairs(
                vec![("service".into(), name.to_string())],
                &ServiceFiles::from_env(),
                None,
            )?,
        })
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

    /// What a TLS session to this target checks of the server's certificate. The driver
    /// verifies only under verify-ca and verify-full: under require (even with a root
    /// certificate, unlike libpq) and prefer it encrypts but accepts any certificate.
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
            || matches!(
                self.options.get_host(),
                "localhost" | "127.0.0.1" | "::1" | "[::1]"
            )
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

/// Parse a `postgres://` URL or a libpq `key=value …` connection string.
fn parse_dsn(dsn: &str) -> Result<PgConnectOptions, CatalogError> {
    let bad = |reason: String| CatalogError::BadDsn(reason);
    if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
        return PgConnectOptions::from_str(dsn).map_err(|e| {
            // sqlx's message may quote the URL; say only what kind of problem it is.
            let msg = e.to_string().replace(dsn, "<dsn>");
            bad(format!("cannot parse the connection URL: {msg}"))
        });
    }
    options_from_pairs(
        parse_conninfo(dsn).map_err(bad)?,
        &ServiceFiles::from_env(),
        pgservice(),
    )
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
) -> Result<PgConnectOptions, CatalogError> {
    let bad = |reason: String| CatalogError::BadDsn(reason);
    let service_name = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.clone())
        .or(env_service);
    // (key, value, where it came from when that was a service file)
    let mut all: Vec<(String, String, Option<String>)> = Vec::new();
    if let Some(name) = &service_name {
        let svc = service::lookup(name, files).map_err(|reason| CatalogError::Service {
            name: name.clone(),
            reason,
        })?;
        for p in svc.params {
            let origin = format!("{}:{}", svc.file.display(), p.line);
            all.push((p.key, p.value, Some(origin)));
        }
    }
    all.extend(
        pairs
            .into_iter()
            .filter(|(k, _)| k != "service")
            .map(|(k, v)| (k, v, None)),
    );
    let mut o = PgConnectOptions::new_without_pgpass();
    let mut password_given = false;
    // Kept to be applied again after the ~/.pgpass round trip below, which rebuilds the
    // options from a URL of host, port, user and database alone.
    let mut ssl_mode = None;
    let mut ssl_root_cert = None;
    for (key, value, origin) in all {
        let at = origin
            .map(|o| format!(" (service file {o})"))
            .unwrap_or_default();
        o = match key.as_str() {
            "host" | "hostaddr" if value.starts_with('/') => o.socket(&value),
            "host" | "hostaddr" => o.host(&value),
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
            "sslmode" => {
                let mode = PgSslMode::from_str(&value)
                    .map_err(|_| bad(format!("unknown sslmode {value:?}{at}")))?;
                ssl_mode = Some(mode);
                o.ssl_mode(mode)
            }
            "sslrootcert" => {
                ssl_root_cert = Some(value.clone());
                o.ssl_root_cert(&value)
            }
            "application_name" | "connect_timeout" | "options" => o,
            other => return Err(bad(format!("unknown connection parameter {other:?}{at}"))),
        };
    }
    if !password_given {
        // `new()` would have read ~/.pgpass for the environment's host; read it for ours.
        if let Ok(mut with_pgpass) = PgConnectOptions::from_str(&conninfo_url(&o)) {
            if let Some(mode) = ssl_mode {
                with_pgpass = with_pgpass.ssl_mode(mode);
            }
            if let Some(cert) = &ssl_root_cert {
                with_pgpass = with_pgpass.ssl_root_cert(cert);
            }
            o = with_pgpass;
        }
    }
    Ok(o)
}

/// A URL with no password, used only to let sqlx apply `~/.pgpass` to our host/user/db.
fn conninfo_url(o: &PgConnectOptions) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    // An IPv6 address goes in brackets: percent-encoded, the driver would take the
    // encoded text for the host name.
    let host = match o.get_host().parse::<std::net::Ipv6Addr>() {
        Ok(ip) => format!("[{ip}]"),
        Err(_) => enc(o.get_host()),
    };
    let mut url = format!(
        "postgresql://{}@{}:{}/{}",
        enc(o.get_username()),
        host,
        o.get_port(),
        enc(o.get_database().unwrap_or(o.get_username()))
    );
    if let Some(dir) = o.get_socket() {
        url.push_str(&format!("?host={}", enc(&dir.display().to_string())));
    }
    url
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
    match tokio::time::timeout(limits.connect_timeout, options.connect()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(CatalogError::Connect {
            target: target.describe(),
            reason: super::describe_sqlx_error(&e),
        }),
        Err(_) => Err(CatalogError::Connect {
            target: target.describe(),
            reason: format!(
                "no answer within the connect timeout ({}s)",
                limits.connect_timeout.as_secs_f64()
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
             [broken]\nhost=h\nsslcert=/x\n",
        )
        .unwrap();
        let files = ServiceFiles {
            user: Some(file.clone()),
            system: dir.path().join("absent.conf"),
        };
        let pairs = |s: &str| parse_conninfo(s).unwrap();
        let t = ConnectTarget {
            options: options_from_pairs(pairs("service=prod port=7000"), &files, None).unwrap(),
        };
        assert_eq!(
            t.describe(),
            "ro@db.internal:7000/directus",
            "explicit keys win"
        );
        assert!(!format!("{t:?}").contains("s3rv1ce-pw"));
        let env = ConnectTarget {
            options: options_from_pairs(pairs("dbname=other"), &files, Some("prod".into()))
                .unwrap(),
        };
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
            msg.contains("sslcert") && msg.contains("pg_service.conf:9"),
            "{msg}"
        );
    }

    /// Regression: with no password in a conninfo string, the options were rebuilt from a
    /// URL of host, port, user and database to read ~/.pgpass, and `sslmode=verify-full`
    /// fell back to `prefer` (any certificate, or none) while an IPv6 host became its
    /// percent-encoded text.
    #[test]
    fn regression_conninfo_without_a_password_keeps_sslmode_and_an_ipv6_host() {
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
            check("host=h sslmode=verify-full"),
            ("verify-full", CertificateCheck::CaAndHostName)
        );
        assert_eq!(
            check("postgresql://u@h/d?sslmode=verify-ca"),
            ("verify-ca", CertificateCheck::Ca)
        );
        assert_eq!(
            check("host=h sslmode=require sslrootcert=/ca.pem"),
            ("require", CertificateCheck::None)
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
    fn a_bad_url_error_does_not_echo_it() {
        let err =
            ConnectTarget::resolve(Some("postgresql://u:s3cr3t-pw@h:notaport/d")).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t-pw"), "{err}");
    }
}
