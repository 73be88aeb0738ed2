//! What differs between the supported PostgreSQL versions, in one place.
//!
//! The same SQL must give the same snapshot on every supported version where the catalog is
//! the same. Two things PostgreSQL prints differently for the same catalog are normalised
//! here, each in a way that maps distinct catalogs of one version to distinct snapshots (so
//! it can never hide a change):
//! - view definitions of 13–15 are printed the way 16+ print them ([`ServerCaps::view_definition`]);
//! - an owner's own full privileges on a relation gain the MAINTAIN letter `m` on 13–16
//!   ([`ServerCaps::relation_acl`]).
//!
//! Left as they are, because they are real differences: the `public` schema's owner and ACL
//! (PostgreSQL 15 made it owned by `pg_database_owner` without CREATE for PUBLIC), and
//! MAINTAIN granted to anyone but the owner (only 17+ has it). The planner estimate of a
//! never-analysed table is `0` on 13 and `-1` (unknown) on 14+; 13 cannot tell it from an
//! analysed empty table, and counts are not part of the catalog fingerprint.

use super::CatalogError;

#[derive(Clone, Debug)]
pub struct ServerCaps {
    pub version_num: u32,
    pub version: String,
    /// `standard_conforming_strings` is on: how string literals print (backslashes).
    pub standard_strings: bool,
    /// The server encoding is UTF-8: raw bytes from the catalog (`tgargs`) are text as is.
    pub utf8: bool,
    /// `pg_is_in_recovery()`: the server is a standby.
    pub in_recovery: bool,
}

impl ServerCaps {
    pub fn new(version_num: u32, version: String) -> Result<ServerCaps, CatalogError> {
        if !(130000..190000).contains(&version_num) {
            return Err(CatalogError::UnsupportedVersion { version });
        }
        Ok(ServerCaps {
            version_num,
            version,
            standard_strings: true,
            utf8: true,
            in_recovery: false,
        })
    }

    /// A view or materialized view definition as 16+ print it (see [`crate::sqltext::view_definition_as_pg16`]).
    pub fn view_definition(&self, def: String) -> String {
        if self.version_num < 160000 {
            crate::sqltext::view_definition_as_pg16(&def)
        } else {
            def
        }
    }

    /// A relation's ACL as 17+ print it. 17 added the MAINTAIN privilege (`m`) and gives it
    /// to every owner, so an owner's own entry reads `arwdDxtm` on 17+ and `arwdDxt` before.
    /// On 13–16 an owner holding every privilege (`owner=arwdDxt/owner`) also holds what
    /// MAINTAIN grants (an owner may always VACUUM, ANALYZE, REINDEX, CLUSTER and LOCK its
    /// relation), so that one entry gains the `m`. No 13–16 entry carries an `m`, so this
    /// keeps distinct ACLs distinct. Grants to anyone else are left alone: on 17+ `GRANT ALL`
    /// to another role really grants MAINTAIN, which 13–16 cannot.
    pub fn relation_acl(&self, owner: &str, acl: Option<Vec<String>>) -> Option<Vec<String>> {
        if self.version_num >= 170000 {
            return acl;
        }
        acl.map(|items| {
            items
                .into_iter()
                .map(|item| match split_aclitem(&item) {
                    Some((grantee, "arwdDxt", grantor, printed_grantor))
                        if grantee == owner && grantor == owner =>
                    {
                        let grantee_end = item.len() - printed_grantor.len() - "arwdDxt/".len();
                        format!("{}arwdDxtm/{printed_grantor}", &item[..grantee_end])
                    }
                    _ => item,
                })
                .collect()
        })
    }

    /// The body as the user wrote it: PostgreSQL 14 added SQL-standard bodies
    /// (`BEGIN ATOMIC … END`), kept in `prosqlbody` with an empty `prosrc`.
    pub fn routine_source_sql(&self) -> &'static str {
        if self.version_num >= 140000 {
            "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
        } else {
            "p.prosrc"
        }
    }
}

/// `grantee=privileges/grantor` (an `aclitem` as text): the grantee's name (empty for
/// PUBLIC), the privilege letters, the grantor's name, and the grantor as printed. Names
/// are unquoted (`"a ""b"""` is `a "b"`).
fn split_aclitem(item: &str) -> Option<(String, &str, String, &str)> {
    fn name(text: &str) -> Option<(String, &str)> {
        let Some(quoted) = text.strip_prefix('"') else {
            let end = text.find(['=', '/']).unwrap_or(text.len());
            return Some((text[..end].to_string(), &text[end..]));
        };
        let mut out = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '"' {
                out.push(c);
            } else if quoted[i + 1..].starts_with('"') {
                out.push('"');
                chars.next();
            } else {
                return Some((out, &quoted[i + 1..]));
            }
        }
        None
    }
    let (grantee, rest) = name(item)?;
    let rest = rest.strip_prefix('=')?;
    let (privileges, printed_grantor) = rest.split_once('/')?;
    let (grantor, tail) = name(printed_grantor)?;
    tail.is_empty()
        .then_some((grantee, privileges, grantor, printed_grantor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(version_num: u32) -> ServerCaps {
        ServerCaps::new(version_num, "x".into()).unwrap()
    }

    fn acl(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn an_owners_full_relation_grant_reads_as_on_17() {
        let on16 = caps(160004).relation_acl(
            "postgres",
            acl(&[
                "postgres=arwdDxt/postgres",
                "=r/postgres",
                "ops=arwdDxt/postgres",
            ]),
        );
        assert_eq!(
            on16,
            acl(&[
                "postgres=arwdDxtm/postgres",
                "=r/postgres",
                "ops=arwdDxt/postgres"
            ]),
            "only the owner's own full entry gains MAINTAIN"
        );
        let quoted = caps(130000).relation_acl(
            "odd \"owner\"",
            acl(&["\"odd \"\"owner\"\"\"=arwdDxt/\"odd \"\"owner\"\"\""]),
        );
        assert_eq!(
            quoted,
            acl(&["\"odd \"\"owner\"\"\"=arwdDxtm/\"odd \"\"owner\"\"\""])
        );
        // A partial owner entry, a grant option, and 17+ are left alone.
        for (v, item) in [
            (150000, "postgres=arwdxt/postgres"),
            (150000, "postgres=a*r*w*d*D*x*t*/postgres"),
            (170000, "postgres=arwdDxt/postgres"),
            (180000, "postgres=arwdDxtm/postgres"),
        ] {
            assert_eq!(caps(v).relation_acl("postgres", acl(&[item])), acl(&[item]));
        }
        assert_eq!(caps(150000).relation_acl("postgres", None), None);
    }

    #[test]
    fn aclitems_split_with_quoted_names() {
        assert_eq!(
            split_aclitem("=r/postgres"),
            Some((String::new(), "r", "postgres".into(), "postgres"))
        );
        assert_eq!(
            split_aclitem("\"a=b/c\"=rw/\"x\"\"y\""),
            Some(("a=b/c".into(), "rw", "x\"y".into(), "\"x\"\"y\""))
        );
        assert_eq!(split_aclitem("garbage"), None);
        assert_eq!(split_aclitem("\"open=r/x"), None);
    }
}
