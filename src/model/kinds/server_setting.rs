//! Server settings set in the server's configuration (`server_setting:NAME`), in the catalog
//! root: `pg_settings` rows whose source is a configuration file (`postgresql.conf` and its
//! includes, or `ALTER SYSTEM`'s `postgresql.auto.conf`) or the server's command line.
//! A setting at its built-in default is not listed. Settings that name where this server
//! runs rather than how it behaves (`catalog::kinds::globals::PER_SERVER`: data directory,
//! port, socket directories, configuration file paths) are left out, so two servers with
//! the same configuration compare equal.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "server_setting",
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

impl KindDef for ServerSettingDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettingDef {
    pub name: String,
    /// The value as `SHOW` prints it, with its unit; absent when removed (`value_removed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub value_removed: bool,
    /// `configuration file`, `alter system`, `command line`, or
    /// [`crate::model::redact::NOT_READABLE`] when the connected role may not see which file
    /// (without `pg_read_all_settings`).
    pub source: String,
}
