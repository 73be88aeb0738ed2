//! A nightly check split over N runners (`check --shard K/N`, or `--shards N` with
//! Kubernetes' `JOB_COMPLETION_INDEX` = K − 1): which shard a target falls in, what a shard
//! report carries so `check merge` can prove the runs belong together (run id, K/N, the
//! hash of the config's target list), and the run id's rules. Pure: strings in, values out.
//!
//! A target's shard depends on its name alone (BLAKE3 of the name's UTF-8 bytes, the first
//! 8 bytes read little-endian, mod N), so every runner of one config computes the same
//! partition without talking to the others, and adding a target moves no other target.

use super::config::{CheckConfig, Connection, TargetConfig};

/// Which part of the targets this runner checks: `index` from 1 to `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The stable hash a target's shard is taken from.
pub fn name_hash(name: &str) -> u64 {
    let digest = blake3::hash(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

impl Shard {
    /// `K/N` as given to `--shard` or `DRIFTGATE_SHARD`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = |why: &str| format!("bad shard {text:?}: {why} (expected K/N, K from 1 to N)");
        let (k, n) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let k = parse_number(k).ok_or_else(|| bad("K is not a whole number"))?;
        let n = parse_number(n).ok_or_else(|| bad("N is not a whole number"))?;
        Shard::new(k, n).map_err(|e| bad(&e))
    }

    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err("N must be at least 1".into());
        }
        if index == 0 || index > count {
            return Err(format!("K must be from 1 to {count}"));
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Kubernetes Indexed Job's pod: `JOB_COMPLETION_INDEX` counts from 0.
    pub fn from_completion_index(index: &str, count: u64) -> Result<Shard, String> {
        let i = parse_number(index)
            .ok_or_else(|| format!("JOB_COMPLETION_INDEX={index:?} is not a whole number"))?;
        if count == 0 {
            return Err("--shards must be at least 1".into());
        }
        if i >= count {
            return Err(format!(
                "JOB_COMPLETION_INDEX={i} is outside --shards {count} (indexes run from 0 to {})",
                count - 1
            ));
        }
        Ok(Shard {
            index: i + 1,
            count,
        })
    }

    pub fn holds(&self, name: &str) -> bool {
        name_hash(name) % self.count == self.index - 1
    }

    /// `shard-K-of-N`, for file and store names.
    pub fn slug(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// Digits only: `+3`, ` 3` and `3.0` are mistakes in a job spec, not numbers.
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Where this runner's shard comes from, after every source was checked against the
/// others: `--shard`/`DRIFTGATE_SHARD`, and `--shards` with `JOB_COMPLETION_INDEX`.
pub fn resolve(
    shard: Option<&str>,
    shards: Option<&str>,
    completion_index: Option<&str>,
) -> Result<Option<Shard>, String> {
    let explicit = shard.map(Shard::parse).transpose()?;
    let indexed = match (shards, completion_index) {
        (None, None) => None,
        (None, Some(_)) => {
            // An Indexed Job without --shards could be any N: refuse rather than guess.
            // (JOB_COMPLETION_INDEX set beside --shard is checked below.)
            if explicit.is_none() {
                return Err(
                    "JOB_COMPLETION_INDEX is set but --shards N is not: give the \
                            number of shards (the Job's completions)"
                        .into(),
                );
            }
            None
        }
        (Some(n), None) => {
            let _ =
                parse_number(n).ok_or_else(|| format!("bad --shards {n:?}: not a whole number"))?;
            return Err(format!(
                "--shards {n} needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job); \
                 elsewhere give --shard K/N"
            ));
        }
        (Some(n), Some(i)) => {
            let n =
                parse_number(n).ok_or_else(|| format!("bad --shards {n:?}: not a whole number"))?;
            Some(Shard::from_completion_index(i, n)?)
        }
    };
    match (explicit, indexed) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "--shard {a} disagrees with --shards and JOB_COMPLETION_INDEX (shard {b})"
        )),
        (Some(a), None) => {
            // A stray JOB_COMPLETION_INDEX beside --shard must say the same shard.
            if let Some(i) = completion_index {
                let b = Shard::from_completion_index(i, a.count)?;
                if a != b {
                    return Err(format!(
                        "--shard {a} disagrees with JOB_COMPLETION_INDEX={i} (shard {b})"
                    ));
                }
            }
            Ok(Some(a))
        }
        (a, b) => Ok(a.or(b)),
    }
}

/// A run id ties the shards of one night together: letters, digits, `.`, `_`, `-`, `:`
/// (a timestamp or a Job's name or uid), so it can name a store folder.
pub fn validate_run_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bad run id {id:?}: use 1 to 128 letters, digits, '.', '_', '-' or ':', not \
             starting with '.'"
        ))
    }
}

/// Where a shard's report lives in the store.
pub fn report_key(run_id: &str, shard: Shard) -> String {
    format!("reports/{run_id}/{}.json", shard.slug())
}

/// The hash of the config's target list: every target's name and where its DSN comes from
/// (`dsn_env` variable, service name, the environment; an inline DSN as the hash of its
/// text, so a password is never in the report, but a changed DSN still changes the hash).
/// Two shards that read different target lists would not cover one set of databases.
pub fn targets_hash(config: &CheckConfig) -> String {
    let mut lines: Vec<String> = config.targets.iter().map(identity_line).collect();
    lines.sort();
    let mut text = String::from("driftgate.targets/v1\n");
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

fn identity_line(t: &TargetConfig) -> String {
    // JSON strings, so no name can forge a separator.
    let q = |s: &str| serde_json::to_string(s).expect("strings serialize");
    let source = match &t.connection {
        Connection::Dsn(dsn) => format!("dsn-blake3:{}", blake3::hash(dsn.as_bytes()).to_hex()),
        Connection::DsnEnv(var) => format!("dsn_env:{var}"),
        Connection::Service(name) => format!("service:{name}"),
        Connection::Environment => "environment".into(),
    };
    format!("{} {} {}", q(&t.name), q(&source), q(&t.baseline))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shard function is pinned by BLAKE3's published digests, not only by the crate:
    /// BLAKE3("") = af1349b9f5f9a1a6…, BLAKE3("abc") = 6437b3ac38465133… (the reference
    /// implementation's README and test vectors), read little-endian. The target-name vectors
    /// below were computed once with this function and frozen: if they move, every fleet's
    /// partition moves, and shard reports of one night would no longer merge with the next
    /// version's.
    #[test]
    fn shard_hash_is_pinned_by_test_vectors() {
        assert_eq!(name_hash(""), 0xa6a1_f9f5_b949_13af);
        assert_eq!(name_hash("abc"), 0x3351_4638_acb3_3764);
        let frozen: &[(&str, u64)] = &[
            ("prod", FROZEN_PROD),
            ("t00", FROZEN_T00),
            ("eu-west.billing", FROZEN_EU),
        ];
        for (name, hash) in frozen {
            assert_eq!(name_hash(name), *hash, "{name}");
        }
        let s3 = |k| Shard::new(k, 3).unwrap();
        for (name, hash) in frozen {
            let k = hash % 3 + 1;
            assert!(s3(k).holds(name), "{name} in shard {k}/3");
        }
    }

    const FROZEN_PROD: u64 = 2_984_725_145_530_367_919;
    const FROZEN_T00: u64 = 15_752_523_370_679_658_214;
    const FROZEN_EU: u64 = 6_630_976_874_722_484_977;

    #[test]
    fn n_shards_cover_every_name_exactly_once() {
        for n in 1..=7u64 {
            for i in 0..200 {
                let name = format!("target-{i}");
                let holders = (1..=n)
                    .filter(|k| Shard::new(*k, n).unwrap().holds(&name))
                    .count();
                assert_eq!(holders, 1, "{name} with {n} shards");
            }
        }
    }

    #[test]
    fn bad_shards_are_refused() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in [
            "0/3", "4/3", "1/0", "0/0", "a/3", "1/b", "3", "", "1/3/5", "+1/3", " 1/3", "-1/3",
        ] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let r = |s, n, i| resolve(s, n, i);
        assert_eq!(r(None, None, None), Ok(None));
        assert_eq!(
            r(None, Some("3"), Some("0")),
            Ok(Some(Shard { index: 1, count: 3 }))
        );
        assert_eq!(
            r(Some("3/3"), Some("3"), Some("2")),
            Ok(Some(Shard { index: 3, count: 3 }))
        );
        assert_eq!(
            r(Some("3/3"), None, Some("2")),
            Ok(Some(Shard { index: 3, count: 3 }))
        );
        for (s, n, i, says) in [
            (None, None, Some("0"), "--shards N is not"),
            (None, Some("3"), None, "needs JOB_COMPLETION_INDEX"),
            (None, Some("3"), Some("3"), "outside --shards 3"),
            (None, Some("0"), Some("0"), "at least 1"),
            (None, Some("x"), Some("0"), "not a whole number"),
            (None, Some("3"), Some("-1"), "not a whole number"),
            (Some("1/3"), Some("3"), Some("1"), "disagrees"),
            (Some("1/3"), None, Some("1"), "disagrees"),
            (Some("1/3"), Some("4"), Some("0"), "disagrees"),
        ] {
            let e = r(s, n, i).unwrap_err();
            assert!(e.contains(says), "{s:?} {n:?} {i:?}: {e}");
        }
    }

    #[test]
    fn run_ids_can_name_a_store_folder() {
        for good in ["driftgate-nightly-29012345", "2026-06-03T02:00:00Z", "a"] {
            assert!(validate_run_id(good).is_ok(), "{good}");
        }
        for bad in ["", "..", "a/b", ".hidden", "a b", "ü", &"x".repeat(129)] {
            assert!(validate_run_id(bad).is_err(), "{bad}");
        }
        assert_eq!(
            report_key("r1", Shard { index: 2, count: 5 }),
            "reports/r1/shard-2-of-5.json"
        );
    }

    #[test]
    fn the_targets_hash_is_of_names_and_dsn_sources_never_a_secret() {
        let parse =
            |text: &str| CheckConfig::parse(text, std::path::Path::new("driftgate.toml")).unwrap();
        let a = "[[target]]\nname = \"a\"\ndsn_env = \"A_DSN\"\n";
        let b = "[[target]]\nname = \"b\"\ndsn = \"postgresql://u:hunter2@h/db\"\n";
        let ab = targets_hash(&parse(&format!("{a}\n{b}")));
        assert_eq!(ab.len(), 64);
        assert_eq!(ab, targets_hash(&parse(&format!("{b}\n{a}"))), "order-free");
        assert_ne!(ab, targets_hash(&parse(a)), "a target more or less");
        let other_env = a.replace("A_DSN", "B_DSN");
        assert_ne!(ab, targets_hash(&parse(&format!("{other_env}\n{b}"))));
        let other_dsn = b.replace("hunter2", "hunter3");
        assert_ne!(ab, targets_hash(&parse(&format!("{a}\n{other_dsn}"))));
        let line = identity_line(&parse(b).targets[0]);
        assert!(
            !line.contains("hunter2") && line.contains("dsn-blake3:"),
            "{line}"
        );
    }
}
