//! SQL text utilities built on PostgreSQL's own scanner (via `pg_query`), never regexes:
//! the whitespace/comment-insensitive token hash of routine bodies, and pulling a trigger's
//! WHEN condition out of `pg_get_triggerdef` output.

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

/// Hash of the body's token stream: comments and whitespace between tokens are ignored;
/// every literal, identifier, keyword and operator is kept byte for byte.
///
/// Only SQL and PL/pgSQL bodies are tokenized (both use the core SQL scanner). Other
/// languages, and bodies the scanner rejects, fall back to the exact hash, so a change in
/// them is never hidden.
pub fn token_hash(language: &str, body: &str) -> String {
    if !matches!(language, "sql" | "plpgsql") {
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

#[cfg(test)]
mod tests {
    use super::*;

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
