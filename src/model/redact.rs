//! What driftgate does not store: values under secret-looking names, and values the
//! connected role may not read.
//!
//! A snapshot goes to git and to object storage, so a secret is removed before it is
//! stored, never hashed (a hash of a password or a token is a brute-force target). The
//! price: a change of a removed value is not detected; a change of the name, or a value
//! appearing or disappearing, is. Names are matched against [`SecretPatterns`]
//! (case-insensitive globs, `*` any run, `?` one character), by default
//! [`DEFAULT_SECRET_PATTERNS`]: PostgREST keeps `app.jwt_secret` in `ALTER DATABASE … SET`.
//!
//! For the kinds that carry options or connection strings (servers, user mappings,
//! subscriptions), [`SecretPatterns::redact_options`] and
//! [`SecretPatterns::redact_conninfo`] remove the secret values and keep the rest.

use super::{CatalogObject, MappingOptions, ObjectDef};
use std::collections::BTreeMap;

/// Names whose values are not stored unless configured otherwise.
pub const DEFAULT_SECRET_PATTERNS: &[&str] = &["*secret*", "*password*", "*token*", "*key*"];

/// Stands where a removed value was, inside options and connection strings (a whole
/// setting value is left out instead, with a flag saying so).
pub const REMOVED: &str = "(removed)";

/// The value of what the connected role may not read: a value of its own, never empty or
/// absent, so a snapshot taken by a less privileged role does not look like a change.
pub const NOT_READABLE: &str = "not readable by this role";

/// Secret-looking names (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretPatterns(Vec<String>);

impl Default for SecretPatterns {
    fn default() -> Self {
        SecretPatterns::new(DEFAULT_SECRET_PATTERNS.iter().map(|p| p.to_string()))
    }
}

impl SecretPatterns {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Self {
        SecretPatterns(patterns.into_iter().map(|p| p.to_lowercase()).collect())
    }

    /// Whether the value under `name` must not be stored.
    pub fn is_secret(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.0
            .iter()
            .any(|p| glob_match(p.as_bytes(), name.as_bytes()))
    }

    /// Remove what must not be stored from one object, whatever its kind: the one place
    /// every capture passes each object through before storing it. A kind that carries
    /// secrets adds its arm here.
    pub fn redact_object(&self, object: &mut CatalogObject) {
        // A foreign table's options and its columns' are FDW options like a server's
        // (`postgres_fdw` takes none with secrets there, other wrappers may).
        if let ObjectDef::Table(t) = &mut object.def {
            t.foreign_options = self.redact_options(&t.foreign_options);
            for c in t.columns.values_mut() {
                c.fdw_options = self.redact_options(&c.fdw_options);
            }
            return;
        }
        let (name, value, removed) = match &mut object.def {
            ObjectDef::Setting(s) => (&s.name, &mut s.value, &mut s.value_removed),
            ObjectDef::ServerSetting(s) => (&s.name, &mut s.value, &mut s.value_removed),
            // A wrapper's options are the wrapper's defaults for its servers: they may hold
            // what a server's would, so they are treated alike.
            ObjectDef::ForeignDataWrapper(w) => return self.redact_option_map(&mut w.options),
            ObjectDef::Server(s) => return self.redact_option_map(&mut s.options),
            ObjectDef::UserMapping(m) => {
                if let MappingOptions::Readable(options) = &mut m.options {
                    self.redact_option_map(options);
                }
                return;
            }
            ObjectDef::Subscription(s) => {
                if s.conninfo != NOT_READABLE {
                    s.conninfo = self.redact_conninfo(&s.conninfo);
                }
                return;
            }
            _ => return,
        };
        if value.is_some() && self.is_secret(name) {
            *value = None;
            *removed = true;
        } else if name.to_lowercase().contains("conninfo") {
            // `primary_conninfo` of a standby may hold the replication password: the
            // connection is kept, its secrets are not.
            if let Some(v) = value.as_mut() {
                *v = self.redact_conninfo(v);
            }
        }
    }

    /// Options as a `name → value` map (servers, user mappings, wrappers): secret values
    /// replaced by [`REMOVED`], the names kept.
    pub fn redact_option_map(&self, options: &mut BTreeMap<String, String>) {
        for (name, value) in options.iter_mut() {
            if self.is_secret(name) {
                *value = REMOVED.to_string();
            }
        }
    }

    /// `key=value` options (`srvoptions`, `umoptions`): secret values replaced by
    /// [`REMOVED`], the keys kept.
    pub fn redact_options(&self, options: &[String]) -> Vec<String> {
        options
            .iter()
            .map(|o| match o.split_once('=') {
                Some((k, _)) if self.is_secret(k) => format!("{k}={REMOVED}"),
                _ => o.clone(),
            })
            .collect()
    }

    /// A libpq connection string, `key=value …` or a `postgresql://` URL: secret values
    /// (and a URL's password) replaced by [`REMOVED`]. What cannot be parsed is removed
    /// whole: a string that might hold a password is never stored as it is.
    pub fn redact_conninfo(&self, conninfo: &str) -> String {
        let trimmed = conninfo.trim();
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            return self.redact_url(trimmed);
        }
        match parse_keywords(trimmed) {
            Some(pairs) => pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = if self.is_secret(&k) {
                        REMOVED.to_string()
                    } else {
                        v
                    };
                    format!("{k}={}", quote_value(&v))
                })
                .collect::<Vec<_>>()
                .join(" "),
            None => REMOVED.to_string(),
        }
    }

    fn redact_url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("checked by the caller");
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let authority = match authority.rsplit_once('@') {
            Some((user, host)) => match user.split_once(':') {
                Some((name, _)) => format!("{name}:{REMOVED}@{host}"),
                None => format!("{user}@{host}"),
            },
            None => authority.to_string(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some((k, _)) if self.is_secret(k) => format!("{k}={REMOVED}"),
                        _ => kv.to_string(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_string(),
        };
        format!("{scheme}://{authority}{tail}")
    }
}

/// `*` and `?` over bytes (the names are ASCII in practice; a multibyte character is
/// several `?`, which only makes a pattern match less, never leak more than `*` would).
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&p[1..], s) || (!s.is_empty() && glob_match(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_match(&p[1..], &s[1..]),
        _ => false,
    }
}

/// libpq's `key=value` syntax ([`crate::conninfo::parse`]). `None` when the string is not
/// of that shape (or names an empty key).
fn parse_keywords(s: &str) -> Option<Vec<(String, String)>> {
    crate::conninfo::parse(s)
        .ok()
        .filter(|pairs| pairs.iter().all(|(k, _)| !k.is_empty()))
}

fn quote_value(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '\'', '\\']) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns_catch_postgrest_and_friends_case_insensitively() {
        let p = SecretPatterns::default();
        for name in [
            "app.jwt_secret",
            "APP.Password",
            "pgrst.api_token",
            "ssl_key_file",
        ] {
            assert!(p.is_secret(name), "{name}");
        }
        for name in ["app.birth_gate_mode", "search_path", "work_mem"] {
            assert!(!p.is_secret(name), "{name}");
        }
        let custom = SecretPatterns::new(["app.?ode".to_string()]);
        assert!(custom.is_secret("app.mode"));
        assert!(!custom.is_secret("app.jwt_secret"));
    }

    #[test]
    fn options_and_conninfo_keep_everything_but_the_secret() {
        let p = SecretPatterns::default();
        assert_eq!(
            p.redact_options(&["host=db1".into(), "password=hunter2".into()]),
            vec!["host=db1".to_string(), "password=(removed)".to_string()]
        );
        let c = p.redact_conninfo("host=db1 port=5432 password='a b\\'c' dbname=app");
        assert_eq!(c, "host=db1 port=5432 password=(removed) dbname=app");
        assert!(!c.contains("a b"));
        let u = p
            .redact_conninfo("postgresql://rep:hunter2@db1:5432/app?sslpassword=x&sslmode=require");
        assert_eq!(
            u,
            "postgresql://rep:(removed)@db1:5432/app?sslpassword=(removed)&sslmode=require"
        );
        assert_eq!(
            p.redact_conninfo("host=db1 password='unterminated"),
            REMOVED
        );
    }

    #[test]
    fn a_standbys_primary_conninfo_keeps_the_connection_not_the_password() {
        use crate::model::{ObjectKey, ObjectKind, ServerSettingDef};
        let mut o = CatalogObject {
            key: ObjectKey::new(ObjectKind::ServerSetting, "primary_conninfo"),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::ServerSetting(ServerSettingDef {
                name: "primary_conninfo".into(),
                value: Some("host=p1 user=rep password=hunter2".into()),
                value_removed: false,
                source: "configuration file".into(),
            }),
        };
        SecretPatterns::default().redact_object(&mut o);
        let ObjectDef::ServerSetting(s) = &o.def else {
            unreachable!("built as a server setting")
        };
        assert_eq!(
            s.value.as_deref(),
            Some("host=p1 user=rep password=(removed)")
        );
    }

    #[test]
    fn foreign_table_and_column_options_lose_their_secrets() {
        use crate::model::{Column, ObjectKey, ObjectKind, TableDef};
        let column = Column {
            fdw_options: vec!["api_token=abc".into(), "column_name=id".into()],
            ..Default::default()
        };
        let mut o = CatalogObject {
            key: ObjectKey::new(ObjectKind::Table, "public.remote"),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::Table(TableDef {
                schema: "public".into(),
                name: "remote".into(),
                relkind: "foreign_table".into(),
                columns: [("id".to_string(), column)].into_iter().collect(),
                foreign_options: vec!["password=hunter2".into(), "table_name=t".into()],
                ..Default::default()
            }),
        };
        SecretPatterns::default().redact_object(&mut o);
        let ObjectDef::Table(t) = &o.def else {
            unreachable!("built as a table")
        };
        assert_eq!(t.foreign_options, ["password=(removed)", "table_name=t"]);
        assert_eq!(
            t.columns["id"].fdw_options,
            ["api_token=(removed)", "column_name=id"]
        );
    }

    /// Servers, user mappings, wrappers and subscriptions carry their secrets in options
    /// and conninfo: the values go, the names and the rest stay, and a value the role could
    /// not read stays "not readable" (it is no conninfo to parse).
    #[test]
    fn options_and_conninfo_of_sql_med_and_subscriptions_lose_their_secrets() {
        use crate::model::{
            MappingOptions, ObjectKey, ObjectKind, ServerDef, SubscriptionDef, UserMappingDef,
        };
        let object = |kind, def| CatalogObject {
            key: ObjectKey::new(kind, "x"),
            owner: None,
            acl: None,
            comment: None,
            def,
        };
        let options = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let p = SecretPatterns::default();
        let mut server = object(
            ObjectKind::Server,
            ObjectDef::Server(ServerDef {
                name: "s".into(),
                wrapper: "w".into(),
                server_type: None,
                version: None,
                options: options(&[("host", "db1"), ("Password", "hunter2")]),
            }),
        );
        p.redact_object(&mut server);
        let ObjectDef::Server(s) = &server.def else {
            unreachable!("built as a server")
        };
        assert_eq!(
            s.options,
            options(&[("host", "db1"), ("Password", REMOVED)])
        );
        for (given, stored) in [
            (
                MappingOptions::Readable(options(&[("user", "u"), ("password", "p")])),
                MappingOptions::Readable(options(&[("user", "u"), ("password", REMOVED)])),
            ),
            (MappingOptions::NotReadable, MappingOptions::NotReadable),
        ] {
            let mut mapping = object(
                ObjectKind::UserMapping,
                ObjectDef::UserMapping(UserMappingDef {
                    server: "s".into(),
                    role: None,
                    options: given,
                }),
            );
            p.redact_object(&mut mapping);
            let ObjectDef::UserMapping(m) = &mapping.def else {
                unreachable!("built as a user mapping")
            };
            assert_eq!(m.options, stored);
        }
        for (given, stored) in [
            (
                "host=p1 user=rep password=hunter2",
                "host=p1 user=rep password=(removed)",
            ),
            (NOT_READABLE, NOT_READABLE),
        ] {
            let mut sub = object(
                ObjectKind::Subscription,
                ObjectDef::Subscription(SubscriptionDef {
                    name: "sub".into(),
                    conninfo: given.into(),
                    publications: vec!["p".into()],
                    enabled: false,
                    slot_name: None,
                    synchronous_commit: "off".into(),
                    binary: false,
                    streaming: "off".into(),
                    two_phase: false,
                    disable_on_error: false,
                    password_required: true,
                    run_as_owner: false,
                    origin: "any".into(),
                    failover: false,
                }),
            );
            p.redact_object(&mut sub);
            let ObjectDef::Subscription(s) = &sub.def else {
                unreachable!("built as a subscription")
            };
            assert_eq!(s.conninfo, stored);
        }
    }
}
