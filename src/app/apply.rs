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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, stream};

use super::policies;
use super::{Console, Exit, Outcome, fetch};
use crate::cli::{ApplyArgs, Format, Global};
use crate::model::CorsConfig;
use crate::plan::compare::{digest, equivalent};
use crate::plan::file::{JournalEntry, JournalState, PlanFile, replay};
use crate::plan::outcome::{self, Applied, ApplyReport, BucketOutcome};
use crate::plan::{BucketPlan, LiveBucket};
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
        let file = super::show::read_plan(path)?;
        let s3 = super::connect(global).await;
        check_endpoint(&file, &s3)?;
        let report = execute(global, console, &s3, path, &file, wait).await?;
        return Ok(finish(global, &report, path, String::new()));
    }

    let policies = match policies::load(&args.paths, args.deny_warnings, global, color) {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let s3 = super::connect(global).await;
    let made = super::plan::make(global, &policies, &s3, &args.target, console).await?;
    let shown = super::plan::render_plan(Format::Human, &made.plan, color);
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
    let file = made.file(&policies, &s3);
    let path = run_path(&file);
    super::plan::write_plan(&path, &file)?;
    let report = execute(global, console, &s3, &path, &file, wait).await?;
    let mut outcome = finish(global, &report, &path, prelude);
    outcome.stderr = policies.warnings;
    Ok(outcome)
}

/// A folder or a `.yaml`/`.yml` file: what `plan` reads, never what it writes.
fn looks_like_policies(path: &Path) -> bool {
    path.is_dir()
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// `.s3cors/runs/<time>-<digest>.plan.json`: unique per plan, sorted by time.
fn run_path(file: &PlanFile) -> PathBuf {
    let stamp: String = file
        .created_at
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let digest = file.digest();
    let short = digest.trim_start_matches("sha256:");
    Path::new(RUNS_DIR).join(format!("{stamp}-{}.plan.json", &short[..12]))
}

/// A plan is applied against the endpoint it was made for.
pub fn check_endpoint(file: &PlanFile, s3: &crate::s3::AwsS3) -> anyhow::Result<()> {
    let endpoint = super::endpoint_of(s3);
    // Compared without userinfo: older plan files may hold a `user:password@`.
    let planned = file.endpoint.as_deref().map(crate::text::without_userinfo);
    if planned.as_deref() != endpoint.as_deref() {
        bail!(
            "the plan was made against {} but this run uses {}; apply it with the same \
             --endpoint-url, or plan again",
            planned.as_deref().unwrap_or("AWS"),
            endpoint.as_deref().unwrap_or("AWS"),
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
            stdout.push_str(&outcome::human(report));
            let s = report.summary();
            if s.created + s.updated + s.deleted > 0 {
                stdout.push_str(&format!(
                    "The previous configurations are in {}; `s3cors rollback {}` restores them.\n",
                    journal_path(plan_path).display(),
                    plan_path.display()
                ));
            }
        }
        Format::Json => stdout = outcome::json(report),
        Format::Markdown => stdout = outcome::markdown(report),
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
struct Journal {
    file: Mutex<File>,
    path: PathBuf,
}

impl Journal {
    /// Opens for appending; ends a torn last record (a killed run) with a newline.
    fn open(path: PathBuf) -> anyhow::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
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
        Ok(Journal {
            file: Mutex::new(file),
            path,
        })
    }

    /// Appends records; with `sync`, flushes them to disk before returning.
    fn append(&self, entries: &[JournalEntry], sync: bool) -> anyhow::Result<()> {
        let text: String = entries.iter().map(JournalEntry::to_line).collect();
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(text.as_bytes())
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) })
            .with_context(|| format!("writing the journal {}", self.path.display()))
    }
}

/// Applies `file` (saved at `plan_path`) and reports per bucket.
pub async fn execute(
    global: &Global,
    console: &Console<'_>,
    s3: &impl S3Api,
    plan_path: &Path,
    file: &PlanFile,
    wait: Duration,
) -> anyhow::Result<ApplyReport> {
    let journal_state = read_journal(plan_path, file)?;
    let plan = file.to_plan();
    let parallelism = usize::from(global.parallelism);
    let pending: Vec<&BucketPlan> = plan
        .buckets
        .iter()
        .filter(|b| b.action.is_change() && !journal_state.is_done(&b.bucket))
        .collect();
    let mut outcomes: Vec<BucketOutcome> = plan
        .buckets
        .iter()
        .filter(|b| b.action.is_change() && journal_state.is_done(&b.bucket))
        .map(|b| BucketOutcome {
            bucket: b.bucket.clone(),
            action: b.action,
            applied: Applied::AlreadyApplied,
        })
        .collect();
    if pending.is_empty() {
        return Ok(ApplyReport::new(outcomes));
    }

    // 1. Re-read: stale buckets are not written.
    let bar = super::progress(global, console, pending.len() * 2, "applying");
    let reread: Vec<(&BucketPlan, LiveBucket)> = stream::iter(&pending)
        .map(|b| async {
            let live = fetch::live_bucket(s3.get_cors(&target(b)).await);
            bar.inc(1);
            (*b, live)
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    let mut to_write = Vec::new();
    for (b, live) in reread {
        let applied = match live {
            LiveBucket::Found(live) if equivalent(live.as_ref(), b.after.as_ref()) => {
                Applied::AlreadyApplied
            }
            // Stale: changed since the plan. The digest is exact; an equivalent
            // re-serialisation of the same rules is not a change.
            LiveBucket::Found(live)
                if digest(live.as_ref()) != b.live_digest
                    && !equivalent(live.as_ref(), b.before.as_ref()) =>
            {
                Applied::Stale {
                    planned_digest: b.live_digest.clone(),
                    live_digest: digest(live.as_ref()),
                }
            }
            LiveBucket::Found(live) => {
                to_write.push((b, live));
                continue;
            }
            LiveBucket::Missing => Applied::Failed {
                error: "the bucket no longer exists".to_owned(),
            },
            LiveBucket::Error(error) => Applied::Failed { error },
        };
        bar.inc(1);
        outcomes.push(BucketOutcome {
            bucket: b.bucket.clone(),
            action: b.action,
            applied,
        });
    }
    if to_write.is_empty() {
        bar.finish_and_clear();
        return Ok(ApplyReport::new(outcomes));
    }

    // 2. Record every previous configuration, flushed, before the first write.
    let journal = Journal::open(journal_path(plan_path))?;
    let mut records = vec![JournalEntry::start(
        &file.digest(),
        env!("CARGO_PKG_VERSION"),
        Some(super::utc_now()),
    )];
    records.extend(to_write.iter().map(|(b, before)| {
        JournalEntry::begin(&b.bucket, before.as_ref(), Some(super::utc_now()))
    }));
    journal.append(&records, true)?;

    // 3. Write, wait for the read-back, record.
    let written: Vec<BucketOutcome> = stream::iter(&to_write)
        .map(|(b, _)| {
            let journal = &journal;
            let bar = &bar;
            async move {
                let result = write_and_confirm(s3, b, wait).await;
                let record = match &result {
                    Ok(after) => {
                        JournalEntry::done(&b.bucket, after.as_ref(), Some(super::utc_now()))
                    }
                    Err(error) => JournalEntry::failed(&b.bucket, error, Some(super::utc_now())),
                };
                let applied = match (journal.append(&[record], false), result) {
                    (Ok(()), Ok(_)) => Applied::Done,
                    (Err(e), Ok(_)) => Applied::Failed {
                        error: format!("written, but not recorded in the journal: {e:#}"),
                    },
                    (_, Err(error)) => Applied::Failed { error },
                };
                bar.inc(1);
                BucketOutcome {
                    bucket: b.bucket.clone(),
                    action: b.action,
                    applied,
                }
            }
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    journal.append(&[], true)?;
    outcomes.extend(written);
    Ok(ApplyReport::new(outcomes))
}

fn target(b: &BucketPlan) -> BucketTarget {
    BucketTarget {
        name: b.bucket.clone(),
        region: b.region.clone(),
        expected_owner: b.account.clone(),
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
            && equivalent(live.as_ref(), b.after.as_ref())
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
