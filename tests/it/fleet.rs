//! Fleet scale against moto through `scripts/s3proxy.py`: throttled calls retried
//! to success (and failing only when the attempt budget runs out), buckets in
//! several regions resolved with at most one wrong-region answer each, the number
//! of S3 calls `s3cors plan` makes, and `--shard K/N` covering every bucket once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::support::{
    Proxy, create_bucket_in, moto, s3cors, sdk_config, tag_bucket, unique_bucket,
};
use aws_sdk_s3::config::retry::RetryConfig;
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::plan::shard::shard_of;
use s3cors::s3::{AwsS3, BucketTarget, S3Api, S3ErrorKind};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

fn config(origin: &str) -> CorsConfig {
    CorsConfig::new(vec![CorsRule {
        allowed_origins: vec![origin.to_owned()],
        allowed_methods: vec![Method::Get, Method::Head],
        max_age_seconds: Some(3600),
        ..CorsRule::default()
    }])
}

/// The S3 layer through `endpoint` with `attempts` attempts per call and short
/// backoffs so throttling tests stay quick.
async fn retrying_s3(endpoint: &str, attempts: u32) -> AwsS3 {
    let retry = RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(200));
    let sdk = sdk_config(endpoint)
        .await
        .into_builder()
        .retry_config(retry)
        .build();
    AwsS3::from_sdk_config(sdk, true)
}

/// Buckets created directly in moto, two per region, each with CORS
/// configuration `config(bucket)`. Returns (name, region) pairs.
async fn buckets_in_three_regions(prefix: &str) -> Vec<(String, &'static str)> {
    let endpoint = moto().endpoint();
    let direct = crate::support::aws_s3(endpoint).await;
    let mut out = Vec::new();
    for region in REGIONS {
        for i in 0..2 {
            let name = unique_bucket(&format!("{prefix}-{i}"));
            create_bucket_in(endpoint, &name, region).await;
            let target = BucketTarget {
                region: Some(region.to_owned()),
                ..BucketTarget::new(&name)
            };
            direct
                .put_cors(&target, &config(&format!("https://{name}.example.com")))
                .await
                .expect("seed CORS");
            out.push((name, region));
        }
    }
    out
}

fn region_map(buckets: &[(String, &str)]) -> String {
    buckets
        .iter()
        .map(|(b, r)| format!("{b}={r}"))
        .collect::<Vec<_>>()
        .join(",")
}

// --- throttling ---------------------------------------------------------------

#[tokio::test]
async fn throttled_calls_are_retried_to_success() {
    let endpoint = moto().endpoint();
    let name = unique_bucket("throttled");
    create_bucket_in(endpoint, &name, "us-east-1").await;
    tag_bucket(endpoint, &name, &[("team", "web")]).await;
    let proxy = Proxy::start(endpoint, &["--throttle-first", "2"]);
    let s3 = retrying_s3(proxy.endpoint(), 4).await;
    let bucket = BucketTarget::new(&name);

    s3.put_cors(&bucket, &config("https://a.example.com"))
        .await
        .expect("put");
    assert_eq!(
        s3.get_cors(&bucket).await.expect("get"),
        Some(config("https://a.example.com"))
    );
    assert_eq!(s3.get_tags(&bucket).await.expect("tags").len(), 1);
    s3.delete_cors(&bucket).await.expect("delete");
    assert_eq!(
        s3.bucket_region(&name, None).await.expect("head"),
        "us-east-1"
    );
    let listed = s3.list_buckets(Some(&name)).await.expect("list");
    assert_eq!(listed.len(), 1);

    // Each distinct request was answered SlowDown twice, then passed on once.
    for op in [
        "PutBucketCors",
        "GetBucketCors",
        "GetBucketTagging",
        "DeleteBucketCors",
        "HeadBucket",
        "ListBuckets",
    ] {
        assert_eq!(proxy.count("throttled", op), 2, "{op}: {}", proxy.stats());
        assert_eq!(proxy.count("forwarded", op), 1, "{op}: {}", proxy.stats());
    }
}

#[tokio::test]
async fn http_429_counts_as_throttling_and_is_retried() {
    let endpoint = moto().endpoint();
    let name = unique_bucket("throttled-429");
    create_bucket_in(endpoint, &name, "us-east-1").await;
    let proxy = Proxy::start(
        endpoint,
        &["--throttle-first", "2", "--throttle-status", "429"],
    );
    let s3 = retrying_s3(proxy.endpoint(), 3).await;
    assert_eq!(
        s3.get_cors(&BucketTarget::new(&name)).await.expect("get"),
        None
    );
    assert_eq!(proxy.count("throttled", "GetBucketCors"), 2);
    assert_eq!(proxy.count("forwarded", "GetBucketCors"), 1);
}

#[tokio::test]
async fn a_throttled_call_fails_only_when_its_attempts_run_out() {
    let endpoint = moto().endpoint();
    let name = unique_bucket("throttled-out");
    create_bucket_in(endpoint, &name, "us-east-1").await;
    let proxy = Proxy::start(endpoint, &["--throttle-first", "1000"]);
    let s3 = retrying_s3(proxy.endpoint(), 3).await;
    let err = s3
        .get_cors(&BucketTarget::new(&name))
        .await
        .expect_err("always throttled");
    assert_eq!(err.kind, S3ErrorKind::Throttled, "{err}");
    assert_eq!(err.code.as_deref(), Some("SlowDown"), "{err}");
    assert!(err.to_string().contains("lower --parallelism"), "{err}");
    assert_eq!(proxy.count("requests", "GetBucketCors"), 3);
}

/// The SDK's retry quota (500 tokens, 5 per retry, a permit lost for every retry
/// but the last of a call) would run dry here after about 33 calls and fail the
/// rest while they still had attempts left; throttled retries (made by s3cors, not
/// the SDK) must not draw on it.
#[tokio::test]
async fn throttled_retries_do_not_exhaust_a_fleet_wide_quota() {
    let proxy = Proxy::start(
        moto().endpoint(),
        &["--throttle-first", "4", "--throttle-ops", "GetBucketCors"],
    );
    let s3 = retrying_s3(proxy.endpoint(), 5).await;
    // Buckets that do not exist: the fifth attempt reaches moto and says so.
    let targets: Vec<BucketTarget> = (0..60)
        .map(|i| BucketTarget::new(unique_bucket(&format!("quota-{i}"))))
        .collect();
    let results = futures::future::join_all(targets.iter().map(|t| s3.get_cors(t))).await;
    for (t, r) in targets.iter().zip(results) {
        let err = r.expect_err("the bucket does not exist");
        assert_eq!(err.kind, S3ErrorKind::NoSuchBucket, "{}: {err}", t.name);
    }
    assert_eq!(proxy.count("throttled", "GetBucketCors"), 240);
    assert_eq!(proxy.count("forwarded", "GetBucketCors"), 60);
}

// --- regions --------------------------------------------------------------------

#[tokio::test]
async fn buckets_in_three_regions_cost_at_most_one_redirect_each() {
    for answer in ["redirect", "malformed"] {
        let buckets = buckets_in_three_regions(&format!("regions-{answer}")).await;
        let proxy = Proxy::start(
            moto().endpoint(),
            &[
                "--region-map",
                &region_map(&buckets),
                "--wrong-region-answer",
                answer,
            ],
        );
        // Default region us-east-1, no declared regions.
        let s3 = crate::support::aws_s3(proxy.endpoint()).await;
        for round in 0..2 {
            for (name, region) in &buckets {
                let target = BucketTarget::new(name);
                let want = config(&format!("https://{name}.example.com"));
                assert_eq!(
                    s3.get_cors(&target).await.expect("get"),
                    Some(want.clone()),
                    "{answer} round {round}: {name} in {region}"
                );
                s3.put_cors(&target, &want).await.expect("put");
                assert_eq!(s3.known_region(name).as_deref(), {
                    // Buckets in the default region never get a wrong-region answer.
                    (*region != "us-east-1").then_some(*region)
                });
            }
        }
        let stats = proxy.stats();
        for (name, region) in &buckets {
            let redirects = stats["redirected_buckets"][name].as_u64().unwrap_or(0);
            let want = u64::from(*region != "us-east-1");
            assert_eq!(redirects, want, "{answer}: {name} in {region}: {stats}");
        }
        // One client per region, not per bucket.
        let mut regions = REGIONS.map(str::to_owned).to_vec();
        regions.sort();
        assert_eq!(s3.client_regions(), regions);
        // 2 rounds x 6 buckets x (get + put), plus the 4 redirected first calls.
        assert_eq!(stats["total"], 28, "{answer}: {stats}");
    }
}

#[tokio::test]
async fn head_bucket_list_buckets_and_declared_regions_feed_the_cache() {
    let buckets = buckets_in_three_regions("learn").await;
    let proxy = Proxy::start(
        moto().endpoint(),
        &["--region-map", &region_map(&buckets), "--list-regions"],
    );
    let s3 = crate::support::aws_s3(proxy.endpoint()).await;
    let (eu_a, _) = &buckets[2];
    let (ap_a, _) = &buckets[4];
    let (ap_b, _) = &buckets[5];

    // HeadBucket in the default region answers 301 naming the region; it is kept,
    // and asked again it costs no call.
    assert_eq!(
        s3.bucket_region(eu_a, None).await.expect("head"),
        "eu-west-1"
    );
    assert_eq!(
        s3.bucket_region(eu_a, None).await.expect("head"),
        "eu-west-1"
    );
    assert_eq!(proxy.count("requests", "HeadBucket"), 1);
    s3.get_cors(&BucketTarget::new(eu_a)).await.expect("get");
    assert_eq!(proxy.count("redirected", "GetBucketCors"), 0);

    // ListBuckets' BucketRegion is kept too.
    // (Only ap_a: a prefix that also lists ap_b would teach its region too.)
    let listed = s3.list_buckets(Some(ap_a)).await.expect("list");
    assert!(
        listed
            .iter()
            .any(|b| b.name == *ap_a && b.region.as_deref() == Some("ap-southeast-2"))
    );
    assert_eq!(s3.known_region(ap_a).as_deref(), Some("ap-southeast-2"));
    s3.get_cors(&BucketTarget::new(ap_a)).await.expect("get");
    assert_eq!(proxy.count("redirected", "GetBucketCors"), 0);

    // A wrongly declared region costs one redirect; S3's answer then wins.
    let wrong = BucketTarget {
        region: Some("us-west-2".to_owned()),
        ..BucketTarget::new(ap_b)
    };
    for _ in 0..3 {
        s3.get_cors(&wrong).await.expect("get");
    }
    assert_eq!(
        proxy.count("redirected_buckets", ap_b),
        1,
        "{}",
        proxy.stats()
    );
    assert_eq!(s3.known_region(ap_b).as_deref(), Some("ap-southeast-2"));
}

// --- the CLI: call counts, regions, throttling, shards ---------------------------

/// A policy directory with one file holding `yaml`.
fn policy_dir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("fleet.yaml"), yaml).expect("write policy");
    dir
}

fn exact_entries(buckets: &[(String, Option<&str>)]) -> String {
    let mut yaml = String::from("version: 1\nbuckets:\n");
    for (name, region) in buckets {
        yaml.push_str(&format!("  - name: {name}\n"));
        if let Some(region) = region {
            yaml.push_str(&format!("    region: {region}\n"));
        }
        yaml.push_str(&format!(
            "    rules:\n      - AllowedOrigins: [\"https://{name}.example.com\"]\n        AllowedMethods: [GET, HEAD]\n        MaxAgeSeconds: 3600\n"
        ));
    }
    yaml
}

/// `s3cors plan DIR --format json` through `endpoint`: (exit code, report).
fn plan_json(endpoint: &str, dir: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = s3cors(endpoint)
        .arg("plan")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run s3cors");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "plan output is not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn planned(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["buckets"]
        .as_array()
        .expect("buckets array")
        .iter()
        .map(|b| {
            (
                b["bucket"].as_str().expect("bucket").to_owned(),
                b["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn plan_with_declared_regions_makes_exactly_one_get_per_bucket() {
    let buckets = buckets_in_three_regions("calls-exact").await;
    let proxy = Proxy::start(moto().endpoint(), &["--region-map", &region_map(&buckets)]);
    // Half the buckets drifted: their live origin differs from the policy's.
    let entries: Vec<(String, Option<&str>)> =
        buckets.iter().map(|(b, r)| (b.clone(), Some(*r))).collect();
    let mut yaml = exact_entries(&entries);
    for (name, _) in buckets.iter().step_by(2) {
        yaml = yaml.replace(
            &format!("https://{name}.example.com"),
            "https://drifted.example.com",
        );
    }
    let dir = policy_dir(&yaml);
    let (code, report) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    let actions = planned(&report);
    assert_eq!(actions.len(), buckets.len(), "{report}");
    assert_eq!(report["summary"]["update"], 3, "{report}");
    assert_eq!(report["summary"]["unchanged"], 3, "{report}");

    let stats = proxy.stats();
    assert_eq!(
        stats["requests"],
        serde_json::json!({"GetBucketCors": buckets.len()}),
        "exactly one GetBucketCors per bucket and nothing else: {stats}"
    );
    for (name, _) in &buckets {
        assert_eq!(
            stats["by_bucket"][name],
            serde_json::json!({"GetBucketCors": 1})
        );
    }
}

#[tokio::test]
async fn plan_resolves_undeclared_regions_with_at_most_one_redirect_per_bucket() {
    let buckets = buckets_in_three_regions("calls-regions").await;
    let proxy = Proxy::start(moto().endpoint(), &["--region-map", &region_map(&buckets)]);
    let entries: Vec<(String, Option<&str>)> =
        buckets.iter().map(|(b, _)| (b.clone(), None)).collect();
    let dir = policy_dir(&exact_entries(&entries));
    let (code, report) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["unchanged"], 6, "{report}");
    let stats = proxy.stats();
    for (name, region) in &buckets {
        let redirects = stats["redirected_buckets"][name].as_u64().unwrap_or(0);
        assert!(redirects <= 1, "{name} in {region}: {stats}");
        assert_eq!(
            redirects,
            u64::from(*region != "us-east-1"),
            "{name}: {stats}"
        );
        assert_eq!(
            stats["by_bucket"][name]["GetBucketCors"],
            1 + redirects,
            "{stats}"
        );
    }
    assert_eq!(
        stats["requests"]["HeadBucket"],
        serde_json::Value::Null,
        "{stats}"
    );
}

#[tokio::test]
async fn a_saved_plan_records_discovered_regions_so_apply_pays_no_redirect() {
    let buckets = buckets_in_three_regions("calls-saved").await;
    let proxy = Proxy::start(moto().endpoint(), &["--region-map", &region_map(&buckets)]);
    // No declared regions, and every bucket drifted, so apply writes each one.
    let entries: Vec<(String, Option<&str>)> =
        buckets.iter().map(|(b, _)| (b.clone(), None)).collect();
    let yaml = exact_entries(&entries).replace(".example.com\"]", "-new.example.com\"]");
    let dir = policy_dir(&yaml);
    let plan_path = dir.path().join("fleet.plan.json");
    let out = s3cors(proxy.endpoint())
        .arg("plan")
        .arg(dir.path().join("fleet.yaml"))
        .arg("--out")
        .arg(&plan_path)
        .output()
        .expect("run s3cors plan");
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan_path).expect("plan file")).expect("JSON");
    let recorded: BTreeMap<String, Option<String>> = file["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| {
            (
                b["bucket"].as_str().expect("bucket").to_owned(),
                b["region"].as_str().map(str::to_owned),
            )
        })
        .collect();
    for (name, region) in &buckets {
        // The default region never answers "wrong region", so nothing names it.
        let want = (*region != "us-east-1").then(|| (*region).to_owned());
        assert_eq!(recorded[name], want, "{name}: {file}");
    }

    proxy.reset();
    let out = s3cors(proxy.endpoint())
        .arg("apply")
        .arg(&plan_path)
        .output()
        .expect("run s3cors apply");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stats = proxy.stats();
    for (name, _) in &buckets {
        assert_eq!(
            stats["redirected_buckets"][name].as_u64().unwrap_or(0),
            0,
            "apply went straight to {name}'s region: {stats}"
        );
        assert_eq!(stats["by_bucket"][name]["PutBucketCors"], 1, "{stats}");
    }
}

#[tokio::test]
async fn plan_with_match_and_tags_lists_once_and_reads_tags_only_for_glob_matches() {
    let endpoint = moto().endpoint();
    let prefix = unique_bucket("glob");
    // web-0..3 pass the glob; web-0 and web-1 carry the tag; other-0..1 do not
    // pass the glob (and are tagged, to show their tags are never read).
    let web: Vec<String> = (0..4).map(|i| format!("{prefix}-web-{i}")).collect();
    let other: Vec<String> = (0..2).map(|i| format!("{prefix}-other-{i}")).collect();
    for name in web.iter().chain(&other) {
        create_bucket_in(endpoint, name, "us-east-1").await;
    }
    for name in web.iter().take(2).chain(&other) {
        tag_bucket(endpoint, name, &[("team", "web")]).await;
    }
    let yaml = format!(
        "version: 1\nbuckets:\n  - match: \"{prefix}-web-*\"\n    tags: {{team: web}}\n    rules:\n      - AllowedOrigins: [\"https://app.example.com\"]\n        AllowedMethods: [GET]\n"
    );
    let dir = policy_dir(&yaml);
    let proxy = Proxy::start(endpoint, &[]);
    let (code, report) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    let actions = planned(&report);
    assert_eq!(
        actions.keys().cloned().collect::<Vec<_>>(),
        web[..2].to_vec(),
        "{report}"
    );
    let stats = proxy.stats();
    assert_eq!(stats["requests"]["ListBuckets"], 1, "{stats}");
    assert_eq!(stats["requests"]["GetBucketTagging"], 4, "{stats}");
    assert_eq!(stats["requests"]["GetBucketCors"], 2, "{stats}");
    assert_eq!(
        stats["requests"]["HeadBucket"],
        serde_json::Value::Null,
        "{stats}"
    );
    for name in &other {
        assert_eq!(stats["by_bucket"][name], serde_json::Value::Null, "{stats}");
    }
}

/// Every bucket's first read is answered SlowDown.
#[tokio::test]
async fn plan_retries_throttled_reads_to_success() {
    let endpoint = moto().endpoint();
    let names: Vec<String> = (0..4)
        .map(|i| unique_bucket(&format!("plan-throttle-{i}")))
        .collect();
    for name in &names {
        create_bucket_in(endpoint, name, "us-east-1").await;
    }
    let proxy = Proxy::start(
        endpoint,
        &["--throttle-first", "1", "--throttle-ops", "GetBucketCors"],
    );
    let entries: Vec<(String, Option<&str>)> = names
        .iter()
        .map(|b| (b.clone(), Some("us-east-1")))
        .collect();
    let dir = policy_dir(&exact_entries(&entries));
    let (code, report) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["create"], 4, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(proxy.count("throttled", "GetBucketCors"), 4);
    assert_eq!(proxy.count("forwarded", "GetBucketCors"), 4);
}

/// With no configured attempts, throttling gets the fleet budget (10 attempts)
/// and other failures the SDK's usual 3; `AWS_MAX_ATTEMPTS` sets both.
#[tokio::test]
async fn plan_attempt_budgets_for_throttling_and_other_failures() {
    let endpoint = moto().endpoint();
    let name = unique_bucket("budget");
    create_bucket_in(endpoint, &name, "us-east-1").await;
    let dir = policy_dir(&exact_entries(&[(name.clone(), Some("us-east-1"))]));
    let gets = |proxy: &Proxy| proxy.count("requests", "GetBucketCors");

    // Three SlowDowns in a row: a fourth attempt, and a success.
    let proxy = Proxy::start(endpoint, &["--throttle-first", "3"]);
    let (code, report) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!((code, gets(&proxy)), (0, 4), "{report}");

    // 500 InternalError is not throttling: three attempts, then the bucket fails.
    let proxy = Proxy::start(endpoint, &["--fail-first", "5"]);
    let (code, report) = plan_json(proxy.endpoint(), dir.path(), &[]);
    assert_eq!((code, gets(&proxy)), (1, 3), "{report}");
    assert_eq!(report["errors"][0]["kind"], "read-failed", "{report}");
    let message = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("InternalError"), "{report}");

    // An explicit budget applies to every failure, as in every AWS tool.
    let proxy = Proxy::start(endpoint, &["--fail-first", "3"]);
    let out = s3cors(proxy.endpoint())
        .env("AWS_MAX_ATTEMPTS", "4")
        .arg("plan")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .expect("run s3cors");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(gets(&proxy), 4);
}

#[tokio::test]
async fn shards_cover_every_bucket_exactly_once() {
    let endpoint = moto().endpoint();
    let prefix = unique_bucket("shard");
    let exact: Vec<String> = (0..24).map(|i| format!("{prefix}-x-{i:02}")).collect();
    let globbed: Vec<String> = (0..8).map(|i| format!("{prefix}-g-{i:02}")).collect();
    for name in exact.iter().chain(&globbed) {
        create_bucket_in(endpoint, name, "us-east-1").await;
    }
    let entries: Vec<(String, Option<&str>)> = exact
        .iter()
        .map(|b| (b.clone(), Some("us-east-1")))
        .collect();
    let yaml = exact_entries(&entries)
        + &format!(
            "  - match: \"{prefix}-g-*\"\n    rules:\n      - AllowedOrigins: [\"*\"]\n        AllowedMethods: [GET]\n"
        );
    let dir = policy_dir(&yaml);
    let all: BTreeSet<String> = exact.iter().chain(&globbed).cloned().collect();

    for count in [1u32, 3, 5] {
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        for index in 1..=count {
            let shard = format!("{index}/{count}");
            let (code, report) = plan_json(endpoint, dir.path(), &["--shard", &shard]);
            assert_eq!(code, 0, "shard {shard}: {report}");
            for bucket in planned(&report).into_keys() {
                assert_eq!(shard_of(&bucket, count), index, "{bucket} in {shard}");
                if let Some(first) = seen.insert(bucket.clone(), index) {
                    panic!("{bucket} planned in shard {first}/{count} and {shard}");
                }
            }
        }
        let covered: BTreeSet<String> = seen.into_keys().collect();
        assert_eq!(covered, all, "{count} shards");
    }
}

#[tokio::test]
async fn shard_plans_are_applied_one_by_one_to_the_whole_fleet() {
    let endpoint = moto().endpoint();
    let prefix = unique_bucket("shard-apply");
    let names: Vec<String> = (0..12).map(|i| format!("{prefix}-{i:02}")).collect();
    for name in &names {
        create_bucket_in(endpoint, name, "us-east-1").await;
    }
    let entries: Vec<(String, Option<&str>)> = names
        .iter()
        .map(|b| (b.clone(), Some("us-east-1")))
        .collect();
    let dir = policy_dir(&exact_entries(&entries));
    let policy = dir.path().join("fleet.yaml");
    let plan_file = |k: u32| dir.path().join(format!("shard-{k}.json"));

    // A CI matrix: every shard plans first, each naming its shard another way
    // (`--shard K/N`; 0-based flags; a Kubernetes Indexed Job's environment), ...
    for k in 1..=3u32 {
        let mut cmd = s3cors(endpoint);
        cmd.arg("plan").arg(&policy).arg("--out").arg(plan_file(k));
        match k {
            1 => cmd.args(["--shard", "1/3"]),
            2 => cmd.args(["--shard-index", "1", "--shard-count", "3"]),
            _ => cmd
                .env("S3CORS_SHARD_COUNT", "3")
                .env("JOB_COMPLETION_INDEX", "2"),
        };
        let out = cmd.output().expect("run s3cors plan");
        assert_eq!(out.status.code(), Some(0), "shard {k}: {out:?}");
    }
    // ... then one merged plan is shown (a PR comment) ...
    let show = |files: &[u32]| {
        let mut cmd = s3cors(endpoint);
        cmd.args(["--format", "json", "show"]);
        for k in files {
            cmd.arg(plan_file(*k));
        }
        cmd.output().expect("run s3cors show")
    };
    let out = show(&[3, 1, 2]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut shown: Vec<String> = report["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["bucket"].as_str().unwrap_or_default().to_owned())
        .collect();
    shown.sort();
    assert_eq!(shown, names, "every bucket once");
    for (files, why) in [
        (&[1, 3][..], "shard 2/3 is missing"),
        (&[1, 2, 2, 3], "shard 2/3 is given twice"),
    ] {
        let out = show(files);
        assert_eq!(out.status.code(), Some(1), "{files:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{files:?}: {stderr}");
    }
    // ... and the plans are applied in turn.
    let s3 = AwsS3::from_sdk_config(sdk_config(endpoint).await, true);
    let live = |name: String| {
        let s3 = &s3;
        async move { s3.get_cors(&BucketTarget::new(&name)).await.expect("get") }
    };
    for k in 1..=3 {
        let out = s3cors(endpoint)
            .args(["--format", "json", "apply"])
            .arg(plan_file(k))
            .output()
            .expect("run s3cors apply");
        assert_eq!(out.status.code(), Some(0), "shard {k}: {out:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            report["shard"],
            serde_json::json!({"index": k, "count": 3}),
            "shard {k}"
        );
        for name in &names {
            let want =
                (shard_of(name, 3) <= k).then(|| config(&format!("https://{name}.example.com")));
            assert_eq!(
                live(name.clone()).await,
                want,
                "{name} after applying shard {k}/3"
            );
        }
    }
    let out = s3cors(endpoint)
        .arg("plan")
        .arg(&policy)
        .arg("--detailed-exitcode")
        .output()
        .expect("run s3cors plan");
    assert_eq!(out.status.code(), Some(0), "nothing left to do: {out:?}");
}

/// The accounts the drift-merge test spreads its buckets over: moto's own, two
/// others (moto does not check an expected owner), and none.
const ACCOUNTS: [Option<&str>; 4] = [
    Some("123456789012"),
    Some("111111111111"),
    Some("222222222222"),
    None,
];

#[tokio::test]
async fn drift_of_every_shard_merges_into_the_unsharded_drift() {
    let endpoint = moto().endpoint();
    let prefix = unique_bucket("shard-drift");
    // 16 declared buckets (one never created: missing), 4 more found by a glob.
    let names: Vec<String> = (0..16).map(|i| format!("{prefix}-{i:02}")).collect();
    let globbed: Vec<String> = (0..4).map(|i| format!("{prefix}-g{i}")).collect();
    let account_of: BTreeMap<&str, Option<&str>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), ACCOUNTS[i % ACCOUNTS.len()]))
        .chain(globbed.iter().map(|n| (n.as_str(), Some("111111111111"))))
        .collect();
    let s3 = AwsS3::from_sdk_config(sdk_config(endpoint).await, true);
    for (i, name) in names.iter().chain(&globbed).enumerate() {
        if i == 5 {
            continue; // declared, never created
        }
        create_bucket_in(endpoint, name, "us-east-1").await;
        // A third in sync, a third drifted, a third without CORS (drifted too).
        let cors = match i % 3 {
            0 => Some(config(&format!("https://{name}.example.com"))),
            1 => Some(config("https://other.example.com")),
            _ => None,
        };
        if let Some(cors) = cors {
            s3.put_cors(&BucketTarget::new(name), &cors)
                .await
                .expect("put");
        }
    }
    let mut yaml = String::from("version: 1\nbuckets:\n");
    for name in &names {
        yaml.push_str(&format!("  - name: {name}\n    region: us-east-1\n"));
        if let Some(account) = account_of[name.as_str()] {
            yaml.push_str(&format!("    account: \"{account}\"\n"));
        }
        yaml.push_str(&format!(
            "    rules:\n      - AllowedOrigins: [\"https://{name}.example.com\"]\n        AllowedMethods: [GET, HEAD]\n        MaxAgeSeconds: 3600\n"
        ));
    }
    yaml.push_str(&format!(
        "  - match: \"{prefix}-g*\"\n    account: \"111111111111\"\n    rules:\n      - AllowedOrigins: [\"https://*.example.com\"]\n        AllowedMethods: [GET]\n"
    ));
    let dir = policy_dir(&yaml);
    let policy = dir.path().join("fleet.yaml");
    let file = |name: &str| dir.path().join(name);
    let drift = |configure: &dyn Fn(&mut assert_cmd::Command), out: &str| {
        let mut cmd = s3cors(endpoint);
        cmd.args(["--format", "json", "drift"]).arg(&policy);
        configure(&mut cmd);
        let run = cmd.output().expect("run s3cors drift");
        assert!(
            matches!(run.status.code(), Some(0 | 2)),
            "{out}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::write(file(out), &run.stdout).expect("write report");
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
        (run.status.code(), report)
    };
    let merge = |format: &str, files: &[&str]| {
        let mut cmd = s3cors(endpoint);
        cmd.args(["--format", format, "drift", "--merge"]);
        for f in files {
            cmd.arg(file(f));
        }
        cmd.output().expect("run s3cors drift --merge")
    };

    let (whole_code, whole) = drift(&|_| {}, "whole.json");
    assert_eq!(whole_code, Some(2), "drifted buckets: {whole}");
    assert!(whole.get("shard").is_none(), "{whole}");
    let summary = &whole["summary"];
    assert_eq!(summary["missing"], 1, "{whole}");
    assert!(summary["drifted"].as_u64() > Some(0), "{whole}");
    assert!(summary["in_sync"].as_u64() > Some(0), "{whole}");
    assert_eq!(
        whole["buckets"].as_array().map(Vec::len),
        Some(names.len() + globbed.len())
    );

    // By bucket name, each shard named another way; by account, 0-based and
    // from the environment.
    let by_bucket: [&dyn Fn(&mut assert_cmd::Command); 3] = [
        &|c| {
            c.args(["--shard", "1/3"]);
        },
        &|c| {
            c.args(["--shard-index", "1", "--shard-count", "3"]);
        },
        &|c| {
            c.env("S3CORS_SHARD_COUNT", "3")
                .env("JOB_COMPLETION_INDEX", "2");
        },
    ];
    let by_account: [&dyn Fn(&mut assert_cmd::Command); 3] = [
        &|c| {
            c.args([
                "--shard-index",
                "0",
                "--shard-count",
                "3",
                "--shard-by",
                "account",
            ]);
        },
        &|c| {
            c.env("S3CORS_SHARD", "2/3")
                .env("S3CORS_SHARD_BY", "account");
        },
        &|c| {
            c.args(["--shard", "3/3"]).env("S3CORS_SHARD_BY", "account");
        },
    ];
    for (by, runs) in [("bucket", by_bucket), ("account", by_account)] {
        let mut files = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, run) in runs.iter().enumerate() {
            let k = i as u32 + 1;
            let name = format!("{by}-{k}.json");
            let (_, report) = drift(run, &name);
            let mut want_shard = serde_json::json!({"index": k, "count": 3});
            if by == "account" {
                want_shard["by"] = "account".into();
            }
            assert_eq!(report["shard"], want_shard, "{name}");
            for b in report["buckets"].as_array().expect("buckets") {
                let bucket = b["bucket"].as_str().expect("name");
                let key = match by {
                    "bucket" => bucket,
                    _ => account_of[bucket].unwrap_or(""),
                };
                assert_eq!(shard_of(key, 3), k, "{bucket} in {name}");
                assert!(seen.insert(bucket.to_owned()), "{bucket} twice");
            }
            files.push(name);
        }
        assert_eq!(seen.len(), names.len() + globbed.len(), "by {by}");
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let out = merge("json", &[files[2], files[0], files[1]]);
        assert_eq!(out.status.code(), whole_code, "by {by}: {out:?}");
        let merged: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(merged["summary"], whole["summary"], "by {by}");
        assert_eq!(merged["buckets"], whole["buckets"], "by {by}");
        assert!(merged.get("shard").is_none(), "{merged}");
        let md = merge("markdown", &files);
        assert_eq!(md.status.code(), whole_code);
        let md = String::from_utf8_lossy(&md.stdout);
        assert!(md.starts_with("### s3cors drift\n"), "{md}");
        let human = merge("human", &files);
        let human = String::from_utf8_lossy(&human.stdout);
        assert!(human.starts_with("Drift of 3 shards ("), "{human}");
    }

    // By account, the unmanaged buckets are all in one shard, and no shard takes
    // a bucket another shard manages for unmanaged.
    let mut unmanaged_in = BTreeSet::new();
    for k in 1..=3u32 {
        let (_, report) = drift(
            &|c| {
                c.args([
                    "--shard",
                    &format!("{k}/3"),
                    "--shard-by",
                    "account",
                    "--unmanaged",
                ]);
            },
            &format!("unmanaged-{k}.json"),
        );
        let unmanaged = report["unmanaged"].as_array().expect("unmanaged");
        if !unmanaged.is_empty() {
            unmanaged_in.insert(k);
        }
        for u in unmanaged {
            let bucket = u["bucket"].as_str().expect("name");
            assert!(
                !account_of.contains_key(bucket),
                "{bucket} is managed, shard {k}"
            );
        }
    }
    assert!(
        unmanaged_in.len() <= 1,
        "unmanaged buckets in shards {unmanaged_in:?}"
    );
    // A plan of one shard records it in its report.
    let out = s3cors(endpoint)
        .args([
            "--format",
            "json",
            "--shard",
            "2/3",
            "--shard-by",
            "account",
            "plan",
        ])
        .arg(&policy)
        .output()
        .expect("run s3cors plan");
    // Exit 1 when the missing bucket is in this shard: it cannot be planned.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        plan["shard"],
        serde_json::json!({"index": 2, "count": 3, "by": "account"})
    );

    // What does not make one run is refused, naming the files and the fix.
    let proxy = Proxy::start(endpoint, &[]);
    let mut elsewhere = s3cors(proxy.endpoint());
    let run = elsewhere
        .args(["--format", "json", "--shard", "2/3", "drift"])
        .arg(&policy)
        .output()
        .expect("run s3cors drift");
    std::fs::write(file("elsewhere-2.json"), &run.stdout).expect("write");
    std::fs::write(&policy, format!("{yaml}# edited\n")).expect("edit policy");
    drift(
        &|c| {
            c.args(["--shard", "2/3"]);
        },
        "edited-2.json",
    );
    let refusals: [(&[&str], &str); 7] = [
        (&["bucket-1.json", "bucket-3.json"], "shard 2/3 is missing"),
        (
            &[
                "bucket-1.json",
                "bucket-2.json",
                "bucket-2.json",
                "bucket-3.json",
            ],
            "is given twice",
        ),
        (
            &["whole.json", "bucket-2.json", "bucket-3.json"],
            "whole.json was not made with --shard",
        ),
        (
            &["account-1.json", "bucket-2.json", "bucket-3.json"],
            "bucket-2.json was sharded by bucket, but",
        ),
        (
            &["bucket-1.json", "edited-2.json", "bucket-3.json"],
            "edited-2.json was made from other policies than",
        ),
        (
            &["bucket-1.json", "elsewhere-2.json", "bucket-3.json"],
            "elsewhere-2.json was made against http://",
        ),
        (
            &["bucket-1.json", "fleet.yaml"],
            "fleet.yaml is not a drift report to merge",
        ),
    ];
    for (files, why) in refusals {
        let out = merge("json", files);
        assert_eq!(out.status.code(), Some(1), "{files:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{files:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{files:?}");
    }
}

// --- output at fleet size -----------------------------------------------------

/// A few hundred buckets under one `match:` entry: `apply` shows the one change
/// once and its result in one line, whatever the number of buckets; `drift`
/// groups buckets with identical live rules; `-v` and the JSON reports still
/// name every bucket.
#[tokio::test]
async fn fleet_output_is_bounded_and_grouped() {
    use futures::{StreamExt, stream};

    const N: usize = 300;
    let endpoint = moto().endpoint();
    let prefix = unique_bucket("summary");
    let names: Vec<String> = (0..N).map(|i| format!("{prefix}-{i:04}")).collect();
    let direct = crate::support::aws_s3(endpoint).await;
    let old = config("https://old.example.com");
    stream::iter(&names)
        .for_each_concurrent(16, |name| {
            let (direct, old) = (&direct, &old);
            async move {
                crate::support::create_bucket(endpoint, name).await;
                direct
                    .put_cors(&BucketTarget::new(name), old)
                    .await
                    .expect("seed CORS");
            }
        })
        .await;

    let work = crate::support::work::Work::new();
    work.policy(
        "fleet.yaml",
        &format!(
            "version: 1\nbuckets:\n  - match: '{prefix}-*'\n    rules:\n      - AllowedOrigins: [\"https://new.example.com\"]\n        AllowedMethods: [GET, HEAD]\n"
        ),
    );

    let applied = work.ok(&["apply", "--auto-approve"], 0);
    let lines = applied.lines().count();
    assert!(lines < 40, "{lines} lines for {N} buckets:\n{applied}");
    for want in [
        "By policy entry:\n  policies/fleet.yaml:3: 300 to update\n".to_owned(),
        "By account:\n  (default account): 300 to update\n".to_owned(),
        "~ 300 buckets will be updated, the same change each (policies/fleet.yaml:3)\n".to_owned(),
        format!("    {prefix}-0000 … {prefix}-0299\n"),
        format!("300 buckets: updated\n    {prefix}-0000 … {prefix}-0299\n"),
        "Apply complete: 0 created, 300 updated, 0 deleted.\n".to_owned(),
    ] {
        assert!(applied.contains(&want), "missing {want:?} in:\n{applied}");
    }
    assert_eq!(
        applied.matches("\"AllowedOrigins\"").count(),
        2,
        "{applied}"
    );

    // Out-of-band edits: the first 100 get one configuration, the rest another.
    stream::iter(names.iter().enumerate())
        .for_each_concurrent(16, |(i, name)| {
            let direct = &direct;
            async move {
                let origin = if i < 100 {
                    "https://a.example"
                } else {
                    "https://b.example"
                };
                direct
                    .put_cors(&BucketTarget::new(name), &config(origin))
                    .await
                    .expect("edit CORS");
            }
        })
        .await;
    let drift = work.ok(&["drift"], 2);
    assert!(drift.lines().count() < 15, "{drift}");
    for want in [
        format!(
            "drifted  100 buckets (policies/fleet.yaml:3): live rules differ from the policy, the same way in each; `s3cors plan` shows how\n    {prefix}-0000 … {prefix}-0099\n"
        ),
        format!(
            "drifted  200 buckets (policies/fleet.yaml:3): live rules differ from the policy, the same way in each; `s3cors plan` shows how\n    {prefix}-0100 … {prefix}-0299\n"
        ),
        "Drift: 0 in sync, 300 drifted, 0 missing.\n".to_owned(),
    ] {
        assert!(drift.contains(&want), "missing {want:?} in:\n{drift}");
    }

    let verbose = work.ok(&["drift", "-v"], 2);
    assert_eq!(
        verbose.matches(&format!("drifted  {prefix}-")).count(),
        N,
        "{verbose}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&work.ok(&["drift", "--format", "json"], 2)).expect("drift JSON");
    assert_eq!(json["buckets"].as_array().map(Vec::len), Some(N));

    let plan = work.plan_json(&[]);
    assert_eq!(crate::support::work::actions(&plan).len(), N);
    let md = work.ok(&["plan", "--format", "markdown"], 0);
    assert_eq!(md.matches("<details>").count(), 2, "{md}");
    assert!(
        md.contains("<b>100 buckets</b> will be updated, the same change each"),
        "{md}"
    );
}
