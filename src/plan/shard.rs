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

use sha2::{Digest, Sha256};

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
