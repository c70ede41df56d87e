//! `s3cors drift`: the compliance view of live state against the policies, and
//! of live configurations against the guardrails. Exit 2 on drift, 1 on errors
//! or guardrail violations, 0 when everything is in sync.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;

use super::resolve::{self, Problem, Scope};
use super::{Console, Exit, Outcome, Stream, fetch};
use super::{accounts, policies};
use crate::cli::{DriftArgs, Format, Global};
use crate::diag::Sources;
use crate::plan::drift::{self, DriftContext, DriftReport, JsonReport, Verdict};
use crate::plan::{DesiredBucket, LiveState};
use crate::render::{diagnostics, junit, sarif};
use crate::s3::BucketTarget;

pub async fn run(
    global: &Global,
    args: &DriftArgs,
    console: &mut Console<'_>,
) -> anyhow::Result<Outcome> {
    if !args.merge.is_empty() {
        return merge(global, &args.merge);
    }
    let color = super::use_color(global, console.stdout_is_terminal);
    let policies = match policies::load(&args.policies.paths, false, global, color) {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let roster = accounts::connect(global, &policies.policy).await?;
    let bar = |len| super::progress(global, console, len, "reading");
    let Checked {
        report,
        problems,
        unreachable,
        ..
    } = check(global, &policies, &roster, args.unmanaged, bar).await?;

    let exit = exit_of(&report);
    let mut stderr = policies.warnings.clone();
    stderr.push_str(&unreachable);
    if !problems.is_empty() {
        stderr.push_str(&diagnostics::human(&policies.sources, &problems, color));
    }
    if global.format == Format::Json {
        // Written as it is made, as plan's: at 100,000 buckets the JSON is large.
        return Ok(Outcome {
            stdout: String::new(),
            stream: Some(Stream::new(move |out| drift::write_json(out, &report))),
            stderr,
            exit,
        });
    }
    Ok(Outcome {
        stream: None,
        stdout: render(global.format, &report, global.verbose > 0),
        stderr,
        exit,
    })
}

/// One drift check's result, before it is rendered.
pub struct Checked {
    pub report: DriftReport,
    /// Buckets that could not be resolved to one policy entry, as diagnostics.
    pub problems: Vec<crate::diag::Diagnostic>,
    /// Accounts that could not be reached or listed, as text for stderr.
    pub unreachable: String,
    /// What the report was made from, for `watch --reconcile`'s plan: the
    /// managed buckets as the policies want them, and what was read.
    pub desired: Vec<DesiredBucket>,
    pub live: LiveState,
    /// Managed buckets whose entry says `reconcile: false`.
    pub hold: BTreeSet<String>,
}

/// Reads every managed bucket's live configuration (and, with `unmanaged`, every
/// listed bucket's) through `roster` and reports it against `policies`: what
/// `drift` prints and `watch` checks every cycle. `bar` makes the progress bar
/// for the number of buckets to read.
pub async fn check(
    global: &Global,
    policies: &policies::Policies,
    roster: &accounts::Roster,
    unmanaged: bool,
    bar: impl FnOnce(usize) -> indicatif::ProgressBar,
) -> anyhow::Result<Checked> {
    let s3 = &roster.fleet;
    let scope = Scope {
        targets: Vec::new(),
        shard: global.shard,
        parallelism: usize::from(global.parallelism),
    };
    let resolution = resolve::managed(
        &policies.policy,
        &policies.sources,
        roster,
        &scope,
        unmanaged,
    )
    .await
    .context("listing buckets")?;

    let mut problems = Vec::new();
    let mut unresolved = Vec::new();
    for u in &resolution.unresolved {
        let d = match &u.problem {
            Problem::Policy(d) => (**d).clone(),
            Problem::S3(e) => crate::diag::Diagnostic::error(
                crate::diag::ErrorCode::ReadFailed,
                format!("{}: {e}", u.bucket),
            ),
        };
        unresolved.push(drift::UnresolvedBucket {
            bucket: u.bucket.clone(),
            message: d.message.clone(),
        });
        problems.push(d);
    }
    // An account that could not be reached or listed: one entry, not one per
    // bucket, so a merged report of shards fails as this run does.
    for (bucket, message) in accounts::unreachable_entries(roster, &resolution.unlisted) {
        unresolved.push(drift::UnresolvedBucket { bucket, message });
    }

    // Managed here, or in another shard (`--shard-by account`).
    let managed_names: BTreeSet<&str> = resolution
        .buckets
        .iter()
        .map(|m| m.name.as_str())
        .chain(resolution.elsewhere.iter().map(String::as_str))
        .collect();
    let unresolved_names: BTreeSet<&str> = resolution
        .unresolved
        .iter()
        .map(|u| u.bucket.as_str())
        .collect();
    let shard = global.shard.map(crate::cli::Shard::record);
    let unmanaged_targets: Vec<BucketTarget> = resolution
        .listed
        .iter()
        .flatten()
        .filter(|b| {
            roster.wanted(b.account.as_deref())
                && drift::is_unmanaged(&b.info.name, &managed_names, &unresolved_names, shard)
        })
        .map(resolve::Listed::target)
        .collect();

    let hold: BTreeSet<String> = resolution
        .buckets
        .iter()
        .filter(|m| !m.entry.reconcile)
        .map(|m| m.name.clone())
        .collect();
    let mut shared = crate::policy::SharedConfigs::default();
    let (desired, mut targets): (Vec<DesiredBucket>, Vec<BucketTarget>) = resolution
        .buckets
        .into_iter()
        .map(|m| m.into_parts(&mut shared))
        .unzip();
    targets.extend(unmanaged_targets.iter().cloned());
    let bar = bar(targets.len());
    let live = fetch::live_state(s3, &targets, scope.parallelism, &bar).await;
    bar.finish_and_clear();
    let live = live?;

    let mut report = drift::report(&desired, &live);
    if unmanaged {
        report.unmanaged = Some(drift::unmanaged_with_cors(
            unmanaged_targets.iter().map(|t| t.name.as_str()),
            &live,
        ));
    }
    report.violations = drift::live_violations(&policies.policy.guardrails, &live);
    report.unresolved = unresolved;
    report.findings = crate::plan::findings::Findings::new(
        &policies.sources,
        policies.diagnostics.iter().chain(&problems),
    );
    report.context = DriftContext {
        policy_digest: super::plan::sources_digest(&policies.sources),
        endpoint: super::endpoint_of(s3.default_client()),
        shard: global.shard.map(crate::cli::Shard::record),
    };

    Ok(Checked {
        unreachable: accounts::unreachable_report(roster, &resolution.unlisted),
        report,
        problems,
        desired,
        live,
        hold,
    })
}

/// The report in `format`; `verbose` (`-v`) lists every bucket.
fn render(format: Format, report: &DriftReport, verbose: bool) -> String {
    match format {
        Format::Human => drift::human(report, verbose),
        Format::Json => drift::json(report),
        Format::Markdown => drift::markdown(report, verbose),
        Format::Sarif => sarif::render(&Sources::new(), &sarif::from_drift(report)),
        Format::Junit => junit::drift(report),
        Format::Html => drift::html::html(
            Some(report),
            &drift::html::Page {
                checked_at: &super::utc_now(),
                verbose,
                ..drift::html::Page::default()
            },
        ),
    }
}

fn exit_of(report: &DriftReport) -> Exit {
    match report.verdict() {
        Verdict::Failed => Exit::Error,
        Verdict::Drifted => Exit::Changes,
        Verdict::InSync => Exit::Success,
    }
}

/// `drift --merge REPORT...`: reads every shard's JSON report, and the core
/// merges them; the exit code is the merged report's, as one run's would be.
fn merge(global: &Global, paths: &[PathBuf]) -> anyhow::Result<Outcome> {
    let files = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the drift report {}", path.display()))?;
            let report = JsonReport::from_json(&text).map_err(|e| {
                anyhow::anyhow!("{} is not a drift report to merge: {e}", path.display())
            })?;
            Ok((path.display().to_string(), report))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let report = drift::merge(&files)
        .map_err(|e| anyhow::anyhow!("the drift reports cannot be merged: {e}"))?;
    let mut stdout = String::new();
    if global.format == Format::Human {
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        let header = format!(
            "Drift of {} shards ({}), merged.",
            files.len(),
            names.join(", ")
        );
        stdout.push_str(&crate::text::terminal_safe(&header));
        stdout.push_str("\n\n");
    }
    stdout.push_str(&render(global.format, &report, global.verbose > 0));
    Ok(Outcome::new(stdout, exit_of(&report)))
}
