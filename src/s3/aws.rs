//! [`AwsS3`]: the [`S3Api`] over the AWS SDK for Rust, one client per region, a
//! cache of the regions S3 has told us buckets live in, and fleet-sized retries.
//!
//! Regions: a call for a bucket goes to the region S3 last named for it (from
//! ListBuckets' `BucketRegion`, HeadBucket, or a wrong-region answer), else the
//! region the policy declares, else the default region. A wrong-region answer
//! (301 `PermanentRedirect`, 400 `AuthorizationHeaderMalformed` naming a region,
//! `x-amz-bucket-region`) is remembered and the call is made again there, so each
//! bucket costs at most one redirect per run.
//!
//! Throttling: adaptive retry (the SDK's client-side rate limiter) with a total
//! attempt budget per call: [`ConnectOptions::max_attempts`], `AWS_MAX_ATTEMPTS` or
//! the profile's `max_attempts` for every kind of failure, as in every AWS SDK;
//! when none is set, [`FLEET_MAX_ATTEMPTS`] for throttling and the SDK's usual
//! [`OTHER_MAX_ATTEMPTS`] for everything else (so a dead endpoint fails in seconds,
//! not minutes). 429 and 503 count as throttling, and throttled retries do not draw
//! on the SDK's retry quota, so a throttled bucket fails only when its own attempts
//! run out.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::interceptors::{FinalizerInterceptorContextRef, InterceptorContext};
use aws_sdk_s3::config::retry::{
    ClassifyRetry, ClientRateLimiter, RetryAction, RetryConfig, RetryMode, RetryPartition,
    TokenBucket,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;

use super::convert::{cors_from_sdk, cors_to_sdk};
use super::{BucketInfo, BucketTarget, S3Api, S3Error, S3ErrorKind};
use crate::model::CorsConfig;

/// The region used when neither the options nor the environment name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Attempts per call (first try included) when nothing configures them.
///
/// The SDK's default of 3 is made for one call at a time. A fleet run keeps
/// `--parallelism` calls in flight for minutes, so S3's SlowDown arrives in bursts
/// that outlast three tries. Under throttling the adaptive rate limiter makes each
/// retry wait (at most 20 s) while it slows the whole run down, so ten attempts
/// ride out from seconds to about three minutes of SlowDown per call; a bucket
/// still throttled after that is reported failed rather than retried forever.
pub const FLEET_MAX_ATTEMPTS: u32 = 10;

/// Attempts per call for failures other than throttling (network errors,
/// timeouts, 500s) when nothing configures the attempts: the SDK's own default.
pub const OTHER_MAX_ATTEMPTS: u32 = 3;

/// Most region hops for one call: the declared/cached region, the region S3
/// names, and one more in case the bucket moved while we ran.
const MAX_REGION_HOPS: usize = 3;

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
    /// Total attempts per call under adaptive retry (else `AWS_MAX_ATTEMPTS`, else the
    /// profile's `max_attempts`, else [`FLEET_MAX_ATTEMPTS`]).
    pub max_attempts: Option<u32>,
}

/// The AWS SDK implementation of [`S3Api`]. Cheap to share (`&AwsS3` across tasks).
#[derive(Debug)]
pub struct AwsS3 {
    sdk: SdkConfig,
    path_style: bool,
    default_region: String,
    list_page_size: i32,
    /// Attempts for failures other than throttling, when lower than the budget.
    other_max_attempts: Option<u32>,
    /// One client per region, never one per bucket.
    clients: Mutex<HashMap<String, Client>>,
    /// The regions S3 has named for buckets in this run.
    regions: Mutex<RegionCache>,
}

/// The region S3 named for each bucket it has told us about (ListBuckets,
/// HeadBucket, wrong-region answers). Region names are interned: a fleet has tens
/// of regions and up to tens of thousands of buckets.
#[derive(Debug, Default)]
struct RegionCache {
    by_bucket: HashMap<String, Arc<str>>,
    names: Vec<Arc<str>>,
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
        // The attempts: the option, else what the environment or profile asked for,
        // else the fleet budget. The mode is always adaptive (client-side rate
        // limiting under throttling).
        let configured = match opts.max_attempts {
            Some(n) => Some(n),
            None => configured_max_attempts(opts.profile.as_deref()).await,
        };
        let retry = sdk
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::standard)
            .with_retry_mode(RetryMode::Adaptive)
            .with_max_attempts(configured.unwrap_or(FLEET_MAX_ATTEMPTS).max(1));
        let sdk = sdk.into_builder().retry_config(retry).build();
        let mut s3 = AwsS3::from_sdk_config(sdk, opts.path_style);
        if configured.is_none() {
            s3.other_max_attempts = Some(OTHER_MAX_ATTEMPTS);
        }
        s3
    }

    /// Build from an already loaded SDK configuration (tests use this to supply static
    /// credentials), keeping its retry configuration as it is. A configuration
    /// without a region uses us-east-1.
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
            other_max_attempts: None,
            clients: Mutex::new(HashMap::new()),
            regions: Mutex::new(RegionCache::default()),
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

    /// Total attempts per call (first try included) under the retry configuration.
    pub fn max_attempts(&self) -> u32 {
        self.sdk
            .retry_config()
            .map_or(RetryConfig::standard().max_attempts(), |r| r.max_attempts())
    }

    /// The regions this value has a client for, sorted (one client per region).
    pub fn client_regions(&self) -> Vec<String> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let mut regions: Vec<String> = clients.keys().cloned().collect();
        regions.sort();
        regions
    }

    /// The region S3 has named for `bucket` in this run (ListBuckets' `BucketRegion`,
    /// HeadBucket, or a wrong-region answer), if any.
    pub fn known_region(&self, bucket: &str) -> Option<String> {
        self.regions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_bucket
            .get(bucket)
            .map(|r| r.to_string())
    }

    /// Remember that S3 said `bucket` lives in `region`.
    fn learn_region(&self, bucket: &str, region: &str) {
        if region.is_empty() {
            return;
        }
        let mut cache = self.regions.lock().unwrap_or_else(|p| p.into_inner());
        if cache.by_bucket.get(bucket).is_some_and(|r| &**r == region) {
            return;
        }
        let name = match cache.names.iter().find(|r| &***r == region) {
            Some(name) => Arc::clone(name),
            None => {
                let name: Arc<str> = Arc::from(region);
                cache.names.push(Arc::clone(&name));
                name
            }
        };
        cache.by_bucket.insert(bucket.to_owned(), name);
    }

    /// Where to send the first call for `bucket`: what S3 told us, else what the
    /// policy declares, else the default region.
    fn region_for(&self, bucket: &BucketTarget) -> String {
        self.known_region(&bucket.name)
            .or_else(|| bucket.region.clone())
            .unwrap_or_else(|| self.default_region.clone())
    }

    /// The client for `region`, created on first use.
    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let mut conf = aws_sdk_s3::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.path_style)
                    .retry_partition(retry_partition(region))
                    .retry_classifier(ThrottlingStatusClassifier);
                if let Some(max) = self.other_max_attempts {
                    conf = conf.interceptor(OtherFailuresAttempts { max });
                }
                Client::from_conf(conf.build())
            })
            .clone()
    }

    /// Run `call` with the client of the bucket's region. When S3 answers that the
    /// bucket is in another region, remember that region (asking HeadBucket when
    /// the answer does not name it) and run the call again there.
    async fn in_bucket_region<T, F, Fut>(
        &self,
        bucket: &BucketTarget,
        call: F,
    ) -> Result<T, S3Error>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, S3Error>>,
    {
        let mut region = self.region_for(bucket);
        let mut tried: Vec<String> = Vec::new();
        loop {
            let err = match call(self.client(&region)).await {
                Err(e) if matches!(e.kind, S3ErrorKind::WrongRegion { .. }) => e,
                done => return done,
            };
            tried.push(region);
            let named = match err.redirect_region() {
                Some(r) => Some(r.to_owned()),
                // A 301 without the region: HeadBucket names it in a header.
                None => self
                    .head_bucket_region(&bucket.name, bucket.expected_owner.as_deref())
                    .await
                    .ok(),
            };
            let Some(next) = named.filter(|r| !tried.contains(r)) else {
                return Err(err);
            };
            if tried.len() >= MAX_REGION_HOPS {
                return Err(err);
            }
            tracing::debug!(bucket = %bucket.name, from = %tried[tried.len() - 1], to = %next, "retrying in the bucket's region");
            self.learn_region(&bucket.name, &next);
            region = next;
        }
    }

    /// HeadBucket in the default region: the region S3 names for the bucket, from
    /// the answer or from the `x-amz-bucket-region` header of a 301/403 answer.
    async fn head_bucket_region(
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
        let region = match res {
            Ok(out) => out
                .bucket_region()
                .filter(|r| !r.is_empty())
                .unwrap_or(&self.default_region)
                .to_owned(),
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
                    Some(region) => region,
                    None => return Err(S3Error::from_sdk(OP, Some(name), &e)),
                }
            }
        };
        self.learn_region(name, &region);
        Ok(region)
    }
}

/// The send rate (requests per second) the adaptive rate limiter assumes before it
/// has measured one (it measures in half-second steps, and the first step, taken
/// against the builder's zero time origin, observes nothing and keeps a fifth of
/// this: 1,000 per second).
///
/// At the first SlowDown the limiter drops to 70% of its estimate, then climbs back
/// along a cubic curve that takes seconds to regain each step. The SDK's estimate
/// before any measurement is 0.5 per second, so a SlowDown in a run's first half
/// second capped the run near 0.5 per second and held each throttled retry for the
/// full 20 s backoff: against a server limited to 300 requests per second, a
/// 1,000-bucket plan took 11.7 s (boto3's adaptive mode: 11.8 s) instead of 3.3 s.
/// Starting high costs a few more throttled answers while the estimate falls by 30%
/// per answer to the real limit, which it then tracks: 4.5-6 s in the same run.
const INITIAL_SEND_RATE: f64 = 5000.0;

/// The retry partition of one region's client: its own adaptive rate limiter, and
/// a retry quota that throttled retries do not draw on.
///
/// The SDK's quota (500 tokens, 5 per retry) exists to stop retry storms when a
/// service is down; under SlowDown the adaptive rate limiter already slows every
/// call down, and a quota spent on throttling would fail buckets of a long fleet
/// run that still have attempts left. Other retries (timeouts, 500s) keep the
/// SDK's costs, so a dead endpoint still fails fast across the fleet.
fn retry_partition(region: &str) -> RetryPartition {
    let rate_limiter = ClientRateLimiter::builder()
        .tokens_retrieved_per_second(INITIAL_SEND_RATE)
        .build();
    RetryPartition::custom(Cow::Owned(format!("s3cors-{region}")))
        .token_bucket(TokenBucket::builder().throttling_retry_cost(0).build())
        .client_rate_limiter(rate_limiter)
        .build()
}

/// Treats every 429 and 503 answer as throttling (S3's SlowDown is a 503; other
/// S3-compatible servers answer 429 or a bare 503), so it is retried under the
/// adaptive rate limiter like SlowDown. Runs after the SDK's classifiers.
#[derive(Debug)]
struct ThrottlingStatusClassifier;

impl ClassifyRetry for ThrottlingStatusClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let failed = matches!(ctx.output_or_error(), Some(Err(_)));
        match ctx.response().map(|r| r.status().as_u16()) {
            Some(429 | 503) if failed => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "s3cors: 429/503 are throttling"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Ends a call after `max` attempts when its latest failure is not throttling,
/// whatever larger budget throttling has: it lowers this call's `max_attempts` to
/// the attempts made, just before the retry strategy decides.
#[derive(Debug)]
struct OtherFailuresAttempts {
    max: u32,
}

impl Intercept for OtherFailuresAttempts {
    fn name(&self) -> &'static str {
        "s3cors: attempts for failures other than throttling"
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let failed = matches!(ctx.output_or_error(), Some(Err(_)));
        let throttled = matches!(ctx.response().map(|r| r.status().as_u16()), Some(429 | 503));
        let attempts = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if failed && !throttled && attempts >= self.max {
            let retry = cfg
                .load::<RetryConfig>()
                .cloned()
                .unwrap_or_else(RetryConfig::standard)
                .with_max_attempts(attempts);
            cfg.interceptor_state().store_put(retry);
        }
        Ok(())
    }
}

/// `max_attempts` as the environment (`AWS_MAX_ATTEMPTS`) or the selected profile
/// sets it, or `None` when neither does (the SDK would then use 3).
async fn configured_max_attempts(profile: Option<&str>) -> Option<u32> {
    use aws_types::os_shim_internal::{Env, Fs};

    let parse = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
    if let Ok(value) = std::env::var("AWS_MAX_ATTEMPTS") {
        // An invalid value is the SDK's to report; it already refused to load it.
        return parse(&value);
    }
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        // The standard files (`~/.aws/config`, `AWS_CONFIG_FILE`, ...).
        &Default::default(),
        profile.map(|p| Cow::Owned(p.to_owned())),
    )
    .await
    .ok()?;
    profiles.get("max_attempts").and_then(parse)
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
                let region = b.bucket_region().filter(|r| !r.is_empty());
                if let Some(region) = region {
                    self.learn_region(name, region);
                }
                buckets.push(BucketInfo {
                    name: name.to_owned(),
                    region: region.map(str::to_owned),
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
        if let Some(region) = self.known_region(name) {
            return Ok(region);
        }
        self.head_bucket_region(name, expected_owner).await
    }

    fn known_region(&self, bucket: &str) -> Option<String> {
        AwsS3::known_region(self, bucket)
    }
}
