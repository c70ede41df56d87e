//! The apply journal (`s3cors-journal`, JSON Lines, append-only): what apply
//! read before each write and what it wrote, replayed tolerantly of a killed
//! writer.
//!
//! Documented in `docs/plan-format.md`, with the same rules as the plan file.
//! Pure: the app layer appends, flushes and reads the file.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::compare;
use super::console::{ConsoleRule, from_console, to_console};
use crate::model::CorsConfig;

/// The `format` value in a journal's `start` record.
pub const JOURNAL_FORMAT: &str = "s3cors-journal";
/// The only journal version this build reads and writes.
pub const JOURNAL_FORMAT_VERSION: u32 = 1;

/// One line of the apply journal (JSON Lines, append-only).
///
/// An apply run writes `start`, then per bucket `begin` (flushed before the
/// bucket's first write) and `done` or `failed`. A resumed run appends another
/// `start` and goes on; [`replay`] folds the lines into a [`JournalState`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case", deny_unknown_fields)]
pub enum JournalEntry {
    /// An apply run started.
    Start {
        /// Always [`JOURNAL_FORMAT`].
        format: String,
        /// Always [`JOURNAL_FORMAT_VERSION`].
        format_version: u32,
        /// [`PlanFile::digest`] of the plan being applied.
        plan_digest: String,
        /// The `s3cors` version applying it.
        tool_version: String,
        /// When, as given by the caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// About to write a bucket; `before` is its configuration right now.
    Begin {
        /// The bucket.
        bucket: String,
        /// Its live configuration before the write, console form; `null` for none.
        before: Option<Vec<ConsoleRule>>,
        /// `compare::digest` of `before`.
        before_digest: String,
        /// When, as given by the caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// The bucket was written and reads back as written.
    Done {
        /// The bucket.
        bucket: String,
        /// `compare::digest` of the configuration read back.
        after_digest: String,
        /// When, as given by the caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// Writing the bucket failed, or it did not read back in time.
    Failed {
        /// The bucket.
        bucket: String,
        /// Why.
        error: String,
        /// When, as given by the caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
}

impl JournalEntry {
    /// The `start` record of an apply run of the plan whose digest is `plan_digest`.
    pub fn start(plan_digest: &str, tool_version: &str, at: Option<String>) -> JournalEntry {
        JournalEntry::Start {
            format: JOURNAL_FORMAT.to_string(),
            format_version: JOURNAL_FORMAT_VERSION,
            plan_digest: plan_digest.to_string(),
            tool_version: tool_version.to_string(),
            at,
        }
    }

    /// The `begin` record for `bucket` whose live configuration is `before`.
    pub fn begin(bucket: &str, before: Option<&CorsConfig>, at: Option<String>) -> JournalEntry {
        JournalEntry::Begin {
            bucket: bucket.to_string(),
            before: to_console(before),
            before_digest: compare::digest(before),
            at,
        }
    }

    /// The `done` record for `bucket`, which now reads back as `after`.
    pub fn done(bucket: &str, after: Option<&CorsConfig>, at: Option<String>) -> JournalEntry {
        JournalEntry::Done {
            bucket: bucket.to_string(),
            after_digest: compare::digest(after),
            at,
        }
    }

    /// The `failed` record for `bucket`.
    pub fn failed(bucket: &str, error: &str, at: Option<String>) -> JournalEntry {
        JournalEntry::Failed {
            bucket: bucket.to_string(),
            error: error.to_string(),
            at,
        }
    }

    /// One line of JSON, newline included: append it and flush.
    pub fn to_line(&self) -> String {
        // Enums of strings and options always serialise.
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Where a bucket stands according to the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketStatus {
    /// `begin` without `done` or `failed` after it: the write may or may not
    /// have happened (the process was stopped).
    InProgress,
    /// Written and read back.
    Done {
        /// Digest of what was read back.
        after_digest: String,
    },
    /// The last attempt failed.
    Failed {
        /// Why.
        error: String,
    },
}

/// What the journal knows about one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalBucket {
    /// The configuration recorded by the bucket's **first** `begin`: what it
    /// had before this plan touched it, and what `rollback` restores. Later
    /// `begin`s (a resumed run) never overwrite it.
    pub before: Option<CorsConfig>,
    /// Digest of `before`.
    pub before_digest: String,
    /// The bucket's latest status.
    pub status: BucketStatus,
}

/// The apply journal folded up by [`replay`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalState {
    /// The plan the journal belongs to (from its `start` records).
    pub plan_digest: Option<String>,
    /// How many apply runs it records (`start` records).
    pub runs: usize,
    /// Every bucket with a `begin`, by name.
    pub buckets: BTreeMap<String, JournalBucket>,
    /// Records cut short by a killed process, and ignored (see [`replay`]).
    pub torn_records: usize,
}

impl JournalState {
    /// Whether `bucket` was written and read back.
    pub fn is_done(&self, bucket: &str) -> bool {
        matches!(
            self.buckets.get(bucket).map(|b| &b.status),
            Some(BucketStatus::Done { .. })
        )
    }
}

/// Why a journal could not be replayed (a torn record is not an error, see [`replay`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "apply journal line {}: {}; the journal is damaged, inspect it before applying or rolling back",
            self.line, self.reason
        )
    }
}

impl std::error::Error for JournalError {}

/// Fold journal lines (as read, in order) into a [`JournalState`].
///
/// Blank lines are skipped. A line that is not complete JSON is what a
/// process killed mid-write leaves; it is ignored and counted in
/// [`JournalState::torn_records`] when it is the last line, or when the next
/// line is a `start` (a later run resumed after the kill; writers end a torn
/// last line with a newline before appending, see `docs/plan-format.md`). A bad
/// line anywhere else is an error, as are a version other than 1, `start`s
/// naming different plans, `done` or `failed` for a bucket without `begin`, and
/// a `before_digest` that does not match `before`.
pub fn replay<S: AsRef<str>>(
    lines: impl IntoIterator<Item = S>,
) -> Result<JournalState, JournalError> {
    let mut state = JournalState::default();
    let mut pending: Option<JournalError> = None;
    for (index, line) in lines.into_iter().enumerate() {
        let line = line.as_ref().trim();
        if line.is_empty() {
            continue;
        }
        let number = index + 1;
        let parsed = serde_json::from_str::<JournalEntry>(line);
        if let Some(error) = pending.take() {
            if !matches!(parsed, Ok(JournalEntry::Start { .. })) {
                return Err(error);
            }
            state.torn_records += 1;
        }
        match parsed {
            Ok(entry) => apply_entry(&mut state, entry).map_err(|reason| JournalError {
                line: number,
                reason,
            })?,
            Err(e) => {
                let error = JournalError {
                    line: number,
                    reason: format!("not a journal record: {e}"),
                };
                // Complete JSON of the wrong shape was not cut short: never tolerated.
                if e.classify() == serde_json::error::Category::Data {
                    return Err(error);
                }
                pending = Some(error);
            }
        }
    }
    if pending.is_some() {
        state.torn_records += 1;
    }
    Ok(state)
}

fn apply_entry(state: &mut JournalState, entry: JournalEntry) -> Result<(), String> {
    match entry {
        JournalEntry::Start {
            format,
            format_version,
            plan_digest,
            ..
        } => {
            if format != JOURNAL_FORMAT || format_version != JOURNAL_FORMAT_VERSION {
                return Err(format!(
                    "journal format {format:?} version {format_version} is not supported \
                     (this s3cors reads {JOURNAL_FORMAT:?} version {JOURNAL_FORMAT_VERSION})"
                ));
            }
            match &state.plan_digest {
                Some(d) if *d != plan_digest => {
                    return Err(format!(
                        "run of plan {plan_digest} in the journal of plan {d}"
                    ));
                }
                _ => state.plan_digest = Some(plan_digest),
            }
            state.runs += 1;
        }
        JournalEntry::Begin {
            bucket,
            before,
            before_digest,
            ..
        } => {
            if state.runs == 0 {
                return Err("`begin` before any `start`".to_string());
            }
            let before = from_console(before);
            if compare::digest(before.as_ref()) != before_digest {
                return Err(format!(
                    "before_digest of bucket {bucket:?} does not match its before"
                ));
            }
            state
                .buckets
                .entry(bucket)
                .and_modify(|b| b.status = BucketStatus::InProgress)
                .or_insert(JournalBucket {
                    before,
                    before_digest,
                    status: BucketStatus::InProgress,
                });
        }
        JournalEntry::Done {
            bucket,
            after_digest,
            ..
        } => {
            let b = begun(state, &bucket, "done")?;
            b.status = BucketStatus::Done { after_digest };
        }
        JournalEntry::Failed { bucket, error, .. } => {
            let b = begun(state, &bucket, "failed")?;
            b.status = BucketStatus::Failed { error };
        }
    }
    Ok(())
}

fn begun<'a>(
    state: &'a mut JournalState,
    bucket: &str,
    event: &str,
) -> Result<&'a mut JournalBucket, String> {
    state
        .buckets
        .get_mut(bucket)
        .ok_or_else(|| format!("`{event}` for bucket {bucket:?} without a `begin`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;
    use crate::plan::file::PlanFile;
    use crate::plan::file::tests::meta;
    use crate::plan::tests::{cfg, sample_plan};

    fn journal_lines() -> Vec<String> {
        let before = cfg(&["https://old.example"], &[Method::Get]);
        let after = cfg(&["https://new.example"], &[Method::Get]);
        let plan = PlanFile::new(&sample_plan(), meta()).digest();
        [
            JournalEntry::start(&plan, "0.1.0", Some("2025-01-02T03:04:05Z".into())),
            JournalEntry::begin("a", Some(&before), None),
            JournalEntry::done("a", Some(&after), None),
            JournalEntry::begin("b", None, None),
            JournalEntry::failed("b", "AccessDenied", None),
            JournalEntry::begin("c", Some(&before), None),
            // Run 2 resumes: b is retried with a different live config; its
            // first `before` must stay the one recorded.
            JournalEntry::start(&plan, "0.1.0", None),
            JournalEntry::begin("b", Some(&after), None),
            JournalEntry::done("b", Some(&after), None),
        ]
        .iter()
        .map(JournalEntry::to_line)
        .collect()
    }

    #[test]
    fn journal_lines_snapshot() {
        insta::assert_snapshot!(journal_lines().concat());
    }

    #[test]
    fn journal_replay() {
        let lines = journal_lines();
        let state = replay(lines.iter()).expect("replays");
        assert_eq!(state.runs, 2);
        assert_eq!(
            state.plan_digest,
            Some(PlanFile::new(&sample_plan(), meta()).digest())
        );
        assert_eq!(state.torn_records, 0);
        assert!(state.is_done("a") && state.is_done("b") && !state.is_done("c"));
        assert_eq!(state.buckets["b"].before, None, "first before wins");
        assert_eq!(state.buckets["c"].status, BucketStatus::InProgress);
        assert_eq!(
            state.buckets["a"].before,
            Some(cfg(&["https://old.example"], &[Method::Get]))
        );
    }

    #[test]
    fn journal_tolerates_torn_records_only_where_a_kill_leaves_them() {
        let lines = journal_lines();
        let text = lines.concat();
        // Every cut inside the last record leaves a torn tail and loses only it.
        let last_start = text.len() - lines[lines.len() - 1].len();
        for cut in last_start + 1..text.len() - 1 {
            let state = replay(text[..cut].lines()).expect("torn tail tolerated");
            assert_eq!(state.torn_records, 1, "cut at {cut}");
            assert!(!state.is_done("b"), "cut at {cut}");
        }
        // A torn record followed by a resumed run's `start` is tolerated too.
        let mut resumed = lines.clone();
        resumed[5] = resumed[5][..20].to_string() + "\n";
        let state = replay(resumed.iter()).expect("torn record before a start");
        assert_eq!(state.torn_records, 1);
        assert!(!state.buckets.contains_key("c"));
        assert!(state.is_done("b"));
        // The same damage followed by anything else is an error naming the line.
        let mut damaged = lines.clone();
        damaged[2] = damaged[2][..10].to_string() + "\n";
        let err = replay(damaged.iter()).expect_err("mid-file damage");
        assert_eq!(err.line, 3);
        assert!(
            err.to_string()
                .contains("apply journal line 3: not a journal record"),
            "{err}"
        );
    }

    #[test]
    fn journal_rejections() {
        let start = JournalEntry::start("sha256:p", "0.1.0", None).to_line();
        let begin_a = JournalEntry::begin("a", None, None).to_line();
        let cases: Vec<(&str, Vec<String>, &str)> = vec![
            (
                "done without begin",
                vec![
                    start.clone(),
                    JournalEntry::done("a", None, None).to_line(),
                    "\n".into(),
                    start.clone(),
                ],
                "`done` for bucket \"a\" without a `begin`",
            ),
            (
                "begin without start",
                vec![begin_a.clone(), begin_a.clone()],
                "`begin` before any `start`",
            ),
            (
                "other plan",
                vec![
                    start.clone(),
                    JournalEntry::start("sha256:q", "0.1.0", None).to_line(),
                    start.clone(),
                ],
                "run of plan sha256:q in the journal of plan sha256:p",
            ),
            (
                "newer version",
                vec![
                    start.replace("\"format_version\":1", "\"format_version\":2"),
                    start.clone(),
                ],
                "version 2 is not supported",
            ),
            (
                "bad digest",
                vec![
                    start.clone(),
                    begin_a.replace("\"before\":null", "\"before\":[]"),
                    start.clone(),
                ],
                "before_digest of bucket \"a\" does not match",
            ),
            (
                "unknown event",
                vec![
                    start.clone(),
                    "{\"event\":\"paused\"}\n".into(),
                    start.clone(),
                ],
                "unknown variant `paused`",
            ),
            (
                "unknown event as the last line",
                vec![start.clone(), "{\"event\":\"paused\"}".into()],
                "unknown variant `paused`",
            ),
            (
                "torn record before a begin",
                vec![start.clone(), "{\"event\":\"do".into(), begin_a.clone()],
                "apply journal line 2: not a journal record",
            ),
        ];
        for (what, lines, expected) in cases {
            match replay(lines.iter()) {
                Ok(s) => panic!("{what}: accepted {s:?}"),
                Err(e) => assert!(
                    e.to_string().contains(expected),
                    "{what}: {e} lacks {expected:?}"
                ),
            }
        }
    }
}
