//! `s3cors watch`: `drift` every interval, for as long as the process runs, with
//! Prometheus metrics, health checks, a status page and a log line per check.
//!
//! - One check at a time: the next starts an interval (jittered by up to a tenth,
//!   so many watchers do not call S3 in step) after the last one started, or at
//!   once when a check took longer than the interval.
//! - The policy files are read at the start of every check and parsed again only
//!   when their content changed (a Git sync sidecar swaps the folder). Policies
//!   with errors are reported and counted (`s3cors_policy_load_errors`) and the
//!   last good ones stay in force; until there is a good one, no check runs.
//! - The accounts are connected once per policy version (roles are assumed once,
//!   and the SDK refreshes their credentials).
//! - `--reconcile` writes the drifted buckets back after each check, through
//!   `apply`'s executor (`reconcile.rs`).
//! - SIGTERM or SIGINT ends the run: a check only reads, so one cut short loses
//!   nothing; during a reconcile, no further bucket is started, the write in
//!   flight is finished (journal, write, read back) and the journal flushed.
//!   The exit code is then 0; with `--cycles N`, the last check's, as `drift`'s.
//!   A write still unanswered 4 s after the signal is abandoned (its journal
//!   entry, with the configuration it replaced, was written before it was sent)
//!   and the run exits 1, saying so.

mod metrics;
mod reconcile;
mod serve;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::drift::{self as drift_cmd, Checked};
use super::policies::{self, Policies};
use super::{Exit, Outcome, accounts, load};
use crate::cli::{Global, WatchArgs};
use crate::diag::Diagnostic;
use crate::plan::drift::html::{Cycle, CycleOutcome};
use crate::plan::drift::{self, Verdict};
use crate::render::diagnostics;

pub use metrics::Metrics;

/// How long a write in flight may still take after SIGTERM or SIGINT: the run
/// ends within 5 s of the signal, as orchestrators expect.
const STOP_GRACE: Duration = Duration::from_secs(4);

pub async fn run(global: &Global, args: &WatchArgs) -> anyhow::Result<Outcome> {
    // The status page reloads itself about once a check, between 5 s and a minute.
    let refresh = args.interval.as_secs().clamp(5, 60);
    let shared = Arc::new(serve::Shared::new(refresh));
    let server = match args.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("--listen {addr}: cannot listen there"))?;
            let addr = listener.local_addr().unwrap_or(addr);
            tracing::info!(%addr, "serving /, /metrics, /healthz and /readyz");
            Some(tokio::spawn(serve::serve(listener, Arc::clone(&shared))))
        }
        None => None,
    };
    // The signal sets `stopping` (which a reconcile checks between buckets)
    // and wakes the loop, which drops a check (reads only) but never a write.
    let signal = stop_signal()?;
    let stopping = Arc::new(AtomicBool::new(false));
    let (stopped_tx, mut stopped) = tokio::sync::watch::channel(false);
    {
        let stopping = Arc::clone(&stopping);
        tokio::spawn(async move {
            signal.await;
            stopping.store(true, Ordering::Release);
            let _ = stopped_tx.send(true);
        });
    }

    let mut watch = Watch::default();
    let mut checks = 0u64;
    let mut exit = Exit::Success;
    loop {
        let started = Instant::now();
        tokio::select! {
            () = until_stopped(&mut stopped) => break,
            verdict = watch.check(global, args, &shared) => {
                checks += 1;
                exit = match verdict {
                    Some(Verdict::InSync) => Exit::Success,
                    Some(Verdict::Drifted) => Exit::Changes,
                    Some(Verdict::Failed) | None => Exit::Error,
                };
            }
        }
        // Not dropped at the signal: a write in flight is finished, unless it
        // is still running STOP_GRACE after the signal (S3 does not answer).
        let reconcile = watch.reconcile(global, args, &shared.metrics, &stopping);
        let finished = tokio::select! {
            () = reconcile => true,
            () = async {
                until_stopped(&mut stopped).await;
                tokio::time::sleep(STOP_GRACE).await;
            } => false,
        };
        if !finished {
            tracing::error!(
                grace_ms = u64::try_from(STOP_GRACE.as_millis()).unwrap_or(u64::MAX),
                "stopped with a write in flight: S3 did not answer in time after the \
                 signal. Its journal entry was written before the write, with the \
                 configuration it replaced; whether it took effect is unknown: run \
                 `s3cors plan` to see, or `s3cors rollback` the cycle's plan file"
            );
            tracing::info!(checks, "stopped");
            return Ok(Outcome::new(String::new(), Exit::Error));
        }
        if stopping.load(Ordering::Acquire) || args.cycles.is_some_and(|n| checks >= n) {
            break;
        }
        let wait = jittered(args.interval).saturating_sub(started.elapsed());
        tokio::select! {
            () = until_stopped(&mut stopped) => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    if let Some(server) = server {
        server.abort();
    }
    if args.cycles.is_none() {
        exit = Exit::Success;
    }
    tracing::info!(checks, "stopped");
    Ok(Outcome::new(String::new(), exit))
}

/// What stays from one check to the next.
#[derive(Default)]
struct Watch {
    /// The last good policies, with their content digest and connected accounts.
    current: Option<Current>,
    /// The digest of the last policy files read that had errors, so they are
    /// reported once, not every check.
    rejected: Option<String>,
    /// With `--reconcile`: the last check, until it is reconciled.
    checked: Option<Checked>,
    reconciler: reconcile::Reconciler,
}

struct Current {
    digest: String,
    policies: Policies,
    roster: accounts::Roster,
}

impl Watch {
    /// One check: the policies (again if they changed), then drift. The verdict,
    /// or `None` when no check could run.
    async fn check(
        &mut self,
        global: &Global,
        args: &WatchArgs,
        shared: &serve::Shared,
    ) -> Option<Verdict> {
        let started = Instant::now();
        let started_at = super::utc_now();
        let cycle = |outcome, took| Cycle {
            started: started_at.clone(),
            took,
            outcome,
        };
        if let Err(e) = self.refresh(global, args, &shared.metrics).await {
            tracing::error!(error = %format!("{e:#}"), "no drift check: no usable policies");
            let took = started.elapsed();
            shared.metrics.record_duration(took);
            shared.record_cycle(cycle(CycleOutcome::NoPolicies, took), None);
            return None;
        }
        let current = self.current.as_ref()?;
        let hidden = |_| indicatif::ProgressBar::hidden();
        let checked =
            drift_cmd::check(global, &current.policies, &current.roster, false, hidden).await;
        let took = started.elapsed();
        let checked = match checked {
            Ok(checked) => checked,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "drift check failed");
                shared.metrics.record_duration(took);
                shared.record_cycle(cycle(CycleOutcome::Failed, took), None);
                return None;
            }
        };
        let Checked {
            report,
            problems,
            unreachable,
            ..
        } = &checked;
        log_report(report, problems, unreachable, &current.policies, took);
        let summary = report.summary();
        let success = summary.errors == 0 && report.unresolved.is_empty();
        shared.metrics.record_check(report, took, success);
        let verdict = report.verdict();
        let drifted = report
            .managed
            .iter()
            .any(|b| b.state == drift::State::Drifted);
        if args.reconcile && drifted {
            // The page shows this check; the reconcile that follows writes from it.
            shared.record_cycle(cycle(verdict.into(), took), Some(report.clone()));
            self.checked = Some(checked);
        } else {
            shared.record_cycle(cycle(verdict.into(), took), Some(checked.report));
        }
        shared.ready.store(true, Ordering::Release);
        Some(verdict)
    }

    /// With `--reconcile`, writes back what the last check found drifted.
    async fn reconcile(
        &mut self,
        global: &Global,
        args: &WatchArgs,
        metrics: &Metrics,
        stop: &AtomicBool,
    ) {
        let (Some(checked), Some(current)) = (self.checked.take(), self.current.as_ref()) else {
            return;
        };
        if stop.load(Ordering::Acquire) {
            return;
        }
        let cycle = self
            .reconciler
            .cycle(global, args, current, checked, metrics, stop);
        if let Err(e) = cycle.await {
            tracing::error!(error = %format!("{e:#}"), "reconcile failed; nothing more written this cycle");
        }
    }

    /// Reads the policy files; parses them and connects their accounts when
    /// their content changed. Errors keep the last good policies in force.
    async fn refresh(
        &mut self,
        global: &Global,
        args: &WatchArgs,
        metrics: &Metrics,
    ) -> anyhow::Result<()> {
        let (sources, read_errors) = load::read_policies(&args.policies.paths);
        let digest = super::plan::sources_digest(&sources);
        let unchanged = self.current.as_ref().is_some_and(|c| c.digest == digest);
        if unchanged && read_errors.is_empty() {
            metrics.set_policy_load_errors(0);
            return Ok(());
        }
        // The files as read for the digest: another read could see a newer version.
        let (policy, diags) = policies::check(&sources, read_errors);
        let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() {
            metrics.set_policy_load_errors(errors.len());
            if self.rejected.as_deref() != Some(digest.as_str()) {
                let text = diagnostics::human(&sources, &diags, false);
                tracing::error!(
                    errors = errors.len(),
                    kept = self.current.is_some(),
                    diagnostics = %text.trim_end(),
                    "the policy files have errors; the last good policies stay in force"
                );
                self.rejected = Some(digest);
            }
            return if self.current.is_some() {
                Ok(())
            } else {
                anyhow::bail!("the policy files have errors and no earlier version was good")
            };
        }
        metrics.set_policy_load_errors(0);
        self.rejected = None;
        let roster = accounts::connect(global, &policy).await?;
        let first = self.current.is_none();
        tracing::info!(
            files = sources.files().len(),
            digest = %digest,
            "{}",
            if first { "policies loaded" } else { "policies changed; loaded again" }
        );
        let warnings = diags.len();
        if warnings > 0 {
            tracing::warn!(
                warnings,
                diagnostics = %diagnostics::human(&sources, &diags, false).trim_end(),
                "the policy files have warnings"
            );
        }
        self.current = Some(Current {
            digest,
            policies: Policies {
                sources,
                policy,
                warnings: String::new(),
                diagnostics: diags,
            },
            roster,
        });
        Ok(())
    }
}

/// One log line for the check, and one per bucket that needs attention.
fn log_report(
    report: &drift::DriftReport,
    problems: &[Diagnostic],
    unreachable: &str,
    policies: &Policies,
    took: Duration,
) {
    for b in &report.managed {
        let account = b.account.as_deref().unwrap_or("");
        match &b.state {
            drift::State::InSync => {}
            drift::State::Drifted => {
                tracing::warn!(bucket = %b.bucket, account, entry = %b.source, "bucket drifted");
            }
            drift::State::MissingBucket => {
                tracing::warn!(bucket = %b.bucket, account, entry = %b.source, "bucket missing");
            }
            drift::State::Error(message) => {
                tracing::warn!(bucket = %b.bucket, account, error = %message, "bucket unreadable");
            }
        }
    }
    for v in &report.violations {
        tracing::warn!(bucket = %v.bucket, guardrail = %v.guardrail, value = %v.value, "guardrail violated");
    }
    if !problems.is_empty() {
        let text = diagnostics::human(&policies.sources, problems, false);
        tracing::warn!(problems = problems.len(), diagnostics = %text.trim_end(), "buckets not resolved");
    }
    if !unreachable.is_empty() {
        tracing::warn!(accounts = %unreachable.trim_end(), "accounts not reached");
    }
    let s = report.summary();
    tracing::info!(
        in_sync = s.in_sync,
        drifted = s.drifted,
        missing = s.missing,
        unreadable = s.errors,
        guardrail_violations = s.guardrail_violations,
        unresolved = s.unresolved,
        took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        "check complete"
    );
}

/// `interval`, shortened or lengthened by up to a tenth at random.
fn jittered(interval: Duration) -> Duration {
    let factor = 0.9 + 0.2 * crate::s3::jitter();
    interval.mul_f64(factor)
}

/// Resolves once the signal task has seen SIGTERM or SIGINT.
async fn until_stopped(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    // The sender lives as long as the signal task: an error means it ended,
    // which it only does after sending.
    let _ = stopped.wait_for(|s| *s).await;
}

/// Resolves on the first SIGTERM or SIGINT.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "stopping");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_tenth() {
        let interval = Duration::from_secs(300);
        for _ in 0..1000 {
            let d = jittered(interval);
            assert!(
                d >= Duration::from_secs(270) && d <= Duration::from_secs(330),
                "{d:?}"
            );
        }
    }
}
