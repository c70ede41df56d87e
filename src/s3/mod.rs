//! The S3 access layer: the only module that talks to S3, behind the small [`S3Api`] trait.
//!
//! Everything here returns plain data ([`crate::model`] types, [`BucketInfo`], tag maps)
//! or a typed [`S3Error`]; the app layer fetches live state through [`S3Api`] and hands
//! it to the pure core. [`AwsS3`] is the one implementation: the AWS SDK for Rust with
//! the standard configuration chain, timeouts per attempt and per call, throttled
//! retries paced by one rate limiter per region (`pace`), one client per region, and a per-run cache of bucket regions fed by ListBuckets,
//! HeadBucket and S3's "wrong region" answers (each of which is retried in the region
//! S3 names).
//!
//! **Invariant:** nothing outside this module depends on `aws-sdk-s3` or `aws-config`.

mod answer;
mod aws;
mod convert;
mod error;
mod fleet;
mod pace;
pub mod requests;

use std::collections::BTreeMap;
use std::future::Future;

use crate::model::{Access, CorsConfig};

pub use aws::{
    AwsS3, CALL_BUDGET_TIMEOUTS, ConnectOptions, DEFAULT_REGION, DEFAULT_TIMEOUT,
    FLEET_MAX_ATTEMPTS, OTHER_MAX_ATTEMPTS,
};
pub use error::{S3Error, S3ErrorKind};
pub use fleet::Fleet;
pub use pace::jitter;

/// A bucket to read or write, with what the policy declares about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketTarget {
    pub name: String,
    /// The bucket's region when known (declared or discovered); else the default region.
    pub region: Option<String>,
    /// The expected bucket owner (account id), sent on every call when set.
    pub expected_owner: Option<String>,
    /// Whose credentials reach it (the caller's own by default).
    pub access: Access,
}

impl BucketTarget {
    /// A bucket in the default region with no expected owner.
    pub fn new(name: impl Into<String>) -> Self {
        BucketTarget {
            name: name.into(),
            region: None,
            expected_owner: None,
            access: Access::default(),
        }
    }
}

/// A bucket as ListBuckets reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketInfo {
    pub name: String,
    /// `BucketRegion` from ListBuckets, when the server sends it.
    pub region: Option<String>,
}

/// The S3 operations s3cors needs: list, get, put, delete, tags, region.
pub trait S3Api: Send + Sync {
    /// Every bucket (all pages), optionally only those whose name starts with `prefix`.
    fn list_buckets(
        &self,
        prefix: Option<&str>,
    ) -> impl Future<Output = Result<Vec<BucketInfo>, S3Error>> + Send;

    /// The bucket's CORS configuration; `None` when it has none (404
    /// `NoSuchCORSConfiguration`, or an answer without rules).
    fn get_cors(
        &self,
        bucket: &BucketTarget,
    ) -> impl Future<Output = Result<Option<CorsConfig>, S3Error>> + Send;

    /// Replace the bucket's CORS configuration.
    fn put_cors(
        &self,
        bucket: &BucketTarget,
        cfg: &CorsConfig,
    ) -> impl Future<Output = Result<(), S3Error>> + Send;

    /// Remove the bucket's CORS configuration; succeeds when there is none.
    fn delete_cors(
        &self,
        bucket: &BucketTarget,
    ) -> impl Future<Output = Result<(), S3Error>> + Send;

    /// The bucket's tags; empty when it has none (`NoSuchTagSet`).
    fn get_tags(
        &self,
        bucket: &BucketTarget,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, S3Error>> + Send;

    /// The bucket's region: what S3 already said in this run (no call), else
    /// HeadBucket, or the `x-amz-bucket-region` header of its 301/403 answer.
    fn bucket_region(
        &self,
        name: &str,
        expected_owner: Option<&str>,
    ) -> impl Future<Output = Result<String, S3Error>> + Send;

    /// The region S3 has named for `bucket` so far in this run (ListBuckets'
    /// `BucketRegion`, HeadBucket, a wrong-region answer), without a call. Calls for
    /// the bucket already go there; callers use it to record regions in plan files.
    fn known_region(&self, bucket: &str) -> Option<String> {
        let _ = bucket;
        None
    }
}
