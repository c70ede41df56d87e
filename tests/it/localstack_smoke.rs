//! The S3 layer against LocalStack, connected the way the CLI connects
//! (`AwsS3::connect` and the standard AWS environment).
//!
//! Keep this the only test in this binary: it sets process environment variables
//! before anything else runs, which is only sound while no other thread exists.

use crate::support::{create_bucket, localstack, unique_bucket};
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::s3::{AwsS3, BucketTarget, ConnectOptions, S3Api};

#[test]
fn localstack_round_trips_configuration_b_and_paginates_via_connect() {
    for (key, value) in crate::support::aws_env("") {
        if key == "AWS_ENDPOINT_URL" {
            continue; // passed as an option below, as `--endpoint-url` would be
        }
        // SAFETY: the only test of this binary, before any thread of ours starts
        // (the server and the runtime come after); libtest's main thread only waits.
        unsafe { std::env::set_var(key, value) };
    }
    let endpoint = localstack().endpoint().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let name = unique_bucket("smoke");
        create_bucket(&endpoint, &name).await;
        let options = ConnectOptions {
            endpoint_url: Some(endpoint.clone()),
            region: Some("us-east-1".to_owned()),
            profile: None,
            path_style: true,
            max_attempts: Some(3),
            timeout: None,
            access: Default::default(),
        };
        let s3 = AwsS3::connect(&options).await;
        assert_eq!(s3.endpoint_url(), Some(endpoint.as_str()));
        let bucket = BucketTarget::new(&name);
        let b = CorsConfig::new(vec![CorsRule {
            id: None,
            allowed_headers: vec!["*".to_owned()],
            allowed_methods: vec![Method::Get, Method::Head],
            allowed_origins: vec!["*".to_owned()],
            expose_headers: vec![],
            max_age_seconds: Some(3600),
        }]);
        assert_eq!(s3.get_cors(&bucket).await.expect("get before"), None);
        s3.put_cors(&bucket, &b).await.expect("put_cors");
        assert_eq!(s3.get_cors(&bucket).await.expect("get_cors"), Some(b));
        assert_eq!(
            s3.bucket_region(&name, None).await.expect("region"),
            "us-east-1"
        );
        s3.delete_cors(&bucket).await.expect("delete");

        // LocalStack paginates ListBuckets (moto does not) and sends BucketRegion.
        let prefix = unique_bucket("pages");
        let mut mine: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();
        for name in &mine {
            create_bucket(&endpoint, name).await;
        }
        mine.sort();
        let paged = AwsS3::connect(&options).await.with_list_page_size(2);
        let listed = paged.list_buckets(Some(&prefix)).await.expect("list pages");
        let mut names: Vec<String> = listed.iter().map(|b| b.name.clone()).collect();
        names.sort();
        assert_eq!(names, mine);
        assert!(
            listed
                .iter()
                .all(|b| b.region.as_deref() == Some("us-east-1")),
            "{listed:?}"
        );

        s3.delete_cors(&bucket).await.expect("delete again");
        assert_eq!(s3.get_cors(&bucket).await.expect("get after"), None);
    });
}
