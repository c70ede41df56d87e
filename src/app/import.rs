//! `s3cors import`: write policy YAML from live configurations, in the format
//! users write, so that `plan` on the imported file reports no changes.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use futures::{StreamExt, stream};

use super::{Exit, Outcome};
use crate::cli::{Global, ImportArgs};
use crate::endpoint::Endpoint;
use crate::model::CorsConfig;
use crate::policy::raw::{Bucket, PolicyFile, Rule, RuleItem};
use crate::s3::{BucketTarget, S3Api, S3ErrorKind};

pub async fn run(global: &Global, args: &ImportArgs) -> anyhow::Result<Outcome> {
    let s3 = super::connect(global).await;
    let targets: Vec<BucketTarget> = if !args.bucket.is_empty() {
        let mut names = args.bucket.clone();
        names.sort();
        names.dedup();
        names.into_iter().map(BucketTarget::new).collect()
    } else {
        let glob = match &args.glob {
            Some(g) => Some(
                globset::Glob::new(g)
                    .with_context(|| format!("--match {g:?} is not a valid glob"))?
                    .compile_matcher(),
            ),
            None => None,
        };
        let listed = s3.list_buckets(None).await.context("listing buckets")?;
        listed
            .into_iter()
            .filter(|b| glob.as_ref().is_none_or(|g| g.is_match(&b.name)))
            .map(|b| BucketTarget {
                name: b.name,
                region: b.region,
                expected_owner: None,
            })
            .collect()
    };
    if targets.is_empty() {
        bail!("no buckets to import: nothing matched");
    }

    let parallelism = usize::from(global.parallelism).max(1);
    let read: BTreeMap<String, _> = stream::iter(&targets)
        .map(|t| async { (t.name.clone(), s3.get_cors(t).await) })
        .buffer_unordered(parallelism)
        .collect()
        .await;
    let mut configs = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, result) in read {
        match result {
            Ok(cfg) => {
                configs.insert(name, cfg);
            }
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

    let endpoint = super::endpoint_of(&s3);
    let yaml = to_policy_yaml(&configs, &endpoint, &super::utc_now())?;
    match &args.output {
        Some(path) => {
            super::plan::write_atomically(path, yaml.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(Outcome::new(
                format!(
                    "Imported {} bucket(s) into {}. `s3cors plan {}` should report no changes.\n",
                    configs.len(),
                    crate::text::terminal_safe(&path.display().to_string()),
                    crate::text::terminal_safe(&path.display().to_string())
                ),
                Exit::Success,
            ))
        }
        None => Ok(Outcome::new(yaml, Exit::Success)),
    }
}

/// A policy file declaring each bucket's configuration exactly as it is
/// (`rules: []` for buckets without CORS), with a header saying where from.
pub fn to_policy_yaml(
    configs: &BTreeMap<String, Option<CorsConfig>>,
    endpoint: &Endpoint,
    now: &str,
) -> anyhow::Result<String> {
    let file = PolicyFile {
        version: 1,
        rulesets: BTreeMap::new(),
        buckets: configs
            .iter()
            .map(|(name, cfg)| Bucket {
                name: Some(name.clone()),
                match_: None,
                tags: None,
                account: None,
                region: None,
                rules: cfg
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
                        })
                    })
                    .collect(),
            })
            .collect(),
        guardrails: Vec::new(),
    };
    let body = serde_yaml::to_string(&file).context("writing YAML")?;
    Ok(format!(
        "# Imported by `s3cors import` from {endpoint} at {now}.\n# `rules: []` means the bucket has no CORS configuration and must keep none.\n{body}"
    ))
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
        ]);
        let configs: BTreeMap<String, Option<CorsConfig>> = [
            ("with-cors".to_owned(), Some(tricky)),
            ("without".to_owned(), None),
        ]
        .into();
        let yaml = to_policy_yaml(
            &configs,
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
