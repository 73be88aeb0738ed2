//! What differs between the supported PostgreSQL versions, in one place.

use super::CatalogError;

#[derive(Clone, Debug)]
pub struct ServerCaps {
    pub version_num: u32,
    pub version: String,
}

impl ServerCaps {
    pub fn new(version_num: u32, version: String) -> Result<ServerCaps, CatalogError> {
        if !(130000..190000).contains(&version_num) {
            return Err(CatalogError::UnsupportedVersion { version });
        }
        Ok(ServerCaps {
            version_num,
            version,
        })
    }

    /// The body as the user wrote it: PostgreSQL 14 added SQL-standard bodies
    /// (`BEGIN ATOMIC … END`), kept in `prosqlbody` with an empty `prosrc`.
    pub fn routine_source_sql(&self) -> &'static str {
        if self.version_num >= 140000 {
            "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
        } else {
            "p.prosrc"
        }
    }
}
