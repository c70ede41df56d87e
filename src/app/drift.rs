//! `s3cors drift`: the compliance view of live state against the policies, and
//! of live configurations against the guardrails. Exit 2 on drift, 1 on errors
//! or guardrail violations, 0 when everything is in sync.

use std::collections::BTreeSet;

use anyhow::Context;

use super::policies;
use super::resolve::{self, Problem, Scope};
use super::{Console, Exit, Outcome, fetch};
use crate::cli::{DriftArgs, Format, Global};
use crate::plan::DesiredBucket;
use crate::plan::drift::{self, Verdict};
use crate::render::diagnostics;
use crate::s3::BucketTarget;

pub async fn run(
    global: &Global,
    args: &DriftArgs,
    console: &mut Console<'_>,
) -> anyhow::Result<Outcome> {
    let color = super::use_color(global, console.stdout_is_terminal);
    let policies = match policies::load(&args.policies.paths, false, global, color) {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let s3 = super::connect(global).await;
    let scope = Scope {
        targets: Vec::new(),
        shard: global.shard,
        parallelism: usize::from(global.parallelism),
    };
    let resolution = resolve::managed(
        &policies.policy,
        &policies.sources,
        &s3,
        &scope,
        args.unmanaged,
    )
    .await
    .context("listing buckets")?;

    let mut problems = Vec::new();
    for u in &resolution.unresolved {
        match &u.problem {
            Problem::Policy(d) => problems.push((**d).clone()),
            Problem::S3(e) => problems.push(crate::diag::Diagnostic::error(
                crate::diag::ErrorCode::ReadFailed,
                format!("{}: {e}", u.bucket),
            )),
        }
    }

    let managed_names: BTreeSet<&str> =
        resolution.buckets.iter().map(|m| m.name.as_str()).collect();
    let unresolved_names: BTreeSet<&str> = resolution
        .unresolved
        .iter()
        .map(|u| u.bucket.as_str())
        .collect();
    let shard = global.shard.map(|s| (s.index, s.count));
    let unmanaged: Vec<BucketTarget> = resolution
        .listed
        .iter()
        .flatten()
        .filter(|b| drift::is_unmanaged(&b.name, &managed_names, &unresolved_names, shard))
        .map(|b| BucketTarget {
            name: b.name.clone(),
            region: b.region.clone(),
            expected_owner: None,
        })
        .collect();

    let mut targets: Vec<BucketTarget> = resolution
        .buckets
        .iter()
        .map(|m| m.target.clone())
        .collect();
    targets.extend(unmanaged.iter().cloned());
    let bar = super::progress(global, console, targets.len(), "reading");
    let live = fetch::live_state(&s3, &targets, scope.parallelism, &bar).await;
    bar.finish_and_clear();
    let live = live?;

    let desired: Vec<DesiredBucket> = resolution
        .buckets
        .iter()
        .map(resolve::Managed::desired)
        .collect();
    let mut report = drift::report(&desired, &live);
    if args.unmanaged {
        report.unmanaged = Some(drift::unmanaged_with_cors(
            unmanaged.iter().map(|t| t.name.as_str()),
            &live,
        ));
    }
    report.violations = drift::live_violations(&policies.policy.guardrails, &live);

    let stdout = match global.format {
        Format::Human => drift::human(&report, global.verbose > 0),
        Format::Json => drift::json(&report),
        Format::Markdown => drift::markdown(&report, global.verbose > 0),
    };
    let exit = match drift::verdict(&report.summary(), problems.len()) {
        Verdict::Failed => Exit::Error,
        Verdict::Drifted => Exit::Changes,
        Verdict::InSync => Exit::Success,
    };
    let mut stderr = policies.warnings.clone();
    if !problems.is_empty() {
        stderr.push_str(&diagnostics::human(&policies.sources, &problems, color));
    }
    Ok(Outcome {
        stdout,
        stderr,
        exit,
    })
}
