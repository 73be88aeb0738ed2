//! `driftgate.toml`, the config of `driftgate check` and `driftgate baseline`: where the store
//! is, the gate policy, and the databases to watch. Pure: text in, a validated
//! [`CheckConfig`] out; every mistake is an error naming the file, line and column, because a
//! nightly job that silently skips a misspelt target watches nothing.
//!
//! ```toml
//! store = "snapshots"            # optional; relative to this file; default ./snapshots
//! concurrency = 4                # optional: targets read at the same time
//! statement_timeout = "300s"     # optional defaults for every target (also connect_timeout,
//!                                # lock_timeout, jobs)
//! policy = "gate-policy.toml"    # the gate policy as a file (relative to this file), or inline:
//! [policy]                       # the tables of a policy file, under `policy.`
//! [[policy.rules]]
//! kind = "count"
//! severity = "warn"
//!
//! [[target]]
//! name = "prod"                  # letters, digits, `.`, `_`, `-`
//! service = "prod"               # pg_service.conf; or dsn = "postgresql://…" (no password
//!                                # needed: ~/.pgpass, PGPASSWORD), or dsn_env = "PROD_DSN",
//!                                # or none of them: DATABASE_URL / PG* variables
//! baseline = "prod/baseline"     # optional, default "<name>/baseline"
//! exact_counts = ["public.dot_tools"]   # or "all"
//! expect_database = "directus"   # optional guard: SQL LIKE pattern
//! include_schemas = ["public"]   # optional globs; also exclude_schemas
//! lock_timeout = "5s"            # optional, overrides the default above
//! jobs = 3                       # optional: sessions per target (1-16; also top level)
//! globals = false                # optional: leave out roles, settings, the database's
//!                                # properties, tablespaces (default true; also top level)
//! secret_patterns = ["*secret*"] # optional: setting names whose values are not stored
//!                                # (default *secret*, *password*, *token*, *key*; also top level)
//! ```

use crate::catalog::{CaptureOptions, ConnectTarget, ExactCounts, SessionLimits};
use crate::gate::policy::line_column;
use crate::gate::Policy;
use crate::model::redact::SecretPatterns;
use crate::store::refs::validate_ref_name;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

pub const DEFAULT_CONCURRENCY: usize = 4;

/// A config that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Where the gate policy comes from.
#[derive(Clone, Debug)]
pub enum PolicySource {
    /// No `policy`: the built-in one (catalog changes block, count drift warns).
    Default,
    /// An inline `[policy]` table.
    Inline(Policy),
    /// `policy = "FILE"`: the path resolved against the config's directory, and where the
    /// setting is (for errors about the file).
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
}

/// How a target is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum Connection {
    /// `dsn`: a URL or key=value string (may hold a password, so never shown).
    Dsn(String),
    /// `dsn_env`: the name of an environment variable holding the DSN (CI secrets).
    DsnEnv(String),
    /// `service`: a `pg_service.conf` service.
    Service(String),
    /// None of them: `DATABASE_URL`, `PGSERVICE`, `PG*` variables, `~/.pgpass`.
    Environment,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Connection::Dsn(_) => f.write_str("Dsn(<redacted>)"),
            Connection::DsnEnv(var) => f.debug_tuple("DsnEnv").field(var).finish(),
            Connection::Service(name) => f.debug_tuple("Service").field(name).finish(),
            Connection::Environment => f.write_str("Environment"),
        }
    }
}

/// One `[[target]]`.
#[derive(Clone, Debug)]
pub struct TargetConfig {
    pub name: String,
    pub connection: Connection,
    /// The ref of the accepted state, default `<name>/baseline`.
    pub baseline: String,
    pub exact_counts: ExactCounts,
    pub expect_database: Option<String>,
    pub include_schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    pub limits: SessionLimits,
    /// Sessions reading this target's catalog in parallel (on one shared snapshot).
    pub jobs: usize,
    /// Read roles, settings, the database's properties and tablespaces (`globals = false`
    /// leaves them out).
    pub globals: bool,
    pub secrets: SecretPatterns,
    /// Line of the target's `name`, for messages.
    pub line: usize,
}

impl TargetConfig {
    /// The ref `check` moves to every snapshot it takes of this target.
    pub fn latest_ref(&self) -> String {
        latest_ref(&self.name)
    }

    pub fn capture_options(&self) -> CaptureOptions {
        CaptureOptions {
            limits: self.limits.clone(),
            exact_counts: self.exact_counts.clone(),
            include_schemas: self.include_schemas.clone(),
            exclude_schemas: self.exclude_schemas.clone(),
            expect_database: self.expect_database.clone(),
            label: None,
            jobs: self.jobs,
            globals: self.globals,
            secrets: self.secrets.clone(),
        }
    }

    /// How to reach the target; errors never hold a password.
    pub fn connect_target(&self) -> Result<ConnectTarget, String> {
        let resolved = match &self.connection {
            Connection::Dsn(dsn) => ConnectTarget::resolve(Some(dsn)),
            Connection::DsnEnv(var) => match std::env::var(var) {
                Ok(dsn) if !dsn.trim().is_empty() => ConnectTarget::resolve(Some(&dsn)),
                _ => {
                    return Err(format!(
                        "environment variable {var} (dsn_env of target {}) is not set",
                        self.name
                    ))
                }
            },
            Connection::Service(name) => ConnectTarget::from_service(name),
            Connection::Environment => ConnectTarget::resolve(None),
        };
        resolved.map_err(|e| e.to_string())
    }
}

pub fn latest_ref(target: &str) -> String {
    format!("{target}/latest")
}

pub fn default_baseline_ref(target: &str) -> String {
    format!("{target}/baseline")
}

/// A whole, validated config.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// The file it was read from (relative paths in it are relative to its directory).
    pub file: PathBuf,
    /// `store`, resolved; `None` means the default (or `--store`).
    pub store: Option<PathBuf>,
    pub concurrency: usize,
    pub policy: PolicySource,
    pub targets: Vec<TargetConfig>,
}

impl CheckConfig {
    /// Parse config text; `file` names it in errors and anchors relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<CheckConfig, ConfigError> {
        let file_label = file.display().to_string();
        let err_at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ConfigError {
                file: file_label.clone(),
                line,
                column,
                message,
            }
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            err_at(
                e.span().map(|s| s.start).unwrap_or(0),
                with_hint(e.message().trim()),
            )
        })?;
        let dir = file.parent().unwrap_or(Path::new(""));

        let concurrency = match &raw.concurrency {
            None => DEFAULT_CONCURRENCY,
            Some(c) => match usize::try_from(*c.get_ref()) {
                Ok(n) if (1..=64).contains(&n) => n,
                _ => {
                    return Err(err_at(
                        c.span().start,
                        format!("concurrency must be between 1 and 64 (got {})", c.get_ref()),
                    ))
                }
            },
        };
        let policy = match raw.policy {
            None => PolicySource::Default,
            Some(p) => {
                let (line, column) = line_column(text, p.span().start);
                match p.into_inner() {
                    RawPolicy::Inline(policy) => PolicySource::Inline(policy.normalized()),
                    RawPolicy::File(path) => PolicySource::File {
                        path: dir.join(path),
                        line,
                        column,
                    },
                }
            }
        };
        let jobs_of = |j: &Option<Spanned<i64>>, default: usize| match j {
            None => Ok(default),
            Some(j) => match usize::try_from(*j.get_ref()) {
                Ok(n) if (1..=16).contains(&n) => Ok(n),
                _ => Err(err_at(
                    j.span().start,
                    format!("jobs must be between 1 and 16 (got {})", j.get_ref()),
                )),
            },
        };
        let default_jobs = jobs_of(&raw.jobs, CaptureOptions::default().jobs)?;
        let defaults = SessionLimits::default();
        let default_limits = SessionLimits {
            connect_timeout: raw
                .connect_timeout
                .map(|d| d.0)
                .or(defaults.connect_timeout),
            statement_timeout: raw
                .statement_timeout
                .map_or(defaults.statement_timeout, |d| d.0),
            lock_timeout: raw.lock_timeout.map_or(defaults.lock_timeout, |d| d.0),
            ..defaults
        };

        let mut targets: Vec<TargetConfig> = Vec::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for t in raw.targets {
            let name_at = t.name.span().start;
            let name = t.name.get_ref().clone();
            validate_target_name(&name).map_err(|m| err_at(name_at, m))?;
            let (line, _) = line_column(text, name_at);
            if let Some(first) = seen.insert(name.clone(), line) {
                return Err(err_at(
                    name_at,
                    format!("target {name:?} is already defined on line {first}"),
                ));
            }
            let connection = match (t.dsn, t.dsn_env, t.service) {
                (None, None, None) => Connection::Environment,
                (Some(dsn), None, None) => Connection::Dsn(dsn.into_inner()),
                (None, Some(var), None) => Connection::DsnEnv(var.into_inner()),
                (None, None, Some(service)) => Connection::Service(service.into_inner()),
                (_, env, service) => {
                    let at = service
                        .map(|s| s.span().start)
                        .or(env.map(|e| e.span().start))
                        .unwrap_or(name_at);
                    return Err(err_at(
                        at,
                        format!(
                            "target {name:?}: give one of dsn, dsn_env or service, not several"
                        ),
                    ));
                }
            };
            let baseline = match t.baseline {
                None => default_baseline_ref(&name),
                Some(b) => {
                    let at = b.span().start;
                    let b = b.into_inner();
                    validate_ref_name(&b).map_err(|e| err_at(at, format!("baseline: {e}")))?;
                    if b == name || b == latest_ref(&name) {
                        return Err(err_at(
                            at,
                            format!(
                                "baseline {b:?} collides with the refs check keeps under {name}/ \
                                 (use the default {:?} or another name)",
                                default_baseline_ref(&name)
                            ),
                        ));
                    }
                    b
                }
            };
            let jobs = jobs_of(&t.jobs, default_jobs)?;
            targets.push(TargetConfig {
                name,
                connection,
                baseline,
                exact_counts: t.exact_counts.map(|e| e.0).unwrap_or_default(),
                expect_database: t.expect_database,
                include_schemas: t.include_schemas,
                exclude_schemas: t.exclude_schemas,
                limits: SessionLimits {
                    connect_timeout: t
                        .connect_timeout
                        .map(|d| d.0)
                        .or(default_limits.connect_timeout),
                    statement_timeout: t
                        .statement_timeout
                        .map_or(default_limits.statement_timeout, |d| d.0),
                    lock_timeout: t.lock_timeout.map_or(default_limits.lock_timeout, |d| d.0),
                    ..default_limits.clone()
                },
                jobs,
                globals: t.globals.or(raw.globals).unwrap_or(true),
                secrets: t
                    .secret_patterns
                    .clone()
                    .or_else(|| raw.secret_patterns.clone())
                    .map(SecretPatterns::new)
                    .unwrap_or_default(),
                line,
            });
        }
        // A baseline named like another target's namespace would be a file where check
        // needs a directory.
        for t in &targets {
            if let Some(other) = targets
                .iter()
                .find(|o| o.name == t.baseline || o.latest_ref() == t.baseline)
            {
                let (line, column) = (t.line, 1);
                return Err(ConfigError {
                    file: file_label.clone(),
                    line,
                    column,
                    message: format!(
                        "target {:?}: baseline {:?} collides with the refs of target {:?}",
                        t.name, t.baseline, other.name
                    ),
                });
            }
        }
        Ok(CheckConfig {
            file: file.to_path_buf(),
            store: raw.store.map(|s| crate::store::resolve_location(dir, &s)),
            concurrency,
            policy,
            targets,
        })
    }

    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The targets named (all of them when `names` is empty), in config order.
    pub fn select(&self, names: &[String]) -> Result<Vec<&TargetConfig>, String> {
        if let Some(unknown) = names.iter().find(|n| self.target(n).is_none()) {
            return Err(format!(
                "no target named {unknown:?} in {} (targets: {})",
                self.file.display(),
                self.target_names()
            ));
        }
        Ok(self
            .targets
            .iter()
            .filter(|t| names.is_empty() || names.contains(&t.name))
            .collect())
    }

    pub fn target_names(&self) -> String {
        if self.targets.is_empty() {
            return "none".into();
        }
        self.targets
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether TOML text is a check config (rather than a bare gate policy file): it has one of
/// the config's own top-level keys. Text that is not TOML is not a config (the policy parser
/// then reports where it breaks).
pub fn looks_like_config(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| {
        ["target", "policy", "store", "concurrency"]
            .iter()
            .any(|k| t.contains_key(*k))
    })
}

fn validate_target_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name != "live"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        validate_ref_name(&latest_ref(name)).map_err(|e| e.to_string())
    } else {
        Err(format!(
            "invalid target name {name:?}: use letters, digits, `.`, `_` and `-` (it names refs \
             like {name}/baseline and metric labels)"
        ))
    }
}

/// serde's message, plus what the user probably meant.
fn with_hint(message: &str) -> String {
    let hint = if ["rules", "counts", "ignore"]
        .iter()
        .any(|k| message.contains(&format!("unknown field `{k}`")))
    {
        " (in driftgate.toml the gate policy goes under [policy]: [[policy.rules]], \
         [policy.counts], [policy.ignore]; or policy = \"FILE\")"
    } else if message.contains("unknown field `targets`") {
        " (targets are [[target]] tables)"
    } else {
        ""
    };
    format!("{message}{hint}")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    store: Option<String>,
    #[serde(default)]
    concurrency: Option<Spanned<i64>>,
    #[serde(default)]
    policy: Option<Spanned<RawPolicy>>,
    #[serde(default)]
    connect_timeout: Option<DurationValue>,
    #[serde(default)]
    statement_timeout: Option<DurationValue>,
    #[serde(default)]
    lock_timeout: Option<DurationValue>,
    #[serde(default)]
    jobs: Option<Spanned<i64>>,
    #[serde(default)]
    globals: Option<bool>,
    #[serde(default)]
    secret_patterns: Option<Vec<String>>,
    #[serde(default, rename = "target")]
    targets: Vec<RawTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Spanned<String>,
    #[serde(default)]
    dsn: Option<Spanned<String>>,
    #[serde(default)]
    dsn_env: Option<Spanned<String>>,
    #[serde(default)]
    service: Option<Spanned<String>>,
    #[serde(default)]
    baseline: Option<Spanned<String>>,
    #[serde(default)]
    exact_counts: Option<ExactCountsValue>,
    #[serde(default)]
    expect_database: Option<String>,
    #[serde(default)]
    include_schemas: Vec<String>,
    #[serde(default)]
    exclude_schemas: Vec<String>,
    #[serde(default)]
    connect_timeout: Option<DurationValue>,
    #[serde(default)]
    statement_timeout: Option<DurationValue>,
    #[serde(default)]
    lock_timeout: Option<DurationValue>,
    #[serde(default)]
    jobs: Option<Spanned<i64>>,
    #[serde(default)]
    globals: Option<bool>,
    #[serde(default)]
    secret_patterns: Option<Vec<String>>,
}

/// `policy = "FILE"` or a `[policy]` table, deserialized as the gate's own [`Policy`] so its
/// errors (unknown keys, bad globs, bad tolerances) keep their line numbers.
enum RawPolicy {
    File(String),
    Inline(Policy),
}

impl<'de> Deserialize<'de> for RawPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPolicy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a policy file name or a [policy] table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPolicy, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("policy file name is empty"));
                }
                Ok(RawPolicy::File(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPolicy, A::Error> {
                Policy::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawPolicy::Inline)
            }
        }
        d.deserialize_any(V)
    }
}

/// `"all"` or a list of tables.
struct ExactCountsValue(ExactCounts);

impl<'de> Deserialize<'de> for ExactCountsValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExactCountsValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"all\" or a list of tables like [\"public.dot_tools\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExactCountsValue, E> {
                if v.trim() == "all" {
                    Ok(ExactCountsValue(ExactCounts::All))
                } else {
                    Err(E::custom(format!(
                        "exact_counts is \"all\" or a list of tables (got {v:?}; write [{v:?}])"
                    )))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut tables = Vec::new();
                while let Some(t) = seq.next_element::<String>()? {
                    if t.trim().is_empty() || t.contains(',') {
                        return Err(de::Error::custom(format!(
                            "{t:?} is not a table name (one table per list item)"
                        )));
                    }
                    tables.push(t);
                }
                Ok(ExactCountsValue(ExactCounts::parse(&tables.join(","))))
            }
        }
        d.deserialize_any(V)
    }
}

/// `"5s"`, `"2m"` … or a number of seconds.
struct DurationValue(Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration like \"10s\" or \"2m\", or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
                crate::duration::parse_duration(v)
                    .map(DurationValue)
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
                u64::try_from(v)
                    .map(|s| DurationValue(Duration::from_secs(s)))
                    .map_err(|_| E::custom(format!("a duration cannot be negative ({v})")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Severity;

    fn parse(text: &str) -> Result<CheckConfig, ConfigError> {
        CheckConfig::parse(text, Path::new("/etc/driftgate/driftgate.toml"))
    }

    /// `globals` and `secret_patterns`: a target's own value wins over the top level, and
    /// neither given is the default (globals read, the default secret patterns).
    #[test]
    fn globals_and_secret_patterns_per_target_and_top_level() {
        let c = parse(
            r#"
globals = false
secret_patterns = ["*pin*"]
[[target]]
name = "a"
[[target]]
name = "b"
globals = true
secret_patterns = ["app.mode"]
"#,
        )
        .unwrap();
        let (a, b) = (
            c.targets[0].capture_options(),
            c.targets[1].capture_options(),
        );
        assert!(!a.globals);
        assert!(a.secrets.is_secret("app.pin_code") && !a.secrets.is_secret("app.jwt_secret"));
        assert!(b.globals);
        assert!(b.secrets.is_secret("app.mode") && !b.secrets.is_secret("app.pin_code"));
        let d = parse("[[target]]\nname = \"d\"\n").unwrap().targets[0].capture_options();
        assert!(d.globals);
        assert_eq!(d.secrets, SecretPatterns::default());
        assert!(parse("[[target]]\nname = \"e\"\nglobals = \"no\"\n").is_err());
    }

    #[test]
    fn the_issue_example_parses() {
        let c = parse(
            r#"
store = "snapshots"
[policy]
[[policy.rules]]
kind = "count"
severity = "ignore"
[policy.counts.tables]
dot_tools = 1

[[target]]
name = "prod"
dsn = "postgresql://ro:pw@db/directus"
baseline = "prod/baseline"
exact_counts = ["public.dot_tools"]
expect_database = "directus"

[[target]]
name = "clone"
service = "clone"
exact_counts = "all"
lock_timeout = "2s"
jobs = 1

[[target]]
name = "env"
"#,
        )
        .unwrap();
        assert_eq!(c.store, Some(PathBuf::from("/etc/driftgate/snapshots")));
        assert_eq!(c.concurrency, DEFAULT_CONCURRENCY);
        let PolicySource::Inline(p) = &c.policy else {
            panic!("inline policy expected: {:?}", c.policy)
        };
        assert_eq!(p.rules[0].severity, Severity::Ignore);
        assert!(
            p.counts.tables.contains_key("public.dot_tools"),
            "table names are normalized as in a policy file"
        );
        let names: Vec<&str> = c.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["prod", "clone", "env"]);
        let prod = &c.targets[0];
        assert_eq!(prod.baseline, "prod/baseline");
        assert_eq!(
            prod.exact_counts,
            ExactCounts::Tables(vec!["public.dot_tools".into()])
        );
        assert_eq!(prod.expect_database.as_deref(), Some("directus"));
        assert_eq!(prod.line, 11);
        assert!(!format!("{prod:?}").contains("pw@"), "Debug hides the DSN");
        let clone = &c.targets[1];
        assert_eq!(clone.connection, Connection::Service("clone".into()));
        assert_eq!(clone.baseline, "clone/baseline");
        assert_eq!(clone.latest_ref(), "clone/latest");
        assert_eq!(clone.exact_counts, ExactCounts::All);
        assert_eq!(clone.limits.lock_timeout, Duration::from_secs(2));
        assert_eq!(clone.jobs, 1);
        assert_eq!(prod.jobs, CaptureOptions::default().jobs);
        assert_eq!(c.targets[2].connection, Connection::Environment);
    }

    #[test]
    fn a_policy_file_and_defaults_resolve_against_the_config_directory() {
        let c = parse(
            "policy = \"gate.toml\"\nstatement_timeout = 60\nconcurrency = 2\n[[target]]\nname = \"a\"\nstatement_timeout = \"90s\"\n[[target]]\nname = \"b\"\n",
        )
        .unwrap();
        match &c.policy {
            PolicySource::File { path, line, .. } => {
                assert_eq!(path, Path::new("/etc/driftgate/gate.toml"));
                assert_eq!(*line, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.store, None);
        assert_eq!(c.concurrency, 2);
        assert_eq!(
            c.targets[0].limits.statement_timeout,
            Duration::from_secs(90)
        );
        assert_eq!(
            c.targets[1].limits.statement_timeout,
            Duration::from_secs(60)
        );
        assert!(matches!(parse("").unwrap().policy, PolicySource::Default));
        assert!(parse("").unwrap().targets.is_empty());
    }

    #[test]
    fn mistakes_are_errors_naming_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "[[target]]\nname = \"a\"\nhost = \"x\"\n",
                3,
                "unknown field `host`",
            ),
            ("stor = \"x\"\n", 1, "unknown field `stor`"),
            (
                "[policy]\n[[policy.rules]]\nkind = \"function\"\nseverty = \"warn\"\n",
                4,
                "severty",
            ),
            ("[[policy.rules]]\nseverity = \"fatal\"\n", 2, "fatal"),
            ("[[rules]]\nseverity = \"warn\"\n", 1, "[[policy.rules]]"),
            ("[[targets]]\nname = \"a\"\n", 1, "[[target]]"),
            ("[[target]]\ndsn = \"x\"\n", 1, "name"),
            (
                "[[target]]\nname = \"a\"\n\n[[target]]\nname = \"a\"\n",
                5,
                "already defined on line 2",
            ),
            (
                "[[target]]\nname = \"a\"\ndsn = \"host=x\"\nservice = \"a\"\n",
                4,
                "not several",
            ),
            ("[[target]]\nname = \"a b\"\n", 2, "invalid target name"),
            ("[[target]]\nname = \"live\"\n", 2, "invalid target name"),
            (
                "[[target]]\nname = \"a\"\nbaseline = \"../x\"\n",
                3,
                "baseline",
            ),
            (
                "[[target]]\nname = \"a\"\nbaseline = \"a/latest\"\n",
                3,
                "collides",
            ),
            (
                "[[target]]\nname = \"a\"\nexact_counts = \"public.t\"\n",
                3,
                "write [",
            ),
            (
                "[[target]]\nname = \"a\"\nlock_timeout = \"soon\"\n",
                3,
                "not a duration",
            ),
            ("concurrency = 0\n", 1, "between 1 and 64"),
            ("jobs = 17\n", 1, "between 1 and 16"),
            (
                "[[target]]\nname = \"a\"\njobs = 0\n",
                3,
                "between 1 and 16",
            ),
            ("policy = 3\n", 1, "policy file name or a [policy] table"),
            (
                "[[target]]\nname = \"a\"\nbaseline = \"b\"\n[[target]]\nname = \"b\"\n",
                2,
                "collides with the refs of target \"b\"",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, *line, "{text:?} → {e}");
            assert!(e.message.contains(needle), "{text:?} → {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("/etc/driftgate/driftgate.toml:{line}:")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_config_is_told_apart_from_a_bare_policy() {
        assert!(looks_like_config("[[target]]\nname = \"a\"\n"));
        assert!(looks_like_config("policy = \"p.toml\"\n"));
        assert!(looks_like_config(
            "[policy.counts]\ndefault_tolerance = 1\n"
        ));
        assert!(!looks_like_config("[[rules]]\nseverity = \"warn\"\n"));
        assert!(!looks_like_config(""));
        assert!(
            !looks_like_config("[[target]\n"),
            "broken TOML is left to the policy parser"
        );
    }

    #[test]
    fn select_keeps_config_order_and_names_unknown_targets() {
        let c =
            parse("[[target]]\nname = \"a\"\n[[target]]\nname = \"b\"\n[[target]]\nname = \"c\"\n")
                .unwrap();
        let names = |v: Vec<&TargetConfig>| v.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(c.select(&[]).unwrap()), ["a", "b", "c"]);
        assert_eq!(
            names(c.select(&["c".into(), "a".into()]).unwrap()),
            ["a", "c"]
        );
        let e = c.select(&["x".into()]).unwrap_err();
        assert!(e.contains("\"x\"") && e.contains("a, b, c"), "{e}");
    }
}
