//! `s3cors rollback PLAN_FILE`: restore the configurations an applied plan
//! replaced, as recorded by the first `begin` of each bucket in its journal.
//!
//! The rollback is itself a plan (`PLAN_FILE.rollback.json`, from each bucket's
//! written "after" state back to its "before") applied by the same machinery as
//! `apply`: a bucket changed since the apply is stale and left alone, the
//! configuration being replaced is journalled first, and an interrupted rollback
//! is finished by running it again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use super::apply::{self, check_endpoint, execute, finish, read_journal};
use super::{Console, Exit, Outcome, lock};
use crate::cli::{Format, Global, RollbackArgs};
use crate::plan::compare::digest;
use crate::plan::file::{PlanFile, RollbackOf};
use crate::plan::journal::BucketStatus;
use crate::plan::{Action, BucketPlan, Plan};

pub async fn run(
    global: &Global,
    args: &RollbackArgs,
    console: &mut Console<'_>,
) -> anyhow::Result<Outcome> {
    let color = super::use_color(global, console.stdout_is_terminal);
    let lock_timeout = Duration::from_secs(args.lock_timeout);
    // The applied plan's lock: no apply of it runs while it is rolled back.
    apply::require_file(&args.plan_file)?;
    if global.no_input && !args.auto_approve {
        bail!(
            "rollback would ask for a `yes`, but --no-input (S3CORS_NO_INPUT, or CI=true) says \
             never to prompt; pass --auto-approve"
        );
    }
    let _lock = lock::acquire(&args.plan_file, "rollback", lock_timeout).await?;
    let applied = super::show::read_plan(&args.plan_file)?;
    let fleet = super::accounts::for_plan(global, &applied).await;
    check_endpoint(&applied, fleet.default_client())?;
    let journal_file = apply::journal_path(&args.plan_file);
    let journal_bytes = match std::fs::read(&journal_file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", journal_file.display())),
    };
    let origin = RollbackOf {
        plan_digest: applied.digest(),
        journal_digest: crate::plan::compare::sha256(&journal_bytes),
    };
    let path = rollback_path(&args.plan_file);
    let rollback = if path.exists() {
        // An earlier rollback of this plan was started: finish that one, if it
        // is a rollback of exactly this plan and journal.
        let earlier = super::show::read_plan(&path).context("resuming the earlier rollback")?;
        if earlier.rollback_of.as_ref() != Some(&origin) {
            bail!(
                "{} is not a rollback of {} as it is now (it was made from another plan, or \
                 the journal {} has changed since); move {} and its journal away, then run \
                 `s3cors rollback {}` again",
                path.display(),
                args.plan_file.display(),
                journal_file.display(),
                path.display(),
                args.plan_file.display()
            );
        }
        earlier
    } else {
        let journal = read_journal(&args.plan_file, &applied)?;
        if journal.buckets.is_empty() {
            return Ok(Outcome::new(
                format!(
                    "Nothing to roll back: {} records no writes.\n",
                    journal_file.display()
                ),
                Exit::Success,
            ));
        }
        let plan = reverse(&applied, &journal);
        let mut meta = applied.meta();
        meta.created_at = super::utc_now();
        meta.tool_version = env!("CARGO_PKG_VERSION").to_owned();
        meta.guardrails = Vec::new();
        meta.rollback_of = Some(origin);
        PlanFile::new(&plan, meta)
    };
    let plan = rollback.to_plan();
    if !plan.has_changes() {
        return Ok(Outcome::new(
            "Nothing to roll back: every bucket the apply wrote already has its previous configuration.\n"
                .to_owned(),
            Exit::Success,
        ));
    }
    let shown = super::plan::render_plan(
        Format::Human,
        &plan,
        color,
        rollback.shard,
        global.verbose > 0,
    );
    let mut prelude = String::new();
    if args.auto_approve {
        prelude = shown;
    } else {
        if !console.stdin_is_terminal {
            bail!("rollback needs a `yes` typed on a terminal; pass --auto-approve");
        }
        if !(console.confirm)(&shown).context("reading the confirmation")? {
            return Ok(Outcome::new(
                "Rollback cancelled.\n".to_owned(),
                Exit::Error,
            ));
        }
    }
    let _rollback_lock = lock::acquire(&path, "rollback", lock_timeout).await?;
    if !path.exists() {
        super::plan::write_plan(&path, &rollback)?;
    }
    let wait = Duration::from_secs(args.wait_timeout);
    let mut report = execute(global, console, &fleet, &path, &rollback, wait).await?;
    report.run = crate::plan::outcome::Run::Rollback;
    Ok(finish(global, &report, &path, prelude))
}

/// `PLAN.rollback.json`, beside the plan.
fn rollback_path(plan_path: &Path) -> PathBuf {
    let mut name = plan_path.as_os_str().to_owned();
    name.push(".rollback.json");
    PathBuf::from(name)
}

/// The plan that takes every journalled bucket from what the apply wrote back to
/// what it had before. Buckets the apply never began are not touched.
fn reverse(applied: &PlanFile, journal: &crate::plan::journal::JournalState) -> Plan {
    let planned = applied.to_plan();
    let mut out = Plan::default();
    for b in &planned.buckets {
        let Some(recorded) = journal.buckets.get(&b.bucket) else {
            continue;
        };
        // What the bucket should hold now: the plan's "after". A write that may
        // not have happened (failed, interrupted) is still reversed from "after";
        // if the bucket still has its old configuration, apply sees it as
        // already rolled back.
        let current = b.after.as_deref().cloned();
        let action = Action::decide(current.as_ref(), recorded.before.as_ref());
        out.buckets.push(BucketPlan {
            bucket: b.bucket.clone(),
            source: b.source.clone(),
            action,
            live_digest: digest(current.as_ref()),
            before: current,
            after: recorded.before.clone().map(std::sync::Arc::new),
            region: b.region.clone(),
            account: b.account.clone(),
            access: b.access.clone(),
        });
        if let BucketStatus::Failed { error } = &recorded.status {
            tracing::info!(bucket = %b.bucket, %error, "the apply failed on this bucket; rolling back from its planned state");
        }
    }
    out
}
