//! The S3 layer (`s3cors::s3`) against a real S3-compatible server (moto).

use crate::support::{aws_s3, create_bucket, moto, sdk_client, unique_bucket};
use aws_sdk_s3::types::{CorsConfiguration, CorsRule as SdkCorsRule, Tag, Tagging};
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::s3::{AwsS3, BucketTarget, S3Api, S3Error, S3ErrorKind};

/// moto's default account id: the owner of every bucket it creates.
const MOTO_ACCOUNT: &str = "123456789012";

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn rule(
    headers: &[&str],
    methods: &[Method],
    origins: &[&str],
    expose: &[&str],
    max_age: i32,
) -> CorsRule {
    CorsRule {
        id: None,
        allowed_headers: strings(headers),
        allowed_methods: methods.to_vec(),
        allowed_origins: strings(origins),
        expose_headers: strings(expose),
        max_age_seconds: Some(max_age),
    }
}

fn config_a() -> CorsConfig {
    CorsConfig::new(vec![rule(
        &["Content-Type", "Authorization"],
        &[Method::Get, Method::Head],
        &["https://app.example.com"],
        &["ETag"],
        86400,
    )])
}

fn config_b() -> CorsConfig {
    CorsConfig::new(vec![rule(
        &["*"],
        &[Method::Get, Method::Head],
        &["*"],
        &[],
        3600,
    )])
}

fn config_c() -> CorsConfig {
    CorsConfig::new(vec![
        rule(
            &["*"],
            &[Method::Get, Method::Head],
            &["https://app.example.com", "https://cdn.example.com"],
            &["ETag", "x-amz-request-id"],
            86400,
        ),
        rule(
            &["Content-Type", "Authorization"],
            &[Method::Put, Method::Post],
            &["https://admin.example.com"],
            &[],
            3600,
        ),
    ])
}

/// C with IDs, values in an unusual order and no MaxAgeSeconds on one rule: all kept.
fn config_c_with_ids() -> CorsConfig {
    let mut cfg = config_c();
    cfg.cors_rules[0].id = Some("read".to_owned());
    cfg.cors_rules[1].id = Some("admin-write".to_owned());
    cfg.cors_rules[1].allowed_methods = vec![Method::Post, Method::Put, Method::Delete];
    cfg.cors_rules[1].max_age_seconds = None;
    cfg
}

async fn new_bucket(prefix: &str) -> (AwsS3, BucketTarget) {
    let endpoint = moto().endpoint();
    let name = unique_bucket(prefix);
    create_bucket(endpoint, &name).await;
    (aws_s3(endpoint).await, BucketTarget::new(name))
}

#[tokio::test]
async fn example_configurations_round_trip_exactly() {
    for (label, cfg) in [
        ("a", config_a()),
        ("b", config_b()),
        ("c", config_c()),
        ("c-ids", config_c_with_ids()),
    ] {
        let (s3, bucket) = new_bucket(&format!("roundtrip-{label}")).await;
        s3.put_cors(&bucket, &cfg).await.expect("put_cors");
        let live = s3.get_cors(&bucket).await.expect("get_cors");
        assert_eq!(live, Some(cfg.clone()), "configuration {label}");

        // Replacing is total: the second put leaves no trace of the first.
        s3.put_cors(&bucket, &config_b())
            .await
            .expect("second put_cors");
        let live = s3.get_cors(&bucket).await.expect("get_cors after replace");
        assert_eq!(
            live,
            Some(config_b()),
            "configuration {label} replaced by b"
        );
    }
}

#[tokio::test]
async fn bucket_without_cors_reads_as_none() {
    let (s3, bucket) = new_bucket("no-cors").await;
    assert_eq!(s3.get_cors(&bucket).await.expect("get_cors"), None);
}

#[tokio::test]
async fn delete_is_idempotent() {
    let (s3, bucket) = new_bucket("delete").await;
    s3.put_cors(&bucket, &config_a()).await.expect("put_cors");
    s3.delete_cors(&bucket).await.expect("first delete");
    s3.delete_cors(&bucket).await.expect("second delete");
    assert_eq!(s3.get_cors(&bucket).await.expect("get_cors"), None);

    let (s3, never) = new_bucket("delete-never").await;
    s3.delete_cors(&never)
        .await
        .expect("delete without configuration");
}

#[tokio::test]
async fn unsupported_method_surfaces_as_invalid_request_with_s3s_message() {
    let endpoint = moto().endpoint();
    let name = unique_bucket("bad-method");
    create_bucket(endpoint, &name).await;
    let rule = SdkCorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("PATCH")
        .allowed_origins("https://app.example.com")
        .build()
        .expect("required fields set");
    let cfg = CorsConfiguration::builder()
        .cors_rules(rule)
        .build()
        .expect("required fields set");
    let err = sdk_client(endpoint)
        .await
        .put_bucket_cors()
        .bucket(&name)
        .cors_configuration(cfg)
        .send()
        .await
        .expect_err("S3 rejects PATCH");
    let err = S3Error::from_sdk("PutBucketCors", Some(&name), &err);
    assert_eq!(err.kind, S3ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.code.as_deref(), Some("InvalidRequest"));
    assert_eq!(err.status, Some(400));
    let message = err.message.clone().unwrap_or_default();
    assert!(
        message.contains("Found unsupported HTTP method"),
        "{message}"
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "PutBucketCors on bucket \"{name}\": InvalidRequest: Found unsupported HTTP method"
        )),
        "{shown}"
    );
}

#[tokio::test]
async fn missing_bucket_is_no_such_bucket_with_the_servers_code() {
    let s3 = aws_s3(moto().endpoint()).await;
    let name = unique_bucket("missing");
    let bucket = BucketTarget::new(&name);

    let get = s3.get_cors(&bucket).await.expect_err("no bucket");
    let put = s3
        .put_cors(&bucket, &config_a())
        .await
        .expect_err("no bucket");
    let delete = s3.delete_cors(&bucket).await.expect_err("no bucket");
    let tags = s3.get_tags(&bucket).await.expect_err("no bucket");
    for (op, err) in [
        ("GetBucketCors", get),
        ("PutBucketCors", put),
        ("DeleteBucketCors", delete),
        ("GetBucketTagging", tags),
    ] {
        assert_eq!(err.kind, S3ErrorKind::NoSuchBucket, "{err}");
        assert_eq!(err.code.as_deref(), Some("NoSuchBucket"), "{err}");
        assert_eq!(err.op, op);
        assert_eq!(err.bucket.as_deref(), Some(name.as_str()));
        assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    }

    // HeadBucket answers 404 without a body: the kind still says what happened.
    let region = s3.bucket_region(&name, None).await.expect_err("no bucket");
    assert_eq!(region.kind, S3ErrorKind::NoSuchBucket, "{region}");
    assert_eq!(region.op, "HeadBucket");
}

#[tokio::test]
async fn list_buckets_returns_created_buckets_and_honours_prefix() {
    let endpoint = moto().endpoint();
    let prefix = unique_bucket("list");
    let mut mine: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();
    for name in &mine {
        create_bucket(endpoint, name).await;
    }
    let other = unique_bucket("other");
    create_bucket(endpoint, &other).await;
    mine.sort();

    // moto ignores pagination (it truncates to MaxBuckets without a continuation
    // token), so pages are covered by the LocalStack smoke test; here, one page.
    let s3 = aws_s3(endpoint).await;
    let listed = s3
        .list_buckets(Some(&prefix))
        .await
        .expect("list with prefix");
    let mut names: Vec<String> = listed.iter().map(|b| b.name.clone()).collect();
    names.sort();
    assert_eq!(names, mine);
    for b in &listed {
        // moto 5.2 does not send BucketRegion.
        assert!(
            b.region.is_none() || b.region.as_deref() == Some("us-east-1"),
            "{b:?}"
        );
    }

    let all = aws_s3(endpoint)
        .await
        .list_buckets(None)
        .await
        .expect("list all");
    let all: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
    for name in mine.iter().chain([&other]) {
        assert!(all.contains(&name.as_str()), "{name} missing from {all:?}");
    }
    let mut dedup = all.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), all.len(), "duplicates in {all:?}");
}

#[tokio::test]
async fn get_tags_reads_tags_and_treats_no_tag_set_as_empty() {
    let (s3, bucket) = new_bucket("tags").await;
    assert!(s3.get_tags(&bucket).await.expect("no tags").is_empty());

    let tagging = Tagging::builder()
        .tag_set(
            Tag::builder()
                .key("team")
                .value("web")
                .build()
                .expect("tag"),
        )
        .tag_set(
            Tag::builder()
                .key("env")
                .value("prod")
                .build()
                .expect("tag"),
        )
        .build()
        .expect("tagging");
    sdk_client(moto().endpoint())
        .await
        .put_bucket_tagging()
        .bucket(&bucket.name)
        .tagging(tagging)
        .send()
        .await
        .expect("put_bucket_tagging");
    let tags = s3.get_tags(&bucket).await.expect("tags");
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(tags, [("env", "prod"), ("team", "web")]);
}

#[tokio::test]
async fn bucket_region_is_discovered() {
    let (s3, bucket) = new_bucket("region").await;
    assert_eq!(
        s3.bucket_region(&bucket.name, None).await.expect("head"),
        "us-east-1"
    );

    // A bucket created elsewhere reports its own region through HeadBucket.
    let name = unique_bucket("region-eu");
    sdk_client(moto().endpoint())
        .await
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("create in eu-west-1");
    let region = s3.bucket_region(&name, None).await.expect("head");
    assert_eq!(region, "eu-west-1");

    // Its region's client (a second cached client) reads and writes it.
    let target = BucketTarget {
        region: Some(region),
        ..BucketTarget::new(&name)
    };
    s3.put_cors(&target, &config_c())
        .await
        .expect("put in eu-west-1");
    assert_eq!(
        s3.get_cors(&target).await.expect("get in eu-west-1"),
        Some(config_c())
    );
}

/// moto accepts `x-amz-expected-bucket-owner` but does not check it (a wrong account
/// also succeeds there; AWS answers 403 AccessDenied), so only the owner case is tested.
#[tokio::test]
async fn expected_bucket_owner_is_accepted_for_the_owner() {
    let (s3, bucket) = new_bucket("owner").await;
    let owned = BucketTarget {
        expected_owner: Some(MOTO_ACCOUNT.to_owned()),
        ..bucket.clone()
    };
    s3.put_cors(&owned, &config_a())
        .await
        .expect("put with owner");
    assert_eq!(
        s3.get_cors(&owned).await.expect("get with owner"),
        Some(config_a())
    );
    assert!(
        s3.get_tags(&owned)
            .await
            .expect("tags with owner")
            .is_empty()
    );
    assert_eq!(
        s3.bucket_region(&owned.name, Some(MOTO_ACCOUNT))
            .await
            .expect("head with owner"),
        "us-east-1"
    );
    s3.delete_cors(&owned).await.expect("delete with owner");
    assert_eq!(s3.get_cors(&owned).await.expect("get"), None);
}

#[tokio::test]
async fn unreachable_endpoint_is_a_network_error() {
    // A loopback port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let s3 = aws_s3(&format!("http://127.0.0.1:{port}")).await;
    let err = s3
        .get_cors(&BucketTarget::new("anything"))
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind, S3ErrorKind::Network, "{err}");
    assert!(
        err.to_string()
            .starts_with("GetBucketCors on bucket \"anything\": "),
        "{err}"
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_client() {
    let (s3, bucket) = new_bucket("concurrent").await;
    s3.put_cors(&bucket, &config_c()).await.expect("put");
    let reads = (0..32).map(|_| s3.get_cors(&bucket));
    for live in futures::future::join_all(reads).await {
        assert_eq!(live.expect("get"), Some(config_c()));
    }
}
