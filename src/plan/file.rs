//! The saved plan file (`plan --out`): a versioned on-disk format with its own
//! serde types, apart from the domain types, sealed by a content digest.
//!
//! Documented in `docs/plan-format.md`; any change to what is written here must
//! change that page, and any change an older reader could misread must bump the
//! format version. This module is pure: it turns values into text and text into
//! values; the app layer reads, writes and flushes the file. Configurations are
//! in the S3 console's form (`super::console`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::compare;
use super::console::{ConsoleRule, from_console, to_console};
pub use super::shard::ShardRecord;
use super::shard::{Part, check_parts};
use super::{Action, BucketPlan, Plan, PlanError, PlanErrorKind};
use crate::endpoint::Endpoint;
use crate::model::Access;
use crate::policy::Guardrail;
use crate::policy::guardrail::{self, GuardrailRecord, Violation};

/// The `format` value of a plan file.
pub const PLAN_FORMAT: &str = "s3cors-plan";
/// The only plan file version this build reads and writes.
pub const PLAN_FORMAT_VERSION: u32 = 2;

/// Where and with what a plan was made; written into the plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanMeta {
    /// The `s3cors` version that made the plan.
    pub tool_version: String,
    /// When, as given by the caller (RFC 3339 recommended).
    pub created_at: String,
    /// The `--endpoint-url` in force, or AWS's own endpoints.
    pub endpoint: Endpoint,
    /// The client's default region (buckets may live in others).
    pub region: String,
    /// The expected bucket owner account, when one was set.
    pub account: Option<String>,
    /// [`policy_digest`] of the policy files the plan was made from.
    pub policy_digest: String,
    /// The policy paths the plan was made from, as given on the command line.
    pub policy_paths: Vec<String>,
    /// The guardrails in force when the plan was made.
    pub guardrails: Vec<GuardrailRecord>,
    /// For a rollback plan: the plan and journal it reverses.
    pub rollback_of: Option<RollbackOf>,
    /// The shard the plan covers (`--shard`), if any.
    pub shard: Option<ShardRecord>,
}

/// What a rollback plan was made from; it is refused for anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackOf {
    /// [`PlanFile::digest`] of the applied plan.
    pub plan_digest: String,
    /// `sha256:` of the applied plan's journal, byte for byte, at the time.
    pub journal_digest: String,
}

/// A saved plan, as written to disk (format `s3cors-plan`, version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// Always [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// See [`PlanMeta::tool_version`].
    pub tool_version: String,
    /// See [`PlanMeta::created_at`].
    pub created_at: String,
    /// See [`PlanMeta::endpoint`]: `null` for AWS.
    #[serde(default)]
    pub endpoint: Endpoint,
    /// See [`PlanMeta::region`].
    pub region: String,
    /// See [`PlanMeta::account`].
    pub account: Option<String>,
    /// See [`PlanMeta::policy_digest`].
    pub policy_digest: String,
    /// See [`PlanMeta::policy_paths`].
    pub policy_paths: Vec<String>,
    /// See [`PlanMeta::guardrails`].
    pub guardrails: Vec<GuardrailRecord>,
    /// See [`PlanMeta::rollback_of`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<RollbackOf>,
    /// See [`PlanMeta::shard`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Every planned bucket, unchanged ones included, sorted by name.
    pub buckets: Vec<PlanFileBucket>,
    /// Buckets that could not be planned.
    pub errors: Vec<PlanFileBucketError>,
    /// `sha256:` over everything above ([`PlanFile::content_digest`]): a plan
    /// edited after `plan` wrote it is refused.
    pub content_digest: String,
}

/// One planned bucket in a plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFileBucket {
    /// The bucket's name.
    pub bucket: String,
    /// The policy entry (`file:line`).
    pub source: String,
    /// What apply does.
    pub action: FileAction,
    /// The exact live configuration at plan time; `null` for none.
    pub before: Option<Vec<ConsoleRule>>,
    /// The configuration apply writes; `null` for none.
    pub after: Option<Vec<ConsoleRule>>,
    /// `sha256:<hex>` of the exact `before` (see `compare::digest`).
    pub live_digest: String,
    /// The bucket's region: declared, or named by S3 during the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account the bucket is in (the expected bucket owner, sent with every call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Whose credentials apply uses for it: `role_arn` (with `external_id`) or
    /// `profile`; absent for the caller's own.
    #[serde(default, skip_serializing_if = "Access::is_default")]
    pub access: Access,
}

/// The action names of the plan file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
    /// `unchanged`.
    Unchanged,
}

impl From<Action> for FileAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Create => FileAction::Create,
            Action::Update => FileAction::Update,
            Action::Delete => FileAction::Delete,
            Action::Unchanged => FileAction::Unchanged,
        }
    }
}

impl From<FileAction> for Action {
    fn from(a: FileAction) -> Self {
        match a {
            FileAction::Create => Action::Create,
            FileAction::Update => Action::Update,
            FileAction::Delete => Action::Delete,
            FileAction::Unchanged => Action::Unchanged,
        }
    }
}

/// A bucket that could not be planned, in a plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFileBucketError {
    /// The bucket's name.
    pub bucket: String,
    /// The policy entry (`file:line`).
    pub source: String,
    /// Stable code: `no-such-bucket`, `read-failed`, `not-read`, `duplicate-bucket`.
    pub kind: FileErrorKind,
    /// For people.
    pub message: String,
    /// The account the bucket is in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl From<&PlanError> for PlanFileBucketError {
    fn from(e: &PlanError) -> Self {
        PlanFileBucketError {
            bucket: e.bucket.clone(),
            source: e.source.clone(),
            kind: e.kind.into(),
            message: e.message.clone(),
            account: e.account.clone(),
        }
    }
}

/// The error codes of the plan file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileErrorKind {
    /// `no-such-bucket`.
    NoSuchBucket,
    /// `read-failed`.
    ReadFailed,
    /// `not-read`.
    NotRead,
    /// `duplicate-bucket`.
    DuplicateBucket,
}

impl From<PlanErrorKind> for FileErrorKind {
    fn from(k: PlanErrorKind) -> Self {
        match k {
            PlanErrorKind::NoSuchBucket => FileErrorKind::NoSuchBucket,
            PlanErrorKind::ReadFailed => FileErrorKind::ReadFailed,
            PlanErrorKind::NotRead => FileErrorKind::NotRead,
            PlanErrorKind::DuplicateBucket => FileErrorKind::DuplicateBucket,
        }
    }
}

impl From<FileErrorKind> for PlanErrorKind {
    fn from(k: FileErrorKind) -> Self {
        match k {
            FileErrorKind::NoSuchBucket => PlanErrorKind::NoSuchBucket,
            FileErrorKind::ReadFailed => PlanErrorKind::ReadFailed,
            FileErrorKind::NotRead => PlanErrorKind::NotRead,
            FileErrorKind::DuplicateBucket => PlanErrorKind::DuplicateBucket,
        }
    }
}

/// Why a plan file could not be read. Every message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadPlanError {
    /// Not JSON, or JSON of the wrong shape (line and column are 1-based).
    Syntax {
        /// What serde_json said.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Valid JSON, but not an s3cors plan (`format` is missing or different).
    NotAPlan {
        /// The `format` found, if it was a string.
        found: Option<String>,
    },
    /// An s3cors plan of a version this build does not read.
    UnsupportedVersion {
        /// The `format_version` found, if it was a number.
        found: Option<u64>,
    },
    /// Its content does not match the digest `plan` wrote: edited since.
    Edited,
    /// Written by a newer s3cors than this one.
    NewerTool {
        /// The version that wrote it.
        found: String,
    },
    /// Well-formed, but its contents contradict each other (edited by hand or
    /// corrupted); applying it would be unsafe.
    Inconsistent {
        /// The bucket concerned, when there is one.
        bucket: Option<String>,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for ReadPlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadPlanError::Syntax {
                message,
                line,
                column,
            } => {
                write!(
                    f,
                    "plan file is not valid: {message} (line {line}, column {column})"
                )
            }
            ReadPlanError::NotAPlan { found: Some(found) } => write!(
                f,
                "not an s3cors plan file: format is {found:?}, expected {PLAN_FORMAT:?}; \
                 make one with `s3cors plan --out FILE`"
            ),
            ReadPlanError::NotAPlan { found: None } => write!(
                f,
                "not an s3cors plan file: no \"format\": {PLAN_FORMAT:?} field; \
                 make one with `s3cors plan --out FILE`"
            ),
            ReadPlanError::UnsupportedVersion { found: Some(v) }
                if *v > u64::from(PLAN_FORMAT_VERSION) =>
            {
                write!(
                    f,
                    "plan file format version {v} is newer than this s3cors reads \
                 ({PLAN_FORMAT_VERSION}); use the s3cors version that wrote it, or upgrade"
                )
            }
            ReadPlanError::UnsupportedVersion { found } => {
                let found =
                    found.map_or_else(|| "missing or not a number".to_string(), |v| v.to_string());
                write!(
                    f,
                    "plan file format version {found} is not supported (this s3cors reads \
                     {PLAN_FORMAT_VERSION}); run `s3cors plan --out FILE` again"
                )
            }
            ReadPlanError::Edited => write!(
                f,
                "plan file was changed after `s3cors plan` wrote it (its content_digest does not \
                 match its content); a saved plan is applied exactly as planned or not at all: \
                 run `s3cors plan --out FILE` again"
            ),
            ReadPlanError::NewerTool { found } => write!(
                f,
                "plan file was written by s3cors {found}, newer than this s3cors ({}); apply it \
                 with s3cors {found} or later",
                env!("CARGO_PKG_VERSION")
            ),
            ReadPlanError::Inconsistent {
                bucket: Some(b),
                reason,
            } => {
                write!(
                    f,
                    "plan file is inconsistent at bucket {b:?}: {reason}; run `s3cors plan --out FILE` again"
                )
            }
            ReadPlanError::Inconsistent {
                bucket: None,
                reason,
            } => {
                write!(
                    f,
                    "plan file is inconsistent: {reason}; run `s3cors plan --out FILE` again"
                )
            }
        }
    }
}

impl std::error::Error for ReadPlanError {}

impl ReadPlanError {
    fn syntax(e: &serde_json::Error) -> Self {
        ReadPlanError::Syntax {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        }
    }
}

impl PlanFile {
    /// The file form of `plan`, made with `meta`.
    pub fn new(plan: &Plan, meta: PlanMeta) -> PlanFile {
        let mut file = PlanFile {
            format: PLAN_FORMAT.to_string(),
            format_version: PLAN_FORMAT_VERSION,
            tool_version: meta.tool_version,
            created_at: meta.created_at,
            endpoint: meta.endpoint,
            region: meta.region,
            account: meta.account,
            policy_digest: meta.policy_digest,
            policy_paths: meta.policy_paths,
            guardrails: meta.guardrails,
            rollback_of: meta.rollback_of,
            shard: meta.shard,
            buckets: plan
                .buckets
                .iter()
                .map(|b| PlanFileBucket {
                    bucket: b.bucket.clone(),
                    source: b.source.clone(),
                    action: b.action.into(),
                    before: to_console(b.before.as_ref()),
                    after: to_console(b.after.as_deref()),
                    live_digest: b.live_digest.clone(),
                    region: b.region.clone(),
                    account: b.account.clone(),
                    access: b.access.clone(),
                })
                .collect(),
            errors: plan.errors.iter().map(PlanFileBucketError::from).collect(),
            content_digest: String::new(),
        };
        file.content_digest = file.content_digest();
        file
    }

    /// `sha256:` of the file's JSON with `content_digest` left empty.
    pub fn content_digest(&self) -> String {
        let mut unsealed = self.clone();
        unsealed.content_digest = String::new();
        compare::sha256(unsealed.to_json().as_bytes())
    }

    /// The guardrails recorded in the plan, as guardrails.
    pub fn guardrails(&self) -> Result<Vec<Guardrail>, ReadPlanError> {
        self.guardrails
            .iter()
            .map(|g| {
                g.to_guardrail()
                    .map_err(|reason| ReadPlanError::Inconsistent {
                        bucket: None,
                        reason,
                    })
            })
            .collect()
    }

    /// Every way a bucket this plan writes breaks the guardrails it records.
    pub fn guardrail_violations(&self) -> Result<Vec<Violation>, ReadPlanError> {
        let guardrails = self.guardrails()?;
        Ok(self
            .to_plan()
            .buckets
            .iter()
            .filter(|b| b.action.is_change())
            .flat_map(|b| guardrail::check(&guardrails, &b.bucket, b.after.as_deref()))
            .collect())
    }

    /// The metadata part.
    pub fn meta(&self) -> PlanMeta {
        PlanMeta {
            tool_version: self.tool_version.clone(),
            created_at: self.created_at.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            policy_digest: self.policy_digest.clone(),
            policy_paths: self.policy_paths.clone(),
            guardrails: self.guardrails.clone(),
            rollback_of: self.rollback_of.clone(),
            shard: self.shard,
        }
    }

    /// The domain plan this file holds (for `show`, `apply`, `rollback`).
    pub fn to_plan(&self) -> Plan {
        Plan {
            buckets: self
                .buckets
                .iter()
                .map(|b| BucketPlan {
                    bucket: b.bucket.clone(),
                    source: b.source.clone(),
                    action: b.action.into(),
                    before: from_console(b.before.clone()),
                    after: from_console(b.after.clone()).map(Arc::new),
                    live_digest: b.live_digest.clone(),
                    region: b.region.clone(),
                    account: b.account.clone(),
                    access: b.access.clone(),
                })
                .collect(),
            errors: self
                .errors
                .iter()
                .map(|e| PlanError {
                    bucket: e.bucket.clone(),
                    source: e.source.clone(),
                    kind: e.kind.into(),
                    message: e.message.clone(),
                    account: e.account.clone(),
                })
                .collect(),
        }
    }

    /// Pretty JSON (2-space indent) with a trailing newline.
    pub fn to_json(&self) -> String {
        // Structs of strings, numbers and options always serialise.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// `sha256:<hex>` of [`PlanFile::to_json`]: names this plan in its journal.
    pub fn digest(&self) -> String {
        compare::sha256(self.to_json().as_bytes())
    }

    /// Read a plan file, rejecting anything that is not a consistent
    /// `s3cors-plan` version 1: other formats and versions, unknown fields, and
    /// contents that contradict each other (an action that does not fit its
    /// before/after, a `live_digest` that is not the digest of `before`,
    /// duplicate or unsorted buckets).
    pub fn from_json(text: &str) -> Result<PlanFile, ReadPlanError> {
        // First only the header, so a wrong format or version gets a clear error
        // instead of "unknown field" noise.
        #[derive(Deserialize)]
        struct Header {
            format: Option<serde_json::Value>,
            format_version: Option<serde_json::Value>,
        }
        let header: Header = serde_json::from_str(text).map_err(|e| match e.classify() {
            // Valid JSON but not an object with those fields: some other document.
            serde_json::error::Category::Data => ReadPlanError::NotAPlan { found: None },
            _ => ReadPlanError::syntax(&e),
        })?;
        match header.format {
            Some(serde_json::Value::String(f)) if f == PLAN_FORMAT => {}
            Some(serde_json::Value::String(f)) => {
                return Err(ReadPlanError::NotAPlan { found: Some(f) });
            }
            _ => return Err(ReadPlanError::NotAPlan { found: None }),
        }
        let version = header
            .format_version
            .as_ref()
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(PLAN_FORMAT_VERSION)) {
            return Err(ReadPlanError::UnsupportedVersion { found: version });
        }
        let file: PlanFile = serde_json::from_str(text).map_err(|e| ReadPlanError::syntax(&e))?;
        if newer_than_this(&file.tool_version) {
            return Err(ReadPlanError::NewerTool {
                found: file.tool_version,
            });
        }
        if file.content_digest != file.content_digest() {
            return Err(ReadPlanError::Edited);
        }
        file.check()?;
        file.guardrails()?;
        Ok(file)
    }

    fn check(&self) -> Result<(), ReadPlanError> {
        let fail = |bucket: Option<&str>, reason: String| ReadPlanError::Inconsistent {
            bucket: bucket.map(str::to_string),
            reason,
        };
        if !compare::is_digest(&self.policy_digest) {
            return Err(fail(
                None,
                format!(
                    "policy_digest {:?} is not a sha256 digest",
                    self.policy_digest
                ),
            ));
        }
        for pair in self.buckets.windows(2) {
            if pair[0].bucket >= pair[1].bucket {
                return Err(fail(
                    Some(&pair[1].bucket),
                    "buckets are not sorted by name, or a bucket appears twice".to_string(),
                ));
            }
        }
        for b in &self.buckets {
            let has = |c: &Option<Vec<ConsoleRule>>| c.as_ref().is_some_and(|r| !r.is_empty());
            let fits = match b.action {
                FileAction::Create => !has(&b.before) && has(&b.after),
                FileAction::Update => has(&b.before) && has(&b.after),
                FileAction::Delete => has(&b.before) && !has(&b.after),
                FileAction::Unchanged => true,
            };
            if !fits {
                return Err(fail(
                    Some(&b.bucket),
                    format!(
                        "action {:?} does not fit its before/after",
                        Action::from(b.action).as_str()
                    ),
                ));
            }
            let before = from_console(b.before.clone());
            if compare::digest(before.as_ref()) != b.live_digest {
                return Err(fail(
                    Some(&b.bucket),
                    "live_digest is not the digest of before".to_string(),
                ));
            }
        }
        Ok(())
    }
}

/// The one plan that the plans of all shards of one run make together
/// (`show PLAN...`). `files` are (name, plan) pairs in any order. Refused, with
/// the file named: whatever [`check_parts`] refuses (a plan made without
/// `--shard`, different shard counts or `--shard-by`, a shard given twice or
/// missing, plans made from different policies or against different endpoints),
/// and a bucket in two plans.
pub fn merge_shards(files: &[(String, PlanFile)]) -> Result<Plan, String> {
    let parts: Vec<Part<'_>> = files
        .iter()
        .map(|(name, f)| Part {
            name,
            shard: f.shard,
            policy_digest: &f.policy_digest,
            endpoint: &f.endpoint,
        })
        .collect();
    check_parts(&parts, "plan")?;
    let mut merged = Plan::default();
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    for (name, f) in files {
        let plan = f.to_plan();
        for b in plan.buckets {
            if let Some(other) = owner.insert(b.bucket.clone(), name) {
                return Err(format!(
                    "bucket {:?} is in both {other} and {name}",
                    b.bucket
                ));
            }
            merged.buckets.push(b);
        }
        merged.errors.extend(plan.errors);
    }
    merged.buckets.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    merged.errors.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    Ok(merged)
}

/// Whether `version` (`MAJOR.MINOR.PATCH`, pre-release ignored) is newer than
/// this build. A version that does not parse counts as newer: it was not written
/// by any s3cors this one knows.
fn newer_than_this(version: &str) -> bool {
    fn parse(v: &str) -> Option<[u64; 3]> {
        let core = v.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let out = [parts.next()??, parts.next()??, parts.next()??];
        parts.next().is_none().then_some(out)
    }
    match (parse(version), parse(env!("CARGO_PKG_VERSION"))) {
        (Some(theirs), Some(ours)) => theirs > ours,
        _ => true,
    }
}

/// `sha256:<hex>` over policy files given as (path, contents) pairs, in any
/// order: paths are sorted and each field is length-prefixed, so no two
/// different sets of files share a digest by concatenation.
pub fn policy_digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut files: Vec<(&str, &[u8])> = files.into_iter().collect();
    files.sort();
    let mut hasher = Sha256::new();
    hasher.update(b"s3cors-policy-files-v1\n");
    for (path, contents) in files {
        hasher.update((path.len() as u64).to_be_bytes());
        hasher.update(path.as_bytes());
        hasher.update((contents.len() as u64).to_be_bytes());
        hasher.update(contents);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::shard::ShardBy;
    use crate::plan::tests::sample_plan;

    pub(crate) fn meta() -> PlanMeta {
        PlanMeta {
            tool_version: "0.1.0".into(),
            created_at: "2025-01-02T03:04:05Z".into(),
            endpoint: Endpoint::Custom("http://127.0.0.1:9000".into()),
            region: "us-east-1".into(),
            account: Some("123456789012".into()),
            policy_digest: policy_digest([("policies/web.yaml", b"version: 1\n".as_slice())]),
            policy_paths: vec!["policies".into()],
            guardrails: Vec::new(),
            rollback_of: None,
            shard: None,
        }
    }

    #[test]
    fn shard_plans_merge_into_one_or_say_why_not() {
        let plan = sample_plan();
        // Split the sample plan's buckets over three shards, as `--shard K/3` would.
        let shard = |index: u32, count: u32, keep: &dyn Fn(usize) -> bool| {
            let mut part = plan.clone();
            part.buckets = plan
                .buckets
                .iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, b)| b.clone())
                .collect();
            part.errors = if index == 1 {
                plan.errors.clone()
            } else {
                Vec::new()
            };
            let mut m = meta();
            m.shard = Some(ShardRecord {
                index,
                count,
                by: ShardBy::Bucket,
            });
            PlanFile::new(&part, m)
        };
        let one = shard(1, 3, &|i| i % 3 == 0);
        let two = shard(2, 3, &|i| i % 3 == 1);
        let three = shard(3, 3, &|i| i % 3 == 2);
        let named = |files: &[(&str, &PlanFile)]| -> Vec<(String, PlanFile)> {
            files
                .iter()
                .map(|(n, f)| ((*n).to_owned(), (*f).clone()))
                .collect()
        };
        let merged = merge_shards(&named(&[("c", &three), ("a", &one), ("b", &two)]));
        assert_eq!(merged, Ok(plan.clone()));

        let mut other_policies = two.clone();
        other_policies.policy_digest = policy_digest([("p.yaml", b"x".as_slice())]);
        let mut unsharded = two.clone();
        unsharded.shard = None;
        let mut other_count = two.clone();
        other_count.shard = Some(ShardRecord {
            index: 2,
            count: 4,
            by: ShardBy::Bucket,
        });
        let mut other_by = two.clone();
        other_by.shard = Some(ShardRecord {
            index: 2,
            count: 3,
            by: ShardBy::Account,
        });
        let mut other_endpoint = two.clone();
        other_endpoint.endpoint = Endpoint::Aws;
        let overlapping = shard(2, 3, &|i| i % 3 != 1);
        type Named = Vec<(String, PlanFile)>;
        let cases: Vec<(&str, Named, &str)> = vec![
            (
                "missing",
                named(&[("a", &one), ("c", &three)]),
                "shard 2/3 is missing (a is 1/3, c is 3/3): give the plan of every shard",
            ),
            (
                "missing two",
                named(&[("a", &one)]),
                "shards 2/3, 3/3 are missing (a is 1/3): give the plan of every shard",
            ),
            (
                "twice",
                named(&[("a", &one), ("b", &two), ("b2", &two), ("c", &three)]),
                "shard 2/3 is given twice: b and b2",
            ),
            (
                "policies",
                named(&[("a", &one), ("b", &other_policies), ("c", &three)]),
                "b was made from other policies than a",
            ),
            (
                "unsharded",
                named(&[("a", &one), ("b", &unsharded)]),
                "b was not made with --shard",
            ),
            (
                "counts",
                named(&[("a", &one), ("b", &other_count)]),
                "b is shard 2/4, but a is one of 3 shards",
            ),
            (
                "by",
                named(&[("a", &one), ("b", &other_by), ("c", &three)]),
                "b was sharded by account, but a by bucket; shard every job with the same --shard-by",
            ),
            (
                "endpoint",
                named(&[("a", &one), ("b", &other_endpoint), ("c", &three)]),
                "b was made against AWS, but a against http://127.0.0.1:9000",
            ),
            ("none", Vec::new(), "no plans given"),
            (
                "overlap",
                named(&[("a", &one), ("b", &overlapping), ("c", &three)]),
                "is in both a and b",
            ),
        ];
        for (what, files, want) in cases {
            match merge_shards(&files) {
                Ok(_) => panic!("{what}: merged"),
                Err(e) => assert!(e.contains(want), "{what}: {e}"),
            }
        }
    }

    #[test]
    fn plan_file_snapshot() {
        insta::assert_snapshot!(PlanFile::new(&sample_plan(), meta()).to_json());
    }

    #[test]
    fn plan_file_round_trips() {
        let plan = sample_plan();
        let file = PlanFile::new(&plan, meta());
        let read = PlanFile::from_json(&file.to_json()).expect("reads back");
        assert_eq!(read, file);
        assert_eq!(read.to_plan(), plan);
        assert_eq!(read.meta(), meta());
        assert_eq!(read.digest(), file.digest());
    }

    #[test]
    fn plan_file_rejections() {
        let good: serde_json::Value =
            serde_json::from_str(&PlanFile::new(&sample_plan(), meta()).to_json()).expect("json");
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            v.to_string()
        };
        // An edit with the content digest made to match, as a careful forger would.
        let forge = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            let mut file: PlanFile = serde_json::from_value(v).expect("still a plan");
            file.content_digest = file.content_digest();
            file.to_json()
        };
        let cases: Vec<(&str, String, &str)> = vec![
            ("not json", "{".into(), "plan file is not valid: EOF"),
            (
                "array",
                "[]".into(),
                "not an s3cors plan file: no \"format\"",
            ),
            (
                "format not a string",
                "{\"format\": 1}".into(),
                "not an s3cors plan file: no \"format\"",
            ),
            (
                "no format",
                "{}".into(),
                "not an s3cors plan file: no \"format\"",
            ),
            (
                "other format",
                edit(&|v| v["format"] = "s3cors-plan-report".into()),
                "not an s3cors plan file: format is \"s3cors-plan-report\"",
            ),
            (
                "newer",
                edit(&|v| v["format_version"] = 3.into()),
                "plan file format version 3 is newer",
            ),
            (
                "version 1, before content digests",
                edit(&|v| v["format_version"] = 1.into()),
                "plan file format version 1 is not supported",
            ),
            (
                "a rule widened after planning",
                edit(&|v| v["buckets"][1]["after"][0]["AllowedOrigins"][0] = "*".into()),
                "plan file was changed after `s3cors plan` wrote it",
            ),
            (
                "a bucket renamed after planning",
                edit(&|v| v["buckets"][1]["bucket"] = "someone-elses-bucket".into()),
                "plan file was changed after `s3cors plan` wrote it",
            ),
            (
                "digest removed",
                edit(&|v| v["content_digest"] = "".into()),
                "plan file was changed after `s3cors plan` wrote it",
            ),
            (
                "newer tool",
                forge(&|v| v["tool_version"] = "99.0.0".into()),
                "plan file was written by s3cors 99.0.0, newer than this s3cors",
            ),
            (
                "tool version that is no version",
                forge(&|v| v["tool_version"] = "next".into()),
                "plan file was written by s3cors next, newer",
            ),
            (
                "guardrail with a bad glob",
                forge(
                    &|v| v["guardrails"] = serde_json::json!([{"id": "g", "buckets": "a[", "forbid": {"origins": ["*"], "methods": [], "headers": []}}]),
                ),
                "guardrail \"g\": invalid glob",
            ),
            (
                "older",
                edit(&|v| v["format_version"] = 0.into()),
                "plan file format version 0 is not supported",
            ),
            (
                "version string",
                edit(&|v| v["format_version"] = "1".into()),
                "plan file format version missing or not a number",
            ),
            (
                "unknown field",
                edit(&|v| v["extra"] = true.into()),
                "plan file is not valid: unknown field `extra`",
            ),
            (
                "unknown rule key",
                edit(&|v| v["buckets"][0]["after"][0]["AllowedOrigin"] = "x".into()),
                "plan file is not valid: unknown field `AllowedOrigin`",
            ),
            (
                "bad method",
                edit(&|v| v["buckets"][0]["after"][0]["AllowedMethods"][0] = "get".into()),
                "plan file is not valid: unknown variant `get`",
            ),
            (
                "edited before",
                forge(&|v| v["buckets"][0]["before"][0]["MaxAgeSeconds"] = 1.into()),
                "inconsistent at bucket \"app-assets\": live_digest is not the digest of before",
            ),
            (
                "action mismatch",
                forge(&|v| v["buckets"][1]["action"] = "delete".into()),
                "inconsistent at bucket \"new-site\": action \"delete\" does not fit",
            ),
            (
                "duplicate bucket",
                forge(&|v| v["buckets"][1]["bucket"] = "app-assets".into()),
                "inconsistent at bucket \"app-assets\": buckets are not sorted",
            ),
            (
                "bad policy digest",
                forge(&|v| v["policy_digest"] = "abc".into()),
                "policy_digest \"abc\" is not a sha256 digest",
            ),
        ];
        for (what, text, expected) in cases {
            match PlanFile::from_json(&text) {
                Ok(_) => panic!("{what}: accepted"),
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.contains(expected), "{what}: {msg:?} lacks {expected:?}");
                }
            }
        }
    }

    #[test]
    fn policy_digest_is_order_independent_and_unambiguous() {
        let a = policy_digest([("a.yaml", b"x".as_slice()), ("b.yaml", b"y".as_slice())]);
        let b = policy_digest([("b.yaml", b"y".as_slice()), ("a.yaml", b"x".as_slice())]);
        assert_eq!(a, b);
        assert!(compare::is_digest(&a));
        let c = policy_digest([("a.yaml", b"xb.yaml".as_slice())]);
        assert_ne!(a, c);
    }
}
