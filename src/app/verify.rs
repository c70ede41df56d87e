//! `s3cors verify`: send real, unauthenticated CORS requests to each managed bucket
//! and check S3's answers against the simulator's predictions for the desired rules.
//!
//! Phases, each bounded by `--parallelism`: resolve the managed buckets (as `plan`
//! does) and, on AWS, the region of those that do not declare one; derive each
//! bucket's test matrix (`cors::verify::matrix`) and send every case (`probe`); for a
//! bucket with failures, read its live configuration to say whether the policy is not
//! applied (drift) or S3 answers differently from the simulator. `--url` instead checks
//! a URL in front of S3 (a CDN): without, then with `Origin`.

use std::time::Duration;

use anyhow::Context;
use futures::{StreamExt, stream};

use super::policies::{self, Policies};
use super::resolve::{self, Managed, Problem, Scope};
use super::{Exit, Outcome};
use crate::cli::{Format, Global, VerifyArgs};
use crate::cors::verify::report::{
    self, BucketProblem, BucketResult, CaseResult, UrlCheck, VerifyReport,
};
use crate::cors::verify::{self as core, Case, PROBE_KEY, cdn};
use crate::model::CorsConfig;
use crate::plan::compare;
use crate::policy::Selector;
use crate::policy::ownership::Ownership;
use crate::probe::{ProbeRequest, Prober, object_url};
use crate::s3::{S3Api, S3ErrorKind};

pub async fn run(global: &Global, args: &VerifyArgs, color: bool) -> anyhow::Result<Outcome> {
    // One probe (connect, answer, error body) gets what one S3 attempt gets.
    let timeout = Duration::from_secs(u64::from(global.timeout));
    let prober = Prober::new(timeout).context("loading the system's root certificates")?;
    let (report, stderr) = match &args.url {
        Some(url) => (
            check_url(global, args, url, &prober, color).await?,
            String::new(),
        ),
        None => {
            let policies = match policies::load(&args.policies.paths, false, global, color) {
                Ok(p) => p,
                Err(outcome) => return Ok(outcome),
            };
            let report = verify_buckets(global, args, &policies, &prober).await?;
            (report, policies.warnings)
        }
    };
    let stdout = match global.format {
        Format::Human => report::human(&report, color, global.verbose > 0),
        Format::Json => report::json(&report),
        Format::Markdown => report::markdown(&report),
        Format::Sarif => crate::render::sarif::render(
            &crate::diag::Sources::new(),
            &crate::render::sarif::from_verify(&report),
        ),
        Format::Junit => crate::render::junit::verify(&report),
        // Refused before the command runs (`app::format_refused`).
        Format::Html => report::json(&report),
    };
    let exit = if report.pass {
        Exit::Success
    } else {
        Exit::Error
    };
    Ok(Outcome {
        stream: None,
        stdout,
        stderr,
        exit,
    })
}

/// A bucket ready to probe: where its objects are and what to send.
struct Planned<'p> {
    managed: Managed<'p>,
    preflight_url: String,
    object_url: Option<String>,
    cases: Vec<Case>,
}

async fn verify_buckets(
    global: &Global,
    args: &VerifyArgs,
    policies: &Policies,
    prober: &Prober,
) -> anyhow::Result<VerifyReport> {
    let roster = super::accounts::connect(global, &policies.policy).await?;
    let s3 = roster.fleet.default_client();
    let parallelism = usize::from(global.parallelism).max(1);
    let scope = Scope {
        targets: args.bucket.clone(),
        shard: global.shard,
        parallelism,
    };
    let resolution = resolve::managed(&policies.policy, &policies.sources, &roster, &scope, false)
        .await
        .context("listing the buckets that `match:` entries select")?;
    // An account that could not be reached is one problem, not one per bucket.
    let unreachable = super::accounts::unreachable_entries(&roster, &resolution.unlisted)
        .into_iter()
        .map(|(bucket, message)| BucketProblem { bucket, message });
    let mut problems: Vec<BucketProblem> = resolution
        .unresolved
        .into_iter()
        .map(|u| BucketProblem {
            bucket: u.bucket,
            message: match u.problem {
                Problem::Policy(d) => d.message,
                Problem::S3(e) => e.to_string(),
            },
        })
        .chain(unreachable)
        .collect();

    // Where each bucket is: with an endpoint, no region is needed; on AWS, the
    // bucket's own region, declared, listed or discovered.
    let endpoint = super::endpoint_of(s3);
    let located: Vec<(Managed, Result<String, String>)> = stream::iter(resolution.buckets)
        .map(|m| {
            let endpoint = endpoint.url();
            async move {
                let region = match (&m.target.region, endpoint) {
                    (Some(r), _) => Ok(r.clone()),
                    (None, Some(_)) => Ok(s3.default_region().to_owned()),
                    (None, None) => s3
                        .bucket_region(&m.name, m.target.expected_owner.as_deref())
                        .await
                        .map_err(|e| format!("cannot find the bucket's region: {e}")),
                };
                (m, region)
            }
        })
        .buffered(parallelism)
        .collect()
        .await;

    let mut planned = Vec::new();
    for (managed, region) in located {
        let region = match region {
            Ok(r) => r,
            Err(message) => {
                problems.push(BucketProblem {
                    bucket: managed.name.clone(),
                    message,
                });
                continue;
            }
        };
        let url = |key: &str| {
            object_url(
                endpoint.url(),
                global.path_style,
                &region,
                &managed.name,
                key,
            )
        };
        let desired = managed.entry.desired();
        planned.push(Planned {
            preflight_url: url(args.object.as_deref().unwrap_or(PROBE_KEY)),
            object_url: args.object.as_deref().map(url),
            cases: core::matrix(desired.as_ref(), args.object.is_some()),
            managed,
        });
    }

    // Every case of every bucket, bounded overall.
    let jobs: Vec<(usize, usize, ProbeRequest)> = planned
        .iter()
        .enumerate()
        .flat_map(|(b, p)| {
            p.cases.iter().enumerate().map(move |(c, case)| {
                let url = if case.request.is_preflight() {
                    p.preflight_url.clone()
                } else {
                    p.object_url
                        .clone()
                        .unwrap_or_else(|| p.preflight_url.clone())
                };
                let request = ProbeRequest {
                    method: case.request.method.clone(),
                    url,
                    headers: report::request_headers(&case.request),
                };
                (b, c, request)
            })
        })
        .collect();
    let mut results: Vec<Vec<Option<CaseResult>>> =
        planned.iter().map(|p| vec![None; p.cases.len()]).collect();
    let mut sent = stream::iter(jobs)
        .map(|(b, c, request)| async move {
            let response = prober.send(&request).await;
            (b, c, request.url, response)
        })
        .buffer_unordered(parallelism);
    while let Some((b, c, url, response)) = sent.next().await {
        let case = &planned[b].cases[c];
        let response = response.as_ref().map_err(|e| e.to_string());
        results[b][c] = Some(CaseResult::new(case, &url, response));
    }
    drop(sent);

    // Hints for buckets with failures: is the policy applied at all?
    let buckets: Vec<(Planned, Vec<CaseResult>)> = planned
        .into_iter()
        .zip(results)
        .map(|(p, r)| (p, r.into_iter().flatten().collect()))
        .collect();
    let checked: Vec<Result<BucketResult, BucketProblem>> = stream::iter(buckets)
        .map(|(p, cases)| {
            // The bucket's own account's credentials read its live configuration.
            let s3 = &roster.fleet;
            async move {
                if cases.iter().all(|c| c.pass) {
                    return Ok(
                        BucketResult::new(p.managed.name, p.managed.source, cases, None)
                            .in_account(p.managed.target.expected_owner),
                    );
                }
                match hint(s3, &p.managed).await {
                    Hint::Missing(message) => Err(BucketProblem {
                        bucket: p.managed.name,
                        message,
                    }),
                    Hint::Text(hint) => {
                        Ok(
                            BucketResult::new(p.managed.name, p.managed.source, cases, Some(hint))
                                .in_account(p.managed.target.expected_owner),
                        )
                    }
                }
            }
        })
        .buffered(parallelism)
        .collect()
        .await;
    let mut buckets = Vec::new();
    for result in checked {
        match result {
            Ok(b) => buckets.push(b),
            Err(problem) => problems.push(problem),
        }
    }
    problems.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    Ok(VerifyReport::new(buckets, problems, None))
}

enum Hint {
    /// The bucket does not exist: its cases say nothing about CORS.
    Missing(String),
    Text(String),
}

/// What a bucket's failures suggest, from its live configuration.
async fn hint(s3: &impl S3Api, managed: &Managed<'_>) -> Hint {
    let desired = managed.entry.desired();
    match s3.get_cors(&managed.target).await {
        Ok(live) if compare::equivalent(live.as_ref(), desired.as_ref()) => Hint::Text(format!(
            "the live CORS configuration equals the policy, so S3 answers differently from the simulator; \
             `s3cors explain --bucket {} ...` shows the prediction (and please report it)",
            managed.name
        )),
        Ok(_) => Hint::Text(format!(
            "the live CORS configuration differs from the policy (changed out of band, or not applied yet): \
             `s3cors plan --target {}` shows the difference",
            managed.name
        )),
        Err(e) if e.kind == S3ErrorKind::NoSuchBucket => {
            Hint::Missing(format!("the bucket does not exist: {e}"))
        }
        Err(e) => Hint::Text(format!("cannot read the live CORS configuration: {e}")),
    }
}

/// `--url`: a GET without `Origin` (which primes a cache whose key lacks `Origin`),
/// then from origin A, then from origin B, in that order, each bounded by the probe
/// timeout; `cors::verify::cdn` picks the origins and judges the answers.
async fn check_url(
    global: &Global,
    args: &VerifyArgs,
    url: &str,
    prober: &Prober,
    color: bool,
) -> anyhow::Result<VerifyReport> {
    let picks = match bucket_config(global, args, color)? {
        Some(config) => cdn::origins(cdn::Policy::Known(config.as_ref()), &args.origin),
        None => cdn::origins(cdn::Policy::Unknown, &args.origin),
    }
    .map_err(anyhow::Error::msg)?;
    let origins = [None, Some(&picks[0].origin), Some(&picks[1].origin)];
    let mut answers = Vec::with_capacity(origins.len());
    // One after the other: the order is the point.
    for origin in origins {
        let request = ProbeRequest {
            method: "GET".to_string(),
            url: url.to_string(),
            headers: origin
                .map(|o| ("Origin".to_string(), o.clone()))
                .into_iter()
                .collect(),
        };
        answers.push(prober.send(&request).await.map_err(|e| e.to_string()));
    }
    let [none, a, b] =
        [&answers[0], &answers[1], &answers[2]].map(|r| r.as_ref().map_err(Clone::clone));
    let check = UrlCheck::new(url, &picks, [none, a, b]);
    Ok(VerifyReport::new(Vec::new(), Vec::new(), Some(check)))
}

/// The desired configuration of the one `--bucket` given with `--url` (`Some(None)`:
/// declared without rules), read from its policy; `None` without `--bucket`.
fn bucket_config(
    global: &Global,
    args: &VerifyArgs,
    color: bool,
) -> anyhow::Result<Option<Option<CorsConfig>>> {
    let bucket = match args.bucket.as_slice() {
        [] => return Ok(None),
        [bucket] => bucket,
        _ => anyhow::bail!(
            "--url checks one URL against one bucket's policy: give at most one --bucket"
        ),
    };
    let policies = match policies::load(&args.policies.paths, false, global, color) {
        Ok(p) => p,
        Err(outcome) => anyhow::bail!("the policies have errors:\n{}", outcome.stdout),
    };
    let ownership = Ownership::new(&policies.policy);
    let entry = ownership.exact(bucket).or_else(|| {
        policies
            .policy
            .buckets
            .iter()
            .find(|e| matches!(&e.selector, Selector::Match(m) if m.glob.is_match(bucket)))
    });
    let Some(entry) = entry else {
        anyhow::bail!(
            "no policy entry manages bucket {bucket}: give --origin ORIGIN (twice for two origins) without --bucket"
        );
    };
    Ok(Some(entry.desired()))
}
