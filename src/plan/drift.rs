//! The compliance view (`s3cors drift`): per managed bucket in-sync, drifted,
//! missing or unreadable; optionally the unmanaged buckets that carry CORS; and
//! guardrail violations of live configurations. Pure: built from [`LiveState`]
//! and rendered as human text, versioned JSON (`s3cors-drift-report`, version 1,
//! see docs/plan-format.md), markdown or one HTML page ([`html`]). The decisions `s3cors drift` makes
//! (which listed buckets are unmanaged, which live configurations break a
//! guardrail, the overall [`Verdict`] behind the exit code) are made here too,
//! and so is `drift --merge`: [`merge`] makes one report of every shard's JSON
//! report, or says why not.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::compare::equivalent;
use super::console::{ConsoleRule, to_console};
use super::findings::{Finding, FindingCounts, Findings};
use super::fleet::{self, Breakdown, count};
use super::shard::{Part, ShardRecord, check_parts};
use super::{DesiredBucket, LiveBucket, LiveState};
use crate::endpoint::Endpoint;
use crate::policy::Guardrail;
use crate::policy::guardrail;
use crate::text::{markdown_safe, terminal_safe};

pub mod html;

/// Where a managed bucket stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "message")]
pub enum State {
    /// Live rules are semantically equal to the policy's.
    InSync,
    /// Live rules differ (or one side has none).
    Drifted,
    /// The bucket does not exist.
    MissingBucket,
    /// Its configuration could not be read.
    Error(String),
}

/// One managed bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedBucket {
    pub bucket: String,
    /// The policy entry, `file:line`.
    pub source: String,
    /// The account the bucket is in, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(flatten)]
    pub state: State,
    /// Live configuration (console form) when drifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Vec<ConsoleRule>>,
    /// Desired configuration (console form) when drifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<Vec<ConsoleRule>>,
}

/// A bucket no policy manages that has a CORS configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmanagedBucket {
    pub bucket: String,
    pub rules: usize,
}

/// A live configuration breaking a guardrail (managed or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveViolation {
    pub bucket: String,
    pub guardrail: String,
    pub rule: usize,
    pub value: String,
    pub message: String,
}

/// A bucket that could not be resolved (two entries claim it, its tags could
/// not be read): whether a policy manages it is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedBucket {
    pub bucket: String,
    pub message: String,
}

/// Counts for the summary line and exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSummary {
    pub in_sync: usize,
    pub drifted: usize,
    pub missing: usize,
    pub errors: usize,
    pub unmanaged_with_cors: usize,
    pub guardrail_violations: usize,
    #[serde(default)]
    pub unresolved: usize,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftReport {
    pub managed: Vec<ManagedBucket>,
    /// `None` unless `--unmanaged` asked for them.
    pub unmanaged: Option<Vec<UnmanagedBucket>>,
    pub violations: Vec<LiveViolation>,
    /// Buckets that could not be resolved, sorted by name.
    pub unresolved: Vec<UnresolvedBucket>,
    /// Where and from what it was made, for `drift --merge`.
    pub context: DriftContext,
    /// The policies' findings (lints, suppressed ones marked, and problems
    /// that stopped buckets), for the JSON and markdown reports.
    pub findings: Findings,
}

/// What a drift run was made from and against: the policies' digest
/// (`plan::file::policy_digest`, as plan files record it), the endpoint, and
/// the shard, when sharded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftContext {
    pub policy_digest: String,
    pub endpoint: Endpoint,
    pub shard: Option<ShardRecord>,
}

/// Compares every desired bucket with its live state.
pub fn report(desired: &[DesiredBucket], live: &LiveState) -> DriftReport {
    let mut managed: Vec<ManagedBucket> = desired
        .iter()
        .map(|d| {
            let (state, live_cfg) = match live.get(&d.name) {
                Some(LiveBucket::Found(cfg)) if equivalent(cfg.as_ref(), d.desired.as_deref()) => {
                    (State::InSync, None)
                }
                Some(LiveBucket::Found(cfg)) => (State::Drifted, Some(cfg)),
                Some(LiveBucket::Missing) => (State::MissingBucket, None),
                Some(LiveBucket::Error(e)) => (State::Error(e.clone()), None),
                None => (State::Error("not read".to_owned()), None),
            };
            let drifted = state == State::Drifted;
            ManagedBucket {
                bucket: d.name.clone(),
                source: d.source.clone(),
                account: d.account.clone(),
                state,
                live: live_cfg.and_then(|c| to_console(c.as_ref())),
                desired: if drifted {
                    to_console(d.desired.as_deref())
                } else {
                    None
                },
            }
        })
        .collect();
    managed.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    DriftReport {
        managed,
        ..DriftReport::default()
    }
}

impl DriftReport {
    pub fn summary(&self) -> DriftSummary {
        let mut s = DriftSummary::default();
        for b in &self.managed {
            match b.state {
                State::InSync => s.in_sync += 1,
                State::Drifted => s.drifted += 1,
                State::MissingBucket => s.missing += 1,
                State::Error(_) => s.errors += 1,
            }
        }
        s.unmanaged_with_cors = self.unmanaged.as_ref().map_or(0, Vec::len);
        s.guardrail_violations = self.violations.len();
        s.unresolved = self.unresolved.len();
        s
    }

    /// The verdict behind the exit code.
    pub fn verdict(&self) -> Verdict {
        verdict(&self.summary(), self.unresolved.len())
    }
}

impl State {
    /// The state as `watch`'s metrics label it: `in_sync`, `drifted`, `missing`
    /// (the bucket does not exist) or `unreadable`.
    pub fn label(&self) -> &'static str {
        match self {
            State::InSync => "in_sync",
            State::Drifted => "drifted",
            State::MissingBucket => "missing",
            State::Error(_) => "unreadable",
        }
    }

    /// Every label, in the order [`State::label`] lists them.
    pub const LABELS: [&'static str; 4] = ["in_sync", "drifted", "missing", "unreadable"];
}

/// Managed buckets per account (`None`: the caller's own) and state label, with
/// every state of an account that has any bucket present (zero when none is in it),
/// so a state that empties reads 0 instead of vanishing.
pub fn state_counts(report: &DriftReport) -> BTreeMap<(Option<&str>, &'static str), usize> {
    let mut counts = BTreeMap::new();
    for b in &report.managed {
        let account = b.account.as_deref();
        for label in State::LABELS {
            counts.entry((account, label)).or_insert(0);
        }
        *counts.entry((account, b.state.label())).or_insert(0) += 1;
    }
    counts
}

/// Live guardrail violations per guardrail name.
pub fn violation_counts(report: &DriftReport) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for v in &report.violations {
        *counts.entry(v.guardrail.as_str()).or_insert(0) += 1;
    }
    counts
}

/// What a drift run found, as a whole: what its exit code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every managed bucket is in sync, and nothing failed or broke a guardrail.
    InSync,
    /// Some managed bucket differs from its policy or does not exist.
    Drifted,
    /// Some bucket could not be read or resolved (`problems`), or a live
    /// configuration breaks a guardrail. Outranks drift.
    Failed,
}

/// The verdict on a run whose report sums to `summary`, with `problems` buckets
/// that could not be resolved (conflicting claims, unreadable tags).
pub fn verdict(summary: &DriftSummary, problems: usize) -> Verdict {
    if summary.errors + summary.guardrail_violations + problems > 0 {
        Verdict::Failed
    } else if summary.drifted + summary.missing > 0 {
        Verdict::Drifted
    } else {
        Verdict::InSync
    }
}

/// Whether a bucket ListBuckets returned is unmanaged: no entry manages it, it is
/// not one whose resolution failed (reported as a problem instead), and it is in
/// this run's shard, when sharded (with no account: no entry says which).
pub fn is_unmanaged(
    bucket: &str,
    managed: &BTreeSet<&str>,
    unresolved: &BTreeSet<&str>,
    shard: Option<ShardRecord>,
) -> bool {
    !managed.contains(bucket)
        && !unresolved.contains(bucket)
        && shard.is_none_or(|s| s.holds(bucket, None))
}

/// The unmanaged buckets (of `unmanaged`, in that order) whose live state, as
/// read, has a CORS configuration; unreadable and missing ones are left out.
pub fn unmanaged_with_cors<'a>(
    unmanaged: impl IntoIterator<Item = &'a str>,
    live: &LiveState,
) -> Vec<UnmanagedBucket> {
    unmanaged
        .into_iter()
        .filter_map(|bucket| match live.get(bucket) {
            Some(LiveBucket::Found(Some(cfg))) => Some(UnmanagedBucket {
                bucket: bucket.to_owned(),
                rules: cfg.cors_rules.len(),
            }),
            _ => None,
        })
        .collect()
}

/// Every guardrail violation of a live configuration that was read, managed or
/// not, by bucket name.
pub fn live_violations(guardrails: &[Guardrail], live: &LiveState) -> Vec<LiveViolation> {
    live.iter()
        .filter_map(|(bucket, state)| match state {
            LiveBucket::Found(Some(cfg)) => Some(guardrail::check(guardrails, bucket, Some(cfg))),
            _ => None,
        })
        .flatten()
        .map(|v| LiveViolation {
            bucket: v.bucket,
            guardrail: v.guardrail,
            rule: v.rule,
            value: v.value,
            message: v.message,
        })
        .collect()
}

/// `Drift: N in sync, N drifted, N missing, ...`.
pub fn summary_line(s: &DriftSummary, unmanaged: bool) -> String {
    let mut line = format!(
        "Drift: {} in sync, {} drifted, {} missing",
        count(s.in_sync),
        count(s.drifted),
        count(s.missing)
    );
    if s.errors > 0 {
        line.push_str(&format!(", {} unreadable", count(s.errors)));
    }
    if s.unresolved > 0 {
        line.push_str(&format!(", {} unresolved", s.unresolved));
    }
    if unmanaged {
        line.push_str(&format!(
            "; {} unmanaged with CORS",
            count(s.unmanaged_with_cors)
        ));
    }
    if s.guardrail_violations > 0 {
        line.push_str(&format!(
            "; {} guardrail violations",
            count(s.guardrail_violations)
        ));
    }
    line.push('.');
    line
}

/// The columns of drift's [`Breakdown`].
const BREAKDOWN_COLUMNS: &[fleet::Column] = &[
    ("in sync", "in_sync"),
    ("drifted", "drifted"),
    ("missing", "missing"),
    ("unreadable", "errors"),
];

/// Managed buckets per account and per policy entry, by state.
pub fn breakdown(report: &DriftReport) -> Breakdown<'_> {
    let mut b = Breakdown::new(BREAKDOWN_COLUMNS);
    for m in &report.managed {
        let column = match m.state {
            State::InSync => 0,
            State::Drifted => 1,
            State::MissingBucket => 2,
            State::Error(_) => 3,
        };
        b.add(m.account.as_deref(), &m.source, column);
    }
    b
}

/// The managed buckets that are not in sync, grouped by exact equality of
/// (state, live configuration, desired configuration), in name order;
/// with `verbose`, one group per bucket.
fn out_of_sync_groups(report: &DriftReport, verbose: bool) -> Vec<Vec<&ManagedBucket>> {
    let out: Vec<&ManagedBucket> = report
        .managed
        .iter()
        .filter(|b| b.state != State::InSync)
        .collect();
    if verbose {
        return out.into_iter().map(|b| vec![b]).collect();
    }
    type Key<'a> = (
        &'a State,
        &'a Option<Vec<ConsoleRule>>,
        &'a Option<Vec<ConsoleRule>>,
    );
    fn key<'a>(b: &&'a ManagedBucket) -> Key<'a> {
        (&b.state, &b.live, &b.desired)
    }
    fleet::group(&out, key, key)
        .into_iter()
        .map(|members| members.into_iter().map(|i| out[i]).collect())
        .collect()
}

/// The unmanaged buckets grouped by their number of rules.
fn unmanaged_groups(unmanaged: &[UnmanagedBucket], verbose: bool) -> Vec<Vec<&UnmanagedBucket>> {
    if verbose {
        return unmanaged.iter().map(|u| vec![u]).collect();
    }
    fleet::group(unmanaged, |u| u.rules, |u| u.rules)
        .into_iter()
        .map(|members| members.into_iter().map(|i| &unmanaged[i]).collect())
        .collect()
}

/// The guardrail violations grouped by exact equality of everything but the bucket.
fn violation_groups(violations: &[LiveViolation], verbose: bool) -> Vec<Vec<&LiveViolation>> {
    if verbose {
        return violations.iter().map(|v| vec![v]).collect();
    }
    let key = |v: &LiveViolation| {
        (
            v.guardrail.clone(),
            v.rule,
            v.value.clone(),
            v.message.clone(),
        )
    };
    fleet::group(violations, key, key)
        .into_iter()
        .map(|members| members.into_iter().map(|i| &violations[i]).collect())
        .collect()
}

/// `"name"` for one bucket, `N buckets` for several (with the folded names
/// after the line, by the caller).
fn who(names: &[&str]) -> String {
    match names {
        [one] => terminal_safe(one).into_owned(),
        many => fleet::buckets(many.len()),
    }
}

/// The counts per account and per policy entry, then one line per bucket that
/// is not in sync (buckets in the same state with identical live and desired
/// rules once, their names folded on the next line; with `verbose`, one line
/// per bucket), then the summary. Names, messages and values come from live
/// state, so they are shown [`terminal_safe`].
pub fn human(report: &DriftReport, verbose: bool) -> String {
    let mut out = String::new();
    if let Some(shard) = report.context.shard {
        out.push_str(&format!("Drift of shard {shard}.\n\n"));
    }
    let names_line = |out: &mut String, names: &[&str]| {
        if names.len() > 1 {
            out.push_str(&format!("    {}\n", fleet::names_human(names, false)));
        }
    };
    let groups = out_of_sync_groups(report, verbose);
    if !groups.is_empty() {
        let limit = (!verbose).then_some(fleet::BREAKDOWN_ROWS);
        out.push_str(&breakdown(report).human(limit));
        out.push('\n');
    }
    for group in groups {
        let b = group[0];
        let names: Vec<&str> = group.iter().map(|b| b.bucket.as_str()).collect();
        let bucket = who(&names);
        let source = terminal_safe(&fleet::sources_note(
            group.iter().map(|b| b.source.as_str()),
        ))
        .into_owned();
        let line = match &b.state {
            State::InSync => continue,
            State::Drifted if group.len() > 1 => format!(
                "drifted  {bucket} ({source}): live rules differ from the policy, the same way in each; `s3cors plan` shows how"
            ),
            State::Drifted => format!(
                "drifted  {bucket} ({source}): live rules differ from the policy; `s3cors plan` shows how"
            ),
            State::MissingBucket if group.len() > 1 => {
                format!("missing  {bucket} ({source}): the buckets do not exist")
            }
            State::MissingBucket => {
                format!("missing  {bucket} ({source}): the bucket does not exist")
            }
            State::Error(e) => format!("error    {bucket} ({source}): {}", terminal_safe(e)),
        };
        out.push_str(&line);
        out.push('\n');
        names_line(&mut out, &names);
    }
    if let Some(unmanaged) = &report.unmanaged {
        for group in unmanaged_groups(unmanaged, verbose) {
            let names: Vec<&str> = group.iter().map(|u| u.bucket.as_str()).collect();
            let (each, them) = if names.len() > 1 {
                (" each", "them")
            } else {
                ("", "it")
            };
            out.push_str(&format!(
                "unmanaged {}: {} CORS rule(s){each} and no policy manages {them}\n",
                who(&names),
                group[0].rules
            ));
            names_line(&mut out, &names);
        }
    }
    for u in &report.unresolved {
        out.push_str(&format!(
            "unresolved {}: {}\n",
            terminal_safe(&u.bucket),
            terminal_safe(&u.message)
        ));
    }
    for group in violation_groups(&report.violations, verbose) {
        let v = group[0];
        let names: Vec<&str> = group.iter().map(|v| v.bucket.as_str()).collect();
        out.push_str(&format!(
            "guardrail {} on {}: rule #{} value {:?}: {}\n",
            terminal_safe(&v.guardrail),
            who(&names),
            v.rule,
            v.value,
            terminal_safe(&v.message)
        ));
        names_line(&mut out, &names);
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(&summary_line(&report.summary(), report.unmanaged.is_some()));
    out.push('\n');
    out
}

/// The `format` of [`json`] output.
pub const REPORT_FORMAT: &str = "s3cors-drift-report";
/// The `format_version` of [`json`] output.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// `s3cors-drift-report` version 1, as written and as `drift --merge` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonReport {
    pub format: String,
    pub format_version: u32,
    /// The shard the report covers, when sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// The digest of the policy files the report was made from (reports made
    /// before it was recorded have none, and cannot be merged).
    #[serde(default)]
    pub policy_digest: Option<String>,
    /// The endpoint: `null` for AWS.
    #[serde(default)]
    pub endpoint: Endpoint,
    pub summary: DriftSummary,
    /// The counts per account (added within version 1).
    #[serde(default)]
    pub by_account: Vec<fleet::AccountCounts>,
    /// The counts per policy entry (added within version 1).
    #[serde(default)]
    pub by_policy_entry: Vec<fleet::EntryCounts>,
    pub buckets: Vec<ManagedBucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmanaged: Option<Vec<UnmanagedBucket>>,
    pub guardrail_violations: Vec<LiveViolation>,
    #[serde(default)]
    pub unresolved: Vec<UnresolvedBucket>,
    /// The counts of `findings` (added within version 1).
    #[serde(default)]
    pub finding_counts: FindingCounts,
    /// The policy findings: lints and problems, suppressed ones marked (added
    /// within version 1).
    #[serde(default)]
    pub findings: Vec<Finding>,
}

impl JsonReport {
    pub fn new(report: &DriftReport) -> JsonReport {
        let breakdown = breakdown(report);
        JsonReport {
            format: REPORT_FORMAT.to_owned(),
            format_version: REPORT_FORMAT_VERSION,
            shard: report.context.shard,
            policy_digest: Some(report.context.policy_digest.clone()),
            endpoint: report.context.endpoint.without_userinfo(),
            summary: report.summary(),
            by_account: breakdown.json_accounts(),
            by_policy_entry: breakdown.json_entries(),
            buckets: report.managed.clone(),
            unmanaged: report.unmanaged.clone(),
            guardrail_violations: report.violations.clone(),
            unresolved: report.unresolved.clone(),
            finding_counts: report.findings.counts,
            findings: report.findings.items.clone(),
        }
    }

    /// Reads a report `drift --format json` printed; the error says what is wrong.
    pub fn from_json(text: &str) -> Result<JsonReport, String> {
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
            format_version: Option<u32>,
        }
        let head: Head = serde_json::from_str(text).map_err(|e| {
            format!("it is not JSON ({e}); give the output of `s3cors drift --format json`")
        })?;
        if head.format.as_deref() != Some(REPORT_FORMAT) {
            return Err(format!(
                "it is not an {REPORT_FORMAT} (format {}); give the output of `s3cors drift --format json`",
                head.format
                    .map_or("missing".to_owned(), |f| format!("{f:?}"))
            ));
        }
        if head.format_version != Some(REPORT_FORMAT_VERSION) {
            return Err(format!(
                "it is {REPORT_FORMAT} version {}, and this s3cors reads version \
                 {REPORT_FORMAT_VERSION}; merge with the s3cors that made it",
                head.format_version
                    .map_or("?".to_owned(), |v| v.to_string())
            ));
        }
        serde_json::from_str(text).map_err(|e| format!("it is not a well-formed drift report: {e}"))
    }

    /// The report as the domain type.
    pub fn to_report(&self) -> DriftReport {
        DriftReport {
            managed: self.buckets.clone(),
            unmanaged: self.unmanaged.clone(),
            violations: self.guardrail_violations.clone(),
            unresolved: self.unresolved.clone(),
            context: DriftContext {
                policy_digest: self.policy_digest.clone().unwrap_or_default(),
                endpoint: self.endpoint.clone(),
                shard: self.shard,
            },
            findings: Findings {
                counts: self.finding_counts,
                items: self.findings.clone(),
            },
        }
    }
}

/// `s3cors-drift-report` version 1.
pub fn json(report: &DriftReport) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail; strings, numbers and options always serialise.
    let _ = write_json(&mut out, report);
    String::from_utf8(out).unwrap_or_default()
}

/// [`json`], written to `out` as it is made: at 100,000 buckets the text of the
/// report is never held whole in memory.
pub fn write_json(out: &mut dyn std::io::Write, report: &DriftReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonReport::new(report))?;
    out.write_all(b"\n")
}

/// The one report that the drift reports of all shards of one run make together
/// (`drift --merge`). `files` are (name, report) pairs in any order. Refused,
/// with the files named and the fix: a report without a policy digest (made by
/// an older s3cors), whatever [`check_parts`] refuses (an unsharded report,
/// different counts or `--shard-by`, a shard given twice or missing, other
/// policies or endpoints), and a bucket in two reports. The merged report has
/// no shard; its counts are the sums of the shards'.
pub fn merge(files: &[(String, JsonReport)]) -> Result<DriftReport, String> {
    for (name, f) in files {
        if f.policy_digest.is_none() {
            return Err(format!(
                "{name} does not record the policy digest (an older s3cors made it); \
                 run `s3cors drift --format json` for that shard again"
            ));
        }
    }
    let parts: Vec<Part<'_>> = files
        .iter()
        .map(|(name, f)| Part {
            name,
            shard: f.shard,
            policy_digest: f.policy_digest.as_deref().unwrap_or_default(),
            endpoint: &f.endpoint,
        })
        .collect();
    check_parts(&parts, "drift report")?;
    // Every bucket, managed, unmanaged or unresolved, is in one shard only.
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, f) in files {
        let buckets = f
            .buckets
            .iter()
            .map(|b| b.bucket.as_str())
            .chain(f.unmanaged.iter().flatten().map(|u| u.bucket.as_str()))
            .chain(f.unresolved.iter().map(|u| u.bucket.as_str()));
        for bucket in buckets.collect::<BTreeSet<_>>() {
            if let Some(other) = owner.insert(bucket, name) {
                return Err(format!(
                    "bucket {bucket:?} is in both {other} and {name}: the shards overlap; \
                     give the reports of one sharded run"
                ));
            }
        }
    }
    let mut merged = DriftReport::default();
    for (_, f) in files {
        let part = f.to_report();
        merged.managed.extend(part.managed);
        if let Some(unmanaged) = part.unmanaged {
            merged
                .unmanaged
                .get_or_insert_with(Vec::new)
                .extend(unmanaged);
        }
        merged.violations.extend(part.violations);
        merged.unresolved.extend(part.unresolved);
        merged.context = DriftContext {
            shard: None,
            ..part.context
        };
        // Every shard read the same policies (equal digests): the same findings.
        merged.findings = part.findings;
    }
    merged.managed.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    if let Some(u) = merged.unmanaged.as_mut() {
        u.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    }
    merged
        .violations
        .sort_by(|a, b| (&a.bucket, a.rule, &a.guardrail).cmp(&(&b.bucket, b.rule, &b.guardrail)));
    merged.unresolved.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    Ok(merged)
}

/// For a pull-request or issue comment: the summary and the counts per
/// account and per policy entry first, then a table of what is not in sync
/// (grouped as in [`human`] unless `verbose`), at most
/// [`super::render::MARKDOWN_MAX_LEN`] bytes in all; what does not fit is
/// counted instead.
pub fn markdown(report: &DriftReport, verbose: bool) -> String {
    let budget = super::render::MARKDOWN_MAX_LEN - 200;
    let heading = match report.context.shard {
        Some(shard) => format!("### s3cors drift, shard {shard}"),
        None => "### s3cors drift".to_owned(),
    };
    let mut out = format!(
        "{heading}\n\n**{}**\n\n",
        summary_line(&report.summary(), report.unmanaged.is_some())
    );
    let groups = out_of_sync_groups(report, verbose);
    if !groups.is_empty() {
        let rows = if verbose { 100 } else { fleet::BREAKDOWN_ROWS };
        out.push_str(&breakdown(report).markdown(Some(rows)));
    }
    // The policy findings: at most an eighth of what is left.
    out.push_str(
        &report
            .findings
            .markdown(budget.saturating_sub(out.len()) / 8),
    );
    let cell = |names: &[&str]| match names {
        [one] => format!("<code>{}</code>", markdown_safe(one)),
        many => format!(
            "{}: {}",
            fleet::buckets(many.len()),
            fleet::names_markdown(many, false)
        ),
    };
    // (buckets the row covers, the row)
    let mut rows: Vec<(usize, String)> = Vec::new();
    for group in groups {
        let b = group[0];
        let names: Vec<&str> = group.iter().map(|b| b.bucket.as_str()).collect();
        let (state, note) = match &b.state {
            State::InSync => continue,
            State::Drifted if group.len() > 1 => ("drifted", "(the same way in each)".to_owned()),
            State::Drifted => ("drifted", String::new()),
            State::MissingBucket => ("missing", String::new()),
            State::Error(e) => ("error", markdown_safe(e)),
        };
        let source = fleet::sources_note(group.iter().map(|b| b.source.as_str()));
        rows.push((
            group.len(),
            format!(
                "| {} | {state} | {} {note} |",
                cell(&names),
                markdown_safe(&source),
            ),
        ));
    }
    for group in unmanaged_groups(report.unmanaged.as_deref().unwrap_or_default(), verbose) {
        let names: Vec<&str> = group.iter().map(|u| u.bucket.as_str()).collect();
        rows.push((
            group.len(),
            format!(
                "| {} | unmanaged | {} rule(s) |",
                cell(&names),
                group[0].rules
            ),
        ));
    }
    for u in &report.unresolved {
        rows.push((
            1,
            format!(
                "| <code>{}</code> | unresolved | {} |",
                markdown_safe(&u.bucket),
                markdown_safe(&u.message)
            ),
        ));
    }
    for group in violation_groups(&report.violations, verbose) {
        let v = group[0];
        let names: Vec<&str> = group.iter().map(|v| v.bucket.as_str()).collect();
        rows.push((
            group.len(),
            format!(
                "| {} | guardrail <code>{}</code> | rule #{}: {} |",
                cell(&names),
                markdown_safe(&v.guardrail),
                v.rule,
                markdown_safe(&v.message)
            ),
        ));
    }
    if !rows.is_empty() {
        out.push_str("| bucket | state | details |\n| --- | --- | --- |\n");
        let mut shown_rows = 0;
        for (_, row) in &rows {
            if out.len() + row.len() + 1 > budget {
                break;
            }
            out.push_str(row);
            out.push('\n');
            shown_rows += 1;
        }
        if shown_rows < rows.len() {
            let hidden: usize = rows[shown_rows..].iter().map(|(n, _)| n).sum();
            out.push_str(&format!(
                "\n{} more rows ({}) are left out; the JSON report (`--format json`) \
                 lists every bucket.\n",
                count(rows.len() - shown_rows),
                fleet::buckets(hidden)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CorsConfig, Method};
    use crate::plan::shard::ShardBy;
    use crate::plan::tests::{cfg, desired};

    pub(super) fn sample() -> DriftReport {
        let a = cfg(&["https://a.example"], &[Method::Get]);
        let b = cfg(&["https://b.example"], &[Method::Get]);
        let want = vec![
            desired("in-sync", 3, Some(a.clone())),
            desired("drifted", 7, Some(a.clone())),
            desired("gone", 11, Some(a.clone())),
            desired("denied", 15, None),
            desired("no-cors-wanted", 19, None),
        ];
        let live: LiveState = [
            ("in-sync".to_owned(), LiveBucket::Found(Some(a.clone()))),
            ("drifted".to_owned(), LiveBucket::Found(Some(b))),
            ("gone".to_owned(), LiveBucket::Missing),
            (
                "denied".to_owned(),
                LiveBucket::Error("AccessDenied".to_owned()),
            ),
            ("no-cors-wanted".to_owned(), LiveBucket::Found(None)),
        ]
        .into();
        let mut r = report(&want, &live);
        r.unmanaged = Some(vec![UnmanagedBucket {
            bucket: "stray".to_owned(),
            rules: 2,
        }]);
        r.violations.push(LiveViolation {
            bucket: "stray".to_owned(),
            guardrail: "https-only".to_owned(),
            rule: 0,
            value: "http://x.example".to_owned(),
            message: "origin does not use https".to_owned(),
        });
        r.unresolved.push(UnresolvedBucket {
            bucket: "claimed-twice".to_owned(),
            message: "bucket claimed-twice is managed by two entries".to_owned(),
        });
        r.context = DriftContext {
            policy_digest: crate::plan::file::policy_digest([(
                "policies/web.yaml",
                b"version: 1\n".as_slice(),
            )]),
            endpoint: Endpoint::Custom("http://127.0.0.1:9000".to_owned()),
            shard: None,
        };
        r
    }

    /// `full` split over `count` shards (bucket `i` of each list into shard
    /// `i % count + 1`), each as the JSON report that shard's run would print,
    /// read back as `drift --merge` reads it.
    fn split(full: &DriftReport, count: u32) -> Vec<(String, JsonReport)> {
        let of = |i: usize| (i as u32) % count + 1;
        let home = |bucket: &str| -> Option<u32> {
            full.managed
                .iter()
                .map(|b| b.bucket.as_str())
                .chain(full.unmanaged.iter().flatten().map(|u| u.bucket.as_str()))
                .chain(full.unresolved.iter().map(|u| u.bucket.as_str()))
                .position(|b| b == bucket)
                .map(of)
        };
        (1..=count)
            .map(|k| {
                let mine = |bucket: &str| home(bucket) == Some(k);
                let part = DriftReport {
                    managed: full
                        .managed
                        .iter()
                        .filter(|b| mine(&b.bucket))
                        .cloned()
                        .collect(),
                    unmanaged: full
                        .unmanaged
                        .as_ref()
                        .map(|u| u.iter().filter(|b| mine(&b.bucket)).cloned().collect()),
                    violations: full
                        .violations
                        .iter()
                        .filter(|v| mine(&v.bucket))
                        .cloned()
                        .collect(),
                    unresolved: full
                        .unresolved
                        .iter()
                        .filter(|u| mine(&u.bucket))
                        .cloned()
                        .collect(),
                    context: DriftContext {
                        shard: Some(ShardRecord {
                            index: k,
                            count,
                            by: ShardBy::Account,
                        }),
                        ..full.context.clone()
                    },
                    findings: full.findings.clone(),
                };
                let read = JsonReport::from_json(&json(&part)).expect("a drift report reads back");
                (format!("drift-{k}.json"), read)
            })
            .collect()
    }

    /// The policy findings travel in the JSON report, through `drift --merge`
    /// (every shard has the same ones), and into markdown.
    #[test]
    fn findings_are_in_json_merged_reports_and_markdown() {
        use crate::diag::{Diagnostic, SourceFile, Sources, Span, Suppression};
        let mut sources = Sources::new();
        let file = sources.add(SourceFile::new("policies/web.yaml", "a\nb\n"));
        let mut quiet =
            Diagnostic::warning(crate::cors::lint::LintCode::MaxAgeOverBrowserCap, "long")
                .at(Span::new(file, 2, 3))
                .path("buckets[name=in-sync].rules[0].MaxAgeSeconds");
        quiet.suppressed = Some(Box::new(Suppression {
            reason: Some("CDN".into()),
            span: Span::new(file, 0, 1),
        }));
        let loud = Diagnostic::warning(crate::cors::lint::LintCode::HttpOrigin, "plain http")
            .at(Span::new(file, 0, 1));
        let mut full = sample();
        full.findings = Findings::new(&sources, &[quiet, loud]);
        let v: serde_json::Value = serde_json::from_str(&json(&full)).unwrap();
        assert_eq!(
            v["finding_counts"],
            serde_json::json!({"errors": 0, "warnings": 1, "suppressed": 1})
        );
        assert_eq!(v["findings"][0]["code"], "http-origin");
        assert_eq!(v["findings"][1]["bucket"], "in-sync");
        assert_eq!(v["findings"][1]["reason"], "CDN");
        for count in [1, 3] {
            let merged = merge(&split(&full, count)).expect("merges");
            assert_eq!(merged.findings, full.findings, "{count} shards");
        }
        let text = markdown(&full, false);
        assert!(
            text.contains("#### Policy findings\n\n**0 errors, 1 warning, 1 suppressed**"),
            "{text}"
        );
        assert!(text.contains("_suppressed: CDN_"), "{text}");
        assert!(text.len() <= super::super::render::MARKDOWN_MAX_LEN);
    }

    #[test]
    fn shard_reports_merge_into_the_whole_report() {
        let full = sample();
        for count in [1, 2, 3, 7] {
            let mut parts = split(&full, count);
            parts.reverse();
            let merged = merge(&parts).unwrap_or_else(|e| panic!("{count} shards: {e}"));
            assert_eq!(merged, full, "{count} shards");
            assert_eq!(merged.summary(), full.summary(), "{count} shards");
            assert_eq!(merged.verdict(), full.verdict(), "{count} shards");
        }
        // The verdict of the whole is the worst of the parts': in sync, drift, failure.
        let a = cfg(&["https://a.example"], &[Method::Get]);
        let live: LiveState = [("ok".to_owned(), LiveBucket::Found(Some(a.clone())))].into();
        let in_sync = report(&[desired("ok", 1, Some(a.clone()))], &live);
        let mut drifted = in_sync.clone();
        drifted
            .managed
            .push(report(&[desired("new", 2, Some(a))], &LiveState::new()).managed[0].clone());
        drifted.managed[1].state = State::Drifted;
        let mut failed = drifted.clone();
        failed.unresolved.push(UnresolvedBucket {
            bucket: "tags-unreadable".to_owned(),
            message: "AccessDenied".to_owned(),
        });
        for (whole, want) in [
            (&in_sync, Verdict::InSync),
            (&drifted, Verdict::Drifted),
            (&failed, Verdict::Failed),
        ] {
            let merged = merge(&split(whole, 2)).expect("merges");
            assert_eq!(merged.verdict(), want, "{whole:?}");
        }
    }

    #[test]
    fn shard_reports_that_do_not_make_one_run_are_refused() {
        let full = sample();
        let parts = split(&full, 3);
        let [one, two, three] = [0, 1, 2].map(|i| parts[i].1.clone());
        let named = |files: &[(&str, &JsonReport)]| -> Vec<(String, JsonReport)> {
            files
                .iter()
                .map(|(n, f)| ((*n).to_owned(), (*f).clone()))
                .collect()
        };
        let with = |f: &dyn Fn(&mut JsonReport)| {
            let mut r = two.clone();
            f(&mut r);
            r
        };
        let unsharded = with(&|r| r.shard = None);
        let other_count = with(&|r| {
            r.shard = Some(ShardRecord {
                count: 4,
                ..r.shard.unwrap()
            })
        });
        let by_bucket = with(&|r| {
            r.shard = Some(ShardRecord {
                by: ShardBy::Bucket,
                ..r.shard.unwrap()
            })
        });
        let other_policies = with(&|r| r.policy_digest = Some("sha256:00".to_owned()));
        let older = with(&|r| r.policy_digest = None);
        let aws = with(&|r| r.endpoint = Endpoint::Aws);
        let overlapping = with(&|r| r.buckets.push(one.buckets[0].clone()));
        type Named = Vec<(String, JsonReport)>;
        let cases: Vec<(&str, Named, &str)> = vec![
            ("none", Vec::new(), "no drift reports given"),
            (
                "missing",
                named(&[("a", &one), ("c", &three)]),
                "shard 2/3 is missing (a is 1/3, c is 3/3): give the drift report of every shard",
            ),
            (
                "twice",
                named(&[("a", &one), ("b", &two), ("b2", &two), ("c", &three)]),
                "shard 2/3 is given twice: b and b2; give each shard's drift report once",
            ),
            (
                "unsharded",
                named(&[("a", &one), ("b", &unsharded), ("c", &three)]),
                "b was not made with --shard, so it is not one shard of a larger drift report; \
                 give only the drift reports of one sharded run",
            ),
            (
                "counts",
                named(&[("a", &one), ("b", &other_count), ("c", &three)]),
                "b is shard 2/4, but a is one of 3 shards; give the drift reports of one run",
            ),
            (
                "by",
                named(&[("a", &one), ("b", &by_bucket), ("c", &three)]),
                "b was sharded by bucket, but a by account; shard every job with the same --shard-by",
            ),
            (
                "policies",
                named(&[("a", &one), ("b", &other_policies), ("c", &three)]),
                "b was made from other policies than a (policy digests differ); \
                 make every shard from the same commit",
            ),
            (
                "older",
                named(&[("a", &one), ("b", &older), ("c", &three)]),
                "b does not record the policy digest",
            ),
            (
                "endpoint",
                named(&[("a", &one), ("b", &aws), ("c", &three)]),
                "b was made against AWS, but a against http://127.0.0.1:9000",
            ),
            (
                "overlap",
                named(&[("a", &one), ("b", &overlapping), ("c", &three)]),
                "is in both a and b: the shards overlap",
            ),
        ];
        for (what, files, want) in cases {
            match merge(&files) {
                Ok(_) => panic!("{what}: merged"),
                Err(e) => assert!(e.contains(want), "{what}: {e}"),
            }
        }
    }

    #[test]
    fn only_drift_json_reports_are_read() {
        let good = json(&sample());
        assert!(JsonReport::from_json(&good).is_ok());
        let plan_report = crate::plan::render::json(&crate::plan::tests::sample_plan(), None);
        let cases = [
            ("not json".to_owned(), "it is not JSON"),
            (
                plan_report,
                "it is not an s3cors-drift-report (format \"s3cors-plan-report\")",
            ),
            ("{}".to_owned(), "(format missing)"),
            (
                good.replace("\"format_version\": 1", "\"format_version\": 9"),
                "version 9, and this s3cors reads version 1",
            ),
            (
                good.replace("\"buckets\"", "\"bukkits\""),
                "it is not a well-formed drift report",
            ),
        ];
        for (text, want) in cases {
            match JsonReport::from_json(&text) {
                Ok(_) => panic!("{want}: read"),
                Err(e) => assert!(e.contains(want), "{want}: {e}"),
            }
        }
    }

    #[test]
    fn states_and_summary() {
        let r = sample();
        let states: Vec<(&str, &State)> = r
            .managed
            .iter()
            .map(|b| (b.bucket.as_str(), &b.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("denied", &State::Error("AccessDenied".to_owned())),
                ("drifted", &State::Drifted),
                ("gone", &State::MissingBucket),
                ("in-sync", &State::InSync),
                ("no-cors-wanted", &State::InSync),
            ]
        );
        let s = r.summary();
        assert_eq!(
            (
                s.in_sync,
                s.drifted,
                s.missing,
                s.errors,
                s.unmanaged_with_cors,
                s.guardrail_violations
            ),
            (2, 1, 1, 1, 1, 1)
        );
    }

    #[test]
    fn verdict_failures_outrank_drift() {
        let summary = |drifted, missing, errors, guardrail_violations| DriftSummary {
            in_sync: 3,
            drifted,
            missing,
            errors,
            unmanaged_with_cors: 4,
            guardrail_violations,
            unresolved: 0,
        };
        // (drifted, missing, errors, violations, problems) -> verdict
        let cases = [
            ((0, 0, 0, 0, 0), Verdict::InSync),
            ((1, 0, 0, 0, 0), Verdict::Drifted),
            ((0, 1, 0, 0, 0), Verdict::Drifted),
            ((0, 0, 1, 0, 0), Verdict::Failed),
            ((0, 0, 0, 1, 0), Verdict::Failed),
            ((0, 0, 0, 0, 1), Verdict::Failed),
            ((2, 2, 0, 1, 0), Verdict::Failed),
            ((2, 0, 0, 0, 3), Verdict::Failed),
        ];
        for ((d, m, e, v, p), want) in cases {
            assert_eq!(
                verdict(&summary(d, m, e, v), p),
                want,
                "{:?}",
                (d, m, e, v, p)
            );
        }
    }

    #[test]
    fn unmanaged_buckets_are_neither_managed_nor_unresolved_and_in_shard() {
        let managed: BTreeSet<&str> = ["app"].into();
        let unresolved: BTreeSet<&str> = ["conflict"].into();
        let (mine, other) = ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .partition::<Vec<&str>, _>(|b| super::super::shard::in_shard(b, 1, 2));
        assert!(!mine.is_empty() && !other.is_empty());
        let shard = |index, count, by| Some(ShardRecord { index, count, by });
        let mut cases = vec![
            ("app", None, false),
            ("conflict", None, false),
            ("stray", None, true),
            ("app", shard(1, 1, ShardBy::Bucket), false),
            ("stray", shard(1, 1, ShardBy::Bucket), true),
        ];
        cases.extend(
            mine.iter()
                .map(|b| (*b, shard(1, 2, ShardBy::Bucket), true)),
        );
        cases.extend(
            other
                .iter()
                .map(|b| (*b, shard(1, 2, ShardBy::Bucket), false)),
        );
        // By account, an unmanaged bucket has no account: all of them are in the
        // shard of the no-account key, whatever their names.
        let home = super::super::shard::shard_of(super::super::shard::NO_ACCOUNT_KEY, 2);
        for b in mine.iter().chain(&other) {
            cases.push((b, shard(home, 2, ShardBy::Account), true));
            cases.push((b, shard(3 - home, 2, ShardBy::Account), false));
        }
        for (bucket, shard, want) in cases {
            assert_eq!(
                is_unmanaged(bucket, &managed, &unresolved, shard),
                want,
                "{bucket} {shard:?}"
            );
        }
    }

    #[test]
    fn only_unmanaged_buckets_with_cors_are_listed() {
        let two = CorsConfig::new(vec![
            cfg(&["https://a.example"], &[Method::Get]).cors_rules[0].clone(),
            cfg(&["https://b.example"], &[Method::Get]).cors_rules[0].clone(),
        ]);
        let live: LiveState = [
            ("with".to_owned(), LiveBucket::Found(Some(two))),
            ("without".to_owned(), LiveBucket::Found(None)),
            ("gone".to_owned(), LiveBucket::Missing),
            (
                "denied".to_owned(),
                LiveBucket::Error("AccessDenied".into()),
            ),
        ]
        .into();
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, usize)]);
        let cases: &[Case] = &[
            (&[], &[]),
            (&["with"], &[("with", 2)]),
            (&["without", "gone", "denied", "not-read"], &[]),
            (&["denied", "with", "without"], &[("with", 2)]),
        ];
        for (names, want) in cases {
            let got: Vec<(String, usize)> = unmanaged_with_cors(names.iter().copied(), &live)
                .into_iter()
                .map(|u| (u.bucket, u.rules))
                .collect();
            let want: Vec<(String, usize)> =
                want.iter().map(|(b, n)| (b.to_string(), *n)).collect();
            assert_eq!(got, want, "{names:?}");
        }
    }

    #[test]
    fn guardrails_hold_for_every_live_configuration_read() {
        let text = "version: 1\nguardrails:\n  - id: https-only\n    buckets: 'web-*'\n    require: {origin_scheme: https}\n";
        let mut sources = crate::diag::Sources::new();
        sources.add(crate::diag::SourceFile::new("g.yaml", text));
        let loaded = crate::policy::load(&sources);
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        let guardrails = &loaded.policy.guardrails;
        let http = || cfg(&["http://x.example"], &[Method::Get]);
        let https = || cfg(&["https://x.example"], &[Method::Get]);
        let cases: Vec<(LiveState, Vec<&str>)> = vec![
            (LiveState::new(), vec![]),
            (
                [("web-a".to_owned(), LiveBucket::Found(Some(https())))].into(),
                vec![],
            ),
            (
                [("web-a".to_owned(), LiveBucket::Found(Some(http())))].into(),
                vec!["web-a"],
            ),
            (
                [("api".to_owned(), LiveBucket::Found(Some(http())))].into(),
                vec![],
            ),
            (
                [
                    ("web-b".to_owned(), LiveBucket::Found(Some(http()))),
                    ("web-a".to_owned(), LiveBucket::Found(Some(http()))),
                    ("web-c".to_owned(), LiveBucket::Found(None)),
                    ("web-d".to_owned(), LiveBucket::Missing),
                    ("web-e".to_owned(), LiveBucket::Error("denied".into())),
                ]
                .into(),
                vec!["web-a", "web-b"],
            ),
        ];
        for (live, want) in cases {
            let got = live_violations(guardrails, &live);
            let buckets: Vec<&str> = got.iter().map(|v| v.bucket.as_str()).collect();
            assert_eq!(buckets, want, "{live:?}");
            assert!(
                got.iter()
                    .all(|v| v.guardrail == "https-only" && v.rule == 0)
            );
        }
    }

    #[test]
    fn renderings() {
        let mut r = sample();
        insta::assert_snapshot!("drift_human", human(&r, false));
        insta::assert_snapshot!("drift_json", json(&r));
        insta::assert_snapshot!("drift_markdown", markdown(&r, false));
        r.context.shard = Some(ShardRecord {
            index: 2,
            count: 4,
            by: ShardBy::Account,
        });
        let human = human(&r, false);
        assert!(
            human.starts_with("Drift of shard 2/4 by account.\n\n"),
            "{human}"
        );
        assert!(markdown(&r, false).starts_with("### s3cors drift, shard 2/4 by account\n"));
        let json: serde_json::Value = serde_json::from_str(&json(&r)).expect("json");
        assert_eq!(
            json["shard"],
            serde_json::json!({"index": 2, "count": 4, "by": "account"})
        );
    }

    /// Live names and messages are shown, never obeyed: no raw control character
    /// reaches a terminal and no HTML reaches a comment.
    #[test]
    fn hostile_live_values_are_inert() {
        let evil = "x\x1b]0;pwned\x07<script>|\n";
        let live: LiveState = [("b".to_owned(), LiveBucket::Error(evil.to_owned()))].into();
        let mut r = report(&[desired("b", 1, None)], &live);
        r.unmanaged = Some(vec![UnmanagedBucket {
            bucket: evil.to_owned(),
            rules: 1,
        }]);
        r.violations.push(LiveViolation {
            bucket: evil.to_owned(),
            guardrail: "g".to_owned(),
            rule: 0,
            value: evil.to_owned(),
            message: evil.to_owned(),
        });
        r.unresolved.push(UnresolvedBucket {
            bucket: evil.to_owned(),
            message: evil.to_owned(),
        });
        let text = human(&r, false);
        assert!(!text.contains(['\x1b', '\x07']), "{text}");
        assert!(
            text.contains("x\\u{1b}]0;pwned\\u{7}<script>|\\n"),
            "{text}"
        );
        let md = markdown(&r, false);
        assert!(!md.contains("<script>") && !md.contains('\x1b'), "{md}");
        // Every row still has its four cell separators: nothing broke the table.
        for row in md.lines().filter(|l| l.starts_with('|')) {
            assert_eq!(row.matches('|').count(), 4, "{row}");
        }
    }

    /// `n` buckets from one entry wanting `a`; live: the first `b_count` have
    /// `b`, the rest `c` (or, with `distinct`, each its own origin).
    fn fleet(n: usize, b_count: usize, distinct: bool) -> DriftReport {
        let a = cfg(&["https://a.example"], &[Method::Get]);
        let mut want = Vec::new();
        let mut live = LiveState::new();
        for i in 0..n {
            let name = format!("logs-{i:06}");
            want.push(desired(&name, 3, Some(a.clone())));
            let origin = if distinct {
                format!("https://{i}.example")
            } else if i < b_count {
                "https://b.example".to_owned()
            } else {
                "https://c.example".to_owned()
            };
            live.insert(
                name,
                LiveBucket::Found(Some(cfg(&[&origin], &[Method::Get]))),
            );
        }
        report(&want, &live)
    }

    #[test]
    fn drifted_buckets_are_grouped_by_identical_live_and_desired_rules() {
        // (buckets, how many have live rules b, distinct) -> groups
        for (n, b_count, distinct, groups) in [
            (1, 0, false, 1),
            (300, 0, false, 1),
            (300, 100, false, 2),
            (5, 0, true, 5),
        ] {
            let r = fleet(n, b_count, distinct);
            let got = out_of_sync_groups(&r, false);
            assert_eq!(got.len(), groups, "{n}/{b_count}/{distinct}");
            assert_eq!(out_of_sync_groups(&r, true).len(), n);
            for g in &got {
                assert!(
                    g.iter()
                        .all(|b| b.live == g[0].live && b.desired == g[0].desired)
                );
            }
        }
        // Same live rules but different desired rules: two groups.
        let mut r = fleet(4, 0, false);
        r.managed[3].desired = Some(vec![]);
        assert_eq!(out_of_sync_groups(&r, false).len(), 2);
    }

    #[test]
    fn fleet_renderings() {
        let r = fleet(300, 100, false);
        let text = human(&r, false);
        insta::assert_snapshot!("drift_fleet_human", text);
        let verbose = human(&r, true);
        assert_eq!(verbose.matches("drifted  logs-").count(), 300, "{verbose}");
        insta::assert_snapshot!("drift_fleet_markdown", markdown(&r, false));
    }

    #[test]
    fn markdown_stays_under_budget_at_100k_buckets() {
        for distinct in [false, true] {
            let r = fleet(100_000, 0, distinct);
            for verbose in [false, true] {
                let md = markdown(&r, verbose);
                let case = format!("{distinct}/{verbose}");
                assert!(
                    md.len() <= super::super::render::MARKDOWN_MAX_LEN,
                    "{case}: {}",
                    md.len()
                );
                if distinct || verbose {
                    assert!(md.contains("rows ("), "{case}");
                    assert!(md.contains("are left out"), "{case}");
                } else {
                    assert!(
                        md.contains("| 100,000 buckets: <code>logs-000000</code> … <code>logs-099999</code> | drifted |"),
                        "{case}"
                    );
                }
            }
        }
    }
}
