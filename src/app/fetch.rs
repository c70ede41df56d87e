//! Fetching live CORS configurations into plain data ([`LiveState`]) before any
//! diffing: one GetBucketCors per bucket, at most `parallelism` in flight.

use futures::{StreamExt, stream};
use indicatif::ProgressBar;

use crate::plan::{LiveBucket, LiveState};
use crate::s3::{BucketTarget, S3Api, S3Error, S3ErrorKind};

/// Reads every bucket's live configuration; failures become [`LiveBucket`] values,
/// except missing credentials: every read fails the same way then, so the run
/// stops with that one error instead of repeating it for each bucket.
pub async fn live_state(
    s3: &impl S3Api,
    targets: &[BucketTarget],
    parallelism: usize,
    progress: &ProgressBar,
) -> Result<LiveState, S3Error> {
    let mut reads = stream::iter(targets)
        .map(|target| async move {
            let read = s3.get_cors(target).await;
            progress.inc(1);
            (target.name.clone(), read)
        })
        .buffer_unordered(parallelism.max(1));
    let mut live = LiveState::new();
    while let Some((name, read)) = reads.next().await {
        match read {
            Err(e) if e.kind == S3ErrorKind::NoCredentials => return Err(e),
            read => {
                live.insert(name, live_bucket(read));
            }
        }
    }
    Ok(live)
}

/// One read's result as plan data.
pub fn live_bucket(read: Result<Option<crate::model::CorsConfig>, S3Error>) -> LiveBucket {
    match read {
        Ok(config) => LiveBucket::Found(config),
        Err(e) if e.kind == S3ErrorKind::NoSuchBucket => LiveBucket::Missing,
        Err(e) => LiveBucket::Error(e.to_string()),
    }
}
