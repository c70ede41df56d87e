//! The plan: what `apply` would change, bucket by bucket, computed from desired
//! policies and already-fetched live state (pure; no S3 calls here).
//!
//! [`plan`] compares each desired bucket with its [`LiveBucket`] using
//! [`compare::equivalent`] and yields one [`BucketPlan`] with an [`Action`], or a
//! [`PlanError`] when the live state could not be read. Output is sorted by
//! bucket name so the same inputs always give the same plan.
//!
//! Submodules: [`compare`] (semantic equality and the live digest), [`file`] (the
//! saved plan file and the apply journal), [`render`] (human, JSON and Markdown).

pub mod compare;
pub mod console;
pub mod decide;
pub mod drift;
pub mod file;
pub mod findings;
pub mod fleet;
pub mod journal;
pub mod outcome;
pub mod reconcile;
pub mod render;
pub mod shard;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{Access, CorsConfig};

/// One bucket as the policies declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredBucket {
    /// The bucket's name.
    pub name: String,
    /// Where the policy entry is, as `file:line` (e.g. `policies/web.yaml:12`).
    pub source: String,
    /// The configuration it must have; `None` for a declared `rules: []`. Shared
    /// by every bucket of an entry (and of entries on the same rulesets).
    pub desired: Option<Arc<CorsConfig>>,
    /// The bucket's region when declared or listed (else discovered on first call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account the bucket is in, sent as the expected bucket owner with every
    /// call: the entry's `account:`, or the account it was listed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Whose credentials reach it (an assumed role, a profile, or the caller's).
    #[serde(default, skip_serializing_if = "Access::is_default")]
    pub access: Access,
}

/// What reading one bucket's live CORS configuration gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "value")]
pub enum LiveBucket {
    /// The bucket exists; `None` when it has no CORS configuration
    /// (S3's `NoSuchCORSConfiguration`).
    Found(Option<CorsConfig>),
    /// The bucket does not exist (`NoSuchBucket`).
    Missing,
    /// The read failed for another reason (access denied, throttled after
    /// retries, ...); the message says why.
    Error(String),
}

/// Live state of every bucket the plan covers, fetched before planning.
pub type LiveState = BTreeMap<String, LiveBucket>;

/// What apply will do to one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The bucket has no CORS configuration; apply writes one.
    Create,
    /// The bucket's configuration differs semantically; apply replaces it.
    Update,
    /// The policy declares `rules: []` and the bucket has a configuration;
    /// apply deletes it.
    Delete,
    /// Live and desired are equivalent; apply does nothing.
    Unchanged,
}

impl Action {
    /// The stable lower-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }

    /// Whether apply writes anything for this action.
    pub fn is_change(self) -> bool {
        self != Action::Unchanged
    }

    /// Decide the action for a desired and a live configuration.
    pub fn decide(live: Option<&CorsConfig>, desired: Option<&CorsConfig>) -> Action {
        let present = |c: Option<&CorsConfig>| c.is_some_and(|c| !c.cors_rules.is_empty());
        if compare::equivalent(live, desired) {
            Action::Unchanged
        } else if !present(live) {
            Action::Create
        } else if !present(desired) {
            Action::Delete
        } else {
            Action::Update
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The plan for one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketPlan {
    /// The bucket's name.
    pub bucket: String,
    /// The policy entry that manages it (`file:line`).
    pub source: String,
    /// What apply will do.
    pub action: Action,
    /// The exact live configuration read at plan time (`None`: no configuration).
    pub before: Option<CorsConfig>,
    /// The configuration the policy wants (`None`: no configuration); shared with
    /// every other bucket that wants the same rules.
    pub after: Option<Arc<CorsConfig>>,
    /// [`compare::digest`] of `before`: apply refuses to write if it changed.
    pub live_digest: String,
    /// See [`DesiredBucket::region`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// See [`DesiredBucket::account`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// See [`DesiredBucket::access`].
    #[serde(default, skip_serializing_if = "Access::is_default")]
    pub access: Access,
}

/// Why a bucket could not be planned. The names are stable (kebab-case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanErrorKind {
    /// The bucket does not exist (`NoSuchBucket`).
    NoSuchBucket,
    /// Reading its CORS configuration failed.
    ReadFailed,
    /// The live state handed to [`plan`] has no entry for it (a caller bug).
    NotRead,
    /// More than one desired entry names it (ownership resolution should have
    /// caught this; the plan refuses to pick one).
    DuplicateBucket,
}

impl PlanErrorKind {
    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanErrorKind::NoSuchBucket => "no-such-bucket",
            PlanErrorKind::ReadFailed => "read-failed",
            PlanErrorKind::NotRead => "not-read",
            PlanErrorKind::DuplicateBucket => "duplicate-bucket",
        }
    }
}

impl fmt::Display for PlanErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bucket that is in the policies but could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanError {
    /// The bucket's name.
    pub bucket: String,
    /// The policy entry that manages it (`file:line`); several joined by `, `
    /// for [`PlanErrorKind::DuplicateBucket`].
    pub source: String,
    /// Why, as a stable code.
    pub kind: PlanErrorKind,
    /// Why, for people.
    pub message: String,
    /// The account the bucket is in, when known (see [`DesiredBucket::account`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// The whole plan: one entry per planned bucket plus the buckets that failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Every planned bucket, unchanged ones included, sorted by name.
    pub buckets: Vec<BucketPlan>,
    /// Buckets that could not be planned, sorted by name.
    pub errors: Vec<PlanError>,
}

/// Counts of a plan, for the closing line and the reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Buckets that get a configuration.
    pub create: usize,
    /// Buckets whose configuration is replaced.
    pub update: usize,
    /// Buckets whose configuration is deleted.
    pub delete: usize,
    /// Buckets already as the policies want.
    pub unchanged: usize,
    /// Buckets that could not be planned.
    pub errors: usize,
}

impl Summary {
    /// Buckets apply would write.
    pub fn changes(&self) -> usize {
        self.create + self.update + self.delete
    }
}

impl Plan {
    /// Counts per action, and of errors.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            errors: self.errors.len(),
            ..Summary::default()
        };
        for b in &self.buckets {
            match b.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
                Action::Unchanged => s.unchanged += 1,
            }
        }
        s
    }

    /// Whether apply would write anything (for `--detailed-exitcode`).
    pub fn has_changes(&self) -> bool {
        self.buckets.iter().any(|b| b.action.is_change())
    }

    /// The buckets apply would write, in plan order.
    pub fn changes(&self) -> impl Iterator<Item = &BucketPlan> {
        self.buckets.iter().filter(|b| b.action.is_change())
    }
}

/// Compute the plan for `desired` against already-fetched `live` state.
///
/// Pure and deterministic: buckets and errors come out sorted by name whatever
/// the input order. Live entries for buckets no policy names are ignored (they
/// are unmanaged). A bucket named by two desired entries becomes a
/// [`PlanErrorKind::DuplicateBucket`] error rather than a guess.
///
/// Both inputs are consumed: each bucket's configurations move into its
/// [`BucketPlan`] instead of being copied, so at 100,000 buckets the plan costs
/// no more memory than the desired and live state it replaces.
pub fn plan(mut desired: Vec<DesiredBucket>, mut live: LiveState) -> Plan {
    // Stable: a duplicate's sources stay in the order they were declared.
    desired.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Plan {
        buckets: Vec::with_capacity(desired.len()),
        errors: Vec::new(),
    };
    let mut rest = desired.into_iter().peekable();
    while let Some(d) = rest.next() {
        let error = |kind: PlanErrorKind, source: String, message: String| PlanError {
            bucket: d.name.clone(),
            source,
            kind,
            message,
            account: d.account.clone(),
        };
        if rest.peek().is_some_and(|next| next.name == d.name) {
            let mut sources = vec![d.source.clone()];
            while let Some(next) = rest.next_if(|next| next.name == d.name) {
                sources.push(next.source);
            }
            let count = sources.len();
            out.errors.push(error(
                PlanErrorKind::DuplicateBucket,
                sources.join(", "),
                format!("bucket is declared {count} times"),
            ));
            continue;
        }
        match live.remove(&d.name) {
            Some(LiveBucket::Found(current)) => {
                let action = Action::decide(current.as_ref(), d.desired.as_deref());
                out.buckets.push(BucketPlan {
                    live_digest: compare::digest(current.as_ref()),
                    bucket: d.name,
                    source: d.source,
                    action,
                    before: current,
                    // A configuration with no rules is "none": S3 cannot store one.
                    after: d.desired.filter(|c| !c.cors_rules.is_empty()),
                    region: d.region,
                    account: d.account,
                    access: d.access,
                });
            }
            Some(LiveBucket::Missing) => out.errors.push(error(
                PlanErrorKind::NoSuchBucket,
                d.source.clone(),
                "the bucket does not exist".to_string(),
            )),
            Some(LiveBucket::Error(message)) => {
                out.errors
                    .push(error(PlanErrorKind::ReadFailed, d.source.clone(), message));
            }
            None => out.errors.push(error(
                PlanErrorKind::NotRead,
                d.source.clone(),
                "the live configuration was not read".to_string(),
            )),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{CorsRule, Method};

    /// A one-rule configuration allowing `methods` from `origins`.
    pub(crate) fn cfg(origins: &[&str], methods: &[Method]) -> CorsConfig {
        CorsConfig::new(vec![CorsRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.to_vec(),
            ..CorsRule::default()
        }])
    }

    pub(crate) fn desired(name: &str, line: u32, desired: Option<CorsConfig>) -> DesiredBucket {
        DesiredBucket {
            name: name.to_string(),
            source: format!("policies/web.yaml:{line}"),
            desired: desired.map(Arc::new),
            region: None,
            account: None,
            access: Access::default(),
        }
    }

    #[test]
    fn decide_table() {
        use Method::*;
        let a = cfg(&["https://a"], &[Get]);
        let a_reordered = cfg(&["https://a"], &[Get, Get]);
        let b = cfg(&["https://b"], &[Get]);
        let empty = CorsConfig::new(vec![]);
        let cases = [
            (None, None, Action::Unchanged),
            (None, Some(&a), Action::Create),
            (Some(&empty), Some(&a), Action::Create),
            (Some(&a), None, Action::Delete),
            (Some(&a), Some(&empty), Action::Delete),
            (Some(&a), Some(&b), Action::Update),
            (Some(&a), Some(&a), Action::Unchanged),
            (Some(&a), Some(&a_reordered), Action::Unchanged),
            (Some(&empty), None, Action::Unchanged),
        ];
        for (live, want, expected) in cases {
            assert_eq!(
                Action::decide(live, want),
                expected,
                "live={live:?} desired={want:?}"
            );
        }
    }

    /// The fixture every renderer snapshot uses: one bucket of each kind.
    pub(crate) fn sample_plan() -> Plan {
        use Method::*;
        let mut live = LiveState::new();
        let mut rich = cfg(&["https://app.example.com"], &[Get, Head]);
        rich.cors_rules[0].allowed_headers = vec!["Content-Type".into(), "Authorization".into()];
        rich.cors_rules[0].expose_headers = vec!["ETag".into()];
        rich.cors_rules[0].max_age_seconds = Some(3600);
        rich.cors_rules[0].id = Some("app".into());
        let mut rich_new = rich.clone();
        rich_new.cors_rules[0]
            .allowed_origins
            .push("https://admin.example.com".into());
        rich_new.cors_rules[0].max_age_seconds = Some(86400);
        rich_new
            .cors_rules
            .push(cfg(&["*"], &[Get]).cors_rules.remove(0));
        live.insert("app-assets".into(), LiveBucket::Found(Some(rich.clone())));
        live.insert("new-site".into(), LiveBucket::Found(None));
        live.insert(
            "old-uploads".into(),
            LiveBucket::Found(Some(cfg(&["*"], &[Put, Post]))),
        );
        // Same rules, header names re-cased and methods reordered: unchanged.
        let mut recased = rich.clone();
        recased.cors_rules[0].allowed_headers = vec!["authorization".into(), "content-type".into()];
        recased.cors_rules[0].allowed_methods = vec![Head, Get];
        live.insert("static-docs".into(), LiveBucket::Found(Some(recased)));
        live.insert("gone-bucket".into(), LiveBucket::Missing);
        live.insert(
            "locked-bucket".into(),
            LiveBucket::Error("AccessDenied: Access Denied".into()),
        );
        live.insert(
            "unmanaged".into(),
            LiveBucket::Found(Some(cfg(&["*"], &[Get]))),
        );
        plan(
            vec![
                desired("static-docs", 30, Some(rich.clone())),
                desired("app-assets", 4, Some(rich_new)),
                desired("old-uploads", 18, None),
                desired(
                    "new-site",
                    12,
                    Some(cfg(&["https://new.example.com"], &[Get])),
                ),
                desired("gone-bucket", 40, Some(rich)),
                desired("locked-bucket", 44, None),
            ],
            live,
        )
    }

    #[test]
    fn plan_sorts_and_classifies() {
        let p = sample_plan();
        let got: Vec<(&str, Action)> = p
            .buckets
            .iter()
            .map(|b| (b.bucket.as_str(), b.action))
            .collect();
        assert_eq!(
            got,
            [
                ("app-assets", Action::Update),
                ("new-site", Action::Create),
                ("old-uploads", Action::Delete),
                ("static-docs", Action::Unchanged),
            ]
        );
        let errors: Vec<(&str, PlanErrorKind)> = p
            .errors
            .iter()
            .map(|e| (e.bucket.as_str(), e.kind))
            .collect();
        assert_eq!(
            errors,
            [
                ("gone-bucket", PlanErrorKind::NoSuchBucket),
                ("locked-bucket", PlanErrorKind::ReadFailed),
            ]
        );
        assert_eq!(
            p.summary(),
            Summary {
                create: 1,
                update: 1,
                delete: 1,
                unchanged: 1,
                errors: 2
            }
        );
        assert!(p.has_changes());
        assert_eq!(p.changes().count(), 3);
        for b in &p.buckets {
            assert_eq!(
                b.live_digest,
                compare::digest(b.before.as_ref()),
                "{}",
                b.bucket
            );
        }
    }

    #[test]
    fn plan_reports_unread_and_duplicate_buckets() {
        let live = LiveState::from([("b".to_string(), LiveBucket::Found(None))]);
        let p = plan(
            vec![
                desired("b", 1, None),
                desired("a", 2, None),
                desired("b", 3, Some(cfg(&["*"], &[Method::Get]))),
            ],
            live,
        );
        assert!(p.buckets.is_empty());
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.errors[0].kind, PlanErrorKind::NotRead);
        assert_eq!(p.errors[1].kind, PlanErrorKind::DuplicateBucket);
        assert_eq!(
            p.errors[1].source,
            "policies/web.yaml:1, policies/web.yaml:3"
        );
    }

    #[test]
    fn empty_desired_means_no_configuration() {
        let live = LiveState::from([
            (
                "a".to_string(),
                LiveBucket::Found(Some(cfg(&["*"], &[Method::Get]))),
            ),
            ("b".to_string(), LiveBucket::Found(None)),
        ]);
        let empty = Some(CorsConfig::new(vec![]));
        let p = plan(
            vec![desired("a", 1, empty.clone()), desired("b", 2, empty)],
            live,
        );
        assert_eq!(p.buckets[0].action, Action::Delete);
        assert_eq!(p.buckets[0].after, None);
        assert_eq!(p.buckets[1].action, Action::Unchanged);
        assert_eq!(p.buckets[1].after, None);
    }

    #[test]
    fn plan_serde_round_trips() {
        let p = sample_plan();
        let text = serde_json::to_string(&p).expect("serialises");
        let back: Plan = serde_json::from_str(&text).expect("deserialises");
        assert_eq!(back, p);
        let live = LiveState::from([
            ("a".to_string(), LiveBucket::Found(None)),
            ("b".to_string(), LiveBucket::Missing),
            ("c".to_string(), LiveBucket::Error("SlowDown".into())),
        ]);
        let text = serde_json::to_string(&live).expect("serialises");
        assert_eq!(
            text,
            r#"{"a":{"state":"found","value":null},"b":{"state":"missing"},"c":{"state":"error","value":"SlowDown"}}"#
        );
        assert_eq!(
            serde_json::from_str::<LiveState>(&text).expect("deserialises"),
            live
        );
    }

    #[test]
    fn no_changes_when_everything_matches() {
        let c = cfg(&["https://a"], &[Method::Get]);
        let live = LiveState::from([
            ("a".to_string(), LiveBucket::Found(Some(c.clone()))),
            ("b".to_string(), LiveBucket::Found(None)),
        ]);
        let p = plan(vec![desired("a", 1, Some(c)), desired("b", 2, None)], live);
        assert!(!p.has_changes());
        assert_eq!(p.summary().unchanged, 2);
    }
}
