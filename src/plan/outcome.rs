//! What `apply` and `rollback` did, bucket by bucket, and its renderings: the
//! human summary, the versioned JSON report (`s3cors-apply-report`, version 1,
//! documented in docs/plan-format.md) and markdown for a pull-request comment.

use super::shard::ShardRecord;
use serde::Serialize;

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
        s.created, s.updated, s.deleted
    );
    if s.already_applied > 0 {
        line.push_str(&format!(", {} already applied", s.already_applied));
    }
    if s.problems() > 0 {
        line = line.replacen("complete", "finished with problems", 1);
        line.push_str(&format!("; {} stale, {} failed", s.stale, s.failed));
        if s.changed_since_applied > 0 {
            line.push_str(&format!(
                ", {} changed since applied",
                s.changed_since_applied
            ));
        }
        if s.not_planned > 0 {
            line.push_str(&format!(", {} not planned", s.not_planned));
        }
    }
    line.push('.');
    line
}

/// One line per bucket, then the summary; stale and failed buckets say what to do.
pub fn human(report: &ApplyReport) -> String {
    let mut out = String::new();
    if let Some(shard) = report.shard {
        out.push_str(&format!("{} of shard {shard}.\n\n", report.run.title()));
    }
    for b in &report.buckets {
        let bucket = terminal_safe(&b.bucket);
        let line = match &b.applied {
            Applied::Done => format!("{bucket}: {}", done_verb(b.action)),
            Applied::AlreadyApplied => {
                format!("{bucket}: already has the planned configuration")
            }
            Applied::Stale {
                planned_digest,
                live_digest,
            } => format!(
                "{bucket}: STALE, not written: its configuration changed since the plan \
                 (planned against {}, now {}); run `s3cors plan` again",
                short(planned_digest),
                short(live_digest)
            ),
            Applied::ChangedSinceApplied {
                applied_digest,
                live_digest,
            } => format!(
                "{bucket}: CHANGED SINCE APPLIED, not written: this plan applied {} but it now \
                 has {} (rolled back or edited); run `s3cors plan` to bring it back",
                short(applied_digest),
                short(live_digest)
            ),
            Applied::Failed { error } => {
                format!("{bucket}: FAILED: {}", terminal_safe(error))
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    for e in &report.not_planned {
        out.push_str(&format!(
            "{}: NOT PLANNED, not written: {}\n",
            terminal_safe(&e.bucket),
            terminal_safe(&e.message)
        ));
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
    buckets: &'a [BucketOutcome],
    not_planned: &'a [PlanError],
}

/// `s3cors-apply-report` version 1, pretty, newline-terminated.
pub fn json(report: &ApplyReport) -> String {
    let doc = JsonReport {
        format: "s3cors-apply-report",
        format_version: 1,
        run: report.run,
        shard: report.shard,
        summary: report.summary(),
        buckets: &report.buckets,
        not_planned: &report.not_planned,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// For a pull-request comment: the summary, then problem buckets (capped).
pub fn markdown(report: &ApplyReport) -> String {
    const MAX_LINES: usize = 500;
    let shard = report
        .shard
        .map(|s| format!(", shard {s}"))
        .unwrap_or_default();
    let mut out = format!(
        "### s3cors {}{shard}\n\n**{}**\n",
        report.run.title().to_lowercase(),
        summary_line(report.run, &report.summary())
    );
    let problems: Vec<_> = report
        .buckets
        .iter()
        .filter(|b| {
            matches!(
                b.applied,
                Applied::Stale { .. }
                    | Applied::ChangedSinceApplied { .. }
                    | Applied::Failed { .. }
            )
        })
        .map(|b| {
            let why = match &b.applied {
                Applied::Stale { .. } => "stale: changed since the plan".to_owned(),
                Applied::ChangedSinceApplied { .. } => {
                    "changed since this plan applied it".to_owned()
                }
                Applied::Failed { error } => error.clone(),
                _ => String::new(),
            };
            (b.bucket.as_str(), why)
        })
        .chain(
            report
                .not_planned
                .iter()
                .map(|e| (e.bucket.as_str(), format!("not planned: {}", e.message))),
        )
        .collect();
    if !problems.is_empty() {
        out.push_str("\n| bucket | problem |\n| --- | --- |\n");
        for (bucket, why) in problems.iter().take(MAX_LINES) {
            out.push_str(&format!(
                "| <code>{}</code> | {} |\n",
                markdown_safe(bucket),
                markdown_safe(why)
            ));
        }
        if problems.len() > MAX_LINES {
            out.push_str(&format!(
                "\n{} more buckets with problems are left out.\n",
                problems.len() - MAX_LINES
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
        insta::assert_snapshot!(human(&report()));
    }

    #[test]
    fn json_report() {
        insta::assert_snapshot!(json(&report()));
    }

    #[test]
    fn markdown_report() {
        insta::assert_snapshot!(markdown(&report()));
    }

    #[test]
    fn every_rendering_names_its_shard() {
        let mut r = report();
        assert!(!human(&r).contains("shard") && !markdown(&r).contains("shard"));
        let unsharded: serde_json::Value = serde_json::from_str(&json(&r)).expect("json");
        assert!(unsharded.get("shard").is_none(), "{unsharded}");
        r.shard = Some(ShardRecord {
            index: 1,
            count: 2,
            by: crate::plan::shard::ShardBy::Account,
        });
        assert!(human(&r).starts_with("Apply of shard 1/2 by account.\n\n"));
        assert!(markdown(&r).starts_with("### s3cors apply, shard 1/2 by account\n"));
        r.run = Run::Rollback;
        assert!(human(&r).starts_with("Rollback of shard 1/2 by account.\n\n"));
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
            action: Action::Update,
            applied: Applied::Failed {
                error: evil.to_owned(),
            },
        }]);
        let text = human(&r);
        assert!(!text.contains(['\x1b', '\x07', '\r']), "{text}");
        assert!(
            text.starts_with("b\\u{7}: FAILED: AccessDenied: <img src=x>\\u{1b}[2J|\\r\\nrow\n"),
            "{text}"
        );
        let md = markdown(&r);
        assert!(!md.contains("<img") && !md.contains('\x1b'), "{md}");
        let row = md.lines().last().unwrap_or_default();
        assert_eq!(row.matches('|').count(), 3, "{md}");
    }
}
