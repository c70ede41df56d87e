//! Ownership: which policy entry, if any, manages a bucket.
//!
//! An exact `name` entry wins over every `match` entry; a bucket that no entry
//! names or matches is unmanaged and never written; two `match` entries that both
//! select one bucket are an error naming both places.

use std::collections::{BTreeMap, HashMap};

use super::{BucketEntry, Policy, Selector};
use crate::diag::{Diagnostic, ErrorCode};

/// What is known of a bucket's tags when its owner is chosen.
#[derive(Debug, Clone, Copy)]
pub enum Tags<'t> {
    /// Not read: [`Ownership::needs_tags`] said they were not needed.
    NotRead,
    /// Read from S3 (empty when the bucket has none).
    Read(&'t BTreeMap<String, String>),
    /// Needed, but they could not be read.
    Unreadable,
}

/// The owner of a bucket when its tags may be unknown (`s3cors explain`).
#[derive(Debug, Clone)]
pub enum Choice<'p> {
    /// This entry manages the bucket.
    Owner(&'p BucketEntry),
    /// No entry manages it.
    Unmanaged,
    /// Its tags could not be read, and these `match` entries (two or more,
    /// differing by tags) select its name.
    Ambiguous(Vec<&'p BucketEntry>),
    /// Two `match` entries select it (see [`Ownership::owner`]).
    Conflict(Diagnostic),
}

/// Lookup structure over a policy's bucket entries.
pub struct Ownership<'p> {
    exact: HashMap<&'p str, &'p BucketEntry>,
    globs: Vec<&'p BucketEntry>,
}

impl<'p> Ownership<'p> {
    pub fn new(policy: &'p Policy) -> Self {
        Self::in_account(policy, None)
    }

    /// Ownership of the buckets listed in `account`: a `match:` entry with an
    /// `account:` selects only buckets of that account. `None` (the caller's own
    /// listing, when `accounts:` declares none) keeps every entry, as `account:` is
    /// then only the expected owner.
    pub fn in_account(policy: &'p Policy, account: Option<&str>) -> Self {
        let mut exact = HashMap::new();
        let mut globs = Vec::new();
        for entry in &policy.buckets {
            match &entry.selector {
                // Validation reports duplicates; the first entry is kept.
                Selector::Name(name) => {
                    exact.entry(name.as_str()).or_insert(entry);
                }
                Selector::Match(_) => {
                    let here = match (account, entry.account.as_deref()) {
                        (Some(listed), Some(declared)) => listed == declared,
                        _ => true,
                    };
                    if here {
                        globs.push(entry);
                    }
                }
            }
        }
        Ownership { exact, globs }
    }

    /// The exact entries, in policy order.
    pub fn exact_entries(&self) -> impl Iterator<Item = &'p BucketEntry> + '_ {
        self.exact.values().copied()
    }

    /// Whether any entry selects buckets by glob (so ListBuckets is needed).
    pub fn has_globs(&self) -> bool {
        !self.globs.is_empty()
    }

    /// The entry naming this bucket exactly.
    pub fn exact(&self, bucket: &str) -> Option<&'p BucketEntry> {
        self.exact.get(bucket).copied()
    }

    /// Whether some entry could manage this bucket: it names it, or a `match`
    /// glob matches its name (tags, which need S3, are not checked).
    pub fn may_manage(&self, bucket: &str) -> bool {
        self.exact(bucket).is_some() || !self.glob_candidates(bucket).is_empty()
    }

    /// The `match` entries whose glob matches the name, before any tag check.
    fn glob_candidates(&self, bucket: &str) -> Vec<&'p BucketEntry> {
        self.globs
            .iter()
            .copied()
            .filter(|e| matches!(&e.selector, Selector::Match(m) if m.glob.is_match(bucket)))
            .collect()
    }

    /// Whether deciding this bucket's owner needs its tags: no exact entry, and
    /// a glob that matches its name narrows by tags.
    pub fn needs_tags(&self, bucket: &str) -> bool {
        self.exact(bucket).is_none()
            && self
                .glob_candidates(bucket)
                .iter()
                .any(|e| matches!(&e.selector, Selector::Match(m) if !m.tags.is_empty()))
    }

    /// The entry managing `bucket`, given its tags when [`Self::needs_tags`] said so
    /// (`None` tags count as no tags). `Ok(None)` means unmanaged.
    pub fn owner(
        &self,
        bucket: &str,
        tags: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<&'p BucketEntry>, Diagnostic> {
        if let Some(entry) = self.exact(bucket) {
            return Ok(Some(entry));
        }
        let empty = BTreeMap::new();
        let tags = tags.unwrap_or(&empty);
        let selected: Vec<_> = self
            .glob_candidates(bucket)
            .into_iter()
            .filter(|e| match &e.selector {
                Selector::Match(m) => m.tags.iter().all(|(k, v)| tags.get(k) == Some(v)),
                Selector::Name(_) => false,
            })
            .collect();
        match selected.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            [first, second, ..] => Err(Diagnostic::error(
                ErrorCode::OverlappingMatch,
                format!("bucket `{bucket}` is selected by two `match` entries"),
            )
            .at(second.span)
            .help(format!(
                "narrow one glob (or its tags), or add an exact `name: {bucket}` entry, which wins"
            ))
            .related(first.span, "also selected by this entry")),
        }
    }

    /// The owner of `bucket` given what is known of its tags: [`Self::owner`], or,
    /// when the tags it needs could not be read, the one `match` entry whose glob
    /// selects the name, decided by the globs alone.
    pub fn choose(&self, bucket: &str, tags: Tags<'_>) -> Choice<'p> {
        let known = match tags {
            Tags::NotRead => None,
            Tags::Read(tags) => Some(tags),
            Tags::Unreadable if self.exact(bucket).is_some() => None,
            Tags::Unreadable => {
                return match self.glob_candidates(bucket).as_slice() {
                    [] => Choice::Unmanaged,
                    [one] => Choice::Owner(one),
                    many => Choice::Ambiguous(many.to_vec()),
                };
            }
        };
        match self.owner(bucket, known) {
            Ok(Some(entry)) => Choice::Owner(entry),
            Ok(None) => Choice::Unmanaged,
            Err(d) => Choice::Conflict(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, Sources};

    fn policy(text: &str) -> Policy {
        let mut sources = Sources::new();
        sources.add(SourceFile::new("p.yaml", text));
        let loaded = crate::policy::load(&sources);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.policy
    }

    const RULES: &str = "rules: [{AllowedOrigins: ['*'], AllowedMethods: [GET]}]";

    #[test]
    fn exact_beats_match_and_tags_narrow() {
        let p = policy(&format!(
            "version: 1\nbuckets:\n  - name: static-special\n    {RULES}\n  - match: 'static-*'\n    tags: {{team: web}}\n    {RULES}\n  - match: 'logs-*'\n    {RULES}\n"
        ));
        let o = Ownership::new(&p);
        let web: BTreeMap<String, String> = [("team".to_string(), "web".to_string())].into();
        let line = |e: Option<&BucketEntry>| e.map(|e| e.span.start);
        type Case<'a> = (&'a str, Option<&'a BTreeMap<String, String>>, Option<u32>);
        let cases: Vec<Case> = vec![
            ("static-special", None, line(Some(&p.buckets[0]))),
            ("static-a", Some(&web), line(Some(&p.buckets[1]))),
            ("static-a", None, None),
            ("logs-1", None, line(Some(&p.buckets[2]))),
            ("other", None, None),
        ];
        for (bucket, tags, want) in cases {
            assert_eq!(line(o.owner(bucket, tags).unwrap()), want, "{bucket}");
        }
        assert!(o.needs_tags("static-a"));
        assert!(!o.needs_tags("static-special"));
        assert!(!o.needs_tags("logs-1"));
        assert!(o.has_globs());
    }

    #[test]
    fn a_match_with_an_account_selects_only_that_accounts_buckets() {
        let p = policy(&format!(
            "version: 1\nbuckets:\n  - match: 'a-*'\n    account: '111111111111'\n    {RULES}\n  - match: 'b-*'\n    {RULES}\n"
        ));
        let owner = |account: Option<&str>, bucket: &str| {
            Ownership::in_account(&p, account)
                .owner(bucket, None)
                .unwrap()
                .map(|e| e.span.start)
        };
        let (a, b) = (Some(p.buckets[0].span.start), Some(p.buckets[1].span.start));
        assert_eq!(owner(Some("111111111111"), "a-1"), a);
        assert_eq!(owner(Some("222222222222"), "a-1"), None);
        assert_eq!(owner(Some("222222222222"), "b-1"), b);
        // The caller's own listing (no `accounts:`): `account:` is only the owner.
        assert_eq!(owner(None, "a-1"), a);
    }

    #[test]
    fn two_matches_are_an_error_naming_both() {
        let p = policy(&format!(
            "version: 1\nbuckets:\n  - match: 'app-*'\n    {RULES}\n  - match: '*-prod'\n    {RULES}\n"
        ));
        let o = Ownership::new(&p);
        let err = o.owner("app-prod", None).unwrap_err();
        assert_eq!(err.code, "overlapping-match");
        assert_eq!(err.span, Some(p.buckets[1].span));
        assert_eq!(err.related[0].span, p.buckets[0].span);
        assert!(o.owner("app-dev", None).unwrap().is_some());
    }

    #[test]
    fn choose_falls_back_to_globs_when_tags_are_unreadable() {
        let p = policy(&format!(
            "version: 1\nbuckets:\n  - name: web-special\n    {RULES}\n  - match: 'web-*'\n    tags: {{team: web}}\n    {RULES}\n  - match: 'web-*'\n    tags: {{team: ops}}\n    {RULES}\n  - match: 'img-*'\n    tags: {{team: web}}\n    {RULES}\n  - match: 'logs-*'\n    {RULES}\n  - match: '*-prod'\n    {RULES}\n"
        ));
        let o = Ownership::new(&p);
        let web: BTreeMap<String, String> = [("team".to_string(), "web".to_string())].into();
        let none = BTreeMap::new();
        // The chosen entries' indexes, or what else was chosen.
        let show = |c: Choice| match c {
            Choice::Owner(e) => format!("owner {}", index(&p, e)),
            Choice::Unmanaged => "unmanaged".to_string(),
            Choice::Ambiguous(many) => format!(
                "ambiguous {:?}",
                many.iter().map(|e| index(&p, e)).collect::<Vec<_>>()
            ),
            Choice::Conflict(d) => format!("conflict {}", d.code),
        };
        let cases: Vec<(&str, Tags, &str)> = vec![
            ("web-special", Tags::NotRead, "owner 0"),
            ("web-special", Tags::Unreadable, "owner 0"),
            ("web-a", Tags::Read(&web), "owner 1"),
            ("web-a", Tags::Read(&none), "unmanaged"),
            ("web-a", Tags::Unreadable, "ambiguous [1, 2]"),
            ("img-a", Tags::Read(&web), "owner 3"),
            ("img-a", Tags::Read(&none), "unmanaged"),
            ("img-a", Tags::Unreadable, "owner 3"),
            ("logs-1", Tags::NotRead, "owner 4"),
            ("logs-prod", Tags::NotRead, "conflict overlapping-match"),
            ("other", Tags::NotRead, "unmanaged"),
            ("other", Tags::Unreadable, "unmanaged"),
        ];
        for (bucket, tags, want) in cases {
            assert_eq!(show(o.choose(bucket, tags)), want, "{bucket} {tags:?}");
        }
    }

    fn index(p: &Policy, e: &BucketEntry) -> usize {
        p.buckets
            .iter()
            .position(|b| b.span == e.span)
            .expect("an entry of the policy")
    }
}
