//! Many accounts in one run: one [`AwsS3`] per way in ([`Access`]: the caller's
//! own credentials, an assumed role, a profile), each with its own client per
//! region, behind the one [`S3Api`] every command uses. A bucket call goes to the
//! member its target's `access` names; an access whose credentials could not be
//! had is recorded once, and calls for it fail at once without a request.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, stream};

use super::{AwsS3, BucketInfo, BucketTarget, ConnectOptions, S3Api, S3Error};
use crate::model::{Access, CorsConfig};

/// The clients of every account a run covers.
#[derive(Debug)]
pub struct Fleet {
    default: AwsS3,
    members: HashMap<Access, AwsS3>,
    /// The account each member's credentials act in (GetCallerIdentity).
    identities: HashMap<Access, String>,
    /// Accesses whose credentials could not be had, with why.
    failed: BTreeMap<Access, String>,
}

impl Fleet {
    /// One identity: the caller's own.
    pub fn single(default: AwsS3) -> Fleet {
        Fleet {
            default,
            members: HashMap::new(),
            identities: HashMap::new(),
            failed: BTreeMap::new(),
        }
    }

    /// Connects `default` and one member per other access (at most `parallelism`
    /// at a time), asking STS which account each member's credentials act in, so
    /// that a role that cannot be assumed is known before any bucket is touched.
    pub async fn connect(
        default: AwsS3,
        opts: &ConnectOptions,
        accesses: impl IntoIterator<Item = Access>,
        parallelism: usize,
    ) -> Fleet {
        let mut wanted: Vec<Access> = accesses.into_iter().filter(|a| !a.is_default()).collect();
        wanted.sort();
        wanted.dedup();
        // Each access with its client and the account it acts in, or why not.
        type Connected = (Access, Result<(AwsS3, String), String>);
        let connected: Vec<Connected> = stream::iter(wanted)
            .map(|access| async move {
                let opts = ConnectOptions {
                    access: access.clone(),
                    ..opts.clone()
                };
                let s3 = AwsS3::connect(&opts).await;
                let checked = s3.caller_account().await.map(|account| (s3, account));
                (access, checked)
            })
            .buffer_unordered(parallelism.max(1))
            .collect()
            .await;
        let mut fleet = Fleet::single(default);
        for (access, result) in connected {
            match result {
                Ok((s3, account)) => {
                    fleet.identities.insert(access.clone(), account);
                    fleet.members.insert(access, s3);
                }
                Err(why) => {
                    fleet.failed.insert(access, why);
                }
            }
        }
        fleet
    }

    /// The caller's own client.
    pub fn default_client(&self) -> &AwsS3 {
        &self.default
    }

    /// The client for `access`, or why its credentials could not be had.
    pub fn client(&self, access: &Access) -> Result<&AwsS3, &str> {
        if access.is_default() {
            return Ok(&self.default);
        }
        match self.members.get(access) {
            Some(s3) => Ok(s3),
            None => Err(self
                .failed
                .get(access)
                .map_or("this account was not connected", String::as_str)),
        }
    }

    /// The account `access`'s credentials act in, when STS said.
    pub fn identity(&self, access: &Access) -> Option<&str> {
        self.identities.get(access).map(String::as_str)
    }

    /// Takes `access` out of the fleet: its buckets fail at once with `why`.
    pub fn refuse(&mut self, access: &Access, why: String) {
        self.members.remove(access);
        self.failed.insert(access.clone(), why);
    }

    /// Why `access`'s credentials could not be had, if they could not.
    pub fn failure(&self, access: &Access) -> Option<&str> {
        self.failed.get(access).map(String::as_str)
    }

    /// The endpoint every member talks to (one `--endpoint-url` for the run).
    pub fn endpoint_url(&self) -> Option<&str> {
        self.default.endpoint_url()
    }

    fn for_target(&self, target: &BucketTarget, op: &'static str) -> Result<&AwsS3, S3Error> {
        self.client(&target.access).map_err(|why| {
            S3Error::other(
                op,
                Some(&target.name),
                format!(
                    "no credentials for this bucket's account ({}): {why}",
                    target.access.describe()
                ),
            )
        })
    }
}

impl S3Api for Fleet {
    /// The caller's own buckets; list another account's with
    /// `fleet.client(access)?.list_buckets(..)`.
    async fn list_buckets(&self, prefix: Option<&str>) -> Result<Vec<BucketInfo>, S3Error> {
        self.default.list_buckets(prefix).await
    }

    async fn get_cors(&self, bucket: &BucketTarget) -> Result<Option<CorsConfig>, S3Error> {
        self.for_target(bucket, "GetBucketCors")?
            .get_cors(bucket)
            .await
    }

    async fn put_cors(&self, bucket: &BucketTarget, cfg: &CorsConfig) -> Result<(), S3Error> {
        self.for_target(bucket, "PutBucketCors")?
            .put_cors(bucket, cfg)
            .await
    }

    async fn delete_cors(&self, bucket: &BucketTarget) -> Result<(), S3Error> {
        self.for_target(bucket, "DeleteBucketCors")?
            .delete_cors(bucket)
            .await
    }

    async fn get_tags(
        &self,
        bucket: &BucketTarget,
    ) -> Result<std::collections::BTreeMap<String, String>, S3Error> {
        self.for_target(bucket, "GetBucketTagging")?
            .get_tags(bucket)
            .await
    }

    async fn bucket_region(
        &self,
        name: &str,
        expected_owner: Option<&str>,
    ) -> Result<String, S3Error> {
        // S3 names a bucket's region to any caller (a 301 or 403 carries it).
        self.default.bucket_region(name, expected_owner).await
    }

    fn known_region(&self, bucket: &str) -> Option<String> {
        self.default.known_region(bucket).or_else(|| {
            self.members
                .values()
                .find_map(|member| member.known_region(bucket))
        })
    }
}
