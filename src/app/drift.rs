//! `s3cors drift`: the compliance view of live state against the policies, and
//! of live configurations against the guardrails. Exit 2 on drift, 1 on errors
//! or guardrail violations, 0 when everything is in sync.

use std::collections::BTreeSet;

use anyhow::Context;

use super::policies;
use super::resolve::{self, Problem, Scope};
use super::{Console, Exit, Outcome, fetch};
use crate::cli::{DriftArgs, Format, Global};
use crate::plan::drift::{self, LiveViolation, UnmanagedBucket};
use crate::plan::{DesiredBucket, LiveBucket};
use crate::policy::guardrail;
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

    // Unmanaged: every listed bucket no entry selected (and in this shard).
    let managed_names: BTreeSet<&str> =
        resolution.buckets.iter().map(|m| m.name.as_str()).collect();
    let unresolved_names: BTreeSet<&str> = resolution
        .unresolved
        .iter()
        .map(|u| u.bucket.as_str())
        .collect();
    let unmanaged: Vec<BucketTarget> = resolution
        .listed
        .iter()
        .flatten()
        .filter(|b| {
            !managed_names.contains(b.name.as_str()) && !unresolved_names.contains(b.name.as_str())
        })
        .filter(|b| {
            global
                .shard
                .is_none_or(|s| crate::plan::shard::in_shard(&b.name, s.index, s.count))
        })
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
        report.unmanaged = Some(
            unmanaged
                .iter()
                .filter_map(|t| match live.get(&t.name) {
                    Some(LiveBucket::Found(Some(cfg))) => Some(UnmanagedBucket {
                        bucket: t.name.clone(),
                        rules: cfg.cors_rules.len(),
                    }),
                    _ => None,
                })
                .collect(),
        );
    }
    // Guardrails hold for every live configuration read, managed or not.
    for (bucket, state) in &live {
        if let LiveBucket::Found(Some(cfg)) = state {
            for v in guardrail::check(&policies.policy.guardrails, bucket, Some(cfg)) {
                report.violations.push(LiveViolation {
                    bucket: v.bucket,
                    guardrail: v.guardrail,
                    rule: v.rule,
                    value: v.value,
                    message: v.message,
                });
            }
        }
    }

    let stdout = match global.format {
        Format::Human => drift::human(&report),
        Format::Json => drift::json(&report),
        Format::Markdown => drift::markdown(&report),
    };
    let s = report.summary();
    let exit = if s.errors + s.guardrail_violations > 0 || !problems.is_empty() {
        Exit::Error
    } else if s.drifted + s.missing > 0 {
        Exit::Changes
    } else {
        Exit::Success
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
