//! The connected database's properties (`database:@db`), in the catalog root. The key
//! never holds the database's name (that goes with the snapshot's source), so a database
//! and its clone under another name compare equal. Owner, ACL and comment are the
//! object's common fields. Its presence also says the snapshot holds the cluster and
//! database around the schema (taken without `--no-globals`).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "database",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

/// The one key of the kind.
pub const DATABASE_KEY_NAME: &str = "@db";

impl KindDef for DatabaseDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

/// What `pg_dump --create` prints for the database. The collation version is left out: it
/// is the operating system's library version, not something the database was asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseDef {
    pub encoding: String,
    /// `libc`, `icu` or `builtin` (`libc` before PostgreSQL 15, which had no other).
    pub locale_provider: String,
    pub collate: String,
    pub ctype: String,
    /// The ICU or builtin locale (`daticulocale` on 15–16, `datlocale` on 17+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// ICU tailoring rules (16+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icu_rules: Option<String>,
    /// -1 is no limit.
    pub connection_limit: i32,
    pub is_template: bool,
    pub allow_connections: bool,
    /// The default tablespace.
    pub tablespace: String,
}
