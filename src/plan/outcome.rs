//! What `apply` and `rollback` did, bucket by bucket, and its renderings: the
//! human summary, the versioned JSON report (`s3cors-apply-report`, version 1,
//! documented in docs/plan-format.md) and markdown for a pull-request comment.

use super::shard::ShardRecord;
use serde::Serialize;

use super::fleet::{self, Breakdown, count};
use super::{Action, PlanError};
use crate::text::{markdown_safe, terminal_safe};

/// What happened to one bucket of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Applied {
    /// Written and read back as written.
    Done,
    /// Already had the planned configuration (a re-run, or someone else applied it).
    AlreadyApplied,
    /// Changed since the plan was made: not written.
    Stale {
        planned_digest: String,
        live_digest: String,
    },
    /// The journal says this plan applied it, but its rules have changed since
    /// (rolled back, or edited by hand): not written again.
    ChangedSinceApplied {
        applied_digest: String,
        live_digest: String,
    },
    /// The read, the write or the read-back failed.
    Failed { error: String },
}

/// One bucket's line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketOutcome {
    pub bucket: String,
    /// The policy entry that manages it (`file:line`), as the plan recorded it.
    pub source: String,
    /// The account the plan recorded for it; absent for the default account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub action: Action,
    #[serde(flatten)]
    pub applied: Applied,
}

/// Counts per result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApplySummary {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub already_applied: usize,
    pub stale: usize,
    pub changed_since_applied: usize,
    pub failed: usize,
    /// Buckets the plan could not plan (recorded in the plan file's `errors`).
    pub not_planned: usize,
}

/// Which command ran the plan: `apply`, or `rollback` (a reverse plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Run {
    #[default]
    Apply,
    Rollback,
}

impl Run {
    fn title(self) -> &'static str {
        match self {
            Run::Apply => "Apply",
            Run::Rollback => "Rollback",
        }
    }
}

/// The whole apply, sorted by bucket name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub run: Run,
    pub buckets: Vec<BucketOutcome>,
    /// The buckets the plan recorded as not planned: never written, always named.
    pub not_planned: Vec<PlanError>,
    /// The shard the plan covers, when sharded.
    pub shard: Option<ShardRecord>,
}

impl ApplyReport {
    pub fn new(mut buckets: Vec<BucketOutcome>) -> ApplyReport {
        buckets.sort_by(|a, b| a.bucket.cmp(&b.bucket));
        ApplyReport {
            run: Run::Apply,
            buckets,
            not_planned: Vec::new(),
            shard: None,
        }
    }

    pub fn summary(&self) -> ApplySummary {
        let mut s = ApplySummary::default();
        for b in &self.buckets {
            match (&b.applied, b.action) {
                (Applied::Done, Action::Create) => s.created += 1,
                (Applied::Done, Action::Update) => s.updated += 1,
                (Applied::Done, Action::Delete) => s.deleted += 1,
                (Applied::Done, Action::Unchanged) | (Applied::AlreadyApplied, _) => {
                    s.already_applied += 1
                }
                (Applied::Stale { .. }, _) => s.stale += 1,
                (Applied::ChangedSinceApplied { .. }, _) => s.changed_since_applied += 1,
                (Applied::Failed { .. }, _) => s.failed += 1,
            }
        }
        s.not_planned = self.not_planned.len();
        s
    }

    /// Whether the plan is not fully in effect: a bucket stale, changed since
    /// applied, failed or never planned (exit 1).
    pub fn failed(&self) -> bool {
        self.summary().problems() > 0
    }
}

impl ApplySummary {
    /// Buckets that do not have the planned configuration because of this run.
    pub fn problems(&self) -> usize {
        self.stale + self.changed_since_applied + self.failed + self.not_planned
    }
}

/// `Apply complete: ...` (or `Rollback complete: ...`) without colour.
pub fn summary_line(run: Run, s: &ApplySummary) -> String {
    let title = run.title();
    let mut line = format!(
        "{title} complete: {} created, {} updated, {} deleted",
        count(s.created),
        count(s.updated),
        count(s.deleted)
    );
    if s.already_applied > 0 {
        line.push_str(&format!(", {} already applied", count(s.already_applied)));
    }
    if s.problems() > 0 {
        line = line.replacen("complete", "finished with problems", 1);
        line.push_str(&format!(
            "; {} stale, {} failed",
            count(s.stale),
            count(s.failed)
        ));
        if s.changed_since_applied > 0 {
            line.push_str(&format!(
                ", {} changed since applied",
                count(s.changed_since_applied)
            ));
        }
        if s.not_planned > 0 {
            line.push_str(&format!(", {} not planned", count(s.not_planned)));
        }
    }
    line.push('.');
    line
}

/// The columns of an apply's [`Breakdown`].
const BREAKDOWN_COLUMNS: &[fleet::Column] = &[
    ("created", "created"),
    ("updated", "updated"),
    ("deleted", "deleted"),
    ("already applied", "already_applied"),
    ("stale", "stale"),
    ("changed since applied", "changed_since_applied"),
    ("failed", "failed"),
    ("not planned", "not_planned"),
];

/// Results per account and per policy entry. Buckets that were not planned
/// are counted per entry only (the plan records no account for them).
pub fn breakdown(report: &ApplyReport) -> Breakdown<'_> {
    let mut b = Breakdown::new(BREAKDOWN_COLUMNS);
    for o in &report.buckets {
        let column = match (&o.applied, o.action) {
            (Applied::Done, Action::Create) => 0,
            (Applied::Done, Action::Update) => 1,
            (Applied::Done, Action::Delete) => 2,
            (Applied::Done, Action::Unchanged) | (Applied::AlreadyApplied, _) => 3,
            (Applied::Stale { .. }, _) => 4,
            (Applied::ChangedSinceApplied { .. }, _) => 5,
            (Applied::Failed { .. }, _) => 6,
        };
        b.add(o.account.as_deref(), &o.source, column);
    }
    for e in &report.not_planned {
        b.add_entry(&e.source, 7);
    }
    b
}

/// What happened to a bucket, after its name: `updated`, `FAILED: ...`.
fn result_text(action: Action, applied: &Applied) -> String {
    match applied {
        Applied::Done => done_verb(action).to_owned(),
        Applied::AlreadyApplied => "already has the planned configuration".to_owned(),
        Applied::Stale {
            planned_digest,
            live_digest,
        } => format!(
            "STALE, not written: its configuration changed since the plan \
             (planned against {}, now {}); run `s3cors plan` again",
            short(planned_digest),
            short(live_digest)
        ),
        Applied::ChangedSinceApplied {
            applied_digest,
            live_digest,
        } => format!(
            "CHANGED SINCE APPLIED, not written: this plan applied {} but it now \
             has {} (rolled back or edited); run `s3cors plan` to bring it back",
            short(applied_digest),
            short(live_digest)
        ),
        Applied::Failed { error } => format!("FAILED: {}", terminal_safe(error)),
    }
}

/// The buckets grouped by exact equality of (action, result): indices into
/// `report.buckets`; with `verbose`, one group per bucket.
fn result_groups(report: &ApplyReport, verbose: bool) -> Vec<Vec<usize>> {
    if verbose {
        return (0..report.buckets.len()).map(|i| vec![i]).collect();
    }
    fleet::group(
        &report.buckets,
        |b| (b.action, &b.applied),
        |b| (b.action, result_text(b.action, &b.applied)),
    )
}

/// The not-planned buckets grouped by exact equality of their message.
fn not_planned_groups(report: &ApplyReport, verbose: bool) -> Vec<Vec<usize>> {
    if verbose {
        return (0..report.not_planned.len()).map(|i| vec![i]).collect();
    }
    fleet::group(&report.not_planned, |e| &e.message, |e| e.message.clone())
}

/// One line, or for several buckets with the same result a line and the
/// folded names: `3,000 buckets: updated` / `    logs-0001 … logs-3000`.
fn push_group(out: &mut String, names: &[&str], text: &str) {
    if let [name] = names {
        out.push_str(&format!("{}: {text}\n", terminal_safe(name)));
    } else {
        out.push_str(&format!(
            "{}: {text}\n    {}\n",
            fleet::buckets(names.len()),
            fleet::names_human(names, false)
        ));
    }
}

/// The counts per account and per policy entry, then one line per result
/// (identical results once, with their buckets folded; with `verbose`, one
/// line per bucket), then the summary; stale and failed buckets say what to do.
pub fn human(report: &ApplyReport, verbose: bool) -> String {
    let mut out = String::new();
    if let Some(shard) = report.shard {
        out.push_str(&format!("{} of shard {shard}.\n\n", report.run.title()));
    }
    if !report.buckets.is_empty() || !report.not_planned.is_empty() {
        let limit = (!verbose).then_some(fleet::BREAKDOWN_ROWS);
        out.push_str(&breakdown(report).human(limit));
        out.push('\n');
    }
    for group in result_groups(report, verbose) {
        let first = &report.buckets[group[0]];
        let names: Vec<&str> = group
            .iter()
            .map(|&i| report.buckets[i].bucket.as_str())
            .collect();
        push_group(&mut out, &names, &result_text(first.action, &first.applied));
    }
    for group in not_planned_groups(report, verbose) {
        let names: Vec<&str> = group
            .iter()
            .map(|&i| report.not_planned[i].bucket.as_str())
            .collect();
        let text = format!(
            "NOT PLANNED, not written: {}",
            terminal_safe(&report.not_planned[group[0]].message)
        );
        push_group(&mut out, &names, &text);
    }
    if !report.buckets.is_empty() || !report.not_planned.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_line(report.run, &report.summary()));
    out.push('\n');
    out
}

fn done_verb(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Delete => "deleted",
        Action::Unchanged => "unchanged",
    }
}

fn short(digest: &str) -> &str {
    let end = digest.len().min("sha256:".len() + 12);
    &digest[..end]
}

/// The versioned JSON report.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    format: &'static str,
    format_version: u32,
    run: Run,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<ShardRecord>,
    summary: ApplySummary,
    by_account: Vec<fleet::AccountCounts>,
    by_policy_entry: Vec<fleet::EntryCounts>,
    buckets: &'a [BucketOutcome],
    not_planned: &'a [PlanError],
}

/// `s3cors-apply-report` version 1, pretty, newline-terminated.
pub fn json(report: &ApplyReport) -> String {
    let breakdown = breakdown(report);
    let doc = JsonReport {
        format: "s3cors-apply-report",
        format_version: 1,
        run: report.run,
        shard: report.shard,
        summary: report.summary(),
        by_account: breakdown.json_accounts(),
        by_policy_entry: breakdown.json_entries(),
        buckets: &report.buckets,
        not_planned: &report.not_planned,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// For a pull-request comment: the summary, the counts per account and per
/// policy entry, then the buckets with problems (identical problems once, with
/// their buckets folded, unless `verbose`), at most
/// [`super::render::MARKDOWN_MAX_LEN`] bytes in all; what does not fit is
/// counted instead.
pub fn markdown(report: &ApplyReport, verbose: bool) -> String {
    let budget = super::render::MARKDOWN_MAX_LEN - 200;
    let shard = report
        .shard
        .map(|s| format!(", shard {s}"))
        .unwrap_or_default();
    let mut out = format!(
        "### s3cors {}{shard}\n\n**{}**\n\n",
        report.run.title().to_lowercase(),
        summary_line(report.run, &report.summary())
    );
    if !report.buckets.is_empty() || !report.not_planned.is_empty() {
        let rows = if verbose { 100 } else { fleet::BREAKDOWN_ROWS };
        out.push_str(&breakdown(report).markdown(Some(rows)));
    }
    let mut rows: Vec<(usize, String)> = Vec::new();
    let cell = |names: &[&str]| {
        if let [name] = names {
            format!("<code>{}</code>", markdown_safe(name))
        } else {
            format!(
                "{}: {}",
                fleet::buckets(names.len()),
                fleet::names_markdown(names, false)
            )
        }
    };
    for group in result_groups(report, verbose) {
        let first = &report.buckets[group[0]];
        let why = match &first.applied {
            Applied::Stale { .. } => "stale: changed since the plan".to_owned(),
            Applied::ChangedSinceApplied { .. } => "changed since this plan applied it".to_owned(),
            Applied::Failed { error } => error.clone(),
            Applied::Done | Applied::AlreadyApplied => continue,
        };
        let names: Vec<&str> = group
            .iter()
            .map(|&i| report.buckets[i].bucket.as_str())
            .collect();
        rows.push((
            group.len(),
            format!("| {} | {} |\n", cell(&names), markdown_safe(&why)),
        ));
    }
    for group in not_planned_groups(report, verbose) {
        let names: Vec<&str> = group
            .iter()
            .map(|&i| report.not_planned[i].bucket.as_str())
            .collect();
        let why = format!("not planned: {}", report.not_planned[group[0]].message);
        rows.push((
            group.len(),
            format!("| {} | {} |\n", cell(&names), markdown_safe(&why)),
        ));
    }
    if !rows.is_empty() {
        out.push_str("| bucket | problem |\n| --- | --- |\n");
        let total: usize = rows.iter().map(|(n, _)| n).sum();
        let mut shown = 0;
        for (n, row) in &rows {
            if out.len() + row.len() > budget {
                break;
            }
            out.push_str(row);
            shown += n;
        }
        if shown < total {
            out.push_str(&format!(
                "\n{} more buckets with problems are left out; the JSON report \
                 (`--format json`) lists them all.\n",
                count(total - shown)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ApplyReport {
        let b = |bucket: &str, action, applied| BucketOutcome {
            bucket: bucket.to_owned(),
            source: "policies/web.yaml:3".to_owned(),
            account: None,
            action,
            applied,
        };
        ApplyReport::new(vec![
            b(
                "d-stale",
                Action::Update,
                Applied::Stale {
                    planned_digest: format!("sha256:{}", "a".repeat(64)),
                    live_digest: format!("sha256:{}", "b".repeat(64)),
                },
            ),
            b("a-new", Action::Create, Applied::Done),
            b("c-gone", Action::Delete, Applied::Done),
            b("b-again", Action::Update, Applied::AlreadyApplied),
            b(
                "e-denied",
                Action::Update,
                Applied::Failed {
                    error: "PutBucketCors on e-denied: AccessDenied: Access Denied".to_owned(),
                },
            ),
        ])
    }

    #[test]
    fn summary_counts_every_result() {
        let s = report().summary();
        assert_eq!(
            (
                s.created,
                s.updated,
                s.deleted,
                s.already_applied,
                s.stale,
                s.failed
            ),
            (1, 0, 1, 1, 1, 1)
        );
        assert!(report().failed());
        assert!(!ApplyReport::new(vec![]).failed());
    }

    #[test]
    fn human_report() {
        insta::assert_snapshot!(human(&report(), false));
    }

    #[test]
    fn json_report() {
        insta::assert_snapshot!(json(&report()));
    }

    #[test]
    fn markdown_report() {
        insta::assert_snapshot!(markdown(&report(), false));
    }

    #[test]
    fn every_rendering_names_its_shard() {
        let mut r = report();
        assert!(!human(&r, false).contains("shard") && !markdown(&r, false).contains("shard"));
        let unsharded: serde_json::Value = serde_json::from_str(&json(&r)).expect("json");
        assert!(unsharded.get("shard").is_none(), "{unsharded}");
        r.shard = Some(ShardRecord {
            index: 1,
            count: 2,
            by: crate::plan::shard::ShardBy::Account,
        });
        assert!(human(&r, false).starts_with("Apply of shard 1/2 by account.\n\n"));
        assert!(markdown(&r, false).starts_with("### s3cors apply, shard 1/2 by account\n"));
        r.run = Run::Rollback;
        assert!(human(&r, false).starts_with("Rollback of shard 1/2 by account.\n\n"));
        let json: serde_json::Value = serde_json::from_str(&json(&r)).expect("json");
        assert_eq!(
            json["shard"],
            serde_json::json!({"index": 1, "count": 2, "by": "account"})
        );
    }

    #[test]
    fn hostile_errors_are_inert() {
        let evil = "AccessDenied: <img src=x>\x1b[2J|\r\nrow";
        let r = ApplyReport::new(vec![BucketOutcome {
            bucket: "b\x07".to_owned(),
            source: "policies/web.yaml:3".to_owned(),
            account: None,
            action: Action::Update,
            applied: Applied::Failed {
                error: evil.to_owned(),
            },
        }]);
        let text = human(&r, false);
        assert!(!text.contains(['\x1b', '\x07', '\r']), "{text}");
        assert!(
            text.contains("\nb\\u{7}: FAILED: AccessDenied: <img src=x>\\u{1b}[2J|\\r\\nrow\n"),
            "{text}"
        );
        let md = markdown(&r, false);
        assert!(!md.contains("<img") && !md.contains('\x1b'), "{md}");
        let row = md.lines().last().unwrap_or_default();
        assert_eq!(row.matches('|').count(), 3, "{md}");
    }

    fn fleet(n: usize, failed: usize, distinct: bool) -> ApplyReport {
        let mut buckets: Vec<BucketOutcome> = (0..n)
            .map(|i| BucketOutcome {
                bucket: format!("logs-{i:06}"),
                source: "policies/logs.yaml:3".to_owned(),
                account: None,
                action: Action::Update,
                applied: Applied::Done,
            })
            .collect();
        for (i, b) in buckets.iter_mut().take(failed).enumerate() {
            b.applied = Applied::Failed {
                error: if distinct {
                    format!("PutBucketCors on logs-{i:06}: AccessDenied: Access Denied")
                } else {
                    "AccessDenied: Access Denied".to_owned()
                },
            };
        }
        ApplyReport::new(buckets)
    }

    #[test]
    fn identical_results_are_one_line_with_folded_names() {
        let text = human(&fleet(3000, 0, false), false);
        insta::assert_snapshot!(text);
        assert!(text.lines().count() < 10, "{text}");
        let verbose = human(&fleet(3000, 0, false), true);
        assert_eq!(verbose.matches(": updated\n").count(), 3000);
        assert!(verbose.contains("logs-002999: updated\n"));
    }

    #[test]
    fn grouping_table() {
        // (buckets, failed, distinct errors) -> result lines without -v.
        for (n, failed, distinct, groups) in [
            (1, 0, false, 1),
            (5, 0, false, 1),
            (5, 2, false, 2),
            (5, 2, true, 3),
            (5, 5, true, 5),
        ] {
            let r = fleet(n, failed, distinct);
            assert_eq!(
                result_groups(&r, false).len(),
                groups,
                "{n}/{failed}/{distinct}"
            );
            assert_eq!(result_groups(&r, true).len(), n, "{n}/{failed}/{distinct}");
        }
    }

    #[test]
    fn markdown_stays_under_budget_at_100k_buckets() {
        for (failed, distinct) in [(100_000, false), (100_000, true), (0, false)] {
            for verbose in [false, true] {
                let md = markdown(&fleet(100_000, failed, distinct), verbose);
                let case = format!("{failed}/{distinct}/{verbose}");
                assert!(
                    md.len() <= super::super::render::MARKDOWN_MAX_LEN,
                    "{case}: {}",
                    md.len()
                );
                assert!(md.contains("**By policy entry**"), "{case}");
                if failed > 0 && (distinct || verbose) {
                    assert!(
                        md.contains("more buckets with problems are left out"),
                        "{case}"
                    );
                } else if failed > 0 {
                    assert!(
                        md.contains("| 100,000 buckets: <code>logs-000000</code> … <code>logs-099999</code> | AccessDenied: Access Denied |"),
                        "{case}: {md}"
                    );
                }
            }
        }
    }
}
