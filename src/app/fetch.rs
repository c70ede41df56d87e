//! Fetching live CORS configurations into plain data ([`LiveState`]) before any
//! diffing: one GetBucketCors per bucket, at most `parallelism` in flight.

use futures::{StreamExt, stream};
use indicatif::ProgressBar;

use crate::plan::{LiveBucket, LiveState};
use crate::s3::{BucketTarget, S3Api, S3Error, S3ErrorKind};

/// Reads every bucket's live configuration; failures become [`LiveBucket`] values.
pub async fn live_state(
    s3: &impl S3Api,
    targets: &[BucketTarget],
    parallelism: usize,
    progress: &ProgressBar,
) -> LiveState {
    stream::iter(targets)
        .map(|target| async move {
            let live = live_bucket(s3.get_cors(target).await);
            progress.inc(1);
            (target.name.clone(), live)
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await
}

/// One read's result as plan data.
pub fn live_bucket(read: Result<Option<crate::model::CorsConfig>, S3Error>) -> LiveBucket {
    match read {
        Ok(config) => LiveBucket::Found(config),
        Err(e) if e.kind == S3ErrorKind::NoSuchBucket => LiveBucket::Missing,
        Err(e) => LiveBucket::Error(e.to_string()),
    }
}
