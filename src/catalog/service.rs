//! libpq connection service files (`pg_service.conf`), which sqlx does not read: `service=NAME`
//! in a key=value DSN, `service = "NAME"` for a `driftgate check` target, or `PGSERVICE`.
//!
//! Looked up the way libpq does it: the user file (`PGSERVICEFILE`, else
//! `~/.pg_service.conf`) first; when the service is not defined there, the system file
//! (`PGSYSCONFDIR/pg_service.conf`, else `/etc/postgresql-common/pg_service.conf`, Debian's
//! libpq default). The first definition found wins. A service file may hold a password, so
//! no value from it ever appears in an error or a `Debug` output: errors name the file, the
//! line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where to look for service definitions, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceFiles {
    /// `PGSERVICEFILE`, else `~/.pg_service.conf`.
    pub user: Option<PathBuf>,
    /// `PGSYSCONFDIR/pg_service.conf`, else the Debian default.
    pub system: PathBuf,
}

impl ServiceFiles {
    pub fn from_env() -> ServiceFiles {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let user = var("PGSERVICEFILE")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".pg_service.conf")));
        let system = match var("PGSYSCONFDIR") {
            Some(dir) => PathBuf::from(dir).join("pg_service.conf"),
            None => PathBuf::from("/etc/postgresql-common/pg_service.conf"),
        };
        ServiceFiles { user, system }
    }

    fn in_order(&self) -> impl Iterator<Item = &Path> {
        self.user
            .iter()
            .map(PathBuf::as_path)
            .chain(std::iter::once(self.system.as_path()))
    }
}

/// One `key=value` line of a service definition.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceParam {
    pub key: String,
    pub value: String,
    pub line: usize,
}

impl fmt::Debug for ServiceParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.key == "password" {
            &"<redacted>"
        } else {
            &self.value
        };
        f.debug_struct("ServiceParam")
            .field("key", &self.key)
            .field("value", value)
            .field("line", &self.line)
            .finish()
    }
}

/// A service definition and the file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub file: PathBuf,
    pub params: Vec<ServiceParam>,
}

/// Parse a service file into its sections. `file` names it in errors.
pub fn parse_service_file(
    text: &str,
    file: &str,
) -> Result<BTreeMap<String, Vec<ServiceParam>>, String> {
    let mut sections: BTreeMap<String, Vec<ServiceParam>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(|| {
                format!("{file}:{line_no}: a section header must look like [name]")
            })?;
            let name = name.trim().to_string();
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "{file}:{line_no}: syntax error: expected key=value or [service]"
            ));
        };
        let key = key.trim().to_string();
        let Some(section) = &current else {
            return Err(format!(
                "{file}:{line_no}: {key:?} is outside any [service] section"
            ));
        };
        if key == "service" {
            return Err(format!(
                "{file}:{line_no}: nested service specifications are not supported"
            ));
        }
        let params = sections.get_mut(section).expect("the section was created");
        // libpq keeps the first value of a key within a service.
        if !params.iter().any(|p| p.key == key) {
            params.push(ServiceParam {
                key,
                value: value.trim().to_string(),
                line: line_no,
            });
        }
    }
    Ok(sections)
}

/// Find `name` in the service files, user file first.
pub fn lookup(name: &str, files: &ServiceFiles) -> Result<Service, String> {
    let mut looked = Vec::new();
    for path in files.in_order() {
        if !path.exists() {
            looked.push(path.display().to_string());
            continue;
        }
        // A service file is a few lines; one past the policy limit (or `/dev/zero`) is
        // refused naming the file and the limit.
        let text = crate::bounded::read_text_limited(
            path,
            crate::bounded::MAX_POLICY_BYTES,
            "connection service file",
        )?;
        looked.push(path.display().to_string());
        let mut sections = parse_service_file(&text, &path.display().to_string())?;
        if let Some(params) = sections.remove(name) {
            return Ok(Service {
                name: name.to_string(),
                file: path.to_path_buf(),
                params,
            });
        }
    }
    Err(format!(
        "definition of service {name:?} not found (looked in {}; set PGSERVICEFILE to use another file)",
        looked.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14: config files are read bounded; `/dev/zero` as a service file is refused
    /// at the limit, not read until memory runs out.
    #[test]
    fn an_endless_service_file_is_refused_at_its_limit() {
        let files = ServiceFiles {
            user: Some(PathBuf::from("/dev/zero")),
            system: PathBuf::from("/nonexistent/pg_service.conf"),
        };
        let e = lookup("prod", &files).unwrap_err();
        assert_eq!(
            e,
            "connection service file /dev/zero is larger than the 1 MiB limit"
        );
    }

    const FILE: &str = "\
# a comment
[prod]
host=db.internal
port = 6432
dbname=directus
user=context_pack_readonly
password=s3cr3t-service-pw
host=ignored-second-host

  [clone]
  host=/var/run/postgresql
  dbname=directus_gov_test_20260602
";

    #[test]
    fn sections_keys_and_lines_parse_like_libpq() {
        let s = parse_service_file(FILE, "svc.conf").unwrap();
        assert_eq!(s.keys().collect::<Vec<_>>(), ["clone", "prod"]);
        let prod = &s["prod"];
        let kv: Vec<(&str, &str, usize)> = prod
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str(), p.line))
            .collect();
        assert_eq!(
            kv,
            [
                ("host", "db.internal", 3),
                ("port", "6432", 4),
                ("dbname", "directus", 5),
                ("user", "context_pack_readonly", 6),
                ("password", "s3cr3t-service-pw", 7),
            ],
            "the first value of a repeated key wins"
        );
        assert_eq!(s["clone"][0].value, "/var/run/postgresql");
        assert!(!format!("{prod:?}").contains("s3cr3t-service-pw"));
    }

    #[test]
    fn mistakes_name_file_and_line_but_never_a_value() {
        for (text, needle) in [
            ("[a]\nhost\n", "svc.conf:2: syntax error"),
            ("host=x\n", "svc.conf:1: \"host\" is outside"),
            ("[a\n", "svc.conf:1: a section header"),
            ("[a]\nservice=b\n", "svc.conf:2: nested service"),
        ] {
            let e = parse_service_file(text, "svc.conf").unwrap_err();
            assert!(e.contains(needle), "{text:?} → {e}");
        }
        let e = parse_service_file("[a]\npassword s3cr3t\n", "svc.conf").unwrap_err();
        assert!(!e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn the_user_file_wins_then_the_system_file() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("user.conf");
        let system = dir.path().join("pg_service.conf");
        std::fs::write(&user, "[prod]\nhost=user-host\n").unwrap();
        std::fs::write(
            &system,
            "[prod]\nhost=system-host\n[clone]\nhost=clone-host\n",
        )
        .unwrap();
        let files = ServiceFiles {
            user: Some(user.clone()),
            system: system.clone(),
        };
        let prod = lookup("prod", &files).unwrap();
        assert_eq!(
            (prod.file.as_path(), prod.params[0].value.as_str()),
            (user.as_path(), "user-host")
        );
        let clone = lookup("clone", &files).unwrap();
        assert_eq!(clone.file, system);
        let e = lookup("nope", &files).unwrap_err();
        assert!(
            e.contains("\"nope\" not found") && e.contains("user.conf"),
            "{e}"
        );

        let no_user = ServiceFiles {
            user: Some(dir.path().join("absent.conf")),
            system,
        };
        assert_eq!(
            lookup("prod", &no_user).unwrap().params[0].value,
            "system-host"
        );
    }
}
