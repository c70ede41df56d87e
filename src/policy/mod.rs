//! Policies: the validated model of what the YAML files declare.
//!
//! `yaml` reads text into positioned nodes, `validate` turns the nodes of every file
//! into a [`Policy`] while collecting every problem as a diagnostic, `raw` mirrors
//! the file format as serde types (the JSON Schema and `import`'s output),
//! `ownership` decides which entry, if any, manages a bucket, `guardrail` checks a
//! configuration against the guardrails, and `check` reports lints and guardrail
//! violations over the desired configurations as diagnostics.

pub mod check;
pub mod guardrail;
pub mod ownership;
pub mod raw;
pub mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use globset::GlobMatcher;

use crate::cors::lint::LintCode;
use crate::diag::{Diagnostic, Sources, Span};
use crate::model::{Access, CorsConfig, CorsRule, Method};

/// The only policy file `version` so far.
pub const VERSION: i64 = 1;

/// Everything the policy files under the given paths declare.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub buckets: Vec<BucketEntry>,
    pub guardrails: Vec<Guardrail>,
    /// The `accounts:` items of every file; empty means the caller's own account.
    pub accounts: Vec<AccountDecl>,
    /// The `lints:` levels of every file (a lint not named is `warn`).
    pub lints: BTreeMap<LintCode, LintSetting>,
}

/// How a lint is reported, set under a file's top-level `lints:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintLevel {
    /// Silenced everywhere (its findings are counted as suppressed).
    Allow,
    /// A warning: the default.
    Warn,
    /// An error: `validate` and `plan` fail on it.
    Deny,
}

impl LintLevel {
    pub const NAMES: &[&str] = &["allow", "warn", "deny"];

    pub fn as_str(self) -> &'static str {
        match self {
            LintLevel::Allow => "allow",
            LintLevel::Warn => "warn",
            LintLevel::Deny => "deny",
        }
    }
}

/// One `lints:` entry: the level and where it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LintSetting {
    pub level: LintLevel,
    /// The level's value in its file.
    pub span: Span,
}

/// One item of an `allow:` list (on a bucket entry or a rule): a lint silenced
/// there, with the reason given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub code: LintCode,
    pub reason: Option<String>,
    /// The item's code.
    pub span: Span,
}

impl Policy {
    /// The `organization:` item, if any.
    pub fn organization(&self) -> Option<&Organization> {
        self.accounts.iter().find_map(|a| match &a.kind {
            AccountKind::Organization(org) => Some(org),
            AccountKind::Account { .. } => None,
        })
    }

    /// The accounts declared by id, with how to reach each.
    pub fn declared_accounts(&self) -> impl Iterator<Item = (&str, &Access)> {
        self.accounts.iter().filter_map(|a| match &a.kind {
            AccountKind::Account { id, access } => Some((id.as_str(), access)),
            AccountKind::Organization(_) => None,
        })
    }
}

/// One item of an `accounts:` list.
#[derive(Debug, Clone)]
pub struct AccountDecl {
    pub kind: AccountKind,
    /// The item's `id:` (or `organization:`) value.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountKind {
    /// One account by id.
    Account { id: String, access: Access },
    /// Every active account AWS Organizations lists, reached through the same role.
    Organization(Organization),
}

/// `organization: {role_name, external_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub role_name: String,
    pub external_id: Option<String>,
}

impl Organization {
    /// How to reach account `id` of the organisation: its role `role_name`.
    pub fn access(&self, partition: &str, id: &str) -> Access {
        Access {
            role_arn: Some(format!("arn:{partition}:iam::{id}:role/{}", self.role_name)),
            external_id: self.external_id.clone(),
            profile: None,
        }
    }
}

/// One entry of a file's `buckets:` list.
#[derive(Debug, Clone)]
pub struct BucketEntry {
    pub selector: Selector,
    /// The account the buckets are in: its credentials are used when `accounts:`
    /// declares it, and it is sent as the expected bucket owner with every call.
    pub account: Option<String>,
    /// Declared region: skips region discovery.
    pub region: Option<String>,
    /// The rules in S3's order, with ruleset references spliced in. Empty means the
    /// entry declared `rules: []`: the bucket must have no CORS configuration.
    pub rules: Rules,
    /// The lints the entry's `allow:` silences for all its rules.
    pub allow: Box<[Allow]>,
    /// `reconcile:` (default true): whether `watch --reconcile` may write these
    /// buckets. `plan` and `apply` do not read it.
    pub reconcile: bool,
    /// The entry's `name:` or `match:` value.
    pub span: Span,
}

impl BucketEntry {
    /// The configuration this entry wants, `None` for "no CORS".
    pub fn desired(&self) -> Option<CorsConfig> {
        if self.rules.is_empty() {
            None
        } else {
            Some(CorsConfig::new(
                self.rules
                    .iter()
                    .map(|r| CorsRule::clone(&r.rule))
                    .collect(),
            ))
        }
    }
}

/// Desired configurations shared between the buckets that want the same rules:
/// every bucket of a `match:` entry, and every entry on the same rulesets, holds
/// one `Arc<CorsConfig>` instead of a copy each (at 100,000 buckets on one
/// ruleset, one configuration instead of 100,000).
#[derive(Debug, Default)]
pub struct SharedConfigs {
    /// By the address of the entry's shared rule list, which the value keeps alive.
    by_rules: BTreeMap<usize, Shared>,
}

/// A shared rule list and the configuration made from it.
type Shared = (Arc<[PolicyRule]>, Option<Arc<CorsConfig>>);

impl SharedConfigs {
    /// [`BucketEntry::desired`], made once per distinct rule list.
    pub fn desired(&mut self, entry: &BucketEntry) -> Option<Arc<CorsConfig>> {
        let rules = entry.rules.shared();
        let key = Arc::as_ptr(rules).cast::<PolicyRule>() as usize;
        let (_, config) = self
            .by_rules
            .entry(key)
            .or_insert_with(|| (Arc::clone(rules), entry.desired().map(Arc::new)));
        config.clone()
    }
}

/// A bucket entry's rules in S3's order (a slice of [`PolicyRule`]s), with its
/// rulesets spliced in, and where each `ruleset:` reference stands.
///
/// The rules are shared, not copied: every entry whose `rules:` is the same list of
/// `ruleset:` references holds the same allocation (a fleet of 100,000 entries on
/// one ruleset holds its rules once). Only the references' places are the entry's own.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Arc<[PolicyRule]>,
    /// Per `ruleset:` reference: its first spliced rule, how many, and its place.
    references: Box<[Reference]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reference {
    first: u32,
    len: u32,
    span: Span,
}

impl Rules {
    /// Rules as one list; `references` gives (first rule, rule count, place) for
    /// each `ruleset:` reference, in order.
    pub fn new(rules: Arc<[PolicyRule]>, references: &[(usize, usize, Span)]) -> Rules {
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Rules {
            rules,
            references: references
                .iter()
                .map(|&(first, len, span)| Reference {
                    first: to_u32(first),
                    len: to_u32(len),
                    span,
                })
                .collect(),
        }
    }

    /// Rules written in the entry itself (no ruleset references).
    pub fn inline(rules: Vec<PolicyRule>) -> Rules {
        Rules::new(rules.into(), &[])
    }

    /// The shared list itself, for [`Arc::ptr_eq`]: entries holding the same list
    /// have the same desired configuration.
    pub fn shared(&self) -> &Arc<[PolicyRule]> {
        &self.rules
    }

    /// Where the `ruleset:` reference that spliced rule `index` in stands, for rules
    /// from a ruleset.
    pub fn reference(&self, index: usize) -> Option<Span> {
        self.references
            .iter()
            .find(|r| (r.first as usize..(r.first + r.len) as usize).contains(&index))
            .map(|r| r.span)
    }

    /// The first rule spliced in by the same reference as rule `index`.
    pub fn reference_start(&self, index: usize) -> Option<usize> {
        self.references
            .iter()
            .find(|r| (r.first as usize..(r.first + r.len) as usize).contains(&index))
            .map(|r| r.first as usize)
    }
}

impl Deref for Rules {
    type Target = [PolicyRule];
    fn deref(&self) -> &[PolicyRule] {
        &self.rules
    }
}

/// How an entry picks its buckets.
#[derive(Debug, Clone)]
pub enum Selector {
    /// One bucket by exact name.
    Name(String),
    /// Every existing bucket whose name matches the glob and that carries all the tags.
    /// Boxed: a compiled glob is large, and most entries of a fleet are `Name`s.
    Match(Box<BucketMatch>),
}

#[derive(Debug, Clone)]
pub struct BucketMatch {
    pub pattern: String,
    pub glob: GlobMatcher,
    pub tags: BTreeMap<String, String>,
}

/// A rule as declared, with the places its parts came from.
#[derive(Debug, Clone)]
pub struct PolicyRule {
    /// The rule; equal rules written in many entries share one value.
    pub rule: Arc<CorsRule>,
    /// The ruleset this rule was spliced from, if any (where the `ruleset:`
    /// reference stands is the entry's: [`Rules::reference`]).
    pub ruleset: Option<String>,
    pub spans: RuleSpans,
    /// The lints the rule's own `allow:` silences for it.
    pub allow: Box<[Allow]>,
}

/// Where each part of a rule stands in its file, so findings about a rule's values
/// (lints, guardrails, explain) can point at the exact line.
///
/// The four lists' item places are kept in one allocation: a 50,000-entry file
/// holds 50,000 of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpans {
    /// The rule's mapping.
    pub rule: Span,
    pub id: Option<Span>,
    pub max_age_seconds: Option<Span>,
    /// The items of AllowedOrigins, AllowedMethods, AllowedHeaders and
    /// ExposeHeaders, one list after the other.
    items: Box<[Span]>,
    /// Where each of the four lists ends in `items`.
    ends: [u32; 4],
}

impl RuleSpans {
    fn list(&self, k: usize) -> &[Span] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.items[start..self.ends[k] as usize]
    }

    /// The place of each `AllowedOrigins` item.
    pub fn allowed_origins(&self) -> &[Span] {
        self.list(0)
    }

    /// The place of each `AllowedMethods` item.
    pub fn allowed_methods(&self) -> &[Span] {
        self.list(1)
    }

    /// The place of each `AllowedHeaders` item.
    pub fn allowed_headers(&self) -> &[Span] {
        self.list(2)
    }

    /// The place of each `ExposeHeaders` item.
    pub fn expose_headers(&self) -> &[Span] {
        self.list(3)
    }
}

/// [`RuleSpans`] as validation gathers them, a list per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanLists {
    pub rule: Span,
    pub id: Option<Span>,
    pub allowed_origins: Vec<Span>,
    pub allowed_methods: Vec<Span>,
    pub allowed_headers: Vec<Span>,
    pub expose_headers: Vec<Span>,
    pub max_age_seconds: Option<Span>,
}

impl From<SpanLists> for RuleSpans {
    fn from(lists: SpanLists) -> RuleSpans {
        let parts = [
            lists.allowed_origins,
            lists.allowed_methods,
            lists.allowed_headers,
            lists.expose_headers,
        ];
        let mut items = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        let mut ends = [0; 4];
        for (end, part) in ends.iter_mut().zip(parts) {
            items.extend(part);
            // A rule's lists come from one file, far below 4 billion items.
            *end = u32::try_from(items.len()).unwrap_or(u32::MAX);
        }
        RuleSpans {
            rule: lists.rule,
            id: lists.id,
            max_age_seconds: lists.max_age_seconds,
            items: items.into_boxed_slice(),
            ends,
        }
    }
}

/// An organisation rule over CORS rules (`guardrails:`; see the README).
#[derive(Debug, Clone)]
pub struct Guardrail {
    pub id: String,
    pub description: Option<String>,
    /// The `buckets:` glob (default `*`).
    pub scope: String,
    pub scope_glob: GlobMatcher,
    pub forbid: Option<Forbid>,
    pub require: Require,
    pub span: Span,
}

/// A rule is forbidden when it has one of the listed values in every listed field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forbid {
    pub origins: Vec<String>,
    pub methods: Vec<Method>,
    pub headers: Vec<String>,
}

/// What every rule in scope must satisfy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Require {
    /// Every origin must use this scheme (`https`); the literal `*` fails it.
    pub origin_scheme: Option<String>,
    pub max_age_seconds_at_most: Option<i32>,
    /// Every origin must be covered by one of these patterns.
    pub origins_within: Vec<String>,
    /// Every method must be one of these.
    pub methods_within: Vec<Method>,
}

impl Require {
    pub fn is_empty(&self) -> bool {
        *self == Require::default()
    }
}

/// The result of reading policy files: the model plus every finding.
#[derive(Debug, Default)]
pub struct Loaded {
    pub policy: Policy,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and validates every file in `sources`. Pure: the caller reads the files.
pub fn load(sources: &Sources) -> Loaded {
    validate::validate(sources)
}
