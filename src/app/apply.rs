//! `s3cors apply`: apply a saved plan exactly (or plan, confirm, then apply),
//! bucket by bucket, with stale checks, a flushed journal of every previous
//! configuration, and a bounded wait until S3 returns what was written.
//!
//! Order of work, so that nothing is ever lost:
//! 1. re-read every bucket the plan changes (concurrently); a bucket whose live
//!    configuration no longer has the planned digest is stale and left alone;
//! 2. append `begin` records with each remaining bucket's live configuration to
//!    the journal beside the plan file and fsync it, before the first write;
//! 3. write the buckets (concurrently), wait for each to read back as written,
//!    and append `done` or `failed`.
//!
//! A killed apply is finished by running it again: buckets the journal marks done
//! are skipped, and a bucket that already has the planned configuration counts as
//! applied.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, stream};

use super::{Console, Exit, Outcome, fetch, lock};
use super::{accounts, policies};
use crate::cli::{ApplyArgs, Format, Global};
use crate::model::CorsConfig;
use crate::plan::compare::equivalent;
use crate::plan::decide::{Decision, decide};
use crate::plan::file::PlanFile;
use crate::plan::journal::{JournalEntry, JournalState, replay};
use crate::plan::outcome::{self, Applied, ApplyReport, BucketOutcome};
use crate::plan::{Action, BucketPlan};
use crate::policy::ownership::Ownership;
use crate::s3::{BucketTarget, S3Api};

/// Where `apply` without a plan file keeps the plan it made and its journal.
pub const RUNS_DIR: &str = ".s3cors/runs";

pub async fn run(
    global: &Global,
    args: &ApplyArgs,
    console: &mut Console<'_>,
) -> anyhow::Result<Outcome> {
    let color = super::use_color(global, console.stdout_is_terminal);
    let wait = Duration::from_secs(args.wait_timeout);
    if let Some(path) = &args.plan_file {
        if looks_like_policies(path) {
            bail!(
                "{} is policies, not a saved plan: run `s3cors apply --policies {}`, or \
                 `s3cors plan {} --out PLAN` and then `s3cors apply PLAN`",
                path.display(),
                path.display(),
                path.display()
            );
        }
        if !args.target.is_empty() {
            bail!("--target cannot narrow a saved plan: plan again with --target instead");
        }
        if !global.account.is_empty() {
            bail!("--account cannot narrow a saved plan: plan again with --account instead");
        }
        // A mistyped path must not leave a lock file behind.
        require_file(path)?;
        let _lock = lock::acquire(path, "apply", Duration::from_secs(args.lock_timeout)).await?;
        let file = super::show::read_plan(path)?;
        if file.rollback_of.is_some() {
            bail!(
                "{} is a rollback plan; run `s3cors rollback` on the plan it reverses",
                path.display()
            );
        }
        check_guardrails(path, &file)?;
        let note = check_policies(path, &file)?;
        let fleet = accounts::for_plan(global, &file).await;
        check_endpoint(&file, fleet.default_client())?;
        let report = execute(global, console, &fleet, path, &file, wait).await?;
        let mut outcome = finish(global, &report, path, String::new());
        outcome
            .stderr
            .push_str(&accounts::plan_failure_report(&fleet, &file));
        outcome.stderr.push_str(&note);
        return Ok(outcome);
    }

    if global.no_input && !args.auto_approve {
        bail!(
            "apply would ask for a `yes`, but --no-input (S3CORS_NO_INPUT, or CI=true) says \
             never to prompt; pass --auto-approve, or save a plan with `s3cors plan --out FILE`, \
             review it, and run `s3cors apply FILE`"
        );
    }
    let policies = match policies::load(&args.paths, args.deny_warnings, global, color) {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let roster = accounts::connect(global, &policies.policy).await?;
    let made = super::plan::make(global, &policies, &roster, &args.target, console).await?;
    let shard = made.shard.map(crate::cli::Shard::record);
    let shown =
        super::plan::render_plan(Format::Human, &made.plan, color, shard, global.verbose > 0);
    if made.failed() {
        let mut outcome = Outcome::new(shown, Exit::Error);
        outcome.stderr = made.stderr(&policies, color);
        outcome.stderr.push_str(
            "error: the plan has errors, so nothing was applied; fix them, or leave the \
             buckets out with --target\n",
        );
        return Ok(outcome);
    }
    if !made.plan.has_changes() {
        return Ok(Outcome::new(shown, Exit::Success));
    }
    let mut prelude = String::new();
    if args.auto_approve {
        prelude = shown;
    } else {
        if !console.stdin_is_terminal {
            bail!(
                "apply needs a `yes` typed on a terminal; pass --auto-approve, or save a plan \
                 with `s3cors plan --out FILE` and run `s3cors apply FILE`"
            );
        }
        if !(console.confirm)(&shown).context("reading the confirmation")? {
            return Ok(Outcome::new("Apply cancelled.\n".to_owned(), Exit::Error));
        }
    }
    let file = made.file(&policies, &args.paths, roster.fleet.default_client());
    let path = run_path(&file);
    let _lock = lock::acquire(&path, "apply", Duration::from_secs(args.lock_timeout)).await?;
    super::plan::write_plan(&path, &file)?;
    let report = execute(global, console, &roster.fleet, &path, &file, wait).await?;
    let mut outcome = finish(global, &report, &path, prelude);
    outcome.stderr = policies.warnings;
    Ok(outcome)
}

/// Fails, naming the plan file, unless `path` exists.
pub fn require_file(path: &Path) -> anyhow::Result<()> {
    std::fs::metadata(path)
        .map(|_| ())
        .with_context(|| format!("reading the plan file {}", path.display()))
}

/// A folder or a `.yaml`/`.yml` file: what `plan` reads, never what it writes.
fn looks_like_policies(path: &Path) -> bool {
    path.is_dir() || super::plan::has_yaml_extension(path)
}

/// `.s3cors/runs/<time>-<digest>.plan.json`: unique per plan, sorted by time.
fn run_path(file: &PlanFile) -> PathBuf {
    run_path_in(Path::new(RUNS_DIR), file)
}

/// `DIR/<time>-<digest>.plan.json`: unique per plan, sorted by time.
pub fn run_path_in(dir: &Path, file: &PlanFile) -> PathBuf {
    let stamp: String = file
        .created_at
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let digest = file.digest();
    let short = digest.trim_start_matches("sha256:");
    dir.join(format!("{stamp}-{}.plan.json", &short[..12]))
}

/// A saved plan writes nothing the guardrails it was made under forbid. `plan`
/// leaves such buckets out; this catches a plan whose digest was forged.
pub fn check_guardrails(path: &Path, file: &PlanFile) -> anyhow::Result<()> {
    let violations = file.guardrail_violations()?;
    if violations.is_empty() {
        return Ok(());
    }
    let list: String = violations.iter().map(|v| format!("\n  {v}")).collect();
    bail!(
        "{} would write configurations that the guardrails it was made under forbid, so \
         nothing was applied:{list}\nRun `s3cors plan --out FILE` again.",
        path.display()
    )
}

/// The policies a saved plan was made from must be the ones here, when they
/// are here: a plan made before a policy change would undo it. Returns a note
/// for stderr when they cannot be compared (applied from another folder).
fn check_policies(path: &Path, file: &PlanFile) -> anyhow::Result<String> {
    let paths: Vec<PathBuf> = file.policy_paths.iter().map(PathBuf::from).collect();
    if paths.is_empty() || !paths.iter().all(|p| p.exists()) {
        return Ok(format!(
            "note: the policies {} was made from ({}) are not in this folder, so apply cannot \
             check that they are unchanged since the plan\n",
            path.display(),
            file.policy_paths.join(", ")
        ));
    }
    let (sources, _) = super::load::read_policies(&paths);
    let now = super::plan::sources_digest(&sources);
    if now != file.policy_digest {
        bail!(
            "the policies in {} changed since {} was made (policy digest {} then, {} now), so \
             the plan no longer does what they say; nothing was applied. Run `s3cors plan \
             --out FILE` again.",
            file.policy_paths.join(", "),
            path.display(),
            short_digest(&file.policy_digest),
            short_digest(&now)
        );
    }
    // Same files: the plan can still only write buckets they manage (a bucket
    // renamed in a plan whose digest was forged is caught here).
    let loaded = crate::policy::load(&sources);
    let owners = Ownership::new(&loaded.policy);
    let strays: Vec<&str> = file
        .buckets
        .iter()
        .filter(|b| Action::from(b.action).is_change() && !owners.may_manage(&b.bucket))
        .map(|b| b.bucket.as_str())
        .collect();
    if !strays.is_empty() {
        bail!(
            "{} writes buckets that no policy in {} manages ({}); nothing was applied. Run \
             `s3cors plan --out FILE` again.",
            path.display(),
            file.policy_paths.join(", "),
            strays.join(", ")
        );
    }
    Ok(String::new())
}

fn short_digest(digest: &str) -> &str {
    &digest[..digest.len().min("sha256:".len() + 12)]
}

/// A plan is applied against the endpoint it was made for.
pub fn check_endpoint(file: &PlanFile, s3: &crate::s3::AwsS3) -> anyhow::Result<()> {
    let endpoint = super::endpoint_of(s3);
    // Compared without userinfo: older plan files may hold a `user:password@`.
    let planned = file.endpoint.without_userinfo();
    if planned != endpoint {
        bail!(
            "the plan was made against {planned} but this run uses {endpoint}; apply it \
             with the same --endpoint-url, or plan again",
        );
    }
    Ok(())
}

pub fn finish(global: &Global, report: &ApplyReport, plan_path: &Path, prelude: String) -> Outcome {
    let mut stdout = prelude;
    match global.format {
        Format::Human => {
            if !stdout.is_empty() {
                stdout.push('\n');
            }
            stdout.push_str(&outcome::human(report, global.verbose > 0));
            let s = report.summary();
            if s.created + s.updated + s.deleted > 0 {
                stdout.push_str(&format!(
                    "The previous configurations are in {}; `s3cors rollback {}` restores them.\n",
                    journal_path(plan_path).display(),
                    plan_path.display()
                ));
            }
        }
        // SARIF, JUnit and HTML are refused before the command runs (`app::format_refused`).
        Format::Json | Format::Sarif | Format::Junit | Format::Html => {
            stdout = outcome::json(report);
        }
        Format::Markdown => stdout = outcome::markdown(report, global.verbose > 0),
    }
    let exit = if report.failed() {
        Exit::Error
    } else {
        Exit::Success
    };
    Outcome::new(stdout, exit)
}

/// The journal beside a plan file: `PLAN.journal`.
pub fn journal_path(plan_path: &Path) -> PathBuf {
    let mut name = plan_path.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// Reads the journal beside `plan_path`, if any, and checks it belongs to `file`.
pub fn read_journal(plan_path: &Path, file: &PlanFile) -> anyhow::Result<JournalState> {
    let path = journal_path(plan_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(JournalState::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let state = replay(text.lines()).with_context(|| path.display().to_string())?;
    if let Some(d) = &state.plan_digest
        && *d != file.digest()
    {
        bail!(
            "{} belongs to another plan ({d}); it is not {}'s journal. Move it away only if \
             you are sure nothing needs rolling back.",
            path.display(),
            plan_path.display()
        );
    }
    Ok(state)
}

/// The append-only journal, shared by the writing tasks.
///
/// Each bucket's `begin` must be on disk before its write. Appends are cheap;
/// the flush is shared (group commit): a task asks for everything up to its own
/// record to be synced, and one `fdatasync` serves every record written before
/// it started, so a fleet-sized apply pays far fewer flushes than buckets.
struct Journal {
    path: PathBuf,
    /// The `start` record, written (flushed) when the file is first opened.
    start: JournalEntry,
    /// Opened on the first `begin`: a run that writes nothing leaves no journal.
    file: tokio::sync::OnceCell<Arc<File>>,
    /// Records appended so far, under the lock that orders the appends.
    written: Mutex<u64>,
    /// Records known to be on disk; held while a flush runs.
    synced: tokio::sync::Mutex<u64>,
}

impl Journal {
    fn new(path: PathBuf, start: JournalEntry) -> Journal {
        Journal {
            path,
            start,
            file: tokio::sync::OnceCell::new(),
            written: Mutex::new(0),
            synced: tokio::sync::Mutex::new(0),
        }
    }

    /// The open journal: opened for appending on first use, a torn last record
    /// (a killed run) ended with a newline, and this run's `start` flushed.
    async fn file(&self) -> anyhow::Result<&Arc<File>> {
        self.file
            .get_or_try_init(|| async {
                let file = Arc::new(open_for_append(&self.path)?);
                (&*file)
                    .write_all(self.start.to_line().as_bytes())
                    .and_then(|()| file.sync_data())
                    .with_context(|| format!("writing the journal {}", self.path.display()))?;
                Ok(file)
            })
            .await
    }

    /// Appends records (not yet flushed); returns the sequence number to pass
    /// to [`Journal::sync`].
    async fn append(&self, entries: &[JournalEntry]) -> anyhow::Result<u64> {
        let file = self.file().await?;
        let text: String = entries.iter().map(JournalEntry::to_line).collect();
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        (&**file)
            .write_all(text.as_bytes())
            .with_context(|| format!("writing the journal {}", self.path.display()))?;
        *written += 1;
        Ok(*written)
    }

    /// Returns once every record up to `upto` is on disk.
    async fn sync(&self, upto: u64) -> anyhow::Result<()> {
        let mut synced = self.synced.lock().await;
        if *synced >= upto {
            return Ok(());
        }
        let target = *self.written.lock().unwrap_or_else(|p| p.into_inner());
        let file = Arc::clone(self.file().await?);
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .with_context(|| format!("flushing the journal {}", self.path.display()))?;
        *synced = target;
        Ok(())
    }

    /// Appends and flushes.
    async fn append_synced(&self, entries: &[JournalEntry]) -> anyhow::Result<()> {
        let seq = self.append(entries).await?;
        self.sync(seq).await
    }

    /// Flushes everything, if anything was written.
    async fn close(&self) -> anyhow::Result<()> {
        if self.file.initialized() {
            self.append_synced(&[]).await?;
        }
        Ok(())
    }
}

fn open_for_append(path: &Path) -> anyhow::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("opening the journal {}", path.display()))?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}

/// Applies `file` (saved at `plan_path`) and reports per bucket.
///
/// Each bucket on its own: read it, [`decide`], and only if the decision is to
/// write: journal what was just read (flushed), write, read back, journal the
/// result. The window in which someone else's change can be lost is one round
/// trip (the read before the write); S3 has no conditional PutBucketCors.
/// The caller holds the plan's lock.
pub async fn execute(
    global: &Global,
    console: &Console<'_>,
    s3: &impl S3Api,
    plan_path: &Path,
    file: &PlanFile,
    wait: Duration,
) -> anyhow::Result<ApplyReport> {
    let never = AtomicBool::new(false);
    execute_until(global, console, s3, plan_path, file, wait, &never).await
}

/// [`execute`], starting no further bucket once `stop` is set: a bucket
/// already started is finished (read, journal, write, read back, journal), the
/// journal is flushed, and the buckets not started are left out of the report.
pub async fn execute_until(
    global: &Global,
    console: &Console<'_>,
    s3: &impl S3Api,
    plan_path: &Path,
    file: &PlanFile,
    wait: Duration,
    stop: &AtomicBool,
) -> anyhow::Result<ApplyReport> {
    let journal_state = read_journal(plan_path, file)?;
    let plan = file.to_plan();
    let parallelism = usize::from(global.parallelism);
    let changes: Vec<&BucketPlan> = plan
        .buckets
        .iter()
        .filter(|b| b.action.is_change())
        .collect();
    let mut report = ApplyReport::new(Vec::new());
    report.not_planned = plan.errors.clone();
    report.shard = file.shard;
    if changes.is_empty() {
        return Ok(report);
    }

    let journal = Journal::new(
        journal_path(plan_path),
        JournalEntry::start(
            &file.digest(),
            env!("CARGO_PKG_VERSION"),
            Some(super::utc_now()),
        ),
    );

    let bar = super::progress(global, console, changes.len(), "applying");
    let outcomes: Vec<BucketOutcome> = stream::iter(changes)
        .take_while(|_| std::future::ready(!stop.load(Ordering::Acquire)))
        .map(|b| {
            let journal = &journal;
            let bar = &bar;
            let status = journal_state.buckets.get(&b.bucket).map(|j| &j.status);
            async move {
                let target = target(b);
                let live = fetch::live_bucket(s3.get_cors(&target).await);
                let applied = match decide(b, status, live) {
                    Decision::Skip(applied) => applied,
                    Decision::Write { before } => {
                        write_journalled(s3, journal, b, before, wait).await
                    }
                };
                bar.inc(1);
                BucketOutcome {
                    bucket: b.bucket.clone(),
                    source: b.source.clone(),
                    account: b.account.clone(),
                    action: b.action,
                    applied,
                }
            }
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    journal.close().await?;
    let not_planned = std::mem::take(&mut report.not_planned);
    report = ApplyReport::new(outcomes);
    report.not_planned = not_planned;
    report.shard = file.shard;
    Ok(report)
}

/// Records `before` (flushed), writes, confirms, records the result.
async fn write_journalled(
    s3: &impl S3Api,
    journal: &Journal,
    b: &BucketPlan,
    before: Option<CorsConfig>,
    wait: Duration,
) -> Applied {
    let begin = JournalEntry::begin(&b.bucket, before.as_ref(), Some(super::utc_now()));
    if let Err(e) = journal.append_synced(&[begin]).await {
        return Applied::Failed {
            error: format!(
                "not written: its previous configuration could not be journalled: {e:#}"
            ),
        };
    }
    let result = write_and_confirm(s3, b, wait).await;
    let record = match &result {
        Ok(after) => JournalEntry::done(&b.bucket, after.as_ref(), Some(super::utc_now())),
        Err(error) => JournalEntry::failed(&b.bucket, error, Some(super::utc_now())),
    };
    match (journal.append(&[record]).await, result) {
        (Ok(_), Ok(_)) => Applied::Done,
        (Err(e), Ok(_)) => Applied::Failed {
            error: format!("written, but not recorded in the journal: {e:#}"),
        },
        (_, Err(error)) => Applied::Failed { error },
    }
}

fn target(b: &BucketPlan) -> BucketTarget {
    BucketTarget {
        name: b.bucket.clone(),
        region: b.region.clone(),
        expected_owner: b.account.clone(),
        access: b.access.clone(),
    }
}

/// Writes the planned configuration, then polls until S3 returns it (S3 bucket
/// configuration is eventually consistent). Returns what was read back.
async fn write_and_confirm(
    s3: &impl S3Api,
    b: &BucketPlan,
    wait: Duration,
) -> Result<Option<CorsConfig>, String> {
    let target = target(b);
    let written = match &b.after {
        Some(config) => s3.put_cors(&target, config).await,
        None => s3.delete_cors(&target).await,
    };
    written.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(100);
    loop {
        let read = s3.get_cors(&target).await;
        if let Ok(live) = &read
            && equivalent(live.as_ref(), b.after.as_deref())
        {
            return read.map_err(|e| e.to_string());
        }
        if Instant::now() + pause > deadline {
            return Err(match read {
                Ok(_) => format!(
                    "written, but GetBucketCors did not return the new configuration within {} s \
                     (S3 is eventually consistent; run `s3cors plan` to check it later)",
                    wait.as_secs()
                ),
                Err(e) => format!("written, but reading it back failed: {e}"),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
