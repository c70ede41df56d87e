//! `--shard K/N`: which of N shards a bucket belongs to, from a stable hash of its
//! name, so a CI matrix can plan one fleet in N parallel jobs (pure).
//!
//! The hash is fixed forever, on every platform and in every version: the first 8
//! bytes of the SHA-256 of the bucket name's UTF-8 bytes, read as a big-endian
//! integer, modulo N, plus one. The same assignment in Python, for scripts that
//! want to predict it:
//! `int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % n + 1`.
//! Changing it would move buckets between shards under saved plans, so a test
//! pins known values.
//!
//! What is hashed is the bucket's name (`--shard-by bucket`, the default) or the
//! id of the account the bucket is in (`--shard-by account`), so that every bucket
//! of one account is in the same shard. A bucket with no account (no `account:`
//! in its entry, or not managed by any entry) is hashed by [`NO_ACCOUNT_KEY`], the
//! empty string, so all of them are in one shard together.
//!
//! Plans and reports record their shard ([`ShardRecord`]); [`check_parts`] is the
//! check every merger of shards (`show PLAN...`, `drift --merge`) makes first.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::endpoint::Endpoint;

/// The key of buckets with no account under `--shard-by account`: the empty
/// string, which no account id is.
pub const NO_ACCOUNT_KEY: &str = "";

/// What decides a bucket's shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardBy {
    /// The bucket's name.
    #[default]
    Bucket,
    /// The id of the account the bucket is in ([`NO_ACCOUNT_KEY`] for none).
    Account,
}

impl ShardBy {
    /// Whether this is the default (plan files leave it out then).
    pub fn is_bucket(&self) -> bool {
        *self == ShardBy::Bucket
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ShardBy::Bucket => "bucket",
            ShardBy::Account => "account",
        }
    }
}

impl FromStr for ShardBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bucket" => Ok(ShardBy::Bucket),
            "account" => Ok(ShardBy::Account),
            _ => Err(format!(
                "`{s}` is not a way to shard: use bucket or account"
            )),
        }
    }
}

/// Shard `index` (1-based) of `count`, split by `by`, as `--shard K/N
/// --shard-by B` names it; plan files and reports record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRecord {
    /// K, 1-based.
    pub index: u32,
    /// N.
    pub count: u32,
    /// `account` when sharded by account; left out (bucket) otherwise, so plan
    /// files written before `--shard-by` existed read and seal the same.
    #[serde(default, skip_serializing_if = "ShardBy::is_bucket")]
    pub by: ShardBy,
}

impl ShardRecord {
    /// Whether this shard holds `bucket`, which is in `account` (if known).
    pub fn holds(&self, bucket: &str, account: Option<&str>) -> bool {
        let key = match self.by {
            ShardBy::Bucket => bucket,
            ShardBy::Account => account.unwrap_or(NO_ACCOUNT_KEY),
        };
        in_shard(key, self.index, self.count)
    }
}

/// `2/4`, or `2/4 by account`.
impl fmt::Display for ShardRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)?;
        if self.by == ShardBy::Account {
            f.write_str(" by account")?;
        }
        Ok(())
    }
}

/// One shard's output (a plan file, a drift report) as the mergers see it.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// The file it was read from, for messages.
    pub name: &'a str,
    pub shard: Option<ShardRecord>,
    pub policy_digest: &'a str,
    pub endpoint: &'a Endpoint,
}

/// Whether `parts` are every shard of one run, each once: all sharded, with one
/// count and one `by`, made from the same policies against the same endpoint,
/// none repeated or missing. `what` names the outputs (`plan`, `drift report`).
/// The error names the files and the fix.
pub fn check_parts(parts: &[Part<'_>], what: &str) -> Result<(), String> {
    let Some(first) = parts.first() else {
        return Err(format!("no {what}s given"));
    };
    let shard_of = |p: &Part<'_>| {
        p.shard.ok_or_else(|| {
            format!(
                "{} was not made with --shard, so it is not one shard of a larger {what}; \
                 give only the {what}s of one sharded run",
                p.name
            )
        })
    };
    let head = shard_of(first)?;
    let count = head.count;
    let mut by_index: BTreeMap<u32, &str> = BTreeMap::new();
    for p in parts {
        let shard = shard_of(p)?;
        if shard.count != count {
            return Err(format!(
                "{} is shard {}/{}, but {} is one of {count} shards; give the {what}s of one \
                 run, every shard made with the same count",
                p.name, shard.index, shard.count, first.name
            ));
        }
        if shard.by != head.by {
            return Err(format!(
                "{} was sharded by {}, but {} by {}; shard every job with the same --shard-by",
                p.name,
                shard.by.as_str(),
                first.name,
                head.by.as_str()
            ));
        }
        if let Some(other) = by_index.insert(shard.index, p.name) {
            return Err(format!(
                "shard {}/{count} is given twice: {other} and {}; give each shard's {what} once",
                shard.index, p.name
            ));
        }
        if p.policy_digest != first.policy_digest {
            return Err(format!(
                "{} was made from other policies than {} (policy digests differ); \
                 make every shard from the same commit",
                p.name, first.name
            ));
        }
        if p.endpoint != first.endpoint {
            return Err(format!(
                "{} was made against {}, but {} against {}; make every shard against one endpoint",
                p.name,
                p.endpoint.without_userinfo(),
                first.name,
                first.endpoint.without_userinfo()
            ));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        let (noun, verb) = if missing.len() == 1 {
            ("shard", "is")
        } else {
            ("shards", "are")
        };
        let given: Vec<String> = by_index
            .iter()
            .map(|(index, name)| format!("{name} is {index}/{count}"))
            .collect();
        return Err(format!(
            "{noun} {} {verb} missing ({}): give the {what} of every shard",
            missing.join(", "),
            given.join(", ")
        ));
    }
    Ok(())
}

/// The 1-based shard (1..=`count`) that `bucket` belongs to. A `count` of 0 is
/// treated as 1 (one shard holding everything).
pub fn shard_of(bucket: &str, count: u32) -> u32 {
    let count = u64::from(count.max(1));
    let digest = Sha256::digest(bucket.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let index = u64::from_be_bytes(first) % count;
    // `index < count <= u32::MAX`, so the conversion cannot fail.
    u32::try_from(index).map_or(1, |i| i + 1)
}

/// Whether `bucket` is in shard `index` of `count` (1-based, as `--shard K/N`).
/// An index outside `1..=count` holds no bucket.
pub fn in_shard(bucket: &str, index: u32, count: u32) -> bool {
    (1..=count.max(1)).contains(&index) && shard_of(bucket, count) == index
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn assignment_never_changes() {
        // Computed once with the Python one-liner in the module docs; if this
        // test fails, the hash changed and saved sharded plans would move.
        let cases = [
            ("app-assets", 4, 1),
            ("static-docs", 4, 2),
            ("partner-feed", 3, 3),
            ("a", 2, 1),
            ("bench-00001", 10, 9),
            ("", 7, 2),
            ("anything", 1, 1),
            ("anything", 0, 1),
        ];
        for (name, count, want) in cases {
            assert_eq!(shard_of(name, count), want, "{name:?} of {count}");
            assert!(in_shard(name, want, count), "{name:?} in {want}/{count}");
        }
    }

    #[test]
    fn by_account_every_bucket_of_an_account_shares_a_shard() {
        let count = 5;
        let accounts = ["123456789012", "210987654321", "555555555555"];
        for account in accounts {
            let holders = |bucket: &str| -> Vec<u32> {
                (1..=count)
                    .filter(|&index| {
                        ShardRecord {
                            index,
                            count,
                            by: ShardBy::Account,
                        }
                        .holds(bucket, Some(account))
                    })
                    .collect()
            };
            let want = vec![shard_of(account, count)];
            for bucket in ["a", "b", "app-assets", "static-docs"] {
                assert_eq!(holders(bucket), want, "{bucket} in {account}");
            }
        }
        // No account: the one fixed key, whatever the bucket's name.
        for bucket in ["a", "b", "app-assets"] {
            let rec = |index| ShardRecord {
                index,
                count,
                by: ShardBy::Account,
            };
            let holders: Vec<u32> = (1..=count)
                .filter(|&i| rec(i).holds(bucket, None))
                .collect();
            assert_eq!(holders, vec![shard_of(NO_ACCOUNT_KEY, count)], "{bucket}");
        }
        // By bucket, the account plays no part.
        let by_bucket = |index| ShardRecord {
            index,
            count,
            by: ShardBy::Bucket,
        };
        for bucket in ["a", "app-assets"] {
            let index = shard_of(bucket, count);
            assert!(by_bucket(index).holds(bucket, Some("123456789012")));
            assert!(by_bucket(index).holds(bucket, None));
        }
    }

    #[test]
    fn records_keep_old_plan_files_readable_and_name_the_split() {
        let by_bucket = ShardRecord {
            index: 2,
            count: 3,
            by: ShardBy::Bucket,
        };
        let by_account = ShardRecord {
            by: ShardBy::Account,
            ..by_bucket
        };
        // By bucket is written as plan files wrote it before --shard-by existed.
        assert_eq!(
            serde_json::to_string(&by_bucket).expect("json"),
            r#"{"index":2,"count":3}"#
        );
        assert_eq!(
            serde_json::to_string(&by_account).expect("json"),
            r#"{"index":2,"count":3,"by":"account"}"#
        );
        for r in [by_bucket, by_account] {
            let text = serde_json::to_string(&r).expect("json");
            assert_eq!(serde_json::from_str::<ShardRecord>(&text).ok(), Some(r));
        }
        assert_eq!(by_bucket.to_string(), "2/3");
        assert_eq!(by_account.to_string(), "2/3 by account");
        assert_eq!("account".parse(), Ok(ShardBy::Account));
        assert_eq!("bucket".parse(), Ok(ShardBy::Bucket));
        assert_eq!(" Account\n".parse(), Ok(ShardBy::Account));
        assert!("owner".parse::<ShardBy>().is_err());
    }

    #[test]
    fn out_of_range_indexes_hold_nothing() {
        for name in ["a", "b", "app-assets"] {
            assert!(!in_shard(name, 0, 3), "{name}");
            assert!(!in_shard(name, 4, 3), "{name}");
        }
    }

    #[test]
    fn ten_thousand_names_spread_evenly() {
        let names: Vec<String> = (0..10_000)
            .map(|i| format!("fleet-bucket-{i:05}"))
            .collect();
        for count in [2u32, 3, 4, 8, 10, 16, 32] {
            let mut sizes = vec![0usize; count as usize];
            for name in &names {
                sizes[(shard_of(name, count) - 1) as usize] += 1;
            }
            let expected = names.len() / count as usize;
            // A shard's size spreads by about sqrt(expected) (binomial); allow 5
            // sigmas: 10% at 2 shards, 28% at 32 (the hash is fixed, so this
            // either always holds or never does).
            let slack = (5.0 * (expected as f64).sqrt()) as usize;
            for (i, size) in sizes.iter().enumerate() {
                assert!(
                    size.abs_diff(expected) <= slack,
                    "shard {}/{count} holds {size}, expected about {expected}: {sizes:?}",
                    i + 1
                );
            }
        }
    }

    proptest! {
        #[test]
        fn every_bucket_is_in_exactly_one_shard(
            names in proptest::collection::btree_set("[a-z0-9][a-z0-9.-]{2,62}", 0..100),
            count in 1u32..40,
        ) {
            let mut per_shard = vec![0usize; count as usize];
            for name in &names {
                let holders: Vec<u32> =
                    (1..=count).filter(|&k| in_shard(name, k, count)).collect();
                prop_assert_eq!(&holders, &vec![shard_of(name, count)]);
                per_shard[(holders[0] - 1) as usize] += 1;
            }
            prop_assert_eq!(per_shard.iter().sum::<usize>(), names.len());
        }
    }
}
