//! Which buckets the policies manage: exact names directly, `match:` entries via
//! ListBuckets once per account (and GetBucketTagging only for names that passed a
//! glob that has tags), then `--target`, `--account` and `--shard` filters (by name
//! before any tag is read; by account once the owning entry is known). Ownership
//! rules are the core's (`policy::ownership`); this module only gathers the facts
//! they need.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};

use super::accounts::Roster;
use crate::cli::Shard;
use crate::diag::{Diagnostic, ErrorCode, Sources};
use crate::model::Access;
use crate::plan::DesiredBucket;
use crate::plan::shard::ShardBy;
use crate::policy::ownership::Ownership;
use crate::policy::{BucketEntry, Policy, Selector, SharedConfigs};
use crate::s3::{BucketInfo, BucketTarget, S3Api, S3Error};

/// Which of the managed buckets a command works on.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `--target`: only these buckets (empty: all).
    pub targets: Vec<String>,
    /// `--shard K/N`.
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
    /// How to address it: declared or listed region, account, credentials.
    pub target: BucketTarget,
}

impl Managed<'_> {
    /// What the plan core needs to know about this bucket, and the target to read
    /// it through, without keeping the `Managed` (at 100,000 buckets every copy
    /// counts); `shared` hands out one desired configuration per rule list.
    pub fn into_parts(self, shared: &mut SharedConfigs) -> (DesiredBucket, BucketTarget) {
        let desired = DesiredBucket {
            name: self.name,
            source: self.source,
            desired: shared.desired(self.entry),
            region: self.target.region.clone(),
            account: self.target.expected_owner.clone(),
            access: self.target.access.clone(),
        };
        (desired, self.target)
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

/// A bucket ListBuckets returned, and the account it was listed in.
#[derive(Debug, Clone)]
pub struct Listed {
    pub info: BucketInfo,
    /// The account listed (`None`: the caller's own, when `accounts:` declares none).
    pub account: Option<String>,
    pub access: Access,
}

impl Listed {
    /// How to address the bucket with the credentials that listed it.
    pub fn target(&self) -> BucketTarget {
        BucketTarget {
            name: self.info.name.clone(),
            region: self.info.region.clone(),
            expected_owner: self.account.clone(),
            access: self.access.clone(),
        }
    }
}

/// The buckets to work on, sorted by name, and those that failed to resolve.
#[derive(Debug, Default)]
pub struct Resolution<'p> {
    pub buckets: Vec<Managed<'p>>,
    pub unresolved: Vec<Unresolved>,
    /// Every bucket ListBuckets returned, when it was called (drift --unmanaged uses it).
    pub listed: Option<Vec<Listed>>,
    /// Accounts whose ListBuckets failed: their `match:` buckets are unknown.
    pub unlisted: Vec<(String, S3Error)>,
    /// Buckets left out because they are in another shard (`--shard-by account`):
    /// managed there, so never unmanaged here.
    pub elsewhere: BTreeSet<String>,
}

/// Resolves the managed buckets in every account of `roster`. Fails only when
/// ListBuckets fails for the caller's own account (one account, no `accounts:`);
/// in a fleet of accounts, one account's failure is in [`Resolution::unlisted`]
/// and the others go on.
pub async fn managed<'p>(
    policy: &'p Policy,
    sources: &Sources,
    roster: &Roster,
    scope: &Scope,
    list_all: bool,
) -> Result<Resolution<'p>, S3Error> {
    let fleet = &roster.fleet;
    let shard = scope.shard.map(Shard::record);
    // Sharded by bucket, a name outside the shard is dropped before its tags are
    // read; sharded by account, only once its entry (and so its account) is known.
    let wanted = |name: &str, account: Option<&str>| {
        (scope.targets.is_empty() || scope.targets.iter().any(|t| t == name))
            && roster.wanted(account)
            && shard.is_none_or(|s| s.by != ShardBy::Bucket || s.holds(name, None))
    };
    let mut found: BTreeMap<String, Managed<'p>> = BTreeMap::new();
    let mut unresolved = Vec::new();
    let exact = Ownership::new(policy);
    for entry in exact.exact_entries() {
        let account = entry.account.as_deref();
        let access = roster.access(account);
        // An unreachable account is reported once (`Roster::failure_report`).
        if let Selector::Name(name) = &entry.selector
            && wanted(name, account)
            && fleet.failure(&access).is_none()
        {
            let m = managed_bucket(name, entry, sources, None, None, access);
            found.insert(name.clone(), m);
        }
    }

    // Only buckets that exist can match a glob: list them, once per account
    // (one paginated call, narrowed by the globs' common literal prefix).
    let mut listed = None;
    let mut unlisted = Vec::new();
    if exact.has_globs() || list_all {
        let prefix = if list_all {
            None
        } else {
            common_literal_prefix(policy)
        };
        let accounts = roster.listing();
        let lists: Vec<_> = stream::iter(accounts)
            .map(|(account, access)| {
                let prefix = prefix.as_deref();
                async move {
                    let list = match fleet.client(&access) {
                        Ok(s3) => s3.list_buckets(prefix).await,
                        Err(why) => Err(S3Error::other("ListBuckets", None, why)),
                    };
                    (account, access, list)
                }
            })
            .buffer_unordered(scope.parallelism.clamp(1, 8))
            .collect()
            .await;
        let mut all = Vec::new();
        let mut need_tags = Vec::new();
        for (account, access, list) in lists {
            let buckets = match (list, &account) {
                (Ok(buckets), _) => buckets,
                (Err(e), None) => return Err(e),
                (Err(e), Some(id)) => {
                    unlisted.push((id.clone(), e));
                    continue;
                }
            };
            let ownership = Ownership::in_account(policy, account.as_deref());
            for info in buckets {
                let listing = Listed {
                    info,
                    account: account.clone(),
                    access: access.clone(),
                };
                let name = listing.info.name.clone();
                if ownership.exact(&name).is_some() {
                    // Learn the region of exact entries that did not declare one.
                    // (Their account is what they declare: one without `account:`
                    // is the caller's, whether or not a listing saw it elsewhere.)
                    if let Some(m) = found.get_mut(&name)
                        && m.target.region.is_none()
                    {
                        m.target.region = listing.info.region.clone();
                    }
                } else if wanted(&name, entry_account(&ownership, &name, &listing)) {
                    if ownership.needs_tags(&name) {
                        need_tags.push((listing.clone(), account.clone()));
                    } else {
                        let owner = ownership.owner(&name, None);
                        settle(&listing, owner, sources, &mut found, &mut unresolved);
                    }
                }
                all.push(listing);
            }
        }
        // Tags only for names that already passed a glob with tags.
        let tagged: Vec<_> = stream::iter(need_tags)
            .map(|(listing, account)| async move {
                let tags = fleet.get_tags(&listing.target()).await;
                (listing, account, tags)
            })
            .buffer_unordered(scope.parallelism.max(1))
            .collect()
            .await;
        for (listing, account, tags) in tagged {
            match tags {
                Ok(tags) => {
                    let ownership = Ownership::in_account(policy, account.as_deref());
                    let owner = ownership.owner(&listing.info.name, Some(&tags));
                    settle(&listing, owner, sources, &mut found, &mut unresolved);
                }
                Err(e) => unresolved.push(Unresolved {
                    bucket: listing.info.name.clone(),
                    problem: Problem::S3(e),
                }),
            }
        }
        all.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        listed = Some(all);
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
        unlisted,
        elsewhere,
    })
}

/// The account a listed bucket counts under for `--account`: the one it was
/// listed in, else (the caller's own listing) the `account:` of the entries that
/// may select it, when they agree.
fn entry_account<'a>(
    ownership: &Ownership<'a>,
    name: &str,
    listing: &'a Listed,
) -> Option<&'a str> {
    if let Some(account) = listing.account.as_deref() {
        return Some(account);
    }
    match ownership.owner(name, None) {
        Ok(Some(entry)) => entry.account.as_deref(),
        _ => None,
    }
}

/// Records what ownership said about a listed bucket: managed, unmanaged, or a conflict.
fn settle<'p>(
    listing: &Listed,
    owner: Result<Option<&'p BucketEntry>, Diagnostic>,
    sources: &Sources,
    found: &mut BTreeMap<String, Managed<'p>>,
    unresolved: &mut Vec<Unresolved>,
) {
    let name = &listing.info.name;
    match owner {
        Ok(Some(entry)) => {
            let m = managed_bucket(
                name,
                entry,
                sources,
                listing.info.region.clone(),
                listing.account.clone(),
                listing.access.clone(),
            );
            found.insert(name.clone(), m);
        }
        Ok(None) => {}
        Err(d) => unresolved.push(Unresolved {
            bucket: name.clone(),
            problem: Problem::Policy(Box::new(d)),
        }),
    }
}

/// A managed bucket: addressed in its declared region (else the listed one), as
/// owned by the entry's `account:` (else the account it was listed in), with that
/// account's credentials.
fn managed_bucket<'p>(
    name: &str,
    entry: &'p BucketEntry,
    sources: &Sources,
    listed_region: Option<String>,
    listed_account: Option<String>,
    access: Access,
) -> Managed<'p> {
    Managed {
        name: name.to_owned(),
        entry,
        source: sources.file_line(entry.span),
        target: BucketTarget {
            name: name.to_owned(),
            region: entry.region.clone().or(listed_region),
            expected_owner: entry.account.clone().or(listed_account),
            access,
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
