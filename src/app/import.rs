//! `s3cors import`: write policy YAML from live configurations, in the format
//! users write, so that `plan` on the imported file reports no changes.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use futures::{StreamExt, stream};

use super::accounts::Roster;
use super::resolve::Listed;
use super::{Exit, Outcome};
use crate::cli::{Global, ImportArgs};
use crate::endpoint::Endpoint;
use crate::model::CorsConfig;
use crate::policy::Policy;
use crate::policy::raw::{Bucket, PolicyFile, Rule, RuleItem};
use crate::s3::{BucketTarget, S3Api, S3ErrorKind};

pub async fn run(global: &Global, args: &ImportArgs) -> anyhow::Result<Outcome> {
    let policy = if args.accounts_from.is_empty() {
        Policy::default()
    } else {
        match super::policies::load(&args.accounts_from, false, global, false) {
            Ok(p) => p.policy,
            Err(outcome) => return Ok(outcome),
        }
    };
    let roster = super::accounts::connect(global, &policy).await?;
    let s3 = &roster.fleet;
    let targets = targets(args, &roster).await?;
    if targets.is_empty() {
        bail!("no buckets to import: nothing matched");
    }

    let parallelism = usize::from(global.parallelism).max(1);
    let read: BTreeMap<String, _> = stream::iter(&targets)
        .map(|t| async {
            (
                t.name.clone(),
                (t.expected_owner.clone(), s3.get_cors(t).await),
            )
        })
        .buffer_unordered(parallelism)
        .collect()
        .await;
    let mut imported = Vec::new();
    let mut failures = Vec::new();
    for (name, (account, result)) in read {
        match result {
            Ok(config) => imported.push(Imported {
                name,
                account,
                config,
            }),
            // Every read fails alike without credentials: say it once.
            Err(e) if e.kind == S3ErrorKind::NoCredentials => return Err(e.into()),
            Err(e) if e.kind == S3ErrorKind::NoSuchBucket => {
                failures.push(format!("{name}: the bucket does not exist"))
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    if !failures.is_empty() {
        bail!(
            "could not read {} bucket(s), nothing was written:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }

    let endpoint = super::endpoint_of(s3.default_client());
    let yaml = to_policy_yaml(&imported, &endpoint, &super::utc_now())?;
    let unreachable = super::accounts::unreachable_report(&roster, &[]);
    let exit = if unreachable.is_empty() {
        Exit::Success
    } else {
        Exit::Error
    };
    let mut outcome = match &args.output {
        Some(path) => {
            super::plan::write_atomically(path, yaml.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            let shown = crate::text::terminal_safe(&path.display().to_string()).into_owned();
            Outcome::new(
                format!(
                    "Imported {} bucket(s){} into {shown}. `s3cors plan {shown}` should report \
                     no changes.\n",
                    imported.len(),
                    per_account(&imported),
                ),
                exit,
            )
        }
        None => Outcome::new(yaml, exit),
    };
    outcome.stderr = unreachable;
    Ok(outcome)
}

/// One bucket read for import, and the account it is in (when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub name: String,
    pub account: Option<String>,
    pub config: Option<CorsConfig>,
}

/// The buckets to import: `--bucket` names as they are (the caller's own
/// account), or, with `--accounts-from`, `--match` or `--all`, what ListBuckets
/// returns in each account, filtered.
async fn targets(args: &ImportArgs, roster: &Roster) -> anyhow::Result<Vec<BucketTarget>> {
    if !args.bucket.is_empty() && roster.accounts.is_empty() {
        let mut names = args.bucket.clone();
        names.sort();
        names.dedup();
        return Ok(names.into_iter().map(BucketTarget::new).collect());
    }
    let glob = match &args.glob {
        Some(g) => Some(
            globset::Glob::new(g)
                .with_context(|| format!("--match {g:?} is not a valid glob"))?
                .compile_matcher(),
        ),
        None => None,
    };
    let accounts = roster.listing();
    let mut targets = Vec::new();
    for (account, access) in accounts {
        let s3 = roster
            .fleet
            .client(&access)
            .map_err(|why| anyhow::anyhow!("{why}"))?;
        let listed = s3
            .list_buckets(None)
            .await
            .with_context(|| match &account {
                Some(id) => format!("listing the buckets of account {id}"),
                None => "listing buckets".to_owned(),
            })?;
        targets.extend(listed.into_iter().filter_map(|info| {
            let chosen = if args.bucket.is_empty() {
                glob.as_ref().is_none_or(|g| g.is_match(&info.name))
            } else {
                args.bucket.contains(&info.name)
            };
            chosen.then(|| {
                Listed {
                    info,
                    account: account.clone(),
                    access: access.clone(),
                }
                .target()
            })
        }));
    }
    let missing: Vec<&String> = args
        .bucket
        .iter()
        .filter(|name| !targets.iter().any(|t| &t.name == *name))
        .collect();
    if !missing.is_empty() {
        bail!(
            "not found in any covered account: {}",
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(targets)
}

/// ` from 3 accounts (111111111111: 2, ...)` when the buckets span accounts.
fn per_account(imported: &[Imported]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in imported {
        if let Some(account) = &i.account {
            *counts.entry(account).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return String::new();
    }
    let list: Vec<String> = counts.iter().map(|(a, n)| format!("{a}: {n}")).collect();
    format!(" from {} account(s) ({})", counts.len(), list.join(", "))
}

/// A policy file declaring each bucket's configuration exactly as it is
/// (`rules: []` for buckets without CORS), with a header saying where from.
pub fn to_policy_yaml(
    imported: &[Imported],
    endpoint: &Endpoint,
    now: &str,
) -> anyhow::Result<String> {
    let file = PolicyFile {
        accounts: Vec::new(),
        version: 1,
        rulesets: BTreeMap::new(),
        buckets: sorted(imported)
            .into_iter()
            .map(|i| Bucket {
                name: Some(i.name.clone()),
                match_: None,
                tags: None,
                account: i.account.clone(),
                region: None,
                rules: i
                    .config
                    .iter()
                    .flat_map(|c| &c.cors_rules)
                    .map(|r| {
                        RuleItem::Rule(Rule {
                            id: r.id.clone(),
                            allowed_headers: r.allowed_headers.clone(),
                            allowed_methods: r.allowed_methods.clone(),
                            allowed_origins: r.allowed_origins.clone(),
                            expose_headers: r.expose_headers.clone(),
                            max_age_seconds: r.max_age_seconds,
                            allow: Vec::new(),
                        })
                    })
                    .collect(),
                allow: Vec::new(),
                reconcile: None,
            })
            .collect(),
        guardrails: Vec::new(),
        lints: BTreeMap::new(),
    };
    let body = serde_yaml::to_string(&file).context("writing YAML")?;
    Ok(format!(
        "# Imported by `s3cors import` from {endpoint} at {now}.\n# `rules: []` means the bucket has no CORS configuration and must keep none.\n{body}"
    ))
}

/// Grouped by account, then by name.
fn sorted(imported: &[Imported]) -> Vec<&Imported> {
    let mut out: Vec<&Imported> = imported.iter().collect();
    out.sort_by(|a, b| (&a.account, &a.name).cmp(&(&b.account, &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, Sources};
    use crate::model::{CorsRule, Method};

    #[test]
    fn imported_yaml_loads_back_to_the_same_configs() {
        let tricky = CorsConfig::new(vec![
            CorsRule {
                id: Some("yes: no # not a comment".to_owned()),
                allowed_headers: vec!["*".to_owned(), "x-amz-*".to_owned()],
                allowed_methods: vec![Method::Put, Method::Get],
                allowed_origins: vec!["https://*.example.com".to_owned(), "*".to_owned()],
                expose_headers: vec!["ETag".to_owned()],
                max_age_seconds: Some(0),
            },
            CorsRule {
                allowed_methods: vec![Method::Head],
                allowed_origins: vec!["null".to_owned()],
                ..CorsRule::default()
            },
            // What S3 accepts loads back as it is (the lints flag it): empty
            // strings (recorded on AWS for origins, common from Terraform for
            // headers) and a negative MaxAgeSeconds.
            CorsRule {
                allowed_methods: vec![Method::Get],
                allowed_origins: vec![String::new()],
                allowed_headers: vec![String::new()],
                expose_headers: vec![String::new(), "ETag".to_owned()],
                max_age_seconds: Some(-1),
                ..CorsRule::default()
            },
        ]);
        let configs: BTreeMap<String, Option<CorsConfig>> = [
            ("with-cors".to_owned(), Some(tricky)),
            ("without".to_owned(), None),
        ]
        .into();
        let imported: Vec<Imported> = configs
            .iter()
            .map(|(name, config)| Imported {
                name: name.clone(),
                account: (name == "without").then(|| "111111111111".to_owned()),
                config: config.clone(),
            })
            .collect();
        let yaml = to_policy_yaml(
            &imported,
            &Endpoint::Custom("http://127.0.0.1:1".into()),
            "2026-01-01T00:00:00Z",
        )
        .unwrap();
        let mut sources = Sources::new();
        sources.add(SourceFile::new("imported.yaml", yaml.clone()));
        let loaded = crate::policy::load(&sources);
        assert!(!loaded.has_errors(), "{yaml}\n{:#?}", loaded.diagnostics);
        let back: BTreeMap<String, Option<CorsConfig>> = loaded
            .policy
            .buckets
            .iter()
            .map(|b| match &b.selector {
                crate::policy::Selector::Name(n) => (n.clone(), b.desired()),
                crate::policy::Selector::Match(_) => unreachable!("import writes names only"),
            })
            .collect();
        assert_eq!(back, configs);
    }
}
