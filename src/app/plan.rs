//! `s3cors plan`: resolve the managed buckets, fetch their live configurations,
//! compute the plan, render it, optionally save it.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::accounts::{self, Roster};
use super::policies::{self, Policies};
use super::resolve::{self, Problem, Resolution, Scope};
use super::{Console, Exit, Outcome, Stream, fetch};
use crate::cli::{Format, Global, PlanArgs};
use crate::diag::{Diagnostic, ErrorCode, Sources};
use crate::plan::file::{PlanFile, PlanMeta, ReadPlanError, policy_digest};
use crate::plan::findings::Findings;
use crate::plan::render::{self, HumanOptions};
use crate::plan::{DesiredBucket, Plan, PlanError, PlanErrorKind};
use crate::policy::SharedConfigs;
use crate::policy::guardrail::{self, GuardrailRecord};
use crate::render::{diagnostics, sarif};
use crate::s3::{AwsS3, S3Api};

pub async fn run(
    global: &Global,
    args: &PlanArgs,
    console: &mut Console<'_>,
) -> anyhow::Result<Outcome> {
    let color = super::use_color(global, console.stdout_is_terminal);
    let policies = match policies::load(&args.policies.paths, args.deny_warnings, global, color) {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    if let Some(out) = &args.out
        && !args.force
    {
        check_out(out, &policies.sources)?;
    }
    let roster = accounts::connect(global, &policies.policy).await?;
    let made = make(global, &policies, &roster, &args.target, console).await?;
    if let Some(out) = &args.out {
        write_plan(
            out,
            &made.file(
                &policies,
                &args.policies.paths,
                roster.fleet.default_client(),
            ),
        )?;
    }
    let shard = made.shard.map(crate::cli::Shard::record);
    let exit = if made.failed() {
        Exit::Error
    } else if args.detailed_exitcode && made.plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    };
    let stderr = made.stderr(&policies, color);
    if global.format == Format::Json {
        // Written as it is made: at 100,000 buckets the JSON is over 100 MB.
        let findings = made.findings(&policies);
        let plan = made.plan;
        return Ok(Outcome {
            stdout: String::new(),
            stream: Some(Stream::new(move |out| {
                render::write_json(out, &plan, shard, &findings)
            })),
            stderr,
            exit,
        });
    }
    let mut stdout = match global.format {
        Format::Markdown => render::markdown_with_findings(
            &made.plan,
            shard,
            global.verbose > 0,
            &made.findings(&policies),
        ),
        Format::Sarif => made.sarif(&policies),
        _ => render_plan(global.format, &made.plan, color, shard, global.verbose > 0),
    };
    if let Some(out) = &args.out
        && global.format == Format::Human
    {
        stdout.push_str(&format!(
            "\nSaved the plan to {}. To apply exactly these changes, run:\n    s3cors apply {}\n",
            out.display(),
            out.display()
        ));
    }
    Ok(Outcome {
        stdout,
        stream: None,
        stderr,
        exit,
    })
}

/// A computed plan and what went wrong on the way.
pub struct Made {
    pub plan: Plan,
    /// Findings that stop some buckets from being planned (ownership
    /// conflicts, unmanaged `--target`s, guardrail violations): exit 1.
    pub problems: Vec<Diagnostic>,
    /// The shard planned (`--shard`), recorded in the plan file.
    pub shard: Option<crate::cli::Shard>,
    /// Accounts that could not be reached or listed, one paragraph each: exit 1.
    pub unreachable: String,
}

impl Made {
    /// Whether the run must exit 1.
    pub fn failed(&self) -> bool {
        !self.problems.is_empty() || !self.plan.errors.is_empty() || !self.unreachable.is_empty()
    }

    /// The policies' findings (lints, suppressed ones included) and the
    /// problems that stopped buckets, for the JSON and markdown reports.
    pub fn findings(&self, policies: &Policies) -> Findings {
        Findings::new(
            &policies.sources,
            policies.diagnostics.iter().chain(&self.problems),
        )
    }

    /// Policy warnings and problems, rendered for stderr.
    pub fn stderr(&self, policies: &Policies, color: bool) -> String {
        let mut out = policies.warnings.clone();
        out.push_str(&self.unreachable);
        if !self.problems.is_empty() {
            out.push_str(&diagnostics::human(
                &policies.sources,
                &self.problems,
                color,
            ));
        }
        out
    }

    /// `plan --format sarif`: the policies' warnings (lints), the problems
    /// that stopped buckets (guardrail violations, ownership), and the buckets
    /// that could not be read.
    pub fn sarif(&self, policies: &Policies) -> String {
        let mut findings = sarif::from_diagnostics(&policies.diagnostics);
        findings.extend(sarif::from_diagnostics(&self.problems));
        findings.extend(sarif::from_plan_errors(&self.plan.errors));
        sarif::render(&policies.sources, &findings)
    }

    /// The plan as a file, with where and from what it was made.
    pub fn file(&self, policies: &Policies, paths: &[PathBuf], s3: &AwsS3) -> PlanFile {
        let accounts: std::collections::BTreeSet<_> = policies
            .policy
            .buckets
            .iter()
            .filter_map(|b| b.account.as_deref())
            .collect();
        PlanFile::new(
            &self.plan,
            PlanMeta {
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                created_at: super::utc_now(),
                endpoint: super::endpoint_of(s3),
                region: s3.default_region().to_owned(),
                account: match accounts.len() {
                    1 => accounts.first().map(|a| (*a).to_owned()),
                    _ => None,
                },
                policy_digest: sources_digest(&policies.sources),
                policy_paths: paths.iter().map(|p| p.display().to_string()).collect(),
                guardrails: policies
                    .policy
                    .guardrails
                    .iter()
                    .map(GuardrailRecord::from)
                    .collect(),
                rollback_of: None,
                shard: self.shard.map(crate::cli::Shard::record),
            },
        )
    }
}

/// [`policy_digest`] of the policy files read into `sources`.
pub fn sources_digest(sources: &Sources) -> String {
    policy_digest(
        sources
            .files()
            .iter()
            .map(|f| (f.name.as_str(), f.text.as_bytes())),
    )
}

/// Resolve, fetch and plan: the whole of `plan` but rendering.
pub async fn make(
    global: &Global,
    policies: &Policies,
    roster: &Roster,
    targets: &[String],
    console: &Console<'_>,
) -> anyhow::Result<Made> {
    let s3 = &roster.fleet;
    let scope = Scope {
        targets: targets.to_vec(),
        shard: global.shard,
        parallelism: usize::from(global.parallelism),
    };
    let resolution = resolve::managed(&policies.policy, &policies.sources, roster, &scope, false)
        .await
        .context("listing the buckets that `match:` entries select")?;
    let unreachable = accounts::unreachable_report(roster, &resolution.unlisted);
    let Resolution {
        buckets,
        unresolved,
        ..
    } = resolution;

    let mut problems = Vec::new();
    let mut errors = Vec::new();
    for u in unresolved {
        match u.problem {
            Problem::Policy(d) => problems.push(*d),
            Problem::S3(e) => errors.push(PlanError {
                bucket: u.bucket,
                source: String::new(),
                kind: PlanErrorKind::ReadFailed,
                message: e.to_string(),
                account: None,
            }),
        }
    }

    // Guardrails again, now that `match:` entries have concrete bucket names: a
    // bucket whose desired rules break one is not planned, so it cannot be applied.
    let mut shared = SharedConfigs::default();
    let mut desired: Vec<DesiredBucket> = Vec::with_capacity(buckets.len());
    let mut targets = Vec::with_capacity(buckets.len());
    for m in buckets {
        let span = m.entry.span;
        let (d, target) = m.into_parts(&mut shared);
        let violations =
            guardrail::check(&policies.policy.guardrails, &d.name, d.desired.as_deref());
        if violations.is_empty() {
            desired.push(d);
            targets.push(target);
            continue;
        }
        for v in &violations {
            problems.push(
                Diagnostic::error(ErrorCode::GuardrailViolation, v.to_string())
                    .at(span)
                    .help("change the rules of this entry, or narrow the guardrail's `buckets:` scope"),
            );
        }
    }
    let bar = super::progress(global, console, targets.len(), "planning");
    let live = fetch::live_state(s3, &targets, scope.parallelism, &bar).await;
    bar.finish_and_clear();
    drop(targets);
    let live = live?;

    let mut plan = crate::plan::plan(desired, live);
    // Record the regions S3 named in this run, so that applying the saved plan goes
    // straight to each bucket's region instead of paying a redirect again.
    for b in plan.buckets.iter_mut().filter(|b| b.region.is_none()) {
        b.region = s3.known_region(&b.bucket);
    }
    plan.errors.extend(errors);
    plan.errors.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    Ok(Made {
        plan,
        problems,
        shard: global.shard,
        unreachable,
    })
}

/// The plan in the chosen format; of `shard`, when sharded; `verbose` (`-v`)
/// lists every bucket.
pub fn render_plan(
    format: Format,
    plan: &Plan,
    color: bool,
    shard: Option<crate::cli::ShardRecord>,
    verbose: bool,
) -> String {
    match format {
        Format::Human => render::human(
            plan,
            &HumanOptions {
                color,
                shard,
                verbose,
            },
        ),
        Format::Json => render::json(plan, shard),
        Format::Markdown => render::markdown(plan, shard, verbose),
        // `plan --format sarif` is made in `run`, with the policy findings
        // (`sarif`); JUnit and HTML are refused before any command runs.
        Format::Sarif | Format::Junit | Format::Html => render::json(plan, shard),
    }
}

/// `plan --out FILE` never silently replaces what must not be lost: a policy
/// file (any `.yaml`/`.yml` path, or one of the files just read), a plan that
/// was applied (its journal is what `rollback` needs), or a file that is not an
/// s3cors plan. `--force` skips this check.
fn check_out(out: &Path, sources: &Sources) -> anyhow::Result<()> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "refusing to write the plan to {}: {why}; choose another file (plans are JSON, \
             e.g. plan.json), or pass --force to replace it",
            out.display()
        )
    };
    if has_yaml_extension(out) {
        return Err(refuse(
            "a .yaml/.yml name is where policies live, not plans".to_owned(),
        ));
    }
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Err(refuse("it exists and is not a regular file".to_owned()));
    }
    if meta.len() == 0 {
        return Ok(());
    }
    if let Ok(target) = out.canonicalize()
        && sources
            .files()
            .iter()
            .any(|f| Path::new(&f.name).canonicalize().is_ok_and(|p| p == target))
    {
        return Err(refuse(
            "it is one of the policy files this plan was made from".to_owned(),
        ));
    }
    let journal = super::apply::journal_path(out);
    if journal.exists() {
        return Err(refuse(format!(
            "it was applied, and its journal {} is what `s3cors rollback {}` needs",
            journal.display(),
            out.display()
        )));
    }
    let is_plan = std::fs::read_to_string(out).is_ok_and(|text| {
        !matches!(
            PlanFile::from_json(&text),
            Err(ReadPlanError::NotAPlan { .. } | ReadPlanError::Syntax { .. })
        )
    });
    if !is_plan {
        return Err(refuse("it exists and is not an s3cors plan".to_owned()));
    }
    Ok(())
}

/// A `.yaml`/`.yml` name, in any case: where policies live, never a plan.
pub fn has_yaml_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Writes a plan file atomically (temporary file in the same folder, fsync,
/// rename): a reader never sees half a plan.
pub fn write_plan(path: &Path, file: &PlanFile) -> anyhow::Result<()> {
    write_atomically(path, file.to_json().as_bytes())
        .with_context(|| format!("writing the plan to {}", path.display()))
}

/// Writes `bytes` to `path` via a synced temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
