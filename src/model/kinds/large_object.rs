//! Large objects, aggregated: one object per (owner, ACL, comment) holding how many large
//! objects share them and an MD5 of their sorted OID list (`large_object:OWNER/HASH`, HASH
//! the first 16 hex digits of the BLAKE3 of the ACL and comment). Large objects have
//! nothing but an OID and can number in the millions, so this is the one exception to
//! OID-free identity: pg_dump and pg_restore keep their OIDs, so a restored copy compares
//! equal, while a large object created, dropped, granted or commented shows as a change of
//! its group. Their contents are data, not catalog, and are not read.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "large_object",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for LargeObjectsDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LargeObjectsDef {
    /// How many large objects have this owner, ACL and comment.
    pub count: u64,
    /// MD5 of their OIDs in numeric order, in decimal, comma-separated (computed by the
    /// server, so millions of OIDs never cross the wire).
    pub oids_md5: String,
}
