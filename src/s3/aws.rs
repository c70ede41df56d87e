//! [`AwsS3`]: the [`S3Api`] over the AWS SDK for Rust, one client per region.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::{RetryConfig, RetryMode};
use aws_sdk_s3::error::ProvideErrorMetadata;

use super::convert::{cors_from_sdk, cors_to_sdk};
use super::{BucketInfo, BucketTarget, S3Api, S3Error};
use crate::model::CorsConfig;

/// The region used when neither the options nor the environment name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How to reach S3; `None` fields fall back to the standard AWS chain (environment,
/// `~/.aws/config`), as the AWS CLI does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Any S3-compatible server (`--endpoint-url`, else `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// The default region (`--region`, else `AWS_REGION`/profile, else us-east-1).
    pub region: Option<String>,
    /// A profile from the shared config files (`--profile`, else `AWS_PROFILE`).
    pub profile: Option<String>,
    /// Path-style addressing (`http://host/bucket`), for emulators and dotted names.
    pub path_style: bool,
    /// Total attempts per call under adaptive retry (else `AWS_MAX_ATTEMPTS`/profile, else 3).
    pub max_attempts: Option<u32>,
}

/// The AWS SDK implementation of [`S3Api`]. Cheap to share (`&AwsS3` across tasks).
#[derive(Debug)]
pub struct AwsS3 {
    sdk: SdkConfig,
    path_style: bool,
    default_region: String,
    list_page_size: i32,
    /// One client per region, never one per bucket.
    clients: Mutex<HashMap<String, Client>>,
}

impl AwsS3 {
    /// Load the standard AWS configuration with `opts` on top, with adaptive retry.
    pub async fn connect(opts: &ConnectOptions) -> AwsS3 {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &opts.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        // Keep the attempts the environment/profile asked for unless overridden;
        // the mode is always adaptive (client-side rate limiting under throttling).
        let mut retry = sdk
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::standard)
            .with_retry_mode(RetryMode::Adaptive);
        if let Some(n) = opts.max_attempts {
            retry = retry.with_max_attempts(n.max(1));
        }
        let sdk = sdk.into_builder().retry_config(retry).build();
        AwsS3::from_sdk_config(sdk, opts.path_style)
    }

    /// Build from an already loaded SDK configuration (tests use this to supply static
    /// credentials). A configuration without a region uses us-east-1.
    pub fn from_sdk_config(sdk: SdkConfig, path_style: bool) -> AwsS3 {
        let default_region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        AwsS3 {
            sdk,
            path_style,
            default_region,
            list_page_size: 10_000,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Ask for ListBuckets pages of at most `n` buckets (1 to 10,000; default 10,000).
    /// AWS answers paginated requests for any quota (and names each bucket's region);
    /// fewer, larger pages mean fewer calls.
    pub fn with_list_page_size(mut self, n: i32) -> AwsS3 {
        self.list_page_size = n.clamp(1, 10_000);
        self
    }

    /// The endpoint URL, or `"aws"` for the regional AWS endpoints (recorded in plans).
    pub fn endpoint_description(&self) -> String {
        self.sdk.endpoint_url().unwrap_or("aws").to_owned()
    }

    /// The region used for buckets without a known region.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The client for `region`, created on first use.
    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.path_style)
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// Run `call` with the client of the bucket's region; when S3 answers that the
    /// bucket is in another region it names, run it once more there.
    async fn in_bucket_region<T, F, Fut>(
        &self,
        bucket: &BucketTarget,
        call: F,
    ) -> Result<T, S3Error>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, S3Error>>,
    {
        let region = bucket.region.as_deref().unwrap_or(&self.default_region);
        match call(self.client(region)).await {
            Err(e) => match e.redirect_region() {
                Some(actual) if actual != region => {
                    tracing::debug!(bucket = %bucket.name, from = region, to = actual, "retrying in the bucket's region");
                    call(self.client(actual)).await
                }
                _ => Err(e),
            },
            ok => ok,
        }
    }
}

impl S3Api for AwsS3 {
    async fn list_buckets(&self, prefix: Option<&str>) -> Result<Vec<BucketInfo>, S3Error> {
        const OP: &str = "ListBuckets";
        let mut pages = self
            .client(&self.default_region)
            .list_buckets()
            .set_prefix(prefix.map(str::to_owned))
            .into_paginator()
            .page_size(self.list_page_size)
            .send();
        let mut buckets = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| S3Error::from_sdk(OP, None, &e))?;
            if page.continuation_token().is_none()
                && page.buckets().len()
                    >= usize::try_from(self.list_page_size).unwrap_or(usize::MAX)
            {
                // moto 5.2 truncates to MaxBuckets without a continuation token.
                tracing::warn!(
                    page_size = self.list_page_size,
                    "ListBuckets returned a full page without a continuation token; \
                     the server may have truncated the list"
                );
            }
            for b in page.buckets() {
                let Some(name) = b.name() else { continue };
                // Servers that ignore `prefix` must not widen the selection.
                if prefix.is_some_and(|p| !name.starts_with(p)) {
                    continue;
                }
                buckets.push(BucketInfo {
                    name: name.to_owned(),
                    region: b.bucket_region().map(str::to_owned),
                });
            }
        }
        Ok(buckets)
    }

    async fn get_cors(&self, bucket: &BucketTarget) -> Result<Option<CorsConfig>, S3Error> {
        const OP: &str = "GetBucketCors";
        self.in_bucket_region(bucket, |client| async move {
            let res = client
                .get_bucket_cors()
                .bucket(&bucket.name)
                .set_expected_bucket_owner(bucket.expected_owner.clone())
                .send()
                .await;
            match res {
                Ok(out) if out.cors_rules().is_empty() => Ok(None),
                Ok(out) => cors_from_sdk(out.cors_rules())
                    .map(Some)
                    .map_err(|m| S3Error::other(OP, Some(&bucket.name), m)),
                Err(e) if e.code() == Some("NoSuchCORSConfiguration") => Ok(None),
                Err(e) => Err(S3Error::from_sdk(OP, Some(&bucket.name), &e)),
            }
        })
        .await
    }

    async fn put_cors(&self, bucket: &BucketTarget, cfg: &CorsConfig) -> Result<(), S3Error> {
        const OP: &str = "PutBucketCors";
        let sdk_cfg = cors_to_sdk(cfg).map_err(|e| {
            S3Error::other(
                OP,
                Some(&bucket.name),
                format!("cannot build the request: {e}"),
            )
        })?;
        self.in_bucket_region(bucket, |client| {
            let sdk_cfg = sdk_cfg.clone();
            async move {
                client
                    .put_bucket_cors()
                    .bucket(&bucket.name)
                    .set_expected_bucket_owner(bucket.expected_owner.clone())
                    .cors_configuration(sdk_cfg)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| S3Error::from_sdk(OP, Some(&bucket.name), &e))
            }
        })
        .await
    }

    async fn delete_cors(&self, bucket: &BucketTarget) -> Result<(), S3Error> {
        const OP: &str = "DeleteBucketCors";
        self.in_bucket_region(bucket, |client| async move {
            match client
                .delete_bucket_cors()
                .bucket(&bucket.name)
                .set_expected_bucket_owner(bucket.expected_owner.clone())
                .send()
                .await
            {
                Ok(_) => Ok(()),
                // S3 answers 204 without a configuration; some servers answer 404.
                Err(e) if e.code() == Some("NoSuchCORSConfiguration") => Ok(()),
                Err(e) => Err(S3Error::from_sdk(OP, Some(&bucket.name), &e)),
            }
        })
        .await
    }

    async fn get_tags(&self, bucket: &BucketTarget) -> Result<BTreeMap<String, String>, S3Error> {
        const OP: &str = "GetBucketTagging";
        self.in_bucket_region(bucket, |client| async move {
            match client
                .get_bucket_tagging()
                .bucket(&bucket.name)
                .set_expected_bucket_owner(bucket.expected_owner.clone())
                .send()
                .await
            {
                Ok(out) => Ok(out
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect()),
                Err(e) if matches!(e.code(), Some("NoSuchTagSet" | "NoSuchTagSetError")) => {
                    Ok(BTreeMap::new())
                }
                Err(e) => Err(S3Error::from_sdk(OP, Some(&bucket.name), &e)),
            }
        })
        .await
    }

    async fn bucket_region(
        &self,
        name: &str,
        expected_owner: Option<&str>,
    ) -> Result<String, S3Error> {
        const OP: &str = "HeadBucket";
        let res = self
            .client(&self.default_region)
            .head_bucket()
            .bucket(name)
            .set_expected_bucket_owner(expected_owner.map(str::to_owned))
            .send()
            .await;
        match res {
            Ok(out) => Ok(out
                .bucket_region()
                .filter(|r| !r.is_empty())
                .unwrap_or(&self.default_region)
                .to_owned()),
            Err(e) => {
                // S3 names the region on 301 (other region) and 403 (no permission to
                // HeadBucket) answers too; that is all this call needs.
                let header = e.raw_response().and_then(|raw| {
                    raw.headers()
                        .get("x-amz-bucket-region")
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                });
                match header {
                    Some(region) => Ok(region),
                    None => Err(S3Error::from_sdk(OP, Some(name), &e)),
                }
            }
        }
    }
}
