//! Role memberships (`role_membership:ROLE/MEMBER/by:GRANTOR`): one `GRANT role TO member`,
//! in the catalog root.
//!
//! The grantor is part of the key because PostgreSQL 16 keeps one membership per grantor
//! (the same role granted to the same member by two grantors is two rows, each with its own
//! options). PostgreSQL 13–15 keep one row per (role, member) with a grantor and
//! `admin_option` only; there `inherit_option` is the member's `INHERIT` attribute and
//! `set_option` is true, which is what those versions do and what `pg_upgrade` to 16 writes,
//! so the same grants compare equal across versions.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "role_membership",
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

impl KindDef for RoleMembershipDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMembershipDef {
    /// The role granted.
    pub role: String,
    /// The role it is granted to.
    pub member: String,
    pub grantor: String,
    /// `WITH ADMIN OPTION`.
    pub admin_option: bool,
    /// `WITH INHERIT` (16+; before, the member's `INHERIT` attribute).
    pub inherit_option: bool,
    /// `WITH SET` (16+; before, always true).
    pub set_option: bool,
}
