//! Definitions built on the client, byte for byte as PostgreSQL's `pg_get_constraintdef`,
//! `pg_get_indexdef` and `pg_get_triggerdef` print them (src/backend/utils/adt/ruleutils.c).
//!
//! Those functions cost 15–60 µs per object on a fresh session (catalog cache misses, and
//! `pg_get_indexdef` scans `pg_opclass` for every column), which was most of a snapshot's
//! server time. The common shapes need nothing but names, which one set-based query gives:
//! identifiers come quoted by the server (`quote_ident`, the same routine those functions
//! use, so keyword quoting follows the server's own keyword list). Anything outside the
//! shapes handled here (expressions, predicates, WHEN clauses, options, opclasses that are
//! not the column type's default, …) returns `None` and is asked of the server instead.
//! `tests/deparse.rs` compares every definition with the server's on every supported
//! version.

use std::collections::HashMap;

/// One column of a relation, as the definitions need it.
#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    /// `quote_ident(attname)`, as the server quotes it.
    pub quoted: String,
    pub type_oid: u32,
    pub collation: u32,
    /// The column's type is a domain (default operator classes are looked up by base type).
    pub domain: bool,
}

/// Columns by (relation oid, attnum).
pub type AttrMap = HashMap<(u32, i16), Attr>;

/// Operator classes by oid: (is the default for its type and method, input type).
pub type OpclassMap = HashMap<u32, (bool, u32)>;

fn attrs_of<'a>(attrs: &'a AttrMap, rel: u32, keys: &[i16]) -> Option<Vec<&'a Attr>> {
    keys.iter().map(|k| attrs.get(&(rel, *k))).collect()
}

fn join_quoted(list: &[&Attr]) -> String {
    list.iter()
        .map(|a| a.quoted.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A primary key, unique or foreign key constraint, as the catalog gives it.
#[derive(Debug, Default)]
pub struct ConstraintShape<'a> {
    pub contype: &'a str,
    pub relid: u32,
    pub keys: &'a [i16],
    pub deferrable: bool,
    pub deferred: bool,
    pub validated: bool,
    /// Anything the simple shapes leave out: INCLUDE columns, NULLS NOT DISTINCT, WITHOUT
    /// OVERLAPS / PERIOD, ON DELETE SET NULL (cols), NOT ENFORCED.
    pub unusual: bool,
    pub ref_relid: u32,
    pub ref_keys: &'a [i16],
    /// `schema.table` of the referenced table, quoted; `None` when the server would print
    /// it unqualified (a table in pg_catalog).
    pub ref_table: Option<&'a str>,
    pub match_type: &'a str,
    pub on_update: &'a str,
    pub on_delete: &'a str,
}

fn fk_action(code: &str) -> Option<&'static str> {
    match code {
        "r" => Some("RESTRICT"),
        "c" => Some("CASCADE"),
        "n" => Some("SET NULL"),
        "d" => Some("SET DEFAULT"),
        _ => None,
    }
}

/// `pg_get_constraintdef(oid)` for primary keys, unique and foreign keys.
pub fn constraint_def(c: &ConstraintShape, attrs: &AttrMap) -> Option<String> {
    if c.unusual {
        return None;
    }
    let cols = attrs_of(attrs, c.relid, c.keys)?;
    let mut s = match c.contype {
        "p" | "u" => format!(
            "{} ({})",
            if c.contype == "p" {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            },
            join_quoted(&cols)
        ),
        "f" => {
            let refs = attrs_of(attrs, c.ref_relid, c.ref_keys)?;
            let mut s = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                join_quoted(&cols),
                c.ref_table?,
                join_quoted(&refs)
            );
            s.push_str(match c.match_type {
                "f" => " MATCH FULL",
                "p" => " MATCH PARTIAL",
                "s" => "",
                _ => return None,
            });
            if let Some(a) = fk_action(c.on_update) {
                s.push_str(" ON UPDATE ");
                s.push_str(a);
            }
            if let Some(a) = fk_action(c.on_delete) {
                s.push_str(" ON DELETE ");
                s.push_str(a);
            }
            s
        }
        _ => return None,
    };
    if c.deferrable {
        s.push_str(" DEFERRABLE");
    }
    if c.deferred {
        s.push_str(" INITIALLY DEFERRED");
    }
    if !c.validated {
        s.push_str(" NOT VALID");
    }
    Some(s)
}

/// An index as the catalog gives it.
#[derive(Debug, Default)]
pub struct IndexShape<'a> {
    pub relid: u32,
    /// `quote_ident(index name)`.
    pub name: &'a str,
    /// `schema.table`, quoted.
    pub table: &'a str,
    /// `quote_ident(amname)`.
    pub am: &'a str,
    pub btree: bool,
    pub unique: bool,
    pub partitioned: bool,
    pub key_count: usize,
    pub keys: &'a [i16],
    pub opclasses: &'a [u32],
    pub collations: &'a [u32],
    pub options: &'a [i16],
    /// Expressions, a predicate, storage options, opclass options, NULLS NOT DISTINCT.
    pub unusual: bool,
}

const INDOPTION_DESC: i16 = 0x0001;
const INDOPTION_NULLS_FIRST: i16 = 0x0002;

/// `pg_get_indexdef(oid)` for indexes on plain columns with default operator classes.
pub fn index_def(i: &IndexShape, attrs: &AttrMap, opclasses: &OpclassMap) -> Option<String> {
    if i.unusual || i.key_count > i.keys.len() {
        return None;
    }
    let mut s = format!(
        "CREATE {}INDEX {} ON {}{} USING {} (",
        if i.unique { "UNIQUE " } else { "" },
        i.name,
        if i.partitioned { "ONLY " } else { "" },
        i.table,
        i.am
    );
    for (n, key) in i.keys.iter().enumerate() {
        if n == i.key_count {
            s.push_str(") INCLUDE (");
        } else if n > 0 {
            s.push_str(", ");
        }
        let a = attrs.get(&(i.relid, *key))?;
        s.push_str(&a.quoted);
        if n >= i.key_count {
            continue;
        }
        let collation = *i.collations.get(n)?;
        if collation != 0 && collation != a.collation {
            return None;
        }
        let (default, input) = *opclasses.get(i.opclasses.get(n)?)?;
        if !default || input != a.type_oid || a.domain {
            return None;
        }
        let opt = *i.options.get(n)?;
        if opt != 0 && !i.btree {
            return None;
        }
        if opt & INDOPTION_DESC != 0 {
            s.push_str(" DESC");
            if opt & INDOPTION_NULLS_FIRST == 0 {
                s.push_str(" NULLS LAST");
            }
        } else if opt & INDOPTION_NULLS_FIRST != 0 {
            s.push_str(" NULLS FIRST");
        }
    }
    s.push(')');
    Some(s)
}

/// A trigger as the catalog gives it.
#[derive(Debug, Default)]
pub struct TriggerShape<'a> {
    pub relid: u32,
    /// `quote_ident(tgname)`.
    pub name: &'a str,
    /// `schema.table`, quoted.
    pub table: &'a str,
    pub tgtype: i32,
    pub update_keys: &'a [i16],
    pub constraint: bool,
    /// `schema.table` of the constraint's other table, quoted (FROM).
    pub from: Option<&'a str>,
    pub deferrable: bool,
    pub deferred: bool,
    pub old_table: Option<&'a str>,
    pub new_table: Option<&'a str>,
    /// `schema.function`, quoted.
    pub function: &'a str,
    pub args: &'a [String],
    pub standard_conforming_strings: bool,
    /// A WHEN clause, a function or FROM table in pg_catalog (printed unqualified), or
    /// arguments whose bytes the client cannot take as text.
    pub unusual: bool,
}

pub const TRIGGER_TYPE_ROW: i32 = 1 << 0;
pub const TRIGGER_TYPE_BEFORE: i32 = 1 << 1;
pub const TRIGGER_TYPE_INSERT: i32 = 1 << 2;
pub const TRIGGER_TYPE_DELETE: i32 = 1 << 3;
pub const TRIGGER_TYPE_UPDATE: i32 = 1 << 4;
pub const TRIGGER_TYPE_TRUNCATE: i32 = 1 << 5;
pub const TRIGGER_TYPE_INSTEAD: i32 = 1 << 6;

/// A string literal as ruleutils' `simple_quote_literal` writes it.
fn push_literal(s: &mut String, value: &str, standard_conforming_strings: bool) {
    s.push('\'');
    for ch in value.chars() {
        if ch == '\'' || (ch == '\\' && !standard_conforming_strings) {
            s.push(ch);
        }
        s.push(ch);
    }
    s.push('\'');
}

/// `pg_get_triggerdef(oid)` for triggers without a WHEN clause.
pub fn trigger_def(t: &TriggerShape, attrs: &AttrMap) -> Option<String> {
    if t.unusual {
        return None;
    }
    let (mut head, tail) = trigger_parts(t, attrs)?;
    head.push_str(&tail);
    Some(head)
}

/// The condition of a WHEN clause in `def`, the server's definition of a trigger whose
/// other parts read as `t` (the definition is `head WHEN (condition) tail`).
pub fn trigger_when(def: &str, t: &TriggerShape, attrs: &AttrMap) -> Option<String> {
    let (head, tail) = trigger_parts(t, attrs)?;
    let inner = def
        .strip_prefix(head.as_str())?
        .strip_prefix("WHEN (")?
        .strip_suffix(tail.as_str())?
        .strip_suffix(") ")?;
    Some(inner.trim().to_string())
}

/// A trigger definition up to where a WHEN clause would go, and from there on.
fn trigger_parts(t: &TriggerShape, attrs: &AttrMap) -> Option<(String, String)> {
    let mut s = String::with_capacity(160);
    s.push_str(if t.constraint {
        "CREATE CONSTRAINT TRIGGER "
    } else {
        "CREATE TRIGGER "
    });
    s.push_str(t.name);
    s.push(' ');
    let timing = t.tgtype & (TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_INSTEAD);
    s.push_str(match timing {
        TRIGGER_TYPE_BEFORE => "BEFORE",
        0 => "AFTER",
        TRIGGER_TYPE_INSTEAD => "INSTEAD OF",
        _ => return None,
    });
    let mut events = 0;
    for (bit, name) in [
        (TRIGGER_TYPE_INSERT, "INSERT"),
        (TRIGGER_TYPE_DELETE, "DELETE"),
        (TRIGGER_TYPE_UPDATE, "UPDATE"),
        (TRIGGER_TYPE_TRUNCATE, "TRUNCATE"),
    ] {
        if t.tgtype & bit == 0 {
            continue;
        }
        s.push_str(if events > 0 { " OR " } else { " " });
        s.push_str(name);
        events += 1;
        if bit == TRIGGER_TYPE_UPDATE && !t.update_keys.is_empty() {
            s.push_str(" OF ");
            s.push_str(&join_quoted(&attrs_of(attrs, t.relid, t.update_keys)?));
        }
    }
    s.push_str(" ON ");
    s.push_str(t.table);
    s.push(' ');
    if t.constraint {
        if let Some(from) = t.from {
            s.push_str("FROM ");
            s.push_str(from);
            s.push(' ');
        }
        if !t.deferrable {
            s.push_str("NOT ");
        }
        s.push_str("DEFERRABLE INITIALLY ");
        s.push_str(if t.deferred {
            "DEFERRED "
        } else {
            "IMMEDIATE "
        });
    }
    if t.old_table.is_some() || t.new_table.is_some() {
        s.push_str("REFERENCING ");
        if let Some(old) = t.old_table {
            s.push_str("OLD TABLE AS ");
            s.push_str(old);
            s.push(' ');
        }
        if let Some(new) = t.new_table {
            s.push_str("NEW TABLE AS ");
            s.push_str(new);
            s.push(' ');
        }
    }
    s.push_str(if t.tgtype & TRIGGER_TYPE_ROW != 0 {
        "FOR EACH ROW "
    } else {
        "FOR EACH STATEMENT "
    });
    let mut tail = String::with_capacity(64);
    tail.push_str("EXECUTE FUNCTION ");
    tail.push_str(t.function);
    tail.push('(');
    for (n, arg) in t.args.iter().enumerate() {
        if n > 0 {
            tail.push_str(", ");
        }
        push_literal(&mut tail, arg, t.standard_conforming_strings);
    }
    tail.push(')');
    Some((s, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> AttrMap {
        let mut m = AttrMap::new();
        for (n, (name, quoted)) in [("id", "id"), ("Code", "\"Code\""), ("user", "\"user\"")]
            .into_iter()
            .enumerate()
        {
            m.insert(
                (10, n as i16 + 1),
                Attr {
                    name: name.into(),
                    quoted: quoted.into(),
                    type_oid: 23,
                    collation: 0,
                    domain: false,
                },
            );
        }
        m.insert(
            (20, 1),
            Attr {
                name: "ref".into(),
                quoted: "ref".into(),
                type_oid: 23,
                collation: 0,
                domain: false,
            },
        );
        m
    }

    #[test]
    fn constraints_print_as_the_server_does() {
        let a = attrs();
        let pk = ConstraintShape {
            contype: "p",
            relid: 10,
            keys: &[1, 2],
            validated: true,
            ..Default::default()
        };
        assert_eq!(
            constraint_def(&pk, &a).unwrap(),
            "PRIMARY KEY (id, \"Code\")"
        );
        let fk = ConstraintShape {
            contype: "f",
            relid: 10,
            keys: &[3],
            ref_relid: 20,
            ref_keys: &[1],
            ref_table: Some("s.\"T\""),
            match_type: "f",
            on_update: "c",
            on_delete: "n",
            deferrable: true,
            deferred: true,
            validated: false,
            ..Default::default()
        };
        assert_eq!(
            constraint_def(&fk, &a).unwrap(),
            "FOREIGN KEY (\"user\") REFERENCES s.\"T\"(ref) MATCH FULL ON UPDATE CASCADE \
             ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED NOT VALID"
        );
        // Unknown columns, unusual shapes and other kinds are left to the server.
        let missing = ConstraintShape { keys: &[9], ..pk };
        assert!(constraint_def(&missing, &a).is_none());
        let unusual = ConstraintShape {
            contype: "u",
            relid: 10,
            keys: &[1],
            unusual: true,
            ..Default::default()
        };
        assert!(constraint_def(&unusual, &a).is_none());
        let check = ConstraintShape {
            contype: "c",
            ..Default::default()
        };
        assert!(constraint_def(&check, &a).is_none());
    }

    #[test]
    fn indexes_print_as_the_server_does() {
        let a = attrs();
        let mut opc = OpclassMap::new();
        opc.insert(1978, (true, 23));
        opc.insert(1979, (false, 23));
        let i = IndexShape {
            relid: 10,
            name: "t_idx",
            table: "public.t",
            am: "btree",
            btree: true,
            key_count: 2,
            keys: &[2, 1, 3],
            opclasses: &[1978, 1978],
            collations: &[0, 0],
            options: &[3, 2],
            ..Default::default()
        };
        assert_eq!(
            index_def(&i, &a, &opc).unwrap(),
            "CREATE INDEX t_idx ON public.t USING btree (\"Code\" DESC, id NULLS FIRST) INCLUDE (\"user\")"
        );
        let partitioned = IndexShape {
            unique: true,
            partitioned: true,
            key_count: 1,
            keys: &[1],
            options: &[1],
            ..i
        };
        assert_eq!(
            index_def(&partitioned, &a, &opc).unwrap(),
            "CREATE UNIQUE INDEX t_idx ON ONLY public.t USING btree (id DESC NULLS LAST)"
        );
        let non_default = IndexShape {
            opclasses: &[1979],
            ..partitioned
        };
        assert!(index_def(&non_default, &a, &opc).is_none());
    }

    #[test]
    fn triggers_print_as_the_server_does() {
        let a = attrs();
        let args = vec!["it's".to_string(), "a\\b".to_string()];
        let t = TriggerShape {
            relid: 10,
            name: "\"Trg\"",
            table: "public.t",
            tgtype: TRIGGER_TYPE_ROW
                | TRIGGER_TYPE_INSERT
                | TRIGGER_TYPE_UPDATE
                | TRIGGER_TYPE_DELETE,
            update_keys: &[3, 1],
            function: "public.f",
            args: &args,
            standard_conforming_strings: true,
            ..Default::default()
        };
        assert_eq!(
            trigger_def(&t, &a).unwrap(),
            "CREATE TRIGGER \"Trg\" AFTER INSERT OR DELETE OR UPDATE OF \"user\", id ON public.t \
             FOR EACH ROW EXECUTE FUNCTION public.f('it''s', 'a\\b')"
        );
        let old_strings = TriggerShape {
            standard_conforming_strings: false,
            tgtype: TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_TRUNCATE,
            ..t
        };
        assert_eq!(
            trigger_def(&old_strings, &a).unwrap(),
            "CREATE TRIGGER \"Trg\" BEFORE TRUNCATE ON public.t FOR EACH STATEMENT \
             EXECUTE FUNCTION public.f('it''s', 'a\\\\b')"
        );
        let constraint = TriggerShape {
            constraint: true,
            from: Some("public.u"),
            deferrable: true,
            tgtype: TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT,
            args: &[],
            old_table: None,
            new_table: Some("newrows"),
            ..old_strings
        };
        assert_eq!(
            trigger_def(&constraint, &a).unwrap(),
            "CREATE CONSTRAINT TRIGGER \"Trg\" AFTER INSERT ON public.t FROM public.u \
             DEFERRABLE INITIALLY IMMEDIATE REFERENCING NEW TABLE AS newrows FOR EACH ROW \
             EXECUTE FUNCTION public.f()"
        );
        let server = "CREATE CONSTRAINT TRIGGER \"Trg\" AFTER INSERT ON public.t FROM public.u \
             DEFERRABLE INITIALLY IMMEDIATE REFERENCING NEW TABLE AS newrows FOR EACH ROW \
             WHEN ((new.x > 0)) EXECUTE FUNCTION public.f()";
        assert_eq!(
            trigger_when(server, &constraint, &a).as_deref(),
            Some("(new.x > 0)")
        );
        let when = TriggerShape {
            unusual: true,
            ..constraint
        };
        assert!(trigger_def(&when, &a).is_none());
        assert!(trigger_when("CREATE TRIGGER x", &when, &a).is_none());
    }
}
