//! `driftgate doctor`: before a first nightly run, what will work. Four sections, each a
//! list of findings (`ok`, `warn`, `FAIL`): the connection (resolved target, server version,
//! primary or standby, TLS and what it verifies, a read-only session), what the role cannot
//! read (catalogs, catalog columns, tables it cannot count), the store (a directory or S3:
//! found, writable, fsck; on S3 also the endpoint and credential source, and the likely
//! cause when it cannot be reached), and the optional tools (Graphviz `dot`, a D-Bus
//! session bus for `--notify`).
//!
//! The findings are gathered first into a typed [`DoctorReport`], then written as text or
//! JSON (`driftgate.doctor/v1`) by `render::doctor`. Exit 0 when all is well, 1 when something is degraded (the
//! role cannot read everything a snapshot needs), 2 when a snapshot cannot work at all
//! (no connection, no usable store). A missing tool is a warning that changes neither;
//! the tools are looked for in `doctor/tools.rs`.

use crate::catalog::probe::{self, CountBlocker, ServerProbe};
use crate::catalog::{CatalogError, ConnectTarget, ServerCaps, SessionLimits, Verify};
use crate::exit;
use crate::store::s3::{self, S3Settings};
use crate::store::{Store, StoreError, StoreSource};
use serde::Serialize;
use std::path::Path;
pub use tools::{check_tools, missing_session_bus, ToolEnv, ToolsSection};

mod tools;

pub const DOCTOR_FORMAT: &str = "driftgate.doctor/v1";

/// Tables named in the text when the role cannot count some (the JSON names as many).
const TABLES_NAMED: usize = 5;
/// fsck problems listed before pointing at `driftgate fsck` for the rest.
const PROBLEMS_LISTED: usize = 5;

/// How one finding weighs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub level: Level,
    pub text: String,
    /// A warning that leaves the status alone: an optional tool, or advice about TLS the
    /// sslmode asked for.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
}

impl Finding {
    fn ok(text: impl Into<String>) -> Finding {
        Finding::new(Level::Ok, text, false)
    }
    fn warn(text: impl Into<String>) -> Finding {
        Finding::new(Level::Warn, text, false)
    }
    fn advice(text: impl Into<String>) -> Finding {
        Finding::new(Level::Warn, text, true)
    }
    fn fail(text: impl Into<String>) -> Finding {
        Finding::new(Level::Fail, text, false)
    }
    fn new(level: Level, text: impl Into<String>, advisory: bool) -> Finding {
        Finding {
            level,
            text: text.into(),
            advisory,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Degraded,
    Error,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => exit::OK,
            Status::Degraded => exit::DRIFT,
            Status::Error => exit::ERROR,
        }
    }

    /// A FAIL anywhere is an error; a warning that is not advisory degrades.
    fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Status {
        let mut status = Status::Ok;
        for f in findings {
            match f.level {
                Level::Fail => return Status::Error,
                Level::Warn if !f.advisory => status = Status::Degraded,
                _ => {}
            }
        }
        status
    }
}

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub format: &'static str,
    pub connection: ConnectionSection,
    pub privileges: PrivilegesSection,
    pub store: StoreSection,
    pub tools: ToolsSection,
    pub status: Status,
}

impl DoctorReport {
    pub fn new(
        connection: ConnectionSection,
        privileges: PrivilegesSection,
        store: StoreSection,
        tools: ToolsSection,
    ) -> DoctorReport {
        let status = Status::of(
            connection
                .findings
                .iter()
                .chain(&privileges.findings)
                .chain(&store.findings)
                .chain(&tools.findings),
        );
        DoctorReport {
            format: DOCTOR_FORMAT,
            connection,
            privileges,
            store,
            tools,
            status,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Connection and privileges

#[derive(Debug, Default, Serialize)]
pub struct ConnectionSection {
    /// `user@host:port/database`, never the password; `None` when the settings do not
    /// resolve (a bad `--dsn`).
    pub target: Option<String>,
    pub connected: bool,
    pub error: Option<String>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub server_version: Option<String>,
    pub server_version_num: Option<u32>,
    pub supported: Option<bool>,
    /// `primary` or `standby` (`pg_is_in_recovery()`).
    pub mode: Option<&'static str>,
    pub tls: Option<TlsReport>,
    pub read_only: Option<bool>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct TlsReport {
    pub in_use: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub sslmode: &'static str,
    /// The certificate chains to a trusted root (sslmode verify-ca or verify-full).
    pub certificate_verified: bool,
    /// The certificate was issued for the host connected to (verify-full).
    pub host_name_verified: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct PrivilegesSection {
    /// False when there was no connection to ask.
    pub checked: bool,
    pub superuser: Option<bool>,
    pub pg_read_all_settings: Option<bool>,
    pub pg_read_all_stats: Option<bool>,
    pub unreadable_catalogs: Vec<String>,
    pub unreadable_columns: Vec<String>,
    pub tables: Option<usize>,
    pub uncountable_tables: Option<UncountableTables>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct UncountableTables {
    pub count: usize,
    /// The first few by name.
    pub first: Vec<UncountableEntry>,
}

#[derive(Debug, Serialize)]
pub struct UncountableEntry {
    pub table: String,
    pub reason: &'static str,
}

/// Connect as a snapshot would (`target`: the resolved settings, or why they do not
/// resolve) and ask what the role can read.
pub async fn check_connection(
    target: Result<ConnectTarget, String>,
    limits: &SessionLimits,
    expect_database: Option<&str>,
) -> (ConnectionSection, PrivilegesSection) {
    let mut conn = ConnectionSection::default();
    let mut privs = PrivilegesSection::default();
    let target = match target {
        Ok(t) => t,
        Err(e) => {
            conn.error = Some(e.clone());
            conn.findings
                .push(Finding::fail(format!("cannot resolve the connection: {e}")));
            privs
                .findings
                .push(Finding::fail("not checked: no connection"));
            return (conn, privs);
        }
    };
    conn.target = Some(target.describe());
    match probe::probe(&target, limits, expect_database).await {
        Ok(found) => {
            conn.connected = true;
            connection_findings(&mut conn, &target, &found, expect_database);
            privilege_findings(&mut privs, &found);
        }
        Err(e) => {
            let connected = !matches!(e, CatalogError::Connect { .. });
            conn.connected = connected;
            conn.error = Some(e.to_string());
            conn.findings.push(Finding::fail(if connected {
                format!("connected, but the checks failed: {e}")
            } else {
                e.to_string()
            }));
            privs.findings.push(Finding::fail(if connected {
                "not checked: the connection checks failed"
            } else {
                "not checked: no connection"
            }));
        }
    }
    (conn, privs)
}

fn connection_findings(
    conn: &mut ConnectionSection,
    target: &ConnectTarget,
    found: &ServerProbe,
    expect_database: Option<&str>,
) {
    conn.database = Some(found.database.clone());
    conn.user = Some(found.user.clone());
    conn.server_version = Some(found.server_version.clone());
    conn.server_version_num = Some(found.server_version_num);
    let mode = if found.in_recovery {
        "standby"
    } else {
        "primary"
    };
    conn.mode = Some(mode);
    let f = &mut conn.findings;
    f.push(Finding::ok(format!(
        "connected as {} to database {}",
        found.user, found.database
    )));
    match ServerCaps::new(found.server_version_num, found.server_version.clone()) {
        Ok(_) => {
            conn.supported = Some(true);
            f.push(Finding::ok(format!(
                "PostgreSQL {}, {mode}{}",
                found.server_version,
                if found.in_recovery {
                    " (in recovery: a snapshot reads it on one session, --jobs does not apply)"
                } else {
                    ""
                }
            )));
        }
        Err(e) => {
            conn.supported = Some(false);
            f.push(Finding::fail(e.to_string()));
        }
    }

    let check = target.certificate_check();
    let tls = TlsReport {
        in_use: found.tls.is_some(),
        version: found.tls.as_ref().and_then(|t| t.version.clone()),
        cipher: found.tls.as_ref().and_then(|t| t.cipher.clone()),
        sslmode: target.sslmode(),
        certificate_verified: found.tls.is_some() && check != Verify::Nothing,
        host_name_verified: found.tls.is_some() && check == Verify::ChainAndName,
    };
    f.push(tls_finding(&tls, target.is_local()));
    conn.tls = Some(tls);

    conn.read_only = Some(found.session_read_only);
    f.push(if found.session_read_only {
        Finding::ok("the session is read-only (default_transaction_read_only took effect)")
    } else {
        Finding::fail(
            "the session is not read-only: default_transaction_read_only did not take effect \
             (a connection pooler that drops startup options?); snapshots refuse to read it",
        )
    });
    if let (Some(pattern), Some(matched)) = (expect_database, found.expected_database) {
        f.push(if matched {
            Finding::ok(format!(
                "database {} matches --expect-database {pattern:?}",
                found.database
            ))
        } else {
            Finding::fail(format!(
                "database {} does not match --expect-database {pattern:?}: snapshots refuse it",
                found.database
            ))
        });
    }
}

/// TLS as it is and what the sslmode made it verify. Plain text or an unchecked certificate
/// is what the sslmode asked for, so it is advice, not a degraded run.
fn tls_finding(tls: &TlsReport, local: bool) -> Finding {
    let mode = tls.sslmode;
    if !tls.in_use {
        return if local {
            Finding::ok(format!(
                "TLS not in use (sslmode={mode}); the connection does not leave this machine"
            ))
        } else {
            Finding::advice(format!(
                "TLS not in use (sslmode={mode}): the connection is not encrypted; \
                 sslmode=verify-full encrypts it and checks the server"
            ))
        };
    }
    let what = [tls.version.as_deref(), tls.cipher.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    if tls.host_name_verified {
        Finding::ok(format!(
            "TLS in use ({what}); the certificate and host name are verified (sslmode={mode})"
        ))
    } else if tls.certificate_verified {
        Finding::ok(format!(
            "TLS in use ({what}); the certificate is verified, the host name is not \
             (sslmode={mode})"
        ))
    } else {
        Finding::advice(format!(
            "TLS in use ({what}), encrypted but the certificate is not verified \
             (sslmode={mode}): sslmode=verify-full also checks who the server is"
        ))
    }
}

fn privilege_findings(privs: &mut PrivilegesSection, found: &ServerProbe) {
    let p = &found.privileges;
    privs.checked = true;
    privs.superuser = Some(p.superuser);
    privs.pg_read_all_settings = Some(p.read_all_settings);
    privs.pg_read_all_stats = Some(p.read_all_stats);
    privs.unreadable_catalogs = p.unreadable_catalogs.clone();
    privs.unreadable_columns = p.unreadable_columns.clone();
    privs.tables = Some(p.tables);
    let f = &mut privs.findings;
    if p.superuser {
        f.push(Finding::ok("a superuser: it reads every catalog and table"));
    } else {
        for (member, role, hidden) in [
            (
                p.read_all_settings,
                "pg_read_all_settings",
                "settings marked superuser-only are hidden from it",
            ),
            (
                p.read_all_stats,
                "pg_read_all_stats",
                "the state and query of other roles' sessions are hidden from it",
            ),
        ] {
            f.push(if member {
                Finding::ok(format!("a member of {role}"))
            } else {
                Finding::warn(format!("not a superuser nor a member of {role}: {hidden}"))
            });
        }
    }
    for catalog in &p.unreadable_catalogs {
        f.push(Finding::warn(unreadable(catalog, catalog)));
    }
    for column in &p.unreadable_columns {
        let catalog = column.split('.').next().unwrap_or_default();
        f.push(Finding::warn(unreadable(
            &format!("column {column}"),
            catalog,
        )));
    }
    if p.unreadable_catalogs.is_empty() && p.unreadable_columns.is_empty() {
        f.push(Finding::ok(format!(
            "reads every catalog a snapshot needs ({} checked)",
            probe::CATALOGS_READ.len() + probe::RESTRICTED_CATALOGS.len()
        )));
    }

    privs.uncountable_tables = Some(UncountableTables {
        count: p.uncountable.len(),
        first: p
            .uncountable
            .iter()
            .take(TABLES_NAMED)
            .map(|t| UncountableEntry {
                table: t.table.clone(),
                reason: t.reason.describe(),
            })
            .collect(),
    });
    f.push(uncountable_finding(p.tables, &p.uncountable));
}

/// Why `what` (a catalog or one of its columns) unread matters.
fn unreadable(what: &str, catalog: &str) -> String {
    match probe::restricted_holds(catalog) {
        Some(holds) => format!("cannot read {what} ({holds}): a complete snapshot needs it"),
        None => format!("cannot read {what}: snapshots read it, and fail or miss what it holds"),
    }
}

fn uncountable_finding(tables: usize, uncountable: &[probe::UncountableTable]) -> Finding {
    if uncountable.is_empty() {
        return Finding::ok(match tables {
            0 => "no user tables yet: nothing to count".to_string(),
            n => format!("may take an exact count of all {n} table(s)"),
        });
    }
    let named: Vec<String> = uncountable
        .iter()
        .take(TABLES_NAMED)
        .map(|t| format!("{} ({})", t.table, t.reason.describe()))
        .collect();
    let more = match uncountable.len().saturating_sub(TABLES_NAMED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let rls_only = uncountable
        .iter()
        .all(|t| t.reason == CountBlocker::RowLevelSecurity);
    Finding::warn(format!(
        "cannot take an exact count of {} of {tables} table(s){}: {}{more}",
        uncountable.len(),
        if rls_only {
            ""
        } else {
            " (--exact-counts records why instead of a number)"
        },
        named.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------
// Store

#[derive(Debug, Serialize)]
pub struct StoreSection {
    pub path: String,
    #[serde(serialize_with = "store_source_name")]
    pub source: StoreSource,
    /// `directory` or `s3`.
    pub backend: &'static str,
    /// For an S3 store: the endpoint, region and where the credentials come from (never
    /// their values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Settings>,
    pub exists: bool,
    pub writable: Option<bool>,
    pub fsck: Option<FsckSummary>,
    pub findings: Vec<Finding>,
}

fn store_source_name<S: serde::Serializer>(s: &StoreSource, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.name())
}

#[derive(Debug, Serialize)]
pub struct FsckSummary {
    pub packs: usize,
    pub blobs: usize,
    pub snapshots: usize,
    pub refs: usize,
    pub problems: Vec<String>,
}

/// Whether the store is there, writable and whole. An S3 store is reached as every command
/// reaches it (the AWS variables), and what it says when it cannot be reached is read into
/// the likely cause: no such bucket, an endpoint that does not answer, plain HTTP not allowed,
/// credentials refused.
pub fn check_store(path: &Path, source: StoreSource) -> StoreSection {
    let on_s3 = s3::is_s3(path);
    let settings = on_s3.then(S3Settings::from_env);
    let mut section = StoreSection {
        path: path.display().to_string(),
        source,
        backend: if on_s3 { "s3" } else { "directory" },
        s3: settings.clone(),
        exists: false,
        writable: None,
        fsck: None,
        findings: Vec::new(),
    };
    let f = &mut section.findings;
    if let Some(settings) = &settings {
        f.push(Finding::ok(format!(
            "S3 endpoint {}, region {}; credentials: {}",
            settings.endpoint_shown(),
            settings.region,
            settings.credentials
        )));
    }
    let store = match Store::open(path) {
        Ok(store) => store,
        Err(StoreError::NotAStore { .. }) => {
            f.push(Finding::fail(if on_s3 {
                format!(
                    "no store at {}: the bucket answers, but nothing is stored under this \
                     prefix (a first `driftgate snapshot` creates it)",
                    path.display()
                )
            } else {
                format!(
                    "no store at {} (a first `driftgate snapshot` creates it)",
                    path.display()
                )
            }));
            return section;
        }
        Err(e) => {
            let text = e.to_string();
            f.push(Finding::fail(
                match settings.as_ref().and_then(|s| s3_cause(path, s, &text)) {
                    Some(cause) => format!("{cause}: {text}"),
                    None => text,
                },
            ));
            return section;
        }
    };
    section.exists = true;
    f.push(Finding::ok(format!(
        "a driftgate store at {}",
        path.display()
    )));
    match store.probe_writable() {
        Ok(()) => {
            section.writable = Some(true);
            f.push(Finding::ok(if on_s3 {
                "writable (a probe object was put and deleted)"
            } else {
                "writable (a probe file was created and removed)"
            }));
        }
        Err(e) => {
            section.writable = Some(false);
            let text = e.to_string();
            let cause = settings
                .as_ref()
                .and_then(|s| s3_cause(path, s, &text))
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            f.push(Finding::fail(format!(
                "not writable ({cause}{text}): snapshots cannot be stored"
            )));
        }
    }
    match store.fsck() {
        Ok(report) => {
            let summary = report.summary();
            if report.is_clean() {
                f.push(Finding::ok(format!("fsck: {summary}")));
            } else {
                f.push(Finding::fail(format!("fsck: {summary}")));
                for p in report.problems.iter().take(PROBLEMS_LISTED) {
                    f.push(Finding::fail(format!("fsck: {p}")));
                }
                if report.problems.len() > PROBLEMS_LISTED {
                    f.push(Finding::fail(format!(
                        "fsck: {} more problem(s): run `driftgate fsck` for all",
                        report.problems.len() - PROBLEMS_LISTED
                    )));
                }
            }
            section.fsck = Some(FsckSummary {
                packs: report.packs,
                blobs: report.blobs,
                snapshots: report.snapshots,
                refs: report.refs,
                problems: report.problems,
            });
        }
        Err(e) => f.push(Finding::fail(format!("fsck could not read the store: {e}"))),
    }
    section
}

/// What an S3 error most likely means, in words a user can act on; `None` when the message
/// matches none of the usual causes (it is then shown as it is).
fn s3_cause(path: &Path, settings: &S3Settings, message: &str) -> Option<String> {
    let bucket = s3::parse_url(&path.display().to_string())
        .map(|u| u.bucket)
        .unwrap_or_default();
    let endpoint = settings.endpoint_shown();
    let has = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
    if has(&[
        "169.254.169.254",
        "169.254.170.2",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]) {
        // object_store's fallbacks when the environment holds no keys: the instance
        // metadata service, the container credentials endpoint, a web identity token.
        Some(
            "no S3 credentials: none in the environment (AWS_ACCESS_KEY_ID, \
             AWS_SECRET_ACCESS_KEY), and the instance or container role gave none"
                .to_string(),
        )
    } else if has(&["NoSuchBucket"]) {
        Some(format!("the bucket {bucket} does not exist at {endpoint}"))
    } else if has(&["URL scheme is not allowed"]) {
        Some(format!(
            "the endpoint {endpoint} is plain http:// and AWS_ALLOW_HTTP is not true \
             (set it only for a server on a network path you trust)"
        ))
    } else if has(&[
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
        "403 Forbidden",
    ]) {
        Some(format!(
            "the S3 server refused the credentials ({}) for bucket {bucket}",
            settings.credentials
        ))
    } else if has(&[
        "error sending request",
        "Connection refused",
        "dns error",
        "timed out",
        "operation timed out",
    ]) {
        Some(format!("the S3 endpoint {endpoint} cannot be reached"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::tools::{BusReport, DotReport};
    use super::*;

    fn text_of(report: &DoctorReport) -> String {
        let mut out = Vec::new();
        crate::render::render(
            report,
            crate::render::Format::Text,
            Default::default(),
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn empty_tools(findings: Vec<Finding>) -> ToolsSection {
        ToolsSection {
            dot: DotReport {
                found: false,
                path: None,
                version: None,
            },
            dbus_session_bus: BusReport {
                address: None,
                from_env: false,
                reachable: false,
            },
            findings,
        }
    }

    fn store_with(findings: Vec<Finding>) -> StoreSection {
        StoreSection {
            path: "snapshots".into(),
            source: StoreSource::Default,
            backend: "directory",
            s3: None,
            exists: true,
            writable: Some(true),
            fsck: None,
            findings,
        }
    }

    #[test]
    fn a_fail_is_an_error_a_warning_degrades_and_advice_changes_nothing() {
        let ok = Finding::ok("fine");
        assert_eq!(Status::of([&ok]), Status::Ok);
        assert_eq!(Status::of([&ok, &Finding::advice("no dot")]), Status::Ok);
        assert_eq!(
            Status::of([&Finding::advice("no dot"), &Finding::warn("no pg_authid")]),
            Status::Degraded
        );
        assert_eq!(
            Status::of([&Finding::warn("w"), &Finding::fail("no store"), &ok]),
            Status::Error
        );
        assert_eq!(Status::Ok.exit_code(), 0);
        assert_eq!(Status::Degraded.exit_code(), 1);
        assert_eq!(Status::Error.exit_code(), 2);
    }

    #[test]
    fn a_missing_tool_leaves_the_status_ok_and_every_section_is_printed() {
        let report = DoctorReport::new(
            ConnectionSection {
                target: Some("u@h:5432/d".into()),
                findings: vec![Finding::ok("connected as u to database d")],
                ..ConnectionSection::default()
            },
            PrivilegesSection {
                findings: vec![Finding::ok("a superuser")],
                ..PrivilegesSection::default()
            },
            store_with(vec![Finding::ok("writable")]),
            empty_tools(vec![Finding::advice(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): --notify will only warn",
            )]),
        );
        assert_eq!(report.status, Status::Ok);
        let text = text_of(&report);
        for heading in [
            "Connection: u@h:5432/d",
            "Privileges",
            "Store: snapshots",
            "Tools",
        ] {
            assert!(text.contains(heading), "{heading}: {text}");
        }
        assert!(
            text.contains("  warn  no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"),
            "{text}"
        );
        assert!(text.ends_with("status: ok: snapshots will work and read everything they need\n"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["format"], DOCTOR_FORMAT);
        assert_eq!(json["status"], "ok");
        assert_eq!(json["store"]["source"], "default");
        assert_eq!(json["tools"]["findings"][0]["advisory"], true);
        assert!(json["connection"]["findings"][0].get("advisory").is_none());
    }

    #[test]
    fn tls_lines_follow_what_the_sslmode_verifies() {
        let tls = |in_use, mode, cert, host| TlsReport {
            in_use,
            version: in_use.then(|| "TLSv1.3".to_string()),
            cipher: in_use.then(|| "TLS_AES_256_GCM_SHA384".to_string()),
            sslmode: mode,
            certificate_verified: cert,
            host_name_verified: host,
        };
        let f = tls_finding(&tls(false, "prefer", false, false), true);
        assert_eq!(f.level, Level::Ok);
        let f = tls_finding(&tls(false, "prefer", false, false), false);
        assert!(f.advisory && f.text.contains("not encrypted"), "{f:?}");
        let f = tls_finding(&tls(true, "require", false, false), false);
        assert!(f.advisory && f.text.contains("not verified"), "{f:?}");
        let f = tls_finding(&tls(true, "verify-full", true, true), false);
        assert_eq!(f.level, Level::Ok);
        assert!(f.text.contains("TLSv1.3, TLS_AES_256_GCM_SHA384"), "{f:?}");
        let f = tls_finding(&tls(true, "verify-ca", true, false), false);
        assert!(f.text.contains("host name is not"), "{f:?}");
    }

    #[test]
    fn s3_errors_are_read_into_their_likely_cause() {
        let settings = S3Settings {
            endpoint: Some("http://minio:9000".into()),
            region: "eu-west-1".into(),
            allow_http: false,
            credentials: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        };
        let path = Path::new("s3://team-store/prod");
        let cause = |m: &str| s3_cause(path, &settings, m);
        assert_eq!(
            cause("404 Not Found: NoSuchBucket: The specified bucket does not exist").unwrap(),
            "the bucket team-store does not exist at http://minio:9000 (AWS_ENDPOINT_URL)"
        );
        assert!(
            cause("tcp connect error: Connection refused (os error 111)")
                .unwrap()
                .starts_with(
                    "the S3 endpoint http://minio:9000 (AWS_ENDPOINT_URL) cannot be reached"
                )
        );
        assert!(cause("builder error: URL scheme is not allowed")
            .unwrap()
            .contains("AWS_ALLOW_HTTP is not true"));
        assert!(
            cause("403 Forbidden: InvalidAccessKeyId: The key does not exist")
                .unwrap()
                .starts_with("the S3 server refused the credentials")
        );
        assert!(
            cause("Error performing PUT http://169.254.169.254/latest/api/token: 403 Forbidden")
                .unwrap()
                .starts_with("no S3 credentials"),
            "the metadata service, not the store, said 403"
        );
        assert_eq!(cause("hash mismatch"), None);
    }

    #[test]
    fn uncountable_tables_are_counted_and_the_first_few_named() {
        let t = |name: &str, reason| probe::UncountableTable {
            table: name.into(),
            reason,
        };
        let list: Vec<_> = (0..7)
            .map(|i| t(&format!("public.t{i}"), CountBlocker::NoSelect))
            .collect();
        let f = uncountable_finding(9, &list);
        assert_eq!(f.level, Level::Warn);
        assert!(
            f.text
                .starts_with("cannot take an exact count of 7 of 9 table(s)"),
            "{}",
            f.text
        );
        assert!(
            f.text.contains("public.t4 (no SELECT on the table)"),
            "{}",
            f.text
        );
        assert!(!f.text.contains("public.t5"), "{}", f.text);
        assert!(f.text.ends_with(" and 2 more"), "{}", f.text);
        assert_eq!(uncountable_finding(3, &[]).level, Level::Ok);
    }
}
