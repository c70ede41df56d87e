//! The compliance view (`s3cors drift`): per managed bucket in-sync, drifted,
//! missing or unreadable; optionally the unmanaged buckets that carry CORS; and
//! guardrail violations of live configurations. Pure: built from [`LiveState`]
//! and rendered as human text, versioned JSON (`s3cors-drift-report`, version 1,
//! see docs/plan-format.md) or markdown.

use serde::Serialize;

use super::compare::equivalent;
use super::file::{ConsoleRule, to_console};
use super::{DesiredBucket, LiveBucket, LiveState};
use crate::text::{markdown_safe, terminal_safe};

/// Where a managed bucket stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedBucket {
    pub bucket: String,
    /// The policy entry, `file:line`.
    pub source: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmanagedBucket {
    pub bucket: String,
    pub rules: usize,
}

/// A live configuration breaking a guardrail (managed or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveViolation {
    pub bucket: String,
    pub guardrail: String,
    pub rule: usize,
    pub value: String,
    pub message: String,
}

/// Counts for the summary line and exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DriftSummary {
    pub in_sync: usize,
    pub drifted: usize,
    pub missing: usize,
    pub errors: usize,
    pub unmanaged_with_cors: usize,
    pub guardrail_violations: usize,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftReport {
    pub managed: Vec<ManagedBucket>,
    /// `None` unless `--unmanaged` asked for them.
    pub unmanaged: Option<Vec<UnmanagedBucket>>,
    pub violations: Vec<LiveViolation>,
}

/// Compares every desired bucket with its live state.
pub fn report(desired: &[DesiredBucket], live: &LiveState) -> DriftReport {
    let mut managed: Vec<ManagedBucket> = desired
        .iter()
        .map(|d| {
            let (state, live_cfg) = match live.get(&d.name) {
                Some(LiveBucket::Found(cfg)) if equivalent(cfg.as_ref(), d.desired.as_ref()) => {
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
                state,
                live: live_cfg.and_then(|c| to_console(c.as_ref())),
                desired: if drifted {
                    to_console(d.desired.as_ref())
                } else {
                    None
                },
            }
        })
        .collect();
    managed.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    DriftReport {
        managed,
        unmanaged: None,
        violations: Vec::new(),
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
        s
    }
}

/// `Drift: N in sync, N drifted, N missing, ...`.
pub fn summary_line(s: &DriftSummary, unmanaged: bool) -> String {
    let mut line = format!(
        "Drift: {} in sync, {} drifted, {} missing",
        s.in_sync, s.drifted, s.missing
    );
    if s.errors > 0 {
        line.push_str(&format!(", {} unreadable", s.errors));
    }
    if unmanaged {
        line.push_str(&format!("; {} unmanaged with CORS", s.unmanaged_with_cors));
    }
    if s.guardrail_violations > 0 {
        line.push_str(&format!(
            "; {} guardrail violations",
            s.guardrail_violations
        ));
    }
    line.push('.');
    line
}

/// One line per bucket that is not in sync, then the summary. Names, messages and
/// values come from live state, so they are shown [`terminal_safe`].
pub fn human(report: &DriftReport) -> String {
    let mut out = String::new();
    for b in &report.managed {
        let (bucket, source) = (terminal_safe(&b.bucket), terminal_safe(&b.source));
        let line = match &b.state {
            State::InSync => continue,
            State::Drifted => format!(
                "drifted  {bucket} ({source}): live rules differ from the policy; `s3cors plan` shows how"
            ),
            State::MissingBucket => {
                format!("missing  {bucket} ({source}): the bucket does not exist")
            }
            State::Error(e) => format!("error    {bucket} ({source}): {}", terminal_safe(e)),
        };
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(unmanaged) = &report.unmanaged {
        for u in unmanaged {
            out.push_str(&format!(
                "unmanaged {}: {} CORS rule(s) and no policy manages it\n",
                terminal_safe(&u.bucket),
                u.rules
            ));
        }
    }
    for v in &report.violations {
        out.push_str(&format!(
            "guardrail {} on {}: rule #{} value {:?}: {}\n",
            terminal_safe(&v.guardrail),
            terminal_safe(&v.bucket),
            v.rule,
            v.value,
            terminal_safe(&v.message)
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_line(&report.summary(), report.unmanaged.is_some()));
    out.push('\n');
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format: &'static str,
    format_version: u32,
    summary: DriftSummary,
    buckets: &'a [ManagedBucket],
    #[serde(skip_serializing_if = "Option::is_none")]
    unmanaged: Option<&'a [UnmanagedBucket]>,
    guardrail_violations: &'a [LiveViolation],
}

/// `s3cors-drift-report` version 1.
pub fn json(report: &DriftReport) -> String {
    let doc = JsonReport {
        format: "s3cors-drift-report",
        format_version: 1,
        summary: report.summary(),
        buckets: &report.managed,
        unmanaged: report.unmanaged.as_deref(),
        guardrail_violations: &report.violations,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// For a pull-request or issue comment: summary first, then a capped table.
pub fn markdown(report: &DriftReport) -> String {
    const MAX_ROWS: usize = 500;
    let mut out = format!(
        "### s3cors drift\n\n**{}**\n",
        summary_line(&report.summary(), report.unmanaged.is_some())
    );
    let mut rows: Vec<String> = Vec::new();
    for b in &report.managed {
        let (state, note) = match &b.state {
            State::InSync => continue,
            State::Drifted => ("drifted", String::new()),
            State::MissingBucket => ("missing", String::new()),
            State::Error(e) => ("error", markdown_safe(e)),
        };
        rows.push(format!(
            "| <code>{}</code> | {state} | {} {note} |",
            markdown_safe(&b.bucket),
            markdown_safe(&b.source),
        ));
    }
    for u in report.unmanaged.iter().flatten() {
        rows.push(format!(
            "| <code>{}</code> | unmanaged | {} rule(s) |",
            markdown_safe(&u.bucket),
            u.rules
        ));
    }
    for v in &report.violations {
        rows.push(format!(
            "| <code>{}</code> | guardrail <code>{}</code> | rule #{}: {} |",
            markdown_safe(&v.bucket),
            markdown_safe(&v.guardrail),
            v.rule,
            markdown_safe(&v.message)
        ));
    }
    if !rows.is_empty() {
        out.push_str("\n| bucket | state | details |\n| --- | --- | --- |\n");
        for row in rows.iter().take(MAX_ROWS) {
            out.push_str(row);
            out.push('\n');
        }
        if rows.len() > MAX_ROWS {
            out.push_str(&format!(
                "\n{} more rows are left out.\n",
                rows.len() - MAX_ROWS
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;
    use crate::plan::tests::{cfg, desired};

    fn sample() -> DriftReport {
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
        r
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
    fn renderings() {
        let r = sample();
        insta::assert_snapshot!("drift_human", human(&r));
        insta::assert_snapshot!("drift_json", json(&r));
        insta::assert_snapshot!("drift_markdown", markdown(&r));
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
        let text = human(&r);
        assert!(!text.contains(['\x1b', '\x07']), "{text}");
        assert!(
            text.contains("x\\u{1b}]0;pwned\\u{7}<script>|\\n"),
            "{text}"
        );
        let md = markdown(&r);
        assert!(!md.contains("<script>") && !md.contains('\x1b'), "{md}");
        // Every row still has its four cell separators: nothing broke the table.
        for row in md.lines().filter(|l| l.starts_with('|')) {
            assert_eq!(row.matches('|').count(), 4, "{row}");
        }
    }
}
