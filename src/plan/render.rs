//! Renderers of a [`Plan`]: human text (Terraform-like), the versioned JSON
//! report, and Markdown for a pull-request comment. Each returns a `String`;
//! printing and terminal detection belong to the caller.
//!
//! Rules are shown as the S3 console shows them (a 2-space indented JSON array
//! with the console's keys), and changes as a line diff made with `similar`
//! between the exact `before` and `after`: what the write will really do.

use std::fmt::Write as _;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use similar::{Algorithm, ChangeTag, DiffTag, capture_diff_slices};

use super::console::{ConsoleRule, to_console};
use super::file::FileAction;
use super::findings::{Finding, FindingCounts, Findings};
use super::fleet::{self, Breakdown, count};
use super::shard::ShardRecord;
use super::{Action, BucketPlan, Plan, PlanError, Summary};
use crate::model::CorsConfig;
use crate::style::{BOLD, DIM, GREEN, RED, YELLOW, paint};
use crate::text::{markdown_fence, markdown_safe, terminal_safe};

/// Unchanged lines shown around each change before the rest is folded.
const CONTEXT_LINES: usize = 3;

/// The hard ceiling of [`markdown`] output, in bytes (so also in characters);
/// GitHub rejects comments over 65,536 characters.
pub const MARKDOWN_MAX_LEN: usize = 60_000;

/// The most one bucket's diff may take in [`markdown`], so one huge
/// configuration cannot crowd out every other bucket.
const MARKDOWN_DIFF_MAX_LEN: usize = 12_000;

/// Rows per table of the account and entry counts in [`markdown`] with `-v`
/// (without it, [`fleet::BREAKDOWN_ROWS`]).
const MARKDOWN_VERBOSE_ROWS: usize = 100;

/// The `format` of [`json`] output.
pub const REPORT_FORMAT: &str = "s3cors-plan-report";
/// The `format_version` of [`json`] output.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// Options of the [`human`] renderer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HumanOptions {
    /// Emit ANSI colour escapes. The caller decides (`--color`, terminal).
    pub color: bool,
    /// The shard planned, named in a first line.
    pub shard: Option<ShardRecord>,
    /// List every bucket on its own (`-v`), instead of identical changes once
    /// with their buckets folded, and every row of the summary.
    pub verbose: bool,
}

/// The S3 console's JSON of a configuration: "" for none, else an array with
/// one key per line and each value on that line, so a line diff shows exactly
/// which field of which rule changes. Ends in a newline.
pub fn console_json(config: Option<&CorsConfig>) -> String {
    let Some(rules) = to_console(config) else {
        return String::new();
    };
    let mut out = String::from("[\n");
    for (i, rule) in rules.iter().enumerate() {
        out.push_str("  {\n");
        // Rules are structs of strings, numbers and options: they always serialise.
        let fields = match serde_json::to_value(rule) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        };
        let last = fields.len().saturating_sub(1);
        for (j, (key, value)) in fields.iter().enumerate() {
            let value = match value {
                serde_json::Value::Array(items) => {
                    let items: Vec<String> =
                        items.iter().map(serde_json::Value::to_string).collect();
                    format!("[{}]", items.join(", "))
                }
                other => other.to_string(),
            };
            let comma = if j == last { "" } else { "," };
            out.push_str(&format!("    {key:?}: {value}{comma}\n"));
        }
        out.push_str(if i + 1 == rules.len() {
            "  }\n"
        } else {
            "  },\n"
        });
    }
    out.push_str("]\n");
    out
}

/// One line of a folded diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffLine<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
    /// This many unchanged lines are not shown.
    Folded(usize),
}

/// The line diff of two texts, with long unchanged stretches folded.
pub(crate) fn diff_lines<'a>(before: &'a str, after: &'a str) -> Vec<DiffLine<'a>> {
    let old: Vec<&'a str> = before.lines().collect();
    let new: Vec<&'a str> = after.lines().collect();
    let mut changes: Vec<(ChangeTag, &'a str)> = Vec::with_capacity(old.len().max(new.len()));
    for op in capture_diff_slices(Algorithm::Myers, &old, &new) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => changes.extend(old[old_range].iter().map(|t| (ChangeTag::Equal, *t))),
            _ => {
                changes.extend(old[old_range].iter().map(|t| (ChangeTag::Delete, *t)));
                changes.extend(new[new_range].iter().map(|t| (ChangeTag::Insert, *t)));
            }
        }
    }
    let mut out = Vec::with_capacity(changes.len());
    let mut i = 0;
    while i < changes.len() {
        let (tag, text) = changes[i];
        if tag != ChangeTag::Equal {
            out.push(if tag == ChangeTag::Delete {
                DiffLine::Removed(text)
            } else {
                DiffLine::Added(text)
            });
            i += 1;
            continue;
        }
        let end = changes[i..]
            .iter()
            .position(|(t, _)| *t != ChangeTag::Equal)
            .map_or(changes.len(), |n| i + n);
        let head = if i == 0 { 0 } else { CONTEXT_LINES };
        let tail = if end == changes.len() {
            0
        } else {
            CONTEXT_LINES
        };
        let run = &changes[i..end];
        // Fold only when it hides at least two lines: a marker for one line
        // is no shorter than the line.
        if run.len() >= head + tail + 2 {
            out.extend(run[..head].iter().map(|(_, t)| DiffLine::Same(t)));
            out.push(DiffLine::Folded(run.len() - head - tail));
            out.extend(
                run[run.len() - tail..]
                    .iter()
                    .map(|(_, t)| DiffLine::Same(t)),
            );
        } else {
            out.extend(run.iter().map(|(_, t)| DiffLine::Same(t)));
        }
        i = end;
    }
    out
}

fn bucket_diff(b: &BucketPlan) -> (String, String) {
    (
        console_json(b.before.as_ref()),
        console_json(b.after.as_deref()),
    )
}

fn verb(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("+", "created"),
        Action::Update => ("~", "updated"),
        Action::Delete => ("-", "deleted"),
        Action::Unchanged => (" ", "left unchanged"),
    }
}

/// `Plan: N to create, ...` or `No changes. ...`, without colour.
pub fn summary_line(summary: &Summary) -> String {
    if summary.changes() == 0 {
        let n = summary.unchanged;
        if n == 1 {
            "No changes. 1 bucket matches its policy.".to_string()
        } else {
            format!("No changes. {} buckets match their policies.", count(n))
        }
    } else {
        format!(
            "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
            count(summary.create),
            count(summary.update),
            count(summary.delete),
            count(summary.unchanged)
        )
    }
}

fn error_line(e: &PlanError) -> String {
    format!(
        "bucket {:?} ({}): {}: {}",
        e.bucket,
        terminal_safe(&e.source),
        e.kind,
        terminal_safe(&e.message)
    )
}

/// The columns of a plan's [`Breakdown`].
const BREAKDOWN_COLUMNS: &[fleet::Column] = &[
    ("to create", "create"),
    ("to update", "update"),
    ("to delete", "delete"),
    ("unchanged", "unchanged"),
    ("could not be planned", "errors"),
];

/// The plan's counts per account and per policy entry.
pub fn breakdown(plan: &Plan) -> Breakdown<'_> {
    let mut b = Breakdown::new(BREAKDOWN_COLUMNS);
    for p in &plan.buckets {
        let column = match p.action {
            Action::Create => 0,
            Action::Update => 1,
            Action::Delete => 2,
            Action::Unchanged => 3,
        };
        b.add(p.account.as_deref(), &p.source, column);
    }
    for e in &plan.errors {
        // Without an account (the caller's own, or a bucket whose tags could not
        // be read) an error is counted per entry only.
        match e.account.as_deref() {
            Some(account) => b.add(Some(account), &e.source, 4),
            None => b.add_entry(&e.source, 4),
        }
    }
    b
}

/// The changed buckets, grouped by exact equality of (action, before, after),
/// in plan order; with `verbose`, every bucket is its own group.
fn change_groups(plan: &Plan, verbose: bool) -> Vec<Vec<&BucketPlan>> {
    let changes: Vec<&BucketPlan> = plan.changes().collect();
    if verbose {
        return changes.into_iter().map(|b| vec![b]).collect();
    }
    type Key<'a> = (Action, Option<&'a CorsConfig>, Option<&'a CorsConfig>);
    fn key<'a>(b: &&'a BucketPlan) -> Key<'a> {
        (b.action, b.before.as_ref(), b.after.as_deref())
    }
    fleet::group(&changes, key, key)
        .into_iter()
        .map(|members| members.into_iter().map(|i| changes[i]).collect())
        .collect()
}

/// The plan for people: the counts per account and per policy entry, one block
/// per change (header with the policy's `file:line`, the buckets when several
/// get the same change, then the diff of its rules), the errors, and the
/// closing `Plan: ...` / `No changes. ...` line.
pub fn human(plan: &Plan, options: &HumanOptions) -> String {
    let color = options.color;
    let mut out = String::new();
    if let Some(shard) = options.shard {
        let _ = writeln!(out, "Plan of shard {shard}.\n");
    }
    if plan.has_changes() || !plan.errors.is_empty() {
        let limit = (!options.verbose).then_some(fleet::BREAKDOWN_ROWS);
        out.push_str(&breakdown(plan).human(limit));
        out.push('\n');
    }
    for group in change_groups(plan, options.verbose) {
        let b = group[0];
        let (sign, done) = verb(b.action);
        let style = match b.action {
            Action::Create => GREEN,
            Action::Delete => RED,
            _ => YELLOW,
        };
        let (header, source) = if let [b] = group.as_slice() {
            (
                format!("{sign} bucket {:?} will be {done}", b.bucket),
                terminal_safe(&b.source).into_owned(),
            )
        } else {
            (
                format!(
                    "{sign} {} will be {done}, the same change each",
                    fleet::buckets(group.len())
                ),
                terminal_safe(&fleet::sources_note(
                    group.iter().map(|b| b.source.as_str()),
                ))
                .into_owned(),
            )
        };
        let _ = writeln!(
            out,
            "{} {}",
            paint(color, &format!("{BOLD}{style}"), &header),
            paint(color, DIM, &format!("({source})"))
        );
        if group.len() > 1 {
            let names: Vec<&str> = group.iter().map(|b| b.bucket.as_str()).collect();
            let _ = writeln!(out, "    {}", fleet::names_human(&names, false));
        }
        let (before, after) = bucket_diff(b);
        for line in diff_lines(&before, &after) {
            let text = match line {
                DiffLine::Same(t) => format!("    {t}"),
                DiffLine::Removed(t) => paint(color, RED, &format!("  - {t}")),
                DiffLine::Added(t) => paint(color, GREEN, &format!("  + {t}")),
                DiffLine::Folded(n) => {
                    paint(color, DIM, &format!("    # ({n} unchanged lines hidden)"))
                }
            };
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    if !plan.errors.is_empty() {
        let n = plan.errors.len();
        let title = if n == 1 {
            "Error: 1 bucket could not be planned:".to_string()
        } else {
            format!("Error: {} buckets could not be planned:", count(n))
        };
        let _ = writeln!(out, "{}", paint(color, &format!("{BOLD}{RED}"), &title));
        for e in &plan.errors {
            let _ = writeln!(out, "  {} {}", paint(color, RED, "!"), error_line(e));
        }
        out.push('\n');
    }
    let summary = summary_line(&plan.summary());
    let _ = writeln!(out, "{}", paint(color, BOLD, &summary));
    out
}

/// The JSON report (`format: s3cors-plan-report`, version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonReport {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// Always [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The shard planned, when sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Counts.
    pub summary: ReportSummary,
    /// The same counts per account (added within version 1; empty when read
    /// from an older report).
    #[serde(default)]
    pub by_account: Vec<fleet::AccountCounts>,
    /// The same counts per policy entry (added within version 1).
    #[serde(default)]
    pub by_policy_entry: Vec<fleet::EntryCounts>,
    /// Every planned bucket, unchanged ones included, sorted by name.
    pub buckets: Vec<ReportBucket>,
    /// Buckets that could not be planned, sorted by name.
    pub errors: Vec<ReportError>,
    /// The counts of `findings` (added within version 1).
    #[serde(default)]
    pub finding_counts: FindingCounts,
    /// The policy findings: lints, guardrail violations and ownership
    /// problems, suppressed ones marked (added within version 1).
    #[serde(default)]
    pub findings: Vec<Finding>,
}

/// Counts in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Buckets that get a configuration.
    pub create: usize,
    /// Buckets whose configuration is replaced.
    pub update: usize,
    /// Buckets whose configuration is deleted.
    pub delete: usize,
    /// Buckets already as wanted.
    pub unchanged: usize,
    /// Buckets that could not be planned.
    pub errors: usize,
}

/// One planned bucket in the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBucket {
    /// The bucket's name.
    pub bucket: String,
    /// The policy entry (`file:line`).
    pub source: String,
    /// `create`, `update`, `delete` or `unchanged`.
    pub action: FileAction,
    /// The live configuration (console JSON), `null` for none.
    pub before: Option<Vec<ConsoleRule>>,
    /// The desired configuration (console JSON), `null` for none.
    pub after: Option<Vec<ConsoleRule>>,
    /// `sha256:<hex>` of the exact live configuration.
    pub live_digest: String,
    /// The account the bucket is in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// A bucket that could not be planned, in the JSON report: as in a plan file.
pub type ReportError = super::file::PlanFileBucketError;

impl JsonReport {
    /// The report of `plan`, of `shard` when sharded.
    pub fn new(plan: &Plan, shard: Option<ShardRecord>) -> JsonReport {
        let breakdown = breakdown(plan);
        JsonReport {
            format: REPORT_FORMAT.to_string(),
            format_version: REPORT_FORMAT_VERSION,
            shard,
            summary: plan.summary().into(),
            by_account: breakdown.json_accounts(),
            by_policy_entry: breakdown.json_entries(),
            buckets: plan.buckets.iter().map(ReportBucket::from).collect(),
            errors: plan.errors.iter().map(ReportError::from).collect(),
            finding_counts: FindingCounts::default(),
            findings: Vec::new(),
        }
    }
}

impl From<Summary> for ReportSummary {
    fn from(s: Summary) -> Self {
        ReportSummary {
            create: s.create,
            update: s.update,
            delete: s.delete,
            unchanged: s.unchanged,
            errors: s.errors,
        }
    }
}

impl From<&BucketPlan> for ReportBucket {
    fn from(b: &BucketPlan) -> Self {
        ReportBucket {
            bucket: b.bucket.clone(),
            source: b.source.clone(),
            action: b.action.into(),
            before: to_console(b.before.as_ref()),
            after: to_console(b.after.as_deref()),
            live_digest: b.live_digest.clone(),
            account: b.account.clone(),
        }
    }
}

/// The plan as the JSON report: pretty, with a trailing newline. Written from
/// the plan as it is, one bucket at a time ([`ReportView`]): at 100,000 buckets a
/// [`JsonReport`] built first would hold every rule a second time.
pub fn json(plan: &Plan, shard: Option<ShardRecord>) -> String {
    json_with_findings(plan, shard, &Findings::default())
}

/// [`json`] with the policy findings of the run.
pub fn json_with_findings(plan: &Plan, shard: Option<ShardRecord>, findings: &Findings) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail; strings, numbers and options always serialise.
    let _ = write_json(&mut out, plan, shard, findings);
    String::from_utf8(out).unwrap_or_default()
}

/// [`json_with_findings`], written to `out` as it is made: at 100,000 buckets
/// the report is never held whole in memory.
pub fn write_json(
    out: &mut dyn std::io::Write,
    plan: &Plan,
    shard: Option<ShardRecord>,
    findings: &Findings,
) -> std::io::Result<()> {
    let breakdown = breakdown(plan);
    let view = ReportView {
        format: REPORT_FORMAT,
        format_version: REPORT_FORMAT_VERSION,
        shard,
        summary: plan.summary().into(),
        by_account: breakdown.json_accounts(),
        by_policy_entry: breakdown.json_entries(),
        buckets: Each(&plan.buckets, PhantomData),
        errors: Each(&plan.errors, PhantomData),
        finding_counts: findings.counts,
        findings: &findings.items,
    };
    serde_json::to_writer_pretty(&mut *out, &view)?;
    out.write_all(b"\n")
}

/// [`JsonReport`]'s fields in its order, borrowing the plan: serialises to the
/// same JSON.
#[derive(Serialize)]
struct ReportView<'a> {
    format: &'static str,
    format_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<ShardRecord>,
    summary: ReportSummary,
    by_account: Vec<fleet::AccountCounts>,
    by_policy_entry: Vec<fleet::EntryCounts>,
    buckets: Each<'a, BucketPlan, ReportBucket>,
    errors: Each<'a, PlanError, ReportError>,
    finding_counts: FindingCounts,
    findings: &'a [Finding],
}

/// Items of the plan written as their report form `R`, each made only while it
/// is written.
struct Each<'a, T, R>(&'a [T], PhantomData<R>);

impl<T, R> Serialize for Each<'_, T, R>
where
    R: Serialize + for<'t> From<&'t T>,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&R::from(item))?;
        }
        seq.end()
    }
}

/// One change's `<details>` block (one bucket, or several with the same
/// change), its diff cut to [`MARKDOWN_DIFF_MAX_LEN`].
fn markdown_details(group: &[&BucketPlan]) -> String {
    let b = group[0];
    let (before, after) = bucket_diff(b);
    let lines = diff_lines(&before, &after);
    let mut body = String::new();
    for (i, line) in lines.iter().enumerate() {
        let text = match line {
            DiffLine::Same(t) => format!(" {t}\n"),
            DiffLine::Removed(t) => format!("-{t}\n"),
            DiffLine::Added(t) => format!("+{t}\n"),
            DiffLine::Folded(n) => format!("@@ {n} unchanged lines @@\n"),
        };
        if body.len() + text.len() > MARKDOWN_DIFF_MAX_LEN {
            let _ = writeln!(body, "@@ diff cut short: {} more lines @@", lines.len() - i);
            break;
        }
        body.push_str(&text);
    }
    let (sign, done) = verb(b.action);
    let fence = markdown_fence(&body);
    let (what, names) = if group.len() == 1 {
        (
            format!(
                "<b>{}</b> will be {done} (<code>{}</code>)",
                markdown_safe(&b.bucket),
                markdown_safe(&b.source)
            ),
            String::new(),
        )
    } else {
        let names: Vec<&str> = group.iter().map(|b| b.bucket.as_str()).collect();
        (
            format!(
                "<b>{}</b> will be {done}, the same change each (<code>{}</code>)",
                fleet::buckets(group.len()),
                markdown_safe(&fleet::sources_note(
                    group.iter().map(|b| b.source.as_str())
                ))
            ),
            format!("{}\n\n", fleet::names_markdown(&names, false)),
        )
    };
    format!(
        "<details><summary><code>{sign}</code> {what}</summary>\n\n\
         {names}{fence}diff\n{body}{fence}\n\n</details>\n\n",
    )
}

/// The plan as a pull-request comment: summary first (counts, then per
/// account and per policy entry), then errors, then one folded `<details>`
/// block with a `diff` per change (identical changes once, with their
/// buckets; with `verbose`, per bucket). Always at most [`MARKDOWN_MAX_LEN`]
/// bytes: when the budget runs out, the rest is counted (`N more changed
/// buckets not shown`) instead of shown.
pub fn markdown(plan: &Plan, shard: Option<ShardRecord>, verbose: bool) -> String {
    markdown_with_findings(plan, shard, verbose, &Findings::default())
}

/// [`markdown`] with a section of the policy findings after the counts: at most
/// an eighth of the budget, folded when long.
pub fn markdown_with_findings(
    plan: &Plan,
    shard: Option<ShardRecord>,
    verbose: bool,
    findings: &Findings,
) -> String {
    let s = plan.summary();
    let mut out = match shard {
        Some(shard) => format!("### s3cors plan, shard {shard}\n\n"),
        None => String::from("### s3cors plan\n\n"),
    };
    let _ = writeln!(out, "**{}**", summary_line(&s));
    out.push('\n');
    out.push_str("| create | update | delete | unchanged | errors |\n");
    out.push_str("| ---: | ---: | ---: | ---: | ---: |\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |",
        count(s.create),
        count(s.update),
        count(s.delete),
        count(s.unchanged),
        count(s.errors)
    );
    out.push('\n');
    if s.changes() + s.errors > 0 {
        let rows = if verbose {
            MARKDOWN_VERBOSE_ROWS
        } else {
            fleet::BREAKDOWN_ROWS
        };
        out.push_str(&breakdown(plan).markdown(Some(rows)));
    }

    // Room kept for the closing "not shown" lines.
    const RESERVE: usize = 200;
    let budget = MARKDOWN_MAX_LEN - RESERVE;

    out.push_str(&findings.markdown(budget.saturating_sub(out.len()) / 8));

    if !plan.errors.is_empty() {
        // Errors may use at most a quarter of what is left, so changes show too.
        let error_budget = out.len() + (budget - out.len()) / 4;
        out.push_str("#### Errors\n\n");
        let mut shown = 0;
        for e in &plan.errors {
            let line = format!(
                "- <b>{}</b> (<code>{}</code>): <code>{}</code> {}\n",
                markdown_safe(&e.bucket),
                markdown_safe(&e.source),
                e.kind,
                markdown_safe(&e.message)
            );
            if out.len() + line.len() > error_budget {
                break;
            }
            out.push_str(&line);
            shown += 1;
        }
        let hidden = plan.errors.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "\n_{} more {} not shown._",
                count(hidden),
                plural(hidden, "error", "errors")
            );
        }
        out.push('\n');
    }

    let changed = s.changes();
    if changed > 0 {
        out.push_str("#### Changes\n\n");
        let mut shown = 0;
        for group in change_groups(plan, verbose) {
            let block = markdown_details(&group);
            if out.len() + block.len() > budget {
                break;
            }
            out.push_str(&block);
            shown += group.len();
        }
        let hidden = changed - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "_{} more changed {} not shown; run `s3cors plan` for the full plan._",
                count(hidden),
                plural(hidden, "bucket", "buckets")
            );
        }
    }
    out
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CorsRule, Method};
    use crate::plan::tests::{cfg, desired, sample_plan};
    use crate::plan::{LiveBucket, LiveState, plan};

    #[test]
    fn human_plain() {
        insta::assert_snapshot!(human(&sample_plan(), &HumanOptions::default()));
    }

    #[test]
    fn human_color() {
        let text = human(
            &sample_plan(),
            &HumanOptions {
                color: true,
                shard: None,
                verbose: false,
            },
        );
        assert!(text.contains("\x1b[32m  + "));
        // Escapes made visible so the snapshot is readable.
        insta::assert_snapshot!(text.replace('\x1b', "\\e"));
    }

    #[test]
    fn human_without_color_has_no_escapes() {
        assert!(!human(&sample_plan(), &HumanOptions::default()).contains('\x1b'));
    }

    #[test]
    fn summary_lines() {
        let cases = [
            (
                Summary::default(),
                "No changes. 0 buckets match their policies.",
            ),
            (
                Summary {
                    unchanged: 1,
                    errors: 3,
                    ..Summary::default()
                },
                "No changes. 1 bucket matches its policy.",
            ),
            (
                Summary {
                    unchanged: 7,
                    ..Summary::default()
                },
                "No changes. 7 buckets match their policies.",
            ),
            (
                Summary {
                    create: 1,
                    update: 2,
                    delete: 3,
                    unchanged: 4,
                    errors: 5,
                },
                "Plan: 1 to create, 2 to update, 3 to delete, 4 unchanged.",
            ),
        ];
        for (summary, expected) in cases {
            assert_eq!(summary_line(&summary), expected);
        }
    }

    #[test]
    fn human_no_changes() {
        let c = cfg(&["https://a"], &[Method::Get]);
        let live = LiveState::from([("a".to_string(), LiveBucket::Found(Some(c.clone())))]);
        let p = plan(vec![desired("a", 1, Some(c))], live);
        assert_eq!(
            human(&p, &HumanOptions::default()),
            "No changes. 1 bucket matches its policy.\n"
        );
    }

    #[test]
    fn long_configs_fold_unchanged_lines() {
        let rules: Vec<CorsRule> = (0..20)
            .map(|i| CorsRule {
                id: Some(format!("rule-{i}")),
                ..cfg(&[&format!("https://{i}.example")], &[Method::Get])
                    .cors_rules
                    .remove(0)
            })
            .collect();
        let before = CorsConfig::new(rules.clone());
        let mut after_rules = rules;
        after_rules[10].max_age_seconds = Some(60);
        let after = CorsConfig::new(after_rules);
        let live = LiveState::from([("big".to_string(), LiveBucket::Found(Some(before)))]);
        let p = plan(vec![desired("big", 1, Some(after))], live);
        insta::assert_snapshot!(human(&p, &HumanOptions::default()));
    }

    #[test]
    fn diff_folding_table() {
        use DiffLine::{Added as A, Folded as F, Removed as R, Same as S};
        let ten = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let cases: Vec<(&str, &str, Vec<DiffLine<'_>>)> = vec![
            ("", "", vec![]),
            ("x\n", "x\n", vec![S("x")]),
            ("", "x\n", vec![A("x")]),
            ("x\n", "", vec![R("x")]),
            // A lone unchanged line between changes is never folded.
            (
                "a\nb\nc\n",
                "A\nb\nC\n",
                vec![R("a"), A("A"), S("b"), R("c"), A("C")],
            ),
            // Leading run: 2 folded, 3 kept; trailing run: 3 kept, 1 is too few to fold.
            (
                ten,
                "a\nb\nc\nd\ne\nF\ng\nh\ni\nj\n",
                vec![
                    F(2),
                    S("c"),
                    S("d"),
                    S("e"),
                    R("f"),
                    A("F"),
                    S("g"),
                    S("h"),
                    S("i"),
                    S("j"),
                ],
            ),
            // A middle run keeps 3 on each side.
            (
                ten,
                "A\nb\nc\nd\ne\nf\ng\nh\ni\nJ\n",
                vec![
                    R("a"),
                    A("A"),
                    S("b"),
                    S("c"),
                    S("d"),
                    F(2),
                    S("g"),
                    S("h"),
                    S("i"),
                    R("j"),
                    A("J"),
                ],
            ),
        ];
        for (before, after, expected) in cases {
            assert_eq!(
                diff_lines(before, after),
                expected,
                "{before:?} -> {after:?}"
            );
        }
    }

    #[test]
    fn json_report() {
        let text = json(&sample_plan(), None);
        let parsed: JsonReport = serde_json::from_str(&text).expect("report parses back");
        assert_eq!(parsed, JsonReport::new(&sample_plan(), None));
        insta::assert_snapshot!(text);
    }

    /// `n` lint findings on one file, every third suppressed with a reason.
    fn findings(n: usize) -> Findings {
        use crate::diag::{Diagnostic, SourceFile, Sources, Span, Suppression};
        let mut sources = Sources::new();
        let file = sources.add(SourceFile::new("p.yaml", "a\nb\n"));
        let diags: Vec<Diagnostic> = (0..n)
            .map(|i| {
                let mut d = Diagnostic::warning(
                    crate::cors::lint::LintCode::HttpOrigin,
                    format!("bucket `b{i}`: origin is plain http"),
                )
                .at(Span::new(file, 2, 3))
                .path(format!("buckets[name=b{i}].rules[0].AllowedOrigins[0]"));
                if i % 3 == 2 {
                    d.suppressed = Some(Box::new(Suppression {
                        reason: Some("legacy partner".into()),
                        span: Span::new(file, 0, 1),
                    }));
                }
                d
            })
            .collect();
        Findings::new(&sources, &diags)
    }

    /// The JSON report carries the findings and their counts after the fields it
    /// always had, and reads back.
    #[test]
    fn json_report_with_findings() {
        let f = findings(3);
        let text = json_with_findings(&sample_plan(), None, &f);
        let parsed: JsonReport = serde_json::from_str(&text).expect("report parses back");
        assert_eq!(parsed.findings, f.items);
        assert_eq!(parsed.finding_counts, f.counts);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["finding_counts"],
            serde_json::json!({"errors": 0, "warnings": 2, "suppressed": 1})
        );
        assert_eq!(v["findings"][0]["bucket"], "b0");
        assert_eq!(v["findings"][0]["line"], 2);
        assert_eq!(v["findings"][2]["suppressed"], true);
        assert_eq!(v["findings"][2]["reason"], "legacy partner");
        // Existing fields keep their names and order.
        let at = |key: &str| text.find(&format!("\n  \"{key}\": ")).expect(key);
        let keys: Vec<usize> = [
            "format",
            "format_version",
            "summary",
            "by_account",
            "by_policy_entry",
            "buckets",
            "errors",
            "finding_counts",
            "findings",
        ]
        .into_iter()
        .map(at)
        .collect();
        assert!(keys.is_sorted(), "{keys:?}");
    }

    /// Markdown shows the findings after the counts, folded when many, and the
    /// whole comment stays within the budget with many findings and changes.
    #[test]
    fn markdown_with_findings_stays_under_budget() {
        let text = markdown_with_findings(&sample_plan(), None, false, &findings(2));
        assert!(
            text.contains("#### Policy findings\n\n**0 errors, 2 warnings, 0 suppressed**"),
            "{text}"
        );
        assert!(!text.contains("Every finding"), "{text}");
        let many = findings(5_000);
        for (changes, distinct) in [(100_000, true), (20_000, false), (0, false)] {
            let p = many_changes(changes, distinct, 1_000);
            let text = markdown_with_findings(&p, None, false, &many);
            assert!(
                text.len() <= MARKDOWN_MAX_LEN,
                "{changes}: {} bytes",
                text.len()
            );
            assert!(text.contains("<details><summary>Every finding</summary>"));
            let section = &text
                [text.find("#### Policy findings").unwrap()..text.find("#### Errors").unwrap()];
            assert!(section.len() <= MARKDOWN_MAX_LEN / 8, "{}", section.len());
            assert!(section.contains("more not shown; run `s3cors validate -v`"));
            // Errors and changes still show.
            assert!(text.contains("#### Errors\n\n- <b>"), "{changes}");
            assert!(
                changes == 0 || text.contains("#### Changes\n\n<details>"),
                "{changes}"
            );
        }
    }

    #[test]
    fn markdown_report() {
        insta::assert_snapshot!(markdown(&sample_plan(), None, false));
    }

    #[test]
    fn every_rendering_names_its_shard() {
        use crate::plan::shard::ShardBy;
        let plan = sample_plan();
        for (by, name) in [
            (ShardBy::Bucket, "3/8"),
            (ShardBy::Account, "3/8 by account"),
        ] {
            let shard = Some(ShardRecord {
                index: 3,
                count: 8,
                by,
            });
            let text = human(
                &plan,
                &HumanOptions {
                    color: false,
                    shard,
                    verbose: false,
                },
            );
            assert!(
                text.starts_with(&format!("Plan of shard {name}.\n\n")),
                "{text}"
            );
            let md = markdown(&plan, shard, false);
            assert!(
                md.starts_with(&format!("### s3cors plan, shard {name}\n")),
                "{md}"
            );
            let report: JsonReport = serde_json::from_str(&json(&plan, shard)).expect("json");
            assert_eq!(report.shard, shard);
            assert_eq!(report, JsonReport::new(&plan, shard));
        }
        // Unsharded reports have no shard field at all.
        let unsharded: serde_json::Value = serde_json::from_str(&json(&plan, None)).expect("json");
        assert!(unsharded.get("shard").is_none(), "{unsharded}");
        assert!(!human(&plan, &HumanOptions::default()).contains("shard"));
    }

    /// `n` buckets `bucket-00000`... each changed, from one entry; `distinct`
    /// gives each its own new origin, else all get the same change. Then
    /// `errors` unreadable buckets.
    fn many_changes(n: usize, distinct: bool, errors: usize) -> Plan {
        let mut live = LiveState::new();
        let mut wanted = Vec::new();
        for i in 0..n {
            let name = format!("bucket-{i:05}");
            live.insert(
                name.clone(),
                LiveBucket::Found(Some(cfg(&["https://old.example"], &[Method::Get]))),
            );
            let origin = if distinct {
                format!("https://{i}.new.example")
            } else {
                "https://new.example".to_owned()
            };
            wanted.push(desired(
                &name,
                3,
                Some(cfg(&[&origin], &[Method::Get, Method::Head])),
            ));
        }
        for i in 0..errors {
            let name = format!("broken-{i:05}");
            live.insert(
                name.clone(),
                LiveBucket::Error("AccessDenied: Access Denied".into()),
            );
            wanted.push(desired(&name, i as u32 + 1, None));
        }
        plan(wanted, live)
    }

    #[test]
    fn markdown_stays_under_budget() {
        for (changes, distinct, errors) in [
            (100_000, false, 0),
            (100_000, true, 0),
            (20_000, true, 20_000),
            (0, false, 20_000),
            (3, true, 0),
        ] {
            let p = many_changes(changes, distinct, errors);
            for verbose in [false, true] {
                let case = format!("{changes}/{distinct}/{errors}/{verbose}");
                let text = markdown(&p, None, verbose);
                assert!(
                    text.len() <= MARKDOWN_MAX_LEN,
                    "{case}: {} bytes",
                    text.len()
                );
                assert!(
                    text.starts_with("### s3cors plan\n\n**Plan: 0 to create, ") || changes == 0,
                    "{case}"
                );
                let blocks = text.matches("<details>").count();
                let grouped = !distinct && !verbose && changes > 1;
                if grouped {
                    assert_eq!(blocks, 1, "{case}");
                    assert!(
                        text.contains(&format!(
                            "<b>{} buckets</b> will be updated, the same change each",
                            count(changes)
                        )),
                        "{case}"
                    );
                    assert!(
                        text.contains("<code>bucket-00000</code> … <code>bucket-"),
                        "{case}"
                    );
                } else if changes > blocks {
                    assert!(
                        text.contains(&format!(
                            "_{} more changed buckets not shown",
                            count(changes - blocks)
                        )),
                        "{case}"
                    );
                    assert!(blocks > 50, "{case}: only {blocks} shown");
                }
                if errors > 0 {
                    assert!(text.contains("more errors not shown"), "{case}");
                }
            }
        }
    }

    /// Three buckets get one change, a fourth another, a fifth the first
    /// change but from another entry, a sixth is created.
    fn fleet_plan() -> Plan {
        let old = cfg(&["https://old.example"], &[Method::Get]);
        let new = cfg(&["https://new.example"], &[Method::Get]);
        let other = cfg(&["https://other.example"], &[Method::Get]);
        let mut live = LiveState::new();
        let mut wanted = Vec::new();
        for (name, line, after) in [
            ("logs-0001", 3, &new),
            ("logs-0002", 3, &new),
            ("logs-0003", 3, &new),
            ("logs-0004", 3, &other),
            ("web-a", 9, &new),
        ] {
            live.insert(name.to_owned(), LiveBucket::Found(Some(old.clone())));
            wanted.push(desired(name, line, Some(after.clone())));
        }
        live.insert("fresh".to_owned(), LiveBucket::Found(None));
        wanted.push(desired("fresh", 12, Some(new.clone())));
        let mut p = plan(wanted, live);
        p.buckets[0].account = Some("111122223333".to_owned());
        p
    }

    #[test]
    fn identical_changes_are_grouped_exactly() {
        let p = fleet_plan();
        let groups: Vec<Vec<&str>> = change_groups(&p, false)
            .iter()
            .map(|g| g.iter().map(|b| b.bucket.as_str()).collect())
            .collect();
        assert_eq!(
            groups,
            vec![
                vec!["fresh"],
                vec!["logs-0001", "logs-0002", "logs-0003", "web-a"],
                vec!["logs-0004"],
            ]
        );
        // Equivalent but not identical (a method repeated): its own group.
        let mut p = p;
        p.buckets[2].after = Some(std::sync::Arc::new(cfg(
            &["https://new.example"],
            &[Method::Get, Method::Get],
        )));
        assert_eq!(change_groups(&p, false).len(), 4);
        assert!(change_groups(&p, true).iter().all(|g| g.len() == 1));
    }

    #[test]
    fn fleet_human() {
        insta::assert_snapshot!(human(&fleet_plan(), &HumanOptions::default()));
    }

    #[test]
    fn fleet_human_verbose() {
        let text = human(
            &fleet_plan(),
            &HumanOptions {
                color: false,
                shard: None,
                verbose: true,
            },
        );
        for name in ["logs-0001", "logs-0002", "logs-0003", "logs-0004", "web-a"] {
            assert!(
                text.contains(&format!("~ bucket \"{name}\" will be updated")),
                "{text}"
            );
        }
        assert!(!text.contains("the same change each"), "{text}");
    }

    #[test]
    fn fleet_markdown() {
        insta::assert_snapshot!(markdown(&fleet_plan(), None, false));
    }

    #[test]
    fn many_identical_changes_are_a_few_lines() {
        let p = many_changes(3_000, false, 0);
        let text = human(&p, &HumanOptions::default());
        // Breakdown (5), one block (header, names, 7 diff lines, blank), summary.
        assert!(text.lines().count() < 20, "{text}");
        assert!(text.contains("~ 3,000 buckets will be updated, the same change each (policies/web.yaml:3)\n    bucket-00000 … bucket-02999\n"), "{text}");
        assert!(text.contains("Plan: 0 to create, 3,000 to update, 0 to delete, 0 unchanged."));
    }

    #[test]
    fn markdown_cuts_one_huge_diff() {
        let rules: Vec<CorsRule> = (0..100)
            .map(|i| CorsRule {
                id: Some(format!("rule-{i}-{}", "x".repeat(200))),
                allowed_headers: (0..10).map(|h| format!("x-header-{h}")).collect(),
                ..cfg(&[&format!("https://{i}.example")], &[Method::Get])
                    .cors_rules
                    .remove(0)
            })
            .collect();
        let live = LiveState::from([("huge".to_string(), LiveBucket::Found(None))]);
        let p = plan(vec![desired("huge", 1, Some(CorsConfig::new(rules)))], live);
        let text = markdown(&p, None, false);
        assert!(text.contains("@@ diff cut short: "), "cut marker");
        assert!(text.len() < MARKDOWN_DIFF_MAX_LEN + 2_000);
        assert!(text.contains("</details>"));
    }

    #[test]
    fn hostile_live_values_are_inert() {
        let hostile = "<img src=x onerror=alert(1)>|\x1b[2J\x07\r\n";
        let live = LiveState::from([(
            "locked".to_string(),
            LiveBucket::Error(format!("AccessDenied: {hostile}")),
        )]);
        let p = plan(vec![desired("locked", 1, None)], live);
        let md = markdown(&p, None, false);
        assert!(!md.contains("<img"), "{md}");
        assert!(
            md.contains("&lt;img src=x onerror=alert(1)&gt;&#124;\\u{1b}&#91;2J"),
            "{md}"
        );
        let text = human(&p, &HumanOptions::default());
        assert!(!text.contains(['\x1b', '\x07', '\r']), "{text}");
        assert!(text.contains("|\\u{1b}[2J\\u{7}\\r\\n"), "{text}");
    }
}
