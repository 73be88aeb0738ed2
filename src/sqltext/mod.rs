//! SQL text utilities built on PostgreSQL's own scanner and parser (via `pg_query`), never
//! regexes: the whitespace/comment-insensitive token hash of routine bodies, pulling a
//! trigger's WHEN condition out of `pg_get_triggerdef` output, and printing a view
//! definition from PostgreSQL 13–15 the way 16 and later print it.

use pg_query::protobuf::Token;

/// BLAKE3 (hex) of raw bytes.
pub fn exact_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// One token's text, as scanned.
fn tokens(sql: &str) -> Option<Vec<(Token, &str)>> {
    let scanned = pg_query::scan(sql).ok()?;
    let mut out = Vec::with_capacity(scanned.tokens.len());
    for t in scanned.tokens {
        let text = sql.get(t.start as usize..t.end as usize)?;
        let kind = Token::try_from(t.token).unwrap_or(Token::Nul);
        out.push((kind, text));
    }
    Some(out)
}

/// The largest body tokenized for [`token_hash`]. The scanner returns every token at once
/// (about 50 bytes of memory per byte of body, twice: as protobuf and decoded), so a 100 MB
/// body took `snapshot` past 2.5 GB; a larger body gets the exact hash instead.
pub const MAX_TOKENIZED_BODY_BYTES: usize = 4 << 20;

/// Hash of the body's token stream: comments and whitespace between tokens are ignored;
/// every literal, identifier, keyword and operator is kept byte for byte.
///
/// Only SQL and PL/pgSQL bodies are tokenized (both use the core SQL scanner). Other
/// languages, bodies the scanner rejects and bodies over [`MAX_TOKENIZED_BODY_BYTES`] fall
/// back to the exact hash, so a change in them is never hidden (at worst a change of
/// whitespace or comments alone in them is reported as a change).
pub fn token_hash(language: &str, body: &str) -> String {
    if !matches!(language, "sql" | "plpgsql") || body.len() > MAX_TOKENIZED_BODY_BYTES {
        return exact_hash(body);
    }
    let Some(tokens) = tokens(body) else {
        return exact_hash(body);
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"driftgate.tokens/v1\n");
    for (kind, text) in tokens {
        if matches!(kind, Token::SqlComment | Token::CComment) {
            continue;
        }
        hasher.update(text.as_bytes());
        // A separator no token contains, so `ab c` and `a bc` never hash alike.
        hasher.update(b"\x1f");
    }
    hasher.finalize().to_hex().to_string()
}

/// The condition of a trigger's WHEN clause, from its `pg_get_triggerdef` text, without the
/// outer `WHEN ( … )`. Strings and quoted names inside the condition cannot confuse it: the
/// parentheses are matched on scanner tokens.
pub fn trigger_when_clause(triggerdef: &str) -> Option<String> {
    // pg_get_triggerdef prints the keyword in upper case; without it there is nothing to find,
    // and most triggers have no WHEN, so skip the scanner for them.
    if !triggerdef.contains("WHEN") {
        return None;
    }
    let tokens = pg_query::scan(triggerdef).ok()?.tokens;
    let when_at = tokens
        .iter()
        .position(|t| Token::try_from(t.token).ok() == Some(Token::When))?;
    let open = tokens.get(when_at + 1)?;
    if triggerdef.get(open.start as usize..open.end as usize)? != "(" {
        return None;
    }
    let mut depth = 0usize;
    for t in &tokens[when_at + 1..] {
        match triggerdef.get(t.start as usize..t.end as usize)? {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    let inner = triggerdef.get(open.end as usize..t.start as usize)?;
                    return Some(inner.trim().to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// A view definition as `pg_get_viewdef` prints it on PostgreSQL 16 and later, given the
/// text a 13–15 server printed for the same stored query.
///
/// Up to 15, a view's query carried two hidden range-table entries (OLD and NEW), so the
/// deparser qualified every column of the top-level query (`SELECT dot_tools.status FROM
/// dot_tools`); 16 dropped them, and a top-level query reading one FROM item prints its
/// columns bare (`SELECT status FROM dot_tools`). Nested queries (sub-selects, CTEs, set
/// operations) print the same on every version. The stored query tree is the same, so this
/// rewrites only how it reads: the column references of a top-level `SELECT … FROM <one
/// item>` that name that item lose the qualifier, exactly where 16 leaves it off. Anything
/// else, and any text the parser does not accept, is returned unchanged (a leftover
/// difference between versions shows as drift; it never hides one).
pub fn view_definition_as_pg16(def: &str) -> String {
    unqualified_top_level_columns(def).unwrap_or_else(|| def.to_string())
}

fn unqualified_top_level_columns(def: &str) -> Option<String> {
    use pg_query::NodeEnum;
    let parsed = pg_query::parse(def).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let Some(NodeEnum::SelectStmt(select)) = raw.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    if select.op != pg_query::protobuf::SetOperation::SetopNone as i32 {
        return None;
    }
    let [from] = select.from_clause.as_slice() else {
        return None;
    };
    let refname = match from.node.as_ref()? {
        NodeEnum::RangeVar(r) => r
            .alias
            .as_ref()
            .map(|a| a.aliasname.clone())
            .unwrap_or_else(|| r.relname.clone()),
        NodeEnum::RangeSubselect(r) => r.alias.as_ref()?.aliasname.clone(),
        NodeEnum::RangeFunction(r) => r.alias.as_ref()?.aliasname.clone(),
        _ => return None,
    };
    // Walk the top-level clauses (not FROM, not WITH: their queries print alike) as JSON,
    // not descending into sub-selects, collecting `refname.column` references.
    let mut top = select.clone();
    top.from_clause.clear();
    top.with_clause = None;
    let tree = serde_json::to_value(&*top).ok()?;
    let mut starts = Vec::new();
    collect_qualified_refs(&tree, &refname, &mut starts);
    starts.sort_unstable();
    starts.dedup();

    let mut out = String::with_capacity(def.len());
    let mut copied = 0;
    for start in starts {
        let rest = def.get(start..)?;
        let qualifier_len = printed_identifier_len(rest)?;
        if rest.as_bytes().get(qualifier_len) != Some(&b'.') {
            return None;
        }
        out.push_str(def.get(copied..start)?);
        copied = start + qualifier_len + 1;
    }
    out.push_str(def.get(copied..)?);
    Some(out)
}

/// Byte offsets of every column reference `refname.column` in `node`, outside sub-selects.
fn collect_qualified_refs(node: &serde_json::Value, refname: &str, out: &mut Vec<usize>) {
    match node {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match key.as_str() {
                    // The query of a sub-select (`EXISTS (…)`, `x IN (…)`, scalar sub-query).
                    "subselect" => {}
                    "ColumnRef" => {
                        let fields = value["fields"].as_array();
                        let names: Vec<Option<&str>> = fields
                            .into_iter()
                            .flatten()
                            .map(|f| f["node"]["String"]["sval"].as_str())
                            .collect();
                        if let [Some(qualifier), Some(_column)] = names.as_slice() {
                            if *qualifier == refname {
                                if let Some(at) = value["location"].as_i64() {
                                    out.push(at as usize);
                                }
                            }
                        }
                    }
                    _ => collect_qualified_refs(value, refname, out),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_qualified_refs(item, refname, out);
            }
        }
        _ => {}
    }
}

/// Length in bytes of the identifier `text` starts with, as the deparser prints it: a quoted
/// identifier (with `""` inside) or a bare one.
fn printed_identifier_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'"') {
        let mut i = 1;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                return Some(i + 1);
            }
            i += 1;
        }
        None
    } else {
        let n = text
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        (n > 0).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `-- name` headed sections of a file of view definitions.
    fn sections(text: &str) -> Vec<(String, String)> {
        text.split("-- ")
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (name, def) = s.split_once('\n').unwrap();
                (name.to_string(), def.to_string())
            })
            .collect()
    }

    #[test]
    fn view_definitions_from_15_read_as_16_prints_them() {
        // pg_get_viewdef of the same views on PostgreSQL 15 and 16 (13 and 14 print as 15,
        // 17 and 18 as 16): single-relation views, aliases, quoted names, sub-selects,
        // joins, set operations, CTEs, LATERAL, a schema named like its table.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/viewdefs");
        let old = sections(&std::fs::read_to_string(format!("{dir}/pg15.txt")).unwrap());
        let new = sections(&std::fs::read_to_string(format!("{dir}/pg16.txt")).unwrap());
        assert_eq!(old.len(), new.len());
        assert!(old.len() > 20);
        for ((name, a), (name16, b)) in old.iter().zip(&new) {
            assert_eq!(name, name16);
            assert_eq!(&view_definition_as_pg16(a), b, "view {name}");
        }
    }

    #[test]
    fn unparsable_or_multi_relation_definitions_are_left_alone() {
        for def in [
            "not sql at all (",
            " SELECT t.a, u.d FROM (t JOIN u ON ((u.a = t.a)));",
            " SELECT t.a FROM t UNION SELECT u.a FROM u;",
            "",
        ] {
            assert_eq!(view_definition_as_pg16(def), def);
        }
    }

    #[test]
    fn token_hash_ignores_whitespace_and_comments() {
        let a = "BEGIN\n  NEW.code := 'X';\n  RETURN NEW;\nEND";
        let b = "BEGIN NEW.code := 'X'; -- set the code\n /* done */ RETURN NEW; END";
        assert_eq!(token_hash("plpgsql", a), token_hash("plpgsql", b));
        assert_ne!(exact_hash(a), exact_hash(b));
    }

    #[test]
    fn token_hash_sees_a_changed_literal_or_identifier() {
        let a = "BEGIN NEW.code := 'X'; RETURN NEW; END";
        let lit = "BEGIN NEW.code := 'Y'; RETURN NEW; END";
        let spaced_lit = "BEGIN NEW.code := 'X '; RETURN NEW; END";
        let ident = "BEGIN NEW.kode := 'X'; RETURN NEW; END";
        let h = token_hash("plpgsql", a);
        assert_ne!(h, token_hash("plpgsql", lit));
        assert_ne!(h, token_hash("plpgsql", spaced_lit));
        assert_ne!(h, token_hash("plpgsql", ident));
    }

    #[test]
    fn bodies_over_the_budget_use_the_exact_hash() {
        let at = "x".repeat(MAX_TOKENIZED_BODY_BYTES);
        assert_ne!(token_hash("plpgsql", &at), exact_hash(&at));
        let over = format!("{at} ");
        assert_eq!(token_hash("plpgsql", &over), exact_hash(&over));
    }

    #[test]
    fn other_languages_use_the_exact_hash() {
        assert_eq!(token_hash("c", "x  y"), exact_hash("x  y"));
        assert_ne!(token_hash("c", "x  y"), token_hash("c", "x y"));
    }

    #[test]
    fn when_clause_is_extracted_with_nested_parens_and_strings() {
        let def = "CREATE TRIGGER t AFTER INSERT ON public.d FOR EACH ROW WHEN (((new.status = 'a)'::text) AND (new.tier = ANY (ARRAY['A'::text])))) EXECUTE FUNCTION public.f('x)')";
        assert_eq!(
            trigger_when_clause(def).as_deref(),
            Some("((new.status = 'a)'::text) AND (new.tier = ANY (ARRAY['A'::text])))")
        );
        let none = "CREATE TRIGGER t AFTER INSERT ON public.d FOR EACH ROW EXECUTE FUNCTION public.f('WHEN (')";
        assert_eq!(trigger_when_clause(none), None);
    }
}
