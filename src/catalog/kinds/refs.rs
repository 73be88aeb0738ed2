//! How a reader names the objects another object points at (a cast's function, an
//! operator's commutator), the way keys name them: SQL that selects the parts as a text
//! array, and the Rust that joins them with driftgate's quoting (not the server's
//! `quote_ident`, which also quotes keywords and would make keys depend on a keyword list).

use super::arg_types_of;
use crate::model::routine_signature;

/// SQL: routine `{oid}` as `{schema, name, argtype…}`; NULL when the oid is 0 (none).
pub(super) fn routine_ref(oid: &str) -> String {
    format!(
        "(SELECT ARRAY[rref_n.nspname::text, rref.proname::text] || {args} \
          FROM pg_proc rref JOIN pg_namespace rref_n ON rref_n.oid = rref.pronamespace \
          WHERE rref.oid = {oid})",
        args = arg_types_of("rref"),
    )
}

/// A [`routine_ref`] as a signature (`schema.name(argtype,…)`).
pub(super) fn routine(parts: Option<Vec<String>>) -> Option<String> {
    parts
        .filter(|p| p.len() >= 2)
        .map(|p| routine_signature(&p[0], &p[1], &p[2..]))
}

/// SQL: the object `{oid}` is user-made: not one initdb created (pg_dump's rule: an oid
/// below `FirstNormalObjectId`, 16384) and not an extension's member.
pub(super) fn user_made(catalog: &str, oid: &str) -> String {
    format!(
        "{oid} >= 16384 AND NOT {ext}",
        ext = super::ext_member(catalog, oid)
    )
}
