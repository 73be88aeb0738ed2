//! The cluster and database around the schema: which kinds they are, and the fingerprint
//! scopes that group them (`roles`, `settings`, `database`, `tablespaces`).
//!
//! Roles and memberships belong to the cluster, not the database: two databases of one
//! cluster show the same ones, and a database compared with a clone on another cluster
//! shows every role that differs between the clusters as drift (a role missing there is a
//! `GRANT` that will fail there). Compare schema-only with `--scope catalog` minus these,
//! i.e. take such snapshots with `--no-globals`, when the clusters' roles are not the point.

use super::kinds::{ObjectKind, DATABASE_KEY_NAME};
use super::ObjectKey;
use std::fmt;

/// A group scope over kinds of the cluster and database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlobalGroup {
    /// Roles and role memberships.
    Roles,
    /// Database and role settings, and the server's settings.
    Settings,
    /// The database's own properties.
    Database,
    /// The cluster's tablespaces.
    Tablespaces,
}

impl GlobalGroup {
    pub const ALL: [GlobalGroup; 4] = [
        GlobalGroup::Roles,
        GlobalGroup::Settings,
        GlobalGroup::Database,
        GlobalGroup::Tablespaces,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GlobalGroup::Roles => "roles",
            GlobalGroup::Settings => "settings",
            GlobalGroup::Database => "database",
            GlobalGroup::Tablespaces => "tablespaces",
        }
    }

    pub fn parse(s: &str) -> Option<GlobalGroup> {
        GlobalGroup::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// The group a kind is in; `None` for the schema's own kinds (the `_` arm: kinds of
    /// the schema are the many, and a new global kind is added here with its reader).
    pub fn of(kind: ObjectKind) -> Option<GlobalGroup> {
        match kind {
            ObjectKind::Role | ObjectKind::RoleMembership => Some(GlobalGroup::Roles),
            ObjectKind::Setting | ObjectKind::ServerSetting | ObjectKind::ParameterAcl => {
                Some(GlobalGroup::Settings)
            }
            ObjectKind::Database => Some(GlobalGroup::Database),
            ObjectKind::Tablespace => Some(GlobalGroup::Tablespaces),
            _ => None,
        }
    }
}

impl fmt::Display for GlobalGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a kind is read with the globals (and left out by `--no-globals`).
pub fn is_global(kind: ObjectKind) -> bool {
    GlobalGroup::of(kind).is_some()
}

/// The key of the database object, present exactly when a snapshot holds the globals.
pub fn database_key() -> ObjectKey {
    ObjectKey::new(ObjectKind::Database, DATABASE_KEY_NAME)
}
