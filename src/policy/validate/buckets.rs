//! Bucket entries: `name` or `match` (with `tags`), `account`, `region`, and the
//! rules each one declares or takes from a ruleset, within S3's limits for one
//! configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};

use super::rules::RULE_KEYS_WITH_REF;
use super::{Validator, join, suggest};
use crate::diag::{Diagnostic, ErrorCode, Span, WarningCode};
use crate::model::{CorsConfig, CorsRule, MAX_RULES, MAX_XML_BYTES};
use crate::policy::yaml::{Node, NodeKind};
use crate::policy::{BucketEntry, BucketMatch, PolicyRule, Rules, Selector};

const BUCKET_KEYS: &[&str] = &[
    "name",
    "match",
    "tags",
    "account",
    "region",
    "rules",
    "allow",
    "reconcile",
];

impl Validator {
    pub(super) fn buckets(&mut self, node: &Node, out: &mut Vec<BucketEntry>) {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, "buckets", "a list of bucket entries");
            return;
        };
        out.reserve(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("buckets[{i}]");
            if let Some(entry) = self.bucket(item, &path) {
                out.push(entry);
            }
        }
    }

    pub(super) fn bucket(&mut self, node: &Node, path: &str) -> Option<BucketEntry> {
        let errors_before = self.error_count();
        let fields = self.mapping(node, path, "a bucket entry", BUCKET_KEYS)?;
        let selector = match (fields.get("name"), fields.get("match")) {
            (Some(_), Some(_)) => {
                let span = fields.key_span("match").unwrap_or(node.span);
                self.error(
                    ErrorCode::ConflictingKeys,
                    span,
                    path,
                    "a bucket entry has both `name` and `match`".into(),
                    "use `name` for one bucket or `match` for a glob, in separate entries",
                );
                None
            }
            (None, None) => {
                self.error(
                    ErrorCode::MissingKey,
                    node.span,
                    path,
                    "a bucket entry needs `name` or `match`".into(),
                    "add `name: my-bucket` (one bucket) or `match: \"prefix-*\"` (a glob)",
                );
                None
            }
            (Some(name_node), None) => {
                let name_path = join(path, "name");
                self.string(name_node, &name_path).and_then(|name| {
                    self.duplicate_name(&name, name_node.span, path);
                    self.bucket_name(&name, name_node.span, &name_path)
                        .then_some((Selector::Name(name), name_node.span))
                })
            }
            (None, Some(glob_node)) => {
                let match_path = join(path, "match");
                self.string(glob_node, &match_path).and_then(|pattern| {
                    let glob = self.glob(&pattern, glob_node.span, &match_path)?;
                    Some((
                        Selector::Match(Box::new(BucketMatch {
                            pattern,
                            glob,
                            tags: BTreeMap::new(),
                        })),
                        glob_node.span,
                    ))
                })
            }
        };

        let mut tags = BTreeMap::new();
        if let Some(tags_node) = fields.get("tags") {
            let tags_path = join(path, "tags");
            if fields.get("match").is_none() {
                let span = fields.key_span("tags").unwrap_or(tags_node.span);
                self.error(
                    ErrorCode::ConflictingKeys,
                    span,
                    &tags_path,
                    "`tags` only narrows a `match` entry".into(),
                    "remove `tags`, or select buckets with `match:` and `tags:` together",
                );
            } else {
                tags = self.tags(tags_node, &tags_path);
            }
        }

        let account = fields.get("account").and_then(|n| {
            let account_path = join(path, "account");
            let account = self.string(n, &account_path)?;
            if super::accounts::is_account_id(&account) {
                self.entry_accounts
                    .push((account.clone(), n.span, account_path.clone()));
                Some(account)
            } else {
                self.error(ErrorCode::InvalidAccount, n.span, &account_path,
                    format!("`{account}` is not an AWS account ID"),
                    "give the 12-digit account ID of the bucket owner, quoted: account: \"123456789012\"");
                None
            }
        });

        let region = fields.get("region").and_then(|n| {
            let region_path = join(path, "region");
            let region = self.string(n, &region_path)?;
            let ok = !region.is_empty()
                && region.len() <= 32
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if ok {
                if !AWS_REGIONS.contains(&region.as_str()) {
                    let help = match suggest(&region, AWS_REGIONS) {
                        Some(s) => format!(
                            "did you mean `{s}`? A region AWS opened after this s3cors was \
                             built is fine as it is"
                        ),
                        None => "check the spelling (`aws ec2 describe-regions` lists them); a \
                                 region AWS opened after this s3cors was built is fine as it is"
                            .to_owned(),
                    };
                    self.diags.push(
                        Diagnostic::warning(
                            WarningCode::UnknownRegion,
                            format!("`{region}` is not an AWS region s3cors knows"),
                        )
                        .at(n.span)
                        .path(&region_path)
                        .help(help),
                    );
                }
                Some(region)
            } else {
                self.error(
                    ErrorCode::InvalidRegion,
                    n.span,
                    &region_path,
                    format!("`{region}` is not a region name"),
                    "write a region such as `eu-west-1`, or remove it to discover the region",
                );
                None
            }
        });

        let rules = match fields.get("rules") {
            None => {
                let span = fields
                    .key_span("name")
                    .or(fields.key_span("match"))
                    .unwrap_or(node.span);
                self.error(
                    ErrorCode::MissingKey,
                    span,
                    path,
                    "a bucket entry needs `rules`".into(),
                    "add `rules:` with the bucket's CORS rules, or `rules: []` for no CORS at all",
                );
                None
            }
            Some(rules_node) => self.bucket_rules(rules_node, &join(path, "rules")),
        };

        let allow = match fields.get("allow") {
            Some(n) => self.allow_list(n, &join(path, "allow")),
            None => Some(Box::default()),
        };

        let reconcile = match fields.get("reconcile") {
            Some(n) => self.boolean(n, &join(path, "reconcile")),
            None => Some(true),
        };

        if self.error_count() != errors_before {
            return None;
        }
        let (mut selector, span) = selector?;
        if let Selector::Match(m) = &mut selector {
            m.tags = tags;
        }
        Some(BucketEntry {
            selector,
            account,
            region,
            rules: rules?,
            allow: allow?,
            reconcile: reconcile?,
            span,
        })
    }

    pub(super) fn bucket_name(&mut self, name: &str, span: Span, path: &str) -> bool {
        // Names since 2018 are 3-63 of [a-z0-9.-]; older us-east-1 buckets may also
        // hold upper case and `_` (up to 255), so only what no bucket can be is refused.
        let valid_chars = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if name.len() >= 3 && name.len() <= 255 && valid_chars {
            return true;
        }
        let help = if name.contains(['*', '?', '[']) {
            format!("to select buckets by pattern, write `match: \"{name}\"` instead of `name:`")
        } else {
            "bucket names are 3-63 characters of a-z, 0-9, `.` and `-`".to_string()
        };
        self.error(
            ErrorCode::InvalidBucketName,
            span,
            path,
            format!("`{name}` is not a valid bucket name"),
            &help,
        );
        false
    }

    pub(super) fn glob(&mut self, pattern: &str, span: Span, path: &str) -> Option<GlobMatcher> {
        match GlobBuilder::new(pattern).literal_separator(false).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                self.error(
                    ErrorCode::InvalidGlob,
                    span,
                    path,
                    format!("invalid glob `{pattern}`: {}", e.kind()),
                    "use `*` for any run of characters, `?` for one, `{a,b}` for alternatives",
                );
                None
            }
        }
    }

    pub(super) fn tags(&mut self, node: &Node, path: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(node, path, "a mapping of tag keys to values");
            return out;
        };
        for (key, value) in pairs {
            match (key.as_scalar(), value.as_scalar()) {
                (Some(k), Some(v)) => {
                    if out.insert(k.to_string(), v.to_string()).is_some() {
                        self.error(
                            ErrorCode::DuplicateKey,
                            key.span,
                            &join(path, k),
                            format!("duplicate tag `{k}`"),
                            "give each tag once",
                        );
                    }
                }
                _ => self.error(
                    ErrorCode::InvalidTag,
                    key.span,
                    path,
                    "a tag must be `key: value` with string values".into(),
                    "write tags as `{team: web, env: prod}`",
                ),
            }
        }
        out
    }

    /// A bucket's `rules:` list: rules and `ruleset:` references, spliced in order.
    /// A list of references only is shared with every entry that has the same one.
    pub(super) fn bucket_rules(&mut self, node: &Node, path: &str) -> Option<Rules> {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, path, "a list of rules (or `[]` for no CORS)");
            return None;
        };
        let mut parts = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match self.reference(item) {
                Some(Ok((name, span))) => match self.rulesets.get(&name) {
                    Some(_) => parts.push(Part::Ruleset(name, span)),
                    None if self.broken_rulesets.contains(&name) => ok = false,
                    None => {
                        let known: Vec<&str> = self.rulesets.keys().map(String::as_str).collect();
                        let help = match suggest(&name, &known) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if known.is_empty() => {
                                "declare it under `rulesets:` in any policy file".to_string()
                            }
                            None => format!("declared rulesets: {}", known.join(", ")),
                        };
                        self.error(
                            ErrorCode::UnknownRuleset,
                            span,
                            &join(&item_path, "ruleset"),
                            format!("unknown ruleset `{name}`"),
                            &help,
                        );
                        ok = false;
                    }
                },
                Some(Err(())) => ok = false,
                None => match self.rule(item, &item_path, RULE_KEYS_WITH_REF) {
                    Some(rule) => parts.push(Part::Rule(rule)),
                    None => ok = false,
                },
            }
        }
        if !ok {
            return None;
        }
        let mut references = Vec::new();
        let mut count = 0;
        for part in &parts {
            match part {
                Part::Ruleset(name, span) => {
                    let len = self.rulesets[name].rules.len();
                    references.push((count, len, *span));
                    count += len;
                }
                Part::Rule(_) => count += 1,
            }
        }
        if count > MAX_RULES {
            self.error(
                ErrorCode::TooManyRules,
                node.span,
                path,
                format!("{count} rules after splicing rulesets; S3 allows at most {MAX_RULES}"),
                "merge rules that share methods and headers (a rule takes many origins)",
            );
            return None;
        }
        let (rules, size) = if !parts.is_empty() && references.len() == parts.len() {
            let names: Vec<String> = parts
                .into_iter()
                .filter_map(|p| match p {
                    Part::Ruleset(name, _) => Some(name),
                    Part::Rule(_) => None,
                })
                .collect();
            self.spliced_list(names)
        } else {
            let mut rules = Vec::with_capacity(count);
            for part in parts {
                match part {
                    Part::Ruleset(name, _) => {
                        rules.extend(self.rulesets[&name].rules.iter().cloned());
                    }
                    Part::Rule(rule) => rules.push(rule),
                }
            }
            let size = xml_len(&rules);
            (Arc::from(rules), size)
        };
        if size > MAX_XML_BYTES {
            self.error(
                ErrorCode::ConfigTooLarge,
                node.span,
                path,
                format!(
                    "the configuration is {size} bytes as S3 XML; S3 allows at most {MAX_XML_BYTES}"
                ),
                "use wildcard origins (`https://*.example.com`) or fewer rules",
            );
            return None;
        }
        Some(Rules::new(rules, &references))
    }

    /// The one list for these ruleset references (in order), and its size as S3 XML.
    fn spliced_list(&mut self, names: Vec<String>) -> (Arc<[PolicyRule]>, usize) {
        if let Some((rules, size)) = self.spliced.get(&names) {
            return (Arc::clone(rules), *size);
        }
        let rules: Arc<[PolicyRule]> = match names.as_slice() {
            [one] => Arc::clone(&self.rulesets[one].rules),
            _ => names
                .iter()
                .flat_map(|name| self.rulesets[name].rules.iter().cloned())
                .collect(),
        };
        let size = xml_len(&rules);
        self.spliced.insert(names, (Arc::clone(&rules), size));
        (rules, size)
    }

    /// `Some` when the item is a `ruleset:` reference (a mapping holding only that key).
    pub(super) fn reference(&mut self, item: &Node) -> Option<Result<(String, Span), ()>> {
        let NodeKind::Map(pairs) = &item.kind else {
            return None;
        };
        let (key, value) = pairs
            .iter()
            .find(|(k, _)| k.as_scalar() == Some("ruleset"))?;
        if pairs.len() > 1 {
            self.error(
                ErrorCode::ConflictingKeys,
                key.span,
                "ruleset",
                "a `ruleset:` reference cannot carry rule keys".into(),
                "put the reference and the extra rule in separate list items",
            );
            return Some(Err(()));
        }
        match self.string(value, "ruleset") {
            Some(name) => Some(Ok((name, value.span))),
            None => Some(Err(())),
        }
    }

    pub(super) fn duplicate_name(&mut self, name: &str, span: Span, path: &str) {
        match self.names.get(name) {
            Some(&first) => self.diags.push(
                Diagnostic::error(
                    ErrorCode::DuplicateBucket,
                    format!("bucket `{name}` is declared twice"),
                )
                .at(span)
                .path(join(path, "name"))
                .help("keep one entry per bucket; to share rules between buckets, use a ruleset")
                .related(first, "first declared here"),
            ),
            None => {
                self.names.insert(name.to_string(), span);
            }
        }
    }
}

/// One item of a bucket's `rules:` list, while the list is read (a box per rule
/// would cost an allocation each for nothing).
#[allow(clippy::large_enum_variant)]
enum Part {
    Rule(PolicyRule),
    /// A `ruleset:` reference to a declared ruleset, and where it stands.
    Ruleset(String, Span),
}

/// The size of rules as one S3 XML configuration.
fn xml_len(rules: &[PolicyRule]) -> usize {
    CorsConfig::new(rules.iter().map(|r| CorsRule::clone(&r.rule)).collect()).xml_len()
}

/// The AWS regions s3cors knows (commercial, China, GovCloud, ISO, European
/// Sovereign Cloud). A `region:` outside it is a warning, not an error: AWS opens
/// new regions, and S3-compatible servers may use their own names.
pub const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];
