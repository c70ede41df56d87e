//! `--shard K/N`: a deterministic split of bucket names, so a CI matrix can plan
//! one fleet in N parallel jobs. The hash (first 8 bytes of SHA-256 of the name,
//! big-endian) never changes between versions or platforms.

use sha2::{Digest, Sha256};

/// The 1-based shard of `bucket` among `count` shards (`count` 0 is treated as 1).
pub fn shard_of(bucket: &str, count: u32) -> u32 {
    let hash = Sha256::digest(bucket.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
}

/// Whether `bucket` belongs to shard `index` (1-based) of `count`.
pub fn in_shard(bucket: &str, index: u32, count: u32) -> bool {
    shard_of(bucket, count) == index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bucket_in_exactly_one_shard_and_balanced() {
        let names: Vec<String> = (0..10_000).map(|i| format!("bucket-{i}")).collect();
        for n in [1u32, 2, 3, 8, 16] {
            let mut sizes = vec![0usize; n as usize];
            for name in &names {
                let owners: Vec<u32> = (1..=n).filter(|k| in_shard(name, *k, n)).collect();
                assert_eq!(owners.len(), 1, "{name} in {owners:?} of {n}");
                sizes[owners[0] as usize - 1] += 1;
            }
            let expected = names.len() / n as usize;
            for size in sizes {
                assert!(
                    size.abs_diff(expected) * 10 < expected,
                    "{n} shards: {size} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn the_split_is_stable() {
        // Pinned values (computed independently with Python's hashlib): changing
        // them would move buckets between the shards of existing CI matrices.
        for (bucket, shard) in [("a", 3), ("app-assets", 1), ("logs-2026", 1)] {
            assert_eq!(shard_of(bucket, 4), shard, "{bucket}");
        }
        assert_eq!(shard_of("anything", 0), 1);
    }
}
