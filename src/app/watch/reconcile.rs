//! `watch --reconcile`: after a check, the drifted buckets written back to what
//! their policies say, through `apply`'s own executor (per bucket: read,
//! `plan::decide`, journal the previous configuration flushed, write, read
//! back). Nothing here writes to S3 itself.
//!
//! Each cycle that writes leaves a plan file and its journal in `--journal-dir`
//! (so `s3cors rollback PLAN_FILE` undoes that cycle); the last
//! `--keep-journals` cycles' files are kept. At most `--max-writes-per-cycle`
//! buckets are written per cycle; buckets whose entry says `reconcile: false`
//! never are.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;

use super::super::drift::Checked;
use super::super::plan::Made;
use super::super::{Console, apply, lock};
use super::{Current, Metrics};
use crate::cli::{Global, WatchArgs};
use crate::plan::console::to_console;
use crate::plan::outcome::Applied;
use crate::plan::reconcile::{self, Selection};
use crate::plan::{BucketPlan, DesiredBucket};
use crate::policy::guardrail;
use crate::s3::S3Api;

/// What stays from one reconcile cycle to the next.
#[derive(Default)]
pub struct Reconciler {
    /// The last bucket written, so the next cycle starts after it.
    cursor: Option<String>,
}

impl Reconciler {
    /// Writes the drifted buckets of `checked` (at most the cap), unless `stop`
    /// is set; a write started is finished, and the journal flushed, before
    /// this returns.
    pub async fn cycle(
        &mut self,
        global: &Global,
        args: &WatchArgs,
        current: &Current,
        checked: Checked,
        metrics: &Metrics,
        stop: &AtomicBool,
    ) -> anyhow::Result<()> {
        let Checked {
            desired,
            live,
            hold,
            ..
        } = checked;
        let policies = &current.policies;
        let desired = within_guardrails(desired, &policies.policy.guardrails);
        let mut plan = crate::plan::plan(desired, live);
        plan.errors.clear();
        let s3 = &current.roster.fleet;
        for b in plan.buckets.iter_mut().filter(|b| b.region.is_none()) {
            b.region = s3.known_region(&b.bucket);
        }
        let cap = args.max_writes_per_cycle;
        let selection = reconcile::select(plan, &hold, self.cursor.as_deref(), cap);
        log_left(&selection, cap);
        if selection.plan.buckets.is_empty() {
            return Ok(());
        }
        self.cursor = reconcile::cursor(&selection, self.cursor.as_deref());

        let made = Made {
            plan: selection.plan,
            problems: Vec::new(),
            shard: global.shard,
            unreachable: String::new(),
        };
        let file = made.file(policies, &args.policies.paths, s3.default_client());
        let dir = &args.journal_dir;
        let path = apply::run_path_in(dir, &file);
        if path.exists() {
            anyhow::bail!(
                "{} already exists (two cycles in one second with the same plan); \
                 nothing written this cycle",
                path.display()
            );
        }
        // The guardrails again, on the file as written: the same refusal as `apply`.
        apply::check_guardrails(&path, &file)?;
        let _lock = lock::acquire(&path, "watch --reconcile", Duration::ZERO).await?;
        super::super::plan::write_plan(&path, &file)?;
        let mut confirm = |_: &str| Ok(false);
        let console = Console {
            stdout_is_terminal: false,
            stderr_is_terminal: false,
            stdin_is_terminal: false,
            confirm: &mut confirm,
        };
        let wait = Duration::from_secs(args.wait_timeout);
        let report = apply::execute_until(global, &console, s3, &path, &file, wait, stop).await?;
        let planned = file.to_plan();
        for outcome in &report.buckets {
            if let Some(b) = planned.buckets.iter().find(|b| b.bucket == outcome.bucket) {
                log_outcome(b, &outcome.applied, metrics);
            }
        }
        let started = report.buckets.len();
        let total = planned.buckets.len();
        if started < total {
            tracing::info!(
                written = started,
                left = total - started,
                "stopping: the buckets not started are left for the next run"
            );
        }
        let journal = apply::journal_path(&path);
        if journal.exists() {
            tracing::info!(
                plan = %path.display(),
                journal = %journal.display(),
                rollback = %format!("s3cors rollback {}", path.display()),
                "reconcile cycle journalled"
            );
        } else {
            // No write was begun (every bucket stale, already right or
            // unreadable): nothing to roll back, no cycle to keep.
            remove_cycle(dir, &path);
        }
        drop(_lock);
        prune(dir, args.keep_journals);
        Ok(())
    }
}

/// The desired buckets whose configuration breaks no guardrail (as `plan`
/// leaves out the others); those are logged and never written.
fn within_guardrails(
    desired: Vec<DesiredBucket>,
    guardrails: &[crate::policy::Guardrail],
) -> Vec<DesiredBucket> {
    desired
        .into_iter()
        .filter(|d| {
            let violations = guardrail::check(guardrails, &d.name, d.desired.as_deref());
            for v in &violations {
                tracing::warn!(bucket = %d.name, entry = %d.source, violation = %v,
                    "not reconciled: its policy breaks a guardrail");
            }
            violations.is_empty()
        })
        .collect()
}

fn log_left(selection: &Selection, cap: usize) {
    for bucket in &selection.held {
        tracing::info!(bucket = %bucket, "not reconciled: its entry says `reconcile: false`");
    }
    if !selection.deferred.is_empty() {
        tracing::info!(
            max_writes_per_cycle = cap,
            waiting = selection.deferred.len(),
            buckets = %selection.deferred.join(","),
            "more drifted buckets than --max-writes-per-cycle; the rest wait for the next check"
        );
    }
}

/// Logs one bucket's result and counts a write (or a failure to make one).
fn log_outcome(b: &BucketPlan, applied: &Applied, metrics: &Metrics) {
    let account = b.account.as_deref().unwrap_or("");
    let compact = |c: Option<&crate::model::CorsConfig>| {
        serde_json::to_string(&to_console(c)).unwrap_or_default()
    };
    let before = compact(b.before.as_ref());
    let after = compact(b.after.as_deref());
    match applied {
        Applied::Done => {
            metrics.record_reconcile_write(true);
            tracing::info!(bucket = %b.bucket, account, entry = %b.source, action = %b.action,
                before, after, "bucket reconciled");
        }
        Applied::Failed { error } => {
            metrics.record_reconcile_write(false);
            tracing::warn!(bucket = %b.bucket, account, entry = %b.source, action = %b.action,
                before, after, error = %error, "bucket not reconciled: the write failed");
        }
        Applied::AlreadyApplied => {
            tracing::info!(bucket = %b.bucket, account, "bucket already as its policy says; not written");
        }
        Applied::Stale { .. } | Applied::ChangedSinceApplied { .. } => {
            tracing::info!(bucket = %b.bucket, account,
                "bucket changed since the check; not written, left for the next check");
        }
    }
}

/// The plan files in `dir`, oldest first (their names start with the time).
fn plan_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".plan.json"))
        .collect();
    names.sort();
    names
}

/// Deletes all but the newest `keep` cycles' files in `dir`.
fn prune(dir: &Path, keep: u64) {
    let names = plan_files(dir);
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    let old = names.len().saturating_sub(keep);
    for name in &names[..old] {
        remove_cycle(dir, &dir.join(name));
    }
}

/// Deletes a cycle's plan file and every file beside it named after it (its
/// journal, lock, and any rollback of it with its own journal and lock).
fn remove_cycle(dir: &Path, plan: &Path) {
    let Some(prefix) = plan.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let removed = std::fs::read_dir(dir).map(|entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .map(|e| std::fs::remove_file(e.path()).with_context(|| e.path().display().to_string()))
            .collect::<anyhow::Result<Vec<()>>>()
    });
    if let Ok(Err(e)) | Err(e) = removed.map_err(anyhow::Error::from) {
        tracing::warn!(error = %format!("{e:#}"), "could not delete an old reconcile cycle's files");
    }
}
