//! Apply's per-bucket decision: given what the plan says, what the journal
//! recorded and what S3 returned just now, write the bucket or say why not.
//!
//! `apply` reads each bucket immediately before its own write and asks
//! [`decide`]; nothing is trusted that was not just read. A bucket the journal
//! marks `done` is verified too: if its rules are no longer the planned ones
//! (rolled back, edited by hand), that is reported, never "already applied".

use super::compare::{digest, equivalent};
use super::journal::BucketStatus;
use super::outcome::Applied;
use super::{BucketPlan, LiveBucket};
use crate::model::CorsConfig;

/// What to do with one bucket of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write the planned configuration. The journal records `before` (what S3
    /// returned just now), flushed, before the write.
    Write {
        /// The live configuration being replaced.
        before: Option<CorsConfig>,
    },
    /// Do not write; the bucket's result is this.
    Skip(Applied),
}

/// The decision for `bucket`, whose journal status is `journal` (if it has
/// one) and whose live state was read just now.
pub fn decide(bucket: &BucketPlan, journal: Option<&BucketStatus>, live: LiveBucket) -> Decision {
    let live = match live {
        LiveBucket::Found(live) => live,
        LiveBucket::Missing => {
            return Decision::Skip(Applied::Failed {
                error: "the bucket no longer exists".to_owned(),
            });
        }
        LiveBucket::Error(error) => return Decision::Skip(Applied::Failed { error }),
    };
    if equivalent(live.as_ref(), bucket.after.as_deref()) {
        return Decision::Skip(Applied::AlreadyApplied);
    }
    if let Some(BucketStatus::Done { after_digest }) = journal {
        return Decision::Skip(Applied::ChangedSinceApplied {
            applied_digest: after_digest.clone(),
            live_digest: digest(live.as_ref()),
        });
    }
    // The digest is exact; an equivalent re-serialisation of the planned
    // `before` (value order, header case) is not a change.
    if digest(live.as_ref()) == bucket.live_digest
        || equivalent(live.as_ref(), bucket.before.as_ref())
    {
        return Decision::Write { before: live };
    }
    Decision::Skip(Applied::Stale {
        planned_digest: bucket.live_digest.clone(),
        live_digest: digest(live.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cors::fixtures::rule;
    use crate::plan::Action;

    fn config(origin: &str) -> Option<CorsConfig> {
        Some(CorsConfig::new(vec![rule(&["GET"], &[origin], &[])]))
    }

    fn planned(before: Option<CorsConfig>, after: Option<CorsConfig>) -> BucketPlan {
        BucketPlan {
            bucket: "b".to_owned(),
            source: "p.yaml:3".to_owned(),
            action: Action::decide(before.as_ref(), after.as_ref()),
            live_digest: digest(before.as_ref()),
            before,
            after: after.map(std::sync::Arc::new),
            region: None,
            account: None,
            access: Default::default(),
        }
    }

    fn done(config: &Option<CorsConfig>) -> BucketStatus {
        BucketStatus::Done {
            after_digest: digest(config.as_ref()),
        }
    }

    #[test]
    fn every_case() {
        let old = config("https://old.example");
        let new = config("https://new.example");
        let other = config("https://someone-else.example");
        let update = planned(old.clone(), new.clone());
        let create = planned(None, new.clone());
        let delete = planned(old.clone(), None);
        let failed = BucketStatus::Failed {
            error: "x".to_owned(),
        };
        let write = |before: &Option<CorsConfig>| Decision::Write {
            before: before.clone(),
        };
        let stale = |b: &BucketPlan, live: &Option<CorsConfig>| {
            Decision::Skip(Applied::Stale {
                planned_digest: b.live_digest.clone(),
                live_digest: digest(live.as_ref()),
            })
        };
        let changed = |live: &Option<CorsConfig>| {
            Decision::Skip(Applied::ChangedSinceApplied {
                applied_digest: digest(new.as_ref()),
                live_digest: digest(live.as_ref()),
            })
        };
        let found = |c: &Option<CorsConfig>| LiveBucket::Found(c.clone());
        let cases: Vec<(
            &str,
            &BucketPlan,
            Option<BucketStatus>,
            LiveBucket,
            Decision,
        )> = vec![
            ("fresh update", &update, None, found(&old), write(&old)),
            ("fresh create", &create, None, found(&None), write(&None)),
            ("fresh delete", &delete, None, found(&old), write(&old)),
            (
                "someone else already applied it",
                &update,
                None,
                found(&new),
                Decision::Skip(Applied::AlreadyApplied),
            ),
            (
                "changed since the plan",
                &update,
                None,
                found(&other),
                stale(&update, &other),
            ),
            (
                "created since the plan",
                &create,
                None,
                found(&other),
                stale(&create, &other),
            ),
            (
                "someone else already deleted it",
                &delete,
                None,
                found(&None),
                Decision::Skip(Applied::AlreadyApplied),
            ),
            (
                "changed before a delete",
                &delete,
                None,
                found(&other),
                stale(&delete, &other),
            ),
            (
                "done and still applied",
                &update,
                Some(done(&new)),
                found(&new),
                Decision::Skip(Applied::AlreadyApplied),
            ),
            (
                "done, then rolled back",
                &update,
                Some(done(&new)),
                found(&old),
                changed(&old),
            ),
            (
                "done, then edited by hand",
                &update,
                Some(done(&new)),
                found(&other),
                changed(&other),
            ),
            (
                "killed mid-write, write not made",
                &update,
                Some(BucketStatus::InProgress),
                found(&old),
                write(&old),
            ),
            (
                "killed mid-write, write made",
                &update,
                Some(BucketStatus::InProgress),
                found(&new),
                Decision::Skip(Applied::AlreadyApplied),
            ),
            (
                "failed before, retried",
                &update,
                Some(failed.clone()),
                found(&old),
                write(&old),
            ),
            (
                "failed, then changed",
                &update,
                Some(failed),
                found(&other),
                stale(&update, &other),
            ),
            (
                "bucket gone",
                &update,
                None,
                LiveBucket::Missing,
                Decision::Skip(Applied::Failed {
                    error: "the bucket no longer exists".to_owned(),
                }),
            ),
            (
                "read failed",
                &update,
                Some(done(&new)),
                LiveBucket::Error("GetBucketCors on b timed out".to_owned()),
                Decision::Skip(Applied::Failed {
                    error: "GetBucketCors on b timed out".to_owned(),
                }),
            ),
        ];
        for (name, bucket, journal, live, expected) in cases {
            assert_eq!(decide(bucket, journal.as_ref(), live), expected, "{name}");
        }
    }

    #[test]
    fn an_equivalent_reserialisation_is_not_stale() {
        let old = Some(CorsConfig::new(vec![rule(
            &["GET"],
            &["https://a.example"],
            &["X-One", "x-two"],
        )]));
        let reordered = Some(CorsConfig::new(vec![rule(
            &["GET"],
            &["https://a.example"],
            &["x-two", "x-one"],
        )]));
        let b = planned(old, config("https://new.example"));
        assert_eq!(
            decide(&b, None, LiveBucket::Found(reordered.clone())),
            Decision::Write { before: reordered }
        );
    }
}
