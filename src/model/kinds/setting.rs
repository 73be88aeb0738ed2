//! Database and role settings (`pg_db_role_setting`), in the catalog root. Keys never hold
//! the database's name, so a database and its clone under another name compare equal:
//!
//! - `setting:@db/NAME`: `ALTER DATABASE <this database> SET NAME`;
//! - `setting:@db/ROLE/NAME`: `ALTER ROLE ROLE IN DATABASE <this database> SET NAME`;
//! - `setting:ROLE/NAME`: `ALTER ROLE ROLE SET NAME` (every database);
//! - `setting:@all/NAME`: `ALTER ROLE ALL SET NAME` (every role, every database).
//!
//! A role name that is not a plain identifier is quoted (`"@db"` is a role, `@db` is not),
//! so the forms cannot be confused. Settings of other databases are not this database's
//! and are left out. A value whose name looks secret (`model::redact`) is not stored.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "setting",
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

impl KindDef for SettingDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingDef {
    /// `database`, `role_in_database`, `role` or `all_roles`: which `ALTER … SET` made it.
    pub applies_to: String,
    /// The role, for role settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub name: String,
    /// The value as PostgreSQL stores it; absent when it was removed (`value_removed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The name looks secret, so the value was removed before storing: a change of it is
    /// not seen (a hash of it would be a brute-force target in a store that goes to git).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub value_removed: bool,
}
