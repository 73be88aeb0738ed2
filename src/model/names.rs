//! Identifiers in keys: quoting a name part when it is not a plain lower-case identifier,
//! qualifying it, and splitting a qualified name back into its parts. Below keys and
//! kinds, so both can use it.

/// `schema.name(argtype,argtype)`: how routines are named in keys and wherever a trigger or
/// event trigger names its function. Argument types are `format_type` output with
/// `search_path = pg_catalog` (so user types are schema-qualified).
pub fn routine_signature(schema: &str, name: &str, arg_types: &[String]) -> String {
    format!("{}({})", qualify(schema, name), arg_types.join(","))
}

/// `schema.name`, each part quoted when needed.
pub fn qualify(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// Quote an identifier unless it is a plain lower-case name (`[a-z_][a-z0-9_$]*`).
///
/// Unlike PostgreSQL's `quote_ident` this does not quote reserved words: keys are
/// identifiers for driftgate, not SQL to run, and the rule must not depend on a server's
/// keyword list.
pub fn quote_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Split `a.b` / `"a.x"."b"` into unquoted parts, honouring double quotes.
pub fn split_qualified(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = name.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// A schema-qualified relation name, `schema.name`, held as its two unquoted parts.
///
/// Displayed as keys spell it (`public.dot_tools`, `"My Schema"."T"`): each part quoted
/// unless it is a plain lower-case identifier, as [`quote_ident`] does. Parsed from that
/// spelling, honouring double quotes, so a name with a dot inside quotes is one part.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> QualifiedName {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// `schema.name` or `"S"."n"`; `None` unless exactly two parts (a bare name has no
    /// schema to assume here, and three parts are not a relation).
    pub fn parse(qualified: &str) -> Option<QualifiedName> {
        match <[String; 2]>::try_from(split_qualified(qualified)) {
            Ok([schema, name]) => Some(QualifiedName { schema, name }),
            Err(_) => None,
        }
    }

    /// `[schema.]name` with `default_schema` for a bare name, as an unqualified table
    /// name typed by a user means `public`.
    pub fn parse_or_in(qualified: &str, default_schema: &str) -> Option<QualifiedName> {
        match split_qualified(qualified).as_slice() {
            [name] => Some(QualifiedName::new(default_schema, name.clone())),
            [schema, name] => Some(QualifiedName::new(schema.clone(), name.clone())),
            _ => None,
        }
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&self.name)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_bare_and_others_are_quoted() {
        assert_eq!(quote_ident("dot_tools"), "dot_tools");
        assert_eq!(quote_ident("DotTools"), "\"DotTools\"");
        assert_eq!(quote_ident("a.b"), "\"a.b\"");
        assert_eq!(quote_ident("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident(""), "\"\"");
    }

    #[test]
    fn qualified_names_round_trip_through_their_quoted_spelling() {
        for (schema, name) in [("public", "t"), ("My Schema", "a.b"), ("s", "say \"hi\"")] {
            let q = QualifiedName::new(schema, name);
            assert_eq!(QualifiedName::parse(&q.to_string()), Some(q.clone()));
        }
        assert_eq!(
            QualifiedName::new("My Schema", "a.b").to_string(),
            "\"My Schema\".\"a.b\""
        );
        assert_eq!(QualifiedName::parse("t"), None);
        assert_eq!(QualifiedName::parse("a.b.c"), None);
        assert_eq!(
            QualifiedName::parse_or_in("t", "public"),
            Some(QualifiedName::new("public", "t"))
        );
    }

    #[test]
    fn split_qualified_honours_quotes() {
        assert_eq!(split_qualified("a.b"), vec!["a", "b"]);
        assert_eq!(split_qualified("\"a.x\".\"b\"\"c\""), vec!["a.x", "b\"c"]);
    }
}
