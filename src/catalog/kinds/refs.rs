//! How a reader names the objects another object points at (a cast's function, an
//! operator's commutator), the way keys name them: SQL that selects the parts as a text
//! array, and the Rust that joins them with driftgate's quoting (not the server's
//! `quote_ident`, which also quotes keywords and would make keys depend on a keyword list).

use super::arg_types_of;
use crate::model::{quote_ident, routine_signature};

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

/// SQL: operator `{oid}` as `{schema, name, left type or NONE, right type}`; NULL for 0.
pub(super) fn operator_ref(oid: &str) -> String {
    format!(
        "(SELECT ARRAY[oref_n.nspname::text, oref.oprname::text, \
                 CASE WHEN oref.oprleft = 0 THEN 'NONE' ELSE format_type(oref.oprleft, NULL) END, \
                 CASE WHEN oref.oprright = 0 THEN 'NONE' ELSE format_type(oref.oprright, NULL) END] \
          FROM pg_operator oref JOIN pg_namespace oref_n ON oref_n.oid = oref.oprnamespace \
          WHERE oref.oid = {oid})"
    )
}

/// An [`operator_ref`] as in keys: `schema.name(left,right)`, the name bare (operator names
/// hold no dots, quotes or parentheses), `NONE` for a prefix operator's left side, as
/// `regoperator` prints it.
pub(super) fn operator(parts: Option<Vec<String>>) -> Option<String> {
    parts
        .filter(|p| p.len() == 4)
        .map(|p| operator_signature(&p[0], &p[1], &p[2], &p[3]))
}

pub(super) fn operator_signature(schema: &str, name: &str, left: &str, right: &str) -> String {
    format!("{}.{name}({left},{right})", quote_ident(schema))
}

/// SQL: object `{oid}` of a catalog with a namespace column as `{schema, name}`; NULL for 0.
pub(super) fn qualified_ref(catalog: &str, nsp_col: &str, name_col: &str, oid: &str) -> String {
    format!(
        "(SELECT ARRAY[qref_n.nspname::text, qref.{name_col}::text] \
          FROM {catalog} qref JOIN pg_namespace qref_n ON qref_n.oid = qref.{nsp_col} \
          WHERE qref.oid = {oid})"
    )
}

/// A [`qualified_ref`] as `schema.name`.
pub(super) fn qualified(parts: Option<Vec<String>>) -> Option<String> {
    parts
        .filter(|p| p.len() == 2)
        .map(|p| crate::model::qualify(&p[0], &p[1]))
}

/// SQL: the object `{oid}` is user-made: not one initdb created (pg_dump's rule: an oid
/// below `FirstNormalObjectId`, 16384) and not an extension's member.
pub(super) fn user_made(catalog: &str, oid: &str) -> String {
    format!(
        "{oid} >= 16384 AND NOT {ext}",
        ext = super::ext_member(catalog, oid)
    )
}

/// SQL: the index `{index}` is attached to (`ALTER INDEX parent ATTACH PARTITION`), as
/// `schema.name`; NULL when it is attached to none.
pub(super) fn attached_index(index: &str) -> String {
    format!(
        "(SELECT format('%I.%I', pin.nspname, pic.relname) FROM pg_inherits ih \
            JOIN pg_class pic ON pic.oid = ih.inhparent \
            JOIN pg_namespace pin ON pin.oid = pic.relnamespace \
          WHERE ih.inhrelid = {index})"
    )
}
