//! Which buckets the policies manage: exact names directly, `match:` entries via
//! ListBuckets (and GetBucketTagging only for names that passed a glob that has
//! tags), then `--target` and `--shard` filters (by name before any tag is
//! read; by account once the owning entry is known). Ownership rules are the core's
//! (`policy::ownership`); this module only gathers the facts they need.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};

use crate::cli::Shard;
use crate::diag::{Diagnostic, ErrorCode, Sources};
use crate::plan::DesiredBucket;
use crate::plan::shard::ShardBy;
use crate::policy::ownership::Ownership;
use crate::policy::{BucketEntry, Policy, Selector};
use crate::s3::{BucketInfo, BucketTarget, S3Api, S3Error};

/// Which of the managed buckets a command works on.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `--target`: only these buckets (empty: all).
    pub targets: Vec<String>,
    /// `--shard K/N` (`--shard-by`).
    pub shard: Option<Shard>,
    /// `--parallelism`: most calls in flight.
    pub parallelism: usize,
}

/// One managed bucket and the policy entry that manages it.
#[derive(Debug, Clone)]
pub struct Managed<'p> {
    pub name: String,
    pub entry: &'p BucketEntry,
    /// The entry's place, `file:line`.
    pub source: String,
    /// How to address it: declared or listed region, expected owner.
    pub target: BucketTarget,
}

impl Managed<'_> {
    /// What the plan core needs to know about this bucket.
    pub fn desired(&self) -> DesiredBucket {
        DesiredBucket {
            name: self.name.clone(),
            source: self.source.clone(),
            desired: self.entry.desired(),
            region: self.target.region.clone(),
            account: self.target.expected_owner.clone(),
        }
    }
}

/// A bucket that could not be resolved (its tags could not be read, two entries
/// claim it, a `--target` nobody manages).
#[derive(Debug)]
pub struct Unresolved {
    pub bucket: String,
    pub problem: Problem,
}

#[derive(Debug)]
pub enum Problem {
    /// A finding about the policies (ownership conflict, unmanaged target).
    Policy(Box<Diagnostic>),
    /// A call failed.
    S3(S3Error),
}

/// The buckets to work on, sorted by name, and those that failed to resolve.
#[derive(Debug, Default)]
pub struct Resolution<'p> {
    pub buckets: Vec<Managed<'p>>,
    pub unresolved: Vec<Unresolved>,
    /// Every bucket ListBuckets returned, when it was called (drift --unmanaged uses it).
    pub listed: Option<Vec<BucketInfo>>,
    /// Buckets left out because they are in another shard (`--shard-by account`):
    /// managed there, so never unmanaged here.
    pub elsewhere: BTreeSet<String>,
}

/// Resolves the managed buckets. Fails only when ListBuckets itself fails.
pub async fn managed<'p>(
    policy: &'p Policy,
    sources: &Sources,
    s3: &impl S3Api,
    scope: &Scope,
    list_all: bool,
) -> Result<Resolution<'p>, S3Error> {
    let ownership = Ownership::new(policy);
    let shard = scope.shard.map(Shard::record);
    // Sharded by bucket, a name outside the shard is dropped before its tags are
    // read; sharded by account, only once its entry (and so its account) is known.
    let wanted = |name: &str| {
        (scope.targets.is_empty() || scope.targets.iter().any(|t| t == name))
            && shard.is_none_or(|s| s.by != ShardBy::Bucket || s.holds(name, None))
    };
    let mut found: BTreeMap<String, Managed<'p>> = BTreeMap::new();
    let mut unresolved = Vec::new();
    for entry in ownership.exact_entries() {
        if let Selector::Name(name) = &entry.selector
            && wanted(name)
        {
            found.insert(name.clone(), managed_bucket(name, entry, sources, None));
        }
    }

    // Only buckets that exist can match a glob: list them (one paginated call,
    // narrowed by the globs' common literal prefix when there is one).
    let mut listed = None;
    if ownership.has_globs() || list_all {
        let prefix = if list_all {
            None
        } else {
            common_literal_prefix(policy)
        };
        let buckets = s3.list_buckets(prefix.as_deref()).await?;
        let mut need_tags = Vec::new();
        for info in &buckets {
            if ownership.exact(&info.name).is_some() {
                // Learn the region of exact entries that did not declare one.
                if let Some(m) = found.get_mut(&info.name)
                    && m.target.region.is_none()
                {
                    m.target.region = info.region.clone();
                }
                continue;
            }
            if !wanted(&info.name) {
                continue;
            }
            if ownership.needs_tags(&info.name) {
                need_tags.push(info);
                continue;
            }
            let owner = ownership.owner(&info.name, None);
            settle(info, owner, sources, &mut found, &mut unresolved);
        }
        // Tags only for names that already passed a glob with tags.
        let tagged: Vec<_> = stream::iter(need_tags)
            .map(|info| async move {
                let target = BucketTarget {
                    name: info.name.clone(),
                    region: info.region.clone(),
                    expected_owner: None,
                };
                (info, s3.get_tags(&target).await)
            })
            .buffer_unordered(scope.parallelism.max(1))
            .collect()
            .await;
        for (info, tags) in tagged {
            match tags {
                Ok(tags) => {
                    let owner = ownership.owner(&info.name, Some(&tags));
                    settle(info, owner, sources, &mut found, &mut unresolved);
                }
                Err(e) => unresolved.push(Unresolved {
                    bucket: info.name.clone(),
                    problem: Problem::S3(e),
                }),
            }
        }
        listed = Some(buckets);
    }

    for target in &scope.targets {
        let known = found.contains_key(target) || unresolved.iter().any(|u| &u.bucket == target);
        if !known {
            let d = Diagnostic::error(
                ErrorCode::UnmanagedTarget,
                format!("--target {target}: no policy entry manages this bucket"),
            )
            .help("name a bucket that a `name:` entry declares or a `match:` entry selects");
            unresolved.push(Unresolved {
                bucket: target.clone(),
                problem: Problem::Policy(Box::new(d)),
            });
        }
    }
    let mut elsewhere = BTreeSet::new();
    if let Some(s) = shard.filter(|s| s.by == ShardBy::Account) {
        found.retain(|name, m| {
            let mine = s.holds(name, m.target.expected_owner.as_deref());
            if !mine {
                elsewhere.insert(name.clone());
            }
            mine
        });
        // A bucket that could not be resolved has no known account.
        unresolved.retain(|u| {
            let mine = s.holds(&u.bucket, None);
            if !mine {
                elsewhere.insert(u.bucket.clone());
            }
            mine
        });
    }
    unresolved.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    Ok(Resolution {
        buckets: found.into_values().collect(),
        unresolved,
        listed,
        elsewhere,
    })
}

/// Records what ownership said about a listed bucket: managed, unmanaged, or a conflict.
fn settle<'p>(
    info: &BucketInfo,
    owner: Result<Option<&'p BucketEntry>, Diagnostic>,
    sources: &Sources,
    found: &mut BTreeMap<String, Managed<'p>>,
    unresolved: &mut Vec<Unresolved>,
) {
    match owner {
        Ok(Some(entry)) => {
            let m = managed_bucket(&info.name, entry, sources, info.region.clone());
            found.insert(info.name.clone(), m);
        }
        Ok(None) => {}
        Err(d) => unresolved.push(Unresolved {
            bucket: info.name.clone(),
            problem: Problem::Policy(Box::new(d)),
        }),
    }
}

fn managed_bucket<'p>(
    name: &str,
    entry: &'p BucketEntry,
    sources: &Sources,
    listed_region: Option<String>,
) -> Managed<'p> {
    Managed {
        name: name.to_owned(),
        entry,
        source: sources.file_line(entry.span),
        target: BucketTarget {
            name: name.to_owned(),
            region: entry.region.clone().or(listed_region),
            expected_owner: entry.account.clone(),
        },
    }
}

/// The longest literal prefix shared by every `match:` glob (`static-*` and
/// `static-media-*` give `static-`), so ListBuckets can be narrowed server-side.
fn common_literal_prefix(policy: &Policy) -> Option<String> {
    let mut prefix: Option<String> = None;
    for entry in &policy.buckets {
        if let Selector::Match(m) = &entry.selector {
            let literal: String = m
                .pattern
                .chars()
                .take_while(|c| !matches!(c, '*' | '?' | '[' | '{' | '\\'))
                .collect();
            prefix = Some(match prefix {
                None => literal,
                Some(p) => p
                    .chars()
                    .zip(literal.chars())
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| a)
                    .collect(),
            });
        }
    }
    prefix.filter(|p| !p.is_empty())
}
