//! The libpq password file (`PGPASSFILE`, else `~/.pgpass`), read the way libpq reads it:
//! `host:port:database:user:password` lines, `*` matching anything, `\:` and `\\` escapes,
//! `localhost` standing for a socket connection, the first matching line winning. A file
//! that group or others may read is ignored with a warning naming it, as libpq does.
//! Only connection setup calls this, and only when no password was given.

use std::path::{Path, PathBuf};

/// The password for (host, port, database, user) in the password file (`passfile`, else
/// `PGPASSFILE`, else `~/.pgpass`), if it has one. A socket connection's host is
/// `localhost`.
pub fn lookup(
    passfile: Option<&Path>,
    host: &str,
    port: u16,
    db: &str,
    user: &str,
) -> Option<String> {
    let file = passfile
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("PGPASSFILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let meta = std::fs::metadata(&file).ok()?;
    if !meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "password file {} has group or world access; permissions should be u=rw (0600) or less; ignoring it",
                file.display()
            );
            return None;
        }
    }
    // A password file is small; one far beyond any real one is not read.
    if meta.len() > 1 << 20 {
        tracing::warn!(
            "password file {} is over 1 MiB; ignoring it",
            file.display()
        );
        return None;
    }
    // Bounded again at the read: the file may have grown since its size was looked at.
    let text = match crate::bounded::read_text_limited(&file, 1 << 20, "password file") {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("{e}; ignoring it");
            return None;
        }
    };
    let port = port.to_string();
    find(&text, [host, port.as_str(), db, user])
}

/// The password of the first line whose four fields match `want` (host, port, db, user).
fn find(text: &str, want: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split(line);
        if fields.len() < 5 {
            continue;
        }
        if fields[..4]
            .iter()
            .zip(want)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// Fields split at unescaped `:`, with `\x` read as `x`.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("never empty").push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    other:5432:*:*:nope\n\
                    db\\:1:*:app:ro:pa\\:ss\\\\w\n\
                    *:*:*:ro:fallback\n";
        assert_eq!(
            find(text, ["db:1", "5432", "app", "ro"]).as_deref(),
            Some("pa:ss\\w")
        );
        assert_eq!(
            find(text, ["db:1", "5432", "other", "ro"]).as_deref(),
            Some("fallback")
        );
        assert_eq!(find(text, ["db:1", "5432", "other", "admin"]), None);
    }
}
