//! The optional tools `doctor` looks for: Graphviz `dot` on PATH (to draw `graph --format
//! dot`), and a D-Bus session bus (for `check --notify`). Each is found the way its user
//! finds it: `dot` by PATH, the bus at `DBUS_SESSION_BUS_ADDRESS` or, unset, where the zbus
//! client falls back to (`$XDG_RUNTIME_DIR/bus`). A missing tool is advice: it never
//! changes the status.

use super::Finding;
use serde::Serialize;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tool that does not answer `-V` within this is reported as not working.
const TOOL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize)]
pub struct ToolsSection {
    pub dot: DotReport,
    pub dbus_session_bus: BusReport,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct DotReport {
    pub found: bool,
    pub path: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BusReport {
    /// The address checked: `DBUS_SESSION_BUS_ADDRESS`, else the one the D-Bus client
    /// falls back to (`$XDG_RUNTIME_DIR/bus`).
    pub address: Option<String>,
    pub from_env: bool,
    pub reachable: bool,
}

/// What the tool checks read from the process environment, gathered in one place so the
/// checks can be given another one in tests.
pub struct ToolEnv {
    path: Option<std::ffi::OsString>,
    dbus_session_bus_address: Option<String>,
    xdg_runtime_dir: Option<String>,
    euid: u32,
}

impl ToolEnv {
    pub fn from_process() -> ToolEnv {
        ToolEnv {
            path: std::env::var_os("PATH"),
            dbus_session_bus_address: std::env::var("DBUS_SESSION_BUS_ADDRESS")
                .ok()
                .filter(|s| !s.is_empty()),
            xdg_runtime_dir: std::env::var("XDG_RUNTIME_DIR")
                .ok()
                .filter(|s| !s.is_empty()),
            // SAFETY: geteuid has no preconditions and cannot fail.
            euid: unsafe { libc::geteuid() },
        }
    }
}

pub fn check_tools(env: &ToolEnv) -> ToolsSection {
    let mut findings = Vec::new();
    let dot = check_dot(env.path.as_deref(), &mut findings);
    let bus = check_session_bus(env, &mut findings);
    ToolsSection {
        dot,
        dbus_session_bus: bus,
        findings,
    }
}

fn check_dot(path_var: Option<&OsStr>, findings: &mut Vec<Finding>) -> DotReport {
    let Some(dot) = path_var.and_then(|p| find_on_path("dot", p)) else {
        findings.push(Finding::advice(
            "Graphviz dot not found on PATH: `graph --format dot` still writes DOT, \
             but it cannot be drawn on this machine",
        ));
        return DotReport {
            found: false,
            path: None,
            version: None,
        };
    };
    let shown = dot.display().to_string();
    match run_for_output(&dot, &["-V"]) {
        Ok(text) => {
            let version = dot_version(&text);
            findings.push(Finding::ok(format!(
                "Graphviz dot {} at {shown}",
                version.as_deref().unwrap_or("(version not understood)")
            )));
            DotReport {
                found: true,
                path: Some(shown),
                version,
            }
        }
        Err(reason) => {
            findings.push(Finding::advice(format!(
                "Graphviz dot at {shown} does not run ({reason})"
            )));
            DotReport {
                found: true,
                path: Some(shown),
                version: None,
            }
        }
    }
}

/// The first executable file named `name` in the directories of a `PATH` value.
fn find_on_path(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Run a program and return what it printed (stdout then stderr: `dot -V` writes to
/// stderr), killed after [`TOOL_TIMEOUT`].
fn run_for_output(program: &Path, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if started.elapsed() > TOOL_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s", TOOL_TIMEOUT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{}: {}", out.status, text.trim()))
    }
}

/// `dot - graphviz version 2.43.0 (0)` → `2.43.0`.
fn dot_version(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("version ")?;
    rest.split_whitespace().next().map(str::to_string)
}

/// Why `check --notify` has no session bus to talk to, if it has none: the same finding
/// `doctor` prints, so both say it in the same words.
pub fn missing_session_bus() -> Option<String> {
    let mut findings = Vec::new();
    let bus = check_session_bus(&ToolEnv::from_process(), &mut findings);
    if bus.reachable {
        return None;
    }
    findings.pop().map(|f| {
        f.text
            .trim_end_matches(": --notify will only warn")
            .to_string()
    })
}

fn check_session_bus(env: &ToolEnv, findings: &mut Vec<Finding>) -> BusReport {
    let (address, from_env) = match &env.dbus_session_bus_address {
        Some(a) => (a.clone(), true),
        // The fallback of the D-Bus client `--notify` uses (zbus).
        None => (
            format!(
                "unix:path={}/bus",
                env.xdg_runtime_dir
                    .clone()
                    .unwrap_or_else(|| format!("/run/user/{}", env.euid))
            ),
            false,
        ),
    };
    let attempts: Vec<(BusAddress, Result<(), String>)> = parse_bus_addresses(&address)
        .into_iter()
        .map(|a| {
            let reached = reach_bus(&a);
            (a, reached)
        })
        .collect();
    let reached = attempts.iter().find(|(_, r)| r.is_ok());
    let report = BusReport {
        address: Some(address.clone()),
        from_env,
        reachable: reached.is_some(),
    };
    findings.push(match (reached, from_env) {
        (Some((a, _)), true) => Finding::ok(format!("D-Bus session bus at {a}")),
        (Some((a, _)), false) => Finding::ok(format!(
            "D-Bus session bus at {a} (DBUS_SESSION_BUS_ADDRESS is not set; the default place)"
        )),
        (None, false) => Finding::advice(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): --notify will only warn",
        ),
        (None, true) => {
            let why: Vec<String> = attempts
                .iter()
                .map(|(a, r)| format!("{a}: {}", r.as_ref().err().map_or("", |e| e.as_str())))
                .collect();
            Finding::advice(format!(
                "no D-Bus session bus answers at DBUS_SESSION_BUS_ADDRESS ({}): --notify will only warn",
                if why.is_empty() {
                    "no address in it".to_string()
                } else {
                    why.join("; ")
                }
            ))
        }
    });
    report
}

/// One address of a D-Bus address list (`unix:path=/run/user/1000/bus;tcp:host=h,port=1`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum BusAddress {
    UnixPath(PathBuf),
    UnixAbstract(String),
    Tcp {
        host: String,
        port: u16,
    },
    /// A transport this check cannot try (launchd, autolaunch, a bad entry).
    Other(String),
}

impl std::fmt::Display for BusAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusAddress::UnixPath(p) => write!(f, "{}", p.display()),
            BusAddress::UnixAbstract(name) => write!(f, "abstract socket {name}"),
            BusAddress::Tcp { host, port } => write!(f, "tcp {host}:{port}"),
            BusAddress::Other(a) => write!(f, "{a}"),
        }
    }
}

/// Parse a D-Bus address list: `;`-separated `transport:key=value,…`, values
/// percent-escaped (D-Bus specification, "Server Addresses").
fn parse_bus_addresses(list: &str) -> Vec<BusAddress> {
    list.split(';')
        .filter(|a| !a.is_empty())
        .map(|entry| {
            let Some((transport, params)) = entry.split_once(':') else {
                return BusAddress::Other(entry.to_string());
            };
            let get = |key: &str| {
                params
                    .split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| unescape_bus_value(v))
            };
            match transport {
                "unix" => match (get("path"), get("abstract")) {
                    (Some(path), _) => BusAddress::UnixPath(PathBuf::from(path)),
                    (None, Some(name)) => BusAddress::UnixAbstract(name),
                    _ => BusAddress::Other(entry.to_string()),
                },
                "tcp" => match (get("host"), get("port").and_then(|p| p.parse().ok())) {
                    (Some(host), Some(port)) => BusAddress::Tcp { host, port },
                    _ => BusAddress::Other(entry.to_string()),
                },
                _ => BusAddress::Other(entry.to_string()),
            }
        })
        .collect()
}

fn unescape_bus_value(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = || std::str::from_utf8(b.get(i + 1..i + 3)?).ok();
        match hex()
            .filter(|_| b[i] == b'%')
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether something accepts a connection at `addr` (a connect and nothing more: the
/// D-Bus handshake is the notification's own business).
fn reach_bus(addr: &BusAddress) -> Result<(), String> {
    use std::os::unix::net::UnixStream;
    match addr {
        BusAddress::UnixPath(path) => {
            if !path.exists() {
                return Err("no such socket".into());
            }
            UnixStream::connect(path)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        #[cfg(target_os = "linux")]
        BusAddress::UnixAbstract(name) => {
            use std::os::linux::net::SocketAddrExt;
            let sockaddr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .map_err(|e| e.to_string())?;
            UnixStream::connect_addr(&sockaddr)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        #[cfg(not(target_os = "linux"))]
        BusAddress::UnixAbstract(_) => Err("abstract sockets exist only on Linux".into()),
        BusAddress::Tcp { host, port } => {
            use std::net::ToSocketAddrs;
            let addrs: Vec<_> = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|e| e.to_string())?
                .collect();
            let mut last = "the host name resolves to no address".to_string();
            for a in addrs {
                match std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
                    Ok(_) => return Ok(()),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(last)
        }
        BusAddress::Other(_) => Err("a transport this check cannot try".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Level;

    #[test]
    fn bus_addresses_parse_with_their_escapes() {
        assert_eq!(
            parse_bus_addresses(
                "unix:path=/run/user/1000/bu%73,guid=ab;unix:abstract=/tmp/dbus-x;\
                 tcp:host=127.0.0.1,port=4000;launchd:env=X"
            ),
            vec![
                BusAddress::UnixPath("/run/user/1000/bus".into()),
                BusAddress::UnixAbstract("/tmp/dbus-x".into()),
                BusAddress::Tcp {
                    host: "127.0.0.1".into(),
                    port: 4000
                },
                BusAddress::Other("launchd:env=X".into()),
            ]
        );
        assert!(parse_bus_addresses("").is_empty());
        assert_eq!(unescape_bus_value("a%2Fb%zz%4"), "a/b%zz%4");
    }

    #[test]
    fn a_session_bus_is_found_at_the_fallback_and_missing_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let env = |runtime: &Path| ToolEnv {
            path: None,
            dbus_session_bus_address: None,
            xdg_runtime_dir: Some(runtime.display().to_string()),
            euid: 0,
        };
        let mut findings = Vec::new();
        let report = check_session_bus(&env(dir.path()), &mut findings);
        assert!(!report.reachable);
        assert_eq!(
            findings[0].text,
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): --notify will only warn"
        );
        // Something listening where the client falls back to is a bus it will use.
        let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("bus")).unwrap();
        let mut findings = Vec::new();
        let report = check_session_bus(&env(dir.path()), &mut findings);
        assert!(report.reachable, "{findings:?}");
        assert_eq!(findings[0].level, Level::Ok);

        let mut findings = Vec::new();
        let set = ToolEnv {
            dbus_session_bus_address: Some(format!(
                "unix:path={}",
                dir.path().join("absent").display()
            )),
            ..env(dir.path())
        };
        let report = check_session_bus(&set, &mut findings);
        assert!(!report.reachable && report.from_env);
        assert!(findings[0].text.contains("no such socket"), "{findings:?}");
    }

    #[test]
    fn dot_is_found_on_path_and_its_version_read() {
        assert_eq!(
            dot_version("dot - graphviz version 2.43.0 (0)\n").as_deref(),
            Some("2.43.0")
        );
        assert_eq!(dot_version("nonsense"), None);
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("dot");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'dot - graphviz version 9.9.9 (0)' >&2\n",
        )
        .unwrap();
        let mut findings = Vec::new();
        let path = std::env::join_paths([Path::new("/nonexistent-dir"), dir.path()]).unwrap();
        // Not executable yet: not a program on PATH.
        let report = check_dot(Some(&path), &mut findings);
        assert!(!report.found && findings[0].advisory, "{findings:?}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut findings = Vec::new();
        let report = check_dot(Some(&path), &mut findings);
        assert_eq!(report.version.as_deref(), Some("9.9.9"), "{findings:?}");
        assert_eq!(findings[0].level, Level::Ok);
    }
}
