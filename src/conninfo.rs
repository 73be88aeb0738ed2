//! libpq's `key=value` connection-string syntax, shared by connection setup (which reads
//! every parameter) and secret removal (which rewrites a stored `conninfo` without its
//! password).

/// libpq conninfo: `key=value` pairs separated by spaces; values may be single-quoted with
/// `\'` and `\\` escapes.
pub fn parse(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "connection string is neither a postgres:// URL nor key=value pairs (missing `=` after {key:?})"
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.push(chars.next().ok_or("unterminated quoted value")?),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted value in connection string".into()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value));
    }
    Ok(out)
}
