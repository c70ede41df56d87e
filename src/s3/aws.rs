//! [`AwsS3`]: the [`S3Api`] over the AWS SDK for Rust, one client per region, a
//! cache of the regions S3 has told us buckets live in, bounded time per call, and
//! fleet-sized retries under throttling.
//!
//! Regions: a call for a bucket goes to the region S3 last named for it (from
//! ListBuckets' `BucketRegion`, HeadBucket, or a wrong-region answer), else the
//! region the policy declares, else the default region. A wrong-region answer
//! (301 `PermanentRedirect`, 400 `AuthorizationHeaderMalformed` naming a region,
//! `x-amz-bucket-region`) is remembered and the call is made again there, so each
//! bucket costs at most one redirect per run.
//!
//! Time: every attempt has connect, read and attempt timeouts of
//! [`ConnectOptions::timeout`] (`--timeout`, [`DEFAULT_TIMEOUT`]), and every call,
//! with all its attempts and waits, at most [`CALL_BUDGET_TIMEOUTS`] times that
//! (90 s by default). A call that runs out of time fails as
//! [`S3ErrorKind::TimedOut`], naming the operation and the bucket.
//!
//! Throttling: the SDK retries other failures (network errors, timeouts, 500s) in
//! its standard mode; throttling answers (SlowDown, 429, 503) are retried here,
//! with exponential backoff and full jitter, through one send-rate limiter per
//! region ([`super::pace::Pacer`]) that cuts its rate at most once per round trip.
//! Attempts: [`ConnectOptions::max_attempts`], `AWS_MAX_ATTEMPTS` or the profile's
//! `max_attempts` for every kind of failure, as in every AWS SDK; when none is set,
//! [`FLEET_MAX_ATTEMPTS`] under throttling and [`OTHER_MAX_ATTEMPTS`] otherwise (so
//! a dead endpoint fails in seconds). A throttled call also stops when its next wait
//! would pass its time budget.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::interceptors::InterceptorContext;
use aws_sdk_s3::config::retry::{
    ClassifyRetry, RetryAction, RetryConfig, RetryMode, RetryPartition,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::retries::ErrorKind;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryClassifierPriority, RetryReason};

use super::answer::CorsAnswerCheck;
use super::convert::{cors_from_sdk, cors_to_sdk};
use super::pace::{Pacer, backoff, jitter};
use super::{BucketInfo, BucketTarget, S3Api, S3Error, S3ErrorKind};
use crate::model::{Access, CorsConfig};

/// The region used when neither the options nor the environment name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Attempts per call under throttling (first try included) when nothing configures
/// them.
///
/// The SDK's default of 3 is made for one call at a time. A fleet run keeps
/// `--parallelism` calls in flight, so S3's SlowDown arrives in bursts that outlast
/// three tries; the rate limiter spaces the retries out, and the call's time budget
/// bounds them.
pub const FLEET_MAX_ATTEMPTS: u32 = 10;

/// Attempts per call for failures other than throttling (network errors,
/// timeouts, 500s) when nothing configures the attempts: the SDK's own default.
pub const OTHER_MAX_ATTEMPTS: u32 = 3;

/// The longest one attempt may take, when `--timeout` does not say: to connect, to
/// the first byte of the answer, and for the whole attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A call (all its attempts, backoffs and waits for a send slot) may take this many
/// attempt timeouts: 90 s by default. Enough for [`OTHER_MAX_ATTEMPTS`] attempts
/// that each time out.
pub const CALL_BUDGET_TIMEOUTS: u32 = 3;

/// The first and the longest wait before retrying a throttled call (full jitter
/// over exponential growth): short, as the rate limiter does the real slowing down.
pub const THROTTLE_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
pub const THROTTLE_MAX_BACKOFF: Duration = Duration::from_secs(5);

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
    /// Total attempts per call (else `AWS_MAX_ATTEMPTS`, else the profile's
    /// `max_attempts`, else [`FLEET_MAX_ATTEMPTS`] under throttling and
    /// [`OTHER_MAX_ATTEMPTS`] otherwise).
    pub max_attempts: Option<u32>,
    /// The longest one attempt may take (`--timeout`, else [`DEFAULT_TIMEOUT`]); a call
    /// may take [`CALL_BUDGET_TIMEOUTS`] times this.
    pub timeout: Option<Duration>,
    /// Whose credentials: the chain above (default), a role assumed with them
    /// through STS (cached, refreshed before expiry), or another profile.
    pub access: Access,
}

/// The AWS SDK implementation of [`S3Api`]. Cheap to share (`&AwsS3` across tasks).
#[derive(Debug)]
pub struct AwsS3 {
    sdk: SdkConfig,
    path_style: bool,
    default_region: String,
    list_page_size: i32,
    /// Attempts per call under throttling (the SDK's `max_attempts` covers the rest).
    throttle_attempts: u32,
    /// The first and longest backoff of a throttled retry.
    throttle_backoff: (Duration, Duration),
    /// The longest one attempt may take, and one call with all its retries.
    attempt_timeout: Duration,
    call_budget: Duration,
    /// One client and one send-rate limiter per region, never one per bucket.
    clients: Mutex<HashMap<String, (Client, Arc<Pacer>)>>,
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
    /// Load the standard AWS configuration with `opts` on top: bounded time per
    /// attempt and per call, and fleet-sized retries under throttling.
    pub async fn connect(opts: &ConnectOptions) -> AwsS3 {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = opts.access.profile.as_ref().or(opts.profile.as_ref()) {
            loader = loader.profile_name(profile);
        }

        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let attempt = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
        loader = loader.timeout_config(timeouts(attempt));
        let mut sdk = loader.load().await;
        if let Some(profile) = &opts.access.profile {
            // An account's profile is its way in: its credentials, even when the
            // environment holds the caller's (which the standard chain prefers).
            let conf = aws_config::provider_config::ProviderConfig::default()
                .with_region(sdk.region().cloned());
            let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .configure(&conf)
                .build();
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        if let Some(role) = &opts.access.role_arn {
            // The caller's credentials assume the role; STS is reached like S3 is
            // (`--endpoint-url`, else AWS_ENDPOINT_URL_STS, else AWS), with the same
            // time limits. The SDK's identity cache refreshes the role's credentials
            // before they expire.
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name("s3cors")
                .configure(&sdk);
            if let Some(id) = &opts.access.external_id {
                builder = builder.external_id(id);
            }
            let provider = builder.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        // The attempts: the option, else what the environment or profile asked for,
        // else the fleet budget under throttling and the SDK's 3 otherwise.
        let configured = match opts.max_attempts {
            Some(n) => Some(n.max(1)),
            None => configured_max_attempts(opts.profile.as_deref()).await,
        };
        let retry = sdk
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::standard)
            .with_max_attempts(configured.unwrap_or(OTHER_MAX_ATTEMPTS))
            .with_initial_backoff(THROTTLE_INITIAL_BACKOFF)
            .with_max_backoff(THROTTLE_MAX_BACKOFF);
        let sdk = sdk.into_builder().retry_config(retry).build();
        let mut s3 = AwsS3::from_sdk_config(sdk, opts.path_style);
        s3.throttle_attempts = configured.unwrap_or(FLEET_MAX_ATTEMPTS);
        s3
    }

    /// Build from an already loaded SDK configuration (tests use this to supply static
    /// credentials). Its retry configuration gives the attempts (for throttling too)
    /// and the backoffs; the mode is always standard, as throttling is paced here.
    /// Timeouts it does not set are [`DEFAULT_TIMEOUT`]-based. A configuration
    /// without a region uses us-east-1.
    pub fn from_sdk_config(sdk: SdkConfig, path_style: bool) -> AwsS3 {
        let default_region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let retry = sdk
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::standard);
        let attempt_timeout = sdk
            .timeout_config()
            .and_then(|t| t.operation_attempt_timeout())
            .unwrap_or(DEFAULT_TIMEOUT);
        let timeouts = match sdk.timeout_config() {
            Some(set) => set
                .to_builder()
                .take_unset_from(timeouts(attempt_timeout).to_builder())
                .build(),
            None => timeouts(attempt_timeout),
        };
        let call_budget = timeouts
            .operation_timeout()
            .unwrap_or(attempt_timeout * CALL_BUDGET_TIMEOUTS);
        let sdk = sdk
            .into_builder()
            .retry_config(retry.clone().with_retry_mode(RetryMode::Standard))
            .timeout_config(timeouts)
            .build();
        AwsS3 {
            sdk,
            path_style,
            default_region,
            list_page_size: 10_000,
            throttle_attempts: retry.max_attempts().max(1),
            throttle_backoff: (retry.initial_backoff(), retry.max_backoff()),
            attempt_timeout,
            call_budget,
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

    /// The endpoint URL as configured; `None` for the regional AWS endpoints.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.sdk.endpoint_url()
    }

    /// The region used for buckets without a known region.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// Total attempts per call under throttling (first try included).
    pub fn max_attempts(&self) -> u32 {
        self.throttle_attempts
    }

    /// The longest one attempt may take, and one call with all its retries.
    pub fn time_limits(&self) -> (Duration, Duration) {
        (self.attempt_timeout, self.call_budget)
    }

    /// The account these credentials act in (STS GetCallerIdentity, within the call
    /// budget), so an identity that cannot be had (a role that cannot be assumed, a
    /// profile that does not exist) or that acts in another account than declared
    /// is known before any bucket is touched. The credentials it resolved stay in the
    /// SDK's identity cache for the S3 calls that follow.
    pub async fn caller_account(&self) -> Result<String, String> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        match tokio::time::timeout(self.call_budget, sts.get_caller_identity().send()).await {
            Ok(Ok(out)) => out
                .account()
                .map(str::to_owned)
                .ok_or_else(|| "GetCallerIdentity named no account".to_owned()),
            Ok(Err(e)) => Err(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()),
            Err(_) => Err(format!("no answer within {}s", self.call_budget.as_secs())),
        }
    }

    /// Every active account AWS Organizations lists for the caller's organisation
    /// (ListAccounts, all pages), sorted.
    pub async fn organization_accounts(&self) -> Result<Vec<String>, String> {
        let client = aws_sdk_organizations::Client::new(&self.sdk);
        let mut pages = client.list_accounts().into_paginator().send();
        let listing = async {
            let mut ids = Vec::new();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
                for account in page.accounts() {
                    let active = account.status().is_none_or(|s| s.as_str() == "ACTIVE");
                    if let (Some(id), true) = (account.id(), active) {
                        ids.push(id.to_owned());
                    }
                }
            }
            ids.sort();
            ids.dedup();
            Ok(ids)
        };
        match tokio::time::timeout(self.call_budget * 4, listing).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "ListAccounts gave no complete answer within {}s",
                (self.call_budget * 4).as_secs()
            )),
        }
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

    /// The client and send-rate limiter for `region`, created on first use.
    fn client(&self, region: &str) -> (Client, Arc<Pacer>) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.path_style)
                    .retry_partition(RetryPartition::new(format!("s3cors-{region}")))
                    .retry_classifier(ThrottlingIsPacedHere);
                (Client::from_conf(conf.build()), Arc::new(Pacer::new()))
            })
            .clone()
    }

    /// Run one S3 call in `region` within the call's time budget: each attempt
    /// waits for a send slot of the region's rate limiter, and a throttled answer
    /// is retried after a backoff until the attempts or the budget run out.
    async fn send<T, F, Fut>(
        &self,
        op: &'static str,
        bucket: Option<&str>,
        region: &str,
        call: &F,
    ) -> Result<T, S3Error>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, S3Error>>,
    {
        let result = self.send_paced(op, bucket, region, call).await;
        super::requests::record(op, result.as_ref().err().map(|e| &e.kind));
        result
    }

    async fn send_paced<T, F, Fut>(
        &self,
        op: &'static str,
        bucket: Option<&str>,
        region: &str,
        call: &F,
    ) -> Result<T, S3Error>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, S3Error>>,
    {
        let (client, pacer) = self.client(region);
        let start = Instant::now();
        let deadline = start + self.call_budget;
        let timed_out = |start: Instant| S3Error::timed_out(op, bucket, start.elapsed());
        let mut attempt = 1;
        let mut throttled: Option<S3Error> = None;
        loop {
            // The rate this request is sent at is fixed when its slot is booked.
            let booked = Instant::now();
            let wait = pacer.reserve(booked);
            if Instant::now() + wait >= deadline {
                return Err(match throttled {
                    Some(e) => e.still_throttled(attempt - 1, start.elapsed()),
                    None => timed_out(start),
                });
            }
            tokio::time::sleep(wait).await;
            let result = tokio::time::timeout_at(deadline.into(), call(client.clone())).await;
            // A call that was throttled before and then runs out of time failed
            // because of the throttling: say so, not only "timed out".
            let out_of_time = |throttled: Option<S3Error>| match throttled {
                Some(e) => e.still_throttled(attempt - 1, start.elapsed()),
                None => timed_out(start),
            };
            let err = match result {
                Err(_) => return Err(out_of_time(throttled)),
                Ok(Err(e)) if e.kind == S3ErrorKind::TimedOut => {
                    tracing::debug!(op, bucket, error = ?e.message, "timed out");
                    return Err(out_of_time(throttled));
                }
                Ok(Err(e)) if e.kind == S3ErrorKind::Throttled => e,
                Ok(done) => return done,
            };
            pacer.on_throttle(booked, Instant::now());
            let (initial, max) = self.throttle_backoff;
            let pause = backoff(attempt, initial, max, jitter());
            if attempt >= self.throttle_attempts || Instant::now() + pause >= deadline {
                return Err(err.still_throttled(attempt, start.elapsed()));
            }
            tracing::debug!(op, bucket, attempt, ?pause, "throttled; retrying");
            tokio::time::sleep(pause).await;
            throttled = Some(err);
            attempt += 1;
        }
    }

    /// Run `call` with the client of the bucket's region. When S3 answers that the
    /// bucket is in another region, remember that region (asking HeadBucket when
    /// the answer does not name it) and run the call again there.
    async fn in_bucket_region<T, F, Fut>(
        &self,
        op: &'static str,
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
            let err = match self.send(op, Some(&bucket.name), &region, &call).await {
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
        let default = self.default_region.as_str();
        let call = |client: Client| async move {
            let res = client
                .head_bucket()
                .bucket(name)
                .set_expected_bucket_owner(expected_owner.map(str::to_owned))
                .send()
                .await;
            match res {
                Ok(out) => Ok(out
                    .bucket_region()
                    .filter(|r| !r.is_empty())
                    .unwrap_or(default)
                    .to_owned()),
                Err(e) => {
                    // S3 names the region on 301 (other region) and 403 (no permission
                    // to HeadBucket) answers too; that is all this call needs.
                    let header = e.raw_response().and_then(|raw| {
                        raw.headers()
                            .get("x-amz-bucket-region")
                            .filter(|r| !r.is_empty())
                            .map(str::to_owned)
                    });
                    header.ok_or_else(|| S3Error::from_sdk(OP, Some(name), &e))
                }
            }
        };
        let region = self.send(OP, Some(name), default, &call).await?;
        self.learn_region(name, &region);
        Ok(region)
    }
}

/// The SDK timeouts for an attempt limit of `attempt`: connect, read (to the first
/// byte of the answer) and attempt all `attempt`, and the whole operation
/// [`CALL_BUDGET_TIMEOUTS`] times that.
fn timeouts(attempt: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(attempt)
        .read_timeout(attempt)
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * CALL_BUDGET_TIMEOUTS)
        .build()
}

/// Keeps throttling answers (every 429 and 503: S3's SlowDown is a 503, other
/// S3-compatible servers answer 429 or a bare 503, and the SDK's own throttling
/// codes) out of the SDK's retries: [`AwsS3`] retries them through the region's
/// rate limiter. Runs after the SDK's classifiers, so its verdict wins.
#[derive(Debug)]
struct ThrottlingIsPacedHere;

impl ClassifyRetry for ThrottlingIsPacedHere {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        self.classify_retry_v2(ctx, &RetryAction::NoActionIndicated)
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        let failed = matches!(ctx.output_or_error(), Some(Err(_)));
        let throttling_status =
            matches!(ctx.response().map(|r| r.status().as_u16()), Some(429 | 503));
        let throttling_verdict = matches!(
            previous,
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            })
        );
        if failed && (throttling_status || throttling_verdict) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "s3cors: throttling is retried by the rate limiter"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
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
        let region = self.default_region.as_str();
        let mut buckets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let call = |client: Client| {
                let token = token.clone();
                async move {
                    client
                        .list_buckets()
                        .set_prefix(prefix.map(str::to_owned))
                        .max_buckets(self.list_page_size)
                        .set_continuation_token(token)
                        .send()
                        .await
                        .map_err(|e| S3Error::from_sdk(OP, None, &e))
                }
            };
            let page = self.send(OP, None, region, &call).await?;
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
            token = page
                .continuation_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                return Ok(buckets);
            }
        }
    }

    async fn get_cors(&self, bucket: &BucketTarget) -> Result<Option<CorsConfig>, S3Error> {
        const OP: &str = "GetBucketCors";
        self.in_bucket_region(OP, bucket, |client| async move {
            let res = client
                .get_bucket_cors()
                .bucket(&bucket.name)
                .set_expected_bucket_owner(bucket.expected_owner.clone())
                .customize()
                .interceptor(CorsAnswerCheck)
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
        self.in_bucket_region(OP, bucket, |client| {
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
        self.in_bucket_region(OP, bucket, |client| async move {
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
        self.in_bucket_region(OP, bucket, |client| async move {
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
