//! Logical replication subscriptions of the connected database (`subscription:NAME`), in the
//! catalog root: what pg_dump prints for them. `pg_subscription` is shared by the cluster;
//! only the rows of this database are its subscriptions.
//!
//! Options a server version lacks are read as the value that version behaves by, so one
//! subscription compares equal across versions: `binary` false and `streaming` `off`
//! before 14, `two_phase` and `disable_on_error` false before 15, `password_required` true,
//! `run_as_owner` false and `origin` `any` before 16, `failover` false before 17.
//!
//! The connection string goes through secret removal (`model::redact`): a password in it is
//! `(removed)`, never hashed. `subconninfo` is readable only by roles with the column
//! privilege (superusers, by default): for others it is
//! [`crate::model::redact::NOT_READABLE`], never empty. So are, on 13 only,
//! `synchronous_commit` and the comment (13 grants no role its `subsynccommit` and `oid`).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "subscription",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for SubscriptionDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionDef {
    pub name: String,
    /// `CONNECTION`, secrets removed, or not readable by this role.
    pub conninfo: String,
    /// `PUBLICATION`, sorted.
    pub publications: Vec<String>,
    pub enabled: bool,
    /// `slot_name`; absent for `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_name: Option<String>,
    /// `synchronous_commit` as stored (`off` unless set), or not readable by this role.
    pub synchronous_commit: String,
    pub binary: bool,
    /// `off`, `on` or `parallel` (16+). A subscription made without the option streams
    /// `parallel` on 18+, `off` before: a real difference between versions, shown.
    pub streaming: String,
    pub two_phase: bool,
    pub disable_on_error: bool,
    pub password_required: bool,
    pub run_as_owner: bool,
    /// `any` or `none`.
    pub origin: String,
    pub failover: bool,
}
